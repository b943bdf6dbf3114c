"""The traced operators behind Node's overloads (same names as trace-opt's ``opto.trace.operators``).

Each is a plain function bundled once at import; its docstring becomes the op description an
LLM optimizer reads, so docstrings here say what the op computes.
"""

from __future__ import annotations

import builtins
import copy
import math
import types
from collections.abc import Callable
from typing import Any

from opto.trace.bundle import FunModule, OperatorModule
from opto.trace.nodes import Node


def _op(fun: Callable) -> FunModule:
    return OperatorModule(fun)


# ---- identity ----
@_op
def clone(x: Any) -> Any:
    """This is a clone operator of x."""
    return copy.deepcopy(x)


def identity(x: Any) -> Any:
    """Return a traced clone of x (trace-opt's identity)."""
    return x.clone()


# ---- unary ----
@_op
def pos(x: Any) -> Any:
    """This is a pos operator of x."""
    return +x


@_op
def neg(x: Any) -> Any:
    """This is a neg operator of x."""
    return -x


@_op
def abs(x: Any) -> Any:  # noqa: A001 - trace-opt's name
    """This is an abs operator of x."""
    return builtins.abs(x)


@_op
def invert(x: Any) -> Any:
    """This is an invert operator of x."""
    return ~x


@_op
def round(x: Any, n: Any = None) -> Any:  # noqa: A001
    """This is a round operator of x."""
    return builtins.round(x, n)


@_op
def floor(x: Any) -> Any:
    """This is a floor operator of x."""
    return math.floor(x)


@_op
def ceil(x: Any) -> Any:
    """This is a ceil operator of x."""
    return math.ceil(x)


@_op
def trunc(x: Any) -> Any:
    """This is a trunc operator of x."""
    return math.trunc(x)


# ---- arithmetic and bitwise ----
@_op
def add(x: Any, y: Any) -> Any:
    """This is an add operator of x and y."""
    return x + y


@_op
def subtract(x: Any, y: Any) -> Any:
    """This is a subtract operator of x and y."""
    return x - y


@_op
def multiply(x: Any, y: Any) -> Any:
    """This is a multiply operator of x and y."""
    return x * y


@_op
def floor_divide(x: Any, y: Any) -> Any:
    """This is a floor_divide operator of x and y."""
    return x // y


@_op
def divide(x: Any, y: Any) -> Any:
    """This is a divide operator of x and y."""
    return x / y


@_op
def mod(x: Any, y: Any) -> Any:
    """This is a mod operator of x and y."""
    return x % y


@_op
def node_divmod(x: Any, y: Any) -> Any:
    """This is a divmod operator of x and y."""
    return divmod(x, y)


@_op
def power(x: Any, y: Any) -> Any:
    """This is a power operator of x and y."""
    return x**y


@_op
def matmul(x: Any, y: Any) -> Any:
    """This is a matrix multiplication operator of x and y."""
    return x @ y


@_op
def lshift(x: Any, y: Any) -> Any:
    """This is a lshift operator of x and y."""
    return x << y


@_op
def rshift(x: Any, y: Any) -> Any:
    """This is a rshift operator of x and y."""
    return x >> y


@_op
def and_(x: Any, y: Any) -> Any:
    """This is an and operator of x and y."""
    return x & y


@_op
def or_(x: Any, y: Any) -> Any:
    """This is an or operator of x and y."""
    return x | y


@_op
def xor(x: Any, y: Any) -> Any:
    """This is a xor operator of x and y."""
    return x ^ y


# ---- comparison and logic ----
@_op
def lt(x: Any, y: Any) -> Any:
    """This is a lt operator of x and y."""
    return x < y


@_op
def le(x: Any, y: Any) -> Any:
    """This is a le operator of x and y."""
    return x <= y


@_op
def eq(x: Any, y: Any) -> Any:
    """This is an eq operator of x and y."""
    return x == y


@_op
def neq(x: Any, y: Any) -> Any:
    """This is a not eq operator of x and y."""
    return x != y


ne = neq


@_op
def ge(x: Any, y: Any) -> Any:
    """This is a ge operator of x and y."""
    return x >= y


@_op
def gt(x: Any, y: Any) -> Any:
    """This is a gt operator of x and y."""
    return x > y


