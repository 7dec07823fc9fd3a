-- shops (platform, shop_id) of the programme ledger's enterprises, one row per version
with shops as (
    select s.ledger_month, s.platform, s.shop_id, s.credit_code, e.county_code
    from {{ ref('stg_registry__enterprise_shops') }} s
    left join {{ ref('stg_registry__enterprises') }} e
        on e.ledger_month = s.ledger_month and e.credit_code = s.credit_code
),
versions as (
    {{ scd_by_ledger_month('shops', ['platform', 'shop_id'], ['credit_code', 'county_code']) }}
)
select
    cast(platform || '|' || shop_id || '@' || valid_from as varchar) as shop_version_key,
    cast(platform as varchar) as platform,
    cast(shop_id as varchar) as shop_id,
    cast(credit_code as varchar) as credit_code,
    cast(county_code as varchar) as county_code,
    cast(valid_from as varchar) as valid_from,
    cast(valid_to as varchar) as valid_to,
    cast(is_current as boolean) as is_current
from versions
