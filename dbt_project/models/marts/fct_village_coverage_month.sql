-- one row per (month, village): covered when an active outlet coded to it takes in and hands out parcels
select
    cast(period as varchar) as period,
    cast(village_code as varchar) as village_code,
    cast(county_code as varchar) as county_code,
    cast(is_covered as boolean) as is_covered
from {{ ref('int_outlets__village_coverage_by_period') }}
