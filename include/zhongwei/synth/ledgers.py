"""The monthly Excel ledgers people keep by hand: county outlet ledgers and the
commerce bureau's programme ledger (enterprises, training classes, hosts).

Typed by people: a merged title row, a 填报单位 line, stray spaces, full-width
characters, blank rows, a 合计 row, dates written four different ways.
"""
from __future__ import annotations

from datetime import date, timedelta

import openpyxl
from openpyxl.utils import get_column_letter

from zhongwei.synth import defects as D
from zhongwei.synth.calendar import Month
from zhongwei.synth.common import Run
from zhongwei.synth.world import COUNTIES
from zhongwei.synth.xlsx import restamp

OUTLET_HEADER = ["序号", "网点编码", "网点名称", "网点类型", "所属乡镇", "所属村（社区）", "行政区划代码", "经度", "纬度",
                 "运营主体", "统一社会信用代码", "合作快递品牌", "是否代收代寄", "是否销售兴农产品", "开业日期", "状态",
                 "负责人", "联系电话", "备注"]
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789-"}


def _fullwidth(text: str) -> str:
    return "".join(FULL_WIDTH.get(c, c) for c in text)


def _date_text(d: date, style: int):
    return [d.isoformat(), f"{d.year}/{d.month}/{d.day}", f"{d.year}年{d.month}月{d.day}日",
            (d - date(1899, 12, 30)).days][style % 4]  # the last: an Excel date serial


def _save(wb: openpyxl.Workbook, path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    restamp(tmp)
    tmp.replace(path)


def _append(ws, values: list, defect: str | None, column: int, other: object) -> list[int]:
    """Append a row, and its copy when the defect repeats it: verbatim, or with
    values[column] = other for a conflict; the rows the defect is logged at."""
    ws.append(values)
    at = ws.max_row
    if defect == D.REPEATED:
        ws.append(values)
    elif defect == D.CONFLICT:
        ws.append(values[:column] + [other] + values[column + 1:])
    return D.logged_at(defect, at) if defect else []


def write_outlet_ledgers(run: Run, m: Month) -> list[dict]:
    """The three county ledgers for month m; returns the clean outlet rows."""
    clean = []
    kind_names = D.month_kinds(D.OUTLET_KINDS, run.is_broken(m))
    for county, county_name in COUNTIES.items():
        rng = run.rng("outlets", m, part=int(county))
        rows = run.world.outlets_at(m, county)
        kinds = D.pick_defects(rng, len(rows), run.defect_rate, kind_names,
                               run.conflict_rng("outlets", m, part=int(county)))
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "网点台账"
        ws.append([f"{county_name}电商快递服务网点台账（{m.year}年{m.month}月）"])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(OUTLET_HEADER))
        filed = m.end().date() + timedelta(days=int(rng.integers(1, 6)))
        ws.append([f"填报单位：{county_name}商务局\u3000\u3000填报日期：{filed.isoformat()}"])
        ws.append(OUTLET_HEADER)
        path = run.out / "outlets" / county / f"网点台账_{m.year}{m.month:02d}.xlsx"
        seq = 0
        for i, (o, (status, kind, takes)) in enumerate(rows):
            if rng.random() < 0.01:
                ws.append([])  # someone left an empty row
            seq += 1
            area = o.area_code
            code = o.code
            lng, lat = o.lng, o.lat
            opened = _date_text(o.opened, i)
            messy = rng.random()
            if messy < 0.05:
                area = _fullwidth(area)
            elif messy < 0.08:
                code = code.replace("-", "－")
            defect = kind_names[kinds[i]] if kinds[i] >= 0 else None
            if defect == D.UNKNOWN_AREA:
                area = area[:9] + "999"
            elif defect == D.BAD_COORDINATES:
                lng, lat = (116.40, 39.90) if i % 2 else (lat, lng)  # Beijing, or the two swapped
            elif defect == D.BAD_TIMESTAMP:
                opened = f"{o.opened.year}年13月{o.opened.day}日"
            values = [seq, code, o.name, kind + (" " if messy > 0.97 else ""), o.township, o.village_name, area,
                      f"{lng} " if messy > 0.95 else lng, lat, o.operator, o.operator_code, o.brands,
                      "是" if takes else "否", "是" if o.sells_agri else "否", opened, status,
                      o.keeper if messy < 0.9 else o.keeper[0] + " " + o.keeper[1:], o.keeper_phone,
                      "" if status == "运营" else f"{m.year}年{m.month}月状态：{status}"]
            # a conflict: the same 网点编码 under another 网点名称
            for row in _append(ws, values, defect, 2, o.name + "二部"):
                run.defects.add("outlets", defect, file=run.rel(path), row=row, outlet_code=o.code)
            if defect is None or defect in D.KEPT:
                clean.append({"month": str(m), "county": county, "code": o.code, "area_code": o.area_code,
                              "type": kind, "status": status, "takes_parcels": takes})
        if rng.random() < 0.7:
            ws.append([])
            ws.append(["合计", f"{seq}个"])
        for col in range(1, len(OUTLET_HEADER) + 1):
            ws.column_dimensions[get_column_letter(col)].width = 14
        _save(wb, path)
    return clean


