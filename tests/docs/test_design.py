"""docs/design.md tells the truth about the tree: its module map lists every module, and only those."""

from __future__ import annotations

import re

from atlas.constants import ROOT

DESIGN = ROOT / "docs" / "design.md"
PLUGINS = ROOT / "plugins"


def _map_entries() -> list[str]:
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE)


def _tree_modules() -> set[str]:
    modules = set()
    for path in PLUGINS.rglob("*.py"):
        relative = path.relative_to(PLUGINS).as_posix()
        if "__pycache__" in relative:
            continue
        modules.add(relative.removesuffix("__init__.py"))
    return modules


def test_module_map_lists_every_module_and_nothing_else() -> None:
    """Every .py file under plugins/ has a row in the module map, and every row names a file."""
    entries = _map_entries()
    assert len(entries) == len(set(entries)), "a module is listed twice"
    assert sorted(_tree_modules() - set(entries)) == [], "modules missing from docs/design.md"
    assert sorted(set(entries) - _tree_modules()) == [], "docs/design.md lists modules that do not exist"


def test_named_functions_and_classes_exist() -> None:
    """Every function (`name()`) and class or constant (`CapWords`) a module's row names occurs in that module."""
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    missing = []
    for module, description in re.findall(r"^\| `([^`]+\.py)` \| (.*) \|$", section, flags=re.MULTILINE):
        source = (PLUGINS / module).read_text(encoding="utf-8")
        names = re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)\(\)`", description)
        names += re.findall(r"`([A-Z][A-Za-z0-9_]+)`", description)
        for name in names:
            if not re.search(rf"\b{name}\b", source):
                missing.append(f"{module}: {name}")
    assert missing == []
