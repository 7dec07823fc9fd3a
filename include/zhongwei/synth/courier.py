"""Waybills and tracking events, as the brands deliver them to the exchange.

One month's parcels: accepted in the month (outbound, the plan's 快递业务量),
plus the parcels delivered into the city. Each parcel gets its life's events;
records arrive at the exchange minutes to days later (`received_at`), some
twice, some corrected. Written as JSON Lines under `<inbox>/courier/` for the
exchange simulator.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from zhongwei.synth import defects as D
from zhongwei.synth.calendar import Month, day_weights, monthly_parcels, agri_lift, progress
from zhongwei.synth.common import Run, iso_local, names, phones, scramble, fen_to_str
from zhongwei.synth.world import COUNTIES

COMPANIES = ["ZTO", "YTO", "YUNDA", "JTSD", "STO", "YZPY", "SF", "EMS", "JDL", "DBL"]
COMPANY_SHARE = np.array([0.22, 0.15, 0.14, 0.13, 0.10, 0.08, 0.07, 0.05, 0.04, 0.02])
# How each brand writes its numbers: a prefix before 12 scrambled digits.
WAYBILL_PREFIX = {"ZTO": "73", "YTO": "YT8", "YUNDA": "4", "JTSD": "JT0", "STO": "77", "YZPY": "9",
                  "SF": "SF0", "EMS": "1", "JDL": "JDVA", "DBL": "DPK"}
COUNTY_SHARE = {"640502": 0.55, "640521": 0.33, "640522": 0.12}
# Destinations in the rest of China (district codes) with rough weights.
DOMESTIC = [("310115", "上海市浦东新区", 8), ("110105", "北京市朝阳区", 8), ("440305", "广东省深圳市南山区", 7),
            ("440106", "广东省广州市天河区", 6), ("330106", "浙江省杭州市西湖区", 6), ("320106", "江苏省南京市鼓楼区", 4),
            ("510107", "四川省成都市武侯区", 5), ("500105", "重庆市江北区", 4), ("610113", "陕西省西安市雁塔区", 6),
            ("640104", "宁夏银川市兴庆区", 12), ("640302", "宁夏吴忠市利通区", 4), ("620102", "甘肃省兰州市城关区", 5),
            ("420106", "湖北省武汉市武昌区", 4), ("430104", "湖南省长沙市岳麓区", 3), ("370212", "山东省青岛市崂山区", 3),
            ("410105", "河南省郑州市金水区", 4), ("150102", "内蒙古呼和浩特市新城区", 3), ("630104", "青海省西宁市城西区", 2),
            ("650102", "新疆乌鲁木齐市天山区", 2), ("120101", "天津市和平区", 3)]
ABROAD = [("HK", "810000000000", "Kowloon"), ("MO", "820000000000", "Macau"), ("TW", "710000000000", "Taipei")]
OUTSIDE_ORIGINS = ["640104001001", "640302100201", "640181100000"]  # Yinchuan, Wuzhong, Lingwu: not Zhongwei
SIGN_SUBSTATES = np.array([301, 302, 303, 304])
CHUNK = 100_000
TRANSIT_HUBS = [("640100000000", "宁夏银川市", "快件已发车,正在运往【银川转运中心】"),
                ("640502000000", "宁夏中卫市", "快件已到达【中卫分拨中心】")]


def _lag(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds from an event to its arrival at the exchange: mostly minutes, some days."""
    kind = rng.random(n)
    lag = rng.integers(20, 1800, n)
    lag = np.where(kind > 0.95, rng.integers(1800, 86400, n), lag)
    return np.where(kind > 0.99, rng.integers(86400, 5 * 86400, n), lag)


def _numbers(company: np.ndarray, ids: np.ndarray) -> np.ndarray:
    digits = scramble(ids)
    prefix = np.array([WAYBILL_PREFIX[c] for c in COMPANIES])[company]
    return np.array([p + f"{d:012d}" for p, d in zip(prefix.tolist(), digits.tolist())], dtype=object)


