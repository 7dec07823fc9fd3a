"""Platform order exports (ecommerce.md) -> one order shape across the four platforms.

Each export file becomes two tables: `orders` (one row per order in the file)
and `order_lines`. Amounts are integer fen. The same order recurs in later
exports as its status moves on; the warehouse keeps its newest export, so every
row carries `export_date` and `source_file`.

Counting: `rows_arrived` is physical records — CSV records for Taobao and PDD,
sheet rows (order lines) for Douyin, JSON lines for ZWYP. A Douyin order is taken
whole or not at all: when one of its lines is rejected, its sibling lines in the
same file are rejected too (`incomplete_order`).

Each file is read into columns and each rule runs once over its column
(`zhongwei.feeds.columns`). A row's reason is the first rule it fails, in the
order each parser below checks its columns: the order the record-by-record
parsers that came before used, which `tests/feeds/expected` holds them to.
"""
from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial, reduce
from itertools import chain
from operator import itemgetter
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zhongwei.feeds import reasons
from zhongwei.feeds.categories import category_notes
from zhongwei.feeds.columns import (
    Checked, Rules, amounts, constant, each, empty_as_null, fields, flagged, instants, integers, matching,
    objects, of_owners, optional_texts, per_distinct, products, rows_of, sums, texts, vetted,
)
from zhongwei.feeds.common import (
    UTC_TIMESTAMP, Candidate, Collector, ParsedBatch, Rejected, RowError, file_stamp, nfkc_keys, norm_text,
    optional_text, read_file_guarded, required_text, to_count, to_fen, to_instant,
)
from zhongwei.feeds.contract import (
    AFTER_SALES_NONE, AFTER_SALES_PENDING, AFTER_SALES_REFUNDED, CITY_SUFFIXES, DISTRICT_SUFFIXES,
    DOUYIN_COLUMNS, DOUYIN_PII_COLUMNS, DOUYIN_SHEET, DOUYIN_STATUS, DOUYIN_TRAFFIC_SOURCES,
    EXPORT_FILE_NAMES, EXPRESS_ALIASES, LIVESTREAM_CHANNEL, MUNICIPALITIES, ORDER_NO_PATTERNS,
    PDD_COLUMNS, PDD_ENCODING, PDD_PII_COLUMNS, PDD_STATUS, PROVINCE_SHORT_NAMES,
    PROVINCE_SUFFIXES, STORE_PICKUP_CHANNEL, TAOBAO_COLUMNS, TAOBAO_ENCODING, TAOBAO_PII_COLUMNS,
    TAOBAO_STATUS, ZWYP_CHANNELS, ZWYP_STATUS,
)
from zhongwei.feeds.divisions import Divisions, default_divisions
from zhongwei.feeds.jsonfields import obj, of_value, optional_object, optional_string, string
from zhongwei.feeds.pii import Deidentifier, is_masked
from zhongwei.feeds.readers import (
    JsonLines, TextColumns, csv_columns, decode_json_object, jsonl_lines, open_workbook, sheet_columns, sheet_rows,
)
from zhongwei.reference import PLATFORMS

ORDER_SCHEMA = pa.schema([
    ("platform", pa.string()), ("order_no", pa.string()), ("shop_id", pa.string()),
    ("export_date", pa.date32()), ("source_file", pa.string()), ("source_row", pa.int32()),
    ("status_raw", pa.string()), ("status", pa.string()),
    ("created_at", UTC_TIMESTAMP), ("paid_at", UTC_TIMESTAMP), ("completed_at", UTC_TIMESTAMP),
    ("goods_fen", pa.int64()), ("shipping_fen", pa.int64()), ("paid_fen", pa.int64()),
    ("refund_fen", pa.int64()), ("refund_requested_fen", pa.int64()), ("refunded_at", UTC_TIMESTAMP),
    ("channel", pa.string()), ("is_livestream_order", pa.bool_()),
    ("buyer_name_hash", pa.string()), ("buyer_name_masked", pa.string()), ("member_name_hash", pa.string()),
    ("buyer_phone_hash", pa.string()), ("buyer_phone_masked", pa.string()), ("address_hash", pa.string()),
    ("province", pa.string()), ("city", pa.string()), ("district", pa.string()),
    ("ship_to_area_code", pa.string()),
    ("express_company", pa.string()), ("waybill_no", pa.string()), ("pickup_outlet_id", pa.string()),
])
LINE_SCHEMA = pa.schema([
    ("platform", pa.string()), ("order_no", pa.string()), ("line_no", pa.int32()),
    ("sub_order_no", pa.string()), ("export_date", pa.date32()),
    ("product_name", pa.string()), ("product_id", pa.string()), ("category_text", pa.string()),
    ("qty", pa.int64()), ("unit_price_fen", pa.int64()), ("amount_fen", pa.int64()),
    ("line_refund_fen", pa.int64()),
    ("live_room_id", pa.string()), ("influencer_id", pa.string()), ("traffic_source", pa.string()),
])
SCHEMAS = {"orders": ORDER_SCHEMA, "order_lines": LINE_SCHEMA}

_TAOBAO_STATUS = nfkc_keys(TAOBAO_STATUS)
_PDD_STATUS = nfkc_keys(PDD_STATUS)
_DOUYIN_STATUS = nfkc_keys(DOUYIN_STATUS)
_EXPRESS = nfkc_keys(EXPRESS_ALIASES)
_AFTER_SALES = frozenset(AFTER_SALES_NONE | {AFTER_SALES_PENDING, AFTER_SALES_REFUNDED})
_EXCEL_TEXT = re.compile(r'^="?(.*?)"?$')
_STATUS_TYPE = pa.struct([("raw", pa.string()), ("status", pa.string())])
_HASH_AND_MASK = pa.struct([("hash", pa.string()), ("masked", pa.string())])
_NO_INSTANT = np.iinfo(np.int64).min  # below every instant: "no refund time" while taking an order's latest
_REGION_TYPE = pa.struct([("province", pa.string()), ("city", pa.string()), ("district", pa.string())])

