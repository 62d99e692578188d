{#-
  The run's data interval as a predicate on a chart column (default `_interval_start`).

  The interval comes from the vars `interval_start` / `interval_end` when given (a manual
  `dbt build --vars …`), else from the environment variables ATLAS_INTERVAL_START /
  ATLAS_INTERVAL_END, which is how the navigate tasks pass the DAG run's data interval
  (atlas.dbt.task_group.INTERVAL_ENV): vars that change with every run would make dbt parse the
  whole project again on every run, while these are read only at execution (`execute`), so dbt's
  partial parse holds from one interval to the next. Chart rows are filtered on `_interval_start`, the interval
  of the batch that promoted them, not on `_promoted_at`: a backfill of an old interval runs with
  that old interval, so the late records it promotes carry it and are picked up by the same run.
  Without an interval (a manual `dbt build`) every chart row is processed; the models are idempotent
  (delete + insert by key, check-strategy snapshots), so that is a full refresh of the content.
  The values are parsed as ISO timestamps before they reach SQL, so they can never inject SQL.
-#}
{% macro interval_filter(column='_interval_start') -%}
    {%- set start, end = atlas_interval() -%}
    {%- if start in ('', 'None') and end in ('', 'None') -%}
        true
    {%- elif start in ('', 'None') or end in ('', 'None') -%}
        {{ exceptions.raise_compiler_error(
            "interval_filter: set both interval_start and interval_end (vars, or ATLAS_INTERVAL_START and ATLAS_INTERVAL_END), or neither (got "
            ~ start ~ " / " ~ end ~ ")") }}
    {%- else -%}
        {%- set lower = atlas_parse_timestamp(start) -%}
        {%- set upper = atlas_parse_timestamp(end) -%}
        {%- if upper < lower -%}
            {{ exceptions.raise_compiler_error("interval_filter: interval_end " ~ end ~ " is before interval_start " ~ start) }}
        {%- elif upper == lower -%}
            {%- do log("interval_filter: empty data interval at " ~ start ~ " (a run without a data interval); no chart row is selected", info=True) -%}
        {%- endif -%}
        {{ column }} >= '{{ lower.isoformat() }}'::timestamptz and {{ column }} < '{{ upper.isoformat() }}'::timestamptz
    {%- endif -%}
{%- endmacro %}


{#- The run's (start, end) as text: the vars when given, else the environment; ('', '') at parse time. -#}
{% macro atlas_interval() -%}
    {%- if not execute -%}
        {{ return(('', '')) }}
    {%- endif -%}
    {%- set start = var('interval_start', '') | string | trim -%}
    {%- set end = var('interval_end', '') | string | trim -%}
    {%- if start in ('', 'None') and end in ('', 'None') -%}
        {%- set start = env_var('ATLAS_INTERVAL_START', '') | trim -%}
        {%- set end = env_var('ATLAS_INTERVAL_END', '') | trim -%}
    {%- endif -%}
    {{ return((start, end)) }}
{%- endmacro %}


{#- An ISO-8601 timestamp with a UTC offset, parsed; anything else is a compile error. -#}
{% macro atlas_parse_timestamp(value) -%}
    {%- set text = value | replace('T', ' ') | replace('Z', '+00:00') -%}
    {%- set parsed = modules.datetime.datetime.fromisoformat(text) if modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+[+-][0-9:]+$', text) else none -%}
    {%- if parsed is none or parsed.tzinfo is none -%}
        {{ exceptions.raise_compiler_error("interval_filter: not an ISO timestamp with a UTC offset: " ~ value) }}
    {%- endif -%}
    {{ return(parsed) }}
{%- endmacro %}
