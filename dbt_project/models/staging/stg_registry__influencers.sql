-- rename and type only: one row per row of lake table registry_influencers
select
    cast(ledger_month as varchar) as ledger_month,
    host_id,
    platform,
    nickname,
    org_credit_code,
    cast(started_on as date) as started_on,
    status,
    source_row
from {{ source('lake', 'registry_influencers') }}
