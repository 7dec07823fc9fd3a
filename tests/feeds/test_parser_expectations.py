"""The columnar engine parses as the record-by-record parsers it replaced did (issue 13).

`expectations` says what the inputs are and how the expectations were made. The
courier records are parsed twice: with every column through Arrow, and with every
column through the short-column Python path (`columns.ARROW_FROM`), as small
windows are; the platforms' files have one path.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from unittest.mock import patch

import pytest

from zhongwei.feeds import columns

from expectations import COURIER, PLATFORMS, cases, described, expected, unpack

PATHS = {"arrow": 0, "python": 1 << 30}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpack(tmp_path_factory.mktemp("expected-inputs"))


@pytest.mark.parametrize("feed, path", [*((p, "arrow") for p in PLATFORMS),
                                        *((kind, path) for kind in COURIER for path in PATHS)])
def test_the_engine_parses_as_the_record_parsers_did(inputs: Path, feed: str, path: str) -> None:
    batches = expected(feed)
    made = []
    with patch.object(columns, "ARROW_FROM", PATHS[path]):
        for case, parse in cases(inputs, feed):
            batch, want = described(parse()), batches[case]
            assert batch.keys() == want.keys(), case
            for part, value in want.items():
                assert batch[part] == value, f"{case}: {part}"
            made.append(case)
    assert made == list(batches)  # every expected case was parsed again


@pytest.mark.parametrize("feed", [*PLATFORMS, *COURIER])
def test_the_expectations_hold_every_kind_of_outcome(feed: str) -> None:
    batches = expected(feed).values()
    reasons = Counter(entry["reason"] for batch in batches for entry in batch["rejected"])
    assert {"malformed_record", "bad_timestamp", "conflicting_duplicate"} <= set(reasons), reasons
    assert sum(batch["counts"][1] for batch in batches) > 500  # rows loaded
    assert sum(batch["counts"][2] for batch in batches)  # duplicates
    if feed in PLATFORMS:
        assert {"bad_amount"} <= set(reasons)
        assert any(batch["warnings"] for batch in batches)
        assert any(batch["file_error"] for batch in batches)
