-- the months the warehouse holds data for: the continuous range of months between the first
-- and the last ledger snapshot (programme ledger or county outlet ledgers). A month "has data"
-- when it is in this range (YTD and 同比 need it).
with ledger_months as (
    select ledger_month from {{ ref('stg_registry__enterprises') }}
    union
    select ledger_month from {{ ref('stg_outlets__outlets') }}
),
bounds as (
    select min(ledger_month) as first_period, max(ledger_month) as last_period from ledger_months
),
series as (
    {{ month_series("(select first_period from bounds)", "(select last_period from bounds)") }}
)
select
    period,
    cast(substr(period, 1, 4) as integer) as period_year,
    cast(substr(period, 6, 2) as integer) as period_month,
    {{ month_start('period') }} as month_start
from series
