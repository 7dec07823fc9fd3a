"""Helpers for the feed-parser tests: sample paths, good-row templates taken from
the partners' samples, writers that produce real partner files (GB18030 CSV,
UTF-8-BOM CSV, xlsx through openpyxl, JSON Lines), and a text dump of a batch
for the personal-information checks.

Independent of `zhongwei.synth`: the files are written here the way a partner
writes them.
"""
from __future__ import annotations

import copy
import csv
import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl

from zhongwei.feeds import Deidentifier, ParsedBatch
from zhongwei.feeds.contract import (
    DOUYIN_COLUMNS, ENTERPRISE_COLUMNS, INFLUENCER_COLUMNS, OUTLET_COLUMNS, PDD_COLUMNS, TAOBAO_COLUMNS,
    TRAINING_COLUMNS,
)

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
TAOBAO_SAMPLE = SAMPLES / "ecommerce" / "TAOBAO" / "orders_20250304.csv"
PDD_SAMPLE = SAMPLES / "ecommerce" / "PDD" / "orders_20250304.csv"
DOUYIN_SAMPLE = SAMPLES / "ecommerce" / "DOUYIN" / "orders_20250304.xlsx"
ZWYP_SAMPLE = SAMPLES / "ecommerce" / "ZWYP" / "orders_20250304.jsonl"
WAYBILL_SAMPLE = SAMPLES / "courier" / "waybills_sample.jsonl"
EVENT_SAMPLE = SAMPLES / "courier" / "events_sample.jsonl"
OUTLET_SAMPLE = SAMPLES / "outlets" / "640521" / "网点台账_202503.xlsx"
REGISTRY_SAMPLE = SAMPLES / "registry" / "电商企业及培训台账_202503.xlsx"

DEID = Deidentifier(b"feeds-test-key")

# Clear personal information that appears in the samples and the hand-made files.
CLEAR_PII = (
    "13812345678", "13909551234", "13995512345", "13700001111", "13600002222", "13900003333",
    "13511112222", "13709550000", "15809551111", "13895501122", "13709558899", "09557012345",
    "李娜", "马建国", "王芳", "赵强", "王伟", "刘洋", "周敏", "张伟", "田小军", "孔德胜", "李梅", "李 梅",
    "tb_lina88", "大漠孤烟", "sunny_w", "张江镇碧波路88号", "宁夏中卫市中宁县鸣沙镇", "沙坡头区滨河镇长平社区",
    "上海市浦东新区张江镇", "Kowloon", "Chan Tai Man",
)

