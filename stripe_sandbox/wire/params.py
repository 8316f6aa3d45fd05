"""Validate request parameters against the `stripe` package's typed params.

`stripe.params.PaymentIntentCreateParams` and friends are TypedDicts generated
from Stripe's own API description. Their annotations are turned (once, lazily)
into a small schema tree of :class:`Node` objects, and every request is checked
against it: an unknown key is ``parameter_unknown``, a missing required key
``parameter_missing``, a string that is not an integer or boolean where one is
expected ``parameter_invalid_integer`` / ``parameter_invalid_boolean``. Values
are coerced on the way (``"100"`` → ``100``, ``"true"`` → ``True``), so handlers
receive typed Python values.

The request-option keys the SDK accepts as keyword arguments (``api_key``,
``stripe_account``, ``idempotency_key`` …, from ``RequestOptions``) are not wire
parameters and are excluded.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import typing_extensions
from stripe._request_options import RequestOptions

from ..errors import invalid_request, missing_param
from .forms import display_path

REQUEST_OPTION_KEYS = frozenset(RequestOptions.__annotations__)
_INTEGER = re.compile(r"^-?\d{1,19}$")
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
_INT64_MAX = 2**63 - 1


@dataclass(eq=False)
class Node:
    """One schema node. ``kind`` is one of: str int bool decimal any empty enum
    object list map union."""

    kind: str
    values: frozenset[str] = frozenset()
    item: Node | None = None
    options: list[Node] = field(default_factory=list)
    typed_dict: type | None = None

    def accepts_empty(self) -> bool:
        if self.kind in ("empty", "any"):
            return True
        return self.kind == "union" and any(option.accepts_empty() for option in self.options)


@dataclass
class ObjectSchema:
    fields: dict[str, Node]
    required: frozenset[str]


STR = Node("str")
INT = Node("int")
BOOL = Node("bool")
DECIMAL = Node("decimal")
ANY = Node("any")
EMPTY = Node("empty")


class _Namespace(dict):
    """Globals for evaluating forward references: unknown names become Any."""

    def __missing__(self, key: str) -> Any:
        return Any


def _evaluate(ref: str, module: str) -> Any:
    namespace = _Namespace(vars(sys.modules[module]))
    namespace.update(
        {
            "Literal": typing.Literal,
            "Dict": dict,
            "List": list,
            "Union": typing.Union,
            "str": str,
            "int": int,
            "bool": bool,
            "float": float,
        }
    )
    return eval(ref, namespace)  # noqa: S307 - code comes from the installed stripe package


def _node_for(annotation: Any, module: str) -> Node:
    """The schema node for one annotation of a params TypedDict.

    The builders below are tried in order; the first that recognises the
    annotation decides. Anything none of them knows is accepted as is (``any``):
    the sandbox must never refuse what the SDK's own types allow.
    """
    annotation = _concrete(annotation, module)
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.NotRequired, typing.Required):
        return _node_for(args[0], module)
    for build in _NODE_BUILDERS:
        node = build(annotation, origin, args, module)
        if node is not None:
            return node
    return ANY


def _concrete(annotation: Any, module: str) -> Any:
    """Forward references (``"PaymentIntentCreateParamsShipping"``) evaluated in
    the module that declares them."""
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        annotation = _evaluate(annotation, module)
    return annotation


def _scalar_node(annotation: Any, origin: Any, args: tuple, module: str) -> Node | None:
    """``str``, ``bool``, ``int`` and ``float`` (a decimal string on the wire)."""
    for python_type, node in _SCALAR_NODES:
        if annotation is python_type:
            return node
    return None


def _literal_node(annotation: Any, origin: Any, args: tuple, module: str) -> Node | None:
    """``Literal["a", "b"]`` is an enum; ``Literal[""]`` alone is how the SDK
    says a field may be unset with an empty string."""
    if origin is not typing.Literal:
        return None
    values = frozenset(str(value) for value in args)
    return EMPTY if values == {""} else Node("enum", values=values)


def _union_node(annotation: Any, origin: Any, args: tuple, module: str) -> Node | None:
    """``X | Y`` (``Optional`` is just a nullable field: ``None`` is dropped)."""
    if origin is not typing.Union and type(annotation).__name__ != "UnionType":
        return None
    options = [_node_for(arg, module) for arg in args if arg is not type(None)]
    # `Literal['a','b']|str` is documentation for humans: any string goes.
    if any(option is STR for option in options):
        options = [option for option in options if option.kind != "enum"]
    return options[0] if len(options) == 1 else Node("union", options=options)


def _collection_node(annotation: Any, origin: Any, args: tuple, module: str) -> Node | None:
    """``List[X]`` and ``Dict[str, X]``; without type arguments, items are ``any``."""
    if origin in (list, typing.List):  # noqa: UP006 - typing aliases appear at runtime
        return Node("list", item=_node_for(args[0], module) if args else ANY)
    if origin in (dict, typing.Dict):  # noqa: UP006
        return Node("map", item=_node_for(args[1], module) if len(args) == 2 else ANY)
    return None


def _object_node(annotation: Any, origin: Any, args: tuple, module: str) -> Node | None:
    """A nested params TypedDict (fields resolved lazily), or the SDK's
    ``UntypedStripeObject`` (a free-form hash, of strings when parameterised)."""
    if isinstance(annotation, type) and typing_extensions.is_typeddict(annotation):
        return Node("object", typed_dict=annotation)
    if isinstance(annotation, type) and annotation.__name__ == "UntypedStripeObject":
        return Node("map", item=ANY)
    if origin is not None and getattr(origin, "__name__", "") == "UntypedStripeObject":
        return Node("map", item=STR)
    return None


_SCALAR_NODES = ((str, STR), (bool, BOOL), (int, INT), (float, DECIMAL))
_NODE_BUILDERS = (_scalar_node, _literal_node, _union_node, _collection_node, _object_node)


@cache
def object_schema(typed_dict: type) -> ObjectSchema:
    """Fields of a params TypedDict (request options excluded)."""
    fields: dict[str, Node] = {}
    # Annotations of base classes live in their own modules: walk the MRO.
    for klass in reversed(typed_dict.__mro__):
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if name in REQUEST_OPTION_KEYS:
                continue
            fields[name] = _LazyNode(annotation, klass.__module__)
    required = frozenset(typed_dict.__required_keys__) - REQUEST_OPTION_KEYS
    return ObjectSchema(fields=fields, required=required)


class _LazyNode(Node):
    """Resolves its annotation on first use: PaymentIntentCreateParams alone has
    hundreds of nested TypedDicts, most never sent."""

    def __init__(self, annotation: Any, module: str) -> None:
        self._annotation = annotation
        self._module = module
        self._resolved: Node | None = None

    def resolve(self) -> Node:
        if self._resolved is None:
            self._resolved = _node_for(self._annotation, self._module)
        return self._resolved


def resolve(node: Node) -> Node:
    """The node itself, once a lazy one has read its annotation."""
    return node.resolve() if isinstance(node, _LazyNode) else node


# --- validation --------------------------------------------------------------


def validate(
    typed_dict: type, params: dict[str, Any], *, extra: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Check and coerce a decoded request against ``typed_dict``.

    ``extra`` names wire parameters the endpoint accepts beyond the SDK's
    typed params (``client_secret`` and ``key`` on publishable-key calls).
    """
    clean = {key: params[key] for key in extra if key in params}
    rest = {key: value for key, value in params.items() if key not in extra}
    clean.update(_validate_object(typed_dict, rest, []))
    return clean


