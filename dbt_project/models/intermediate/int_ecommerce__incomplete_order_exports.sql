{{ config(materialized='table') }}
-- Douyin exports in which an order lost a line that ingestion could not attach to its order
-- (a malformed record without 主订单编号): the rest of the order loaded, so that export of the
-- order is incomplete and must not be its current state. The lost line is found by its
-- 子订单编号 (raw field 2), whose siblings share all but the last character.
with lost as (
    select
        'DOUYIN' as platform,
        split_part(location, ':', 1) as source_file,
        split_part(raw_record, ',', 2) as sub_order_no
    from {{ ref('stg_lake__ecommerce_quarantine') }}
    where quarantine_file like '%DOUYIN__%'
      and reason = 'malformed_record'
      and split_part(raw_record, ',', 1) = ''
      and length(split_part(raw_record, ',', 2)) > 1
)
select distinct o.platform, o.order_no, o.export_date, o.source_file
from lost q
join {{ ref('stg_ecommerce__orders') }} o
    on o.platform = q.platform and o.source_file = q.source_file
join {{ ref('stg_ecommerce__order_lines') }} l
    on l.platform = o.platform and l.order_no = o.order_no and l.export_date = o.export_date
   and substr(l.sub_order_no, 1, length(l.sub_order_no) - 1) = substr(q.sub_order_no, 1, length(q.sub_order_no) - 1)