TAOBAO_ROW: dict[str, str] = dict(zip(TAOBAO_COLUMNS, [
    "3871204598312345678", "58231907", "中宁枸杞源头旗舰店", "tb_lina88", "118.00", "0.00", "118.00", "118.00",
    "卖家已发货，等待买家确认", "2025-03-04 09:12:44", "2025-03-04 09:13:02", "中宁枸杞 特级 500g*2", "2", "枸杞",
    "李娜", "上海 上海市 浦东新区 张江镇碧波路88号", "13812345678", "中通快递", "73190553102999", "", "0.00", "",
]))
PDD_ROW: dict[str, str] = dict(zip(PDD_COLUMNS, [
    "250304-123456789012346", "778812", "宁夏滩羊肉 羊排 2斤", "401928311", "2斤装", "羊肉", "2", "256.00", "20.00",
    "0.00", "236.00", "236.00", "已签收", "退款成功", "118.00", "2025-03-04 20:00:00", "2025-03-02 08:30:00",
    "2025-03-02 15:00:00", "2025-03-04 12:00:00", "韵达快递", "4312345678902", "刘洋", "13900003333", "江苏省",
    "南京市", "鼓楼区", "张江镇碧波路88号",
]))
DOUYIN_LINE: dict[str, Any] = dict(zip(DOUYIN_COLUMNS, [
    "6923481234567890123", "6923481234567890124", "4410928", "中宁枸杞 头茬 250g", "3588123", "枸杞", 2, 39.9, 69.8,
    0.0, "2025-03-04 20:15:01", "2025-03-04 20:15:20", "", "已发货", "无", 0.0, "", "dy_zw_host01", "7345001", "直播",
    "李娜", "13812345678", "上海市", "上海市", "浦东新区", "张江镇", "张江镇碧波路88号", "顺丰速运", "SF1234567890123",
]))
ZWYP_ORDER: dict[str, Any] = {
    "order_id": "ZW2025030400123", "shop_id": "zw-0042", "created_at": "2025-03-04T09:12:44+08:00",
    "paid_at": "2025-03-04T09:13:02+08:00", "status": "shipped", "channel": "miniapp",
    "items": [{"sku": "GQ-500", "name": "中宁枸杞 500g", "category": "枸杞", "qty": 2, "unit_price": "59.00"}],
    "shipping_fee": "0.00", "amount_paid": "118.00", "amount_refunded": "0.00", "refunded_at": None,
    "pickup_outlet_id": None, "buyer": {"name": "王芳", "phone": "13995512345"},
    "ship_to": {"area_code": "640522101203", "address": "海原县李旺镇"},
    "express": {"company": "ZTO", "waybill_no": "73190553102532"},
}
WAYBILL: dict[str, Any] = {
    "waybill_no": "SF1234567890123", "company": "SF", "accepted_at": "2025-03-04T10:21:00+08:00",
    "received_at": "2025-03-04T10:25:13+08:00", "origin_area_code": "640521101205", "dest_country": "CN",
    "dest_area_code": "310115", "weight_g": 2350, "fee_cny": "18.00", "service": "standard",
    "item_category": "agri", "e_waybill": True, "packaging": "green", "pickup_outlet_id": "ZW640521-0012",
    "order_ref": {"platform": "DOUYIN", "order_no": "6923481234567890123"},
    "sender": {"name": "马建国", "phone": "13909551234", "address": "宁夏中卫市中宁县鸣沙镇"},
    "receiver": {"name": "李娜", "phone": "13812345678", "address": "上海市浦东新区张江镇碧波路88号"},
}
EVENT: dict[str, Any] = {
    "waybill_no": "SF1234567890123", "company": "SF", "event_time": "2025-03-06T15:02:00+08:00",
    "received_at": "2025-03-06T15:09:41+08:00", "state": 3, "sub_state": 304, "area_code": "640521101205",
    "area_name": "宁夏中卫市中宁县", "outlet_id": "ZW640521-0012",
    "context": "快件已由驿站代收,联系电话 13909551234",
}
OUTLET_ROW: dict[str, Any] = dict(zip(OUTLET_COLUMNS, [
    1, "ZW640521-0012", "鸣沙镇电商快递兴农超市", "电商快递兴农超市", "鸣沙镇", "南塘村", "640521101205", 105.6612,
    37.4321, "中宁县鸣沙供销合作社", "91640521MA76XK8Q3T", "中通、圆通、邮政", "是", "是", "2022/5/1", "运营", "马建国",
    "13909551234", "联系 13909551234",
]))
ENTERPRISE_ROW: dict[str, Any] = dict(zip(ENTERPRISE_COLUMNS, [
    "91640521MA76YQ2N1C", "中宁县杞乡红电子商务有限公司", "中宁县", "电商企业", "是", "2022-06-01", "是", 2023,
    "TAOBAO:58231907;DOUYIN:4410928",
]))
TRAINING_ROW: dict[str, Any] = dict(zip(TRAINING_COLUMNS, [
    "PX2025-003", "农村电商直播带货实训班", "直播", "2025-03-10", "2025-03-14", 52, "中卫市电商公共服务中心",
]))
INFLUENCER_ROW: dict[str, Any] = dict(zip(INFLUENCER_COLUMNS, [
    "dy_zw_host01", "DOUYIN", "枸杞小妹阿娜", "91640502MA77CC4L3U", "2025-03-01", "孵化中",
]))


