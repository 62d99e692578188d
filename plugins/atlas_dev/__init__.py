"""Developer tooling, not part of the Airflow image: ``make demo`` (``demo``, ``demo_sources``,
``demo_report``), the embedded PostgreSQL server (``embedded_pg``) and the deterministic sample
sources (``sample``). The production package ``atlas`` never imports this one."""
