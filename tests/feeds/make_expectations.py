"""Writes `expected/` with the record-by-record parsers, before they are deleted (issue 13).

    PYTHONPATH=tests/feeds .venv/bin/python tests/feeds/make_expectations.py

Goes with the record parsers: once they are deleted nothing can write the
expectations again, and `test_parser_expectations` holds the engine to them.
"""
from __future__ import annotations

import gzip
import json
import shutil
import tarfile
import tempfile
from pathlib import Path
from unittest.mock import patch

from zhongwei.feeds import courier, ecommerce
from zhongwei.synth.generate import SynthConfig, generate

from expectations import COURIER, EXPECTED, GENERATED, PLATFORMS, cases, described, expected_path, unpack
from feedkit import ZWYP_ORDER, variant, write_jsonl
from test_courier_columnar import HOSTILE
from test_feeds_columnar import _douyin_hostile, _pdd_hostile, _taobao_hostile, _zwyp_hostile

HOSTILE_FILES = {"PDD": (_pdd_hostile, "orders_20250304.csv"), "TAOBAO": (_taobao_hostile, "orders_20250304.csv"),
                 "DOUYIN": (_douyin_hostile, "orders_20250304.xlsx"), "ZWYP": (_zwyp_hostile, "orders_20250304.jsonl")}
FILE_CHECKS = [
    ([ZWYP_ORDER, variant(ZWYP_ORDER, order_id="ZW2025030400999")], "gb18030"),  # wrong_encoding
    ([], "utf-8"), (["", " "], "utf-8-sig"), ([ZWYP_ORDER], "utf-8-sig"),
]


def write_inputs(scratch: Path) -> None:
    shutil.rmtree(EXPECTED, ignore_errors=True)
    EXPECTED.mkdir()
    month = scratch / "month"
    generate(SynthConfig(out=str(month), months="2025-03", scale=0.0005, seed=11, defect_rate=0.05))
    with tarfile.open(GENERATED, "w:gz") as archive:
        for feed in ("ecommerce", "courier"):
            archive.add(month / feed, arcname=feed)
    for platform, (write, name) in HOSTILE_FILES.items():
        write(EXPECTED / "hostile" / platform / name)
    for kind, records in HOSTILE.items():
        text = "".join(json.dumps(record) + "\n" for record in records())
        (EXPECTED / "hostile" / f"{kind}.jsonl").write_text(text, encoding="utf-8")
    for n, (lines, encoding) in enumerate(FILE_CHECKS):
        write_jsonl(EXPECTED / "file-checks" / "ZWYP" / str(n) / "orders_20250304.jsonl", lines, encoding=encoding)


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        write_inputs(Path(scratch))
        inputs = unpack(Path(scratch))
        with patch.dict(ecommerce._COLUMNAR, clear=True), patch.dict(courier._COLUMNAR, clear=True):
            for feed in (*PLATFORMS, *COURIER):
                with gzip.open(expected_path(feed), "wt", encoding="utf-8") as out:
                    for case, parse in cases(inputs, feed):
                        out.write(json.dumps({"case": case, "batch": described(parse())}) + "\n")


if __name__ == "__main__":
    main()