Notes = list[tuple[str, str]]


@dataclass(frozen=True)
class _Export:
    """What every row of one export file shares."""

    platform: str
    export_date: date
    source_file: str
    deid: Deidentifier
    divisions: Divisions


# ---------------------------------------------------------------- shared field rules


def _order_no(value: object, platform: str, name: str) -> str:
    text = required_text(value, name)
    if not ORDER_NO_PATTERNS[platform].match(text):
        raise RowError(reasons.MALFORMED_RECORD, f"{name} {text!r} is not a {platform} order number")
    return text


def _status(value: object, name: str, mapping: Mapping[str, str]) -> tuple[str, str]:
    """(status as written, normalised status); an unknown status is malformed.

    Lookup is after NFKC (partners mix ，and ,); the raw text is kept as written.
    """
    text = required_text(value, name)
    if text not in mapping:
        raise RowError(reasons.MALFORMED_RECORD, f"{name} {text!r} is not a known status")
    return str(value).strip(), mapping[text]


def _after_sales(value: object, name: str) -> str:
    text = required_text(value, name)
    if text not in _AFTER_SALES:
        raise RowError(reasons.MALFORMED_RECORD, f"{name} {text!r} is not a known after-sales state")
    return text


def _express(value: object) -> str | None:
    """A courier code when the name is known, else the name as given."""
    text = optional_text(value)
    return _EXPRESS.get(text, text) if text else None


def _place(value: object) -> str | None:
    """A province/city/district cell; masked cells are no place."""
    text = optional_text(value)
    return None if text is None or is_masked(text) else text


def _province(token: str) -> str | None:
    if token in PROVINCE_SHORT_NAMES:
        return PROVINCE_SHORT_NAMES[token]
    return token if token in MUNICIPALITIES or token.endswith(PROVINCE_SUFFIXES) else None


def _taobao_region(address: object) -> tuple[str | None, str | None, str | None]:
    """Province, city, district from the first tokens of 收货地址, only when clearly so."""
    tokens = [t for t in norm_text(address).split() if not is_masked(t)]
    province = _province(tokens[0]) if tokens else None
    city = tokens[1] if province and len(tokens) > 1 and tokens[1].endswith(CITY_SUFFIXES) else None
    district = tokens[2] if city and len(tokens) > 2 and tokens[2].endswith(DISTRICT_SUFFIXES) else None
    return province, city, district


def _excel_text(value: object) -> str:
    """The text inside Taobao's Excel-safe `="3871..."` wrapper (or the value as it is)."""
    text = norm_text(value)
    wrapped = _EXCEL_TEXT.match(text)
    return wrapped.group(1) if wrapped else text


# ---------------------------------------------------------------- TAOBAO, PDD


def _taobao_columns(table: TextColumns, export: _Export, col: Collector) -> dict[str, pa.Table]:
    """Taobao's rules on whole columns: one order (and its only line) per CSV record."""
    cell = table.columns()
    rules = Rules()
    written = texts(cell["订单编号"])
    unwrapped = pc.replace_substring_regex(written, pattern=_EXCEL_TEXT.pattern, replacement=r"\1")
    order_no = rules.check(vetted(cell["订单编号"], unwrapped,
                                  pc.match_substring_regex(unwrapped, ORDER_NO_PATTERNS["TAOBAO"].pattern),
                                  lambda value: _order_no(_excel_text(value), "TAOBAO", "订单编号")))
    status = rules.check(per_distinct(cell["订单状态"], partial(_status, name="订单状态", mapping=_TAOBAO_STATUS),
                                      _STATUS_TYPE))
    goods = rules.check(amounts(cell["买家应付货款"], partial(to_fen, name="买家应付货款")))
    refund = rules.check(amounts(cell["退款金额"], partial(to_fen, name="退款金额", default=0)))
    refunded_at = rules.check(instants(cell["退款完成时间"], partial(to_instant, name="退款完成时间", required=False)))
    shop_id = rules.check(per_distinct(cell["店铺Id"], partial(required_text, name="店铺Id"), pa.string()))
    created_at = rules.check(instants(cell["订单创建时间"], partial(to_instant, name="订单创建时间")))
    paid_at = rules.check(instants(cell["订单付款时间"], partial(to_instant, name="订单付款时间", required=False)))
    shipping = rules.check(amounts(cell["买家应付邮费"], partial(to_fen, name="买家应付邮费", default=0)))
    paid = rules.check(amounts(cell["买家实际支付金额"], partial(to_fen, name="买家实际支付金额")))
    qty = rules.check(per_distinct(cell["宝贝总数量"], partial(to_count, name="宝贝总数量", minimum=1), pa.int64()))
    refunded = pc.is_valid(refunded_at)
    region = per_distinct(cell["收货地址"], _taobao_region, _REGION_TYPE).values
    n = len(table)
    orders = {
        **_export_columns(export, table.numbers), "order_no": order_no, "shop_id": shop_id,
        **_status_columns(status), "created_at": created_at, "paid_at": paid_at,
        "goods_fen": goods, "shipping_fen": shipping, "paid_fen": paid,
        "refund_fen": pc.if_else(refunded, refund, 0), "refund_requested_fen": pc.if_else(refunded, 0, refund),
        "refunded_at": refunded_at, "is_livestream_order": constant(False, pa.bool_(), n),
        "member_name_hash": per_distinct(cell["买家会员名"], export.deid.hash, pa.string()).values,
        **_buyer_columns(cell["收货人姓名"], cell["联系手机"], export.deid),
        "address_hash": per_distinct(cell["收货地址"], export.deid.hash, pa.string()).values,
        "province": pc.struct_field(region, 0), "city": pc.struct_field(region, 1),
        "district": pc.struct_field(region, 2),
        "express_company": per_distinct(cell["物流公司"], _express, pa.string()).values,
        "waybill_no": empty_as_null(texts(cell["物流单号"])),
    }
    lines = {
        **_line_columns(orders), "product_name": empty_as_null(texts(cell["宝贝标题"])),
        "category_text": per_distinct(cell["商品类目"], optional_text, pa.string()).values,
        "qty": qty, "amount_fen": goods,
    }
    return _one_order_per_record(table, col, rules, _columns_table(orders, ORDER_SCHEMA),
                                 _columns_table(lines, LINE_SCHEMA))


