-- Every load is accounted for: arrived = loaded + quarantined + duplicates (README: Ingestion).
{{ config(severity='warn') }}
select batch_key, rows_arrived, rows_loaded, rows_quarantined, duplicates
from {{ ref('fct_load_ledger') }}
where status = 'loaded' and not is_balanced
