{#- One row per helpdesk ticket; yearly partitions on opened_at (UTC); the free-text body is masked. -#}
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
    {{ mask_pii('tickets.body', 'PERSON') }} as body,
    tickets.updated_at as source_updated_at,
    tickets._batch_id,
    tickets._interval_start,
    now() as loaded_at
from {{ source('chart', 'support__tickets') }} as tickets
where ({{ interval_filter('tickets._interval_start') }})
    {{ not_yet_loaded('tickets', ['ticket_id']) }}
