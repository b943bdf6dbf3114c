"""``@bundle``: make a Python function a traced operator.

Calling a bundled function wraps its arguments as nodes, runs the plain function on their data,
and returns a MessageNode whose parents are the inputs. An exception becomes an ExceptionNode
raised inside ExecutionError. With ``trainable=True`` the function's source is a ParameterNode;
after an optimizer rewrites it, the next call runs the new source.
"""

from __future__ import annotations

import copy
import inspect
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from opto.context import _SETTINGS
from opto.trace.broadcast import recursive_conversion
from opto.trace.call_info import (
    NO_EXTERNAL,
    NO_KWARGS,
    CallFailure,
    CallInfo,
    OperatorInfo,
    error_comment,
    syntax_comment,
)
from opto.trace.errors import ExecutionError, TraceMissingInputsError
from opto.trace.modules import Module
from opto.trace.nodes import USED_NODES, ExceptionNode, MessageNode, Node, ParameterNode, get_op_name, node
from opto.trace.source import check_trainable, function_source

_P = inspect.Parameter
_RESERVED = "__TRACE_RESERVED_"  # attribute prefix trace-opt reserves on instances of bundled methods
_SELF_NODE = _RESERVED + "self_node"
_POSITIONAL = (_P.POSITIONAL_ONLY, _P.POSITIONAL_OR_KEYWORD)
_EVAL_DESCRIPTION = ("[eval] This operator eval(__code, *args, **kwargs) evaluates the code block, where "
                     "__code is the code (str) and *args and **kwargs are the arguments of the function. "
                     "The output is the result of the evaluation, i.e., __code(*args, **kwargs).")


def bundle(description: Any = None, traceable_code: bool = False, _process_inputs: bool = True,
           trainable: bool = False, catch_execution_error: bool = True,
           allow_external_dependencies: bool = False, overwrite_python_recursion: bool = False) -> Any:
    """Decorator turning a function (or method, or ``async def``) into a traced operator.

    Works as ``@bundle()``, ``@bundle("[name] description")`` and bare ``@bundle``.
    """
    if callable(description) and not isinstance(description, str):  # bare @bundle
        return FunModule(description)

    def decorator(fun: Callable) -> FunModule:
        return FunModule(fun, description=description, traceable_code=traceable_code,
                         _process_inputs=_process_inputs, trainable=trainable,
                         catch_execution_error=catch_execution_error,
                         allow_external_dependencies=allow_external_dependencies,
                         overwrite_python_recursion=overwrite_python_recursion)

    return decorator


class _CallPlan:
    """What the signature says, precomputed so that binding a call costs little."""

    def __init__(self, sig: inspect.Signature) -> None:
        self.sig = sig
        params = list(sig.parameters.values())
        self.names = [p.name for p in params]
        self.positional = [p.name for p in params if p.kind in _POSITIONAL]
        self.simple = all(p.kind in _POSITIONAL for p in params)
        self.defaults = {p.name: p.default for p in params if p.default is not _P.empty}
        self.varargs = next((p.name for p in params if p.kind is _P.VAR_POSITIONAL), None)
        self.varkw = next((p.name for p in params if p.kind is _P.VAR_KEYWORD), None)


