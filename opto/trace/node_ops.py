"""Operator overloads of Node, built from tables (rules as data, STYLE.md 3).

Each overload calls a bundled operator from ``opto.trace.operators`` so the result is a
MessageNode whose data equals what plain Python would compute. ``==`` compares data and returns a
bool (as in trace-opt, so nodes work in ``if`` and ``in``); ``.eq()``/``.neq()`` are the traced forms.
"""

from __future__ import annotations

from typing import Any

# dunder -> operator name (self is the left operand)
_BINARY = {
    "__add__": "add", "__sub__": "subtract", "__mul__": "multiply", "__floordiv__": "floor_divide",
    "__truediv__": "divide", "__mod__": "mod", "__divmod__": "node_divmod", "__pow__": "power",
    "__lshift__": "lshift", "__rshift__": "rshift", "__and__": "and_", "__or__": "or_", "__xor__": "xor",
    "__lt__": "lt", "__le__": "le", "__gt__": "gt", "__ge__": "ge", "__matmul__": "matmul",
}
# reflected dunder -> operator name (self is the right operand)
_REFLECTED = {
    "__radd__": "add", "__rsub__": "subtract", "__rmul__": "multiply", "__rfloordiv__": "floor_divide",
    "__rtruediv__": "divide", "__rmod__": "mod", "__rdivmod__": "node_divmod", "__rpow__": "power",
    "__rlshift__": "lshift", "__rrshift__": "rshift", "__rand__": "and_", "__ror__": "or_",
    "__rxor__": "xor", "__rmatmul__": "matmul",
}
_UNARY = {"__pos__": "pos", "__neg__": "neg", "__abs__": "abs", "__invert__": "invert",
          "__floor__": "floor", "__ceil__": "ceil", "__trunc__": "trunc"}
# str methods traced by name, with the operator that implements them
_STR_METHODS = {"capitalize": "capitalize", "lower": "lower", "upper": "upper", "swapcase": "swapcase",
                "title": "title"}
# methods of builtin containers reachable through ``node.method(...)`` as a traced call
_CONTAINER_TYPES = (str, list, dict, set, tuple, frozenset, bytes)


_LAZY: dict[str, Any] = {}  # import cache: operators and nodes import this module


def _ops() -> Any:
    ops = _LAZY.get("ops")
    if ops is None:
        from opto.trace import operators as ops

        _LAZY["ops"] = ops
    return ops


def _wrap(value: Any) -> Any:
    if isinstance(value, NodeOperators):
        return value
    cls = _LAZY.get("Node")
    if cls is None:
        from opto.trace.nodes import Node

        cls = _LAZY["Node"] = Node
    return cls(value)


def _binary(op_name: str) -> Any:
    def method(self: Any, other: Any) -> Any:
        ops = _ops()
        if op_name == "add" and type(self._data) is str:
            return ops.concat(self, _wrap(other))
        return getattr(ops, op_name)(self, _wrap(other))

    method.__name__ = op_name
    return method


def _reflected(op_name: str) -> Any:
    def method(self: Any, other: Any) -> Any:
        ops = _ops()
        left = _wrap(other)
        if op_name == "add" and type(left._data) is str:
            return ops.concat(left, self)
        return getattr(ops, op_name)(left, self)

    method.__name__ = "r" + op_name
    return method


def _unary(op_name: str) -> Any:
    def method(self: Any) -> Any:
        return getattr(_ops(), op_name)(self)

    method.__name__ = op_name
    return method


def _str_method(op_name: str) -> Any:
    def method(self: Any) -> Any:
        if type(self._data) is not str:
            raise AttributeError(f"{type(self._data).__name__} object has no attribute {op_name!r}")
        return getattr(_ops(), op_name)(self)

    method.__name__ = op_name
    return method


