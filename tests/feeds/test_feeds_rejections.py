"""Every reason code, from hand-made bad inputs: the right reason, at the right place,
and the good records of the same file still load."""
from __future__ import annotations

from pathlib import Path

import pytest

from feed_cases import ALL_CASES, FILE, ROW, WARNING, Case
from zhongwei.feeds import ParsedBatch, Rejected, reasons


def test_every_reason_code_has_a_case() -> None:
    assert {case.reason for case in ALL_CASES} == reasons.ALL_REASONS
    kinds = {ROW: reasons.ROW_REASONS, FILE: reasons.FILE_REASONS, WARNING: reasons.WARNING_REASONS}
    assert all(case.reason in kinds[case.kind] for case in ALL_CASES)


def test_quarantine_tables_and_ledger_counts(tmp_path: Path) -> None:
    batch = next(c for c in ALL_CASES if c.id == "douyin_incomplete_order").build(tmp_path)
    assert batch.reason_counts() == {reasons.BAD_AMOUNT: 1, reasons.INCOMPLETE_ORDER: 1}
    table = batch.rejected_table()
    assert table.schema.names == ["location", "reason", "detail", "raw"] and len(table) == 2
    failed = next(c for c in ALL_CASES if c.id == "pdd_renamed_column").build(tmp_path)
    assert failed.rejected_table().column("reason").to_pylist() == [reasons.SCHEMA_MISMATCH]


def test_accounting_is_checked_on_construction() -> None:
    with pytest.raises(ValueError, match="accounting"):
        ParsedBatch(tables={}, rows_arrived=3, rows_loaded=1, rejected=[Rejected("x", reasons.BAD_AMOUNT, "d")])


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_bad_input(case: Case, tmp_path: Path) -> None:
    batch = case.build(tmp_path)
    assert batch.rows_arrived == batch.rows_loaded + len(batch.rejected) + batch.duplicates
    if case.kind == FILE:
        error = batch.file_error
        assert error is not None and error.reason == case.reason, error
        assert error.location == case.at or not case.at
        assert case.detail in error.detail
        assert batch.rows_arrived == 0 and all(len(t) == 0 for t in batch.tables.values())
        return
    assert batch.file_error is None
    findings = batch.rejected if case.kind == ROW else batch.warnings
    matching = [f for f in findings if f.reason == case.reason and f.location.endswith(case.at)]
    assert matching, findings
    assert case.detail in matching[0].detail
    assert matching[0].raw  # the redacted record is kept for whoever fixes the file
    assert batch.rows_loaded >= 1  # the good records of the file still load
    if case.kind == WARNING:
        assert batch.rejected == [] and batch.rows_loaded == batch.rows_arrived
