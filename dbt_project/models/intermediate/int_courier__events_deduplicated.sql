{{ config(materialized='table') }}
-- one row per distinct tracking event: an event delivered twice (same company, waybill, time,
-- state, sub-state and place; null sub-states equal) counts once, keeping the first received copy
with ranked as (
    select
        *,
        row_number() over (
            partition by company, waybill_no, event_time, state, sub_state, area_code
            order by received_at, outlet_id, context
        ) as copy_no
    from {{ ref('stg_courier__events') }}
)
select
    md5(company || '|' || waybill_no || '|' || cast(event_time as varchar) || '|' || cast(state as varchar)
        || '|' || coalesce(cast(sub_state as varchar), '') || '|' || coalesce(area_code, '')) as event_key,
    company || '|' || waybill_no as waybill_key,
    company, waybill_no, event_time, received_at, state, sub_state, area_code, area_name, outlet_id, context
from ranked
where copy_no = 1
