"""The retention policy: which rule applies to each partitioned table, and which partitions are due."""

from __future__ import annotations

import datetime as dt
import json

from atlas.config import load_source
from atlas.config.retention import ProjectRetention, SourceRetention
from atlas.constants import SOURCES_DIR
from atlas.dbt.project import manifest_path
from atlas.retention import load_policy, navigate_fact_sources, policy, rule_for, unmatched_tables

SHOP = load_source(SOURCES_DIR / "shop.yaml")
CRM = load_source(SOURCES_DIR / "crm.yaml")


def _with(source, **retention):  # type: ignore[no-untyped-def]
    return source.model_copy(update={"retention": SourceRetention.model_validate(retention)})


def test_defaults_explore_13_months_audit_7_years_facts_forever() -> None:
    """Without any source setting: explore 13 months, audit log 7 years, navigate facts kept forever."""
    project = ProjectRetention()
    assert rule_for("explore.raw_data", project).months == 13
    assert rule_for("compliance.audit_log", project).months == 84
    assert rule_for("navigate.fact_orders", project, [SHOP], {"navigate.fact_orders": "shop"}).months is None
    assert rule_for("quality.check_results", project).period == "forever"


def test_the_longest_explore_period_wins_and_says_who_asked() -> None:
    """explore.raw_data is shared: a source asking for longer extends it, a shorter ask changes nothing."""
    project = ProjectRetention()
    longer = rule_for(
        "explore.raw_data", project, [_with(SHOP, explore="3 years"), _with(CRM, explore="1 month")]
    )
    assert (longer.months, longer.origin) == (36, "source shop: retention.explore")
    forever = rule_for("explore.raw_data", project, [_with(CRM, explore="forever")])
    assert forever.months is None


def test_fact_rules_most_specific_first() -> None:
    """A source's tables entry beats its navigate default, which beats the project's."""
    facts = {"navigate.fact_orders": "shop", "navigate.fact_order_lines": "shop"}
    shop = _with(SHOP, navigate="5 years", tables={"fact_orders": "10 years"})
    project = ProjectRetention(navigate="2 years")
    assert rule_for("navigate.fact_orders", project, [shop], facts).months == 120
    assert rule_for("navigate.fact_order_lines", project, [shop], facts).months == 60
    assert rule_for("navigate.fact_order_lines", project, [SHOP], facts).months == 24


def test_cutoff_is_whole_months_before_now() -> None:
    """A partition is due once its range ends at or before now minus the period."""
    rule = rule_for("explore.raw_data", ProjectRetention())
    assert rule.cutoff(dt.datetime(2026, 3, 31, 12, tzinfo=dt.UTC)) == dt.datetime(
        2025, 2, 28, 12, tzinfo=dt.UTC
    )
    assert rule_for("navigate.x", ProjectRetention()).cutoff(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)) is None


def test_facts_belong_to_the_source_that_builds_them() -> None:
    """The dbt manifest's partitioned navigate models map to their source; the policy lists each once."""
    facts = navigate_fact_sources(json.loads(manifest_path().read_bytes()))
    assert facts["navigate.fact_orders"] == "shop"
    assert facts["navigate.fact_support_tickets"] == "support"
    tables = [rule.table for rule in policy(ProjectRetention(), [SHOP], facts)]
    assert tables == sorted(set(tables))
    assert {"explore.raw_data", "compliance.audit_log", "navigate.fact_orders"} <= set(tables)
    assert [r.table for r in load_policy()] == tables


def test_a_tables_entry_naming_no_fact_of_its_source_is_reported() -> None:
    """retention.tables must name a partitioned navigate fact the source builds; others are listed."""
    facts = {"navigate.fact_orders": "shop", "navigate.fact_support_tickets": "support"}
    shop = _with(
        SHOP, tables={"fact_orders": "1 year", "fact_support_tickets": "1 year", "fact_typo": "1 year"}
    )
    assert unmatched_tables([shop], facts) == [
        "shop: retention.tables.fact_support_tickets",
        "shop: retention.tables.fact_typo",
    ]