def _validate_object(typed_dict: type, value: dict[str, Any], path: list[str]) -> dict[str, Any]:
    schema = object_schema(typed_dict)
    result: dict[str, Any] = {}
    for key, item in value.items():
        node = schema.fields.get(key)
        if node is None:
            name = display_path([*path, key])
            raise invalid_request(
                f"Received unknown parameter: {name}", param=name, code="parameter_unknown"
            )
        result[key] = _validate(resolve(node), item, [*path, key])
    for key in schema.required:
        if key not in value:
            raise missing_param(display_path([*path, key]))
    return result


def _validate(node: Node, value: Any, path: list[str]) -> Any:
    """Check and coerce one value against its node (``path`` names it in errors).

    An empty string means "unset" on Stripe's wire: only a node that allows it
    (``Literal[""]``, or a union with it) takes one; anything else gets
    Stripe's ``parameter_invalid_empty``. Hashes and arrays are checked by
    their own validators; every other kind wants a string to coerce.
    """
    kind = node.kind
    if kind == "any":
        return value
    if kind == "union":
        return _validate_union(node, value, path)
    if isinstance(value, str) and value == "" and kind != "empty":
        raise _empty(display_path(path))
    structured = _STRUCTURED.get(kind)
    if structured is not None:
        return structured(node, value, path)
    if not isinstance(value, str):
        raise _wrong_type(kind, display_path(path), value)
    scalar = _SCALARS.get(kind)
    if scalar is None:  # pragma: no cover - every Node kind has a validator
        raise AssertionError(kind)
    return scalar(node, value, path)


def _validate_empty(node: Node, value: Any, path: list[str]) -> str:
    """``Literal[""]``: only the empty string (which unsets the field)."""
    if value != "":
        name = display_path(path)
        raise invalid_request(f"Invalid {name}: must be an empty string", param=name)
    return ""


