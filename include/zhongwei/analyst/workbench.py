"""The analysts' SQL workbench: a marimo notebook on the published warehouse snapshot.

Run it with `zw analyst` (it also serves the dbt docs it links to). To change it, edit it as a
notebook: `marimo edit include/zhongwei/analyst/workbench.py`.
"""
import marimo

__generated_with = "0.25.2"
app = marimo.App(width="full", app_title="Zhongwei warehouse workbench")


@app.cell(hide_code=True)
def _():
    import json

    import marimo as mo

    from zhongwei import analyst
    from zhongwei.config import Settings
    from zhongwei.reference import CITY_CODE

    def lit(text) -> str:
        """A SQL string literal: the examples put the chosen values into their SQL text, which is
        then shown to the analyst as a query to copy."""
        return "'" + str(text).replace("'", "''") + "'"

    def table(df, **options):
        """A result table whose decimals are readable: marimo pads a float column to its longest
        decimal, which turns 329 into 329.000000000000000 beside a ratio; 10 significant digits."""
        numbers = {c: (lambda x: "" if x != x else f"{x:,.10g}") for c in df.select_dtypes("float").columns}
        return mo.ui.table(df, selection=None, format_mapping=numbers, **options)

    def sql_block(query: str):
        return mo.accordion({"SQL of this example (copy it into the free query below)": mo.md(f"```sql\n{query}\n```")})

    return CITY_CODE, Settings, analyst, json, lit, mo, sql_block, table


@app.cell(hide_code=True)
def _(analyst, mo):
    # one connection per session (each browser tab): every query of a page sees one snapshot;
    # reloading the page opens the newest
    path = analyst.snapshot_path()
    mo.stop(not path.exists(), mo.callout(mo.md(f"No warehouse snapshot at `{path}` yet: build it first "
                                                 "(`zw run --month YYYY-MM`)."), kind="danger"))
    con = analyst.connect(path)
    info = analyst.snapshot_info(con)
    return con, info, path


@app.cell(hide_code=True)
def _(analyst, info, json, mo, path):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from zhongwei.config import TIMEZONE

    def _local(moment: datetime) -> str:
        return f"{moment.astimezone(ZoneInfo(TIMEZONE)):%Y-%m-%d %H:%M} ({TIMEZONE})"

    _catalog = analyst.catalog_url()
    # the build's outcome file beside the snapshot (as zhongwei.warehouse.last_build_path names it;
    # read directly: importing zhongwei.warehouse brings in Airflow)
    _build_file = path.with_name(path.stem + ".last_build.json")
    _build = json.loads(_build_file.read_text(encoding="utf-8")) if _build_file.exists() else None
    if info:
        _which = f"snapshot **{info['snapshot_id']}**, published {_local(info['published_at'])}"
    else:
        _which = f"file of {_local(datetime.fromtimestamp(path.stat().st_mtime).astimezone())}"
    _last = ("" if _build is None else f" The last build {'passed' if _build['success'] else '**failed**'} "
             f"at {_local(datetime.fromisoformat(_build['finished_at']))}" + (
                 "" if _build["success"] else
                 ": a failed build publishes nothing, so this is still the last good snapshot") + ".")
    mo.md(f"""
    # Zhongwei warehouse workbench

    Read-only SQL (DuckDB dialect) on the **published warehouse snapshot**: `{path}` ({_which}).
    The pipeline builds the warehouse from the lake whenever new data is loaded; when the build, its
    tests and the marts' quality suite all pass, a new snapshot replaces this one (the monthly bulletin
    is published from it too).{_last} This page keeps the snapshot it opened: **reload the page** for
    the newest.

    {f'<a href="{_catalog}" target="_blank">Warehouse catalog (dbt docs)</a>: every model, its columns and '
     f'descriptions, and the lineage from the lake to the bulletin.' if _catalog else
     '_Warehouse catalog (dbt docs): not generated yet: run `zw run --only build`._'}
    Nothing here can change the warehouse: it is attached read-only, and file access is switched off.

    Worked examples below, each with its SQL; then a free query.
    """)
    return


