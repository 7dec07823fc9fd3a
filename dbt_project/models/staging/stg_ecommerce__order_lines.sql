-- rename and type only: one row per row of lake table ecommerce_order_lines
select
    platform,
    order_no,
    line_no,
    sub_order_no,
    cast(export_date as date) as export_date,
    product_name,
    product_id,
    category_text,
    qty,
    unit_price_fen,
    amount_fen,
    line_refund_fen,
    live_room_id,
    influencer_id,
    traffic_source
from {{ source('lake', 'ecommerce_order_lines') }}
