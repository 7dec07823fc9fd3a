-- enterprises of the programme-ledger snapshot that holds for each month
select h.period, e.*
from {{ ref('int_registry__snapshot_for_period') }} h
join {{ ref('stg_registry__enterprises') }} e on e.ledger_month = h.ledger_month
