"""dbt for the navigate layer: project paths (``project``), manifest slices (``manifest``), the
Cosmos task group and its profile (``task_group``)."""
