{#-
  Post-hook of the generated navigate tables and snapshots: registers every column of `relation`
  in the data-asset inventory (compliance.data_assets), which navigate.data_dictionary shows the
  analyst (sql/V018). What a column is comes from the source YAML through the generated
  properties: the node's meta names its source, entity and owner, each column's meta its
  classification, PII hint and the entity it is masked as (`masked_as`); `masking` is what
  compliance.masking says the analyst sees instead of the value, next to the masking rule itself.
  The columns are those the table has now (the catalog, inside the run's transaction), so a
  column the YAML dropped leaves the inventory in the same commit. A hand-written model (a fact)
  takes the meta of a column of the same name from the nodes it selects from (the generated
  staging models); a column no node describes is registered as internal and unmasked, with no
  description. A column navigate masks because a PII scan found undeclared personal data in it
  (meta `masked_if_detected_in`, macro mask_if_detected) is registered as confidential, with the
  entity found.
-#}
{% macro register_columns(relation) -%}
    {%- if execute -%}
        {%- set nodes = [model] -%}
        {%- for parent in model.get('depends_on', {}).get('nodes', []) if parent in graph.nodes -%}
            {%- do nodes.append(graph.nodes[parent]) -%}
        {%- endfor -%}
        {%- set about = (nodes | map(attribute='config') | selectattr('meta') | map(attribute='meta') | selectattr('source_name') | first) or {} -%}
        {%- set schema = relation.schema -%}
        {%- set table = relation.identifier -%}
        {%- set names = [] -%}
insert into compliance.data_assets as a
    (schema_name, table_name, column_name, classification, pii_entity, source_name, entity_name, owner, description, masking)
values
        {%- for column in adapter.get_columns_in_relation(relation) %}
            {%- set doc = namespace(found={}) -%}
            {%- for node in nodes if not doc.found -%}
                {%- set entry = node.get('columns', {}).get(column.name, {}) -%}
                {%- if entry.get('config', {}).get('meta') -%}
                    {%- set doc.found = entry -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set doc = doc.found -%}
            {%- set meta = doc.get('config', {}).get('meta') or {} -%}
            {%- set policy = column_policy(meta, column.name) -%}
            {%- set classification = policy['classification'] -%}
            {%- set pii = policy['pii'] -%}
            {%- set masked_as = policy['masked_as'] -%}
            {%- do names.append(column.name) %}
    ({{ atlas_sql_literal(schema) }}, {{ atlas_sql_literal(table) }}, {{ atlas_sql_literal(column.name) }},
     {{ atlas_sql_literal(classification) }}, {{ atlas_sql_literal(pii) }},
     {{ atlas_sql_literal(about.get('source_name')) }}, {{ atlas_sql_literal(about.get('entity_name')) }},
     {{ atlas_sql_literal(about.get('owner')) }}, {{ atlas_sql_literal(doc.get('description') or none) }},
     compliance.masking({{ atlas_sql_literal(masked_as) }}, {{ atlas_sql_literal(classification) }})){{ "," if not loop.last }}
        {%- endfor %}
on conflict (schema_name, table_name, column_name) do update
   set classification = excluded.classification, pii_entity = excluded.pii_entity,
       source_name = excluded.source_name, entity_name = excluded.entity_name, owner = excluded.owner,
       description = excluded.description, masking = excluded.masking, updated_at = now()
 where (a.classification, a.pii_entity, a.source_name, a.entity_name, a.owner, a.description, a.masking)
       is distinct from (excluded.classification, excluded.pii_entity, excluded.source_name,
                         excluded.entity_name, excluded.owner, excluded.description, excluded.masking);
delete from compliance.data_assets
 where schema_name = {{ atlas_sql_literal(schema) }} and table_name = {{ atlas_sql_literal(table) }}
   and column_name is not null
   and column_name <> all (array[{% for name in names %}{{ atlas_sql_literal(name) }}{{ ", " if not loop.last }}{% endfor %}]::text[])
    {%- endif -%}
{%- endmacro %}