def _export_columns(export: _Export, source_rows: Sequence[int]) -> dict[str, pa.Array]:
    """The columns every order of one export file shares, and where each came from."""
    n = len(source_rows)
    return {"platform": constant(export.platform, pa.string(), n),
            "export_date": constant(export.export_date, pa.date32(), n),
            "source_file": constant(export.source_file, pa.string(), n),
            "source_row": pa.array(source_rows, pa.int32())}


def _status_columns(status: pa.Array) -> dict[str, pa.Array]:
    return {"status_raw": pc.struct_field(status, 0), "status": pc.struct_field(status, 1)}


def _buyer_columns(name: pa.Array, phone: pa.Array, deid: Deidentifier) -> dict[str, pa.Array]:
    """The buyer's name and phone as hashes and masks (their clear values go no further)."""
    names = per_distinct(name, deid.name, _HASH_AND_MASK).values
    phones = per_distinct(phone, deid.phone, _HASH_AND_MASK).values
    return {"buyer_name_hash": pc.struct_field(names, 0), "buyer_name_masked": pc.struct_field(names, 1),
            "buyer_phone_hash": pc.struct_field(phones, 0), "buyer_phone_masked": pc.struct_field(phones, 1)}


def _line_columns(orders: dict[str, pa.Array]) -> dict[str, pa.Array]:
    """An order's only line (line 0) takes its platform, number and export date."""
    return {"platform": orders["platform"], "order_no": orders["order_no"], "export_date": orders["export_date"],
            "line_no": constant(0, pa.int32(), len(orders["order_no"]))}


def _pdd_columns(table: TextColumns, export: _Export, col: Collector) -> dict[str, pa.Table]:
    """PDD's rules on whole columns: one order (and its only line) per CSV record."""
    cell = table.columns()
    rules = Rules()
    order_no = rules.check(matching(cell["订单号"], ORDER_NO_PATTERNS["PDD"].pattern,
                                    partial(_order_no, platform="PDD", name="订单号")))
    status = rules.check(per_distinct(cell["订单状态"], partial(_status, name="订单状态", mapping=_PDD_STATUS),
                                      _STATUS_TYPE))
    after_sales = rules.check(per_distinct(cell["售后状态"], partial(_after_sales, name="售后状态"), pa.string()))
    paid = rules.check(amounts(cell["用户实付金额(元)"], partial(to_fen, name="用户实付金额(元)")))
    refund = rules.check(amounts(cell["退款金额(元)"], partial(to_fen, name="退款金额(元)", default=0)))
    refunded_at = rules.check(instants(cell["退款时间"], partial(to_instant, name="退款时间", required=False)))
    paid_at = rules.check(instants(cell["订单成交时间"], partial(to_instant, name="订单成交时间")))
    shop_id = rules.check(per_distinct(cell["店铺id"], partial(required_text, name="店铺id"), pa.string()))
    completed_at = rules.check(instants(cell["确认收货时间"], partial(to_instant, name="确认收货时间", required=False)))
    qty = rules.check(per_distinct(cell["商品数量(件)"], partial(to_count, name="商品数量(件)", minimum=1), pa.int64()))
    refunded = pc.equal(after_sales, AFTER_SALES_REFUNDED)
    region = [texts(cell[name]) for name in ("省", "市", "区")]
    n = len(table)
    orders = {
        **_export_columns(export, table.numbers), "order_no": order_no, "shop_id": shop_id,
        **_status_columns(status), "created_at": paid_at, "paid_at": paid_at, "completed_at": completed_at,
        "goods_fen": paid, "shipping_fen": constant(0, pa.int64(), n), "paid_fen": paid,
        "refund_fen": pc.if_else(refunded, refund, 0),
        "refund_requested_fen": pc.if_else(pc.equal(after_sales, AFTER_SALES_PENDING), refund, 0),
        "refunded_at": pc.if_else(refunded, refunded_at, pa.scalar(None, UTC_TIMESTAMP)),
        "is_livestream_order": constant(False, pa.bool_(), n),
        **_buyer_columns(cell["收货人"], cell["手机"], export.deid),
        "address_hash": _address_hashes(region, [texts(cell["街道"])], export.deid),
        "province": per_distinct(cell["省"], _place, pa.string()).values,
        "city": per_distinct(cell["市"], _place, pa.string()).values,
        "district": per_distinct(cell["区"], _place, pa.string()).values,
        "express_company": per_distinct(cell["快递公司"], _express, pa.string()).values,
        "waybill_no": empty_as_null(texts(cell["快递单号"])),
    }
    lines = {
        **_line_columns(orders), "product_name": empty_as_null(texts(cell["商品"])),
        "product_id": empty_as_null(texts(cell["商品id"])),
        "category_text": per_distinct(cell["商品类目"], optional_text, pa.string()).values,
        "qty": qty, "amount_fen": paid,
    }
    return _one_order_per_record(
        table, col, rules, _columns_table(orders, ORDER_SCHEMA), _columns_table(lines, LINE_SCHEMA),
    )


