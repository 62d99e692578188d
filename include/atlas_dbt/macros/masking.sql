{#-
  Personal data in navigate is masked per its classification: the analyst role (atlas_read)
  reads navigate only and never sees unmasked values. The masking itself lives in the warehouse
  (`compliance.mask(value text, entity text)`, migration V002) so SQL and Python share it; the
  entity is the column's `pii` hint from the source YAML (PERSON, EMAIL_ADDRESS, PHONE_NUMBER,
  LOCATION, DATE_TIME ...). The result is text (a masked date of birth reads `1984-**-**`).
-#}
{% macro mask_pii(column, entity) -%}
    compliance.mask(({{ column }})::text, '{{ entity | upper | replace("'", "") }}')
{%- endmacro %}


{#-
  md5 of the business attributes, computed on the UNMASKED values so that a change hidden by the
  mask (a new street, a new first name with the same initial) still creates a new SCD2 version.
  A row constructor's text form keeps NULL and '' apart and never shifts values between
  columns (unlike concat_ws, which skips NULLs).
-#}
{% macro change_hash(columns) -%}
    md5(row({% for column in columns %}({{ column }})::text{% if not loop.last %}, {% endif %}{% endfor %})::text)
{%- endmacro %}


{#-
  Post-hook of the SCD2 snapshots: `is_current` as a stored generated column. dbt snapshots have
  no such meta column; a generated column is always consistent with valid_to, and dbt snapshot
  keeps working on later runs because it builds its staging table from the snapshot query and
  inserts only the staging columns (a column it does not know is left alone). IF NOT EXISTS makes
  the hook a no-op after the first run.
-#}
{% macro add_is_current(relation) -%}
    alter table {{ relation }}
        add column if not exists is_current boolean generated always as (valid_to is null) stored
{%- endmacro %}
