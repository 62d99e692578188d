"""Column patterns in PostgreSQL's regular-expression dialect, checked without a database.

A column's ``pattern`` runs in PostgreSQL (``value ~ pattern``, an ARE), not in Python. Python's
``re`` accepts much that PostgreSQL refuses at run time (``(?P<zip>…)``, ``a++``, ``(?>…)``,
``(?i:…)``, ``{1,300}``), and some things PostgreSQL reads differently (``\\b`` is a backspace
there, ``{,3}`` literal text). :func:`postgres_regex_problem` finds those when the YAML is loaded;
``tests/plugins/atlas/config/test_patterns.py`` holds it to what the server itself says.
"""

from __future__ import annotations

import re

POSTGRES_OPTIONS = frozenset("bceimnpqstwx")
"""The embedded option letters PostgreSQL knows (``(?i)`` …), allowed once, at the very start."""

MAX_REPEAT = 255
"""PostgreSQL's largest repetition count (``DUPMAX``): ``a{256}`` is an error there."""

_LEADING_OPTIONS = re.compile(r"\(\?([A-Za-z]*)\)")
_GROUP_OPTIONS = re.compile(r"\(\?[A-Za-z]*(?:-[A-Za-z]*)?([:)])")
_BOUND = re.compile(r"\{([0-9]+)(?:,([0-9]*))?\}")
_PYTHON_BOUND = re.compile(r"\{,[0-9]*\}")
_LONG_HEX = re.compile(r"\\x[0-9A-Fa-f]{3}")

_GROUPS: tuple[tuple[str, str], ...] = (
    ("(?P<", "PostgreSQL has no named groups (?P<name>…): use a plain group (…)"),
    ("(?P=", "PostgreSQL has no named back-references (?P=name): use a numbered one (\\1)"),
    ("(?P", "PostgreSQL has no (?P… extensions: use plain groups (…) and numbered back-references"),
    ("(?<=", ""),
    ("(?<!", ""),
    ("(?<", "PostgreSQL has no named groups (?<name>…): use a plain group (…)"),
    ("(?'", "PostgreSQL has no named groups (?'name'…): use a plain group (…)"),
    ("(?>", "PostgreSQL has no atomic groups (?>…)"),
    ("(?(", "PostgreSQL has no conditionals (?(…)…|…)"),
    ("(?:", ""),
    ("(?=", ""),
    ("(?!", ""),
)
"""Group openings: what PostgreSQL lacks (a message) or knows (empty)."""

_ESCAPES = {
    "z": "PostgreSQL has no \\z: the end of the text is \\Z (or $)",
    "b": "\\b is a backspace in PostgreSQL, not a word boundary (PostgreSQL's \\y, which Python's re "
    "refuses): use lookarounds, e.g. (?<![A-Za-z0-9_])word(?![A-Za-z0-9_])",
    "B": "\\B is a backslash in PostgreSQL, not a non-boundary: write what must surround the text",
    "N": "PostgreSQL has no \\N{name} escapes: write the character, or \\uXXXX",
}
"""Escapes outside brackets that PostgreSQL lacks or reads differently from Python."""


def postgres_regex_problem(pattern: str) -> str | None:
    """What PostgreSQL lacks or reads differently in ``pattern``, or ``None``.

    Python's ``re.compile`` is still to be run: this only finds Python syntax PostgreSQL does
    not share, so a pattern must pass both.
    """
    return _Scanner(pattern).problem()