def _columns_table(columns: dict[str, pa.Array], schema: pa.Schema) -> pa.Table:
    """A table of `schema` from the columns given; the others null."""
    length = len(next(iter(columns.values())))
    return pa.table([columns[f.name] if f.name in columns else pa.nulls(length, f.type) for f in schema],
                    schema=schema)


def _address_hashes(region: list[pa.Array], street: list[pa.Array], deid: Deidentifier) -> pa.Array:
    """The whole address hashed, region and street parts joined (once per distinct address); none
    without a street part: it would not identify anyone."""
    parts = [empty_as_null(part) for part in (*region, *street)]
    joined = pc.binary_join_element_wise(*parts, " ", null_handling="skip")
    has_street = reduce(pc.or_, [pc.is_valid(part) for part in parts[len(region):]])
    return per_distinct(pc.if_else(has_street, joined, None), deid.hash, pa.string()).values


def _one_order_per_record(
    table: TextColumns | JsonLines, col: Collector, rules: Rules, orders: pa.Table, lines: pa.Table,
    owner: np.ndarray | None = None,
) -> dict[str, pa.Table]:
    """The rows of a file with one order per record: its rejects, repeats and conflicts, in the
    order `Collector` records them (row by row in file order, then conflicts key by key).

    `owner` is the order row of each line, in order (ZWYP orders have several); without
    it line `i` is order `i`'s only line. A repeat is the same order with the same lines.
    """
    errors = rules.first_errors()
    owner = np.arange(len(table)) if owner is None else owner
    rejected = dict(table.rejected)
    for row, error in errors.items():
        rejected[table.numbers[row]] = Rejected(table.location(row), error.reason, error.detail, table.raw(row))
    col.rejected.extend(rejected[number] for number in sorted(rejected))
    good = np.ones(len(table), dtype=bool)
    good[list(errors)] = False
    keep = good.copy()
    key = orders.column("order_no")
    per_key = pc.value_counts(pc.filter(key, good))
    repeated = pc.filter(per_key.field("values"), pc.greater(per_key.field("counts"), 1))
    if len(repeated):
        content = [name for name in orders.column_names if name != "source_row"]
        rows = np.flatnonzero(good & pc.is_in(key, repeated).to_numpy(zero_copy_only=False))
        copies: dict[str, list[int]] = {}
        for row, order_no in zip(rows.tolist(), key.take(rows).to_pylist()):
            copies.setdefault(order_no, []).append(row)
        their_lines = np.flatnonzero(np.isin(owner, rows))
        lines_of: dict[int, list[tuple[object, ...]]] = {}
        for row, line in zip(owner[their_lines].tolist(), rows_of(lines.columns, their_lines.tolist())):
            lines_of.setdefault(row, []).append(line)
        as_rows = {row: (order, lines_of.get(row)) for row, order in
                   zip(rows.tolist(), rows_of([orders.column(c) for c in content], rows.tolist()))}
        for order_no, group in copies.items():
            keep[group[1:]] = False
            if all(as_rows[row] == as_rows[group[0]] for row in group[1:]):
                col.duplicates += len(group) - 1
                continue
            keep[group[0]] = False
            where = ", ".join(table.location(row) for row in group)
            detail = f"order {order_no} occurs {len(group)} times with different values ({where})"
            col.rejected.extend(Rejected(table.location(row), reasons.CONFLICTING_DUPLICATE, detail, table.raw(row))
                                for row in group)
    rules.check_loaded(np.flatnonzero(keep).tolist())
    kept_lines = pa.array(keep[owner])
    category = lines.column("category_text").filter(kept_lines)
    for row, text in zip(owner[keep[owner]].tolist(), category.to_pylist()):
        for reason, detail in category_notes(text):
            col.warnings.append(Rejected(table.location(row), reason, detail, table.raw(row)))
    col.loaded += int(keep.sum())
    return {"orders": orders.filter(pa.array(keep)), "order_lines": lines.filter(kept_lines)}


