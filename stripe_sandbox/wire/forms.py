"""Decode Stripe's form encoding (``a[b][0][c]=x``, ``expand[]=y``) into a tree.

The result is made of dicts, lists (only from the ``[]`` syntax) and strings;
whether a dict with keys ``"0"``, ``"1"`` is really an array is decided later by
the parameter schema, exactly as Stripe does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from ..errors import invalid_request

_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 12


def split_key(key: str) -> list[str]:
    """``"a[b][]"`` → ``["a", "b", ""]``; raises on malformed brackets."""
    head, bracket, _ = key.partition("[")
    if not head:
        raise invalid_request(f"Invalid parameter name: {key!r}")
    parts = [head]
    if bracket:
        rest = key[len(head) :]
        pos = 0
        for match in _SEGMENT.finditer(rest):
            if match.start() != pos:
                raise invalid_request(f"Invalid parameter name: {key!r}")
            parts.append(match.group(1))
            pos = match.end()
        if pos != len(rest):
            raise invalid_request(f"Invalid parameter name: {key!r}")
    if len(parts) > MAX_DEPTH:
        raise invalid_request(f"Parameter nested too deeply: {key!r}")
    return parts


def display_path(parts: list[str]) -> str:
    """``["a", "b"]`` → ``"a[b]"``, the way Stripe names nested params."""
    return parts[0] + "".join(f"[{part}]" for part in parts[1:])


def build_tree(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Fold ``(key, value)`` pairs into a nested tree; conflicts are 400s."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = split_key(key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            path = display_path(parts[: index + 1])
            if isinstance(node, list):
                if part != "":
                    raise invalid_request(f"Invalid array: {path}", param=path)
                if last:
                    node.append(value)
                    break
                node.append({})
                node = node[-1]
                continue
            if not isinstance(node, dict):
                raise invalid_request(f"Invalid hash: {display_path(parts[:index])}")
            if last:
                if part == "":
                    raise invalid_request(f"Invalid parameter name: {key!r}")
                if isinstance(node.get(part), dict | list):
                    raise invalid_request(f"Invalid hash: {path}", param=path)
                node[part] = value
                break
            following = parts[index + 1]
            child = node.get(part)
            if child is None:
                child = [] if following == "" else {}
                node[part] = child
            elif isinstance(child, str):
                raise invalid_request(f"Invalid hash: {path}", param=path)
            elif isinstance(child, list) and following != "":
                # `a[]=x&a[1]=y` mixes two array syntaxes: re-key as a dict.
                child = {str(i): item for i, item in enumerate(child)}
                node[part] = child
            node = child
    return root


def parse_urlencoded(raw: bytes) -> dict[str, Any]:
    """Form body or query string → tree; undecodable input is a Stripe 400."""
    if not raw:
        return {}
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_request("Invalid request body: it is not valid form encoding.") from exc
    return build_tree(pairs)
