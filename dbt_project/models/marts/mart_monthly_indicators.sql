-- The monthly bulletin: one row per (period, region, indicator). Each indicator is defined once
-- (macro indicator_definitions → dim_indicator) as a formula over the components of
-- int_indicator_components; city = sum of the counties' components.
{%- set city = var('city_code') %}
with periods as (
    select period, period_year, period_month from {{ ref('int_periods') }}
),
indicators as (
    select * from {{ ref('dim_indicator') }}
),
regions as (
    select region_code from {{ ref('dim_region') }} where is_indicator_region
),
components as (
    select period, county_code as region_code, component, value
    from {{ ref('int_indicator_components') }}
    where county_code <> '{{ city }}'
    union all
    select period, '{{ city }}' as region_code, component, sum(value) as value
    from {{ ref('int_indicator_components') }}
    group by period, component
),
ytd_components as (
    -- year to date: the components summed from January to the month
    select p.period, c.region_code, c.component, sum(c.value) as value
    from periods p
    join components c
        on substr(c.period, 1, 4) = substr(p.period, 1, 4) and c.period <= p.period
    group by p.period, c.region_code, c.component
),
ytd_complete as (
    -- a year-to-date value exists only when every month from January has data
    select p.period, count(q.period) = p.period_month as is_complete
    from periods p
    join periods q on q.period_year = p.period_year and q.period <= p.period
    group by p.period, p.period_month
),
{%- for src in ['components', 'ytd_components'] %}
{{ src }}_cr8 as (
    select period, region_code, 'cr8_top8' as component,
           sum(case when company_rank <= 8 then value else 0 end) as value
    from (
        select period, region_code, value,
               row_number() over (partition by period, region_code order by value desc, component) as company_rank
        from {{ src }}
        where component like 'vol_company:%'
    ) ranked
    group by period, region_code
    union all
    select period, region_code, 'cr8_total' as component, sum(value) as value
    from {{ src }}
    where component like 'vol_company:%'
    group by period, region_code
),
{{ src }}_all as (
    select period, region_code, component, value from {{ src }}
    union all
    select period, region_code, component, value from {{ src }}_cr8
),
{%- endfor %}
grid as (
    select p.period, p.period_year, r.region_code, i.*
    from periods p
    cross join regions r
    cross join indicators i
    where r.region_code = '{{ city }}' or not i.is_city_only
),
valued as (
    select
        g.*,
        case
            when g.kind = 'ratio' then mn.value / nullif(md.value, 0)
            else coalesce(mn.value, 0)
        end as value,
        case
            when not g.is_flow or not yc.is_complete then null
            when g.kind = 'ratio' then yn.value / nullif(yd.value, 0)
            else coalesce(yn.value, 0)
        end as ytd_value
    from grid g
    left join components_all mn
        on mn.period = g.period and mn.region_code = g.region_code and mn.component = g.numerator_component
    left join components_all md
        on md.period = g.period and md.region_code = g.region_code and md.component = g.denominator_component
    left join ytd_components_all yn
        on yn.period = g.period and yn.region_code = g.region_code and yn.component = g.numerator_component
    left join ytd_components_all yd
        on yd.period = g.period and yd.region_code = g.region_code and yd.component = g.denominator_component
    left join ytd_complete yc on yc.period = g.period
),
targets as (
    select * from {{ ref('plan_targets') }}
)
select
    cast(v.period as varchar) as period,
    cast(v.region_code as varchar) as region_code,
    cast(v.indicator_code as varchar) as indicator_code,
    cast(v.indicator_name as varchar) as indicator_name,
    cast(v.value as {{ type_double() }}) as value,
    cast(v.unit as varchar) as unit,
    cast(v.ytd_value as {{ type_double() }}) as ytd_value,
    cast(case when ly.value <> 0 then v.value / ly.value - 1 end as {{ type_double() }}) as yoy_growth,
    cast(case when ly.ytd_value <> 0 then v.ytd_value / ly.ytd_value - 1 end as {{ type_double() }}) as ytd_yoy_growth,
    cast(t.target_value_for_year as {{ type_double() }}) as target_value,
    cast(case
        when t.scope in ('year_total', 'every_year') then v.ytd_value / nullif(t.target_value_for_year, 0)
        when t.scope is not null then v.value / nullif(t.target_value_for_year, 0)
    end as {{ type_double() }}) as progress,
    cast(v.sort_order as integer) as indicator_order
from valued v
left join valued ly
    on ly.period = {{ same_month_last_year('v.period') }}
    and ly.region_code = v.region_code and ly.indicator_code = v.indicator_code
left join (
    select
        tp.indicator_code, tp.scope, p.period,
        case
            when tp.scope = 'year_total'
                then tp.target_value * power(1 + tp.annual_growth, p.period_year - tp.target_year)
            else tp.target_value
        end as target_value_for_year
    from targets tp
    cross join periods p
) t
    on t.indicator_code = v.indicator_code and t.period = v.period and v.region_code = '{{ city }}'