def _douyin_columns(table: TextColumns, export: _Export, col: Collector) -> dict[str, pa.Table]:
    """Douyin's rules on whole columns: a sheet row per order line.

    A row's own rules come first (its line's values, then the order-level values its order
    takes from its first line); the order rules are `_whole_orders`, on row numbers.
    """
    cell = table.columns()
    rules = Rules()
    order_number = ORDER_NO_PATTERNS["DOUYIN"].pattern
    text = partial(per_distinct, rule=optional_text, type_=pa.string())
    order_no = rules.check(matching(cell["主订单编号"], order_number,
                                    partial(_order_no, platform="DOUYIN", name="主订单编号")))
    status = rules.check(per_distinct(cell["订单状态"], partial(_status, name="订单状态", mapping=_DOUYIN_STATUS),
                                      _STATUS_TYPE))
    after_sales = rules.check(per_distinct(cell["售后状态"], partial(_after_sales, name="售后状态"), pa.string()))
    refund = rules.check(amounts(cell["退款金额"], partial(to_fen, name="退款金额", default=0), floats=True))
    refunded = pc.equal(after_sales, AFTER_SALES_REFUNDED)
    line = {
        "sub_order_no": rules.check(matching(cell["子订单编号"], order_number,
                                             partial(_order_no, platform="DOUYIN", name="子订单编号"))),
        "product_name": rules.check(text(cell["选购商品"])), "product_id": rules.check(text(cell["商品ID"])),
        "category_text": rules.check(text(cell["商品类目"])),
        "qty": rules.check(per_distinct(cell["商品数量"], partial(to_count, name="商品数量", minimum=1), pa.int64())),
        "unit_price_fen": rules.check(amounts(cell["商品单价"], partial(to_fen, name="商品单价"), floats=True)),
        "amount_fen": rules.check(amounts(cell["订单应付金额"], partial(to_fen, name="订单应付金额"), floats=True)),
        "line_refund_fen": pc.if_else(refunded, refund, pa.scalar(None, pa.int64())),
        "live_room_id": rules.check(text(cell["直播间ID"])), "influencer_id": rules.check(text(cell["达人ID"])),
        "traffic_source": rules.check(text(cell["流量来源"])),
    }
    excel_instant = partial(to_instant, excel=True)
    head = {
        **_status_columns(status),
        "created_at": rules.check(instants(cell["订单提交时间"], partial(excel_instant, name="订单提交时间"))),
        "paid_at": rules.check(instants(cell["支付完成时间"],
                                        partial(excel_instant, name="支付完成时间", required=False))),
        "completed_at": rules.check(instants(cell["订单完成时间"],
                                             partial(excel_instant, name="订单完成时间", required=False))),
        **_buyer_columns(cell["收件人"], cell["收件人手机号"], export.deid),
    }
    # `address_hash` reads the street parts first, and the region only when a street part is there;
    # the region's cells fail the same way in `_place` right after, so checking them there is the same.
    street = [rules.check(per_distinct(cell[name], norm_text, pa.string())) for name in ("街道", "详细地址")]
    places = {key: rules.check(per_distinct(cell[name], _place, pa.string()))
              for key, name in (("province", "省"), ("city", "市"), ("district", "区"))}
    region = [per_distinct(cell[name], norm_text, pa.string()).values for name in ("省", "市", "区")]
    head.update(address_hash=_address_hashes(region, street, export.deid), **places,
                express_company=rules.check(per_distinct(cell["快递公司"], _express, pa.string())),
                waybill_no=rules.check(text(cell["快递单号"])))
    shop_id = rules.check(per_distinct(cell["店铺ID"], partial(required_text, name="店铺ID"), pa.string()))
    shipping = rules.check(amounts(cell["运费"], partial(to_fen, name="运费", default=0), floats=True))
    refunded_at = rules.check(instants(cell["退款时间"], partial(excel_instant, name="退款时间", required=False)))

    # What two copies of one line are compared on (all but the position), for the rows whose
    # (主订单编号, 子订单编号) occurs more than once.
    keys = list(zip(order_no.to_pylist(), line["sub_order_no"].to_pylist()))
    counts = Counter(keys)
    repeated = [row for row, key in enumerate(keys) if counts[key] > 1]
    compared = [shop_id, *line.values(), *head.values(), shipping, after_sales, refund, refunded_at]
    content = dict(zip(repeated, rows_of(compared, repeated))).__getitem__  # `unique` compares only these
    errors = rules.first_errors()
    shops, categories = shop_id.to_pylist(), line["category_text"].to_pylist()
    notes = {category: category_notes(category) for category in set(categories)}
    claimed = per_distinct(cell["主订单编号"], _douyin_key, pa.string()).values.to_pylist()

    def outcomes() -> Iterable[_SheetRow]:
        """The rows in file order, the reader's rejects among them (they claim no order)."""
        rows = ((number, row) for row, number in enumerate(table.numbers))
        for number, row in heapq.merge(table.rejected, rows, key=itemgetter(0)):
            if isinstance(row, Rejected):
                yield row.location, partial(getattr, row, "raw"), _no_order, RowError(row.reason, row.detail)
            elif row in errors:
                yield table.location(row), partial(table.raw, row), partial(claimed.__getitem__, row), errors[row]
            else:
                (order, sub_order), category = keys[row], categories[row]
                yield (table.location(row), partial(table.raw, row), partial(claimed.__getitem__, row),
                       (order, sub_order, shops[row], row, notes[category]))

    whole = _whole_orders(outcomes(), col, content)
    rules.check_loaded(list(chain.from_iterable(whole)))
    if not whole:
        return {name: schema.empty_table() for name, schema in SCHEMAS.items()}
    return _douyin_tables(whole, table, export, order_no, shop_id, line, head, shipping, after_sales, refund,
                          refunded_at)


