-- outlets of the county ledgers, one row per version (valid_from / valid_to by ledger month)
{%- set attrs = ['outlet_name', 'outlet_type', 'township_name', 'village_name', 'area_code', 'operator_name',
                 'operator_credit_code', 'takes_parcels', 'sells_agri', 'opened_on', 'status'] %}
with versions as (
    {{ scd_by_ledger_month(ref('stg_outlets__outlets'), ['county_code', 'outlet_code'], attrs, ['county_code']) }}
)
select
    cast(outlet_code || '@' || valid_from as varchar) as outlet_version_key,
    cast(outlet_code as varchar) as outlet_code,
    cast(county_code as varchar) as county_code,
    cast(outlet_name as varchar) as outlet_name,
    cast(outlet_type as varchar) as outlet_type,
    cast(township_name as varchar) as township_name,
    cast(village_name as varchar) as village_name,
    cast(area_code as varchar) as area_code,
    cast(lng as {{ type_double() }}) as lng,
    cast(lat as {{ type_double() }}) as lat,
    cast(operator_name as varchar) as operator_name,
    cast(operator_credit_code as varchar) as operator_credit_code,
    cast(takes_parcels as boolean) as takes_parcels,
    cast(sells_agri as boolean) as sells_agri,
    cast(opened_on as date) as opened_on,
    cast(status as varchar) as status,
    cast(status = '运营' as boolean) as is_active,
    cast(keeper_name_masked as varchar) as keeper_name_masked,
    cast(keeper_phone_masked as varchar) as keeper_phone_masked,
    cast(valid_from as varchar) as valid_from,
    cast(valid_to as varchar) as valid_to,
    cast(is_current as boolean) as is_current
from versions
