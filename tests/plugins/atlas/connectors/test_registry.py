"""The connector registry: one package per connector, the YAML's connector.type picks it."""

from __future__ import annotations

from typing import Literal

import pytest

from atlas.config.connectors import ConnectorConfig
from atlas.config.source import Entity
from atlas.connectors import BUILTIN_CONNECTORS, CONNECTORS
from atlas.connectors.base import ConnectorSpec
from atlas.exceptions import RegistryError


def test_each_builtin_package_registers_its_spec() -> None:
    """files, postgres and http are registered from their packages, under their own names."""
    specs = CONNECTORS.all()
    assert list(specs) == list(BUILTIN_CONNECTORS)
    for name, spec in specs.items():
        assert spec.config_model.__module__ == f"atlas.connectors.{name}.config"
        assert spec.entity_model.__module__ == f"atlas.connectors.{name}.config"


def test_the_config_type_must_be_the_connectors_name() -> None:
    """A spec whose config model does not narrow type to its name is refused at registration."""

    class Wrong(ConnectorConfig):
        type: Literal["other"] = "other"

    with pytest.raises(RegistryError, match=r"type must be Literal\['mine'\]"):
        ConnectorSpec(name="mine", config_model=Wrong, entity_model=Entity, reader=lambda c: c)
