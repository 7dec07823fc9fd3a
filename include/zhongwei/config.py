"""Where things live: one place for the ZW_* settings.

The DAGs, the `zw` CLI and the tests all read their locations from here, so a
deployment only has to set environment variables. Defaults put everything under
the repository's git-ignored `data/` folder.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
TIMEZONE = "Asia/Shanghai"
# In each publication revision's folder: the part of the warehouse snapshot it was computed from.
REVISION_SNAPSHOT_FILE = "warehouse.duckdb"


@dataclass(frozen=True)
class Settings:
    inbox: Path
    lake: Path
    warehouse: Path
    publications: Path
    data_dir: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        data = Path(env.get("ZW_DATA", PROJECT_ROOT / "data"))
        return cls(
            inbox=Path(env.get("ZW_INBOX", data / "inbox")),
            lake=Path(env.get("ZW_LAKE", data / "lake")),
            warehouse=Path(env.get("ZW_WAREHOUSE", data / "warehouse.duckdb")),
            publications=Path(env.get("ZW_PUBLICATIONS", data / "publications")),
            data_dir=data,
        )

    @property
    def quality(self) -> Path:
        """The Great Expectations project the checks keep their results in (zhongwei.quality.gx)."""
        return self.data_dir / "quality"

    @property
    def data_docs(self) -> Path:
        """The Data Docs site GX builds from those results (its file project's layout)."""
        return self.quality / "gx" / "uncommitted" / "data_docs" / "local_site"


def pii_key(env: dict[str, str] | None = None, settings: Settings | None = None) -> bytes:
    """The HMAC key for personal information.

    Production sets ZW_PII_KEY (from a secret store or the Airflow connection
    `pii_hashing`). On a developer machine without it, a random key is created
    once in the data folder, so hashes stay stable between runs but the key is
    never part of the repository.
    """
    env = os.environ if env is None else env
    if env.get("ZW_PII_KEY"):
        return env["ZW_PII_KEY"].encode()
    settings = settings or Settings.from_env(env)
    key_file = settings.data_dir / ".pii_key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = key_file.with_suffix(".tmp")
        tmp.write_text(secrets.token_hex(32))
        os.replace(tmp, key_file)
    return key_file.read_text().strip().encode()