class NodeOperators:
    """Mixin giving Node its traced operators."""

    __slots__ = ()
    __hash__ = object.__hash__

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, NodeOperators):
            other = other._data  # type: ignore[attr-defined]
        return self._data == other  # type: ignore[attr-defined]

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    def __bool__(self) -> bool:
        return bool(self._data)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self._data)  # type: ignore[attr-defined]

    def __iter__(self) -> Any:
        from opto.trace.iterators import iterate

        return iterate(self)

    def __contains__(self, item: Any) -> Any:
        return _ops().in_(_wrap(item), self)

    def __getitem__(self, key: Any) -> Any:
        return _ops().getitem(self, _wrap(key))

    def __round__(self, n: Any = None) -> Any:
        return _ops().round(self, _wrap(n) if n is not None else None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _ops().call(self, *args, **kwargs)

    def eq(self, other: Any) -> Any:
        return _ops().eq(self, _wrap(other))

    def neq(self, other: Any) -> Any:
        return _ops().neq(self, _wrap(other))

    def len(self) -> Any:
        return _ops().len_(self)

    def getattr(self, key: str) -> Any:
        return _ops().node_getattr(self, _wrap(key))

    def call(self, fun: str, *args: Any, **kwargs: Any) -> Any:
        """Traced ``self.data.<fun>(*args, **kwargs)``."""
        args = tuple(_wrap(a) for a in args)
        kwargs = {k: _wrap(v) for k, v in kwargs.items()}
        return self.getattr(fun)(*args, **kwargs)

    # --- str methods with their own operators ---
    def format(self, *args: Any, **kwargs: Any) -> Any:
        if type(self._data) is not str:  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'format'")  # type: ignore[attr-defined]
        return _ops().format(self, *args, **kwargs)

    def split(self, sep: Any = None, maxsplit: Any = -1) -> Any:
        if type(self._data) is not str:  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'split'")  # type: ignore[attr-defined]
        return _ops().split(self, sep, maxsplit)

    def strip(self, chars: Any = None) -> Any:
        if type(self._data) is not str:  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'strip'")  # type: ignore[attr-defined]
        return _ops().strip(self, chars)

    def replace(self, old: Any, new: Any, count: Any = -1) -> Any:
        if type(self._data) is not str:  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'replace'")  # type: ignore[attr-defined]
        return _ops().replace(self, _wrap(old), _wrap(new), count)

    def join(self, seq: Any) -> Any:
        if type(self._data) is not str:  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'join'")  # type: ignore[attr-defined]
        try:
            items = list(seq)
        except TypeError:
            raise TypeError("join() needs an iterable of strings") from None
        return _ops().join(self, *items)

    # --- dict / list helpers trace-opt has ---
    def items(self) -> Any:
        if not isinstance(self._data, dict):  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'items'")  # type: ignore[attr-defined]
        from opto.trace.iterators import DictIterable

        return DictIterable(self)  # type: ignore[arg-type]  # the mixin is only ever part of a Node

    def keys(self) -> Any:
        if not isinstance(self._data, dict):  # type: ignore[attr-defined]
            raise AttributeError(f"{type(self._data).__name__} object has no attribute 'keys'")  # type: ignore[attr-defined]
        return _ops().keys(self)

    def values(self) -> Any:
        return _ops().values(self)

    def pop(self, index: Any = -1) -> Any:
        return _ops().pop(self, _wrap(index))

    def append(self, *args: Any, **kwargs: Any) -> Any:
        return self.call("append", *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        """Other public methods of str/list/dict/set/tuple data become traced calls."""
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            data = object.__getattribute__(self, "_data")
        except AttributeError:
            raise AttributeError(name) from None
        if isinstance(data, _CONTAINER_TYPES) and callable(getattr(type(data), name, None)):
            node_self = self

            def traced_method(*args: Any, **kwargs: Any) -> Any:
                return node_self.call(name, *args, **kwargs)

            traced_method.__name__ = name
            return traced_method
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r} "
                             f"(its data is a {type(data).__name__}; use .data to reach the value)")


for _dunder, _op in _BINARY.items():
    setattr(NodeOperators, _dunder, _binary(_op))
for _dunder, _op in _REFLECTED.items():
    setattr(NodeOperators, _dunder, _reflected(_op))
for _dunder, _op in _UNARY.items():
    setattr(NodeOperators, _dunder, _unary(_op))
for _name, _op in _STR_METHODS.items():
    setattr(NodeOperators, _name, _str_method(_op))
