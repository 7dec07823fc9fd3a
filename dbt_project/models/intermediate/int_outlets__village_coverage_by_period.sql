-- every village (division level village) and month: covered when at least one active outlet
-- coded to the village takes in and hands out parcels
with villages as (
    select code as village_code, county_code from {{ ref('zhongwei_divisions') }} where level = 'village'
),
covered as (
    select distinct period, area_code
    from {{ ref('int_outlets__outlet_status_by_period') }}
    where is_active and takes_parcels
)
select
    p.period, v.village_code, v.county_code,
    (c.area_code is not null) as is_covered
from {{ ref('int_periods') }} p
cross join villages v
left join covered c on c.period = p.period and c.area_code = v.village_code
