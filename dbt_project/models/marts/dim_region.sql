-- the administrative divisions of Zhongwei; the city and its three counties are the indicator regions
select
    cast(substr(code, 1, 6) as varchar) as region_code_6,
    cast(code as varchar) as division_code,
    case when level in ('city', 'county') then cast(substr(code, 1, 6) as varchar) else cast(code as varchar) end as region_code,
    cast(name as varchar) as region_name,
    cast(level as varchar) as level,
    cast(parent_code as varchar) as parent_code,
    cast(county_code as varchar) as county_code,
    cast(urban_rural_code as varchar) as urban_rural_code,
    (level = 'village') as is_village,
    (level in ('city', 'county')) as is_indicator_region
from {{ ref('zhongwei_divisions') }}
