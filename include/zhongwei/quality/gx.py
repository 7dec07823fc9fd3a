"""Great Expectations, the way this project uses it.

The suites are JSON files kept in `expectations/` (GX's own format, one per
lake table, plus `batch_health` for whole-batch checks). At run time they are
loaded into a file-backed GX project under `$ZW_DATA/quality/gx`, which keeps
every validation result and builds the Data Docs site there.

Batches are validated as pandas DataFrames: GX 1.x cannot validate DuckDB
through SQLAlchemy (every expectation fails with MetricResolutionError).
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig

from zhongwei.config import EXPECTATIONS_DIR, Settings
from zhongwei.feeds.contract import (
    EVENT_STATES, ITEM_CATEGORIES, ORDER_STATUSES, OUTLET_STATUSES, PACKAGINGS, SERVICES,
)
from zhongwei.reference import COMPANY_NAMES, COUNTY_CODES, REGION_CODES

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
DATASOURCE = "lake_batches"
# The suites' value sets are parameters (`{"$PARAMETER": name}`) filled from the one
# definition of each list, so a suite never holds a copy that could drift.
REFERENCE_PARAMETERS: dict[str, list] = {
    "county_codes": list(COUNTY_CODES),
    "region_codes": list(REGION_CODES),
    "courier_companies": list(COMPANY_NAMES),
    "courier_services": sorted(SERVICES),
    "item_categories": sorted(ITEM_CATEGORIES),
    "packagings": sorted(PACKAGINGS),
    "event_states": sorted(EVENT_STATES),
    "order_statuses": list(ORDER_STATUSES),
    "outlet_statuses": sorted(OUTLET_STATUSES),
}


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Tasks running side by side share one GX project: set-up and doc builds take turns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


BATCH = "batch_id"


@dataclass
class SuiteResult:
    """One suite run over the rows of several batches, and which batches failed what."""

    suite: str
    run_name: str
    evaluated: int
    failures: dict[str, list[dict[str, Any]]]  # batch id -> failed expectations

    def for_batch(self, batch_id: str) -> dict[str, Any]:
        failed = self.failures.get(batch_id, [])
        return {"suite": self.suite, "run": self.run_name, "success": not failed, "evaluated": self.evaluated,
                "failed": failed}


class Quality:
    """Runs the project's suites on DataFrames and keeps the results for Data Docs."""

    def __init__(self, settings: Settings):
        import great_expectations as gx

        self._gx = gx
        self.root, self.docs = settings.quality, settings.data_docs
        with _locked(self.root / ".lock"):
            self.context = gx.get_context(mode="file", project_root_dir=str(self.root))
            self.context.variables.progress_bars = ProgressBarsConfig(globally=False)  # keep task logs readable
            source = self.context.data_sources.add_or_update_pandas(DATASOURCE)
            self._definitions = {}
            for path in sorted(EXPECTATIONS_DIR.glob("*.json")):
                spec = json.loads(path.read_text(encoding="utf-8"))
                spec.pop("id", None)
                suite = self.context.suites.add_or_update(gx.ExpectationSuite(**spec))
                asset = next((a for a in source.assets if a.name == suite.name), None) \
                    or source.add_dataframe_asset(suite.name)
                batch = next(iter(asset.batch_definitions), None) or asset.add_batch_definition_whole_dataframe("frame")
                self._definitions[suite.name] = self.context.validation_definitions.add_or_update(
                    gx.ValidationDefinition(name=suite.name, data=batch, suite=suite))

    def has_suite(self, name: str) -> bool:
        return name in self._definitions

    def validate(self, suite: str, frame: pd.DataFrame, run_name: str,
                 parameters: dict[str, Any] | None = None) -> SuiteResult:
        """Validate the rows of one or more batches (told apart by a `batch_id` column) in one GX run.

        A task validates all the batches it loaded together (GX costs a fraction
        of a second per run, whatever its size); each failing row is traced back
        to its batch, and a failing table-level expectation counts against every
        batch in the frame. The result is stored under `run_name` for Data Docs.
        `parameters` are the values of the suite's `{"$PARAMETER": name}` arguments, besides
        the reference lists (`REFERENCE_PARAMETERS`) every suite may use.
        """
        with _locked(self.root / ".lock"):
            # another task's set-up may have saved the suites again since ours (GX then refuses
            # to run the copy held here): run the definition as it is stored now
            result = self.context.validation_definitions.get(suite).run(
                batch_parameters={"dataframe": frame}, expectation_parameters={**REFERENCE_PARAMETERS, **(parameters or {})},
                result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [BATCH]},
                run_id=self._gx.RunIdentifier(run_name=run_name.replace("/", "__")),
            )
        batches = frame[BATCH].unique().tolist()
        failures: dict[str, list[dict[str, Any]]] = {}
        for r in result.results:
            if r.success:
                continue
            cfg, details = r.expectation_config, r.result or {}
            rows = details.get("unexpected_index_list")
            counts = (pd.Series([row[BATCH] for row in rows]).value_counts().to_dict() if rows
                      else {b: details.get("unexpected_count") for b in batches})
            for batch_id, n in counts.items():
                failures.setdefault(batch_id, []).append({
                    "expectation": cfg.type, "column": cfg.kwargs.get("column") or cfg.kwargs.get("column_list"),
                    "unexpected_count": None if n is None else int(n),
                    "observed": _short(details.get("observed_value"))})
        return SuiteResult(suite, run_name, len(result.results), failures)

    def build_docs(self, run_prefix: str | None = None) -> Path:
        """Render Data Docs: only the validations whose run name starts with `run_prefix`
        (one DAG run's) plus the index, or everything when no prefix is given."""
        keys = None
        if run_prefix:
            prefix = run_prefix.replace("/", "__")
            keys = [k for k in self.context.validation_results_store.list_keys()
                    if k.run_id.run_name.startswith(prefix)]
        with _locked(self.root / ".lock"):
            self.context.build_data_docs(resource_identifiers=keys)
        return self.docs / "index.html"


def _short(value: Any) -> Any:
    text = repr(value)
    return value if len(text) <= 80 else text[:77] + "..."
