{#-
  SCD Type 2 dimension of shop products; a new version when the md5 of the business attributes
  changes (a price change is a new version, a re-run with unchanged data is not).
  valid_from is when the snapshot saw the change, not the source's updated_at: sources change
  attributes without bumping updated_at, and a check-strategy snapshot keyed on updated_at would
  then write a zero-length version (tests/include/atlas_dbt: changed attribute, same updated_at).
-#}
{% snapshot dim_product %}
{{ config(
    unique_key='product_id',
    strategy='check',
    check_cols=['change_hash'],
    tags=['source_shop'],
    snapshot_meta_column_names={
        'dbt_valid_from': 'valid_from',
        'dbt_valid_to': 'valid_to',
        'dbt_scd_id': 'product_key',
        'dbt_updated_at': 'snapshotted_at',
    },
    post_hook=["{{ add_is_current(this) }}"],
) }}

select
    product_id,
    sku,
    name,
    category,
    unit_price,
    updated_at as source_updated_at,
    {{ change_hash(['sku', 'name', 'category', 'unit_price']) }} as change_hash,
    _batch_id
from {{ source('chart', 'shop__products') }}
where {{ interval_filter('_interval_start') }}

{% endsnapshot %}
