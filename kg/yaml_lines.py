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


def _mapping(loader: _Loader, node: yaml.MappingNode) -> Node:
    out = Node()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.MarkedYAMLError("while reading a mapping", node.start_mark,
                                       f"duplicate key {key!r}", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _decimal(loader: _Loader, node: yaml.ScalarNode) -> Decimal | str:
    text = str(loader.construct_scalar(node))
    try:
        number = Decimal(text.replace("_", ""))
    except InvalidOperation:
        return text                        # .nan, .inf: reported as "not a number" by the checks
    return number if number.is_finite() else text


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_constructor("tag:yaml.org,2002:float", _decimal)


def parse_yaml(path: Path) -> Node:
    """Parse one file; malformed YAML becomes an InputError with the line and column."""
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - SafeLoader subclass
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
