"""A small registry of named parts: the connectors (``atlas.connectors``) and the DAG stages
(``atlas.stages``) are each one.

Built-in parts are modules of one package, each exposing the part under one attribute
(``SPEC`` for a connector package, ``STAGE`` for a stage module); they are imported on first use,
so importing a registry costs nothing at DAG-parse time. Other parts (a plugin's own connector, a
test's toy stage) are added with :meth:`Registry.register`. Every change bumps
:data:`generation`, which caches built from registries (the source YAML model) key on.
"""

from __future__ import annotations

import importlib
import itertools
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from atlas.exceptions import RegistryError

T = TypeVar("T")

_counter = itertools.count(1)
generation = 0
"""Bumped by every registration change of any registry."""
_lock = threading.Lock()


def _bump() -> None:
    global generation
    generation = next(_counter)


class Registry(Generic[T]):
    """Named parts of one kind, the built-in ones loaded lazily from ``<package>.<module>.<attribute>``."""

    def __init__(
        self, kind: str, package: str, builtin: tuple[str, ...], attribute: str, name_of: Callable[[T], str]
    ) -> None:
        self.kind = kind
        self.package = package
        self.builtin = builtin
        self.attribute = attribute
        self._name_of = name_of
        self._items: dict[str, T] = {}
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        with _lock:
            if self._loaded:
                return
            loaded: dict[str, T] = {}
            for module in self.builtin:
                item = getattr(importlib.import_module(f"{self.package}.{module}"), self.attribute)
                loaded[self._name_of(item)] = item
            self._items = {**loaded, **self._items}
            self._loaded = True
            _bump()

    def register(self, item: T) -> T:
        """Add ``item``; a second part under the same name is an error. Returns ``item``."""
        self._load()
        name = self._name_of(item)
        existing = self._items.get(name)
        if existing is not None and existing is not item:
            raise RegistryError(f"a {self.kind} named {name!r} is already registered: {existing!r}")
        self._items[name] = item
        _bump()
        return item

    def unregister(self, name: str) -> None:
        """Remove the part ``name`` (tests remove the toy parts they added)."""
        self._load()
        self._items.pop(name, None)
        _bump()

    def all(self) -> dict[str, T]:
        """Every registered part by name, built-in ones first, in registration order."""
        self._load()
        return dict(self._items)

    def get(self, name: str) -> T:
        """The part ``name``; an error listing the known names otherwise."""
        items = self.all()
        if name not in items:
            raise RegistryError(f"no {self.kind} named {name!r}: known {', '.join(sorted(items)) or 'none'}")
        return items[name]
