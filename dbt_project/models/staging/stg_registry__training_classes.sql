-- rename and type only: one row per row of lake table registry_training_classes
select
    cast(ledger_month as varchar) as ledger_month,
    class_code,
    title,
    category,
    cast(start_on as date) as start_on,
    cast(end_on as date) as end_on,
    trainees,
    organiser,
    source_row
from {{ source('lake', 'registry_training_classes') }}
