"""Shared plumbing of the generator: the run context and vectorised helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zhongwei.synth.calendar import Month
from zhongwei.synth.defects import DefectLog
from zhongwei.synth.world import SURNAMES, GIVEN, World

FEED_IDS = {"courier": 1, "ecommerce": 2, "outlets": 3, "registry": 4}
CONFLICT_STREAM = 7  # the fifth word of a conflict stream's seed


@dataclass
class Run:
    out: Path
    months: list[Month]
    scale: float
    seed: int
    defect_rate: float
    world: World
    defects: DefectLog
    as_of: int  # epoch seconds: the end of the last month; nothing later exists yet
    # files whose whole content is lost (file-level defects), by relative path
    lost_files: dict[str, str] = field(default_factory=dict)

    def rng(self, feed: str, m: Month, part: int = 0) -> np.random.Generator:
        """One stream per (feed, month): a month's data does not depend on the range asked for."""
        return np.random.default_rng([self.seed, FEED_IDS[feed], m.ordinal, part])

    def conflict_rng(self, feed: str, m: Month, part: int = 0) -> np.random.Generator:
        """The stream that picks a (feed, month, part)'s conflicting duplicates, apart
        from `rng`: the month's other data is the same whether or not it is broken."""
        return np.random.default_rng([self.seed, FEED_IDS[feed], m.ordinal, part, CONFLICT_STREAM])

    @property
    def broken_month(self) -> Month | None:
        """The range's middle month, which gets the defects that fail a whole batch (the
        lost files, the conflicting duplicates) and is held back at the publication
        gate; none in a clean run."""
        return self.months[len(self.months) // 2] if self.defect_rate > 0 else None

    def is_broken(self, m: Month) -> bool:
        return m == self.broken_month

    def rel(self, path: Path) -> str:
        return path.relative_to(self.out).as_posix()


def iso_local(epoch: np.ndarray, sep: str = "T", offset: bool = True) -> list[str]:
    """Epoch seconds → '2025-03-04T10:21:00+08:00' (or '2025-03-04 10:21:00')."""
    s = np.datetime_as_string((np.asarray(epoch, dtype=np.int64) + 8 * 3600).astype("datetime64[s]"), unit="s")
    suffix = "+08:00" if offset else ""
    if sep == "T":
        return [x + suffix for x in s.tolist()]
    return [x.replace("T", sep) + suffix for x in s.tolist()]


def names(rng: np.random.Generator, n: int) -> list[str]:
    sur = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = np.where(rng.random(n) < 0.6, rng.choice(GIVEN, n), "")
    return [a + b + c for a, b, c in zip(sur.tolist(), g1.tolist(), g2.tolist())]


def phones(rng: np.random.Generator, n: int) -> list[str]:
    pre = rng.choice(["138", "139", "159", "158", "137", "189", "199", "195", "177", "188", "136", "150"], n)
    num = rng.integers(0, 10**8, n)
    return [f"{p}{x:08d}" for p, x in zip(pre.tolist(), num.tolist())]


def scramble(ids: np.ndarray, digits: int = 12) -> np.ndarray:
    """A bijection on [0, 10**digits) that makes sequence numbers look random."""
    mod = 10**digits
    return (ids.astype(np.int64) % mod * 7_919_191 + 1_234_567) % mod


def fen_to_str(fen: np.ndarray) -> list[str]:
    return [f"{v // 100}.{v % 100:02d}" if v >= 0 else f"-{(-v) // 100}.{(-v) % 100:02d}" for v in np.asarray(fen).tolist()]


def write_lines(path: Path, lines: list[str], encoding: str = "utf-8") -> None:
    """Write a whole file under a temporary name, then rename: files arrive whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "w", encoding=encoding, newline="") as f:
        for i in range(0, len(lines), 50_000):
            f.write("".join(lines[i:i + 50_000]))
    tmp.replace(path)
