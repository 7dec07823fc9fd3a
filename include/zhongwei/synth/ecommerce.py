"""Orders of the city's shops, exported daily by each platform in its own format.

Each order's life (created → paid → shipped → completed, or closed unpaid, or
refunded, partly or whole) is planned when it is created; every day on which
something happened to it, that day's export file lists it as it stood then.
Exports dated after the month they were planned in are carried over to the
month that writes that day's files.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from zhongwei.synth import defects as D
from zhongwei.synth.calendar import Month, agri_lift, day_weights, monthly_gmv_fen, progress
from zhongwei.synth.common import Run, fen_to_str, iso_local, names, phones, scramble, write_lines
from zhongwei.synth.courier import COMPANIES, waybill_numbers_for_orders
from zhongwei.synth.xlsx import write_xlsx

PLATFORM_SHARE = {"TAOBAO": 0.34, "PDD": 0.18, "DOUYIN": 0.32, "ZWYP": 0.16}
AVG_LINE_FEN = {"TAOBAO": 16000, "PDD": 9000, "DOUYIN": 11000, "ZWYP": 8000}
CATEGORY_TEXTS = {
    True: ["枸杞", "枸杞干果", "中宁枸杞", "硒砂瓜", "香山压砂瓜", "西瓜", "苹果", "红枣", "水果", "大米", "小米",
           "杂粮", "牛肉", "羊肉", "滩羊肉", "肉类", "蜂蜜", "土特产", "农副产品"],
    False: ["服装", "鞋帽", "家居用品", "日用百货", "数码配件", "家电", "文旅门票", "酒店住宿"],
}
UNKNOWN_CATEGORY_TEXTS = ["地方特产礼盒", "手工艺品", "宠物用品"]
PRODUCT = {"枸杞": "中宁枸杞 头茬 500g", "硒砂瓜": "香山硒砂瓜 1只", "滩羊肉": "宁夏滩羊肉 羊排 2斤", "红枣": "沙坡头 红枣 500g"}
COMPANY_CN = {"ZTO": "中通快递", "YTO": "圆通速递", "YUNDA": "韵达快递", "JTSD": "极兔速递", "STO": "申通快递",
              "YZPY": "邮政快递包裹", "SF": "顺丰速运", "EMS": "EMS", "JDL": "京东物流", "DBL": "德邦快递"}
BUYER_PLACES = [("上海市", "上海市", "浦东新区"), ("北京市", "北京市", "朝阳区"), ("广东省", "深圳市", "南山区"),
                ("浙江省", "杭州市", "西湖区"), ("宁夏回族自治区", "银川市", "兴庆区"), ("陕西省", "西安市", "雁塔区"),
                ("宁夏回族自治区", "中卫市", "沙坡头区"), ("四川省", "成都市", "武侯区"), ("江苏省", "南京市", "鼓楼区")]

NEVER = np.iinfo(np.int64).max
# `exports["defect"]` indexes this list in every month (CONFLICT, last, occurs only in the broken month's)
DEFECT_KINDS = D.month_kinds(D.ORDER_KINDS, broken=True)
# columns of the order frame holding event times (NEVER = did not happen)
EVENTS = ["created", "paid", "shipped", "completed", "refund_asked", "refund_done", "closed"]


@dataclass
class Pending:
    """Orders planned in earlier months whose later exports are still to be written."""
    orders: dict[str, pd.DataFrame] = field(default_factory=dict)
    lines: dict[str, pd.DataFrame] = field(default_factory=dict)
    exports: dict[str, pd.DataFrame] = field(default_factory=dict)


def plan_month(run: Run, m: Month) -> dict[str, tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    """Orders created in month m, per platform: (orders, lines, exports), each
    export row an (order, day) with the defect it will carry (-1: none)."""
    world = run.world
    rng = run.rng("ecommerce", m)
    p = progress(m)
    gmv = monthly_gmv_fen(m, run.scale)
    kinds = D.month_kinds(D.ORDER_KINDS, run.is_broken(m))
    month_end_day = (int(m.end().timestamp()) + 8 * 3600) // 86400
    planned = {}
    for k, (platform, share) in enumerate(PLATFORM_SHARE.items()):
        shops = world.shops_of(platform)
        weights = np.array([world.shops[s].weight for s in shops])
        n_lines_avg = {"DOUYIN": 1.35, "ZWYP": 1.5}.get(platform, 1.0)
        # the plan's level is what registered shops sell: as more shops join the
        # registry, the same level is a smaller share of all the city's orders
        registered = np.array([world.registered(s, m) for s in shops])
        counted = weights[registered].sum() / weights.sum()
        n = max(1, int(round(gmv * share / counted / (AVG_LINE_FEN[platform] * n_lines_avg))))
        shop = np.array(shops)[rng.choice(len(shops), n, p=weights / weights.sum())]
        day = rng.choice(m.days, n, p=day_weights(m))
        tod = np.clip(rng.normal(15 * 3600, 5 * 3600, n), 0, 86399).astype(np.int64)
        created = int(m.start().timestamp()) + day * 86400 + tod
        paid_ok = rng.random(n) < {"PDD": 1.0, "TAOBAO": 0.95, "DOUYIN": 0.94, "ZWYP": 0.93}[platform]
        paid = np.where(paid_ok, created + rng.integers(5, 900, n), NEVER)
        closed = np.where(paid_ok, NEVER, created + 86400 + rng.integers(0, 3600, n))
        refund = paid_ok & (rng.random(n) < 0.045)
        refund_asked = np.where(refund, paid + rng.integers(3600, 12 * 86400, n), NEVER)
        refund_done = np.where(refund, refund_asked + rng.integers(3600, 4 * 86400, n), NEVER)
        shipped = np.where(paid_ok, paid + rng.integers(2 * 3600, 2 * 86400, n), NEVER)
        # a refund before shipping cancels the order: it never ships
        shipped = np.where(refund & (refund_asked < shipped), NEVER, shipped)
        completed = np.where(shipped < NEVER, shipped + rng.integers(4 * 86400, 10 * 86400, n), NEVER)
        completed = np.where(refund & (refund_done <= completed) & (completed < NEVER), refund_done + 1, completed)
        if platform == "ZWYP":
            channel = rng.choice(["web", "miniapp", "livestream", "store_pickup"], n, p=[0.2, 0.55, 0.12, 0.13])
        elif platform == "DOUYIN":
            channel = np.where(rng.random(n) < 0.5 + 0.1 * p, "live", "other")
        else:
            channel = np.full(n, "")
        pickup = np.full(n, None, dtype=object)
        if platform == "ZWYP":
            codes = [c for v in world.active_outlet_codes(m).values() for c in v]
            sp = np.flatnonzero(channel == "store_pickup")
            pickup[sp] = rng.choice(codes, len(sp))
            shipped[sp] = NEVER  # collected at the outlet: no parcel
        shipping = np.where(rng.random(n) < {"TAOBAO": 0.2, "DOUYIN": 0.3, "ZWYP": 0.4, "PDD": 0.0}[platform],
                            rng.integers(5, 13, n) * 100, 0)
        if platform == "ZWYP":
            shipping[channel == "store_pickup"] = 0
        orders = pd.DataFrame({
            "platform": platform, "shop": shop, "created": created, "paid": paid, "shipped": shipped,
            "completed": completed, "refund_asked": refund_asked, "refund_done": refund_done, "closed": closed,
            "channel": channel, "pickup": pickup, "shipping": shipping,
            "refund_full": refund & (rng.random(n) < 0.6),
        })
        orders["order_no"] = _order_numbers(platform, m, orders)
        orders["shop_id"] = [world.shops[s].shop_id for s in shop]
        orders["express_company"] = np.where(orders["shipped"] < NEVER, rng.choice(COMPANIES, n), None)
        orders["waybill_no"] = None
        ship_rows = orders["express_company"].notna().to_numpy()
        comp_idx = np.array([COMPANIES.index(c) for c in orders.loc[ship_rows, "express_company"]], dtype=np.int64)
        orders.loc[ship_rows, "waybill_no"] = waybill_numbers_for_orders(m, comp_idx) if len(comp_idx) else []
        lines = _lines(rng, world, platform, orders, m)
        orders = orders.assign(month=m.ordinal, order_idx=np.arange(len(orders)))
        exports = exports_of(orders, run.as_of).assign(month=m.ordinal)
        exports["file"] = [_file_name(platform, d) for d in exports["day"].to_numpy()]
        # conflicts only in the month's own files (later exports go to the next month's), none in a lost file
        in_month = (exports["day"] < month_end_day) & ~exports["file"].isin(list(run.lost_files))
        exports["defect"] = D.pick_defects(rng, len(exports), run.defect_rate, kinds,
                                           run.conflict_rng("ecommerce", m, part=k + 1), in_month.to_numpy())
        planned[platform] = (orders, lines.assign(month=m.ordinal), exports)
    return planned


def _order_numbers(platform: str, m: Month, orders: pd.DataFrame) -> list[str]:
    n = len(orders)
    seq = scramble(np.arange(n, dtype=np.int64) * 10)
    if platform == "TAOBAO":
        return [f"38{m.ordinal % 100000:05d}{s:012d}" for s in seq.tolist()]
    if platform == "DOUYIN":
        return [f"69{m.ordinal % 100000:05d}{s:012d}" for s in seq.tolist()]
    day = iso_local(orders["created"].to_numpy())
    if platform == "PDD":
        return [f"{d[2:4]}{d[5:7]}{d[8:10]}-{m.ordinal % 1000:03d}{s:012d}" for d, s in zip(day, seq.tolist())]
    rank = orders.groupby(np.array([d[:10] for d in day])).cumcount().to_numpy()
    return [f"ZW{d[:4]}{d[5:7]}{d[8:10]}{r + 1:05d}" for d, r in zip(day, rank.tolist())]


def _lines(rng: np.random.Generator, world, platform: str, orders: pd.DataFrame, m: Month) -> pd.DataFrame:
    n = len(orders)
    per = {"DOUYIN": rng.geometric(0.74, n), "ZWYP": rng.integers(1, 3, n)}.get(platform, np.ones(n, dtype=np.int64))
    per = np.minimum(per, 4)
    order = np.repeat(np.arange(n), per)
    k = len(order)
    line_no = np.arange(k) - np.repeat(np.cumsum(per) - per, per)
    bias = np.array([world.shops[s].agri_bias for s in orders["shop"].to_numpy()])[order]
    agri = rng.random(k) < np.clip(bias * agri_lift(m), 0, 0.95)
    cat = np.where(agri, rng.choice(CATEGORY_TEXTS[True], k), rng.choice(CATEGORY_TEXTS[False], k))
    qty = rng.integers(1, 4, k)
    unit = (np.clip(rng.lognormal(np.log(AVG_LINE_FEN[platform] / 2), 0.6, k), 500, 200000) // 10 * 10).astype(np.int64)
    gross = unit * qty
    # ZWYP sells at the listed price; the others show discounts
    discount = np.where((platform != "ZWYP") & (rng.random(k) < 0.35),
                        (gross * rng.uniform(0.03, 0.15, k)).astype(np.int64) // 10 * 10, 0)
    platform_discount = np.where((platform == "PDD") & (rng.random(k) < 0.3), rng.integers(1, 6, k) * 100, 0)
    platform_discount = np.minimum(platform_discount, gross - discount - 100)
    lines = pd.DataFrame({"order": order, "line_no": line_no, "category": cat, "qty": qty, "unit": unit,
                          "gross": gross, "discount": discount, "platform_discount": np.maximum(platform_discount, 0)})
    lines["amount"] = lines["gross"] - lines["discount"] - lines["platform_discount"]
    # refunds: whole order, or (partly) one line
    full = orders["refund_full"].to_numpy()[order]
    refunded = (orders["refund_done"].to_numpy() < NEVER)[order]
    first = line_no == 0
    lines["refund"] = np.where(refunded & full, lines["amount"], np.where(refunded & first, lines["amount"] // 2, 0))
    lines["live_room"] = None
    lines["host"] = None
    if platform == "DOUYIN":
        live = (orders["channel"].to_numpy() == "live")[order]
        hosts = world.douyin_hosts(m) or ["dy_ext_0001"]
        room = 7_300_000 + rng.integers(0, 99_999, n)
        host = np.where(rng.random(n) < 0.6, rng.choice(hosts, n), [f"dy_ext_{x:04d}" for x in rng.integers(0, 3000, n)])
        lines.loc[live, "live_room"] = room[order][live].astype(str)
        lines.loc[live, "host"] = host[order][live]
        lines["source"] = np.where(live, "直播", rng.choice(["短视频", "商品卡", "搜索"], k))
        # sub-order numbers: the order number with its last digit replaced by the line's
        lines["sub_no"] = [f"{o[:-1]}{j + 1}" for o, j in zip(orders["order_no"].to_numpy()[order], line_no)]
    return lines


def exports_of(orders: pd.DataFrame, as_of: int) -> pd.DataFrame:
    """One row per (order, local day on which something happened), with the state at that day's end."""
    times = orders[EVENTS].to_numpy()
    n = len(orders)
    idx = np.repeat(np.arange(n), len(EVENTS))
    t = times.reshape(-1)
    keep = t < NEVER
    day = (t[keep] + 8 * 3600) // 86400
    ex = pd.DataFrame({"order": idx[keep], "day": day}).drop_duplicates().sort_values(["day", "order"])
    ex["day_end"] = ex["day"] * 86400 + 86400 - 8 * 3600
    ex = ex[ex["day_end"] <= as_of + 86400 - 1]
    ex = ex[ex["day_end"] - 86400 < as_of].reset_index(drop=True)
    return ex




