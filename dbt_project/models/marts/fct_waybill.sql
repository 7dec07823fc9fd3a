{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='waybill_key', on_schema_change='fail') }}
-- one row per waybill (company, waybill_no) in its latest corrected form. Incremental: waybill
-- records received within the look-back window (var lookback_days) are re-applied, so a late
-- correction replaces the earlier version; a full refresh gives the same table.
select
    cast(waybill_key as varchar) as waybill_key,
    cast(company as varchar) as company,
    cast(waybill_no as varchar) as waybill_no,
    accepted_at,
    received_at,
    cast(accepted_month as varchar) as accepted_month,
    cast(origin_area_code as varchar) as origin_area_code,
    cast(origin_county_code as varchar) as origin_county_code,
    cast(is_origin_in_city as boolean) as is_origin_in_city,
    cast(dest_country as varchar) as dest_country,
    cast(dest_area_code as varchar) as dest_area_code,
    cast(destination_scope as varchar) as destination_scope,
    cast(weight_g as bigint) as weight_g,
    cast(fee_fen as bigint) as fee_fen,
    cast(service as varchar) as service,
    cast(item_category as varchar) as item_category,
    cast(e_waybill as boolean) as e_waybill,
    cast(packaging as varchar) as packaging,
    cast(pickup_outlet_id as varchar) as pickup_outlet_id,
    cast(order_platform as varchar) as order_platform,
    cast(order_no as varchar) as order_no,
    cast(sender_name_hash as varchar) as sender_name_hash,
    cast(sender_name_masked as varchar) as sender_name_masked,
    cast(sender_phone_hash as varchar) as sender_phone_hash,
    cast(sender_phone_masked as varchar) as sender_phone_masked,
    cast(receiver_name_hash as varchar) as receiver_name_hash,
    cast(receiver_name_masked as varchar) as receiver_name_masked,
    cast(receiver_phone_hash as varchar) as receiver_phone_hash,
    cast(receiver_phone_masked as varchar) as receiver_phone_masked
from {{ ref('int_courier__waybills_latest') }}
{% if is_incremental() %}
where received_at >= {{ lookback_cutoff('received_at', this) }}
{% endif %}