def _ids(m: Month, kind: int, n: int) -> np.ndarray:
    """Distinct across months and kinds: (month, kind, sequence)."""
    return ((m.ordinal % 1000) * 10 + kind) * 10**7 + np.arange(n, dtype=np.int64)


def waybill_numbers_for_orders(m: Month, company: np.ndarray) -> np.ndarray:
    """Numbers for parcels of orders shipped by brands outside the exchange."""
    return _numbers(company, _ids(m, 2, len(company)))


def generate_month(run: Run, m: Month, order_refs: pd.DataFrame, truth) -> None:
    """Write the month's courier files one day at a time (memory stays at a day's
    worth at any scale) and hand each day's clean records to the truth.

    `order_refs` (platform, order_no, ship_time) are e-commerce orders shipped
    this month; a share of the parcels carries them as `order_ref`, and the
    chosen rows get the parcel's company and number (columns set in place).
    """
    rng = run.rng("courier", m)
    n_out = rng.multinomial(monthly_parcels(m, run.scale), day_weights(m))
    n_in = rng.multinomial(int(monthly_parcels(m, run.scale) * 0.4), day_weights(m))
    # the linked orders, shuffled and dealt out to the days in proportion to their parcels
    n_linked = min(len(order_refs), int(n_out.sum() * 0.5))
    linked = rng.permutation(len(order_refs))[:n_linked]
    deal = np.split(linked, np.cumsum(np.round(n_out / max(n_out.sum(), 1) * n_linked).astype(int))[:-1])
    outlets_by_area = run.world.active_outlet_codes(m)
    files = {kind: JsonLinesOut(run, run.out / "courier" / f"{kind}_{m.year}{m.month:02d}.jsonl")
             for kind in ("waybills", "events")}
    # days are taken together in chunks of about CHUNK parcels: memory stays
    # bounded at any scale without paying per-day overhead at small ones
    chunks, start = [], 0
    for day in range(m.days):
        if n_out[start:day + 1].sum() >= CHUNK or day == m.days - 1:
            chunks.append(range(start, day + 1))
            start = day + 1
    for k, days in enumerate(chunks):
        chunk_rng = run.rng("courier", m, part=k + 1)
        conflicts = run.conflict_rng("courier", m, part=k + 1)
        offset = int(n_out[:days.start].sum()), int(n_in[:days.start].sum())
        out_days = np.repeat(np.arange(days.start, days.stop), n_out[days.start:days.stop])
        in_days = np.repeat(np.arange(days.start, days.stop), n_in[days.start:days.stop])
        waybills, sign_area, dkind = _parcels(run, chunk_rng, m, out_days, offset[0], order_refs,
                                              np.concatenate(deal[days.start:days.stop]), outlets_by_area)
        records = _with_corrections(chunk_rng, waybills)
        events = pd.concat([_events(chunk_rng, waybills, sign_area, dkind, outlets_by_area, progress(m)),
                            _inbound_events(run, chunk_rng, m, in_days, offset[1], outlets_by_area)],
                           ignore_index=True)
        records = records[records["received"] < run.as_of].reset_index(drop=True)
        truth.add_courier(_write_waybills(run, chunk_rng, conflicts, m, records, files["waybills"]),
                          _write_events(run, chunk_rng, conflicts, m, events, files["events"]))
    for f in files.values():
        f.close()


