{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='line_key', on_schema_change='fail') }}
-- one row per order line of every platform, from its order's newest export, with the order's
-- shipping and refund allocated (Douyin refunds stay on their line). Money in fen, unrounded.
-- Incremental: lines of exports within the look-back window are re-applied (later refunds).
select
    cast(line_key as varchar) as line_key,
    cast(order_key as varchar) as order_key,
    cast(platform as varchar) as platform,
    cast(order_no as varchar) as order_no,
    cast(line_no as integer) as line_no,
    cast(sub_order_no as varchar) as sub_order_no,
    cast(export_date as date) as export_date,
    cast(shop_id as varchar) as shop_id,
    cast(product_name as varchar) as product_name,
    cast(product_id as varchar) as product_id,
    cast(category_text as varchar) as category_text,
    cast(canonical_category as varchar) as canonical_category,
    cast(is_agri as boolean) as is_agri,
    cast(qty as bigint) as qty,
    cast(unit_price_fen as bigint) as unit_price_fen,
    cast(amount_fen as bigint) as amount_fen,
    cast(line_refund_fen as bigint) as line_refund_fen,
    cast(amount_share as {{ type_double() }}) as amount_share,
    cast(shipping_alloc_fen as {{ type_double() }}) as shipping_alloc_fen,
    cast(refund_alloc_fen as {{ type_double() }}) as refund_alloc_fen,
    cast(gmv_fen as {{ type_double() }}) as gmv_fen,
    cast(live_room_id as varchar) as live_room_id,
    cast(influencer_id as varchar) as influencer_id,
    cast(traffic_source as varchar) as traffic_source,
    cast(is_livestream as boolean) as is_livestream
from {{ ref('int_ecommerce__order_lines_allocated') }}
{% if is_incremental() %}
where export_date >= (select max(export_date) from {{ this }}) - {{ var('lookback_days') }}
{% endif %}
