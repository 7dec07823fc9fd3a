{#- Schemas: on DuckDB everything in main (one file, simple for analysts); on PostgreSQL
    the target schema plus the folder suffix (warehouse, warehouse_staging, ...). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if target.type == 'duckdb' or custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
