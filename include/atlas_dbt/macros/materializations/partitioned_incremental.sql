{#-
  partitioned_incremental: a table range-partitioned on a business date, loaded by delete + insert
  on its unique key for the rows of the run.

  Why a custom materialization: dbt-postgres creates tables with CREATE TABLE AS, which cannot
  declare partitioning, and no well-kept dbt package does declarative partitioning for PostgreSQL
  (the packages that tried are unmaintained or only manage the old inheritance scheme). This one
  is small and does only what Atlas needs:

    1. stage the model's rows (already filtered to the run's data interval) in a temp table;
    2. create the partitioned parent if it is missing (`LIKE` the staging table, PARTITION BY
       RANGE on `partition_by`, primary key = unique_key + partition column, since PostgreSQL
       requires the partition key in every unique constraint of a partitioned table);
    3. ensure the partitions the staged rows need with pipeline.ensure_partitions (migration
       V003; yearly `<table>_pYYYY`, bounds in UTC; there is no default partition);
    4. in one transaction, delete the target rows whose unique key is staged (in any partition:
       a row whose business date moved leaves its old partition) and insert the staged rows.

  Re-running an interval therefore replaces its rows and never duplicates them. With
  --full-refresh the table is dropped and rebuilt. Columns added to a model later need a
  --full-refresh (the parent's columns are fixed when it is created).

  Config: unique_key (column or list, required), partition_by (column, required),
  partition_grain (month | quarter | year, default year).
-#}
{% materialization partitioned_incremental, adapter='postgres' %}
    {%- set partition_by = config.require('partition_by') -%}
    {%- set grain = config.get('partition_grain', 'year') -%}
    {%- set unique_key = config.require('unique_key') -%}
    {%- set unique_key = [unique_key] if unique_key is string else unique_key -%}
    {%- if grain not in ('month', 'quarter', 'year') -%}
        {{ exceptions.raise_compiler_error("partition_grain must be month, quarter or year, not " ~ grain) }}
    {%- endif -%}

    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing = load_cached_relation(this) -%}
    {%- set staging = make_temp_relation(target_relation, '__stage') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- if existing is not none -%}
        {%- if should_full_refresh() -%}
            {% do adapter.drop_relation(existing) %}
            {%- set existing = none -%}
        {%- elif not atlas_is_partitioned(existing) -%}
            {{ exceptions.raise_compiler_error(
                existing ~ " exists but is not a partitioned table; rebuild it with "
                ~ "`dbt run --full-refresh --select " ~ model.name ~ "`") }}
        {%- endif -%}
    {%- endif -%}

    {% call statement('stage') -%}
        create temporary table {{ staging }} as (
            {{ sql }}
        )
    {%- endcall %}

    {% if existing is none %}
        {% call statement('create_parent') -%}
            create table {{ target_relation }} (like {{ staging }})
                partition by range ({{ adapter.quote(partition_by) }});
            alter table {{ target_relation }} add primary key (
                {%- for column in unique_key %}{{ adapter.quote(column) }}, {% endfor -%}
                {{ adapter.quote(partition_by) }});
        {%- endcall %}
    {% endif %}

    {#- UTC for this transaction: a date partition key becomes midnight UTC, the bound the
        partition function uses, whatever the server's TimeZone. -#}
    {% call statement('ensure_partitions') -%}
        set local time zone 'UTC';
        select pipeline.ensure_partitions(
                   '{{ target_relation }}'::regclass, '{{ grain }}', bounds.lo, bounds.hi)
          from (select min({{ adapter.quote(partition_by) }})::timestamptz as lo,
                       max({{ adapter.quote(partition_by) }})::timestamptz as hi
                  from {{ staging }}) as bounds
         where bounds.lo is not null
    {%- endcall %}

    {%- set columns = adapter.get_columns_in_relation(target_relation) -%}
    {%- set column_list = columns | map(attribute='name') | map('string') | list -%}
    {% call statement('main') -%}
        delete from {{ target_relation }} as target
         using (select distinct {% for column in unique_key %}{{ adapter.quote(column) }}{% if not loop.last %}, {% endif %}{% endfor %}
                  from {{ staging }}) as staged
         where {% for column in unique_key %}target.{{ adapter.quote(column) }} = staged.{{ adapter.quote(column) }}{% if not loop.last %} and {% endif %}{% endfor %};
        insert into {{ target_relation }} ({% for c in column_list %}{{ adapter.quote(c) }}{% if not loop.last %}, {% endif %}{% endfor %})
        select {% for c in column_list %}{{ adapter.quote(c) }}{% if not loop.last %}, {% endif %}{% endfor %}
          from {{ staging }}
    {%- endcall %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {% do adapter.commit() %}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {% do persist_docs(target_relation, model) %}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- Whether a relation is a partitioned table (pg_partitioned_table has a row for it). -#}
{% macro atlas_is_partitioned(relation) -%}
    {%- call statement('atlas_is_partitioned', fetch_result=True) -%}
        select count(*) from pg_catalog.pg_partitioned_table
         where partrelid = to_regclass('{{ relation }}')
    {%- endcall -%}
    {{ return(load_result('atlas_is_partitioned').table.rows[0][0] > 0) }}
{%- endmacro %}
