-- rename and type only: one row per row of lake table registry_enterprise_shops
select
    cast(ledger_month as varchar) as ledger_month,
    credit_code,
    platform,
    shop_id
from {{ source('lake', 'registry_enterprise_shops') }}