class FunModule(Module):
    """A bundled function: a Module whose forward traces one call as one MessageNode."""

    _tracks_reads = True  # record node reads during the call to find undeclared inputs

    def __init__(self, fun: Callable, description: str | None = None, traceable_code: bool = False,
                 _process_inputs: bool = True, trainable: bool = False, catch_execution_error: bool = True,
                 allow_external_dependencies: bool = False, overwrite_python_recursion: bool = False) -> None:
        if not callable(fun):
            raise TypeError(f"bundle needs a function, got {type(fun).__name__}")
        if description is not None and not isinstance(description, str):
            raise TypeError("bundle(description=...) must be a str such as '[name] what it does'")
        if trainable:
            check_trainable(fun)
        source, line_number, header = function_source(fun)
        doc = inspect.getdoc(fun) or ""
        self._fun = fun
        self._plan = _CallPlan(inspect.signature(fun))
        self._is_async = inspect.iscoroutinefunction(fun)
        self._attr_name = fun.__name__
        self._qualname = fun.__qualname__
        self.info: dict[str, Any] = dict(
            fun=None, fun_name=fun.__qualname__, doc=doc, signature=self._plan.sig, source=source,
            line_number=line_number, file=getattr(inspect.getmodule(fun), "__file__", None),
            error_comment=None, traceback=None, output=None, inputs={"args": [], "kwargs": {}},
            external_dependencies=None)
        if description is None:
            description = f"[{fun.__qualname__}] {doc}".rstrip()
        elif not description.startswith("["):
            description = f"[{fun.__qualname__}] {description}"
        get_op_name(description)  # validates the form
        self.description = description
        self.traceable_code = traceable_code
        self._process_inputs = _process_inputs
        self.catch_execution_error = catch_execution_error
        self.allow_external_dependencies = allow_external_dependencies
        self.overwrite_python_recursion = overwrite_python_recursion
        self._compiled: tuple[str, Callable] | None = None
        self._compiled_async = False
        self._plain_calls = (self._plan.simple and not trainable and not traceable_code and _process_inputs
                             and not self._is_async)
        self._bound_self: Node | None = None
        self._origin: FunModule | None = None  # the class-level FunModule this per-instance copy came from
        self.parameter: ParameterNode | None = None
        if trainable:
            if source is None:
                raise ValueError(f"bundle(trainable=True) needs the source of {fun.__qualname__}; "
                                 "define the function in a .py file (not a REPL, exec or lambda)")
            self.parameter = ParameterNode(source, name="__code",
                                           constraint="The code should start with:\n" + header)
        self._op_name = get_op_name(description)

    # --- identity ---
    @property
    def trainable(self) -> bool:
        return self.parameter is not None

    @property
    def name(self) -> str:
        return self._op_name

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr_name = name

    def parameters_dict(self) -> dict[str, Any]:
        return {"parameter": self.parameter} if self.parameter is not None else {}

    @property
    def fun(self) -> Callable:
        """The function that runs: the original, or the current source of the code parameter."""
        if self.parameter is None:
            return self._fun
        code = self.parameter._data
        if self._compiled is not None and self._compiled[0] == code:
            return self._compiled[1]
        from opto.runtime.inprocess import compile_function

        namespace = dict(self._fun.__globals__)
        try:
            namespace.update(inspect.getclosurevars(self._fun).nonlocals)
        except (TypeError, ValueError):
            pass
        try:
            fun = compile_function(code, namespace, name=self._fun.__name__, label=self.parameter.py_name)
        except Exception as err:  # a bad rewrite is feedback, not a crash
            comment = syntax_comment(code, err)
            info = dict(self.info, error_comment=comment, traceback=comment)
            e_node: ExceptionNode[Any] = ExceptionNode(err, inputs={"code": self.parameter}, info=info,
                                   description=f"[exception] The code parameter {self.parameter.py_name} has an error.",
                                   name="exception_" + self.parameter.py_name)
            raise ExecutionError(e_node) from err
        self._compiled = (code, fun)
        self._compiled_async = inspect.iscoroutinefunction(fun)
        return fun

    # --- binding ---
    def _bind(self, args: tuple, kwargs: dict) -> tuple[dict[str, Node], list, dict]:
        """Named input nodes, plus the nodes to pass positionally and by keyword."""
        plan = self._plan
        if self._bound_self is not None:
            args = (self._bound_self, *args)
        inputs: dict[str, Node] = {}
        call_args: list = []
        call_kwargs: dict = {}
        if plan.simple and not kwargs and len(args) <= len(plan.positional):
            for name, value in zip(plan.positional, args):
                n = _as_input(value, name)
                call_args.append(n)
                if n is not None:
                    inputs[name] = n if isinstance(n, Node) else n.parameter
            for name in plan.positional[len(args):]:
                if name not in plan.defaults:
                    plan.sig.bind(*args)  # raises Python's own TypeError for the missing argument
                n = Node(plan.defaults[name], name=name)
                inputs[name] = n
                call_kwargs[name] = n
            return inputs, call_args, call_kwargs
        bound = plan.sig.bind(*args, **kwargs)
        bound.apply_defaults()
        for name, value in bound.arguments.items():
            kind = plan.sig.parameters[name].kind
            if name == plan.varargs:
                for i, v in enumerate(value):
                    n = _as_input(v, None)
                    call_args.append(n)
                    if n is not None:
                        inputs[f"args_{i}"] = n if isinstance(n, Node) else n.parameter
            elif name == plan.varkw:
                for k, v in value.items():
                    n = _as_input(v, k)
                    call_kwargs[k] = n
                    if n is not None:
                        inputs[k] = n if isinstance(n, Node) else n.parameter
            else:
                n = _as_input(value, name)
                if kind in _POSITIONAL:
                    call_args.append(n)
                else:
                    call_kwargs[name] = n
                if n is not None:
                    inputs[name] = n if isinstance(n, Node) else n.parameter
        return inputs, call_args, call_kwargs

    def _convert(self, call_args: list, call_kwargs: dict) -> tuple[list, dict]:
        if self.traceable_code:
            return [_detach(a) for a in call_args], {k: _detach(v) for k, v in call_kwargs.items()}
        data_args = [a._data if isinstance(a, Node) else a for a in call_args]
        if not call_kwargs:
            return data_args, call_kwargs
        return data_args, {k: (v._data if isinstance(v, Node) else v) for k, v in call_kwargs.items()}

    # --- calling ---
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        plan = self._plan
        if (kwargs or not self._plain_calls or len(args) != len(plan.positional)
                or self._bound_self is not None):
            return self.forward(*args, **kwargs)
        # Hot path: positional call of a plain, synchronous, non-trainable function.
        bound = _positional_inputs(plan.positional, args)
        if bound is None:
            return self.forward(*args)
        inputs, data = bound
        used: list | None = [] if self._tracks_reads else None
        output = self._run(self._fun, data, NO_KWARGS, used)
        if used or type(output) is CallFailure or not _SETTINGS.get().tracing:
            return self._wrap(output, self._fun, inputs, data, {}, used)
        info = self._call_info(data, output)
        if isinstance(output, Node):
            output = output._data
        return MessageNode._fast(output, inputs, self.description, self._op_name, info)

    def _call_info(self, data: list, output: Any) -> Any:
        return CallInfo(self.info, self._fun, data, NO_KWARGS, output, NO_EXTERNAL, False)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.parameter is None:
            fun, is_async = self._fun, self._is_async
        else:
            fun = self.fun
            is_async = self._compiled_async
        inputs, call_args, call_kwargs = self._bind(args, kwargs)
        if self._process_inputs:
            data_args, data_kwargs = self._convert(call_args, call_kwargs)
        else:  # the function gets its arguments exactly as given (trace-opt's _process_inputs=False)
            data_args = [self._bound_self, *args] if self._bound_self is not None else list(args)
            data_kwargs = kwargs
        if is_async:
            return self._aforward(fun, inputs, data_args, data_kwargs)
        used: list | None = [] if self._tracks_reads else None
        output = self._run(fun, data_args, data_kwargs, used)
        return self._wrap(output, fun, inputs, data_args, data_kwargs, used)

    def _run(self, fun: Callable, args: list, kwargs: Mapping[str, Any], used: list | None) -> Any:
        """Call ``fun``; an exception becomes a CallFailure unless catch_execution_error=False.

        Node reads during the call are appended to ``used`` (None: don't track).
        """
        token = USED_NODES.set(used) if used is not None else None
        try:
            return fun(*args, **kwargs) if kwargs else fun(*args)  # ** of a read-only mapping is slow
        except Exception as err:
            if not self.catch_execution_error:
                raise
            return self._error(err)
        finally:
            if token is not None:
                USED_NODES.reset(token)

    async def _aforward(self, fun: Callable, inputs: dict, data_args: list, data_kwargs: dict) -> Any:
        used: list = []
        token = USED_NODES.set(used)
        try:
            output = await fun(*data_args, **data_kwargs)
        except Exception as err:
            if not self.catch_execution_error:
                raise
            output = self._error(err)
        finally:
            USED_NODES.reset(token)
        return self._wrap(output, fun, inputs, data_args, data_kwargs, used)

    def _wrap(self, output: Any, fun: Callable, inputs: dict[str, Node], data_args: list,
              data_kwargs: dict, used: Any) -> MessageNode:
        external: list[Node] = []
        if used:
            known = {id(n) for n in inputs.values()}
            seen: set[int] = set()
            for n in used:
                if id(n) not in known and id(n) not in seen:
                    seen.add(id(n))
                    external.append(n)
            if external and not self.allow_external_dependencies:
                raise TraceMissingInputsError(
                    f"{self.info['fun_name']} reads node(s) {[(n.name, n._data) for n in external]} that are not "
                    "its inputs; pass them as arguments, or use bundle(allow_external_dependencies=True)")
        if not _SETTINGS.get().tracing:
            inputs = {}
        if self.parameter is not None:
            inputs["__code"] = self.parameter
            description, base = _EVAL_DESCRIPTION, "eval"
        else:
            description, base = self.description, self._op_name
        call_info = CallInfo(self.info, fun, data_args, data_kwargs, output, external, self.parameter is not None)
        if isinstance(output, CallFailure):
            call_info.output = output.error
            info = call_info.materialize(None)
            info["error_comment"], info["traceback"] = output.comment, output.traceback
            e_node: ExceptionNode[Any] = ExceptionNode(output.error, inputs=inputs, info=info, name="exception_" + base,
                                   description=f"[exception] The operator {info['fun_name']} raises an exception.")
            raise ExecutionError(e_node) from output.error
        data = output._data if isinstance(output, Node) else output
        return MessageNode._fast(data, inputs, description, base, call_info)

    def _error(self, err: Exception) -> CallFailure:
        tb = err.__traceback__.tb_next if err.__traceback__ is not None else None
        return CallFailure(err, error_comment(err, tb), "".join(traceback.format_exception(type(err), err, tb)))

    # --- methods ---
    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        """The method bound to ``obj``: one copy per instance, made on first access.

        Kept, as trace-opt does, in ``obj.__TRACE_RESERVED_bundle_<Class>.<method>`` next to the
        instance's own node ``obj.__TRACE_RESERVED_self_node`` (code that reads them keeps working).
        """
        if obj is None:
            return self
        store = getattr(obj, "__dict__", None)
        key = f"{_RESERVED}bundle_{self._op_name}"
        if store is not None:
            found = store.get(key)
            if found is not None and found._origin is self:
                return found
            if found is not None:  # another method has the same op name: keep both apart
                key = f"{_RESERVED}bundle_{self._qualname}.{self._attr_name}"
                found = store.get(key)
                if found is not None:
                    return found
            self_node = store.get(_SELF_NODE)
            if self_node is None:
                self_node = store[_SELF_NODE] = Node(obj, name=type(obj).__name__)
        else:  # an object without __dict__ (slots): nothing to keep the copy in
            self_node = Node(obj, name=type(obj).__name__)
        bound = copy.copy(self)
        bound._origin = self
        bound._bound_self = self_node
        bound._compiled = None
        if self.parameter is not None:
            bound.parameter = ParameterNode(self.parameter._data, name="__code",
                                            constraint=self.parameter._constraint,
                                            description=self.parameter._description)
        if store is not None:
            store[key] = bound
        return bound

    def detach(self) -> FunModule:
        return copy.deepcopy(self)


