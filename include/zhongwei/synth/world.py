"""The city the feeds describe: divisions, enterprises and their shops, outlets,
training classes and livestream hosts, each with a history over the months.

These ledgers are the real world's size at every `--scale` (a city has about a
thousand outlets whatever the traffic); only transaction volumes scale.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from zhongwei.config import SEEDS_DIR
from zhongwei.synth.calendar import Month

COUNTIES = {"640502": "沙坡头区", "640521": "中宁县", "640522": "海原县"}
COUNTY_CENTRES = {"640502": (105.19, 37.51), "640521": (105.68, 37.49), "640522": (105.65, 36.56)}

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红梅鹏辉建国文斌宁晓燕丹海波志成龙飞兰凤云婷雪琴")
BRANDS_CN = ["中通", "圆通", "韵达", "申通", "极兔", "邮政", "顺丰", "京东", "德邦", "EMS"]
BRAND_SEPARATORS = ["、", ",", "，", "/"]
OUTLET_TYPES = ["电商快递兴农超市", "村级寄递物流综合服务站", "快递代收代寄点", "智能快件箱",
                "社区综合服务站", "快递营业网点", "邮政普遍服务网点"]
ENTERPRISE_TYPES = ["电商企业", "快递物流企业", "MCN机构", "品牌合作企业", "电商服务商"]
PLATFORMS = ["TAOBAO", "PDD", "DOUYIN", "ZWYP"]
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
HISTORY_START = Month(2021, 12)


def credit_check_char(first17: str) -> str:
    """GB 32100-2015 check character of a unified social credit code."""
    total = sum(CREDIT_CHARS.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def org_code_check(body8: str) -> str:
    """GB 11714 check character of the 9-character organisation code inside it."""
    weights = [3, 7, 9, 10, 5, 8, 4, 2]
    value = sum(int(c, 36) * w for c, w in zip(body8, weights))
    c9 = 11 - value % 11
    return {10: "X", 11: "0"}.get(c9, str(c9))


def make_credit_code(rng: np.random.Generator, county: str, kind: str = "91") -> str:
    body = "".join(rng.choice(list("0123456789ABCDEFGHJKLMNPQRTUWXY"), 8))
    first17 = kind + county + body + org_code_check(body)
    return first17 + credit_check_char(first17)


def person_name(rng: np.random.Generator) -> str:
    return str(rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN, rng.integers(1, 3)))


def phone(rng: np.random.Generator) -> str:
    return "1" + str(rng.choice(["38", "39", "59", "58", "37", "89", "99", "95", "77", "88"])) + f"{rng.integers(0, 10**8):08d}"


@dataclass
class Divisions:
    rows: list[dict]

    @classmethod
    def load(cls, path: Path = SEEDS_DIR / "zhongwei_divisions.csv") -> "Divisions":
        with open(path, encoding="utf-8") as f:
            return cls(list(csv.DictReader(f)))

    def codes(self, level: str, county: str | None = None) -> list[str]:
        return [r["code"] for r in self.rows if r["level"] == level and (county is None or r["county_code"] == county)]

    def by_code(self) -> dict[str, dict]:
        return {r["code"]: r for r in self.rows}


@dataclass
class Shop:
    platform: str
    shop_id: str
    name: str
    county: str
    weight: float  # share of the platform's orders
    agri_bias: float  # how much of its goods are farm products
    enterprise: int | None  # index into World.enterprises; None = not in the registry


@dataclass
class Enterprise:
    credit_code: str
    name: str
    county: str
    kind: str
    listed: int  # month ordinal from which the registry lists it
    settled: int | None  # month ordinal it settled in 电商谷
    demo: int | None  # month ordinal it was recognised as 示范企业
    shops: list[int] = field(default_factory=list)


@dataclass
class Outlet:
    code: str
    name: str
    county: str
    township: str
    village_name: str
    area_code: str
    lng: float
    lat: float
    operator: str
    operator_code: str
    brands: str
    opened: date
    keeper: str
    keeper_phone: str
    # (from month ordinal, status, type, takes_parcels): the outlet's history
    history: list[tuple[int, str, str, bool]]
    sells_agri: bool

    def state(self, m: Month) -> tuple[str, str, bool] | None:
        current = None
        for start, status, kind, takes in self.history:
            if start <= m.ordinal:
                current = (status, kind, takes)
        if current is None:
            return None
        # an outlet revoked (撤销) stays in the ledger for the month it was revoked
        last_start = max(s for s, *_ in self.history if s <= m.ordinal)
        if current[0] == "撤销" and m.ordinal > last_start:
            return None
        return current


@dataclass
class TrainingClass:
    code: str
    title: str
    category: str
    start: date
    end: date
    trainees: int
    organiser: str


@dataclass
class Host:
    host_id: str
    platform: str
    nickname: str
    org_code: str
    start: date
    # (from month ordinal, status)
    history: list[tuple[int, str]]

    def status(self, m: Month) -> str | None:
        current = None
        for start, status in self.history:
            if start <= m.ordinal:
                current = status
        return current


def _ordinal_to_date(rng: np.random.Generator, ordinal: int) -> date:
    y, mth = divmod(ordinal, 12)
    m = Month(y, mth + 1)
    return m.first_day + timedelta(days=int(rng.integers(0, m.days)))


class World:
    """Everything with an identity, generated once from the seed."""

    def __init__(self, seed: int):
        rng = np.random.default_rng([seed, 1])
        self.divisions = Divisions.load()
        self.enterprises: list[Enterprise] = []
        self.shops: list[Shop] = []
        self._make_enterprises(rng)
        self._make_shops(rng)
        self.outlets = self._make_outlets(rng)
        self.classes = self._make_classes(rng)
        self.hosts = self._make_hosts(rng)

    # --- enterprises and shops -------------------------------------------------
    def _make_enterprises(self, rng: np.random.Generator) -> None:
        start, late = HISTORY_START.ordinal, Month(2026, 6).ordinal
        words = ["杞乡", "塞上", "沙坡头", "香山", "黄河", "宁安", "清水河", "六盘", "枸杞红", "硒砂",
                 "滩羊", "腾格里", "金沙", "长城", "大漠", "红枣", "鸣沙", "天湖", "西部", "丝路"]
        suffix = {"电商企业": "电子商务有限公司", "快递物流企业": "物流有限公司", "MCN机构": "文化传媒有限公司",
                  "品牌合作企业": "农业科技有限公司", "电商服务商": "数字科技有限公司"}
        county_codes = list(COUNTIES)
        for i in range(420):
            county = str(rng.choice(county_codes, p=[0.55, 0.32, 0.13]))
            kind = str(rng.choice(ENTERPRISE_TYPES, p=[0.55, 0.12, 0.1, 0.13, 0.1]))
            listed = int(start + rng.integers(0, 25)) if rng.random() < 0.6 else int(rng.integers(Month(2024, 1).ordinal, late))
            settled = listed + int(rng.integers(0, 7)) if rng.random() < 0.8 else None
            first_demo = max(listed, Month(2022, 1).ordinal)
            demo = int(rng.integers(first_demo, first_demo + 36)) if rng.random() < 0.18 else None
            name = f"{COUNTIES[county][:2]}{words[i % len(words)]}{words[(i * 7 + 3) % len(words)]}{suffix[kind]}"
            if i >= len(words):
                name = f"中卫市{words[i % len(words)]}{i:03d}{suffix[kind]}"
            self.enterprises.append(Enterprise(make_credit_code(rng, county), name, county, kind, listed, settled, demo))

    def _make_shops(self, rng: np.random.Generator) -> None:
        platform_p = {"TAOBAO": 0.33, "PDD": 0.22, "DOUYIN": 0.30, "ZWYP": 0.15}
        used: set[str] = set()

        def new_id(platform: str) -> str:
            while True:
                sid = {"TAOBAO": lambda: str(rng.integers(10**7, 10**8)),
                       "PDD": lambda: str(rng.integers(10**5, 10**6)),
                       "DOUYIN": lambda: str(rng.integers(10**6, 10**7)),
                       "ZWYP": lambda: f"zw-{rng.integers(1, 10**4):04d}"}[platform]()
                if (platform, sid) not in used:
                    used.add((platform, sid))
                    return sid

        def add(platform: str, county: str, enterprise: int | None, name: str) -> None:
            shop = Shop(platform, new_id(platform), name, county, float(rng.lognormal(0, 1.0)),
                        float(rng.beta(2, 2)), enterprise)
            if enterprise is not None:
                self.enterprises[enterprise].shops.append(len(self.shops))
            self.shops.append(shop)

        for i, e in enumerate(self.enterprises):
            if e.kind in ("快递物流企业", "MCN机构") and rng.random() < 0.7:
                continue
            for platform in rng.choice(PLATFORMS, size=int(rng.integers(1, 4)), replace=False, p=list(platform_p.values())):
                add(str(platform), e.county, i, e.name.replace("有限公司", "") + "旗舰店")
        for j in range(45):  # shops of the city that are not (yet) in the programme ledger
            county = str(rng.choice(list(COUNTIES), p=[0.55, 0.32, 0.13]))
            add(str(rng.choice(PLATFORMS, p=list(platform_p.values()))), county, None, f"中卫个体网店{j:02d}")

    def shops_of(self, platform: str) -> list[int]:
        return [i for i, s in enumerate(self.shops) if s.platform == platform]

    def registered(self, shop: int, m: Month) -> bool:
        """Whether the registry snapshot for month m lists the shop's enterprise."""
        e = self.shops[shop].enterprise
        return e is not None and self.enterprises[e].listed <= m.ordinal

    # --- outlets ---------------------------------------------------------------
    def _make_outlets(self, rng: np.random.Generator) -> list[Outlet]:
        d = self.divisions
        by_code = d.by_code()
        t0, t_end = Month(2024, 1).ordinal, Month(2025, 12).ordinal
        outlets: list[Outlet] = []
        seq = {c: 0 for c in COUNTIES}

        def add(area: str, kind: str, opened_ord: int, takes: bool) -> None:
            county = by_code[area]["county_code"]
            seq[county] += 1
            township = by_code[by_code[area]["parent_code"]]["name"]
            village = by_code[area]["name"]
            lng0, lat0 = COUNTY_CENTRES[county]
            history: list[tuple[int, str, str, bool]] = []
            prep = int(rng.integers(0, 3))
            if prep:
                history.append((opened_ord - prep, "筹建", kind, takes))
            history.append((opened_ord, "运营", kind, takes))
            r = rng.random()
            if kind in ("快递代收代寄点", "社区综合服务站", "村级寄递物流综合服务站") and r < 0.15:
                # upgraded into a 兴农超市 under the plan's programme
                history.append((int(max(opened_ord + 1, rng.integers(t0, t_end + 1))), "运营", "电商快递兴农超市", True))
            elif r < 0.23:
                low = max(opened_ord + 1, t0 - 6)
                pause = int(rng.integers(low, max(low + 1, t_end + 6)))
                history.append((pause, "停业", kind, takes))
                if rng.random() < 0.5:
                    history.append((pause + int(rng.integers(1, 5)), "运营", kind, takes))
                else:
                    history.append((pause + int(rng.integers(1, 4)), "撤销", kind, takes))
            history.sort()
            y, mth = divmod(opened_ord, 12)
            name_kind = {"智能快件箱": "丰巢智能柜", "邮政普遍服务网点": "邮政所"}.get(kind, kind)
            outlets.append(Outlet(
                code=f"ZW{county}-{seq[county]:04d}",
                name=f"{village}{name_kind}",
                county=county, township=township, village_name=village, area_code=area,
                lng=round(lng0 + rng.uniform(-0.2, 0.2), 4), lat=round(lat0 + rng.uniform(-0.2, 0.2), 4),
                operator=f"{township}{'供销合作社' if rng.random() < 0.4 else '便民服务部'}",
                operator_code=make_credit_code(rng, county, str(rng.choice(["91", "92", "93"]))),
                brands=str(rng.choice(BRAND_SEPARATORS)).join(rng.choice(BRANDS_CN, size=int(rng.integers(1, 4)), replace=False)),
                opened=_ordinal_to_date(rng, opened_ord),
                keeper=person_name(rng), keeper_phone=phone(rng), history=history,
                sells_agri=kind == "电商快递兴农超市" or rng.random() < 0.3,
            ))

        # every village gets its first parcel-taking outlet on a curve that
        # reaches about 97% coverage by the end of 2025
        for v in d.codes("village"):
            if rng.random() < 0.03:
                continue
            opened = int(rng.integers(t0 - 48, t0)) if rng.random() < 0.72 else int(rng.integers(t0, t_end + 1))
            kind = str(rng.choice(["村级寄递物流综合服务站", "快递代收代寄点", "电商快递兴农超市"], p=[0.5, 0.35, 0.15]))
            add(v, kind, opened, True)
            if rng.random() < 0.35:  # a second point in bigger villages
                add(v, str(rng.choice(["快递代收代寄点", "电商快递兴农超市"], p=[0.6, 0.4])),
                    int(rng.integers(t0 - 24, t_end + 6)), rng.random() < 0.85)
        for c in d.codes("community"):
            for _ in range(int(rng.integers(6, 13))):
                kind = str(rng.choice(["智能快件箱", "社区综合服务站", "快递营业网点", "快递代收代寄点",
                                       "邮政普遍服务网点", "电商快递兴农超市"], p=[0.3, 0.15, 0.2, 0.2, 0.05, 0.1]))
                add(c, kind, int(rng.integers(t0 - 48, t_end + 6)), kind != "电商快递兴农超市" or rng.random() < 0.5)
        return outlets

    def outlets_at(self, m: Month, county: str) -> list[tuple[Outlet, tuple[str, str, bool]]]:
        rows = []
        for o in self.outlets:
            if o.county == county:
                state = o.state(m)
                if state is not None:
                    rows.append((o, state))
        return rows

    def active_outlet_codes(self, m: Month) -> dict[str, list[str]]:
        """Parcel-taking outlets in operation, by area code (for pickups and lockers)."""
        found: dict[str, list[str]] = {}
        for o in self.outlets:
            state = o.state(m)
            if state and state[0] == "运营" and state[2]:
                found.setdefault(o.area_code, []).append(o.code)
        return found

    # --- talent ----------------------------------------------------------------
    def _make_classes(self, rng: np.random.Generator) -> list[TrainingClass]:
        titles = {"电商": ["农村电商运营实务培训班", "网店美工与视觉营销培训", "跨境电商入门培训"],
                  "快递物流": ["快递末端网点经营管理培训", "农产品冷链寄递培训", "快递从业人员安全培训"],
                  "直播": ["农村电商直播带货实训班", "短视频创作与运营培训", "乡村主播孵化营"]}
        organisers = ["中卫市电商公共服务中心", "中卫市邮政管理局", "中卫市商务局", "数字小镇电商直播基地"]
        classes = []
        for year in range(2022, 2027):
            n = int(rng.integers(11, 16))
            starts = sorted(date(year, 1, 1) + timedelta(days=int(x)) for x in rng.integers(20, 350, n))
            for k, start in enumerate(starts, 1):
                cat = str(rng.choice(list(titles)))
                classes.append(TrainingClass(f"PX{year}-{k:03d}", str(rng.choice(titles[cat])), cat, start,
                                             start + timedelta(days=int(rng.integers(3, 11))),
                                             int(rng.integers(30, 80)), str(rng.choice(organisers))))
        return classes

    def _make_hosts(self, rng: np.random.Generator) -> list[Host]:
        mcn = [e.credit_code for e in self.enterprises if e.kind in ("MCN机构", "电商服务商")]
        nick_a = ["枸杞", "沙坡头", "硒砂瓜", "滩羊", "黄河", "塞上", "香山", "红枣", "大漠", "乡村"]
        nick_b = ["小妹", "老马", "阿娜", "大叔", "姐姐", "小哥", "达人", "掌柜", "农人", "主播"]
        hosts = []
        for i in range(700):
            start = _ordinal_to_date(rng, int(rng.integers(Month(2022, 1).ordinal, Month(2026, 7).ordinal)))
            s_ord = start.year * 12 + start.month - 1
            history = [(s_ord, "孵化中")]
            r = rng.random()
            if r < 0.12:
                history.append((s_ord + int(rng.integers(1, 6)), "退出"))
            elif r < 0.8:
                history.append((s_ord + int(rng.integers(3, 8)), "已结业"))
            platform = str(rng.choice(["DOUYIN", "TAOBAO", "ZWYP"], p=[0.75, 0.15, 0.1]))
            prefix = {"DOUYIN": "dy_zw_", "TAOBAO": "tb_zw_", "ZWYP": "zw_live_"}[platform]
            hosts.append(Host(f"{prefix}{i:04d}", platform, f"{rng.choice(nick_a)}{rng.choice(nick_b)}{i}",
                              str(rng.choice(mcn)), start, history))
        return hosts

    def douyin_hosts(self, m: Month) -> list[str]:
        return [h.host_id for h in self.hosts if h.platform == "DOUYIN" and h.status(m) not in (None, "退出")]
