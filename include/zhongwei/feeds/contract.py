"""What the partner contracts (`docs/feeds.md`) fix: columns, enums, patterns, codes.

One module so that a contract change is one edit, and so that tests can check the
parsers against the same constants. Texts that people type (statuses, headers)
are compared after NFKC (see `common.norm_text`); the keys here are written as the
contracts spell them and normalised where they are used.
"""
from __future__ import annotations

import re

from zhongwei.reference import CITY_CODE, COMPANY_NAMES, COUNTIES, EXPORT_FILE_EXT, WAYBILL_PATTERNS

# ---------------------------------------------------------------- geography
ZHONGWEI_PREFIX = CITY_CODE[:4]  # every division code in the city starts so
COUNTY_NAMES: dict[str, str] = {name: code for code, name in COUNTIES.items()}
# The city's bounding box (GCJ-02 degrees), per outlets.md.
LNG_RANGE = (104.2, 106.2)
LAT_RANGE = (36.0, 37.9)
# Dates outside this window are typing errors (or Excel serials of nonsense), not history.
PLAUSIBLE_YEARS = (1990, 2100)

# ---------------------------------------------------------------- courier (courier.md)
# The courier companies and their waybill number patterns: the seed courier_companies.
COMPANY_WAYBILL_PATTERNS: dict[str, re.Pattern[str]] = {code: re.compile(p) for code, p in WAYBILL_PATTERNS.items()}
SERVICES = frozenset({"standard", "express", "cold_chain"})
ITEM_CATEGORIES = frozenset({"agri", "industrial", "documents", "other"})
PACKAGINGS = frozenset({"standard", "green", "reused", "none"})
EVENT_STATES = frozenset({0, 1, 2, 3, 4, 5, 6, 7, 14})

# Courier names as the platforms write them -> courier codes. Codes map to themselves.
EXPRESS_ALIASES: dict[str, str] = {
    **{code: code for code in COMPANY_NAMES},
    **{name: code for code, name in COMPANY_NAMES.items()},
}

# ---------------------------------------------------------------- e-commerce (ecommerce.md)
EXPORT_FILE_NAMES: dict[str, re.Pattern[str]] = {
    platform: re.compile(rf"orders_(\d{{8}})\.{ext}") for platform, ext in EXPORT_FILE_EXT.items()
}
# Ids must keep their digits: '3.87120459831235E+18' (an Excel-mangled id) is refused.
ORDER_NO_PATTERNS: dict[str, re.Pattern[str]] = {
    "TAOBAO": re.compile(r"^\d+$"),
    "PDD": re.compile(r"^\d{6}-\d+$"),
    "DOUYIN": re.compile(r"^\d+$"),
    "ZWYP": re.compile(r"^\S+$"),
}
TAOBAO_ENCODING = "gb18030"
PDD_ENCODING = "utf-8-sig"

TAOBAO_COLUMNS = (
    "订单编号", "店铺Id", "店铺名称", "买家会员名", "买家应付货款", "买家应付邮费", "总金额",
    "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间", "宝贝标题", "宝贝总数量",
    "商品类目", "收货人姓名", "收货地址", "联系手机", "物流公司", "物流单号", "订单关闭原因",
    "退款金额", "退款完成时间",
)
TAOBAO_PII_COLUMNS = frozenset({"买家会员名", "收货人姓名", "收货地址", "联系手机"})
TAOBAO_STATUS = {
    "等待买家付款": "unpaid",
    "买家已付款，等待卖家发货": "paid",
    "卖家已发货，等待买家确认": "shipped",
    "交易成功": "completed",
    "交易关闭": "closed",
}

PDD_COLUMNS = (
    "订单号", "店铺id", "商品", "商品id", "商品规格", "商品类目", "商品数量(件)", "商品总价(元)",
    "店铺优惠折扣(元)", "平台优惠折扣(元)", "用户实付金额(元)", "商家实收金额(元)", "订单状态",
    "售后状态", "退款金额(元)", "退款时间", "订单成交时间", "发货时间", "确认收货时间", "快递公司",
    "快递单号", "收货人", "手机", "省", "市", "区", "街道",
)
PDD_PII_COLUMNS = frozenset({"收货人", "手机", "街道"})
PDD_STATUS = {"待发货": "paid", "已发货，待签收": "shipped", "已签收": "completed", "已取消": "cancelled"}

DOUYIN_SHEET = "订单明细"
DOUYIN_COLUMNS = (
    "主订单编号", "子订单编号", "店铺ID", "选购商品", "商品ID", "商品类目", "商品数量", "商品单价",
    "订单应付金额", "运费", "订单提交时间", "支付完成时间", "订单完成时间", "订单状态", "售后状态",
    "退款金额", "退款时间", "达人ID", "直播间ID", "流量来源", "收件人", "收件人手机号", "省", "市",
    "区", "街道", "详细地址", "快递公司", "快递单号",
)
DOUYIN_PII_COLUMNS = frozenset({"收件人", "收件人手机号", "街道", "详细地址"})
DOUYIN_STATUS = {"待支付": "unpaid", "待发货": "paid", "已发货": "shipped", "已完成": "completed", "已关闭": "closed"}
DOUYIN_TRAFFIC_SOURCES = {"直播": "livestream", "短视频": "short_video", "商品卡": "product_card", "搜索": "search"}

