"""The oracle on hand-made records whose indicator values are worked out by hand."""
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from zhongwei.synth import defects as D
from zhongwei.synth.calendar import CST
from zhongwei.synth.truth import NEVER, Truth


def t(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=CST).timestamp())


def waybill(no, company="ZTO", accepted="2025-03-04T10:00", received=None, origin="640521101205", dest="310115",
            country="CN", fee=1000, category="industrial", e_waybill=True, packaging="standard", ref=(None, None)):
    return {"company": company, "waybill_no": no, "accepted": t(accepted), "received": t(received or accepted),
            "origin": origin, "dest_country": country, "dest_area": dest, "fee_fen": fee, "category": category,
            "e_waybill": e_waybill, "packaging": packaging, "ref_platform": ref[0], "ref_order": ref[1]}


def event(no, when, state=3, sub=301, area="310115005000", company="ZTO"):
    return {"company": company, "waybill_no": no, "event_time": t(when), "state": state, "sub_state": sub,
            "area_code": area}


def city(truth: Truth, month: str, code: str):
    rows = {(r["period"], r["region_code"], r["indicator_code"]): r for r in truth.indicators()}
    return rows[(month, "640500", code)]


def test_courier_rules():
    truth = Truth(["2025-03"])
    truth.add_registry("2025-03", {"enterprises": [], "classes": [], "hosts": []})
    wb = pd.DataFrame([
        waybill("A", fee=1000),
        waybill("A", fee=1500, received="2025-03-05T09:00"),  # a correction: the latest wins
        waybill("B", dest="640502", category="agri", packaging="green"),  # local, agri but not outbound
        waybill("C", country="HK", dest=None, category="agri", e_waybill=False, packaging="reused"),
        waybill("D", origin="640104001001"),  # accepted outside Zhongwei: not counted
        waybill("E", accepted="2025-03-31T23:00", origin="640502100201"),
    ])
    ev = pd.DataFrame([
        event("A", "2025-03-07T10:00"),  # exactly 72 h after acceptance: within
        event("A", "2025-03-07T10:00"),  # the same event again
        event("B", "2025-03-04T20:00", sub=304, area="640502100201"),  # signed in a village of the city
        event("E", "2025-04-04T23:00:01"),  # 72 h + 1 s: not within
        event("X", "2025-03-10T12:00", sub=304, area="640522100001"),  # an inbound parcel signed in a community
    ])
    truth.add_courier(wb, ev)
    v = {c: city(truth, "2025-03", c)["value"] for c in
         ["EXP_VOL", "EXP_VOL_LOCAL", "EXP_VOL_DOMESTIC", "EXP_VOL_INTL", "EXP_REV", "EXP_AGRI_OUT",
          "EXP_EWAYBILL_RATE", "EXP_GREEN_PACK_RATE", "EXP_SIGNED_72H_RATE", "EXP_DELIV", "EXP_DELIV_RURAL",
          "EXP_DELIV_OUTLET_SHARE", "EXP_CR8"]}
    assert v["EXP_VOL"] == 4 and v["EXP_VOL_LOCAL"] == 1 and v["EXP_VOL_DOMESTIC"] == 2 and v["EXP_VOL_INTL"] == 1
    assert v["EXP_REV"] == pytest.approx(45.0)  # 15 + 10 + 10 + 10
    assert v["EXP_AGRI_OUT"] == 1  # HK counts as outside the city; the local one does not
    assert v["EXP_EWAYBILL_RATE"] == pytest.approx(3 / 4) and v["EXP_GREEN_PACK_RATE"] == pytest.approx(2 / 4)
    assert v["EXP_SIGNED_72H_RATE"] == pytest.approx(2 / 3)  # A and B within, E not
    assert v["EXP_DELIV"] == 2 and v["EXP_DELIV_RURAL"] == 1 and v["EXP_DELIV_OUTLET_SHARE"] == pytest.approx(1.0)
    assert v["EXP_CR8"] == pytest.approx(1.0)


