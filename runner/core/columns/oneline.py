"""Whether a user's regular expression can only ever match text without a line break.

A ``pattern`` column's values are checked a chunk at a time (see
:func:`~runner.core.columns.base.line_failures`) by ``(?:X\\n)*`` over the values joined by
line breaks: that finds exactly the values ``X`` does not match whole only if no match of
``X`` can hold a line break, nor look past its own text. This module answers that from the
pattern's parse tree, and answers no whenever it is unsure: lookarounds, back references and
conditionals can see the neighbouring values, and are left to the value-by-value check.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# The standard library's parser of regular expressions (its names are untyped).
_parser: Any = importlib.import_module("re._parser")

_NEWLINE = ord("\n")
# Character categories by whether they hold a line break (others are not known here).
_WITH_NEWLINE = frozenset(
    f"CATEGORY_{name}"
    for name in ("SPACE", "NOT_DIGIT", "NOT_WORD", "LINEBREAK", "LOC_NOT_WORD")
    for name in (name, f"UNI_{name}")
)
_WITHOUT_NEWLINE = frozenset(
    f"CATEGORY_{name}"
    for name in ("DIGIT", "WORD", "NOT_SPACE", "NOT_LINEBREAK", "LOC_WORD")
    for name in (name, f"UNI_{name}")
)
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def one_line(pattern: str) -> re.Pattern[str] | None:
    """``(?:pattern\\n)*`` when no match of ``pattern`` can hold a line break or look past
    itself, else None (or when it does not compile so)."""
    try:
        tree = _parser.parse(pattern, 0)
        if _may_span(tree, bool(tree.state.flags & re.DOTALL)):
            return None
        return re.compile(f"(?:(?:{pattern})\n)*")
    except (re.error, RecursionError):
        return None


def _may_span(tree: Any, dotall: bool) -> bool:
    """Whether a match of the parsed ``tree`` may hold a line break or look outside itself."""
    return any(_item_may_span(str(op), arg, dotall) for op, arg in tree)


def _item_may_span(op: str, arg: Any, dotall: bool) -> bool:
    if op == "LITERAL":
        return bool(arg == _NEWLINE)
    if op == "NOT_LITERAL":
        return bool(arg != _NEWLINE)
    if op == "ANY":
        return dotall
    if op == "IN":
        return _set_has_newline(arg)
    if op == "AT":  # anchors and boundaries match no character
        return False
    if op in _REPEATS:
        return _may_span(arg[2], dotall)
    if op == "ATOMIC_GROUP":
        return _may_span(arg, dotall)
    if op == "BRANCH":
        return any(_may_span(branch, dotall) for branch in arg[1])
    if op == "SUBPATTERN":
        _group, added, removed, inner = arg
        return _may_span(inner, (dotall or bool(added & re.DOTALL)) and not removed & re.DOTALL)
    return True  # lookarounds, back references, conditionals: not known


def _set_has_newline(items: Any) -> bool:
    """Whether a character set (``[...]``) may match a line break."""
    negated, holds = False, False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            holds = holds or arg == _NEWLINE
        elif name == "RANGE":
            holds = holds or arg[0] <= _NEWLINE <= arg[1]
        elif name == "CATEGORY" and str(arg) in _WITH_NEWLINE | _WITHOUT_NEWLINE:
            holds = holds or str(arg) in _WITH_NEWLINE
        else:
            return True
    return holds != negated
