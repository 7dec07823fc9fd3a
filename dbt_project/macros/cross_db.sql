{#- Cross-database helpers: everything that is spelled differently in DuckDB and PostgreSQL. -#}

{#- 'YYYY-MM' of a timestamptz in the local (Asia/Shanghai) calendar. -#}
{% macro local_month(ts) -%}{{ return(adapter.dispatch('local_month', 'zhongwei')(ts)) }}{%- endmacro %}
{% macro default__local_month(ts) -%}
strftime(({{ ts }}) at time zone '{{ var("local_timezone") }}', '%Y-%m')
{%- endmacro %}
{% macro postgres__local_month(ts) -%}
to_char(({{ ts }}) at time zone '{{ var("local_timezone") }}', 'YYYY-MM')
{%- endmacro %}

{#- 'YYYY-MM' of a date / timestamp without time zone. -#}
{% macro month_of_date(d) -%}{{ return(adapter.dispatch('month_of_date', 'zhongwei')(d)) }}{%- endmacro %}
{% macro default__month_of_date(d) -%}strftime(cast({{ d }} as date), '%Y-%m'){%- endmacro %}
{% macro postgres__month_of_date(d) -%}to_char(cast({{ d }} as date), 'YYYY-MM'){%- endmacro %}

{#- first day of a 'YYYY-MM' month as a date -#}
{% macro month_start(period) -%}cast({{ period }} || '-01' as date){%- endmacro %}

{#- the same month one year earlier, for a 'YYYY-MM' text -#}
{% macro same_month_last_year(period) -%}
cast(cast(substr({{ period }}, 1, 4) as integer) - 1 as varchar) || substr({{ period }}, 5, 3)
{%- endmacro %}

{#- months of a continuous range between two 'YYYY-MM' texts, as a subquery with column period -#}
{% macro month_series(min_period, max_period) -%}{{ return(adapter.dispatch('month_series', 'zhongwei')(min_period, max_period)) }}{%- endmacro %}
{% macro default__month_series(min_period, max_period) -%}
select strftime(m, '%Y-%m') as period
from (select unnest(generate_series(cast({{ min_period }} || '-01' as date), cast({{ max_period }} || '-01' as date), interval 1 month)) as m) g
{%- endmacro %}
{% macro postgres__month_series(min_period, max_period) -%}
select to_char(m, 'YYYY-MM') as period
from generate_series(cast({{ min_period }} || '-01' as date), cast({{ max_period }} || '-01' as date), interval '1 month') as g(m)
{%- endmacro %}

{#- text starts with a literal prefix (portable, index-friendly) -#}
{% macro starts_with(expr, prefix) -%}({{ expr }} like '{{ prefix }}%'){%- endmacro %}

{#- hours between two timestamps, as a double -#}
{% macro hours_between(start_ts, end_ts) -%}{{ return(adapter.dispatch('hours_between', 'zhongwei')(start_ts, end_ts)) }}{%- endmacro %}
{% macro default__hours_between(start_ts, end_ts) -%}(epoch({{ end_ts }}) - epoch({{ start_ts }})) / 3600.0{%- endmacro %}
{% macro postgres__hours_between(start_ts, end_ts) -%}(extract(epoch from ({{ end_ts }})) - extract(epoch from ({{ start_ts }}))) / 3600.0{%- endmacro %}

{#- integer type large enough for fen -#}
{% macro type_double() -%}{{ return(adapter.dispatch('type_double', 'zhongwei')()) }}{%- endmacro %}
{% macro default__type_double() -%}double{%- endmacro %}
{% macro postgres__type_double() -%}double precision{%- endmacro %}

{#- current timestamp minus the look-back window, for incremental models -#}
{% macro lookback_cutoff(column, relation) -%}
(select max({{ column }}) from {{ relation }}) - interval '{{ var("lookback_days") }} days'
{%- endmacro %}

{#- text of a top-level or nested JSON field ('a.b') from a JSON text column -#}
{% macro json_text(column, path) -%}{{ return(adapter.dispatch('json_text', 'zhongwei')(column, path)) }}{%- endmacro %}
{% macro default__json_text(column, path) -%}json_extract_string({{ column }}, '$.{{ path }}'){%- endmacro %}
{% macro postgres__json_text(column, path) -%}(cast({{ column }} as jsonb) #>> '{ {{- path.split('.') | join(',') -}} }'){%- endmacro %}

{#- one row per element of a JSON array held (as text) in json_column: columns <key columns>, element_no, element (JSON text) -#}
{% macro json_array_elements(relation_sql, key_columns, json_column) -%}{{ return(adapter.dispatch('json_array_elements', 'zhongwei')(relation_sql, key_columns, json_column)) }}{%- endmacro %}
{% macro default__json_array_elements(relation_sql, key_columns, json_column) -%}
select {{ key_columns | join(', ') }}, cast(e.element_no as integer) as element_no, cast(e.element as varchar) as element
from {{ relation_sql }} r,
     lateral (select unnest(cast(json(r.{{ json_column }}) as json[])) as element,
                     unnest(range(1, len(cast(json(r.{{ json_column }}) as json[])) + 1)) as element_no) e
where r.{{ json_column }} is not null
{%- endmacro %}
{% macro postgres__json_array_elements(relation_sql, key_columns, json_column) -%}
select {{ key_columns | join(', ') }}, cast(e.element_no as integer) as element_no, e.element::text as element
from {{ relation_sql }} r
cross join lateral jsonb_array_elements(cast(r.{{ json_column }} as jsonb)) with ordinality as e(element, element_no)
where r.{{ json_column }} is not null
{%- endmacro %}

{#- every day from the first day of start_date's month through the end of end_date's month, column d -#}
{% macro date_series(start_date, end_month_start) -%}{{ return(adapter.dispatch('date_series', 'zhongwei')(start_date, end_month_start)) }}{%- endmacro %}
{% macro default__date_series(start_date, end_month_start) -%}
select cast(unnest(generate_series(cast({{ start_date }} as date), cast({{ end_month_start }} as date) + interval 1 month - interval 1 day, interval 1 day)) as date) as d
{%- endmacro %}
{% macro postgres__date_series(start_date, end_month_start) -%}
select cast(g as date) as d from generate_series(cast({{ start_date }} as date), cast({{ end_month_start }} as date) + interval '1 month' - interval '1 day', interval '1 day') as g
{%- endmacro %}