class _Scanner:
    """One left-to-right pass over a pattern, as PostgreSQL's ARE parser reads it."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.at = 0
        self.expanded = False

    def problem(self) -> str | None:
        leading = _LEADING_OPTIONS.match(self.text)
        if leading:
            unknown = sorted(set(leading.group(1)) - POSTGRES_OPTIONS)
            if unknown:
                return (
                    f"PostgreSQL has no embedded option {', '.join(unknown)} "
                    f"(it knows {' '.join(sorted(POSTGRES_OPTIONS))})"
                )
            self.expanded = "x" in leading.group(1)
            self.at = leading.end()
        while self.at < len(self.text):
            found = self._step()
            if found:
                return found
        return None

    def _step(self) -> str | None:
        char = self.text[self.at]
        if self.expanded and char.isspace():
            self.at += 1
        elif self.expanded and char == "#":
            end = self.text.find("\n", self.at)
            self.at = len(self.text) if end == -1 else end + 1
        elif char == "\\":
            return self._escape()
        elif char == "[":
            return self._bracket()
        elif self.text.startswith("(?", self.at):
            return self._group()
        elif char in "*+?":
            self.at += 1
            return self._after_quantifier()
        elif char == "{":
            return self._brace()
        else:
            self.at += 1
        return None

    def _escape(self) -> str | None:
        if self.text[self.at + 1 : self.at + 2] in _ESCAPES:
            return _ESCAPES[self.text[self.at + 1]]
        return self._hex()

    def _hex(self) -> str | None:
        if _LONG_HEX.match(self.text, self.at):
            return (
                "PostgreSQL reads every hex digit after \\x as one character (\\x41BC is U+41BC, "
                "Python's is 'ABC'): write \\u and four digits, e.g. \\u0041"
            )
        self.at += 2
        return None

    def _bracket(self) -> str | None:
        """Skip a bracket expression (``[…]``, ``[^…]``, ``[]…]``, ``[[:alpha:]]``), checking its ``\\x``."""
        self.at += 1
        if self.text.startswith("^", self.at):
            self.at += 1
        if self.text.startswith("]", self.at):
            self.at += 1
        while self.at < len(self.text):
            char = self.text[self.at]
            if char == "]":
                self.at += 1
                return None
            if char == "\\":
                found = self._hex()
                if found:
                    return found
            elif char == "[" and self.text[self.at + 1 : self.at + 2] in (":", ".", "="):
                close = self.text.find(self.text[self.at + 1] + "]", self.at + 2)
                self.at = len(self.text) if close == -1 else close + 2
            else:
                self.at += 1
        return None

    def _group(self) -> str | None:
        for opening, lacks in _GROUPS:
            if self.text.startswith(opening, self.at):
                if lacks:
                    return lacks
                self.at += len(opening)
                return None
        if self.text.startswith("(?#", self.at):
            end = self.text.find(")", self.at)
            self.at = len(self.text) if end == -1 else end + 1
            return None
        options = _GROUP_OPTIONS.match(self.text, self.at)
        if options and options.group(1) == ":":
            return "PostgreSQL has no scoped options (?i:…): put the options, e.g. (?i), at the very start"
        if options:
            return "PostgreSQL takes embedded options such as (?i) once, at the very start of the pattern"
        return f"PostgreSQL has no group {self.text[self.at : self.at + 3]}…"

    def _brace(self) -> str | None:
        rest = self.text[self.at :]
        if self.expanded:
            rest = re.sub(r"\s+", "", rest[: rest.find("}") + 1] if "}" in rest else rest)
        if rest[1:2] and rest[1:2] in "0123456789":
            bound = _BOUND.match(rest)
            if not bound:
                return (
                    "PostgreSQL reads '{' followed by a digit as a repetition count {m}, {m,} or "
                    "{m,n}: escape a literal brace as \\{"
                )
            counts = [int(c) for c in bound.groups() if c]
            if max(counts) > MAX_REPEAT:
                return f"PostgreSQL allows repetition counts up to {MAX_REPEAT}, not {max(counts)}"
            self.at = self.text.index("}", self.at) + 1
            return self._after_quantifier()
        if _PYTHON_BOUND.match(rest):
            return "{,n} is literal text in PostgreSQL, not a repetition count: write {0,n}"
        self.at += 1
        return None

    def _after_quantifier(self) -> str | None:
        if self.text.startswith("?", self.at):
            self.at += 1  # a lazy quantifier: PostgreSQL has them too
        elif self.text.startswith("+", self.at):
            return "PostgreSQL has no possessive quantifiers (*+, ++, ?+, {m,n}+)"
        return None
