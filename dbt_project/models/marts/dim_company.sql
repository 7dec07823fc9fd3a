-- express companies (brands) seen on the courier exchange, named as the exchange contract names them
with seen as (
    select company from {{ ref('int_courier__waybills_latest') }}
    union
    select company from {{ ref('int_courier__events_deduplicated') }}
)
select
    cast(seen.company as varchar) as company,
    cast(coalesce(companies.company_name, seen.company) as varchar) as company_name
from seen
left join {{ ref('courier_companies') }} as companies on companies.company = seen.company
where seen.company is not null
