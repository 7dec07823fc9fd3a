-- one row per waybill (company, waybill_no) known from its record or its events:
-- accepted, first 派件 (state 5), first 签收 (state 3) and where/how it was signed
with events as (
    select * from {{ ref('int_courier__events_deduplicated') }}
),
signs as (
    select
        waybill_key, company, waybill_no, event_time as signed_at, area_code as sign_area_code,
        sub_state as sign_sub_state, outlet_id as sign_outlet_id,
        row_number() over (partition by waybill_key order by event_time, received_at, sub_state) as sign_rank
    from events
    where state = 3
),
first_sign as (
    select * from signs where sign_rank = 1
),
dispatch as (
    select waybill_key, min(event_time) as first_dispatch_at
    from events where state = 5 group by waybill_key
),
villages as (
    select code from {{ ref('zhongwei_divisions') }} where level = 'village'
),
keys as (
    select waybill_key, company, waybill_no from {{ ref('int_courier__waybills_latest') }}
    union
    select waybill_key, company, waybill_no from first_sign
    union
    select waybill_key, company, waybill_no from events where state = 5
)
select
    k.waybill_key, k.company, k.waybill_no,
    w.accepted_at, w.accepted_month, w.origin_county_code, coalesce(w.is_origin_in_city, false) as is_origin_in_city,
    d.first_dispatch_at,
    s.signed_at,
    {{ local_month('s.signed_at') }} as signed_month,
    s.sign_area_code, s.sign_sub_state, s.sign_outlet_id,
    coalesce({{ starts_with('s.sign_area_code', '6405') }}, false) as is_signed_in_city,
    case when {{ starts_with('s.sign_area_code', '6405') }} then substr(s.sign_area_code, 1, 6) end as sign_county_code,
    (v.code is not null) as is_rural_sign,
    coalesce(s.sign_sub_state = 304, false) as is_outlet_sign,
    {{ hours_between('w.accepted_at', 's.signed_at') }} as hours_to_sign,
    case when s.signed_at is not null and w.accepted_at is not null
         then {{ hours_between('w.accepted_at', 's.signed_at') }} <= 72 end as is_signed_within_72h
from keys k
left join {{ ref('int_courier__waybills_latest') }} w on w.waybill_key = k.waybill_key
left join first_sign s on s.waybill_key = k.waybill_key
left join dispatch d on d.waybill_key = k.waybill_key
left join villages v on v.code = s.sign_area_code