@app.cell(hide_code=True)
def _(con, mo):
    _periods = [p for (p,) in con.execute(
        "select distinct period from mart_monthly_indicators order by period desc").fetchall()]
    _regions = {f"{name} ({code})": code for code, name in con.execute(
        "select region_code, region_name from dim_region where is_indicator_region order by region_code").fetchall()}
    _indicators = {f"{code} {name}": code for code, name in con.execute(
        "select indicator_code, indicator_name from dim_indicator order by sort_order").fetchall()}
    mo.stop(not _periods, mo.callout("mart_monthly_indicators is empty: nothing to show yet.", kind="warn"))
    bulletin_period = mo.ui.dropdown(_periods, value=_periods[0], label="Month")
    trend_region = mo.ui.dropdown(_regions, value=list(_regions)[0], label="Region")
    trend_indicator = mo.ui.dropdown(_indicators, value=list(_indicators)[0], label="Indicator")
    _drillable = {k: v for k, v in _indicators.items() if v in ("EXP_VOL", "ECOM_ORDERS", "ECOM_GMV")}
    drill_indicator = mo.ui.dropdown(_drillable, value=next(iter(_drillable)), label="Indicator")
    drill_period = mo.ui.dropdown(_periods, value=_periods[0], label="Month")
    drill_region = mo.ui.dropdown(_regions, value=list(_regions)[0], label="Region")
    return (bulletin_period, drill_indicator, drill_period, drill_region, trend_indicator, trend_region)


@app.cell(hide_code=True)
def _(bulletin_period, con, lit, mo, sql_block, table):
    _query = f"""select m.indicator_code, i.indicator_name, m.region_code, r.region_name,
       m.value, i.unit, m.ytd_value, m.yoy_growth, m.ytd_yoy_growth, m.target_value, m.progress
from mart_monthly_indicators m
join dim_indicator i on i.indicator_code = m.indicator_code
join dim_region r on r.region_code = m.region_code
where m.period = {lit(bulletin_period.value)}
order by m.indicator_order, m.region_code"""
    _bulletin = mo.sql(_query, engine=con, output=False)
    mo.vstack([
        mo.md("## 1. A month's bulletin as a table\n`mart_monthly_indicators`: 当月 (value), 累计 (ytd_value), "
              "同比 (yoy_growth, a ratio: 0.05 = +5 %), progress against the plan; one row per indicator and region."),
        bulletin_period,
        table(_bulletin, page_size=len(_bulletin) or 10, label=f"bulletin {bulletin_period.value}"),
        sql_block(_query),
    ])
    return


@app.cell(hide_code=True)
def _(con, lit, mo, sql_block, table, trend_indicator, trend_region):
    _query = f"""select m.period, m.value, m.ytd_value, m.yoy_growth, m.unit
from mart_monthly_indicators m
where m.region_code = {lit(trend_region.value)} and m.indicator_code = {lit(trend_indicator.value)}
  and m.period in (select distinct period from mart_monthly_indicators order by period desc limit 24)
order by m.period"""
    _trend = mo.sql(_query, engine=con, output=False)
    try:
        import altair as alt

        _chart = mo.ui.altair_chart(alt.Chart(_trend).mark_line(point=True).encode(
            x=alt.X("period:O", title=None), y=alt.Y("value:Q", title=trend_indicator.selected_key),
            tooltip=["period", "value", "yoy_growth"]).properties(height=260))
    except ImportError:  # altair is optional: the table says the same
        _chart = mo.md("")
    mo.vstack([
        mo.md("## 2. A region's 24-month trend of one indicator"),
        mo.hstack([trend_region, trend_indicator], justify="start"),
        _chart,
        table(_trend, page_size=24),
        sql_block(_query),
    ])
    return


