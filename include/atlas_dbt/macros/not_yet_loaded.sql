{#-
  `or <chart row's key is not in this model yet>`, for an interval run of a fact.

  A chart row can be promoted after its own interval's navigate run: rows quarantined only for a
  missing parent (an order line whose order arrived a day later) are promoted by a later batch's
  promotion and keep their original `_interval_start`. The interval filter alone would never
  select them again, so an interval run also takes every chart row whose key the fact has not
  loaded. Facts are replaced by key (delete + insert), so this stays idempotent. Without an
  interval (macros/interval_filter.sql) every row is processed anyway, and at parse time (no database) nothing is added.
-#}
{% macro not_yet_loaded(alias, keys) -%}
    {%- set start = atlas_interval()[0] -%}
    {%- if execute and start not in ('', 'None') and load_relation(this) is not none -%}
    or not exists (
        select 1 from {{ this }} as loaded
        where {% for key in keys %}loaded.{{ key }} = {{ alias }}.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
    )
    {%- endif -%}
{%- endmacro %}
