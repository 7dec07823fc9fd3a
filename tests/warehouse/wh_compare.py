"""Compare mart_monthly_indicators with the generator's truth file, value by value."""
from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

FIELDS = ["value", "ytd_value", "yoy_growth", "ytd_yoy_growth", "target_value", "progress"]
MONEY_OR_COUNT = {"pieces", "CNY", "orders", "enterprises", "outlets", "classes", "people"}


def _num(x):
    if x is None or (isinstance(x, float) and math.isnan(x)) or x == "":
        return None
    return float(x)


def mismatches(mart: pd.DataFrame, truth_csv: Path) -> list[str]:
    truth = pd.read_csv(truth_csv, dtype={"period": str, "region_code": str, "indicator_code": str}, keep_default_na=False)
    key = ["period", "region_code", "indicator_code"]
    mart = mart.copy()
    mart["region_code"] = mart["region_code"].astype(str)
    m = truth.merge(mart, on=key, how="outer", suffixes=("_t", "_w"), indicator=True)
    problems = []
    for _, r in m[m["_merge"] != "both"].iterrows():
        problems.append(f"{r['period']} {r['region_code']} {r['indicator_code']}: only in {r['_merge']}")
    for _, r in m[m["_merge"] == "both"].iterrows():
        unit = r["unit_t"]
        for f in FIELDS:
            t, w = _num(r[f + "_t"]), _num(r[f + "_w"])
            if t is None and w is None:
                continue
            if t is None or w is None:
                problems.append(f"{r['period']} {r['region_code']} {r['indicator_code']} {f}: truth={t} warehouse={w}")
                continue
            absolute = f in ("value", "ytd_value", "target_value") and unit in MONEY_OR_COUNT
            tol = 0.005 if absolute else 1e-9
            if abs(t - w) >= tol:
                problems.append(f"{r['period']} {r['region_code']} {r['indicator_code']} {f}: truth={t!r} warehouse={w!r}")
    return problems
