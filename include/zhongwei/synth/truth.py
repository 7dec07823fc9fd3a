"""The test oracle: every indicator of docs/indicators.md, computed straight from
the generator's own clean records (what the files hold once the defective
records are set aside), written to `<inbox>/_truth/indicators.csv`.

Kept short and plain on purpose, and independent of the pipeline (no imports
from it): tests compare the warehouse with these numbers.
"""
from __future__ import annotations

import csv
from collections import defaultdict

import numpy as np
import pandas as pd

from zhongwei.config import SEEDS_DIR
from zhongwei.synth import defects as D

NEVER = np.iinfo(np.int64).max
CITY = "640500"
COUNTIES = ["640502", "640521", "640522"]
AGRI_TEXTS = {"枸杞", "枸杞干果", "中宁枸杞", "硒砂瓜", "香山压砂瓜", "西瓜", "苹果", "红枣", "水果", "大米", "小米",
              "杂粮", "牛肉", "羊肉", "滩羊肉", "肉类", "蜂蜜", "土特产", "农副产品"}
UNKNOWN_CATEGORY = D.ORDER_KINDS.index(D.UNKNOWN_CATEGORY)  # the record stays, as not 农产品
KEPT = [D.ORDER_KINDS.index(k) for k in D.KEPT]  # defects whose record stays: unknown category, a verbatim repeat

# indicator: (unit, kind) — kind: count/money flows, ratio flows (numerator, denominator), stocks
INDICATORS = {
    "EXP_VOL": "pieces", "EXP_VOL_LOCAL": "pieces", "EXP_VOL_DOMESTIC": "pieces", "EXP_VOL_INTL": "pieces",
    "EXP_REV": "CNY", "EXP_DELIV": "pieces", "EXP_DELIV_RURAL": "pieces", "EXP_DELIV_OUTLET_SHARE": "ratio",
    "EXP_AGRI_OUT": "pieces", "EXP_ECOM_SHARE": "ratio", "EXP_EWAYBILL_RATE": "ratio", "EXP_GREEN_PACK_RATE": "ratio",
    "EXP_SIGNED_72H_RATE": "ratio", "EXP_CR8": "ratio", "ECOM_GMV": "CNY", "ECOM_GMV_GROSS": "CNY",
    "ECOM_ORDERS": "orders", "ECOM_AGRI_GMV": "CNY", "ECOM_LIVE_GMV": "CNY", "ECOM_BASE_ENTERPRISES": "enterprises",
    "DEMO_ENTERPRISES": "enterprises", "OUT_XINGNONG": "outlets", "OUT_ACTIVE": "outlets",
    "OUT_VILLAGE_COVERAGE": "ratio", "TAL_CLASSES": "classes", "TAL_TRAINEES": "people", "TAL_INFLUENCERS": "people",
}
RATIOS = {"EXP_DELIV_OUTLET_SHARE": ("deliv_304", "EXP_DELIV"), "EXP_ECOM_SHARE": ("vol_ecom", "EXP_VOL"),
          "EXP_EWAYBILL_RATE": ("vol_ewaybill", "EXP_VOL"), "EXP_GREEN_PACK_RATE": ("vol_green", "EXP_VOL"),
          "EXP_SIGNED_72H_RATE": ("signed_72h", "signed"), "OUT_VILLAGE_COVERAGE": ("villages_covered", "villages")}
STOCKS = {"ECOM_BASE_ENTERPRISES", "DEMO_ENTERPRISES", "OUT_XINGNONG", "OUT_ACTIVE", "OUT_VILLAGE_COVERAGE"}
CITY_ONLY = {"TAL_CLASSES", "TAL_TRAINEES", "TAL_INFLUENCERS"}


def month_of(epoch: np.ndarray) -> np.ndarray:
    """Local (UTC+8) calendar month of epoch seconds, as 'YYYY-MM'."""
    return np.datetime_as_string((np.asarray(epoch) + 8 * 3600).astype("datetime64[s]").astype("datetime64[M]"))