@_op
def cond(condition: Any, x: Any, y: Any) -> Any:
    """This selects x if condition is True, otherwise y."""
    return x if condition else y


@_op
def not_(x: Any) -> Any:
    """This is a not operator of x."""
    return not x


@_op
def is_(x: Any, y: Any) -> Any:
    """Whether x is equal to y."""
    return x is y


@_op
def is_not(x: Any, y: Any) -> Any:
    """Whether x is not equal to y."""
    return x is not y


@_op
def in_(x: Any, y: Any) -> Any:
    """Whether x is in y."""
    return x in y


@_op
def not_in(x: Any, y: Any) -> Any:
    """Whether x is not in y."""
    return x not in y


# ---- items, length, strings ----
@_op
def getitem(x: Any, index: Any) -> Any:
    """This is a getitem operator of x based on index."""
    return x[index]


@_op
def pop(x: Any, index: Any) -> Any:
    """This is a pop operator of x based on index."""
    return x.pop(index)


@_op
def len_(x: Any) -> Any:
    """This is a len operator of x."""
    return len(x)


@_op
def ord_(x: Any) -> Any:
    """The unicode number of a character."""
    return ord(x)


@_op
def chr_(x: Any) -> Any:
    """The character of a unicode number."""
    return chr(x)


@_op
def concat(x: Any, y: Any) -> Any:
    """This is a concatenation operator of x and y."""
    return x + y


@_op
def lower(x: Any) -> Any:
    """This makes all characters in x lower case."""
    return x.lower()


@_op
def upper(x: Any) -> Any:
    """This makes all characters in x upper case."""
    return x.upper()


@_op
def title(x: Any) -> Any:
    """This makes the first character of each word in x upper case."""
    return x.title()


@_op
def swapcase(x: Any) -> Any:
    """This swaps the case of all characters in x."""
    return x.swapcase()


@_op
def capitalize(x: Any) -> Any:
    """This capitalizes the first character of x."""
    return x.capitalize()


@_op
def split(x: Any, y: Any = None, maxsplit: Any = -1) -> Any:
    """This splits x by y."""
    return x.split(y, maxsplit)


@_op
def strip(x: Any, chars: Any = None) -> Any:
    """This strips chars from both ends of x."""
    return x.strip(chars)


@_op
def replace(x: Any, old: Any, new: Any, count: Any = -1) -> Any:
    """This replaces occurrences of old by new in x."""
    return x.replace(old, new, count)


@_op
def format(x: Any, /, *args: Any, **kwargs: Any) -> Any:  # noqa: A001
    """This formats the string x with args and kwargs."""
    return x.format(*args, **kwargs)


@_op
def join(x: Any, *y: Any) -> Any:
    """This joins the elements in y with x as the separator."""
    return x.join(y)


# ---- attributes and calls ----
@_op
def node_getattr(obj: Any, attr: Any) -> Any:
    """This operator gets attr of obj."""
    return getattr(obj, attr)


# Callables written in C cannot use a node, so they get the data; every other callable (a user's
# method fetched with ``node.getattr``) gets its arguments as passed, nodes included (trace-opt).
_C_CALLABLES = (types.BuiltinFunctionType, types.MethodWrapperType, types.WrapperDescriptorType,
                types.MethodDescriptorType, types.ClassMethodDescriptorType)


def _takes_data(target: Any) -> bool:
    return isinstance(target, _C_CALLABLES) or (isinstance(target, type) and target.__module__ == "builtins")


def call(fun: Any, /, *args: Any, **kwargs: Any) -> Any:
    """This operator calls the function fun with args and kwargs."""
    target = fun._data if isinstance(fun, Node) else fun
    if not callable(target):
        raise TypeError(f"{type(target).__name__} object is not callable")
    if _takes_data(target):
        args = tuple(a._data if isinstance(a, Node) else a for a in args)
        kwargs = {k: (v._data if isinstance(v, Node) else v) for k, v in kwargs.items()}
    return target(*args, **kwargs)


call = OperatorModule(call, _process_inputs=False)  # the traced operator (replaces the plain function)


# ---- conversions ----
@_op
def to_list(x: Any) -> Any:
    """This converts x to a list."""
    return list(x)