def write_registry(run: Run, m: Month) -> dict[str, list[dict]]:
    """The programme ledger for month m; returns its clean rows by sheet."""
    rng = run.rng("registry", m)
    world = run.world
    path = run.out / "registry" / f"电商企业及培训台账_{m.year}{m.month:02d}.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "企业名录"
    ws.append(["统一社会信用代码", "企业名称", "所属县区", "企业类型", "入驻电商谷", "入驻日期", "示范企业", "示范认定年度", "店铺"])
    listed = [e for e in world.enterprises if e.listed <= m.ordinal]
    broken = run.is_broken(m)
    conflicts = run.conflict_rng("registry", m)  # one stream for the three sheets, in order
    kind_names = D.month_kinds(D.ENTERPRISE_KINDS, broken)
    kinds = D.pick_defects(rng, len(listed), run.defect_rate, kind_names, conflicts)
    clean: dict[str, list[dict]] = {"enterprises": [], "classes": [], "hosts": []}
    for i, e in enumerate(listed):
        settled = e.settled is not None and e.settled <= m.ordinal
        demo = e.demo is not None and e.demo <= m.ordinal
        settle_date = date(e.settled // 12, e.settled % 12 + 1, 1 + i % 28) if settled else None
        shops = ";".join(f"{world.shops[s].platform}:{world.shops[s].shop_id}" for s in e.shops)
        code = e.credit_code
        defect = kind_names[kinds[i]] if kinds[i] >= 0 else None
        if defect == D.BAD_CREDIT_CODE:  # one character mistyped: the check character no longer fits
            code = code[:-1] + ("0" if code[-1] != "0" else "1")
        values = [code if i % 17 else f" {code} ", e.name, COUNTIES[e.county], e.kind, "是" if settled else "否",
                  settle_date.isoformat() if settled else None, "是" if demo else "否",
                  e.demo // 12 if demo else None, shops]
        # a conflict: the same 统一社会信用代码 under another 企业名称
        for row in _append(ws, values, defect, 1, e.name + "分公司"):
            run.defects.add("registry_enterprises", defect, file=run.rel(path), sheet="企业名录", row=row,
                            credit_code=code)
        if defect is None or defect in D.KEPT:
            clean["enterprises"].append({"month": str(m), "credit_code": e.credit_code, "county": e.county,
                                         "settled": settled, "demo": demo,
                                         "shops": [(world.shops[s].platform, world.shops[s].shop_id) for s in e.shops]})
    ws = wb.create_sheet("培训班次")
    ws.append(["班次编号", "培训名称", "类别", "开班日期", "结业日期", "培训人数", "承办单位"])
    classes = [c for c in world.classes if (c.start.year, c.start.month) <= (m.year, m.month)]
    kind_names = D.month_kinds(D.CLASS_KINDS, broken)
    kinds = D.pick_defects(rng, len(classes), run.defect_rate, kind_names, conflicts)
    for c, k in zip(classes, kinds.tolist()):
        defect = kind_names[k] if k >= 0 else None
        values = [c.code, c.title, c.category, c.start.isoformat(), c.end.isoformat(), c.trainees, c.organiser]
        # a conflict: the same 班次编号 with another 培训人数
        for row in _append(ws, values, defect, 5, c.trainees + 1):
            run.defects.add("registry_training_classes", defect, file=run.rel(path), sheet="培训班次", row=row,
                            class_code=c.code)
        if defect is None or defect in D.KEPT:
            clean["classes"].append({"month": str(m), "code": c.code, "end": c.end, "trainees": c.trainees})
    ws = wb.create_sheet("达人孵化")
    ws.append(["达人ID", "平台", "昵称", "孵化机构信用代码", "孵化开始日期", "状态"])
    hosts = [(h, h.status(m)) for h in world.hosts if h.status(m) is not None]
    kind_names = D.month_kinds(D.INFLUENCER_KINDS, broken)
    kinds = D.pick_defects(rng, len(hosts), run.defect_rate, kind_names, conflicts)
    for (h, status), k in zip(hosts, kinds.tolist()):
        defect = kind_names[k] if k >= 0 else None
        values = [h.host_id, h.platform, h.nickname, h.org_code, h.start.isoformat(), status]
        # a conflict: the same (平台, 达人ID) under another 昵称
        for row in _append(ws, values, defect, 2, h.nickname + "（小号）"):
            run.defects.add("registry_influencers", defect, file=run.rel(path), sheet="达人孵化", row=row,
                            platform=h.platform, host_id=h.host_id)
        if defect is None or defect in D.KEPT:
            clean["hosts"].append({"month": str(m), "host_id": h.host_id, "start": h.start, "status": status})
    _save(wb, path)
    return clean