def write_month(run: Run, m: Month, planned: dict, pending: Pending) -> None:
    """Write the daily files of month m: this month's new exports and those carried over."""
    for platform, (orders, lines, exports) in planned.items():
        for store, frame in ((pending.orders, orders), (pending.lines, lines), (pending.exports, exports)):
            store[platform] = pd.concat([store[platform], frame], ignore_index=True) if platform in store else frame

    month_end_day = (int(m.end().timestamp()) + 8 * 3600) // 86400
    for platform in PLATFORM_SHARE:
        ex = pending.exports[platform]
        pending.exports[platform] = ex[ex["day"] >= month_end_day].reset_index(drop=True)
        for file_name, day_exports in ex[ex["day"] < month_end_day].groupby("file", sort=True):
            rows = _export_lines(day_exports, pending.orders[platform], pending.lines[platform])
            _write_file(run, platform, file_name, rows)
        # forget the months whose orders have nothing left to export
        live = set(pending.exports[platform]["month"].unique().tolist())
        pending.orders[platform] = pending.orders[platform][pending.orders[platform]["month"].isin(live)]
        pending.lines[platform] = pending.lines[platform][pending.lines[platform]["month"].isin(live)]


def _file_name(platform: str, day: int) -> str:
    d = str(np.datetime64(int(day), "D")).replace("-", "")
    ext = {"TAOBAO": "csv", "PDD": "csv", "DOUYIN": "xlsx", "ZWYP": "jsonl"}[platform]
    return f"ecommerce/{platform}/orders_{d}.{ext}"


