"""`zw synth`: the whole inbox for a range of months, and its truth file."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from rich.progress import Progress

from zhongwei.progress import or_quiet
from zhongwei.synth import courier, ecommerce
from zhongwei.synth.calendar import month_range
from zhongwei.synth.common import Run
from zhongwei.synth.defects import FILE_KINDS, DefectLog
from zhongwei.synth.ledgers import write_outlet_ledgers, write_registry
from zhongwei.synth.truth import Truth
from zhongwei.synth.world import World

TRUTH_DIR = "_truth"


@dataclass
class SynthConfig:
    out: str
    months: str
    scale: float = 0.01
    seed: int = 42
    defect_rate: float = 0.0


@dataclass
class Summary:
    config: dict
    seconds: float
    files: int
    bytes: int
    defects: dict = field(default_factory=dict)
    lost_files: dict = field(default_factory=dict)

    def describe(self) -> str:
        n = sum(sum(k.values()) for k in self.defects.values())
        return (f"wrote {self.files} files ({self.bytes / 1e6:.1f} MB) for {self.config['months']} at scale "
                f"{self.config['scale']} in {self.seconds:.1f} s; {n} defects injected; truth in "
                f"{Path(self.config['out']) / TRUTH_DIR}")


def _lost_files(run: Run) -> dict[str, str]:
    """One file of each file-level defect, on fixed days of the broken month (the middle of the range)."""
    m = run.broken_month
    if m is None:
        return {}
    ext = {"TAOBAO": "csv", "PDD": "csv", "DOUYIN": "xlsx", "ZWYP": "jsonl"}
    return {f"ecommerce/{p}/orders_{m.year}{m.month:02d}{10 + i:02d}.{ext[p]}": kind
            for i, (kind, p) in enumerate(FILE_KINDS.items())}


def _shipped_orders(planned: dict, month_end: int) -> pd.DataFrame:
    parts = []
    for platform, (orders, _, _) in planned.items():
        shipped = orders[orders["shipped"] < month_end]
        parts.append(pd.DataFrame({"platform": platform, "row": shipped.index, "order_no": shipped["order_no"].to_numpy(),
                                   "ship_time": shipped["shipped"].to_numpy()}))
    refs = pd.concat(parts, ignore_index=True)
    refs["linked_company"] = None
    refs["waybill_no"] = None
    return refs


def _inbox_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file() and TRUTH_DIR not in p.parts]


def generate(cfg: SynthConfig, progress: Progress | None = None) -> Summary:
    started = time.monotonic()
    progress = or_quiet(progress)
    out = Path(cfg.out)
    months = month_range(cfg.months)
    run = Run(out=out, months=months, scale=cfg.scale, seed=cfg.seed, defect_rate=cfg.defect_rate,
              world=World(cfg.seed), defects=DefectLog(out / TRUTH_DIR / "defects.jsonl"),
              as_of=int(months[-1].end().timestamp()))
    run.lost_files = _lost_files(run)
    truth = Truth([str(m) for m in months])
    for m in progress.track(months, description="ledgers"):  # the ledgers first: which shops are registered, when
        truth.add_registry(str(m), write_registry(run, m))
        truth.add_outlets(str(m), write_outlet_ledgers(run, m))
    pending = ecommerce.Pending()
    feeds = progress.add_task("orders and parcels", total=len(months))
    for m in months:
        planned = ecommerce.plan_month(run, m)
        for platform, (orders, lines, exports) in planned.items():
            truth.note_order_shops(platform, orders)
            truth.add_orders(platform, orders, lines, exports, run.lost_files)
        refs = _shipped_orders(planned, int(m.end().timestamp()))
        courier.generate_month(run, m, refs, truth)
        for platform, linked in refs[refs["waybill_no"].notna()].groupby("platform"):
            orders = planned[platform][0]
            orders.loc[linked["row"].to_numpy(), "express_company"] = linked["linked_company"].to_numpy()
            orders.loc[linked["row"].to_numpy(), "waybill_no"] = linked["waybill_no"].to_numpy()
        ecommerce.write_month(run, m, planned, pending)
        progress.update(feeds, advance=1, description=f"orders and parcels to {m}: {len(_inbox_files(out))} files")
    truth.write(out / TRUTH_DIR / "indicators.csv")
    run.defects.close()
    files = _inbox_files(out)
    summary = Summary(config=asdict(cfg), seconds=time.monotonic() - started, files=len(files),
                      bytes=sum(p.stat().st_size for p in files), defects=run.defects.summary(),
                      lost_files=run.lost_files)
    (out / TRUTH_DIR / "summary.json").write_text(json.dumps(asdict(summary), ensure_ascii=False, indent=2))
    return summary