class JsonLinesOut:
    """A month's file written day by day under a temporary name, renamed when whole."""

    def __init__(self, run: Run, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.rel = path, run.rel(path)
        self.tmp = path.with_name(path.name + ".part")
        self.f = open(self.tmp, "w", encoding="utf-8", newline="")
        self.lines = 0

    def write(self, lines: list[str]) -> int:
        """Append lines; return the line number of the first."""
        first = self.lines + 1
        self.f.write("".join(lines))
        self.lines += len(lines)
        return first

    def close(self) -> None:
        self.f.close()
        self.tmp.replace(self.path)


def _parcels(run: Run, rng: np.random.Generator, m: Month, day: np.ndarray, id_offset: int,
             order_refs: pd.DataFrame, linked: np.ndarray,
             outlets_by_area: dict[str, list[str]]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The parcels accepted on the given days of the month (one entry per parcel)."""
    n = len(day)
    world = run.world
    divisions = world.divisions.by_code()
    p = progress(m)
    company = rng.choice(len(COMPANIES), n, p=COMPANY_SHARE / COMPANY_SHARE.sum())
    second = np.clip(rng.normal(14 * 3600, 4 * 3600, n), 7 * 3600, 86399).astype(np.int64)
    month_start = int(m.start().timestamp())
    accepted = month_start + day * 86400 + second
    received = accepted + _lag(rng, n)

    # origin: a community, village or township of a county; a few from outside the city
    county = rng.choice(list(COUNTY_SHARE), n, p=list(COUNTY_SHARE.values()))
    origin = np.empty(n, dtype=object)
    for c in COUNTIES:
        idx = np.flatnonzero(county == c)
        pools = [world.divisions.codes("community", c), world.divisions.codes("village", c),
                 world.divisions.codes("township", c)]
        which = rng.choice(3, len(idx), p=[0.55, 0.25 + 0.05 * p, 0.20 - 0.05 * p])
        for k, pool in enumerate(pools):
            sel = idx[which == k]
            origin[sel] = rng.choice(pool, len(sel))
    outside = rng.random(n) < 0.007
    origin[outside] = rng.choice(OUTSIDE_ORIGINS, outside.sum())
    # destination: in the city, elsewhere in China, or 港澳台
    dkind = rng.choice(3, n, p=[0.12, 0.875, 0.005])
    local_pool = world.divisions.codes("community") + world.divisions.codes("village")
    sign_area = np.empty(n, dtype=object)
    dest_area = np.empty(n, dtype=object)
    dest_country = np.full(n, "CN", dtype=object)
    dest_text = np.empty(n, dtype=object)
    loc = np.flatnonzero(dkind == 0)
    sign_area[loc] = rng.choice(local_pool, len(loc))
    short = rng.random(len(loc)) < 0.5
    dest_area[loc] = np.where(short, [a[:6] for a in sign_area[loc]], sign_area[loc])
    dest_text[loc] = [divisions[a]["name"] for a in sign_area[loc]]
    dom = np.flatnonzero(dkind == 1)
    w = np.array([x[2] for x in DOMESTIC], dtype=float)
    pick = rng.choice(len(DOMESTIC), len(dom), p=w / w.sum())
    dest_area[dom] = [DOMESTIC[i][0] for i in pick]
    sign_area[dom] = [DOMESTIC[i][0] + f"{k:03d}000" for i, k in zip(pick, rng.integers(1, 20, len(dom)))]
    dest_text[dom] = [DOMESTIC[i][1] for i in pick]
    ab = np.flatnonzero(dkind == 2)
    pick = rng.choice(len(ABROAD), len(ab))
    dest_country[ab] = [ABROAD[i][0] for i in pick]
    dest_text[ab] = [ABROAD[i][2] for i in pick]

    weight = np.clip(rng.lognormal(7.0, 0.8, n), 50, 30000).astype(np.int64)
    service = rng.choice(["standard", "express", "cold_chain"], n, p=[0.89, 0.08, 0.03])
    fee = 500 + (weight // 1000) * 200 + np.where(service == "express", 1000, 0) + np.where(service == "cold_chain", 1500, 0)
    fee = fee + np.where(dkind == 2, 3000, 0) + rng.integers(0, 8, n) * 50
    agri_p = min(0.22 * agri_lift(m), 0.6)
    category = rng.choice(["agri", "industrial", "documents", "other"], n, p=[agri_p, 0.45, 0.05, 0.5 - agri_p])
    e_waybill = rng.random(n) < 0.965 + 0.02 * p
    green = 0.30 + 0.30 * p
    packaging = rng.choice(["green", "reused", "standard", "none"], n, p=[green, 0.05, 0.9 - green, 0.05])

    pickup = np.full(n, None, dtype=object)
    for i in np.flatnonzero(rng.random(n) < 0.25):
        codes = outlets_by_area.get(origin[i])
        if codes:
            pickup[i] = codes[i % len(codes)]

    # e-commerce parcels: carry this day's share of the month's shipped orders
    ref_platform = np.full(n, None, dtype=object)
    ref_order = np.full(n, None, dtype=object)
    eligible = np.flatnonzero((dkind != 2) & ~outside)
    linked = linked[:len(eligible)]
    parcels = rng.choice(eligible, len(linked), replace=False)
    if len(linked):
        ref_platform[parcels] = order_refs["platform"].to_numpy()[linked]
        ref_order[parcels] = order_refs["order_no"].to_numpy()[linked]
        # the parcel is accepted when the order ships (kept within the day's month)
        ship = order_refs["ship_time"].to_numpy()[linked]
        accepted[parcels] = np.clip(ship, month_start, int(m.end().timestamp()) - 1)
        received[parcels] = accepted[parcels] + _lag(rng, len(parcels))
    other = np.flatnonzero(pd.isna(ref_order) & (rng.random(n) < 0.04))
    ref_platform[other] = "JD"
    ref_order[other] = [f"{x:012d}" for x in rng.integers(10**11, 10**12, len(other))]

    waybill_no = _numbers(company, _ids(m, 0, n) + id_offset)
    if len(linked):
        order_refs.loc[order_refs.index[linked], "linked_company"] = np.array(COMPANIES)[company[parcels]]
        order_refs.loc[order_refs.index[linked], "waybill_no"] = waybill_no[parcels]

    waybills = pd.DataFrame({
        "company": np.array(COMPANIES)[company], "waybill_no": waybill_no, "accepted": accepted,
        "received": received, "origin": origin, "dest_country": dest_country, "dest_area": dest_area,
        "weight_g": weight, "fee_fen": fee, "service": service, "category": category, "e_waybill": e_waybill,
        "packaging": packaging, "pickup": pickup, "ref_platform": ref_platform, "ref_order": ref_order,
        "dest_text": dest_text, "origin_county": county,
    })
    return waybills, sign_area, dkind


def _with_corrections(rng: np.random.Generator, waybills: pd.DataFrame) -> pd.DataFrame:
    """The brand corrects some records later (fee or weight); the latest received_at wins."""
    fix = rng.choice(len(waybills), int(len(waybills) * 0.02), replace=False)
    corrections = waybills.iloc[fix].copy()
    corrections["received"] = corrections["received"] + rng.integers(3600, 3 * 86400, len(fix))
    corrections["fee_fen"] = (corrections["fee_fen"] + rng.choice([-200, 100, 300, 500], len(fix))).clip(lower=300)
    return pd.concat([waybills, corrections], ignore_index=True)


def _events(rng: np.random.Generator, wb: pd.DataFrame, sign_area: np.ndarray, dkind: np.ndarray,
            outlets_by_area: dict, p: float) -> pd.DataFrame:
    n = len(wb)
    accepted = wb["accepted"].to_numpy()
    comp, no = wb["company"].to_numpy(), wb["waybill_no"].to_numpy()
    transit = np.where(dkind == 0, rng.integers(8 * 3600, 48 * 3600, n), rng.integers(20 * 3600, 96 * 3600, n))
    signed_at = accepted + transit
    signs = (dkind != 2) & (rng.random(n) < 0.97)
    hub = rng.integers(0, 2, n)
    parts = [
        pd.DataFrame({"company": comp, "waybill_no": no, "event_time": accepted, "state": 1, "sub_state": 103,
                      "area_code": wb["origin"].to_numpy(), "outlet_id": wb["pickup"].to_numpy(),
                      "area_name": "宁夏中卫市", "context": "快递员已揽收"}),
        pd.DataFrame({"company": comp, "waybill_no": no, "event_time": accepted + rng.integers(3 * 3600, 8 * 3600, n),
                      "state": 0, "sub_state": 1002, "area_code": np.array([h[0] for h in TRANSIT_HUBS])[hub],
                      "outlet_id": None, "area_name": np.array([h[1] for h in TRANSIT_HUBS])[hub],
                      "context": np.array([h[2] for h in TRANSIT_HUBS])[hub]}),
    ]
    s = np.flatnonzero(signs)
    deliver = signed_at[s] - rng.integers(1800, 5 * 3600, len(s))
    parts.append(pd.DataFrame({"company": comp[s], "waybill_no": no[s], "event_time": deliver, "state": 5,
                               "sub_state": None, "area_code": sign_area[s], "outlet_id": None,
                               "area_name": wb["dest_text"].to_numpy()[s], "context": "快递员正在为您派件"}))
    parts.append(_sign_frame(rng, comp[s], no[s], signed_at[s], sign_area[s], wb["dest_text"].to_numpy()[s],
                             outlets_by_area, p))
    u = np.flatnonzero(~signs & (dkind != 2))
    parts.append(pd.DataFrame({"company": comp[u], "waybill_no": no[u], "event_time": signed_at[u],
                               "state": rng.choice([2, 14, 4], len(u)), "sub_state": None, "area_code": sign_area[u],
                               "outlet_id": None, "area_name": wb["dest_text"].to_numpy()[u],
                               "context": "快件派送不成功,已联系收件人"}))
    return pd.concat(parts, ignore_index=True)


def _sign_frame(rng, comp, no, when, area, area_name, outlets_by_area, p) -> pd.DataFrame:
    k = len(no)
    sub = rng.choice(SIGN_SUBSTATES, k, p=[0.62 - 0.15 * p, 0.02, 0.10, 0.26 + 0.15 * p])
    outlet = np.full(k, None, dtype=object)
    for i in np.flatnonzero(sub == 304):
        codes = outlets_by_area.get(area[i])
        if codes:
            outlet[i] = codes[i % len(codes)]
    context = np.where(sub == 304, "快件已由驿站/智能柜代收", "快件已签收,感谢使用")
    return pd.DataFrame({"company": comp, "waybill_no": no, "event_time": when, "state": 3, "sub_state": sub,
                         "area_code": area, "outlet_id": outlet, "area_name": area_name, "context": context})


def _inbound_events(run: Run, rng: np.random.Generator, m: Month, day: np.ndarray, id_offset: int,
                    outlets_by_area: dict) -> pd.DataFrame:
    """Parcels from elsewhere delivered in the city on the given days: the brands report only their last-mile events."""
    k = len(day)
    world = run.world
    p = progress(m)
    company = rng.choice(len(COMPANIES), k, p=COMPANY_SHARE / COMPANY_SHARE.sum())
    no = _numbers(company, _ids(m, 1, k) + id_offset)
    rural = rng.random(k) < 0.30 + 0.10 * p
    area = np.where(rural, rng.choice(world.divisions.codes("village"), k), rng.choice(world.divisions.codes("community"), k))
    by_code = world.divisions.by_code()
    area_name = np.array([by_code[a]["name"] for a in area], dtype=object)
    signed = int(m.start().timestamp()) + day * 86400 + rng.integers(9 * 3600, 21 * 3600, k)
    comp = np.array(COMPANIES)[company]
    deliver = pd.DataFrame({"company": comp, "waybill_no": no, "event_time": signed - rng.integers(1800, 4 * 3600, k),
                            "state": 5, "sub_state": None, "area_code": area, "outlet_id": None,
                            "area_name": area_name, "context": "快递员正在为您派件"})
    return pd.concat([deliver, _sign_frame(rng, comp, no, signed, area, area_name, outlets_by_area, p)], ignore_index=True)


def _json_str(values) -> list[str]:
    return ["null" if pd.isna(v) else f'"{v}"' for v in values]


def _write_waybills(run: Run, rng: np.random.Generator, conflicts: np.random.Generator, m: Month, wb: pd.DataFrame,
                    out: JsonLinesOut) -> pd.DataFrame:
    wb = wb.sort_values("received", kind="stable").reset_index(drop=True)
    n = len(wb)
    kind_names = D.month_kinds(D.WAYBILL_KINDS, run.is_broken(m))
    kinds = D.pick_defects(rng, n, run.defect_rate, kind_names, conflicts)
    company = wb["company"].tolist()
    no = wb["waybill_no"].tolist()
    accepted = iso_local(wb["accepted"].to_numpy())
    received = iso_local(wb["received"].to_numpy())
    origin = wb["origin"].tolist()
    fee = fen_to_str(wb["fee_fen"].to_numpy())
    sender_name, sender_phone = names(rng, n), phones(rng, n)
    recv_name, recv_phone = names(rng, n), phones(rng, n)
    by_code = run.world.divisions.by_code()
    weight = wb["weight_g"].tolist()
    for i in np.flatnonzero(kinds >= 0):
        kind = kind_names[kinds[i]]
        if kind == D.BAD_WAYBILL_NO:
            no[i] = no[i][:-5]
        elif kind == D.UNKNOWN_COMPANY:
            company[i] = "ZT0" if company[i] != "ZT0" else "XX"
        elif kind == D.UNKNOWN_AREA:
            origin[i] = origin[i][:6] + "999999"
        elif kind == D.BAD_TIMESTAMP:
            accepted[i] = f"{m.year}-02-30T10:00:00+08:00" if i % 2 else accepted[i].replace("T", " ")[:16] + ":61"
        elif kind == D.BAD_AMOUNT:
            fee[i] = "-" + fee[i] if i % 2 else "十二元"
        elif kind == D.MALFORMED:
            weight[i] = '"2.3kg"'
    ref = [("null" if pd.isna(p) else f'{{"platform": "{p}", "order_no": "{o}"}}')
           for p, o in zip(wb["ref_platform"].tolist(), wb["ref_order"].tolist())]
    lines = []
    for i, (c, w, acc, rec, org, dc, da, fe, sv, cat, ew, pk, pu, rf, dt) in enumerate(zip(
            company, no, accepted, received, origin, wb["dest_country"].tolist(), _json_str(wb["dest_area"].tolist()),
            fee, wb["service"].tolist(), wb["category"].tolist(), wb["e_waybill"].tolist(), wb["packaging"].tolist(),
            _json_str(wb["pickup"].tolist()), ref, wb["dest_text"].tolist())):
        o = by_code.get(org)
        s_addr = f"宁夏中卫市{by_code[o['county_code'] + '000000']['name']}{o['name']}" if o else "宁夏"
        lines.append(
            f'{{"waybill_no": "{w}", "company": "{c}", "accepted_at": "{acc}", "received_at": "{rec}", '
            f'"origin_area_code": "{org}", "dest_country": "{dc}", "dest_area_code": {da}, "weight_g": {weight[i]}, '
            f'"fee_cny": "{fe}", "service": "{sv}", "item_category": "{cat}", "e_waybill": {"true" if ew else "false"}, '
            f'"packaging": "{pk}", "pickup_outlet_id": {pu}, "order_ref": {rf}, '
            f'"sender": {{"name": "{sender_name[i]}", "phone": "{sender_phone[i]}", "address": "{s_addr}{i % 97 + 1}号"}}, '
            f'"receiver": {{"name": "{recv_name[i]}", "phone": "{recv_phone[i]}", "address": "{dt}{i % 89 + 1}号"}}}}\n')
    # a repeat right after its record; a conflict: the same (company, waybill_no, received_at), another weight
    copies = {int(i): lines[i] if kind_names[kinds[i]] == D.REPEATED
              else lines[i].replace(f'"weight_g": {weight[i]},', f'"weight_g": {weight[i] + 100},', 1)
              for i in np.flatnonzero(kinds >= 0) if kind_names[kinds[i]] in (D.REPEATED, D.CONFLICT)}
    lines, at = D.with_copies(lines, copies)
    first = out.write(lines)
    for i in np.flatnonzero(kinds >= 0):
        kind = kind_names[kinds[i]]
        for line in D.logged_at(kind, first + int(at[i])):
            run.defects.add("courier_waybills", kind, file=out.rel, line=line,
                            company=company[i], waybill_no=no[i], received_at=received[i])
    return wb[D.kept(kinds, kind_names)].reset_index(drop=True)


def _write_events(run: Run, rng: np.random.Generator, conflicts: np.random.Generator, m: Month, ev: pd.DataFrame,
                 out: JsonLinesOut) -> pd.DataFrame:
    ev = ev.copy()
    ev["received"] = ev["event_time"].to_numpy() + _lag(rng, len(ev))
    # the same event delivered again later: the exchange does not deduplicate
    again = ev.iloc[rng.choice(len(ev), int(len(ev) * 0.01), replace=False)].copy()
    again["received"] = again["received"] + rng.integers(600, 2 * 86400, len(again))
    ev = pd.concat([ev, again], ignore_index=True)
    ev = ev[ev["received"] < run.as_of].sort_values("received", kind="stable").reset_index(drop=True)
    n = len(ev)
    kind_names = D.month_kinds(D.EVENT_KINDS, run.is_broken(m))
    kinds = D.pick_defects(rng, n, run.defect_rate, kind_names, conflicts)
    no = ev["waybill_no"].tolist()
    when = iso_local(ev["event_time"].to_numpy())
    received = iso_local(ev["received"].to_numpy())
    state = [str(s) for s in ev["state"].tolist()]
    for i in np.flatnonzero(kinds >= 0):
        kind = kind_names[kinds[i]]
        if kind == D.BAD_WAYBILL_NO:
            no[i] = "#" + no[i]
        elif kind == D.BAD_TIMESTAMP:
            when[i] = "2025-13-01T08:00:00+08:00" if i % 2 else "昨天下午"
        elif kind == D.MALFORMED:
            state[i] = '"签收"'
    sub = ["null" if s is None or s != s else str(int(s)) for s in ev["sub_state"].tolist()]
    lines = [
        f'{{"waybill_no": "{w}", "company": "{c}", "event_time": "{t}", "received_at": "{r}", "state": {s}, '
        f'"sub_state": {ss}, "area_code": "{a}", "area_name": "{an}", "outlet_id": {o}, "context": "{ctx}"}}\n'
        for w, c, t, r, s, ss, a, an, o, ctx in zip(
            no, ev["company"].tolist(), when, received, state, sub, ev["area_code"].tolist(),
            ev["area_name"].tolist(), _json_str(ev["outlet_id"].tolist()), ev["context"].tolist())]
    # a repeat right after its event; a conflict: the same key, another context text (the line's
    # last value: the line ends with its closing quote, brace and newline)
    copies = {int(i): lines[i] if kind_names[kinds[i]] == D.REPEATED else f'{lines[i][:-3]}（重复推送）"}}\n'
              for i in np.flatnonzero(kinds >= 0) if kind_names[kinds[i]] in (D.REPEATED, D.CONFLICT)}
    lines, at = D.with_copies(lines, copies)
    first = out.write(lines)
    comp = ev["company"].tolist()
    for i in np.flatnonzero(kinds >= 0):
        kind = kind_names[kinds[i]]
        for line in D.logged_at(kind, first + int(at[i])):
            run.defects.add("courier_events", kind, file=out.rel, line=line,
                            company=comp[i], waybill_no=no[i], received_at=received[i])
    return ev[D.kept(kinds, kind_names)].reset_index(drop=True)
