"""The bulletin: a month's indicators as a Chinese monthly release (HTML with a print stylesheet).

The tables follow the provincial postal administration's release (当月, 累计,
each with 比去年同期增长), then e-commerce, outlets and villages, talent, the
counties and progress against the plan. Every number in a table carries the
published value it shows (`data-raw`, exactly the text of indicators.csv),
so a reader's tools and the tests can check the page against the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from zhongwei.publish import charts
from zhongwei.publish.gate import GateResult
from zhongwei.reference import CITY_CODE, COUNTY_CODES

TEMPLATES = Path(__file__).with_name("templates")

# how a base unit is shown: label, divisor, decimals
DISPLAY = {
    "pieces": ("万件", 1e4, 2), "CNY": ("万元", 1e4, 2), "orders": ("万单", 1e4, 2), "ratio": ("%", 1e-2, 2),
    "enterprises": ("家", 1, 0), "outlets": ("个", 1, 0), "classes": ("班次", 1, 0), "people": ("人", 1, 0),
}
SUB_ITEMS = {"EXP_VOL_LOCAL", "EXP_VOL_DOMESTIC", "EXP_VOL_INTL"}  # shown as 其中 lines under EXP_VOL

# the release's tables: (heading, columns, indicators)
FLOW = (("value", "当月"), ("yoy_growth", "比去年同期增长(%)"), ("ytd_value", "累计"),
        ("ytd_yoy_growth", "比去年同期增长(%)"))
STOCK = (("value", "月末"), ("yoy_growth", "比去年同期增长(%)"))
SECTIONS = [
    ("一、快递业务", [
        ("快递业务量与收入", FLOW, ["EXP_VOL", "EXP_VOL_LOCAL", "EXP_VOL_DOMESTIC", "EXP_VOL_INTL", "EXP_REV",
                             "EXP_DELIV", "EXP_DELIV_RURAL", "EXP_AGRI_OUT"]),
        ("服务结构与质量", FLOW, ["EXP_ECOM_SHARE", "EXP_EWAYBILL_RATE", "EXP_GREEN_PACK_RATE",
                           "EXP_SIGNED_72H_RATE", "EXP_DELIV_OUTLET_SHARE", "EXP_CR8"]),
    ], "parcels"),
    ("二、电子商务", [
        ("网络零售", FLOW, ["ECOM_GMV", "ECOM_GMV_GROSS", "ECOM_ORDERS", "ECOM_AGRI_GMV", "ECOM_LIVE_GMV"]),
        ("电商主体", STOCK, ["ECOM_BASE_ENTERPRISES", "DEMO_ENTERPRISES"]),
    ], "gmv"),
    ("三、网点与村级快递服务", [
        ("快递网点", STOCK, ["OUT_XINGNONG", "OUT_ACTIVE", "OUT_VILLAGE_COVERAGE"]),
    ], "coverage"),
    ("四、人才培训", [
        ("培训与孵化", FLOW, ["TAL_CLASSES", "TAL_TRAINEES", "TAL_INFLUENCERS"]),
    ], None),
]
COUNTY_COLUMNS = [("EXP_VOL", "value"), ("EXP_VOL", "yoy_growth"), ("EXP_DELIV", "value"), ("ECOM_GMV", "value"),
                  ("ECOM_GMV", "yoy_growth"), ("OUT_XINGNONG", "value"), ("OUT_ACTIVE", "value"),
                  ("OUT_VILLAGE_COVERAGE", "value")]
FIELD_NAMES = {"value": "当月/月末", "ytd_value": "累计", "yoy_growth": "同比增长", "ytd_yoy_growth": "累计同比增长",
               "target_value": "规划目标", "progress": "完成进度"}


@dataclass(frozen=True)
class Cell:
    """A number in a table: what it shows and the published value it stands for."""
    text: str
    region: str
    indicator: str
    field: str
    raw: str


def show(raw: str, unit: str, field: str = "value") -> str:
    """A published value as the bulletin shows it."""
    if raw == "":
        return "—"
    if field in ("yoy_growth", "ytd_yoy_growth", "progress"):
        return f"{float(raw) * 100:.1f}"
    label, divisor, decimals = DISPLAY[unit]
    return f"{float(raw) / divisor:,.{decimals}f}"


def unit_label(unit: str) -> str:
    return DISPLAY[unit][0]


class _Rows:
    def __init__(self, rows: list[dict]):
        self.by_key = {(r["region_code"], r["indicator_code"]): r for r in rows}

    def row(self, indicator: str, region: str = CITY_CODE) -> dict:
        return self.by_key[(region, indicator)]

    def cell(self, indicator: str, field: str, region: str = CITY_CODE) -> Cell:
        r = self.row(indicator, region)
        return Cell(show(r[field], r["unit"], field), region, indicator, field, r[field])


def _tables(rows: _Rows) -> list[dict]:
    sections = []
    for heading, tables, chart in SECTIONS:
        out = []
        for title, columns, codes in tables:
            lines = []
            for code in codes:
                r = rows.row(code)
                name = ("其中：" if code in SUB_ITEMS else "") + r["indicator_name"]
                lines.append({"name": name, "sub": code in SUB_ITEMS, "unit": unit_label(r["unit"]),
                              "cells": [rows.cell(code, f) for f, _ in columns]})
            out.append({"title": title, "columns": [c for _, c in columns], "lines": lines})
        sections.append({"heading": heading, "tables": out, "chart": chart})
    return sections


def _county_table(rows: _Rows) -> dict:
    header = []
    for code, field in COUNTY_COLUMNS:
        r = rows.row(code)
        header.append(f"{r['indicator_name']}" + ("同比(%)" if field == "yoy_growth" else f"({unit_label(r['unit'])})"))
    lines = [{"name": rows.row("EXP_VOL", region)["region_name"] or region,
              "cells": [rows.cell(code, field, region) for code, field in COUNTY_COLUMNS]}
             for region in (*COUNTY_CODES, CITY_CODE)]
    return {"header": header, "lines": lines}


def _progress(rows: _Rows, month: str) -> list[dict]:
    """Each indicator with a plan target: the target, what it is compared with, the progress and what is due."""
    elapsed = int(month[5:]) / 12
    out = []
    for (region, code), r in rows.by_key.items():
        if region != CITY_CODE or r["target_value"] == "":
            continue
        flow = r["ytd_value"] != ""  # yearly totals and quotas compare the year to date; stocks the month's end
        current = "ytd_value" if flow else "value"
        out.append({"name": r["indicator_name"], "unit": unit_label(r["unit"]), "basis": "年内累计" if flow else "月末值",
                    "target": rows.cell(code, "target_value"), "current": rows.cell(code, current),
                    "progress": rows.cell(code, "progress"), "due": elapsed if flow else 1.0,
                    "due_text": f"{elapsed * 100:.1f}" if flow else "100.0"})
    return out


def _trend(hist: list[dict], code: str) -> list[charts.MonthPoint]:
    return [charts.MonthPoint(h["period"], h["value"], h["ytd_value"], h["target_value"])
            for h in hist if h["region_code"] == CITY_CODE and h["indicator_code"] == code]


def _charts(rows: _Rows, hist: list[dict], progress: list[dict]) -> dict[str, str]:
    names = [rows.row("EXP_VOL", c)["region_name"] or c for c in COUNTY_CODES]
    panels = []
    for code in ("EXP_VOL", "ECOM_GMV", "OUT_XINGNONG", "OUT_ACTIVE"):
        r = rows.row(code)
        _, divisor, decimals = DISPLAY[r["unit"]]
        panels.append((f"{r['indicator_name']}({unit_label(r['unit'])})", names,
                       [float(rows.row(code, c)["value"] or 0) / divisor for c in COUNTY_CODES], decimals))
    coverage = [rows.row("OUT_VILLAGE_COVERAGE", c)["value"] for c in (*COUNTY_CODES, CITY_CODE)]
    target = rows.row("OUT_VILLAGE_COVERAGE")["target_value"]
    return {
        "parcels": charts.trend_with_plan(_trend(hist, "EXP_VOL"), "快递业务量：近24个月当月、累计与规划路径", "万件", 1e4),
        "gmv": charts.trend_with_plan(_trend(hist, "ECOM_GMV"), "网络零售额：近24个月当月、累计与规划路径", "亿元", 1e8),
        "counties": charts.county_comparison(panels),
        "coverage": charts.coverage_by_county([*names, rows.row("EXP_VOL")["region_name"] or "全市"],
                                              [float(v) if v else None for v in coverage],
                                              float(target) if target else 1.0),
        "progress": charts.progress_bars([(p["name"], float(p["progress"].raw) if p["progress"].raw else None,
                                           p["due"]) for p in progress]),
    }


def _changes(changes: list[dict]) -> list[dict]:
    return [{**c, "field_name": FIELD_NAMES[c["field"]],
             "previous_text": show(c["previous"], c["unit"], c["field"]),
             "current_text": show(c["current"], c["unit"], c["field"]),
             "change_text": show(c["change"], c["unit"], c["field"]) if c["change"] else "—",
             "unit_label": "%" if c["field"] in ("yoy_growth", "ytd_yoy_growth", "progress") else unit_label(c["unit"])}
            for c in changes]


def render_bulletin(month: str, revision: int, published_at: str, rows: list[dict], hist: list[dict],
                    changes: list[dict], gate: GateResult, generated: dict | None = None) -> str:
    """The bulletin page; `generated` (scale, seed, ...) marks one computed from generated data."""
    import jinja2
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from zhongwei.config import TIMEZONE

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    r = _Rows(rows)
    progress = _progress(r, month)
    local = datetime.fromisoformat(published_at).astimezone(ZoneInfo(TIMEZONE))
    return env.get_template("bulletin.html.j2").render(
        month=month, year=int(month[:4]), month_no=int(month[5:]), revision=revision,
        published=f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}", published_at=published_at,
        sections=_tables(r), counties=_county_table(r), progress=progress, charts=_charts(r, hist, progress),
        changes=_changes(changes), gate=gate, generated=generated,
    )
