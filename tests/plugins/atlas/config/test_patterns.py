"""Column patterns are checked for PostgreSQL's regex dialect on load, and agree with the server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import yaml
from pydantic import ValidationError

from atlas.config import load_source
from atlas.config.source import Column
from atlas.exceptions import SourceConfigError
from tests.fixtures.postgres import PgServer

ACCEPTED = [
    r"^SKU-[0-9]{6}$",
    r"^[^@[:space:]]+@[^@[:space:]]+\.[a-z]{2,}$",
    r"^\+?[0-9 ()./-]{7,20}$",
    r"^\d{5}(-\d{4})?$",
    r"(?i)^[a-z]+$",
    r"(?is)a.b",
    r"(?x) \d{3} - \d{4}  # a phone number",
    r"(?x)a { 1 , 2 } b",
    r"(?:ab|cd)+?",
    r"(?=a)a",
    r"(?<=\d{3})x",
    r"(?<!-)\d",
    r"(a)\1",
    r"(?#a comment)a",
    r"[\d\s][^\W]",
    r"[(?P<x>]",
    r"x{ab}",
    r"x{",
    r"a{255}",
    r"\Aa\Z",
    r"\x41\u0042\U0001F600",
    r"[\b]",
]
"""Patterns PostgreSQL compiles and the validator accepts."""

REFUSED = [
    (r"(?P<zip>\d{5})", "no named groups"),
    (r"(?P<a>x)(?P=a)", "no named groups"),
    (r"(?<zip>\d{5})", "no named groups"),
    (r"(a)(?P=x)", "no named back-references"),
    (r"(?P>x)", "no (?P… extensions"),
    (r"a*+", "no possessive quantifiers"),
    (r"a++", "no possessive quantifiers"),
    (r"a?+", "no possessive quantifiers"),
    (r"a{2,3}+", "no possessive quantifiers"),
    (r"(?>ab)c", "no atomic groups"),
    (r"(a)?(?(1)b|c)", "no conditionals"),
    (r"abc\z", "no \\z"),
    (r"a(?i)b", "once, at the very start"),
    (r"(?i)(?s)a", "once, at the very start"),
    (r"(?i:abc)", "no scoped options"),
    (r"(?-i:abc)", "no scoped options"),
    (r"(?a)x", "no embedded option a"),
    (r"(?u)x", "no embedded option u"),
    (r"\N{DIGIT ONE}", "no \\N{name}"),
    (r"a{256}", "up to 255"),
    (r"a{1,300}", "up to 255"),
    (r"x{1,2", "repetition count"),
    (r"x{1a}", "repetition count"),
    (r"(?|a)", "no group (?|"),
    (r"a{2,1}", "min repeat greater than max repeat"),
    (r"(", "missing )"),
    (r"[a", "unterminated character set"),
    (r"a**", "multiple repeat"),
]
"""Patterns PostgreSQL refuses, and what the validator says (PostgreSQL's lacks, or Python's error)."""

READ_DIFFERENTLY = [
    (r"\bword\b", "\\b is a backspace in PostgreSQL"),
    (r"\Bx", "\\B is a backslash in PostgreSQL"),
    (r"a{,3}", "{,n} is literal text in PostgreSQL"),
    (r"\x41BC", "every hex digit after \\x"),
    (r"[\x41BC]", "every hex digit after \\x"),
]
"""Patterns both compile, refused because PostgreSQL would match something else than they say."""

PYTHON_REFUSES = [r"\yword\y", r"\mword\M", r"(?<=a+)b", r"\e", r"(?b)a", r"***:a"]
"""PostgreSQL-only syntax: PostgreSQL compiles it, Python's ``re`` (also required) does not."""


def problem(pattern: str) -> str | None:
    """The validator's message for ``pattern`` on a column, or ``None`` when it is accepted."""
    try:
        Column(name="c", pattern=pattern)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
    return None


@pytest.fixture(scope="module")
def server(pg_server: PgServer) -> Iterator[psycopg.Connection]:
    """An autocommit connection to the test server, to ask it what it compiles."""
    with pg_server.admin() as conn:
        yield conn


def postgres_compiles(conn: psycopg.Connection, pattern: str) -> bool:
    """Whether PostgreSQL accepts ``pattern`` as a regular expression (``'x' ~ pattern``)."""
    try:
        conn.execute("SELECT 'x' ~ %s", (pattern,))
    except psycopg.errors.InvalidRegularExpression:
        return False
    return True


@pytest.mark.parametrize(
    ("pattern", "accepted"),
    [pytest.param(p, True, id=p) for p in ACCEPTED] + [pytest.param(p, False, id=p) for p, _ in REFUSED],
)
def test_the_validator_agrees_with_postgresql(
    server: psycopg.Connection, pattern: str, accepted: bool
) -> None:
    """PostgreSQL compiles exactly the patterns of these examples that the validator accepts."""
    assert postgres_compiles(server, pattern) is accepted
    assert (problem(pattern) is None) is accepted, problem(pattern)


@pytest.mark.parametrize(("pattern", "says"), [pytest.param(p, s, id=p) for p, s in REFUSED])
def test_a_refused_pattern_names_what_postgresql_lacks(pattern: str, says: str) -> None:
    """The message of a refused pattern says what PostgreSQL lacks (or what Python's re found)."""
    message = problem(pattern)
    assert message is not None
    assert says in message


@pytest.mark.parametrize(("pattern", "says"), [pytest.param(p, s, id=p) for p, s in READ_DIFFERENTLY])
def test_a_pattern_postgresql_reads_differently_is_refused(
    server: psycopg.Connection, pattern: str, says: str
) -> None:
    """A pattern both dialects compile but read differently is refused, saying how PostgreSQL reads it."""
    assert postgres_compiles(server, pattern)
    re.compile(pattern)
    message = problem(pattern)
    assert message is not None
    assert says in message


@pytest.mark.parametrize("pattern", [pytest.param(p, id=p) for p in PYTHON_REFUSES])
def test_postgresql_only_syntax_is_refused_by_pythons_check(server: psycopg.Connection, pattern: str) -> None:
    """Python's re still has to compile a pattern: PostgreSQL-only syntax is refused by it."""
    assert postgres_compiles(server, pattern)
    message = problem(pattern)
    assert message is not None
    assert message.startswith("not a valid regular expression")


def test_a_named_group_is_refused_on_load_with_file_key_and_value(tmp_path: Path) -> None:
    """(?P<zip>…) in a YAML is refused naming the file, entities[i].columns[j].pattern and the value."""
    columns = [{"name": "id"}, {"name": "zip", "pattern": r"^(?P<zip>\d{5})$"}]
    document = {
        "name": "demo",
        "start_date": "2026-01-01",
        "connector": {"type": "files", "format": "csv", "location": "include/sample_data/demo"},
        "entities": [{"name": "addresses", "path": "a.csv", "key": ["id"], "columns": columns}],
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    with pytest.raises(SourceConfigError) as info:
        load_source(path)
    message = str(info.value)
    assert str(path) in message
    assert "  - entities[0].columns[1].pattern = '^(?P<zip>\\\\d{5})$': not a PostgreSQL regular" in message
    assert "PostgreSQL has no named groups" in message