def _export_lines(exports: pd.DataFrame, orders: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Exports × their order's lines, with the order's state at the end of the export day."""
    ex = exports.rename(columns={"order": "order_idx"}).reset_index(drop=True)
    ex["export"] = np.arange(len(ex))
    st = ex.merge(orders, on=["month", "order_idx"], how="left")
    end = st["day_end"].to_numpy()
    for ev in EVENTS:
        st[f"is_{ev}"] = st[ev].to_numpy() < end
    long = st.merge(lines.rename(columns={"order": "order_idx"}), on=["month", "order_idx"], how="left")
    long = long.sort_values(["file", "export", "line_no"], kind="stable").reset_index(drop=True)
    long["goods"] = long.groupby("export")["amount"].transform("sum")
    long["refund_total"] = long.groupby("export")["refund"].transform("sum")
    long["qty_total"] = long.groupby("export")["qty"].transform("sum")
    return long


def _write_file(run: Run, platform: str, file_name: str, rows: pd.DataFrame) -> None:
    rng = np.random.default_rng([run.seed, 9, int(rows["day"].iloc[0]), list(PLATFORM_SHARE).index(platform)])
    writer = {"TAOBAO": _taobao, "PDD": _pdd, "DOUYIN": _douyin, "ZWYP": _zwyp}[platform]
    lost_kind = run.lost_files.get(file_name)
    located = writer(run, rng, rows, run.out / file_name, lost_kind)
    feed = f"ecommerce_{platform.lower()}"
    if lost_kind:  # the whole file is lost: nobody looks at its rows one by one
        run.defects.add(feed, lost_kind, file=file_name, orders=int(rows["export"].nunique()))
        return
    for kind, where in located:
        run.defects.add(feed, kind, file=file_name, **where)


def _none(value):
    """pandas keeps missing text as NaN; the files want nothing there."""
    return None if pd.isna(value) else value


def _times(values: np.ndarray, mask: np.ndarray) -> list[str]:
    text = iso_local(np.where(mask, values, 0), sep=" ", offset=False)
    return [t if ok else "" for t, ok in zip(text, np.asarray(mask).tolist())]


def _bad_value(kind: str, text: str, variant: int) -> str:
    """A timestamp that cannot be, or an amount that is negative or not a number."""
    if kind == D.BAD_TIMESTAMP:
        return "2025-02-30 12:00:00" if variant % 2 else "2025/13/45 99:99"
    amount = text.lstrip("-")
    if variant % 2:
        return f"-{amount}" if amount.strip("0.") else "-12.50"
    return "12.5元"


def _category(rows: pd.DataFrame) -> list[str]:
    """Category texts, with the unknown ones injected on the first line of chosen exports."""
    cat = rows["category"].tolist()
    unknown = (rows["defect"].to_numpy() == D.ORDER_KINDS.index(D.UNKNOWN_CATEGORY)) & (rows["line_no"].to_numpy() == 0)
    for i in np.flatnonzero(unknown):
        cat[i] = UNKNOWN_CATEGORY_TEXTS[i % len(UNKNOWN_CATEGORY_TEXTS)]
    return cat


def _defective(rows: pd.DataFrame) -> list[tuple[int, str]]:
    """(row position, kind) of the first line of each defective export."""
    d = rows["defect"].to_numpy()
    first = rows["line_no"].to_numpy() == 0
    return [(int(i), DEFECT_KINDS[d[i]]) for i in np.flatnonzero((d >= 0) & first)]


def _located(found: list[tuple[int, str, dict]], copies: dict[int, object], records: list, first: int,
             where: str) -> tuple[list, list]:
    """The records with each copy right after its original, and the (kind, location)
    of every entry: `where` (line or row) counted from `first` for the first record."""
    records, at = D.with_copies(records, copies)
    return records, [(kind, {where: n, **extra}) for i, kind, extra in found
                     for n in D.logged_at(kind, first + int(at[i]))]


def _buyers(rng: np.random.Generator, n: int):
    place = rng.integers(0, len(BUYER_PLACES), n)
    return names(rng, n), phones(rng, n), [BUYER_PLACES[i] for i in place]


def _status(rows: pd.DataFrame, platform: str) -> np.ndarray:
    paid, closed = rows["is_paid"].to_numpy(), rows["is_closed"].to_numpy()
    shipped, done = rows["is_shipped"].to_numpy(), rows["is_completed"].to_numpy()
    full_refund = rows["is_refund_done"].to_numpy() & rows["refund_full"].to_numpy()
    texts = {
        "TAOBAO": ["交易关闭", "等待买家付款", "交易关闭", "交易成功", "卖家已发货，等待买家确认", "买家已付款，等待卖家发货"],
        "PDD": ["已取消", "待发货", "已取消", "已签收", "已发货，待签收", "待发货"],
        "DOUYIN": ["已关闭", "待支付", "已关闭", "已完成", "已发货", "待发货"],
        "ZWYP": ["cancelled", "pending", "refunded", "completed", "shipped", "paid"],
    }[platform]
    return np.select([closed, ~paid, full_refund, done, shipped], texts[:5], texts[5])


def _taobao(run: Run, rng, rows: pd.DataFrame, path, lost_kind) -> list:
    n = len(rows)
    paid, refunded = rows["is_paid"].to_numpy(), rows["is_refund_done"].to_numpy()
    post = rows["shipping"].to_numpy()
    goods = rows["goods"].to_numpy()
    status = _status(rows, "TAOBAO")
    close_reason = np.where(status == "交易关闭", np.where(paid, "买家申请退款", "买家未付款"), "")
    buyer, mobile, place = _buyers(rng, n)
    shops = [run.world.shops[s] for s in rows["shop"].tolist()]
    shipped = rows["is_shipped"].tolist()
    cols = [
        [f'"=""{o}"""' for o in rows["order_no"].tolist()], [s.shop_id for s in shops], [s.name for s in shops],
        [f"tb_{b}{i % 1000}" if i % 3 else b for i, b in enumerate(buyer)], fen_to_str(goods), fen_to_str(post),
        fen_to_str(goods + post), fen_to_str(np.where(paid, goods + post, 0)), status.tolist(),
        _times(rows["created"].to_numpy(), np.ones(n, bool)), _times(rows["paid"].to_numpy(), paid),
        None, [str(q) for q in rows["qty_total"].tolist()], _category(rows), buyer,
        [f"{a} {b} {c} ***" for a, b, c in place], mobile,
        [COMPANY_CN[c] if s else "" for c, s in zip(rows["express_company"].tolist(), shipped)],
        [w if s else "" for w, s in zip(rows["waybill_no"].tolist(), shipped)], close_reason.tolist(),
        fen_to_str(np.where(refunded, rows["refund_total"].to_numpy(), 0)), _times(rows["refund_done"].to_numpy(), refunded),
    ]
    cols[11] = [PRODUCT.get(c, f"{c} 精选") for c in cols[13]]
    records = [list(r) for r in zip(*cols)]
    found, copies = [], {}
    for i, kind in _defective(rows):
        if kind == D.BAD_TIMESTAMP:
            records[i][10] = _bad_value(kind, records[i][10], i)
        elif kind == D.BAD_AMOUNT:
            records[i][7] = _bad_value(kind, records[i][7], i)
        elif kind == D.MALFORMED:
            records[i] = records[i][:12]  # a row cut short
        elif kind == D.REPEATED:
            copies[i] = records[i]
        elif kind == D.CONFLICT:  # 买家实际支付金额 one yuan more
            copies[i] = records[i][:7] + fen_to_str([(goods[i] + post[i] if paid[i] else 0) + 100]) + records[i][8:]
        found.append((i, kind, {"order_no": rows["order_no"].iat[i]}))
    records, located = _located(found, {} if lost_kind else copies, records, 2, "line")
    header = ("订单编号,店铺Id,店铺名称,买家会员名,买家应付货款,买家应付邮费,总金额,买家实际支付金额,订单状态,订单创建时间,"
              "订单付款时间,宝贝标题,宝贝总数量,商品类目,收货人姓名,收货地址,联系手机,物流公司,物流单号,订单关闭原因,退款金额,退款完成时间\n")
    out = [header] + [",".join(r) + "\n" for r in records]
    write_lines(path, out, encoding="utf-8" if lost_kind == D.WRONG_ENCODING else "gb18030")
    return located


