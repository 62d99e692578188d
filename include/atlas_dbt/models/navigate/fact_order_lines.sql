{#-
  One row per order line; yearly partitions on order_date; replaced per interval by
  (order_id, line_number). product_key is the surrogate key of the product's current dim_product
  version when the line is loaded (the snapshot runs first in the same DAG run).
  Reads the generated staging model of shop.order_lines. The depends_on hints order fact_orders
  first, so the relationships test of a line to its order never runs before the order is
  loaded, and the current state navigate.shop__order_lines with its tests (the YAML's rules).
-#}
-- depends_on: {{ ref('fact_orders') }}
-- depends_on: {{ ref('shop__order_lines') }}
{{ config(
    unique_key=['order_id', 'line_number'],
    partition_by='order_date',
    tags=['source_shop'],
) }}

select
    lines.order_id,
    lines.line_number,
    lines.product_id,
    products.product_key,
    lines.quantity,
    lines.unit_price,
    lines.quantity * lines.unit_price as line_amount,
    lines.order_date,
    lines.updated_at as source_updated_at,
    lines._batch_id,
    lines._interval_start,
    now() as loaded_at
from {{ ref('stg_shop__order_lines') }} as lines
left join {{ ref('dim_product') }} as products
    on products.product_id = lines.product_id
   and products.valid_to is null
where ({{ interval_filter('lines._interval_start') }})
    {{ not_yet_loaded('lines', ['order_id', 'line_number']) }}
