"""Contract parsers of the four partner feeds: pure functions, no Airflow.

Each turns what a partner sends into typed Arrow tables (stable Parquet types),
plus a quarantine with a reason code for every rejected record and warnings
about records kept. See `common.ParsedBatch` for the accounting rules and
`reasons` for the codes.
"""
from zhongwei.feeds.common import ParsedBatch, Rejected, issues_table
from zhongwei.feeds.courier import EVENT_SCHEMA, WAYBILL_SCHEMA, parse_events, parse_waybills
from zhongwei.feeds.divisions import Divisions, default_divisions, read_divisions
from zhongwei.feeds.ecommerce import (
    LINE_SCHEMA, ORDER_SCHEMA, parse_douyin, parse_pdd, parse_platform_file, parse_taobao, parse_zwyp,
)
from zhongwei.feeds.ledgers import (
    ENTERPRISE_SCHEMA, INFLUENCER_SCHEMA, OUTLET_SCHEMA, SHOP_SCHEMA, TRAINING_SCHEMA, credit_code_valid,
    parse_outlet_ledger, parse_registry,
)
from zhongwei.feeds.pii import Deidentifier, mask_name, mask_phone, redact

__all__ = [
    "ENTERPRISE_SCHEMA", "EVENT_SCHEMA", "INFLUENCER_SCHEMA", "LINE_SCHEMA", "ORDER_SCHEMA", "OUTLET_SCHEMA",
    "SHOP_SCHEMA", "TRAINING_SCHEMA", "WAYBILL_SCHEMA",
    "Deidentifier", "Divisions", "ParsedBatch", "Rejected",
    "credit_code_valid", "default_divisions", "issues_table", "mask_name", "mask_phone",
    "parse_douyin", "parse_events", "parse_outlet_ledger", "parse_pdd", "parse_platform_file",
    "parse_registry", "parse_taobao", "parse_waybills", "parse_zwyp", "read_divisions", "redact",
]
