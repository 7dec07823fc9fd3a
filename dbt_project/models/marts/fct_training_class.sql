-- one row per training class, as listed in the latest programme-ledger snapshot that holds it
with ranked as (
    select c.*, row_number() over (partition by class_code order by ledger_month desc) as snapshot_rank
    from {{ ref('stg_registry__training_classes') }} c
)
select
    cast(class_code as varchar) as class_code,
    cast(ledger_month as varchar) as ledger_month,
    cast(title as varchar) as title,
    cast(category as varchar) as category,
    cast(start_on as date) as start_on,
    cast(end_on as date) as end_on,
    cast({{ month_of_date('end_on') }} as varchar) as end_month,
    cast(trainees as bigint) as trainees,
    cast(organiser as varchar) as organiser
from ranked
where snapshot_rank = 1
