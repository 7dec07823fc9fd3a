-- rename and type only: one row per row of lake table registry_enterprises
select
    cast(ledger_month as varchar) as ledger_month,
    credit_code,
    name,
    county_name,
    cast(county_code as varchar) as county_code,
    enterprise_type,
    settled_in_base,
    cast(settled_on as date) as settled_on,
    is_demo,
    demo_year,
    source_row
from {{ source('lake', 'registry_enterprises') }}
