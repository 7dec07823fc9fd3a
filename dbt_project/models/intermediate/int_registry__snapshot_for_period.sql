-- which programme-ledger snapshot holds for each month: that month's, or else the latest earlier one
select
    p.period,
    max(l.ledger_month) as ledger_month
from {{ ref('int_periods') }} p
join (select distinct ledger_month from {{ ref('stg_registry__enterprises') }}) l
    on l.ledger_month <= p.period
group by p.period
