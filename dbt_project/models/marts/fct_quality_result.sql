-- which batch failed which expectation: one row per (batch, suite) that passed, and one row
-- per failed expectation of a (batch, suite) that did not
with suites as (
    select * from {{ ref('int_lake__quality_suites') }}
),
failures as (
    {{ json_array_elements('suites', ['r.feed', 'r.batch_id', 'r.suite_no'], 'failed_json') }}
)
select
    cast(s.feed || '/' || s.batch_id as varchar) as batch_key,
    cast(s.batch_id as varchar) as batch_id,
    cast(s.feed as varchar) as feed,
    cast(s.source as varchar) as source,
    cast(s.suite_no as integer) as suite_no,
    cast(s.suite as varchar) as suite,
    cast(s.suite_run as varchar) as suite_run,
    cast(s.success as boolean) as success,
    cast(s.expectations_evaluated as integer) as expectations_evaluated,
    cast(coalesce(f.element_no, 0) as integer) as failure_no,
    cast({{ json_text('f.element', 'expectation') }} as varchar) as failed_expectation,
    cast({{ json_text('f.element', 'column') }} as varchar) as failed_column,
    cast({{ json_text('f.element', 'unexpected_count') }} as bigint) as unexpected_count,
    cast({{ json_text('f.element', 'observed') }} as varchar) as observed
from suites s
left join failures f on f.feed = s.feed and f.batch_id = s.batch_id and f.suite_no = s.suite_no
