-- For count and money indicators the city's value is the sum of its three counties' values.
select c.period, c.indicator_code, c.value as city_value, sum(k.value) as counties_value
from {{ ref('mart_monthly_indicators') }} c
join {{ ref('mart_monthly_indicators') }} k
    on k.period = c.period and k.indicator_code = c.indicator_code and k.region_code <> c.region_code
join {{ ref('dim_indicator') }} i on i.indicator_code = c.indicator_code
where c.region_code = '{{ var("city_code") }}' and i.kind = 'sum' and not i.is_city_only
group by c.period, c.indicator_code, c.value
having abs(c.value - sum(k.value)) > 0.005
