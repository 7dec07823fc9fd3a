"""The Airflow Assets the pipeline produces: ingestion updates the lake's tables,
the warehouse build is scheduled on them, the publication on the marts."""
from airflow.sdk import Asset

LAKE_COURIER = Asset(name="lake_courier", uri="zhongwei://lake/courier")
LAKE_ECOMMERCE = Asset(name="lake_ecommerce", uri="zhongwei://lake/ecommerce")
LAKE_LEDGERS = Asset(name="lake_ledgers", uri="zhongwei://lake/ledgers")
PUBLICATIONS = Asset(name="publications", uri="zhongwei://publications")
