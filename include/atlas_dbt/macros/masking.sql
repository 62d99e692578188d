{#-
  Personal data in navigate is masked per its classification: the analyst role (atlas_read)
  reads navigate only and never sees unmasked values. The masking itself lives in the warehouse,
  in one function (`compliance.mask(value text, entity text, classification text)`, migration
  V018): confidential values generalised (a date of birth to its decade, a postal code to its
  first two characters) or redacted to `***`, restricted and special-category values withheld
  (NULL). The entity is the column's `pii` hint from the source YAML (PERSON, EMAIL_ADDRESS,
  POSTAL_CODE, DATE_TIME ...), `FREE_TEXT` for a `free_text` column. The result is text.
-#}
{% macro mask_pii(column, entity, classification='confidential') -%}
    compliance.mask(({{ column }})::text, '{{ entity | upper | replace("'", "") }}', '{{ classification | lower | replace("'", "") }}')
{%- endmacro %}


{#-
  A confidential free-text column (a ticket's subject or body): the text the pii stage anonymised
  with presidio-anonymizer, each entity found replaced with <ENTITY_TYPE> (atlas.pii.anonymize,
  chart.anonymised_text, migration V024), found by the chart row's `_raw_id`; `***` (what
  compliance.mask shows of FREE_TEXT) for a row the stage has not anonymised; NULL where chart
  holds NULL (an empty field the promotion stored as NULL).
-#}
{% macro anonymised_free_text(column, name) -%}
    case when {{ column }} is not null then coalesce(
        (select a.anonymised from chart.anonymised_text as a where a.raw_id = "_raw_id" and a.column_name = {{ atlas_sql_literal(name) }}),
        compliance.mask(({{ column }})::text, 'FREE_TEXT', 'confidential')) end
{%- endmacro %}


{#-
  A column the YAML declares no personal data in, under `pii.on_undeclared: mask_and_alert`
  (atlas.dbt.rules.detection_masked): masked as confidential by the entity the PII scan found in it
  once any scan of chart.<table> has found undeclared personal data there, else passed on. Decided
  when the model runs (the detections are read at execution, not at parse time), so the first dbt
  run after the detection masks it, every row of the current state included. A text column gets
  compliance.mask (so an identifier its keyed pseudonym); a column of another type (a date) is
  withheld as NULL of its type, since a mask is text and a snapshot column keeps its type.
-#}
{% macro mask_if_detected(column, table, name, data_type) -%}
    {%- set entity = undeclared_pii_entity(table, name) -%}
    {%- if entity is none -%}
    {{ column }}
    {%- elif data_type == 'text' -%}
    compliance.mask(({{ column }})::text, {{ atlas_sql_literal(entity) }}, 'confidential')
    {%- else -%}
    null::{{ data_type }}
    {%- endif -%}
{%- endmacro %}


{#- The entity of the undeclared personal data the scans found in chart.<table>.<name> (the one found
    in most values), or none: compliance.pii_detections, read at execution only. -#}
{% macro undeclared_pii_entity(table, name) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        "select presidio_entity from compliance.pii_detections"
        ~ " where schema_name = 'chart' and table_name = " ~ atlas_sql_literal(table)
        ~ " and column_name = " ~ atlas_sql_literal(name) ~ " and not declared"
        ~ " order by rows_matched desc, detected_at desc, presidio_entity limit 1") -%}
    {{ return(found.columns[0].values()[0] if found | length > 0 else none) }}
{%- endmacro %}


{#-
  Keyed hash (HMAC-SHA256 under a key that never leaves the database) of the business attributes,
  computed on the UNMASKED values so that a change hidden by the mask (a new street, a new first
  name) still creates a new SCD2 version. Keyed, because an unkeyed digest of the attributes lets
  whoever reads navigate confirm a guessed identity; the read role may not call the function.
  The hash is one SQL function, `pipeline.change_hash(row(...))` (migration V030), which
  erasure calls too (atlas.dsr.erase) when it recomputes an erased version's hash: it hashes the
  text form of row(attributes), which keeps NULL and '' apart and never shifts values between
  columns (unlike concat_ws, which skips NULLs). Each attribute is cast to text here.
-#}
{% macro change_hash(columns) -%}
    pipeline.change_hash(row({% for column in columns %}({{ column }})::text{% if not loop.last %}, {% endif %}{% endfor %}))
{%- endmacro %}


{#-
  Post-hook of the SCD2 snapshots: `is_current` as a stored generated column. dbt snapshots have
  no such meta column; a generated column is always consistent with valid_to, and dbt snapshot
  keeps working on later runs because it builds its staging table from the snapshot query and
  inserts only the staging columns (a column it does not know is left alone). The catalog is
  read first and the ALTER (ACCESS EXCLUSIVE on the table) is issued only when the column is
  missing, i.e. on the run that creates the table: a normal run takes no lock an analyst's
  SELECT would wait for.
-#}
{% macro add_is_current(relation) -%}
    {%- if execute -%}
        {%- set found = run_query(
            "select 1 from pg_catalog.pg_attribute where attrelid = to_regclass("
            ~ atlas_sql_literal(relation.include(database=false) | string)
            ~ ") and attname = 'is_current' and not attisdropped") -%}
        {%- if found | length == 0 -%}
    alter table {{ relation }}
        add column if not exists is_current boolean generated always as (valid_to is null) stored
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- A SQL string literal ('' doubled; standard_conforming_strings keeps backslashes literal), or null. -#}
{% macro atlas_sql_literal(value) -%}
    {%- if value is none -%}null{%- else -%}'{{ value | string | replace("'", "''") }}'{%- endif -%}
{%- endmacro %}
