"""Each reference list is defined once (a dbt seed read by `zhongwei.reference`, or
`feeds.contract`); these tests tie every place a format forces a copy back to it and
keep the lists from being written out again elsewhere."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from zhongwei import reference
from zhongwei.config import DBT_PROJECT_DIR, EXPECTATIONS_DIR, PROJECT_ROOT
from zhongwei.feeds import contract
from zhongwei.lake import LEDGER_STATUSES
from zhongwei.quality.gx import REFERENCE_PARAMETERS


def test_the_seeds_give_the_city_its_counties_and_the_contract_companies():
    assert reference.CITY_CODE == "640500"
    assert reference.COUNTIES == {"640502": "沙坡头区", "640521": "中宁县", "640522": "海原县"}
    assert reference.REGION_CODES == ("640500", "640502", "640521", "640522")
    # courier.md's table: EMS is 中国邮政速递物流 (dim_company used to say 中国邮政EMS)
    assert reference.COMPANY_NAMES["EMS"] == "中国邮政速递物流"
    assert list(reference.COMPANY_NAMES) == ["EMS", "YZPY", "SF", "ZTO", "YTO", "YUNDA", "STO", "JTSD", "JDL", "DBL"]
    assert set(contract.COMPANY_WAYBILL_PATTERNS) == set(reference.COMPANY_NAMES)
    assert contract.COUNTY_NAMES == {name: code for code, name in reference.COUNTIES.items()}
    assert contract.ZHONGWEI_PREFIX == "6405"


def _suite_value_sets() -> list[tuple[str, str, object]]:
    found = []
    for path in sorted(EXPECTATIONS_DIR.glob("*.json")):
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            if "value_set" in e["kwargs"]:
                found.append((path.stem, e["kwargs"]["column"], e["kwargs"]["value_set"]))
    return found


def test_every_suite_value_set_is_a_reference_parameter():
    value_sets = _suite_value_sets()
    assert len(value_sets) >= 9
    for suite, column, value_set in value_sets:
        assert isinstance(value_set, dict) and value_set.get("$PARAMETER") in REFERENCE_PARAMETERS, (suite, column)


def test_reference_parameters_are_the_contract_lists():
    p = REFERENCE_PARAMETERS
    assert p["courier_companies"] == list(reference.COMPANY_NAMES)
    assert p["county_codes"] == list(reference.COUNTY_CODES) and p["region_codes"] == list(reference.REGION_CODES)
    assert set(p["order_statuses"]) == set(contract.ORDER_STATUSES)
    # every status a platform's text maps to is one the suite accepts, and nothing more
    mapped = {*contract.TAOBAO_STATUS.values(), *contract.PDD_STATUS.values(), *contract.DOUYIN_STATUS.values(),
              *contract.ZWYP_STATUS.values()}
    assert mapped == set(contract.ORDER_STATUSES)
    assert set(p["outlet_statuses"]) == contract.OUTLET_STATUSES
    assert set(p["event_states"]) == contract.EVENT_STATES
    assert set(p["courier_services"]) == contract.SERVICES
    assert set(p["item_categories"]) == contract.ITEM_CATEGORIES and set(p["packagings"]) == contract.PACKAGINGS


def _accepted_values(model: str, column: str) -> list:
    models = yaml.safe_load((DBT_PROJECT_DIR / "models/marts/_marts.yml").read_text(encoding="utf-8"))["models"]
    col = next(c for m in models if m["name"] == model for c in m["columns"] if c["name"] == column)
    test = next(t["accepted_values"] for t in col.get("data_tests", []) if isinstance(t, dict) and "accepted_values" in t)
    return test["arguments"]["values"]


@pytest.mark.parametrize(("model", "column", "expected"), [
    ("fct_order", "platform", reference.PLATFORMS),
    ("fct_order", "status", contract.ORDER_STATUSES),
    ("fct_outlet_month", "status", contract.OUTLET_STATUSES),
    ("fct_load_ledger", "status", LEDGER_STATUSES),
])
def test_dbt_accepted_values_are_the_contract_lists(model, column, expected):
    assert set(_accepted_values(model, column)) == set(expected)


def test_dbt_city_var_is_the_seed_city():
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["vars"]["city_code"] == reference.CITY_CODE


def test_dim_company_names_come_from_the_seed():
    sql = (DBT_PROJECT_DIR / "models/marts/dim_company.sql").read_text(encoding="utf-8")
    assert "ref('courier_companies')" in sql
    assert not any(name in sql for name in reference.COMPANY_NAMES.values())


# The generator (synth) plays the partners and the oracle checks the figures
# independently: both keep their own lists on purpose.
OWN_COPIES = ("include/zhongwei/synth/",)


def _platform_code():
    for folder in ("include", "dags", "plugins"):
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if not rel.startswith(OWN_COPIES):
                yield rel, path.read_text(encoding="utf-8")


def test_no_other_module_writes_a_list_out_again():
    written = [re.escape(c) for c in reference.REGION_CODES] + [re.escape(n) for n in reference.COMPANY_NAMES.values()]
    pattern = re.compile("|".join(written))
    offenders = [rel for rel, text in _platform_code() if pattern.search(text)]
    assert offenders == []
    platforms = re.compile(r"""["']TAOBAO["'],\s*["']PDD["'],\s*["']DOUYIN["']""")  # a list of the platforms
    assert [rel for rel, text in _platform_code() if platforms.search(text)] == []
    assert reference.PLATFORMS == ("TAOBAO", "PDD", "DOUYIN", "ZWYP")
