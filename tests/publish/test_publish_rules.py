"""The publication's rules that need no warehouse: how values are written and compared, which
months a run publishes, what the gate says, how the bulletin shows a value."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from zhongwei.config import TIMEZONE
from zhongwei.publish.bulletin import show
from zhongwei.publish.gate import Check, GateResult
from zhongwei.publish.release import changed, compare, format_number, parse_number
from zhongwei.publish.tasks import months_for_run


@pytest.mark.parametrize("value, text", [
    (None, ""), (float("nan"), ""), (0.0, "0"), (-0.0, "0"), (20000000.0, "20000000"), (1234.5, "1234.5"),
    (8000000000.01, "8000000000.01"), (0.123456789012345, "0.123456789"), (1e-05, "0.00001"),
    (1 / 3, "0.3333333333"), (-0.25, "-0.25"), (12, "12"),
])
def test_values_are_written_as_plain_decimals(value, text):
    assert format_number(value) == text
    if text:
        assert parse_number(text) == pytest.approx(value, abs=1e-10)


def test_a_value_changes_beyond_float_noise_only():
    assert not changed("0.1234567891", "0.1234567891")
    assert not changed("8000000000.01", "8000000000.0100001")  # a different summation order
    assert changed("8000000000.01", "8000000000")
    assert changed("", "0") and changed("0.5", "")
    assert not changed("", "")


def _row(region, code, value, ytd="", unit="CNY"):
    return {"region_code": region, "indicator_code": code, "value": value, "ytd_value": ytd, "yoy_growth": "",
            "ytd_yoy_growth": "", "target_value": "", "progress": "", "unit": unit, "indicator_name": code,
            "region_name": region}


def test_compare_lists_each_changed_value_with_its_difference():
    before = {(r["region_code"], r["indicator_code"]): r for r in
              [_row("640500", "ECOM_GMV", "1000.5", "3000"), _row("640502", "ECOM_GMV", "400", "900")]}
    after = [_row("640500", "ECOM_GMV", "990.5", "2990"), _row("640502", "ECOM_GMV", "400", "900")]
    changes = compare(before, after)
    assert [(c["region_code"], c["field"], c["previous"], c["current"], c["change"]) for c in changes] == [
        ("640500", "value", "1000.5", "990.5", "-10"), ("640500", "ytd_value", "3000", "2990", "-10")]
    assert compare(before, [before[k] for k in sorted(before)]) == []


SHANGHAI_MAR_5 = datetime(2025, 3, 5, 1, 0, tzinfo=timezone.utc)  # 09:00 in Zhongwei


@pytest.mark.parametrize("params, run_type, announced, months", [
    ({}, "scheduled", [], ["2025-02"]),  # the 5th: the month before
    ({"month": "2024-11"}, "manual", [], ["2024-11"]),
    ({"month": "2024-11:2025-01"}, "manual", [], ["2024-11", "2024-12", "2025-01"]),
    ({}, "asset_triggered", ["2025-01"], ["2025-01"]),  # marts rebuilt from a whole month's loads
    ({}, "asset_triggered", [], []),  # rebuilt after a daily load: the month is not over
    ({"month": "2024-06"}, "asset_triggered", ["2025-01"], ["2024-06"]),
])
def test_the_months_a_run_publishes(params, run_type, announced, months):
    assert months_for_run(params, SHANGHAI_MAR_5, run_type, announced) == months


def test_the_gate_lists_failing_checks_and_records_an_acceptance():
    gate = GateResult("2024-08", [Check("courier_events loads of 2024-08", True, "282 batches passed"),
                                  Check("load ecommerce/PDD__orders_20240812.csv", False, "schema_mismatch"),
                                  Check("mart_monthly_indicators suite", True)])
    assert not gate.passed and not gate.may_publish
    assert "1 of 3 checks failed" in gate.message() and "PDD__orders_20240812.csv: schema_mismatch" in gate.message()
    with pytest.raises(ValueError):
        gate.accept("  ")
    with pytest.raises(ValueError, match="at least 5 characters"):  # the rule the CLI and the DAG param apply
        gate.accept("ok ")
    gate.accept("partner resends the file on Monday")
    assert gate.may_publish and not gate.passed
    assert gate.to_dict()["accepted"] == {"reason": "partner resends the file on Monday",
                                          "failing_checks": ["load ecommerce/PDD__orders_20240812.csv"]}


@pytest.mark.parametrize("raw, unit, field, text", [
    ("1234567", "pieces", "value", "123.46"), ("80000000.5", "CNY", "ytd_value", "8,000.00"),
    ("0.86432", "ratio", "value", "86.43"), ("165", "outlets", "value", "165"), ("0.2345", "CNY", "yoy_growth", "23.4"),
    ("-0.0771", "people", "yoy_growth", "-7.7"), ("", "CNY", "value", "—"), ("0.425", "ratio", "progress", "42.5"),
])
def test_the_bulletin_shows_values_in_release_units(raw, unit, field, text):
    assert show(raw, unit, field) == text


def test_a_batch_whose_suites_failed_blocks_its_month():
    from zhongwei.publish.gate import _load_checks

    loads = [  # feed, source, batch, status, failure, balanced, quality passed, suites failed, data month
        ("courier_events", "SF", "SF-2025-02-03", "loaded", None, True, True, 0, "2025-02"),
        ("courier_waybills", "SF", "SF-2025-02-03", "loaded", None, True, False, 1, "2025-02"),
        ("ecommerce", "PDD", "PDD__orders_20250203.csv", "loaded", None, True, True, 0, "2025-02"),
        ("outlets", "640502", "a", "loaded", None, True, True, 0, "2025-01"),
        ("outlets", "640521", "b", "loaded", None, True, True, 0, "2025-02"),
        ("registry", "commerce_bureau", "c", "loaded", None, True, True, 0, "2025-02"),
    ]
    failing = {c.name: c.detail for c in _load_checks("2025-02", loads) if not c.passed}
    assert failing == {
        "load courier_waybills/SF-2025-02-03": "1 quality suite(s) failed",
        "courier_waybills loads of 2025-02": "no batch loaded",
        "outlet ledger of 640522 holding for 2025-02": "no ledger of 2025-02 or earlier",
    }


def test_a_run_without_a_logical_date_publishes_the_month_before_now():
    # Airflow 3 runs triggered by assets (and some manual ones) have no logical date
    assert months_for_run({}, None, "asset_triggered", ["2025-01"]) == ["2025-01"]
    (month,) = months_for_run({}, None, "manual", [])
    # the month before now in Beijing time (8 hours a month, UTC is still in the month before)
    assert month < datetime.now(ZoneInfo(TIMEZONE)).strftime("%Y-%m")


def test_the_mart_suite_expects_each_defined_indicator_for_each_region(tmp_path):
    """The suite's row count comes from the indicator definitions (the dbt macro): the test oracle's
    own list of indicators gives the same count, and the gate passes it to the suite at run time."""
    import json

    import pandas as pd

    from zhongwei.config import EXPECTATIONS_DIR, Settings
    from zhongwei.publish.gate import mart_checks, rows_per_month
    from zhongwei.synth import truth

    suite = json.loads((EXPECTATIONS_DIR / "mart_monthly_indicators.json").read_text(encoding="utf-8"))
    [count] = [e for e in suite["expectations"] if e["type"] == "expect_table_row_count_to_equal"]
    assert count["kwargs"] == {"value": {"$PARAMETER": "rows_per_month"}}
    assert rows_per_month() == sum(1 if code in truth.CITY_ONLY else 1 + len(truth.COUNTIES)
                                   for code in truth.INDICATORS)

    n = rows_per_month()
    month = pd.DataFrame({"period": "2025-02", "region_code": "640500", "indicator_code": [f"I{i}" for i in range(n)],
                          "unit": "pieces", "value": 1.0, "ytd_value": 1.0, "yoy_growth": 0.0,
                          "ytd_yoy_growth": 0.0, "progress": 0.0})
    settings = Settings.from_env({"ZW_DATA": str(tmp_path)})
    assert [c.passed for c in mart_checks(settings, "2025-02", month, "test")] == [True]
    short = mart_checks(settings, "2025-02", month.iloc[1:], "test")
    assert [(c.name, c.detail) for c in short] == [
        ("mart_monthly_indicators suite: expect_table_row_count_to_equal()", f"observed {n - 1}")]
