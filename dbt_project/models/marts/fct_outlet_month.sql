-- one row per (month, outlet) of the county ledger that holds for the month
select
    cast(o.period as varchar) as period,
    cast(o.county_code as varchar) as county_code,
    cast(o.outlet_code as varchar) as outlet_code,
    cast(o.ledger_month as varchar) as ledger_month,
    cast(o.outlet_type as varchar) as outlet_type,
    cast(o.area_code as varchar) as area_code,
    cast(o.status as varchar) as status,
    cast(o.is_active as boolean) as is_active,
    cast(o.is_xingnong as boolean) as is_xingnong,
    cast(o.takes_parcels as boolean) as takes_parcels
from {{ ref('int_outlets__outlet_status_by_period') }} o
