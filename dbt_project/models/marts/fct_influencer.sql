-- one row per livestream host under incubation, as listed in the latest programme-ledger snapshot
with ranked as (
    select i.*, row_number() over (partition by host_id order by ledger_month desc, platform) as snapshot_rank
    from {{ ref('stg_registry__influencers') }} i
)
select
    cast(host_id as varchar) as host_id,
    cast(ledger_month as varchar) as ledger_month,
    cast(platform as varchar) as platform,
    cast(nickname as varchar) as nickname,
    cast(org_credit_code as varchar) as org_credit_code,
    cast(started_on as date) as started_on,
    cast({{ month_of_date('started_on') }} as varchar) as start_month,
    cast(status as varchar) as status,
    cast(coalesce(status, '') <> '退出' as boolean) as counts_as_incubated
from ranked
where snapshot_rank = 1