class OperatorModule(FunModule):
    """A library operator: same semantics as FunModule with a shorter path for plain positional calls.

    Operators only touch their own inputs, so the external-dependency check is skipped.
    """

    _tracks_reads = False

    def __init__(self, fun: Callable, **kwargs: Any) -> None:
        super().__init__(fun, **kwargs)
        self._lazy_info = OperatorInfo(self._qualname, self.description)
        self._plain_calls = self._plan.simple and self._process_inputs

    def _call_info(self, data: list, output: Any) -> Any:
        return self._lazy_info


def _positional_inputs(names: list[str], args: tuple) -> tuple[dict[str, Node], list] | None:
    """Input nodes by parameter name and their data, or None when an argument is a bundled function."""
    inputs: dict[str, Node] = {}
    data: list = []
    for name, value in zip(names, args):
        if not isinstance(value, Node):
            if isinstance(value, FunModule):
                return None
            value = Node(value, name=name)
        inputs[name] = value
        data.append(value._data)
    return inputs, data


def _as_input(value: Any, name: str | None) -> Any:
    if isinstance(value, Node):
        return value
    if isinstance(value, FunModule):
        return value if value.parameter is not None else None
    return Node(value, name=name) if name is not None else node(value)


def _detach(value: Any) -> Any:
    return value.detach() if isinstance(value, Node) else value


def to_data(obj: Any) -> Any:
    """Replace every node in a nested structure by its data."""
    return recursive_conversion(lambda x: x.data, lambda x: x)(obj)


def wrap_node(obj: Any) -> Any:
    return recursive_conversion(lambda x: x, node)(obj)


def detach_inputs(obj: Any) -> Any:
    return recursive_conversion(lambda x: x.detach(), lambda x: x)(obj)


__all__ = ["bundle", "FunModule", "ExecutionError", "TraceMissingInputsError", "to_data", "wrap_node",
           "detach_inputs"]
