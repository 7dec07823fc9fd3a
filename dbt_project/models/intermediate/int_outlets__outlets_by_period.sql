-- outlets of each county's ledger that holds for each month
select h.period, o.*
from {{ ref('int_outlets__snapshot_for_period') }} h
join {{ ref('stg_outlets__outlets') }} o on o.ledger_month = h.ledger_month and o.county_code = h.county_code
