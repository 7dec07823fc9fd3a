"""What an Airflow installation of this project needs besides the DAGs: its pools.

Used by `zw run` (local, SQLite) and by the deployment's init step, so both
environments have the same pools with the same sizes.
"""
from __future__ import annotations

POOLS = {
    # DuckDB allows one writing process per database file: dbt is the warehouse's only writer
    "warehouse": (1, "The warehouse's single writer (dbt build, dbt docs)."),
}


def ensure_pools() -> None:
    """Create or resize the project's pools in the configured metadata database."""
    from airflow.models.pool import Pool

    for name, (slots, description) in POOLS.items():
        Pool.create_or_update_pool(name, slots, description, include_deferred=False)
