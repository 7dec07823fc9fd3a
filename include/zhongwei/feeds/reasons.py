"""Reason codes written into the quarantine, the load ledger and the quality results.

They are a vocabulary shared with the ingest tasks, the GX suites and the dbt
models that count quarantined rows per reason, so they are plain strings kept
in this one module; never spell one inline elsewhere.
"""
from __future__ import annotations

# Row level: the record is rejected (quarantined) and the rest of the file loads.
MALFORMED_RECORD = "malformed_record"
BAD_WAYBILL_NO = "bad_waybill_no"
UNKNOWN_COMPANY = "unknown_company"
UNKNOWN_AREA_CODE = "unknown_area_code"
BAD_TIMESTAMP = "bad_timestamp"
BAD_AMOUNT = "bad_amount"
BAD_CREDIT_CODE = "bad_credit_code"
COORDINATES_OUT_OF_AREA = "coordinates_out_of_area"
INCOMPLETE_ORDER = "incomplete_order"
# One key, two different records in one file or API window: the file cannot say which
# holds, so every copy is quarantined and the batch fails its checks.
CONFLICTING_DUPLICATE = "conflicting_duplicate"

# File level: nothing of the file loads.
TRUNCATED_FILE = "truncated_file"
WRONG_ENCODING = "wrong_encoding"
SCHEMA_MISMATCH = "schema_mismatch"
UNREADABLE_FILE = "unreadable_file"

# Warnings: the record is kept and the finding is reported.
UNKNOWN_CATEGORY = "unknown_category"
BAD_OPERATOR_CREDIT_CODE = "bad_operator_credit_code"

ROW_REASONS: frozenset[str] = frozenset({
    MALFORMED_RECORD, BAD_WAYBILL_NO, UNKNOWN_COMPANY, UNKNOWN_AREA_CODE, BAD_TIMESTAMP,
    BAD_AMOUNT, BAD_CREDIT_CODE, COORDINATES_OUT_OF_AREA, INCOMPLETE_ORDER, CONFLICTING_DUPLICATE,
})
FILE_REASONS: frozenset[str] = frozenset({
    TRUNCATED_FILE, WRONG_ENCODING, SCHEMA_MISMATCH, UNREADABLE_FILE,
})
WARNING_REASONS: frozenset[str] = frozenset({UNKNOWN_CATEGORY, BAD_OPERATOR_CREDIT_CODE})
ALL_REASONS: frozenset[str] = ROW_REASONS | FILE_REASONS | WARNING_REASONS
