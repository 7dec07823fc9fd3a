-- every additive component of the monthly indicators, long: one row per (period, county, component).
-- Indicators are formulas over these components (see macro indicator_definitions and
-- mart_monthly_indicators); city values are sums over the counties, so ratios and CR8 are
-- recomputed from summed numerators / denominators / per-company volumes.
{%- set city = var('city_code') %}
with periods as (
    select period from {{ ref('int_periods') }}
),
parcels as (
    select * from {{ ref('int_courier__parcel_lifecycle') }}
),
waybills as (
    select w.*, p.signed_at, p.is_signed_within_72h
    from {{ ref('int_courier__waybills_latest') }} w
    left join parcels p on p.waybill_key = w.waybill_key
    where w.is_origin_in_city
),
ecom_waybills as (
    -- waybills whose order reference is an order present in the lake of a shop registered in the accepted month
    select w.waybill_key
    from waybills w
    join {{ ref('int_ecommerce__orders_current') }} o on o.platform = w.order_platform and o.order_no = w.order_no
    join {{ ref('int_registry__shops_by_period') }} r
        on r.period = w.accepted_month and r.platform = o.platform and r.shop_id = o.shop_id
),
volume as (
    select
        w.accepted_month as period,
        w.origin_county_code as county_code,
        count(*) as exp_vol,
        sum(case when w.destination_scope = 'LOCAL' then 1 else 0 end) as exp_vol_local,
        sum(case when w.destination_scope = 'DOMESTIC' then 1 else 0 end) as exp_vol_domestic,
        sum(case when w.destination_scope = 'INTL' then 1 else 0 end) as exp_vol_intl,
        sum(w.fee_fen) / 100.0 as exp_rev,
        sum(case when w.item_category = 'agri' and w.destination_scope <> 'LOCAL' then 1 else 0 end) as exp_agri_out,
        sum(case when e.waybill_key is not null then 1 else 0 end) as vol_ecom,
        sum(case when w.e_waybill then 1 else 0 end) as vol_ewaybill,
        sum(case when w.packaging in ('green', 'reused') then 1 else 0 end) as vol_green,
        sum(case when w.signed_at is not null then 1 else 0 end) as signed,
        sum(case when w.is_signed_within_72h then 1 else 0 end) as signed_72h
    from waybills w
    left join ecom_waybills e on e.waybill_key = w.waybill_key
    group by 1, 2
),
company_volume as (
    select accepted_month as period, origin_county_code as county_code,
           'vol_company:' || company as component, count(*) as value
    from waybills
    group by 1, 2, 3
),
delivery as (
    select
        signed_month as period,
        sign_county_code as county_code,
        count(*) as exp_deliv,
        sum(case when is_rural_sign then 1 else 0 end) as exp_deliv_rural,
        sum(case when is_outlet_sign then 1 else 0 end) as deliv_304
    from parcels
    where is_signed_in_city
    group by 1, 2
),
orders as (
    select
        paid_month as period, county_code,
        sum(paid_fen) / 100.0 as ecom_gmv_gross,
        sum(gmv_fen) / 100.0 as ecom_gmv,
        count(*) as ecom_orders
    from {{ ref('int_ecommerce__orders_counted') }}
    group by 1, 2
),
order_lines as (
    select
        o.paid_month as period, o.county_code,
        sum(case when l.is_agri then l.gmv_fen else 0 end) / 100.0 as ecom_agri_gmv,
        sum(case when l.is_livestream then l.gmv_fen else 0 end) / 100.0 as ecom_live_gmv
    from {{ ref('int_ecommerce__orders_counted') }} o
    join {{ ref('int_ecommerce__order_lines_allocated') }} l on l.order_key = o.order_key
    group by 1, 2
),
enterprises as (
    select
        period, county_code,
        sum(case when settled_in_base then 1 else 0 end) as ecom_base_enterprises,
        sum(case when is_demo then 1 else 0 end) as demo_enterprises
    from {{ ref('int_registry__enterprises_by_period') }}
    group by 1, 2
),
classes as (
    select h.period, '{{ city }}' as county_code, count(*) as tal_classes, sum(c.trainees) as tal_trainees
    from {{ ref('int_registry__snapshot_for_period') }} h
    join {{ ref('stg_registry__training_classes') }} c
        on c.ledger_month = h.ledger_month and {{ month_of_date('c.end_on') }} = h.period
    group by 1, 2
),
hosts as (
    select h.period, '{{ city }}' as county_code, count(*) as tal_influencers
    from {{ ref('int_registry__snapshot_for_period') }} h
    join {{ ref('stg_registry__influencers') }} i
        on i.ledger_month = h.ledger_month and {{ month_of_date('i.started_on') }} = h.period
    where coalesce(i.status, '') <> '退出'
    group by 1, 2
),
outlets as (
    select
        period, county_code,
        sum(case when is_active then 1 else 0 end) as out_active,
        sum(case when is_active and is_xingnong then 1 else 0 end) as out_xingnong
    from {{ ref('int_outlets__outlet_status_by_period') }}
    group by 1, 2
),
villages as (
    select period, county_code,
           sum(case when is_covered then 1 else 0 end) as villages_covered,
           count(*) as villages
    from {{ ref('int_outlets__village_coverage_by_period') }}
    group by 1, 2
),
unpivoted as (
    {%- set wide = {
        'volume': ['exp_vol', 'exp_vol_local', 'exp_vol_domestic', 'exp_vol_intl', 'exp_rev', 'exp_agri_out',
                   'vol_ecom', 'vol_ewaybill', 'vol_green', 'signed', 'signed_72h'],
        'delivery': ['exp_deliv', 'exp_deliv_rural', 'deliv_304'],
        'orders': ['ecom_gmv_gross', 'ecom_gmv', 'ecom_orders'],
        'order_lines': ['ecom_agri_gmv', 'ecom_live_gmv'],
        'enterprises': ['ecom_base_enterprises', 'demo_enterprises'],
        'classes': ['tal_classes', 'tal_trainees'],
        'hosts': ['tal_influencers'],
        'outlets': ['out_active', 'out_xingnong'],
        'villages': ['villages_covered', 'villages'],
    } %}
    {%- for cte, columns in wide.items() %}
    {%- for column in columns %}
    select period, county_code, '{{ column }}' as component, cast({{ column }} as {{ type_double() }}) as value from {{ cte }}
    union all
    {%- endfor %}
    {%- endfor %}
    select period, county_code, component, cast(value as {{ type_double() }}) as value from company_volume
)
select u.period, u.county_code, u.component, u.value
from unpivoted u
join periods p on p.period = u.period
where u.county_code is not null
