-- rename and type only: one row per ingested batch (one ledger JSON file)
select
    {{ json_text('content', 'batch_id') }} as batch_id,
    {{ json_text('content', 'feed') }} as feed,
    {{ json_text('content', 'source') }} as source,
    {{ json_text('content', 'origin') }} as origin,
    {{ json_text('content', 'checksum') }} as checksum,
    cast({{ json_text('content', 'size_bytes') }} as bigint) as size_bytes,
    cast({{ json_text('content', 'rows_arrived') }} as bigint) as rows_arrived,
    cast({{ json_text('content', 'rows_loaded') }} as bigint) as rows_loaded,
    cast({{ json_text('content', 'rows_quarantined') }} as bigint) as rows_quarantined,
    cast({{ json_text('content', 'duplicates') }} as bigint) as duplicates,
    {{ json_text('content', 'status') }} as status,
    {{ json_text('content', 'failure') }} as failure,
    {{ json_text('content', 'duplicate_of') }} as duplicate_of,
    {{ json_text('content', 'run_id') }} as run_id,
    cast({{ json_text('content', 'loaded_at') }} as timestamp with time zone) as loaded_at,
    {{ json_text('content', 'partition') }} as partition_json,
    -- the month the batch's data belongs to: a courier day, an export date or a ledger's month
    substr(coalesce({{ json_text('content', 'partition.received_date') }},
                    {{ json_text('content', 'partition.export_date') }},
                    {{ json_text('content', 'partition.ledger_month') }}), 1, 7) as data_month,
    {{ json_text('content', 'quarantined_by_reason') }} as quarantined_by_reason_json,
    {{ json_text('content', 'warnings_by_reason') }} as warnings_by_reason_json,
    {{ json_text('content', 'quality') }} as quality_json,
    filename as ledger_file
from {{ source('lake', 'load_ledger') }}