def _douyin_tables(
    whole: list[list[int]], table: TextColumns, export: _Export, order_no: pa.Array, shop_id: pa.Array,
    line: dict[str, pa.Array], head: dict[str, pa.Array], shipping: pa.Array, after_sales: pa.Array,
    refund: pa.Array, refunded_at: pa.Array,
) -> dict[str, pa.Table]:
    """Orders and their numbered lines from `whole`, each order's rows: an order takes its order-level
    values from its first line, its amounts are its lines' sums, its channel is live streaming when
    a line came from a live room, else its first traffic source's."""
    sizes = np.array([len(group) for group in whole])
    starts = np.cumsum(sizes) - sizes
    rows = np.fromiter(chain.from_iterable(whole), dtype=np.int64, count=int(sizes.sum()))
    picked, firsts = pa.array(rows), pa.array(rows[starts])

    def total(values: pa.Array) -> np.ndarray:
        cells = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)[rows]
        if len(cells) and int(cells.max()) * int(sizes.max()) >= 2**63:
            cells = cells.astype(object)  # summed in Python ints: a sum beyond int64 then fails in Arrow, not wraps
        return np.add.reduceat(cells, starts)

    def where(mask: pa.Array) -> np.ndarray:
        return pc.fill_null(mask, False).to_numpy(zero_copy_only=False)[rows]

    goods, shipped = total(line["amount_fen"]), total(shipping)
    refunded = pc.equal(after_sales, AFTER_SALES_REFUNDED)
    at = pc.if_else(refunded, refunded_at, pa.scalar(None, UTC_TIMESTAMP)).cast(pa.int64())
    latest = np.maximum.reduceat(pc.fill_null(at, _NO_INSTANT).to_numpy()[rows], starts)
    # The first line with a traffic source, per order (past the last row when none has one).
    with_source = np.where(where(pc.is_valid(line["traffic_source"])), np.arange(len(rows)), len(rows))
    first_source = np.minimum.reduceat(with_source, starts)
    source = pc.if_else(pa.array(first_source < len(rows)),
                        line["traffic_source"].take(pa.array(rows[np.minimum(first_source, len(rows) - 1)])), None)
    channel = pc.if_else(pa.array(np.logical_or.reduceat(where(pc.is_valid(line["live_room_id"])), starts)),
                         LIVESTREAM_CHANNEL, per_distinct(source, _douyin_channel, pa.string()).values)
    orders = {
        **_export_columns(export, np.asarray(table.numbers)[rows[starts]].tolist()),
        "order_no": order_no.take(firsts), "shop_id": shop_id.take(firsts),
        **{name: values.take(firsts) for name, values in head.items()},
        "goods_fen": pa.array(goods, pa.int64()), "shipping_fen": pa.array(shipped, pa.int64()),
        "paid_fen": pc.if_else(pc.is_valid(head["paid_at"].take(firsts)),
                               pa.array(goods.astype(object) + shipped, pa.int64()), 0),
        "refund_fen": pa.array(total(pc.if_else(refunded, refund, 0)), pa.int64()),
        "refund_requested_fen": pa.array(total(pc.if_else(pc.equal(after_sales, AFTER_SALES_PENDING), refund, 0)),
                                         pa.int64()),
        "refunded_at": pa.array(latest, mask=latest == _NO_INSTANT).cast(UTC_TIMESTAMP),
        "channel": channel, "is_livestream_order": pc.fill_null(pc.equal(channel, LIVESTREAM_CHANNEL), False),
    }
    lines = {
        "platform": constant(export.platform, pa.string(), len(rows)), "order_no": order_no.take(picked),
        "line_no": pa.array(np.arange(len(rows)) - np.repeat(starts, sizes), pa.int32()),
        "export_date": constant(export.export_date, pa.date32(), len(rows)),
        **{name: values.take(picked) for name, values in line.items()},
    }
    return {"orders": _columns_table(orders, ORDER_SCHEMA), "order_lines": _columns_table(lines, LINE_SCHEMA)}


def _no_order() -> None:
    return None


def _douyin_channel(traffic: str | None) -> str | None:
    """An order's channel from its first traffic source (when no line came from a live room)."""
    return DOUYIN_TRAFFIC_SOURCES.get(traffic, traffic) if traffic else None


# ---------------------------------------------------------------- ZWYP

_PICKUP_WITHOUT_OUTLET = "a store_pickup order without pickup_outlet_id"
# Order numbers the columnar path takes as they are: printable ASCII without spaces (RE2's
# \S is ASCII-only, Python's is not: anything else takes `_order_no`).
_PLAIN_ZWYP_ORDER_NO = r"^[!-~]+$"


def _zwyp_order_no(value: object) -> str:
    return _order_no(of_value(string, "order_id")(value), "ZWYP", "order_id")


def _zwyp_status(value: object) -> tuple[str, str]:
    return _status(of_value(string, "status")(value), "status", ZWYP_STATUS)


def _zwyp_channel(value: object) -> str:
    channel = of_value(string, "channel")(value)
    if channel not in ZWYP_CHANNELS:
        raise RowError(reasons.MALFORMED_RECORD, f"channel {channel!r} is not one of {sorted(ZWYP_CHANNELS)}")
    return channel


def _zwyp_items(value: object) -> list[dict[str, Any]]:
    if not isinstance(value, list) or not value or not all(isinstance(i, dict) for i in value):
        raise RowError(reasons.MALFORMED_RECORD, "items must be a non-empty list of objects")
    return value


def _zwyp_area_code(divisions: Divisions, code: str | None) -> str | None:
    return divisions.check(code, "ship_to.area_code") if code else None


