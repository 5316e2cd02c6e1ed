"""YAML mappings that remember their lines, so every problem can name file and line.

Floats are read as Decimal ("74.70" keeps its zero); a float YAML cannot make finite
(.nan, .inf) stays text, for the checks to report as "not a number".
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .errors import InputError, Problem

__all__ = ["Node", "parse_yaml"]


class Node(dict[str, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    lines: dict[str, int]


if TYPE_CHECKING:
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: ~10x faster


class _Loader(_SafeLoader):
    pass


_MAP, _SEQ = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_STR, _FLOAT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:float"


def _decimal(text: str) -> Decimal | str:
    try:
        number = Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text                        # .nan, .inf: reported as "not a number" by the checks
    return number if number.is_finite() else text


def _construct(loader: _Loader, node: yaml.Node, made: dict[int, Any]) -> Any:
    """The value of a composed node. A walk of our own rather than the loader's constructor:
    half the time of `yaml.load` on an extraction file (libyaml composes; the constructor's
    per-node bookkeeping was the rest). Tags other than mapping, sequence, text and float go to
    the loader's own constructor; an alias is its anchor's value, made once (`made`: None while
    the node is being made, so an alias inside its own anchor is refused, as the loader does)."""
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _FLOAT:
        return _decimal(node.value)
    if tag not in (_MAP, _SEQ):
        return loader.construct_object(node, deep=True)
    if id(node) in made:
        if made[id(node)] is None:
            raise yaml.constructor.ConstructorError(None, None, "found unconstructable recursive node",
                                                    node.start_mark)
        return made[id(node)]
    made[id(node)] = None
    if tag == _SEQ:
        value: Any = [_construct(loader, item, made) for item in node.value]
    else:
        value = Node()
        value.line, value.lines = node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = _construct(loader, key_node, made)
            if key in value:
                raise yaml.MarkedYAMLError("while reading a mapping", node.start_mark,
                                           f"duplicate key {key!r}", key_node.start_mark)
            value[key] = _construct(loader, value_node, made)
            value.lines[key] = key_node.start_mark.line + 1
    made[id(node)] = value
    return value


def _load(text: str) -> Any:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return None if root is None else _construct(loader, root, {})
    finally:
        loader.dispose()


def parse_yaml(path: Path) -> Node:
    """Parse one file; malformed YAML becomes an InputError with the line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = _load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        began = err.context_mark.line + 1 if err.context_mark and err.context_mark is not mark else None
        shown = text.splitlines()[line - 1].strip() if line and line <= len(text.splitlines()) else ""
        hint = "check indentation, quoting and ':' after keys"
        if began and began != line:
            hint = f"{err.context} began on line {began}; {hint}"
        raise InputError(Problem(str(path), line, "yaml", shown, f"malformed YAML: {err.problem or err.context}",
                                 hint)) from None
    except yaml.reader.ReaderError as err:          # a control character YAML does not allow
        line = text.count("\n", 0, err.position) + 1
        raise InputError(Problem(str(path), line, "yaml", f"U+{err.character:04X}" if isinstance(err.character, int)
                                 else repr(err.character), "a control character YAML does not allow",
                                 "remove it, or write it as an escape inside double quotes")) from None
    except yaml.YAMLError as err:
        raise InputError(Problem(str(path), None, "yaml", "", f"malformed YAML: {err}")) from None
    except UnicodeDecodeError as err:
        raw = Path(path).read_bytes()
        line = raw[:err.start].count(b"\n") + 1
        raise InputError(Problem(str(path), line, "file", raw[err.start:err.start + 1].hex(),
                                 "not UTF-8 text: this byte cannot start a character",
                                 "save the file as UTF-8")) from None
    except OSError as err:
        raise InputError(Problem(str(path), None, "file", str(path), f"cannot read: {err.strerror or err}")) from None
    if not isinstance(data, Node):
        raise InputError(Problem(str(path), 1, "file", type(data).__name__,
                                 "an extraction file must be a mapping", "see docs/extraction-format.md"))
    return data