def variant(template: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A deep copy of a template with some fields changed (keys may be Chinese via **{...})."""
    row = copy.deepcopy(template)
    row.update(changes)
    return row


def jsonl_records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# ---------------------------------------------------------------- writers


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object] | dict[str, Any]],
              encoding: str) -> Path:
    """A CSV as the platform writes it; dict rows follow `header`, list rows are written as given."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([row.get(c, "") for c in header] if isinstance(row, dict) else row)
    return path


def taobao_cells(row: dict[str, Any]) -> list[object]:
    """A Taobao row with the order number in Excel-safe ="..." form."""
    cells = [row[c] for c in TAOBAO_COLUMNS]
    cells[0] = f'="{row["订单编号"]}"'
    return cells


def write_taobao(path: Path, rows: Sequence[dict[str, Any] | Sequence[object]], encoding: str = "gb18030") -> Path:
    return write_csv(path, TAOBAO_COLUMNS, [taobao_cells(r) if isinstance(r, dict) else r for r in rows], encoding)


def write_pdd(path: Path, rows: Sequence[dict[str, Any]], header: Sequence[str] = PDD_COLUMNS,
              encoding: str = "utf-8-sig") -> Path:
    return write_csv(path, header, rows, encoding)


def write_jsonl(path: Path, lines: Sequence[dict[str, Any] | str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n" for line in lines)
    path.write_bytes(text.encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    """A real workbook through openpyxl (slow: for small hand-made files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def write_douyin(path: Path, lines: Sequence[dict[str, Any]], header: Sequence[str] = DOUYIN_COLUMNS) -> Path:
    return write_xlsx(path, {"订单明细": [list(header), *([line.get(c, "") for c in header] for line in lines)]})


def outlet_sheet_rows(rows: Sequence[dict[str, Any]], *, totals: bool = True) -> list[list[object]]:
    """The 网点台账 layout: title, 填报 line, header, data, a blank row, the 合计 row."""
    width = len(OUTLET_COLUMNS)
    return [
        ["中宁县电商快递服务网点台账（2025年3月）"] + [None] * (width - 1),
        ["填报单位：中宁县商务局　　填报日期：2025-04-03"] + [None] * (width - 1),
        list(OUTLET_COLUMNS),
        *([row[c] for c in OUTLET_COLUMNS] for row in rows),
        *([[None] * width, ["合计", f"{len(rows)}个"] + [None] * (width - 2)] if totals else []),
    ]


def write_outlets(path: Path, rows: Sequence[dict[str, Any]]) -> Path:
    return write_xlsx(path, {"网点台账": outlet_sheet_rows(rows)})


def write_registry(path: Path, enterprises: Sequence[dict[str, Any]] = (ENTERPRISE_ROW,),
                   classes: Sequence[dict[str, Any]] = (TRAINING_ROW,),
                   hosts: Sequence[dict[str, Any]] = (INFLUENCER_ROW,), *, drop_sheet: str | None = None) -> Path:
    sheets = {
        "企业名录": [list(ENTERPRISE_COLUMNS), *([r[c] for c in ENTERPRISE_COLUMNS] for r in enterprises)],
        "培训班次": [list(TRAINING_COLUMNS), *([r[c] for c in TRAINING_COLUMNS] for r in classes)],
        "达人孵化": [list(INFLUENCER_COLUMNS), *([r[c] for c in INFLUENCER_COLUMNS] for r in hosts)],
    }
    sheets.pop(drop_sheet, None)
    return write_xlsx(path, sheets)


def truncate(path: Path, fraction: float = 0.6) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def write_xlsx_fast(path: Path, sheet: str, rows: Sequence[Sequence[object]]) -> Path:
    """A minimal valid xlsx (inline strings) for large generated sheets; openpyxl
    needs about a minute for 50k x 29 cells on a CI machine."""
    letters = [_column_letter(i) for i in range(max(len(r) for r in rows))]
    body = []
    for number, row in enumerate(rows, start=1):
        cells = []
        for index, value in enumerate(row):
            if value is None or value == "":
                continue
            ref = f"{letters[index]}{number}"
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                cells.append(f'<c r="{ref}"><v>{value!r}</v></c>')
            else:
                text = escape(str(value))
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>')
        body.append(f'<row r="{number}">{"".join(cells)}</row>')
    header = '<?xml version="1.0" encoding="UTF-8"?>'
    package = "http://schemas.openxmlformats.org/package/2006"
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    mime = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            f'{header}<Types xmlns="{package}/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{mime}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{mime}.worksheet+xml"/></Types>'),
        "_rels/.rels": (
            f'{header}<Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{office}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (
            f'{header}<workbook xmlns="{main}" xmlns:r="{office}"><sheets>'
            f'<sheet name="{escape(sheet)}" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'{header}<Relationships xmlns="{package}/relationships">'
            f'<Relationship Id="rId1" Type="{office}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": (
            f'{header}<worksheet xmlns="{main}"><sheetData>{"".join(body)}</sheetData></worksheet>'),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path


# ---------------------------------------------------------------- inspection


def dump(batch: ParsedBatch) -> str:
    """Every value a batch hands on, as text: tables, quarantine, warnings, metadata."""
    parts = [str(table.to_pylist()) for table in batch.tables.values()]
    parts += [str(batch.rejected), str(batch.warnings), str(batch.file_error), str(batch.metadata)]
    parts += [str(batch.rejected_table().to_pylist()), str(batch.warnings_table().to_pylist())]
    return "\n".join(parts)


def leaked(batch: ParsedBatch) -> list[str]:
    text = dump(batch)
    return [value for value in CLEAR_PII if value in text]
