{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='event_key', on_schema_change='fail') }}
-- one row per distinct tracking event (duplicates delivered by the exchange counted once).
-- Incremental: events received within the look-back window are re-applied.
select
    cast(event_key as varchar) as event_key,
    cast(waybill_key as varchar) as waybill_key,
    cast(company as varchar) as company,
    cast(waybill_no as varchar) as waybill_no,
    event_time,
    received_at,
    cast({{ local_month('event_time') }} as varchar) as event_month,
    cast(state as integer) as state,
    cast(sub_state as integer) as sub_state,
    cast(area_code as varchar) as area_code,
    cast(area_name as varchar) as area_name,
    cast(outlet_id as varchar) as outlet_id,
    cast(context as varchar) as context,
    cast(coalesce({{ starts_with('area_code', '6405') }}, false) as boolean) as is_in_city
from {{ ref('int_courier__events_deduplicated') }}
{% if is_incremental() %}
where received_at >= {{ lookback_cutoff('received_at', this) }}
{% endif %}