def _pdd(run: Run, rng, rows: pd.DataFrame, path, lost_kind) -> list:
    n = len(rows)
    buyer, mobile, place = _buyers(rng, n)
    masked = (rng.random(n) < 0.5).tolist()
    refund_done, refund_asked = rows["is_refund_done"].to_numpy(), rows["is_refund_asked"].to_numpy()
    shipped = rows["is_shipped"].tolist()
    amount, pdisc = rows["amount"].to_numpy(), rows["platform_discount"].to_numpy()
    cat = _category(rows)
    cols = [
        rows["order_no"].tolist(), [run.world.shops[s].shop_id for s in rows["shop"].tolist()],
        [PRODUCT.get(c, f"{c} 精选") for c in cat], [str(400000000 + u % 99991) for u in rows["unit"].tolist()],
        ["标准装"] * n, cat, [str(q) for q in rows["qty"].tolist()], fen_to_str(rows["gross"].to_numpy()),
        fen_to_str(rows["discount"].to_numpy()), fen_to_str(pdisc), fen_to_str(amount), fen_to_str(amount + pdisc),
        _status(rows, "PDD").tolist(),
        np.where(refund_done, "退款成功", np.where(refund_asked, "退款中", "无售后或售后取消")).tolist(),
        fen_to_str(np.where(refund_done | refund_asked, rows["refund"].to_numpy(), 0)),
        _times(rows["refund_done"].to_numpy(), refund_done), _times(rows["paid"].to_numpy(), np.ones(n, bool)),
        _times(rows["shipped"].to_numpy(), rows["is_shipped"].to_numpy()),
        _times(rows["completed"].to_numpy(), rows["is_completed"].to_numpy()),
        [COMPANY_CN[c] if s else "" for c, s in zip(rows["express_company"].tolist(), shipped)],
        [w if s else "" for w, s in zip(rows["waybill_no"].tolist(), shipped)],
        [b[0] + "*" if mk else b for b, mk in zip(buyer, masked)],
        [p[:3] + "****" + p[-4:] if mk else p for p, mk in zip(mobile, masked)],
        [p[0] for p in place], [p[1] for p in place], [p[2] for p in place], ["***"] * n,
    ]
    records = [list(r) for r in zip(*cols)]
    found, copies = [], {}
    for i, kind in _defective(rows):
        if kind == D.BAD_TIMESTAMP:
            records[i][16] = _bad_value(kind, records[i][16], i)
        elif kind == D.BAD_AMOUNT:
            records[i][10] = _bad_value(kind, records[i][10], i)
        elif kind == D.MALFORMED:
            records[i][2] = '"宁夏特产 ' + records[i][2]  # an opening quote never closed
        elif kind == D.REPEATED:
            copies[i] = records[i]
        elif kind == D.CONFLICT:  # 用户实付金额(元) one yuan more
            copies[i] = records[i][:10] + fen_to_str([amount[i] + 100]) + records[i][11:]
        found.append((i, kind, {"order_no": rows["order_no"].iat[i]}))
    records, located = _located(found, {} if lost_kind else copies, records, 2, "line")
    header = ["订单号", "店铺id", "商品", "商品id", "商品规格", "商品类目", "商品数量(件)", "商品总价(元)", "店铺优惠折扣(元)",
              "平台优惠折扣(元)", "用户实付金额(元)", "商家实收金额(元)", "订单状态", "售后状态", "退款金额(元)", "退款时间",
              "订单成交时间", "发货时间", "确认收货时间", "快递公司", "快递单号", "收货人", "手机", "省", "市", "区", "街道"]
    if lost_kind == D.SCHEMA_MISMATCH:
        header[header.index("用户实付金额(元)")] = "实付金额(元)"  # the platform renamed a column
    write_lines(path, ["\ufeff" + ",".join(header) + "\n"] + [",".join(r) + "\n" for r in records])
    return located


