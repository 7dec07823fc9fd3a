{#- Slowly changing dimension from monthly full snapshots: one row per version of an entity,
    valid from the first ledger month it appeared in that form (inclusive) to the next ledger
    month of the same ledger series in which it changed or was missing (exclusive; null = current).
    Built from the ledger months themselves. -#}
{% macro scd_by_ledger_month(relation, keys, attributes, series_keys=[]) %}
{%- set series = series_keys if series_keys else [] %}
{%- set series_part = ('partition by ' ~ (series | join(', '))) if series else '' %}
with snapshot_rows as (
    select
        r.*,
        md5(
            {%- for a in attributes %}
            coalesce(cast({{ a }} as varchar), '~'){% if not loop.last %} || '|' ||{% endif %}
            {%- endfor %}
        ) as attribute_hash
    from {{ relation }} r
),
series_months as (
    select
        {% for s in series %}{{ s }}, {% endfor %}ledger_month,
        lag(ledger_month) over ({{ series_part }} order by ledger_month) as previous_series_month,
        lead(ledger_month) over ({{ series_part }} order by ledger_month) as next_series_month
    from (select distinct {% for s in series %}{{ s }}, {% endfor %}ledger_month from {{ relation }}) m
),
sequenced as (
    select
        s.*,
        m.previous_series_month,
        m.next_series_month,
        lag(s.attribute_hash) over (partition by {% for k in keys %}s.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %} order by s.ledger_month) as previous_hash,
        lag(s.ledger_month) over (partition by {% for k in keys %}s.{{ k }}{% if not loop.last %}, {% endif %}{% endfor %} order by s.ledger_month) as previous_own_month
    from snapshot_rows s
    join series_months m
        on m.ledger_month = s.ledger_month
        {%- for k in series %} and m.{{ k }} = s.{{ k }}{% endfor %}
),
islands as (
    select
        *,
        sum(case
            when previous_hash is null or previous_hash <> attribute_hash
                 or previous_own_month <> previous_series_month then 1 else 0 end
        ) over (partition by {{ keys | join(', ') }} order by ledger_month rows between unbounded preceding and current row) as version_no
    from sequenced
),
versions as (
    select
        {{ keys | join(', ') }}, version_no,
        min(ledger_month) as valid_from,
        max(ledger_month) as last_seen_month
    from islands
    group by {{ keys | join(', ') }}, version_no
)
select
    i.*,
    v.valid_from,
    i.next_series_month as valid_to,
    (i.next_series_month is null) as is_current
from versions v
join islands i
    on i.version_no = v.version_no and i.ledger_month = v.last_seen_month
    {%- for k in keys %} and i.{{ k }} = v.{{ k }}{% endfor %}
{% endmacro %}
