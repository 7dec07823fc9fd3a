-- which county outlet ledger holds for each month and county: that month's, or else the latest earlier one
select
    p.period,
    l.county_code,
    max(l.ledger_month) as ledger_month
from {{ ref('int_periods') }} p
join (select distinct county_code, ledger_month from {{ ref('stg_outlets__outlets') }}) l
    on l.ledger_month <= p.period
group by p.period, l.county_code
