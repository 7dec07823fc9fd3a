-- one row per order (platform, order_no) in its latest exported state, with whether it counts
-- for the e-commerce indicators (paid, shop registered in the paid month) and the county
with counted as (
    select order_key, credit_code, county_code from {{ ref('int_ecommerce__orders_counted') }}
)
select
    cast(o.order_key as varchar) as order_key,
    cast(o.platform as varchar) as platform,
    cast(o.order_no as varchar) as order_no,
    cast(o.shop_id as varchar) as shop_id,
    cast(o.export_date as date) as export_date,
    cast(o.source_file as varchar) as source_file,
    cast(o.status_raw as varchar) as status_raw,
    cast(o.status as varchar) as status,
    o.created_at,
    o.paid_at,
    o.completed_at,
    o.refunded_at,
    cast(o.paid_month as varchar) as paid_month,
    cast(o.goods_fen as bigint) as goods_fen,
    cast(o.shipping_fen as bigint) as shipping_fen,
    cast(o.paid_fen as bigint) as paid_fen,
    cast(o.refund_fen as bigint) as refund_fen,
    cast(o.refund_requested_fen as bigint) as refund_requested_fen,
    cast(o.paid_fen - coalesce(o.refund_fen, 0) as bigint) as gmv_fen,
    cast(o.channel as varchar) as channel,
    cast(o.is_livestream_order as boolean) as is_livestream_order,
    cast(c.order_key is not null as boolean) as is_counted,
    cast(c.credit_code as varchar) as enterprise_credit_code,
    cast(c.county_code as varchar) as county_code,
    cast(o.province as varchar) as province,
    cast(o.city as varchar) as city,
    cast(o.district as varchar) as district,
    cast(o.ship_to_area_code as varchar) as ship_to_area_code,
    cast(o.express_company as varchar) as express_company,
    cast(o.waybill_no as varchar) as waybill_no,
    cast(o.pickup_outlet_id as varchar) as pickup_outlet_id,
    cast(o.buyer_name_hash as varchar) as buyer_name_hash,
    cast(o.buyer_phone_hash as varchar) as buyer_phone_hash
from {{ ref('int_ecommerce__orders_current') }} o
left join counted c on c.order_key = o.order_key
