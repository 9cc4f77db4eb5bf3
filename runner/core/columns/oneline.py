"""Whether a user's regular expression can only ever match text without a line break, and
the same expression kept off the characters a field cannot hold.

A ``pattern`` column's values are checked a chunk at a time (see
:func:`~runner.core.columns.base.line_failures`) by ``(?:X\\n)*`` over the values joined by
line breaks: that finds exactly the values ``X`` does not match whole only if no match of
``X`` can hold a line break, nor look past its own text. This module answers that from the
pattern's parse tree, and answers no whenever it is unsure: lookarounds, back references and
conditionals can see the neighbouring values, and are left to the value-by-value check.
:func:`confined` writes such a pattern again from its parse tree with every character it
consumes kept off a given set, so that it can be part of a whole line's pattern.
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


def confined(pattern: str, excluded: str) -> str | None:
    """A regular expression that fully matches exactly the strings ``pattern`` fully
    matches that hold none of the ``excluded`` characters nor a line break: each character
    the pattern consumes is kept off them. None when unsure (as :func:`one_line`).

    A field's own pattern so confined can be part of its line's (see
    :mod:`runner.executor.jobs.lineshape`): it can never run past the field.
    """
    try:
        tree = _parser.parse(pattern, 0)
        if _may_span(tree, bool(tree.state.flags & re.DOTALL)):
            return None
        body = _written(tree, "".join(sorted(set(excluded + "\n"))))
    except (re.error, RecursionError, _Unknown):
        return None
    flags = _flag_letters(tree.state.flags)
    return f"(?{flags}:{body})" if flags else body


class _Unknown(Exception):
    """A part of a parse tree :func:`confined` does not write again."""


_FLAGS = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"), (re.ASCII, "a"))
_AT = {
    "AT_BEGINNING": "^",
    "AT_BEGINNING_STRING": r"\A",
    "AT_END": "$",
    "AT_END_STRING": r"\Z",
    "AT_BOUNDARY": r"\b",
    "AT_NON_BOUNDARY": r"\B",
}
_CATEGORIES = {"DIGIT": r"\d", "NOT_DIGIT": r"\D", "SPACE": r"\s", "NOT_SPACE": r"\S"}
_CATEGORIES |= {"WORD": r"\w", "NOT_WORD": r"\W"}
_UNBOUNDED = 2**32 - 1  # the parser's MAXREPEAT
# A set that matches none of some characters under none of these flags never matches them.
_SET_FLAGS = (0, re.IGNORECASE, re.ASCII, re.ASCII | re.IGNORECASE)


def _flag_letters(flags: int) -> str:
    return "".join(letter for flag, letter in _FLAGS if flags & flag)


def _char(code: int) -> str:
    return f"\\U{code:08x}"


def _written(tree: Any, excluded: str) -> str:
    """The parse ``tree`` written again, each character it consumes kept off ``excluded``."""
    return "".join(_item(str(op), arg, excluded) for op, arg in tree)


def _item(op: str, arg: Any, excluded: str) -> str:
    off = "".join(map(_char, map(ord, excluded)))
    if op == "LITERAL":
        return "(?!)" if chr(arg) in excluded else _char(arg)
    if op == "NOT_LITERAL":
        return f"[^{_char(arg)}{off}]"
    if op == "ANY":
        return f"[^{off}]"
    if op == "IN":
        return _set(arg, excluded)
    if op == "AT":
        return _AT[str(arg)]
    if op in _REPEATS:
        low, high, inner = arg
        count = f"{{{low},{'' if high == _UNBOUNDED else high}}}"
        suffix = {"MIN_REPEAT": "?", "POSSESSIVE_REPEAT": "+"}.get(op, "")
        return f"(?:{_written(inner, excluded)}){count}{suffix}"
    if op == "ATOMIC_GROUP":
        return f"(?>{_written(arg, excluded)})"
    if op == "BRANCH":
        return "(?:" + "|".join(_written(branch, excluded) for branch in arg[1]) + ")"
    if op == "SUBPATTERN":
        _group, added, removed, inner = arg
        on, gone = _flag_letters(added), _flag_letters(removed)
        return f"(?{on}{'-' + gone if gone else ''}:{_written(inner, excluded)})"
    raise _Unknown(op)


def _set(items: Any, excluded: str) -> str:
    """A character set (``[...]``) kept off the ``excluded`` characters."""
    parts, negated = [], False
    for op, arg in items:
        name, category = str(op), str(arg).removeprefix("CATEGORY_").removeprefix("UNI_")
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            parts.append(_char(arg))
        elif name == "RANGE":
            parts.append(f"{_char(arg[0])}-{_char(arg[1])}")
        elif name == "CATEGORY" and category in _CATEGORIES:
            parts.append(_CATEGORIES[category])
        else:
            raise _Unknown(name)
    off = "".join(map(_char, map(ord, excluded)))
    if negated:
        return f"[^{''.join(parts)}{off}]"
    allowed = f"[{''.join(parts)}]"
    if all(re.search(allowed, excluded, flags) is None for flags in _SET_FLAGS):
        return allowed  # it holds none of them, whatever the flags around it
    return f"(?![{off}]){allowed}"
