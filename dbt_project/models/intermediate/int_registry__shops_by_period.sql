-- shops (platform, shop_id) registered in each month, with their enterprise and its county
select distinct
    h.period,
    s.platform,
    s.shop_id,
    s.credit_code,
    e.county_code
from {{ ref('int_registry__snapshot_for_period') }} h
join {{ ref('stg_registry__enterprise_shops') }} s on s.ledger_month = h.ledger_month
join {{ ref('stg_registry__enterprises') }} e
    on e.ledger_month = s.ledger_month and e.credit_code = s.credit_code