def _douyin(run: Run, rng, rows: pd.DataFrame, path, lost_kind) -> list:
    n = len(rows)
    exp = rows["export"].to_numpy()
    buyer, mobile, place = _buyers(rng, int(exp.max()) + 1 if n else 0)
    first = rows["line_no"].to_numpy() == 0
    paid = rows["is_paid"].to_numpy()
    refund_done, refund_asked = rows["is_refund_done"].to_numpy(), rows["is_refund_asked"].to_numpy()
    after = np.where(refund_done, "退款成功", np.where(refund_asked, "退款中", "无"))
    shipped = rows["is_shipped"].tolist()
    cat = _category(rows)
    none_if_empty = lambda xs: [x or None for x in xs]  # noqa: E731
    cols = [
        rows["order_no"].tolist(), rows["sub_no"].tolist(), [run.world.shops[s].shop_id for s in rows["shop"].tolist()],
        [PRODUCT.get(c, f"{c} 精选") for c in cat], [str(3580000 + u % 9973) for u in rows["unit"].tolist()], cat,
        rows["qty"].tolist(), (rows["unit"].to_numpy() / 100).tolist(), (rows["amount"].to_numpy() / 100).tolist(),
        (np.where(first, rows["shipping"].to_numpy(), 0) / 100).tolist(),
        _times(rows["created"].to_numpy(), np.ones(n, bool)), none_if_empty(_times(rows["paid"].to_numpy(), paid)),
        none_if_empty(_times(rows["completed"].to_numpy(), rows["is_completed"].to_numpy())),
        _status(rows, "DOUYIN").tolist(), after.tolist(),
        (np.where(after != "无", rows["refund"].to_numpy(), 0) / 100).tolist(),
        none_if_empty(_times(rows["refund_done"].to_numpy(), refund_done)),
        [_none(h) for h in rows["host"].tolist()], [_none(r) for r in rows["live_room"].tolist()], rows["source"].tolist(),
        [buyer[e] for e in exp], [mobile[e] for e in exp], [place[e][0] for e in exp], [place[e][1] for e in exp],
        [place[e][2] for e in exp], ["***"] * n, ["***"] * n,
        [COMPANY_CN[c] if s else None for c, s in zip(rows["express_company"].tolist(), shipped)],
        [w if s else None for w, s in zip(rows["waybill_no"].tolist(), shipped)],
    ]
    records = [list(r) for r in zip(*cols)]
    found, copies = [], {}
    amount = rows["amount"].to_numpy()
    for i, kind in _defective(rows):  # the order's first line
        if kind == D.BAD_TIMESTAMP:
            records[i][11] = _bad_value(kind, records[i][11] or "", i)
        elif kind == D.BAD_AMOUNT:
            records[i][8] = _bad_value(kind, f"{records[i][8]:.2f}", i)
        elif kind == D.MALFORMED:
            records[i][0] = None  # the order number cell left empty
        elif kind == D.REPEATED:
            copies[i] = records[i]
        elif kind == D.CONFLICT:  # the line's 订单应付金额 one yuan more
            copies[i] = records[i][:8] + [(int(amount[i]) + 100) / 100] + records[i][9:]
        found.append((i, kind, {"order_no": rows["order_no"].iat[i]}))
    records, located = _located(found, {} if lost_kind else copies, records, 2, "row")
    header = ["主订单编号", "子订单编号", "店铺ID", "选购商品", "商品ID", "商品类目", "商品数量", "商品单价", "订单应付金额",
              "运费", "订单提交时间", "支付完成时间", "订单完成时间", "订单状态", "售后状态", "退款金额", "退款时间", "达人ID",
              "直播间ID", "流量来源", "收件人", "收件人手机号", "省", "市", "区", "街道", "详细地址", "快递公司", "快递单号"]
    write_xlsx(path, "订单明细", header, records, truncate=lost_kind == D.TRUNCATED_FILE)
    return located


