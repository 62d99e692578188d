{#-
  One row per order; yearly partitions on order_date; replaced per interval by order_id.
  Reads the generated staging model of shop.orders; the depends_on hint runs it after the
  current state navigate.shop__orders and its tests (the YAML's rules), so an order that
  fails them never reaches the fact.
-#}
-- depends_on: {{ ref('shop__orders') }}
{{ config(
    unique_key=['order_id'],
    partition_by='order_date',
    tags=['source_shop'],
) }}

select
    orders.order_id,
    orders.customer_id,
    orders.order_date,
    orders.status,
    orders.currency,
    orders.updated_at as source_updated_at,
    orders._batch_id,
    orders._interval_start,
    now() as loaded_at
from {{ ref('stg_shop__orders') }} as orders
where ({{ interval_filter('orders._interval_start') }})
    {{ not_yet_loaded('orders', ['order_id']) }}