# After-sales states shared by PDD and Douyin.
AFTER_SALES_NONE = frozenset({"无售后或售后取消", "无"})
AFTER_SALES_PENDING = "退款中"
AFTER_SALES_REFUNDED = "退款成功"

ZWYP_STATUS = {
    "pending": "unpaid", "paid": "paid", "shipped": "shipped", "completed": "completed",
    "cancelled": "cancelled", "refunded": "refunded",
}
ZWYP_CHANNELS = frozenset({"web", "miniapp", "livestream", "store_pickup"})
LIVESTREAM_CHANNEL = "livestream"
STORE_PICKUP_CHANNEL = "store_pickup"

ORDER_STATUSES = ("unpaid", "paid", "shipped", "completed", "closed", "cancelled", "refunded")

# Province names the way Taobao abbreviates them -> the full name PDD/Douyin use.
PROVINCE_SHORT_NAMES = {
    "北京": "北京市", "天津": "天津市", "上海": "上海市", "重庆": "重庆市",
    "内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "西藏": "西藏自治区",
    "宁夏": "宁夏回族自治区", "新疆": "新疆维吾尔自治区", "香港": "香港特别行政区",
    "澳门": "澳门特别行政区", "台湾": "台湾省",
}
PROVINCE_SUFFIXES = ("省", "自治区", "特别行政区")
MUNICIPALITIES = frozenset({"北京市", "天津市", "上海市", "重庆市"})
CITY_SUFFIXES = ("市", "自治州", "地区", "盟")
DISTRICT_SUFFIXES = ("区", "县", "旗", "市")

# ---------------------------------------------------------------- outlet ledger (outlets.md)
OUTLET_SHEET = "网点台账"
OUTLET_FILE_NAME = re.compile(r"网点台账_(\d{6})\.xlsx")
OUTLET_CODE = r"ZW{county}-\d{{4}}"  # str.format template of a regex
OUTLET_COLUMNS = (
    "序号", "网点编码", "网点名称", "网点类型", "所属乡镇", "所属村（社区）", "行政区划代码", "经度",
    "纬度", "运营主体", "统一社会信用代码", "合作快递品牌", "是否代收代寄", "是否销售兴农产品",
    "开业日期", "状态", "负责人", "联系电话", "备注",
)
OUTLET_PII_COLUMNS = frozenset({"负责人", "联系电话"})
OUTLET_TYPES = frozenset({
    "电商快递兴农超市", "村级寄递物流综合服务站", "快递代收代寄点", "智能快件箱", "社区综合服务站",
    "快递营业网点", "邮政普遍服务网点",
})
OUTLET_STATUSES = frozenset({"运营", "停业", "筹建", "撤销"})
OUTLET_TOTALS_MARK = "合计"
BRAND_SEPARATORS = re.compile(r"[、,，/]")
# The header row is row 3 in the contract; it is searched for in the first rows so
# that an inserted blank line at the top does not make the whole ledger unreadable.
HEADER_SEARCH_ROWS = 10

# ---------------------------------------------------------------- registry (registry.md)
REGISTRY_FILE_NAME = re.compile(r"电商企业及培训台账_(\d{6})\.xlsx")
ENTERPRISE_SHEET = "企业名录"
ENTERPRISE_COLUMNS = (
    "统一社会信用代码", "企业名称", "所属县区", "企业类型", "入驻电商谷", "入驻日期", "示范企业",
    "示范认定年度", "店铺",
)
ENTERPRISE_TYPES = frozenset({"电商企业", "快递物流企业", "MCN机构", "品牌合作企业", "电商服务商"})
SHOP_SEPARATOR = ";"
TRAINING_SHEET = "培训班次"
TRAINING_COLUMNS = ("班次编号", "培训名称", "类别", "开班日期", "结业日期", "培训人数", "承办单位")
TRAINING_CATEGORIES = frozenset({"电商", "快递物流", "直播"})
INFLUENCER_SHEET = "达人孵化"
INFLUENCER_COLUMNS = ("达人ID", "平台", "昵称", "孵化机构信用代码", "孵化开始日期", "状态")
INFLUENCER_STATUSES = frozenset({"孵化中", "已结业", "退出"})

YES_NO = {"是": True, "否": False}

# Columns (of any feed) that identify a record, not a person: a quarantined row keeps
# them as written, even when their digits look like a phone number, so it can be found.
IDENTIFIER_COLUMNS = frozenset({
    "订单编号", "订单号", "主订单编号", "子订单编号", "物流单号", "快递单号", "店铺Id", "店铺id", "店铺ID", "商品id",
    "商品ID", "达人ID", "直播间ID", "网点编码", "行政区划代码", "统一社会信用代码", "孵化机构信用代码", "班次编号",
})

# GB 32100-2015 unified social credit code.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_LENGTH = 18
