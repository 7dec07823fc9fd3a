{{ config(materialized='table') }}
-- one row per (batch, Great Expectations suite run) from the load ledger
with ledger as (
    select batch_id, feed, source, {{ json_text('quality_json', 'suites') }} as suites_json
    from {{ ref('stg_lake__load_ledger') }}
),
suites as (
    {{ json_array_elements('ledger', ['r.batch_id', 'r.feed', 'r.source'], 'suites_json') }}
)
select
    batch_id, feed, source, element_no as suite_no,
    {{ json_text('element', 'suite') }} as suite,
    {{ json_text('element', 'run') }} as suite_run,
    cast({{ json_text('element', 'success') }} as boolean) as success,
    cast({{ json_text('element', 'evaluated') }} as integer) as expectations_evaluated,
    {{ json_text('element', 'failed') }} as failed_json
from suites
