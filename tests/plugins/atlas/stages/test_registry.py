"""The stage registry: built-in stages in order, ordering by after/before, clear errors."""

from __future__ import annotations

import pytest

from atlas.exceptions import RegistryError
from atlas.stages import BUILTIN_STAGES, STAGES, Stage, StageTasks, ordered_stages


def _stage(name: str, after: tuple[str, ...] = (), before: tuple[str, ...] = ()) -> Stage:
    return Stage(
        name=name, add_tasks=lambda _: StageTasks([], []), describe=lambda _: name, after=after, before=before
    )


def test_builtin_stages_run_in_pipeline_order() -> None:
    """partitions, land, promote, navigate, publish: each built-in module registers its STAGE."""
    assert [s.name for s in ordered_stages()] == list(BUILTIN_STAGES)


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        pytest.param([_stage("b", after=("a",)), _stage("a")], ["a", "b"], id="after-reorders"),
        pytest.param(
            [_stage("a"), _stage("c", after=("a",)), _stage("b", after=("a",), before=("c",))],
            ["a", "b", "c"],
            id="before-slots-in-between",
        ),
        pytest.param([_stage("a", after=("gone",)), _stage("b")], ["a", "b"], id="unknown-after-ignored"),
        pytest.param([_stage("x"), _stage("y")], ["x", "y"], id="ties-keep-registration-order"),
    ],
)
def test_order_satisfies_after_and_before(stages: list[Stage], expected: list[str]) -> None:
    """A stage runs after every stage it names in after, and before every stage it names in before."""
    assert [s.name for s in ordered_stages({s.name: s for s in stages})] == expected


def test_a_cycle_is_an_error_naming_the_stages() -> None:
    """Stages that wait on each other cannot be ordered; the error names them."""
    stages = {"a": _stage("a", after=("b",)), "b": _stage("b", after=("a",)), "c": _stage("c")}
    with pytest.raises(RegistryError, match="a, b wait on each other"):
        ordered_stages(stages)


def test_registering_a_stage_slots_it_in_and_unregistering_removes_it() -> None:
    """A registered stage joins the order where its after/before put it; a second one of that name is refused."""
    gate = _stage("gate", after=("promote",), before=("navigate",))
    STAGES.register(gate)
    try:
        names = [s.name for s in ordered_stages()]
        assert names.index("promote") < names.index("gate") < names.index("navigate")
        with pytest.raises(RegistryError, match="already registered"):
            STAGES.register(_stage("gate"))
    finally:
        STAGES.unregister("gate")
    assert "gate" not in STAGES.all()


def test_unknown_names_list_the_known_ones() -> None:
    """Looking up a stage that does not exist names the ones that do."""
    with pytest.raises(RegistryError, match="no stage named 'nope': known land, navigate"):
        STAGES.get("nope")
