-- rename and type only: one row per row of lake table courier_events
select
    company,
    waybill_no,
    event_time,
    received_at,
    cast(state as integer) as state,
    cast(sub_state as integer) as sub_state,
    area_code,
    area_name,
    outlet_id,
    context
from {{ source('lake', 'courier_events') }}
