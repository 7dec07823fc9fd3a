"""Build a small 14-month lake the way production does (generator → real parsers → lake), for the
warehouse tests. Run as a script in its own process: `python make_lake.py <data-dir>`; the data
dir gets `inbox/` (with `_truth/indicators.csv`) and `lake/`, and a `READY` marker when done."""
from __future__ import annotations

import os
import sys
from pathlib import Path

MONTHS = "2024-01:2025-02"
SYNTH = dict(months=MONTHS, scale=0.0003, seed=3, defect_rate=0.01)


def main(data: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    os.environ["ZW_DATA"] = str(data)
    os.environ["ZW_PII_KEY"] = "warehouse-tests"
    for k in ("ZW_INBOX", "ZW_LAKE", "ZW_WAREHOUSE", "ZW_PUBLICATIONS"):
        os.environ.pop(k, None)
    from zhongwei.config import Settings
    from zhongwei.exchange.client import ExchangeClient
    from zhongwei.exchange.server import serve_in_thread
    from zhongwei.ingest import courier, files
    from zhongwei.ingest.windows import Window
    from zhongwei.lake import Lake
    from zhongwei.quality.gx import Quality
    from zhongwei.synth.generate import SynthConfig, generate

    settings = Settings.from_env()
    if not (settings.inbox / "_truth" / "indicators.csv").exists():
        generate(SynthConfig(out=str(settings.inbox), **SYNTH))
    window = Window.month(MONTHS)
    lake, quality = Lake(settings.lake), Quality(settings)
    for platform in ("TAOBAO", "PDD", "DOUYIN", "ZWYP"):
        files.ingest_platform(lake, quality, settings.inbox, platform, window, "t")
    for county in ("640502", "640521", "640522"):
        files.ingest_outlets(lake, quality, settings.inbox, county, window, "t")
    files.ingest_registry(lake, quality, settings.inbox, window, "t")
    with serve_in_thread(settings.inbox / "courier", token="t") as url:
        client = ExchangeClient(url, "t")
        for company in [c["code"] for c in client.companies()]:
            courier.ingest_company(lake, quality, client, company, window, "t")
    (data / "READY").write_text("ok")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
