{{ config(materialized='table') }}
-- a waybill in its latest corrected form: the record with the latest received_at
with ranked as (
    select
        *,
        row_number() over (partition by company, waybill_no order by received_at desc, accepted_at desc) as version_rank
    from {{ ref('stg_courier__waybills') }}
)
select
    company || '|' || waybill_no as waybill_key,
    company, waybill_no, accepted_at, received_at,
    {{ local_month('accepted_at') }} as accepted_month,
    origin_area_code,
    case when {{ starts_with('origin_area_code', '6405') }} then substr(origin_area_code, 1, 6) end as origin_county_code,
    {{ starts_with('origin_area_code', '6405') }} as is_origin_in_city,
    dest_country, dest_area_code,
    case
        when dest_country = 'CN' and coalesce({{ starts_with('dest_area_code', '6405') }}, false) then 'LOCAL'
        when dest_country = 'CN' then 'DOMESTIC'
        else 'INTL'
    end as destination_scope,
    weight_g, fee_fen, service, item_category, e_waybill, packaging, pickup_outlet_id,
    order_platform, order_no,
    sender_name_hash, sender_name_masked, sender_phone_hash, sender_phone_masked, sender_address_hash,
    receiver_name_hash, receiver_name_masked, receiver_phone_hash, receiver_phone_masked, receiver_address_hash
from ranked
where version_rank = 1