@_op
def make_list(*args: Any) -> Any:
    """This creates a list from the arguments."""
    return list(args)


@_op
def to_dict(x: Any) -> Any:
    """This converts x to a dictionary."""
    return dict(x)


@_op
def make_dict(**kwargs: Any) -> Any:
    """This creates a dictionary from the keyword arguments."""
    return kwargs


@_op
def to_set(x: Any) -> Any:
    """This converts x to a set."""
    return set(x)


@_op
def make_set(*args: Any) -> Any:
    """This creates a set from the arguments."""
    return set(args)


@_op
def to_tuple(x: Any) -> Any:
    """This converts x to a tuple."""
    return tuple(x)


@_op
def make_tuple(*args: Any) -> Any:
    """This creates a tuple from the arguments."""
    return tuple(args)


# ---- dict / list / set methods (mutate x in place and return it, as trace-opt does) ----
@_op
def keys(x: Any) -> Any:
    """Return the keys of a dictionary x as a list."""
    if not isinstance(x, dict):
        raise AttributeError(f"{type(x).__name__} object has no attribute 'keys'")
    return list(x.keys())


@_op
def values(x: Any) -> Any:
    """Return the values of a dictionary x as a list."""
    if not isinstance(x, dict):
        raise AttributeError(f"{type(x).__name__} object has no attribute 'values'")
    return list(x.values())


def _mutator(name: str, doc: str, method: Callable[..., Any], returns_result: bool = False) -> FunModule:
    def fun(x: Any, *args: Any) -> Any:
        result = method(x, *args)
        return result if returns_result else x

    fun.__name__ = fun.__qualname__ = name
    fun.__doc__ = doc
    return _op(fun)


dict_update = _mutator("dict_update", "Update the dictionary x with the dictionary y.", dict.update)
dict_pop = _mutator("dict_pop", "Pop the key from dictionary x and return its value.", dict.pop, True)
dict_popitem = _mutator("dict_popitem", "Pop an item from dictionary x and return it.", dict.popitem, True)
list_append = _mutator("list_append", "Append y to the list x.", list.append)
list_clear = _mutator("list_clear", "Clear the list x.", list.clear)
list_extend = _mutator("list_extend", "Extend the list x with the items of y.", list.extend)
list_insert = _mutator("list_insert", "Insert y into the list x at index.", list.insert)
list_pop = _mutator("list_pop", "Pop the item at index from the list x and return it.", list.pop, True)
list_remove = _mutator("list_remove", "Remove the first occurrence of y from the list x.", list.remove)
list_reverse = _mutator("list_reverse", "Reverse the list x in place.", list.reverse)
set_add = _mutator("set_add", "Add y to the set x.", set.add)
set_clear = _mutator("set_clear", "Clear the set x.", set.clear)
set_discard = _mutator("set_discard", "Remove y from the set x if present.", set.discard)
set_intersection_update = _mutator("set_intersection_update", "Keep only elements of x also in y.",
                                   set.intersection_update)
set_pop = _mutator("set_pop", "Pop an element from the set x and return it.", set.pop, True)
set_remove = _mutator("set_remove", "Remove y from the set x.", set.remove)
set_symmetric_difference_update = _mutator("set_symmetric_difference_update",
                                           "Keep elements in x or y but not both.",
                                           set.symmetric_difference_update)
set_update = _mutator("set_update", "Add the elements of y to the set x.", set.update)


@_op
def list_sort(x: Any, key: Any = None, reverse: Any = False) -> Any:
    """Sort the list x in place."""
    x.sort(key=key, reverse=reverse)
    return x


@_op
def call_llm(system_prompt: Any, *user_prompts: Any, **kwargs: Any) -> Any:
    """Query the default language model with a system prompt and user prompts; return its reply.

    A failed call (timeout, unusable reply, ...) raises, so the trace records it as an exception
    whose text says what went wrong.
    """
    from opto.llm import Request, resolve_lm

    messages = [{"role": "system", "content": str(system_prompt)}]
    messages += [{"role": "user", "content": str(p)} for p in user_prompts]
    return resolve_lm().complete(Request(messages=tuple(messages), **kwargs)).raise_for_failure().text