class Truth:
    def __init__(self, months: list[str]):
        self.months = months
        self.comp: dict[tuple[str, str, str], float] = defaultdict(float)  # (month, county, component)
        divisions = pd.read_csv(SEEDS_DIR / "zhongwei_divisions.csv", dtype=str)
        self.village = set(divisions.loc[divisions["level"] == "village", "code"])
        self.villages_per_county = divisions[divisions["level"] == "village"].groupby("county_code").size().to_dict()
        self.registered: dict[str, dict[tuple[str, str], str]] = {}  # month → (platform, shop_id) → county
        self.existing_orders: set[tuple[str, str]] = set()
        self.shop_of_order: dict[tuple[str, str], str] = {}

    def _add(self, month, county, name, values=None) -> None:
        """Sum values (or count rows) per (month, county) into a component."""
        keys = np.char.add(np.asarray(month, dtype=str), np.asarray(county, dtype=str))
        if keys.size == 0:
            return
        uniq, inverse = np.unique(keys, return_inverse=True)
        weights = None if values is None else np.asarray(values, dtype=float)
        for key, total in zip(uniq.tolist(), np.bincount(inverse, weights=weights, minlength=len(uniq)).tolist()):
            self.comp[(key[:7], key[7:], name)] += total

    # --- ledgers -------------------------------------------------------------
    def add_registry(self, month: str, clean: dict[str, list[dict]]) -> None:
        ents = clean["enterprises"]
        self.registered[month] = {shop: e["county"] for e in ents for shop in e["shops"]}
        for e in ents:
            self.comp[(month, e["county"], "ECOM_BASE_ENTERPRISES")] += e["settled"]
            self.comp[(month, e["county"], "DEMO_ENTERPRISES")] += e["demo"]
        for c in clean["classes"]:
            if c["end"].strftime("%Y-%m") == month:
                self.comp[(month, CITY, "TAL_CLASSES")] += 1
                self.comp[(month, CITY, "TAL_TRAINEES")] += c["trainees"]
        for h in clean["hosts"]:
            if h["start"].strftime("%Y-%m") == month and h["status"] != "退出":
                self.comp[(month, CITY, "TAL_INFLUENCERS")] += 1

    def add_outlets(self, month: str, rows: list[dict]) -> None:
        covered = set()
        for r in rows:
            if r["status"] == "运营":
                self.comp[(month, r["county"], "OUT_ACTIVE")] += 1
                self.comp[(month, r["county"], "OUT_XINGNONG")] += r["type"] == "电商快递兴农超市"
                if r["takes_parcels"] and r["area_code"] in self.village:
                    covered.add((r["county"], r["area_code"]))
        for county in COUNTIES:
            self.comp[(month, county, "villages_covered")] += sum(1 for c, _ in covered if c == county)
            self.comp[(month, county, "villages")] += self.villages_per_county[county]

    # --- e-commerce ------------------------------------------------------------
    def add_orders(self, platform: str, orders: pd.DataFrame, lines: pd.DataFrame, exports: pd.DataFrame,
                   lost_files: dict[str, str]) -> None:
        ok = (exports["defect"] < 0) | exports["defect"].isin(KEPT)
        ok &= ~exports["file"].isin(list(lost_files))
        last = exports[ok].sort_values("day").groupby("order").tail(1).set_index("order")
        o = orders.loc[last.index].copy()
        self.existing_orders.update((platform, n) for n in o["order_no"])
        end = last["day_end"].to_numpy()
        o["paid_now"] = o["paid"].to_numpy() < end
        o["refunded_now"] = o["refund_done"].to_numpy() < end
        o["unknown_cat"] = last["defect"].to_numpy() == UNKNOWN_CATEGORY
        o = o[o["paid_now"]]
        o["paid_month"] = month_of(o["paid"].to_numpy())
        o["county"] = [self.registered.get(pm, {}).get((platform, sid))
                       for pm, sid in zip(o["paid_month"], o["shop_id"])]
        o = o[o["county"].notna()]
        ln = lines[lines["order"].isin(o.index)].merge(o, left_on="order", right_index=True)
        goods = ln.groupby("order")["amount"].transform("sum")
        refund = np.where(ln["refunded_now"], ln["refund"], 0)
        order_refund = pd.Series(refund, index=ln.index).groupby(ln["order"]).transform("sum")
        share = ln["amount"] / goods
        line_refund = refund if platform == "DOUYIN" else share * order_refund  # Douyin refunds stay on their line
        ln["gmv"] = ln["amount"] + share * ln["shipping"] - line_refund
        agri = ln["category"].isin(AGRI_TEXTS) & ~(ln["unknown_cat"] & (ln["line_no"] == 0))
        goods_by_order = ln.groupby("order")["amount"].sum()
        gross = goods_by_order + o.loc[goods_by_order.index, "shipping"]
        refunded = pd.Series(refund, index=ln.index).groupby(ln["order"]).sum()
        keys = (o.loc[goods_by_order.index, "paid_month"].to_numpy(), o.loc[goods_by_order.index, "county"].to_numpy())
        self._add(*keys, "ECOM_GMV_GROSS", gross.to_numpy() / 100)
        self._add(*keys, "ECOM_GMV", (gross - refunded).to_numpy() / 100)
        self._add(*keys, "ECOM_ORDERS")
        self._add(ln["paid_month"].to_numpy()[agri], ln["county"].to_numpy()[agri], "ECOM_AGRI_GMV",
                  ln["gmv"].to_numpy()[agri] / 100)
        if platform == "DOUYIN":
            live = ln["live_room"].notna().to_numpy()
        elif platform == "ZWYP":
            live = (ln["channel"] == "livestream").to_numpy()
        else:
            live = np.zeros(len(ln), bool)
        self._add(ln["paid_month"].to_numpy()[live], ln["county"].to_numpy()[live], "ECOM_LIVE_GMV",
                  ln["gmv"].to_numpy()[live] / 100)

    # --- courier ---------------------------------------------------------------
    def add_courier(self, waybills: pd.DataFrame, events: pd.DataFrame) -> None:
        ev = events.drop_duplicates(["company", "waybill_no", "event_time", "state", "sub_state", "area_code"])
        signs = ev[ev["state"] == 3].sort_values("event_time").groupby(["company", "waybill_no"]).head(1)
        # deliveries: the first 签收 of each waybill, where it happened
        d = signs[signs["area_code"].str.startswith("6405")]
        m, c = month_of(d["event_time"].to_numpy()), d["area_code"].str[:6].to_numpy()
        self._add(m, c, "EXP_DELIV")
        rural = d["area_code"].isin(self.village).to_numpy()
        self._add(m[rural], c[rural], "EXP_DELIV_RURAL")
        s304 = (d["sub_state"] == 304).to_numpy()
        self._add(m[s304], c[s304], "deliv_304")

        wb = waybills.sort_values("received").groupby(["company", "waybill_no"]).tail(1)  # latest correction
        wb = wb[wb["origin"].str.startswith("6405")]
        m, c = month_of(wb["accepted"].to_numpy()), wb["origin"].str[:6].to_numpy()
        local = (wb["dest_country"] == "CN") & wb["dest_area"].fillna("").str.startswith("6405")
        flags = {
            "EXP_VOL": np.ones(len(wb), bool),
            "EXP_VOL_LOCAL": local.to_numpy(),
            "EXP_VOL_DOMESTIC": ((wb["dest_country"] == "CN") & ~local).to_numpy(),
            "EXP_VOL_INTL": (wb["dest_country"] != "CN").to_numpy(),
            "EXP_AGRI_OUT": ((wb["category"] == "agri") & ~local).to_numpy(),
            "vol_ewaybill": wb["e_waybill"].to_numpy(dtype=bool),
            "vol_green": wb["packaging"].isin(["green", "reused"]).to_numpy(),
            "vol_ecom": np.array([(p, o) in self.existing_orders
                                  and (p, self._shop_of(p, o)) in self.registered.get(mm, {})
                                  for p, o, mm in zip(wb["ref_platform"], wb["ref_order"], m)], dtype=bool),
        }
        for name, f in flags.items():
            self._add(m[f], c[f], name)
        self._add(m, c, "EXP_REV", wb["fee_fen"].to_numpy() / 100)
        for company in wb["company"].unique():
            f = (wb["company"] == company).to_numpy()
            self._add(m[f], c[f], f"vol_company_{company}")
        signed = wb.merge(signs[["company", "waybill_no", "event_time"]], on=["company", "waybill_no"])
        sm, sc = month_of(signed["accepted"].to_numpy()), signed["origin"].str[:6].to_numpy()
        self._add(sm, sc, "signed")
        fast = (signed["event_time"] - signed["accepted"] <= 72 * 3600).to_numpy()
        self._add(sm[fast], sc[fast], "signed_72h")

    def note_order_shops(self, platform: str, orders: pd.DataFrame) -> None:
        self.shop_of_order.update(((platform, n), s) for n, s in zip(orders["order_no"], orders["shop_id"]))

    def _shop_of(self, platform: str, order_no: str) -> str | None:
        return self.shop_of_order.get((platform, order_no))

    # --- the indicators --------------------------------------------------------
    def _components(self, months: list[str], region: str) -> dict[str, float]:
        counties = COUNTIES if region == CITY else [region]
        out: dict[str, float] = defaultdict(float)
        for (m, c, name), v in self.comp.items():
            if m in months and (c in counties or (c == CITY and region == CITY)):
                out[name] += v
        return out

    def _value(self, code: str, comp: dict[str, float]):
        if code in RATIOS:
            num, den = RATIOS[code]
            return comp.get(num, 0) / comp[den] if comp.get(den) else None
        if code == "EXP_CR8":
            vols = sorted((v for k, v in comp.items() if k.startswith("vol_company_")), reverse=True)
            return sum(vols[:8]) / sum(vols) if sum(vols) else None
        return comp.get(code, 0)

    def indicators(self) -> list[dict]:
        targets = pd.read_csv(SEEDS_DIR / "plan_targets.csv").set_index("indicator_code")
        have = set(self.months)
        rows = []
        for month in self.months:
            y, mo = int(month[:4]), int(month[5:])
            ytd_months = [f"{y}-{k:02d}" for k in range(1, mo + 1)]
            last_ytd = [f"{y - 1}-{k:02d}" for k in range(1, mo + 1)]
            last = f"{y - 1}-{mo:02d}"
            for region in [CITY, *COUNTIES]:
                now, before = self._components([month], region), self._components([last], region)
                ytd = self._components(ytd_months, region) if set(ytd_months) <= have else None
                ytd_before = self._components(last_ytd, region) if set(last_ytd) <= have else None
                for code, unit in INDICATORS.items():
                    if region != CITY and code in CITY_ONLY:
                        continue
                    value = self._value(code, now)
                    flow = code not in STOCKS
                    ytd_value = self._value(code, ytd) if flow and ytd is not None else None
                    target = progress = None
                    if region == CITY and code in targets.index:
                        t = targets.loc[code]
                        if t["scope"] == "year_total":
                            target = t["target_value"] * (1 + t["annual_growth"]) ** (y - 2025)
                            progress = ytd_value / target if ytd_value is not None else None
                        elif t["scope"] == "every_year":
                            target = float(t["target_value"])
                            progress = ytd_value / target if ytd_value is not None else None
                        else:
                            target = float(t["target_value"])
                            progress = value / target if value is not None else None
                    rows.append({
                        "period": month, "region_code": region, "indicator_code": code, "value": value,
                        "unit": unit, "ytd_value": ytd_value,
                        "yoy_growth": _growth(value, self._value(code, before) if last in have else None),
                        "ytd_yoy_growth": _growth(ytd_value, self._value(code, ytd_before)
                                                  if flow and ytd_before is not None else None),
                        "target_value": target, "progress": progress,
                    })
        return rows

    def write(self, path) -> None:
        rows = self.indicators()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            for r in rows:
                w.writerow({k: _text(v) for k, v in r.items()})


def _text(v) -> str:
    """Whole numbers as integers, fractions at full precision, None as empty."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _growth(now, before):
    if now is None or before is None or before == 0:
        return None
    return now / before - 1

