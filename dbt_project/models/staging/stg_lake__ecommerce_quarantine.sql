-- rename and type only: one row per quarantined platform-export record
select
    cast(location as varchar) as location,
    cast(reason as varchar) as reason,
    cast(detail as varchar) as detail,
    cast(raw as varchar) as raw_record,
    cast(filename as varchar) as quarantine_file
from {{ source('lake', 'ecommerce_quarantine') }}