def _zwyp_columns(table: JsonLines, export: _Export, col: Collector) -> dict[str, pa.Table]:
    """ZWYP's rules on whole columns: one order, with its items, per JSON line.

    Lines are decoded by json.loads (in C); each field's values are then checked as a
    column (values of another JSON type take the scalar rule, which says why they are
    wrong), the order's fields first, its items (one row per line) in between, then the rest.
    """
    rules = Rules()
    data, decoded = each(table.lines, decode_json_object, {})
    rules.check(decoded)

    def text(records: list[dict[str, Any]], key: str, check: Callable[..., Checked] = optional_texts,
             rule: Callable[[Any], Any] | None = None) -> pa.Array:
        """A field of `records` checked as a column by `check` (by default: optional text); `rule` takes
        what Arrow cannot vouch for."""
        return rules.check(check(fields(records, key), rule=rule or of_value(optional_string, key)))

    def amount(key: str) -> pa.Array:
        return text(data, key, amounts, partial(to_fen, name=key, strings_only=True))

    def instant(key: str, **options: Any) -> pa.Array:
        return text(data, key, instants, partial(to_instant, name=key, **options))

    order_no = text(data, "order_id", partial(matching, pattern=_PLAIN_ZWYP_ORDER_NO), _zwyp_order_no)
    status = text(data, "status", partial(per_distinct, type_=_STATUS_TYPE), _zwyp_status)
    channel = text(data, "channel", partial(per_distinct, type_=pa.string()), _zwyp_channel)
    pickup_outlet = text(data, "pickup_outlet_id")
    rules.check(flagged(pc.and_(pc.equal(channel, STORE_PICKUP_CHANNEL), pc.is_null(pickup_outlet)),
                        RowError(reasons.MALFORMED_RECORD, _PICKUP_WITHOUT_OUTLET)))
    items, listed = each(fields(data, "items"), _zwyp_items, [])
    rules.check(listed)
    owner = np.repeat(np.arange(len(items)), [len(its) for its in items])
    item = [i for its in items for i in its]
    line_rules = Rules()
    qty = line_rules.check(integers(fields(item, "qty"), partial(to_count, name="items.qty", minimum=1, ints_only=True),
                                    lambda ints: pc.greater_equal(ints, 1)))
    unit_price = line_rules.check(amounts(fields(item, "unit_price"),
                                          partial(to_fen, name="items.unit_price", strings_only=True)))
    product = {column: line_rules.check(optional_texts(fields(item, key), of_value(optional_string, key)))
               for column, key in (("product_name", "name"), ("product_id", "sku"), ("category_text", "category"))}
    amount_fen = line_rules.check(products(qty, unit_price))
    rules.check(of_owners(line_rules, owner))
    refunded = amount("amount_refunded")
    refunded_at = instant("refunded_at", required=False)
    buyer, checked = objects(fields(data, "buyer"), of_value(obj, "buyer"))
    rules.check(checked)
    ship_to, checked = objects(fields(data, "ship_to"), of_value(optional_object, "ship_to"))
    rules.check(checked)
    area_code = text(ship_to, "area_code")
    express, checked = objects(fields(data, "express"), of_value(optional_object, "express"))
    rules.check(checked)
    shop_id = text(data, "shop_id", partial(per_distinct, type_=pa.string()), of_value(string, "shop_id"))
    created_at = instant("created_at")
    paid_at = instant("paid_at", required=False)
    shipping = amount("shipping_fee")
    paid = amount("amount_paid")
    buyer_name, buyer_phone = text(buyer, "name"), text(buyer, "phone")
    address = text(ship_to, "address")
    area_code = rules.check(per_distinct(area_code, partial(_zwyp_area_code, export.divisions), pa.string()))
    express_company = text(express, "company")
    waybill_no = text(express, "waybill_no")

    goods = rules.check(sums(amount_fen, owner, len(table)))
    orders = {
        **_export_columns(export, table.numbers), "order_no": order_no, "shop_id": shop_id,
        **_status_columns(status), "created_at": created_at, "paid_at": paid_at,
        "goods_fen": goods, "shipping_fen": shipping, "paid_fen": paid,
        "refund_fen": pc.if_else(pc.is_valid(refunded_at), refunded, 0),
        "refund_requested_fen": constant(0, pa.int64(), len(table)), "refunded_at": refunded_at,
        "channel": channel, "is_livestream_order": pc.equal(channel, LIVESTREAM_CHANNEL),
        **_buyer_columns(buyer_name, buyer_phone, export.deid),
        "address_hash": per_distinct(address, export.deid.hash, pa.string()).values,
        "ship_to_area_code": area_code,
        "express_company": per_distinct(express_company, _express, pa.string()).values,
        "waybill_no": waybill_no, "pickup_outlet_id": pickup_outlet,
    }
    at = pa.array(owner, pa.int64())
    lines = {
        "platform": constant(export.platform, pa.string(), len(item)), "order_no": order_no.take(at),
        # a line's place in its order: its row less its order's first line's row
        "line_no": pa.array(np.arange(len(item)) - np.searchsorted(owner, owner), pa.int32()),
        "export_date": constant(export.export_date, pa.date32(), len(item)),
        **product, "qty": qty, "unit_price_fen": unit_price, "amount_fen": amount_fen,
    }
    return _one_order_per_record(table, col, rules, _columns_table(orders, ORDER_SCHEMA),
                                 _columns_table(lines, LINE_SCHEMA), owner)


# ---------------------------------------------------------------- DOUYIN


def _douyin_key(value: object) -> str | None:
    """The 主订单编号 a row claims, when it can be read at all (to find its siblings)."""
    try:
        return norm_text(value) or None
    except RowError:
        return None


# A sheet row's outcome once its cells are parsed: the RowError, or
# (主订单编号, 子订单编号, 店铺ID, its row among the checked rows, its notes).
_SheetLine = tuple[str, str, str, int, Notes]
# (location, raw text, the 主订单编号 it claims when readable, its outcome)
_SheetRow = tuple[str, Callable[[], str], Callable[[], str | None], RowError | _SheetLine]


