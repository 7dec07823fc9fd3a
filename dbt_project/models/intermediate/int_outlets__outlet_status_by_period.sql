-- each outlet of the ledger holding for the month, with its state flags
select
    period, ledger_month, county_code, outlet_code, outlet_type, area_code, status,
    (status = '运营') as is_active,
    (outlet_type = '电商快递兴农超市') as is_xingnong,
    coalesce(takes_parcels, false) as takes_parcels
from {{ ref('int_outlets__outlets_by_period') }}
