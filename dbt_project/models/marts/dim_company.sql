-- express companies (brands) seen on the courier exchange
with seen as (
    select company from {{ ref('int_courier__waybills_latest') }}
    union
    select company from {{ ref('int_courier__events_deduplicated') }}
)
select
    cast(company as varchar) as company,
    cast(case company
        when 'EMS' then '中国邮政EMS' when 'YZPY' then '邮政快递包裹' when 'SF' then '顺丰速运'
        when 'ZTO' then '中通快递' when 'YTO' then '圆通速递' when 'YUNDA' then '韵达快递'
        when 'STO' then '申通快递' when 'JTSD' then '极兔速递' when 'JDL' then '京东物流'
        when 'DBL' then '德邦快递' else company end as varchar) as company_name
from seen
where company is not null
