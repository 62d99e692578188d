{#-
  Use a node's custom schema as-is (`navigate`), not dbt's default `<target schema>_<custom>`:
  the warehouse has seven fixed schemas, and the analyst role may read `navigate` only.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
