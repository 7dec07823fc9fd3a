{{ config(materialized='table') }}
-- an order in its latest exported state: the row from the newest export that holds it
with ranked as (
    select
        *,
        row_number() over (
            partition by platform, order_no
            order by export_date desc, source_file desc, source_row desc
        ) as export_rank
    from {{ ref('stg_ecommerce__orders') }} o
    where not exists (
        select 1 from {{ ref('int_ecommerce__incomplete_order_exports') }} x
        where x.platform = o.platform and x.order_no = o.order_no and x.export_date = o.export_date
    )
)
select
    platform || '|' || order_no as order_key,
    platform, order_no, shop_id, export_date, source_file, source_row, status_raw, status,
    created_at, paid_at, completed_at,
    {{ local_month('paid_at') }} as paid_month,
    goods_fen, shipping_fen, paid_fen, refund_fen, refund_requested_fen, refunded_at,
    channel, is_livestream_order,
    buyer_name_hash, buyer_name_masked, member_name_hash, buyer_phone_hash, buyer_phone_masked, address_hash,
    province, city, district, ship_to_area_code, express_company, waybill_no, pickup_outlet_id
from ranked
where export_rank = 1