def test_cr8_leaves_out_the_two_smallest_brands():
    truth = Truth(["2025-03"])
    truth.add_registry("2025-03", {"enterprises": [], "classes": [], "hosts": []})
    companies = ["ZTO", "YTO", "YUNDA", "JTSD", "STO", "YZPY", "SF", "EMS", "JDL", "DBL"]
    rows = [waybill(f"{c}{i}", company=c) for k, c in enumerate(companies) for i in range(10 - k)]
    truth.add_courier(pd.DataFrame(rows), pd.DataFrame(columns=["company", "waybill_no", "event_time", "state",
                                                                "sub_state", "area_code"]))
    assert city(truth, "2025-03", "EXP_CR8")["value"] == pytest.approx((55 - 3) / 55)


def orders_frame(rows):
    base = {"created": t("2025-03-04T08:00"), "paid": t("2025-03-04T08:01"), "shipped": NEVER, "completed": NEVER,
            "refund_asked": NEVER, "refund_done": NEVER, "closed": NEVER, "channel": "", "shipping": 0}
    return pd.DataFrame([{**base, **r} for r in rows])


def exports(rows):
    return pd.DataFrame([{"defect": -1, "file": "f", **r} for r in rows])


def test_douyin_refund_stays_on_its_line_and_shipping_is_shared():
    truth = Truth(["2025-03"])
    truth.add_registry("2025-03", {"enterprises": [{"credit_code": "x", "county": "640521", "settled": True,
                                                    "demo": False, "shops": [("DOUYIN", "s1")]}],
                                   "classes": [], "hosts": []})
    orders = orders_frame([{"order_no": "o1", "shop_id": "s1", "shipping": 1000,
                            "refund_done": t("2025-03-06T00:00")}])
    lines = pd.DataFrame([
        {"order": 0, "line_no": 0, "category": "枸杞", "amount": 6000, "refund": 0, "live_room": "r1"},
        {"order": 0, "line_no": 1, "category": "服装", "amount": 4000, "refund": 4000, "live_room": None},
    ])
    ex = exports([{"order": 0, "day": 1, "day_end": t("2025-03-05T00:00")},
                  {"order": 0, "day": 2, "day_end": t("2025-03-07T00:00")}])
    truth.add_orders("DOUYIN", orders, lines, ex, {})
    get = lambda c: city(truth, "2025-03", c)["value"]  # noqa: E731
    assert get("ECOM_GMV_GROSS") == pytest.approx(110.0)
    assert get("ECOM_GMV") == pytest.approx(70.0)  # the refund of the apparel line
    assert get("ECOM_ORDERS") == 1
    assert get("ECOM_AGRI_GMV") == pytest.approx(66.0)  # 60 + 6 of the shipping, no refund on this line
    assert get("ECOM_LIVE_GMV") == pytest.approx(66.0)


def test_latest_clean_export_decides_and_unregistered_shops_do_not_count():
    truth = Truth(["2025-03"])
    truth.add_registry("2025-03", {"enterprises": [{"credit_code": "x", "county": "640502", "settled": False,
                                                    "demo": True, "shops": [("ZWYP", "s1")]}],
                                   "classes": [], "hosts": []})
    orders = orders_frame([
        {"order_no": "o1", "shop_id": "s1", "channel": "livestream", "refund_done": t("2025-03-10T00:00")},
        {"order_no": "o2", "shop_id": "s1", "refund_done": t("2025-03-10T00:00")},
        {"order_no": "o3", "shop_id": "not-registered"},
    ])
    lines = pd.DataFrame([
        {"order": 0, "line_no": 0, "category": "红枣", "amount": 3000, "refund": 1000, "live_room": None},
        {"order": 0, "line_no": 1, "category": "大米", "amount": 1000, "refund": 0, "live_room": None},
        {"order": 1, "line_no": 0, "category": "红枣", "amount": 5000, "refund": 5000, "live_room": None},
        {"order": 2, "line_no": 0, "category": "红枣", "amount": 9900, "refund": 0, "live_room": None},
    ])
    ex = exports([
        {"order": 0, "day": 1, "day_end": t("2025-03-05T00:00")},
        {"order": 0, "day": 2, "day_end": t("2025-03-11T00:00")},  # refund done by then
        {"order": 1, "day": 1, "day_end": t("2025-03-05T00:00")},
        {"order": 1, "day": 2, "day_end": t("2025-03-11T00:00"), "defect": 0},  # malformed: the refund never arrives
        {"order": 2, "day": 1, "day_end": t("2025-03-05T00:00")},
    ])
    truth.add_orders("ZWYP", orders, lines, ex, {})
    get = lambda c: city(truth, "2025-03", c)["value"]  # noqa: E731
    assert get("ECOM_ORDERS") == 2
    assert get("ECOM_GMV") == pytest.approx(30.0 + 50.0)
    assert get("ECOM_LIVE_GMV") == pytest.approx(30.0)  # a ZWYP livestream order counts whole
    assert get("ECOM_AGRI_GMV") == pytest.approx(80.0)  # ZWYP refunds are spread over the lines
    assert get("DEMO_ENTERPRISES") == 1 and get("ECOM_BASE_ENTERPRISES") == 0


