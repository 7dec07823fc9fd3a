"""The dbt project parses and compiles, and its dbt unit tests pass."""
from __future__ import annotations

from wh_helpers import settings_for
from zhongwei.config import DBT_PROJECT_DIR
from zhongwei.warehouse import run_dbt


def test_parse_and_compile(lake_data, tmp_path):
    settings = settings_for(lake_data, tmp_path / "compile.duckdb")
    assert run_dbt(["parse"], settings).success
    res = run_dbt(["compile", "--select", "int_courier__waybills_latest", "stg_courier__waybills"], settings)
    assert res.success, res.exception
    compiled = DBT_PROJECT_DIR / "target" / "compiled" / "zhongwei" / "models"
    assert "read_parquet(" in (compiled / "staging" / "stg_courier__waybills.sql").read_text()
    assert "Asia/Shanghai" in (compiled / "intermediate" / "int_courier__waybills_latest.sql").read_text()


def test_unit_tests_pass(built):
    settings, _ = built
    res = run_dbt(["test", "--select", "test_type:unit"], settings)
    assert res.success
    assert len(res.result.results) >= 6
    assert all(str(r.status) == "pass" for r in res.result.results)


def test_build_reports_every_node(built):
    _, result = built
    names = {n.name for n in result.nodes}
    assert {"mart_monthly_indicators", "fct_waybill", "fct_order_line", "fct_load_ledger"} <= names
    assert result.success, [(n.name, n.message) for n in result.failed]
    models = [n for n in result.nodes if n.resource_type.endswith("model")]
    assert models and all(n.execution_time > 0 for n in models)  # each model's own time is reported


def test_docs_generate(built):
    from zhongwei.warehouse import docs_generate

    settings, _ = built
    index = docs_generate(settings)
    assert index.exists()
    assert (index.parent / "catalog.json").exists()
