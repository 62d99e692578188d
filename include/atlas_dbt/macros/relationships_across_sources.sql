{#-
  `relationships` for a reference into another source's model (an order's customer lives in the
  crm source). That model is built by another DAG on its own schedule, so it may not exist yet
  (nothing to check) and a missing parent row is expected until that source catches up: use it
  with severity warn. The test carries the tag of the child's source (`config: {tags:
  [source_<child>]}`, checked by atlas.dbt.manifest): only the child's DAG runs it, after building
  the child, and the parent's DAG never waits on it. Same-source references use dbt's own
  `relationships` at severity error.
-#}
{% test relationships_across_sources(model, column_name, to, field) %}
    {%- set parent = adapter.get_relation(database=to.database, schema=to.schema, identifier=to.identifier) if execute else none -%}
    {%- set child = adapter.get_relation(database=model.database, schema=model.schema, identifier=model.identifier) if execute else none -%}
    {%- if execute and (parent is none or child is none) -%}
        select null as {{ column_name }} where false
    {%- else -%}
        {{ adapter.dispatch('test_relationships', 'dbt')(model, column_name, to, field) }}
    {%- endif -%}
{% endtest %}
