{#- The one place that maps components to indicators. kind: sum (a component's value),
    ratio (numerator / denominator, empty when the denominator is zero), cr8 (top-8 companies'
    share of the per-company volume components). flow: has a year-to-date value. -#}
{% macro indicator_definitions() %}
{{ return([
  {'code': 'EXP_VOL', 'name': '快递业务量', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_vol', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_VOL_LOCAL', 'name': '同城', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_vol_local', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_VOL_DOMESTIC', 'name': '异地', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_vol_domestic', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_VOL_INTL', 'name': '国际/港澳台', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_vol_intl', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_REV', 'name': '快递业务收入', 'unit': 'CNY', 'kind': 'sum', 'num': 'exp_rev', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_DELIV', 'name': '派送量', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_deliv', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_DELIV_RURAL', 'name': '农村派送量', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_deliv_rural', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_DELIV_OUTLET_SHARE', 'name': '投柜/驿站签收占比', 'unit': 'ratio', 'kind': 'ratio', 'num': 'deliv_304', 'den': 'exp_deliv', 'flow': true, 'city_only': false},
  {'code': 'EXP_AGRI_OUT', 'name': '农产品寄递量', 'unit': 'pieces', 'kind': 'sum', 'num': 'exp_agri_out', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'EXP_ECOM_SHARE', 'name': '电商件占比', 'unit': 'ratio', 'kind': 'ratio', 'num': 'vol_ecom', 'den': 'exp_vol', 'flow': true, 'city_only': false},
  {'code': 'EXP_EWAYBILL_RATE', 'name': '电子面单使用率', 'unit': 'ratio', 'kind': 'ratio', 'num': 'vol_ewaybill', 'den': 'exp_vol', 'flow': true, 'city_only': false},
  {'code': 'EXP_GREEN_PACK_RATE', 'name': '绿色包装使用率', 'unit': 'ratio', 'kind': 'ratio', 'num': 'vol_green', 'den': 'exp_vol', 'flow': true, 'city_only': false},
  {'code': 'EXP_SIGNED_72H_RATE', 'name': '72小时签收率', 'unit': 'ratio', 'kind': 'ratio', 'num': 'signed_72h', 'den': 'signed', 'flow': true, 'city_only': false},
  {'code': 'EXP_CR8', 'name': '品牌集中度CR8', 'unit': 'ratio', 'kind': 'ratio', 'num': 'cr8_top8', 'den': 'cr8_total', 'flow': true, 'city_only': false},
  {'code': 'ECOM_GMV', 'name': '网络零售额', 'unit': 'CNY', 'kind': 'sum', 'num': 'ecom_gmv', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'ECOM_GMV_GROSS', 'name': '网络零售额(未扣退款)', 'unit': 'CNY', 'kind': 'sum', 'num': 'ecom_gmv_gross', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'ECOM_ORDERS', 'name': '网络订单量', 'unit': 'orders', 'kind': 'sum', 'num': 'ecom_orders', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'ECOM_AGRI_GMV', 'name': '农产品网络零售额', 'unit': 'CNY', 'kind': 'sum', 'num': 'ecom_agri_gmv', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'ECOM_LIVE_GMV', 'name': '直播电商销售额', 'unit': 'CNY', 'kind': 'sum', 'num': 'ecom_live_gmv', 'den': none, 'flow': true, 'city_only': false},
  {'code': 'ECOM_BASE_ENTERPRISES', 'name': '电商谷入驻企业', 'unit': 'enterprises', 'kind': 'sum', 'num': 'ecom_base_enterprises', 'den': none, 'flow': false, 'city_only': false},
  {'code': 'DEMO_ENTERPRISES', 'name': '示范企业', 'unit': 'enterprises', 'kind': 'sum', 'num': 'demo_enterprises', 'den': none, 'flow': false, 'city_only': false},
  {'code': 'OUT_XINGNONG', 'name': '电商快递兴农超市', 'unit': 'outlets', 'kind': 'sum', 'num': 'out_xingnong', 'den': none, 'flow': false, 'city_only': false},
  {'code': 'OUT_ACTIVE', 'name': '在营网点', 'unit': 'outlets', 'kind': 'sum', 'num': 'out_active', 'den': none, 'flow': false, 'city_only': false},
  {'code': 'OUT_VILLAGE_COVERAGE', 'name': '行政村快递服务覆盖率', 'unit': 'ratio', 'kind': 'ratio', 'num': 'villages_covered', 'den': 'villages', 'flow': false, 'city_only': false},
  {'code': 'TAL_CLASSES', 'name': '培训班次', 'unit': 'classes', 'kind': 'sum', 'num': 'tal_classes', 'den': none, 'flow': true, 'city_only': true},
  {'code': 'TAL_TRAINEES', 'name': '培训人数', 'unit': 'people', 'kind': 'sum', 'num': 'tal_trainees', 'den': none, 'flow': true, 'city_only': true},
  {'code': 'TAL_INFLUENCERS', 'name': '孵化网红达人', 'unit': 'people', 'kind': 'sum', 'num': 'tal_influencers', 'den': none, 'flow': true, 'city_only': true},
]) }}
{% endmacro %}
