-- orders that count for the e-commerce indicators: paid, and of a shop registered in the
-- paid month (programme-ledger snapshot holding for that month); county = the enterprise's
select
    o.*,
    r.credit_code,
    r.county_code,
    o.paid_fen - coalesce(o.refund_fen, 0) as gmv_fen
from {{ ref('int_ecommerce__orders_current') }} o
join {{ ref('int_registry__shops_by_period') }} r
    on r.period = o.paid_month and r.platform = o.platform and r.shop_id = o.shop_id
where o.paid_at is not null
