{#-
  One row per helpdesk ticket; yearly partitions on opened_at (UTC). Reads the generated staging
  model of support.tickets, which masks the free-text body by its pii hint in support.yaml; the
  depends_on hint runs it after the current state navigate.support__tickets and its tests.
-#}
-- depends_on: {{ ref('support__tickets') }}
{{ config(
    unique_key=['ticket_id'],
    partition_by='opened_at',
    tags=['source_support'],
) }}

select
    tickets.ticket_id,
    tickets.customer_id,
    tickets.opened_at,
    tickets.channel,
    tickets.priority,
    tickets.status,
    tickets.subject,
    tickets.body,
    tickets.updated_at as source_updated_at,
    tickets._batch_id,
    tickets._interval_start,
    now() as loaded_at
from {{ ref('stg_support__tickets') }} as tickets
where ({{ interval_filter('tickets._interval_start') }})
    {{ not_yet_loaded('tickets', ['ticket_id']) }}
