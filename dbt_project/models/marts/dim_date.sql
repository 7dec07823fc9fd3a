-- one row per calendar day of the months the warehouse holds, with its month ('YYYY-MM')
with days as (
    {{ date_series("(select min(month_start) from " ~ ref('int_periods') ~ ")",
                   "(select max(month_start) from " ~ ref('int_periods') ~ ")") }}
)
select
    cast(d as date) as date_day,
    cast({{ month_of_date('d') }} as varchar) as period,
    cast(extract(year from d) as integer) as year,
    cast(extract(month from d) as integer) as month,
    cast(extract(day from d) as integer) as day_of_month,
    cast(extract(quarter from d) as integer) as quarter
from days
