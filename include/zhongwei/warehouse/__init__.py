"""The warehouse: dbt (staging → intermediate → marts) over the Parquet lake.

`build()` runs `dbt seed` + `dbt build` in-process (one reused dbtRunner) and reports each node;
`MARTS` is the Airflow Asset the build updates (the publication is scheduled on it).
"""
from __future__ import annotations

try:  # Airflow is optional for library use (tests, CLI)
    from airflow.sdk import Asset

    MARTS = Asset(name="warehouse_marts", uri="zhongwei://warehouse/marts")
except Exception:  # pragma: no cover - Airflow not installed
    MARTS = None

from zhongwei.warehouse.build import (  # noqa: E402
    BuildResult, NodeResult, build, docs_generate, freshness, lake_tables_without_data, last_build_path, run_dbt)

__all__ = ["MARTS", "BuildResult", "NodeResult", "build", "docs_generate", "freshness", "lake_tables_without_data",
           "last_build_path", "run_dbt"]