def _zwyp(run: Run, rng, rows: pd.DataFrame, path, lost_kind) -> list:
    firsts = rows[rows["line_no"] == 0].reset_index(drop=True)
    n = len(firsts)
    buyer, mobile, _ = _buyers(rng, n)
    paid = firsts["is_paid"].tolist()
    refund_done = firsts["is_refund_done"].tolist()
    created_t = iso_local(firsts["created"].to_numpy())
    paid_t = iso_local(np.where(paid, firsts["paid"].to_numpy(), 0))
    refund_t = iso_local(np.where(refund_done, firsts["refund_done"].to_numpy(), 0))
    areas = run.world.divisions.codes("community") + run.world.divisions.codes("village")
    items: dict[int, list] = {}
    for e, unit, c, q in zip(rows["export"].tolist(), rows["unit"].tolist(), _category(rows), rows["qty"].tolist()):
        items.setdefault(e, []).append({"sku": f"SKU-{unit % 9973}", "name": PRODUCT.get(c, f"{c} 精选"),
                                        "category": c, "qty": q, "unit_price": fen_to_str([unit])[0]})
    defects = {rows["export"].iat[i]: kind for i, kind in _defective(rows)}
    shipping = firsts["shipping"].tolist()
    cols = zip(firsts["export"].tolist(), firsts["order_no"].tolist(), firsts["shop"].tolist(),
               _status(firsts, "ZWYP").tolist(), firsts["channel"].tolist(), firsts["goods"].tolist(),
               firsts["refund_total"].tolist(), firsts["pickup"].tolist(), firsts["is_shipped"].tolist(),
               firsts["express_company"].tolist(), firsts["waybill_no"].tolist())
    out, found, copies = [], [], {}
    for i, (e, order_no, shop, status, channel, goods, refund, pickup, ship, company, waybill) in enumerate(cols):
        rec = {"order_id": order_no, "shop_id": run.world.shops[shop].shop_id,
               "created_at": created_t[i], "paid_at": paid_t[i] if paid[i] else None, "status": status,
               "channel": channel, "items": items[e], "shipping_fee": fen_to_str([shipping[i]])[0],
               "amount_paid": fen_to_str([goods + shipping[i] if paid[i] else 0])[0],
               "amount_refunded": fen_to_str([refund if refund_done[i] else 0])[0],
               "refunded_at": refund_t[i] if refund_done[i] else None, "pickup_outlet_id": _none(pickup),
               "buyer": {"name": buyer[i], "phone": mobile[i]},
               "ship_to": {"area_code": areas[i % len(areas)], "address": "***"},
               "express": {"company": company, "waybill_no": waybill} if ship else None}
        kind = defects.get(e)
        if kind == D.BAD_TIMESTAMP:
            rec["created_at"] = _bad_value(kind, "", i)
        elif kind == D.BAD_AMOUNT:
            rec["amount_paid"] = _bad_value(kind, rec["amount_paid"], i)
        line = json.dumps(rec, ensure_ascii=False)
        if kind == D.MALFORMED:
            line = line[: len(line) // 2]  # the line is cut off
        elif kind == D.REPEATED:
            copies[i] = line + "\n"
        elif kind == D.CONFLICT:  # amount_paid one yuan more
            paid_fen = (goods + shipping[i] if paid[i] else 0) + 100
            copies[i] = json.dumps({**rec, "amount_paid": fen_to_str([paid_fen])[0]}, ensure_ascii=False) + "\n"
        if kind is not None:
            found.append((i, kind, {"order_no": order_no}))
        out.append(line + "\n")
    out, located = _located(found, {} if lost_kind else copies, out, 1, "line")
    write_lines(path, out)
    return located
