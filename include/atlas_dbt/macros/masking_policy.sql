{#-
  A change of a column's masking policy (its classification or PII entity in the source YAML, or
  undeclared personal data a scan found under `pii.on_undeclared: mask_and_alert`) re-masks
  navigate on the next run and is audited. Pre-hook of the generated current states and SCD2
  snapshots: the policy each column has now (`column_policy`: the YAML's meta and the scans'
  detections) is compared with the one the last run registered in the data-asset inventory
  (compliance.data_assets, written by `register_columns` after each build). For each column that
  changed, one `masking.policy_change` entry goes to compliance.audit_log (old and new
  classification, entity and masking; the relation's rows; the DAG run, `atlas_audit_run`). A current state is rebuilt by the run
  anyway; a snapshot (`rewrite=true`) also rewrites the column in every version it holds, from the
  raw payload of the explore.raw_data row the version came from (`_raw_id`, the column's
  `raw_text` meta: the payload's value as promotion normalises it), so history rows show what the
  policy allows now, never more. A version whose raw row is gone (archived past retention, or
  written before snapshots kept `_raw_id`) keeps a value only when the stored one was shown as is
  and can be masked in place; otherwise it is withheld (NULL). A column turning masked changes to
  text first (a mask is text), so the snapshot's own insert of masked values then fits.
  The first run of a relation (nothing registered yet) changes nothing.
-#}
{% macro apply_masking_policy(relation, rewrite=false) -%}
    {%- if execute -%}
        {%- set wanted = {} -%}
        {%- for name, entry in model.get('columns', {}).items() -%}
            {%- set meta = entry.get('config', {}).get('meta') or {} -%}
            {%- if meta.get('classification') -%}
                {%- do wanted.update({name: {'meta': meta, 'policy': column_policy(meta, name)}}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set schema = relation.schema -%}
        {%- set table = relation.identifier -%}
        {%- set changed = [] -%}
        {%- if wanted -%}
            {%- set found = run_query(
                "select c.name, a.classification, a.pii_entity, a.masking, compliance.masking(c.masked_as, c.cls)"
                ~ " from (values "
                ~ atlas_policy_rows(wanted)
                ~ ") as c(name, cls, pii, masked_as)"
                ~ " join compliance.data_assets as a on a.schema_name = " ~ atlas_sql_literal(schema)
                ~ " and a.table_name = " ~ atlas_sql_literal(table) ~ " and a.column_name = c.name"
                ~ " where to_regclass(" ~ atlas_sql_literal(schema ~ '.' ~ table) ~ ") is not null"
                ~ " and (a.classification, a.pii_entity, a.masking)"
                ~ " is distinct from (c.cls, c.pii, compliance.masking(c.masked_as, c.cls))"
                ~ " order by c.name") -%}
            {%- for row in found.rows -%}
                {%- do changed.append(row) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if changed -%}
            {%- set catalog = {} -%}
            {%- for column in adapter.get_columns_in_relation(relation) -%}
                {%- do catalog.update({column.name: column.data_type}) -%}
            {%- endfor %}
select pipeline.ensure_partition('compliance.audit_log', 'quarter', now());
            {%- for row in changed -%}
                {%- set name = row[0] -%}
                {%- set meta = wanted[name]['meta'] -%}
                {%- set policy = wanted[name]['policy'] -%}
                {%- set column = adapter.quote(name) -%}
                {%- if rewrite and meta.get('raw_text') and name in catalog -%}
                    {%- set withheld_type = policy['detected'] and meta.get('data_type', 'text') != 'text' -%}
                    {%- set as_text = policy['classification'] == 'confidential' and not withheld_type -%}
                    {%- set column_type = 'text' if as_text else catalog[name] -%}
                    {%- set cast = '' if column_type in ('text', 'character varying') else '::' ~ column_type -%}
                    {%- if as_text and catalog[name] not in ('text', 'character varying') %}
alter table {{ relation }} alter column {{ column }} type text using {{ column }}::text;
                    {%- endif %}
                    {%- set shown_as_is = row[3] is not none and row[3].startswith('none') -%}
                    {%- if '_raw_id' in catalog %}
update {{ relation }} as h
   set {{ column }} = ({{ atlas_masked(meta['raw_text'], policy, withheld_type) }}){{ cast }}
  from explore.raw_data as r
 where r.raw_id = h."_raw_id";
update {{ relation }} as h
   set {{ column }} = ({{ atlas_masked('h.' ~ column ~ '::text', policy, withheld_type) if shown_as_is else 'null' }}){{ cast }}
 where h."_raw_id" is null
    or not exists (select 1 from explore.raw_data as r where r.raw_id = h."_raw_id");
                    {%- else %}
update {{ relation }} as h
   set {{ column }} = ({{ atlas_masked('h.' ~ column ~ '::text', policy, withheld_type) if shown_as_is else 'null' }}){{ cast }};
                    {%- endif -%}
                {%- endif %}
insert into compliance.audit_log (action, object_schema, object_name, dag_id, run_id, task_id, rows_affected, details)
select 'masking.policy_change', {{ atlas_sql_literal(schema) }}, {{ atlas_sql_literal(table) }}, {{ atlas_audit_run() }}, count(*),
       jsonb_build_object(
           'column', {{ atlas_sql_literal(name) }},
           'rewritten', {{ 'true' if rewrite else 'false' }},
           'old', jsonb_build_object('classification', {{ atlas_sql_literal(row[1]) }},
                                     'pii_entity', {{ atlas_sql_literal(row[2]) }},
                                     'masking', {{ atlas_sql_literal(row[3]) }}),
           'new', jsonb_build_object('classification', {{ atlas_sql_literal(policy['classification']) }},
                                     'pii_entity', {{ atlas_sql_literal(policy['pii']) }},
                                     'masking', {{ atlas_sql_literal(row[4]) }}))
  from {{ relation }};
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The VALUES rows (name, classification, PII entity, masked-as entity) of the columns' policies. -#}
{% macro atlas_policy_rows(wanted) -%}
    {%- for name, item in wanted.items() -%}
        ({{ atlas_sql_literal(name) }}::text, {{ atlas_sql_literal(item['policy']['classification']) }}::text,
         {{ atlas_sql_literal(item['policy']['pii']) }}::text, {{ atlas_sql_literal(item['policy']['masked_as']) }}::text)
        {{- ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}


{#- SQL of the text `value` as the policy shows it: compliance.mask, or NULL for a non-text column
    withheld because a scan found personal data in it (as mask_if_detected does). -#}
{% macro atlas_masked(value, policy, withheld_type) -%}
    {%- if withheld_type -%}
    null
    {%- else -%}
    compliance.mask({{ value }}, {{ atlas_sql_literal(policy['masked_as']) }}, {{ atlas_sql_literal(policy['classification']) }})
    {%- endif -%}
{%- endmacro %}


{#-
  What navigate shows of a column now: its classification, PII entity and the entity it is masked
  as, from its meta (the source YAML), unless it is a column the YAML declares nothing about and a
  scan found undeclared personal data in it (`masked_if_detected_in`): then confidential, masked
  as the entity found (`detected`). register_columns and apply_masking_policy both ask this.
-#}
{% macro column_policy(meta, name) -%}
    {%- set policy = {
        'classification': meta.get('classification', 'internal'),
        'pii': meta.get('pii'),
        'masked_as': meta.get('masked_as'),
        'detected': false,
    } -%}
    {%- if meta.get('masked_if_detected_in') -%}
        {%- set found = undeclared_pii_entity(meta['masked_if_detected_in'], name) -%}
        {%- if found is not none -%}
            {%- do policy.update({'classification': 'confidential', 'pii': found, 'masked_as': found, 'detected': true}) -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(policy) }}
{%- endmacro %}


{#-
  The DAG run, as the SQL literals (dag_id, run_id, task_id) of an audit entry dbt writes: the
  navigate task's environment (ATLAS_DAG_ID / ATLAS_RUN_ID / ATLAS_TASK_ID, atlas.dbt.task_group.RUN_ENV;
  environment variables, not vars, so dbt's partial parse survives), null each outside a DAG run.
-#}
{% macro atlas_audit_run() -%}
    {%- set names = ['ATLAS_DAG_ID', 'ATLAS_RUN_ID', 'ATLAS_TASK_ID'] -%}
    {%- for name in names -%}
        {{ atlas_sql_literal((env_var(name, '') | trim) or none) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