@app.cell(hide_code=True)
def _(CITY_CODE, con, drill_indicator, drill_period, drill_region, lit, mo, sql_block, table):
    # the same rows and filters int_indicator_components counts: parcels by accepted month and origin
    # county (origin in the city); orders counted (paid, shop registered that month) by paid month and
    # the enterprise's county. The city is the sum of its counties.
    _rules = {
        "EXP_VOL": ("fct_waybill", "is_origin_in_city and accepted_month = {p}", "origin_county_code", "count(*)",
                    "waybill_key, company, waybill_no, accepted_at, origin_area_code, origin_county_code, "
                    "destination_scope, item_category, service, weight_g, fee_fen, e_waybill, packaging",
                    "accepted_at"),
        "ECOM_ORDERS": ("fct_order", "is_counted and paid_month = {p}", "county_code", "count(*)",
                        "order_key, platform, order_no, shop_id, enterprise_credit_code, county_code, paid_at, "
                        "status, paid_fen, refund_fen, gmv_fen, channel, is_livestream_order", "paid_at"),
    }
    _rules["ECOM_GMV"] = _rules["ECOM_ORDERS"][:3] + ("sum(gmv_fen) / 100.0",) + _rules["ECOM_ORDERS"][4:]
    _table, _where, _county, _measure, _columns, _order = _rules[drill_indicator.value]
    _where = _where.format(p=lit(drill_period.value)) + (
        f" and {_county} is not null" if drill_region.value == CITY_CODE
        else f" and {_county} = {lit(drill_region.value)}")
    _rows_query = f"select {_columns}\nfrom {_table}\nwhere {_where}\norder by {_order}\nlimit 1000"
    _check_query = f"""select m.value as published, f.recomputed, f.rows
from mart_monthly_indicators m,
     (select {_measure} as recomputed, count(*) as rows from {_table} where {_where}) f
where m.period = {lit(drill_period.value)} and m.region_code = {lit(drill_region.value)}
  and m.indicator_code = {lit(drill_indicator.value)}"""
    _drill_check = mo.sql(_check_query, engine=con, output=False)
    _drill_rows = mo.sql(_rows_query, engine=con, output=False)
    mo.vstack([
        mo.md("## 3. Drill-down: from a published figure to the rows behind it"),
        mo.hstack([drill_indicator, drill_period, drill_region], justify="start"),
        mo.md("The published value beside the same figure recomputed from the facts (they agree):"),
        table(_drill_check, label="published and recomputed"),
        mo.md(f"The rows of `{_table}` behind it (the first 1,000; narrow them in the free query):"),
        table(_drill_rows, page_size=20),
        sql_block(_check_query + ";\n\n" + _rows_query),
    ])
    return


@app.cell(hide_code=True)
def _(Settings, analyst, mo):
    publications = Settings.from_env().publications
    _months = analyst.published_months(publications)
    revision_month = mo.ui.dropdown(_months, value=_months[0] if _months else None, label="Published month")
    return publications, revision_month


@app.cell(hide_code=True)
def _(analyst, mo, publications, revision_month, table):
    import pandas as pd

    _intro = mo.md("## 4. The revisions of a month and what changed\nEvery publication of a month is kept as a "
                   f"revision (`{publications}/<month>/revisions/<n>/`); a revision lists the values that changed "
                   "since the one before.")
    mo.stop(revision_month.value is None, mo.vstack([_intro, mo.callout(
        f"Nothing published yet under {publications}.", kind="info")]))
    _manifests = analyst.month_revisions(publications, revision_month.value)
    _revisions = pd.DataFrame([{
        "revision": m["revision"], "published_at": m["published_at"], "changes": len(m.get("changes", [])),
        "snapshot": (m.get("snapshot") or {}).get("id"),
        "accepted despite failed checks": ((m.get("gate") or {}).get("accepted") or {}).get("reason") or "",
    } for m in _manifests])
    _changes = pd.DataFrame([{"revision": m["revision"], **c} for m in _manifests for c in m.get("changes", [])],
                           columns=["revision", "region_code", "region_name", "indicator_code", "indicator_name",
                                    "unit", "field", "previous", "current", "change"])
    mo.vstack([
        _intro, revision_month,
        table(_revisions, label="revisions"),
        mo.md("What each revision changed (previous → current, as published):"),
        table(_changes, label="changes") if len(_changes) else
        mo.md("_No value has changed since the first revision._"),
    ])
    return


@app.cell(hide_code=True)
def _(mo):
    free_sql = mo.ui.code_editor(
        value="select period, count(*) as indicator_rows\nfrom mart_monthly_indicators\ngroup by period\n"
              "order by period desc",
        language="sql", min_height=120, label="").form(submit_button_label="Run query", bordered=False)
    return (free_sql,)


@app.cell(hide_code=True)
def _(con, free_sql, mo, table):
    import duckdb

    _out = []
    if free_sql.value:
        try:
            _relation = con.sql(free_sql.value)
            # a relation is lazy: only the rows shown are fetched, so `select * from fct_waybill` stays small
            _result = None if _relation is None else _relation.limit(10_000).df()
        except duckdb.Error as _e:
            _out = [mo.callout(mo.md(f"**{type(_e).__name__}**: {_e}"), kind="danger")]
        else:
            _out = [mo.md("_The statement ran: it returns no rows._") if _result is None else
                    table(_result, page_size=20, label=f"{len(_result):,} rows"
                                + (" (the first 10,000)" if len(_result) == 10_000 else ""))]
    mo.vstack([
        mo.md("## Your query\nAny read-only SQL on the snapshot (DuckDB dialect): tables are listed in the "
              "catalog and by `show tables`; `describe fct_waybill` lists a table's columns."),
        free_sql, *_out,
    ])
    return


if __name__ == "__main__":
    app.run()
