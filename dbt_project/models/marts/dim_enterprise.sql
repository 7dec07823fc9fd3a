-- enterprises of the programme ledger, one row per version (valid_from / valid_to by ledger month)
{%- set attrs = ['name', 'county_code', 'enterprise_type', 'settled_in_base', 'settled_on', 'is_demo', 'demo_year'] %}
with versions as (
    {{ scd_by_ledger_month(ref('stg_registry__enterprises'), ['credit_code'], attrs) }}
)
select
    cast(credit_code || '@' || valid_from as varchar) as enterprise_version_key,
    cast(credit_code as varchar) as credit_code,
    cast(name as varchar) as enterprise_name,
    cast(county_name as varchar) as county_name,
    cast(county_code as varchar) as county_code,
    cast(enterprise_type as varchar) as enterprise_type,
    cast(settled_in_base as boolean) as settled_in_base,
    cast(settled_on as date) as settled_on,
    cast(is_demo as boolean) as is_demo,
    cast(demo_year as integer) as demo_year,
    cast(valid_from as varchar) as valid_from,
    cast(valid_to as varchar) as valid_to,
    cast(is_current as boolean) as is_current
from versions