def _whole_orders(rows: Iterable[_SheetRow], col: Collector, content: Callable[[int], object]) -> list[list[int]]:
    """Douyin's order rules on the sheet's rows, in file order.

    A line whose 店铺ID differs from its order's first parsed line is rejected; repeats of
    (主订单编号, 子订单编号) are `Collector.unique`'s (`content` of a row tells copies apart). An
    order with a rejected or conflicting line loses its other lines too (`incomplete_order`).
    Returns the rows of every whole order, in file order.
    """
    candidates: list[Candidate] = []
    first_shop: dict[str, str] = {}
    spoiled: dict[str, str] = {}  # order -> location of its first rejected line
    for location, raw, claimed, outcome in rows:
        if not isinstance(outcome, RowError):
            order_no, sub_order_no, shop_id, value, notes = outcome
            if shop_id == first_shop.setdefault(order_no, shop_id):
                candidates.append(Candidate(location, (order_no, sub_order_no), value, raw, notes))
                continue
            outcome = RowError(reasons.MALFORMED_RECORD, f"店铺ID {shop_id!r} differs from the order's first line")
        col.reject(location, outcome, raw())
        key = claimed()
        if key is not None:
            spoiled.setdefault(key, location)
    kept, conflicting = col.unique(candidates, "主订单编号/子订单编号", content)
    for c in conflicting:
        spoiled.setdefault(c.key[0], c.location)
    groups: dict[str, list[Candidate]] = {}
    for c in kept:
        groups.setdefault(c.key[0], []).append(c)
    whole = []
    for order_no, group in groups.items():
        if order_no in spoiled:
            detail = f"order {order_no} lost its line at {spoiled[order_no]}; an order loads whole or not at all"
            for c in group:
                col.reject(c.location, RowError(reasons.INCOMPLETE_ORDER, detail), c.raw())
            continue
        whole.append(col.accept_all(group))
    return whole


# ---------------------------------------------------------------- files

def _parse_taobao(path: Path, export: _Export, col: Collector) -> dict[str, pa.Table]:
    table = csv_columns(path, encoding=TAOBAO_ENCODING, columns=TAOBAO_COLUMNS, other_encodings=(PDD_ENCODING,),
                        pii_columns=TAOBAO_PII_COLUMNS, col=col)
    return _taobao_columns(table, export, col)


def _parse_douyin_sheet(path: Path, export: _Export, col: Collector) -> dict[str, pa.Table]:
    table = sheet_columns(path, DOUYIN_SHEET, sheet_rows(open_workbook(path), DOUYIN_SHEET), 0,
                          columns=DOUYIN_COLUMNS, pii_columns=DOUYIN_PII_COLUMNS, col=col)
    return _douyin_columns(table, export, col)


def _parse_pdd(path: Path, export: _Export, col: Collector) -> dict[str, pa.Table]:
    table = csv_columns(path, encoding=PDD_ENCODING, columns=PDD_COLUMNS, other_encodings=(TAOBAO_ENCODING,),
                        pii_columns=PDD_PII_COLUMNS, col=col)
    return _pdd_columns(table, export, col)


def _parse_zwyp(path: Path, export: _Export, col: Collector) -> dict[str, pa.Table]:
    return _zwyp_columns(jsonl_lines(path, col), export, col)


# Each platform's file read into columns, and its rules run on them (`zhongwei.feeds.columns`).
_PARSERS: dict[str, Callable[[Path, _Export, Collector], dict[str, pa.Table]]] = {
    "TAOBAO": _parse_taobao, "PDD": _parse_pdd, "DOUYIN": _parse_douyin_sheet, "ZWYP": _parse_zwyp,
}


def parse_platform_file(
    platform: str, path: Path | str, *, deid: Deidentifier | None = None, divisions: Divisions | None = None,
) -> ParsedBatch:
    """One platform export file -> tables `orders` and `order_lines`.

    `platform` is one of TAOBAO, PDD, DOUYIN, ZWYP; the file name must be
    `orders_YYYYMMDD.<ext>` (its date is `export_date`). Batch metadata: platform,
    source_file, export_date.
    """
    if platform not in PLATFORMS:
        raise ValueError(f"unknown platform {platform!r}; expected one of {PLATFORMS}")
    path = Path(path)
    metadata = {"platform": platform, "source_file": path.name}

    def parse() -> ParsedBatch:
        export = _Export(
            platform=platform, export_date=file_stamp(path, EXPORT_FILE_NAMES[platform], "%Y%m%d"),
            source_file=path.name, deid=deid or Deidentifier.from_settings(),
            divisions=default_divisions() if divisions is None else divisions,
        )
        col = Collector()
        tables = _PARSERS[platform](path, export, col)
        return col.finish(tables, **metadata, export_date=export.export_date)

    return read_file_guarded(path, SCHEMAS, parse, **metadata)


def parse_taobao(
    path: Path | str, *, deid: Deidentifier | None = None, divisions: Divisions | None = None,
) -> ParsedBatch:
    """A Taobao `orders_YYYYMMDD.csv` (GB18030); see `parse_platform_file`."""
    return parse_platform_file("TAOBAO", path, deid=deid, divisions=divisions)


def parse_pdd(
    path: Path | str, *, deid: Deidentifier | None = None, divisions: Divisions | None = None,
) -> ParsedBatch:
    """A PDD `orders_YYYYMMDD.csv` (UTF-8 with BOM); see `parse_platform_file`."""
    return parse_platform_file("PDD", path, deid=deid, divisions=divisions)


def parse_douyin(
    path: Path | str, *, deid: Deidentifier | None = None, divisions: Divisions | None = None,
) -> ParsedBatch:
    """A Douyin `orders_YYYYMMDD.xlsx` (sheet 订单明细, a row per line); see `parse_platform_file`."""
    return parse_platform_file("DOUYIN", path, deid=deid, divisions=divisions)


def parse_zwyp(
    path: Path | str, *, deid: Deidentifier | None = None, divisions: Divisions | None = None,
) -> ParsedBatch:
    """A ZWYP `orders_YYYYMMDD.jsonl` (an order per line); see `parse_platform_file`."""
    return parse_platform_file("ZWYP", path, deid=deid, divisions=divisions)
