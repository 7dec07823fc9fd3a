-- the indicators of docs/indicators.md and how each is computed from the components
{%- set defs = indicator_definitions() %}
{%- for d in defs %}
select
    cast('{{ d.code }}' as varchar) as indicator_code,
    cast('{{ d.name }}' as varchar) as indicator_name,
    cast('{{ d.unit }}' as varchar) as unit,
    cast('{{ d.kind }}' as varchar) as kind,
    cast('{{ d.num }}' as varchar) as numerator_component,
    cast({{ "'" ~ d.den ~ "'" if d.den else 'null' }} as varchar) as denominator_component,
    {{ 'true' if d.flow else 'false' }} as is_flow,
    {{ 'true' if d.city_only else 'false' }} as is_city_only,
    {{ loop.index }} as sort_order
{%- if not loop.last %}
union all
{%- endif %}
{%- endfor %}
