{{ config(materialized='table') }}
-- the lines of every platform in one shape, from the same (newest) export as their order,
-- with the order's shipping and refund shared in proportion to the lines' amounts
-- (a Douyin refund is per line and stays on its line). Money is not rounded.
with orders as (
    select * from {{ ref('int_ecommerce__orders_current') }}
),
lines as (
    select l.*
    from {{ ref('stg_ecommerce__order_lines') }} l
    join orders o on o.platform = l.platform and o.order_no = l.order_no and o.export_date = l.export_date
),
shares as (
    select
        l.*,
        sum(l.amount_fen) over (partition by l.platform, l.order_no) as order_lines_fen
    from lines l
)
select
    s.platform || '|' || s.order_no || '|' || cast(s.line_no as varchar) as line_key,
    o.order_key,
    s.platform, s.order_no, s.line_no, s.sub_order_no, s.export_date,
    s.product_name, s.product_id, s.category_text,
    coalesce(c.is_agri, false) as is_agri,
    c.canonical_category,
    s.qty, s.unit_price_fen, s.amount_fen, s.line_refund_fen,
    s.live_room_id, s.influencer_id, s.traffic_source,
    o.shop_id, o.paid_at, o.paid_month, o.channel,
    cast(s.amount_fen as {{ type_double() }}) / nullif(s.order_lines_fen, 0) as amount_share,
    cast(o.shipping_fen as {{ type_double() }}) * s.amount_fen / nullif(s.order_lines_fen, 0) as shipping_alloc_fen,
    case
        when s.platform = 'DOUYIN' then cast(coalesce(s.line_refund_fen, 0) as {{ type_double() }})
        else cast(coalesce(o.refund_fen, 0) as {{ type_double() }}) * s.amount_fen / nullif(s.order_lines_fen, 0)
    end as refund_alloc_fen,
    s.amount_fen
        + coalesce(cast(o.shipping_fen as {{ type_double() }}) * s.amount_fen / nullif(s.order_lines_fen, 0), 0)
        - case
            when s.platform = 'DOUYIN' then cast(coalesce(s.line_refund_fen, 0) as {{ type_double() }})
            else coalesce(cast(coalesce(o.refund_fen, 0) as {{ type_double() }}) * s.amount_fen / nullif(s.order_lines_fen, 0), 0)
          end as gmv_fen,
    (s.platform = 'DOUYIN' and s.live_room_id is not null)
        or (s.platform = 'ZWYP' and o.channel = 'livestream') as is_livestream
from shares s
join orders o on o.platform = s.platform and o.order_no = s.order_no
left join {{ ref('category_map') }} c on c.category_text = s.category_text