def test_a_repeated_export_counts_once_and_a_conflicting_one_not_at_all():
    truth = Truth(["2025-03"])
    truth.add_registry("2025-03", {"enterprises": [{"credit_code": "x", "county": "640522", "settled": True,
                                                    "demo": False, "shops": [("TAOBAO", "s1")]}],
                                   "classes": [], "hosts": []})
    orders = orders_frame([{"order_no": f"o{i}", "shop_id": "s1", "refund_done": t("2025-03-10T00:00")}
                           for i in range(3)])
    lines = pd.DataFrame([{"order": i, "line_no": 0, "category": "枸杞", "amount": 2000, "refund": 2000,
                           "live_room": None} for i in range(3)])
    repeated, conflict = D.ORDER_KINDS.index(D.REPEATED), len(D.ORDER_KINDS)  # CONFLICT: last, broken month only
    ex = exports([
        {"order": 0, "day": 1, "day_end": t("2025-03-05T00:00")},
        {"order": 0, "day": 2, "day_end": t("2025-03-11T00:00"), "defect": repeated},  # the refund arrives
        {"order": 1, "day": 1, "day_end": t("2025-03-05T00:00")},
        {"order": 1, "day": 2, "day_end": t("2025-03-11T00:00"), "defect": conflict},  # the refund never arrives
        {"order": 2, "day": 1, "day_end": t("2025-03-05T00:00"), "defect": conflict},  # the order never arrives
    ])
    truth.add_orders("TAOBAO", orders, lines, ex, {})
    get = lambda c: city(truth, "2025-03", c)["value"]  # noqa: E731
    assert get("ECOM_ORDERS") == 2
    assert get("ECOM_GMV_GROSS") == pytest.approx(40.0) and get("ECOM_GMV") == pytest.approx(20.0)


def test_year_to_date_growth_and_targets():
    months = [f"{y}-{m:02d}" for y in (2024, 2025) for m in (1, 2)]
    truth = Truth(months)
    for mo, n in zip(months, [10, 20, 15, 22]):
        truth.add_registry(mo, {"enterprises": [], "classes": [], "hosts": []})
        truth.comp[(mo, "640521", "EXP_VOL")] = n
    feb = city(truth, "2025-02", "EXP_VOL")
    assert feb["value"] == 22 and feb["ytd_value"] == 37
    assert feb["yoy_growth"] == pytest.approx(22 / 20 - 1) and feb["ytd_yoy_growth"] == pytest.approx(37 / 30 - 1)
    assert feb["target_value"] == pytest.approx(20_000_000) and feb["progress"] == pytest.approx(37 / 20_000_000)
    assert city(truth, "2024-02", "EXP_VOL")["target_value"] == pytest.approx(20_000_000 / 1.23)
    assert city(truth, "2024-02", "EXP_VOL")["yoy_growth"] is None  # no 2023 data
    assert city(truth, "2025-02", "EXP_SIGNED_72H_RATE")["value"] is None  # nothing signed: no ratio
    counties = {r["region_code"] for r in truth.indicators() if r["indicator_code"] == "TAL_CLASSES"}
    assert counties == {"640500"}
    assert not np.isnan(feb["value"])