def _validate_nested(node: Node, value: Any, path: list[str]) -> dict[str, Any]:
    """A nested TypedDict: a hash whose keys are checked like the top level's."""
    if not isinstance(value, dict):
        name = display_path(path)
        raise invalid_request(f"Invalid object: {name}", param=name, code="parameter_invalid")
    assert node.typed_dict is not None
    return _validate_object(node.typed_dict, value, path)


def _validate_list(node: Node, value: Any, path: list[str]) -> list[Any]:
    """An array (``a[]=x`` or ``a[0]=x``); items are named ``a[0]``, ``a[1]``…"""
    items = _as_list(value, display_path(path))
    assert node.item is not None
    item_node = resolve(node.item)
    return [_validate(item_node, item, [*path, str(i)]) for i, item in enumerate(items)]


def _validate_map(node: Node, value: Any, path: list[str]) -> dict[str, Any]:
    """A free-form hash (``metadata``): any keys, values of one kind."""
    if not isinstance(value, dict):
        name = display_path(path)
        raise invalid_request(f"Invalid hash: {name}", param=name)
    assert node.item is not None
    item_node = resolve(node.item)
    result = {}
    for key, item in value.items():
        # An empty value unsets a key (metadata[foo]=), so it is always allowed.
        result[key] = item if item == "" else _validate(item_node, item, [*path, key])
    return result


def _validate_str(node: Node, value: str, path: list[str]) -> str:
    return value


def _validate_int(node: Node, value: str, path: list[str]) -> int:
    """A 64-bit signed integer in decimal, as Stripe takes it."""
    if not _INTEGER.match(value) or abs(int(value)) > _INT64_MAX:
        raise invalid_request(
            f"Invalid integer: {value}",
            param=display_path(path),
            code="parameter_invalid_integer",
        )
    return int(value)


def _validate_bool(node: Node, value: str, path: list[str]) -> bool:
    """Only ``true`` and ``false``, as Stripe takes them."""
    if value not in ("true", "false"):
        raise invalid_request(
            f"Invalid boolean: {value}",
            param=display_path(path),
            code="parameter_invalid_boolean",
        )
    return value == "true"


def _validate_decimal(node: Node, value: str, path: list[str]) -> str:
    """A decimal string, kept as a string so no precision is lost on the way."""
    if not _DECIMAL.match(value):
        raise invalid_request(f"Invalid decimal: {value}", param=display_path(path))
    return value


def _validate_enum(node: Node, value: str, path: list[str]) -> str:
    """One of the ``Literal`` values; the error lists (at most 12 of) them."""
    if value not in node.values:
        name = display_path(path)
        values = sorted(node.values)
        choices = ", ".join(values[:12]) + (
            f", … ({len(values)} values)" if len(values) > 12 else ""
        )
        raise invalid_request(f"Invalid {name}: must be one of {choices}", param=name)
    return value


Validator = Callable[[Node, Any, list[str]], Any]
# Kinds whose value is a hash, an array or the empty string.
_STRUCTURED: dict[str, Validator] = {
    "empty": _validate_empty,
    "object": _validate_nested,
    "list": _validate_list,
    "map": _validate_map,
}
# Kinds whose value must be a string.
_SCALARS: dict[str, Validator] = {
    "str": _validate_str,
    "int": _validate_int,
    "bool": _validate_bool,
    "decimal": _validate_decimal,
    "enum": _validate_enum,
}


def _validate_union(node: Node, value: Any, path: list[str]) -> Any:
    if value == "" and node.accepts_empty():
        return ""
    first_error = None
    for option in node.options:
        option = resolve(option)
        if option.kind == "empty":
            continue
        try:
            return _validate(option, value, path)
        except Exception as exc:  # noqa: BLE001 - try the next alternative
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def _as_list(value: Any, name: str) -> list[Any]:
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and all(key.isdigit() for key in value):
        return [value[key] for key in sorted(value, key=int)]
    raise invalid_request(f"Invalid array: {name}", param=name, code="parameter_invalid")


def _empty(name: str) -> Exception:
    return invalid_request(
        f"You passed an empty string for '{name}'. We assume empty values are an attempt "
        f"to unset a parameter; however '{name}' cannot be unset. You should remove "
        f"'{name}' from your request or supply a non-empty value.",
        param=name,
        code="parameter_invalid_empty",
    )


def _wrong_type(kind: str, name: str, value: Any) -> Exception:
    shape = "hash" if isinstance(value, dict) else "array"
    code = {"int": "parameter_invalid_integer", "bool": "parameter_invalid_boolean"}.get(kind)
    return invalid_request(f"Invalid {kind}: {name} must not be a {shape}", param=name, code=code)
