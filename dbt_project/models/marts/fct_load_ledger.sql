-- one row per ingested batch (file or API window): what arrived, what was loaded, quarantined or
-- dropped as duplicate, the status, and how many quality suites / expectations failed
with ledger as (
    select * from {{ ref('stg_lake__load_ledger') }}
),
quality as (
    select feed, batch_id,
           count(*) as suites_run,
           sum(case when success then 0 else 1 end) as suites_failed
    from {{ ref('int_lake__quality_suites') }}
    group by feed, batch_id
)
select
    cast(l.feed || '/' || l.batch_id as varchar) as batch_key,
    cast(l.batch_id as varchar) as batch_id,
    cast(l.feed as varchar) as feed,
    cast(l.source as varchar) as source,
    cast(l.status as varchar) as status,
    cast(l.origin as varchar) as origin,
    cast(l.checksum as varchar) as checksum,
    cast(l.size_bytes as bigint) as size_bytes,
    cast(l.rows_arrived as bigint) as rows_arrived,
    cast(l.rows_loaded as bigint) as rows_loaded,
    cast(l.rows_quarantined as bigint) as rows_quarantined,
    cast(l.duplicates as bigint) as duplicates,
    cast(l.rows_arrived = l.rows_loaded + l.rows_quarantined + l.duplicates as boolean) as is_balanced,
    cast(l.failure as varchar) as failure,
    cast(l.duplicate_of as varchar) as duplicate_of,
    cast(l.partition_json as varchar) as partition_json,
    cast(l.data_month as varchar) as data_month,
    cast(l.quarantined_by_reason_json as varchar) as quarantined_by_reason_json,
    cast(l.warnings_by_reason_json as varchar) as warnings_by_reason_json,
    cast(coalesce(q.suites_run, 0) as integer) as suites_run,
    cast(coalesce(q.suites_failed, 0) as integer) as suites_failed,
    cast(coalesce(q.suites_failed, 0) = 0 as boolean) as quality_passed,
    cast(l.run_id as varchar) as run_id,
    l.loaded_at
from ledger l
left join quality q on q.feed = l.feed and q.batch_id = l.batch_id
