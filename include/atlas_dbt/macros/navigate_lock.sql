{#-
  Concurrent runs of one navigate model or snapshot serialise on a transaction-level advisory lock
  named after its relation (`navigate.dim_customer`), the way landing and promotion serialise on
  theirs (atlas.hooks.locks): every model (dbt_project.yml) and generated snapshot takes it in an
  inside-transaction pre-hook, so it is held until the run's table swap, insert or merge commits.
  A second run then rebuilds the table after the first one (instead of failing on its temporary
  table) or finds the first one's versions and adds none. The wait is bounded by lock_timeout ($ATLAS_LOCK_TIMEOUT, default 10min), as for the
  pipeline's other locks. Only the pipeline and admin roles may take advisory locks (sql/V016).
-#}
{% macro navigate_lock(relation) -%}
    {%- set timeout = env_var('ATLAS_LOCK_TIMEOUT', '10min') | trim -%}
    {%- if not modules.re.match('^[0-9]+ ?(us|ms|s|min|h|d)?$', timeout) -%}
        {{ exceptions.raise_compiler_error("ATLAS_LOCK_TIMEOUT is not a PostgreSQL interval like 30s or 10min: " ~ timeout) }}
    {%- endif -%}
    select set_config('lock_timeout', '{{ timeout }}', true),
           pg_advisory_xact_lock(hashtext({{ atlas_sql_literal(relation.schema ~ '.' ~ relation.identifier) }}))
{%- endmacro %}


{#-
  The first-run race: dbt decides whether a model's or snapshot's table exists (create it, or
  replace, insert or merge into it) from its relation cache, filled when the run starts and before
  any pre-hook. Two first runs at once would both plan a CREATE, and the second would fail on the
  first one's table ("relation already exists"). So when the cache has no table for the node
  being built, the lock is taken here, before that decision, and the catalog is read again under
  it: a run that waited behind the one that created the table treats it like any later run does.
  The table, view and partitioned_incremental materializations ask load_cached_relation(this);
  snapshots ask get_or_create_relation. Both are dbt's own macros, overridden here (the root
  project's macro wins) and otherwise unchanged.
-#}
{% macro atlas_created_concurrently(relation) -%}
    {#- Whether the node being built is `relation`, the cache has no table for it, and a concurrent
        run created it: then it is added to the cache. Takes the navigate lock when it looks. -#}
    {%- if not execute or model is not defined or model.get('resource_type') not in ('model', 'snapshot') -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- if (relation.schema, relation.identifier) != (this.schema, this.identifier) -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- call statement('atlas_navigate_lock', auto_begin=true) -%}
        {{ navigate_lock(relation) }}
    {%- endcall -%}
    {%- call statement('atlas_relation_exists', fetch_result=true, auto_begin=true) -%}
        select (select relkind::text from pg_class
                 where oid = to_regclass({{ atlas_sql_literal(relation.include(database=false) | string) }}))
    {%- endcall -%}
    {%- set kind = load_result('atlas_relation_exists')['data'][0][0] -%}
    {%- if kind is none -%}
        {%- do return(false) -%}
    {%- endif -%}
    {%- do log(model.get('resource_type') ~ " " ~ relation ~ " was created by a concurrent run: building on it", info=true) -%}
    {%- set type = {'v': 'view', 'm': 'materialized_view'}.get(kind, 'table') -%}
    {%- do adapter.cache_added(relation.incorporate(type=type)) -%}
    {%- do return(true) -%}
{%- endmacro %}


{% macro load_cached_relation(relation) -%}
    {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if found is none and atlas_created_concurrently(relation.incorporate(type='table')) -%}
        {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- endif -%}
    {%- do return(found) -%}
{%- endmacro %}


{% macro postgres__get_or_create_relation(database, schema, identifier, type) -%}
    {%- set found = adapter.get_relation(database=database, schema=schema, identifier=identifier) -%}
    {%- if found -%}
        {%- do return([true, found]) -%}
    {%- endif -%}
    {%- set relation = api.Relation.create(database=database, schema=schema, identifier=identifier, type=type) -%}
    {%- if atlas_created_concurrently(relation) -%}
        {%- do return([true, relation]) -%}
    {%- endif -%}
    {%- do return([false, relation]) -%}
{%- endmacro %}
