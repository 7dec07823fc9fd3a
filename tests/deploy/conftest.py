"""Fixtures of the deployment tests: one generated month shared by every scenario."""
from __future__ import annotations

from pathlib import Path

import pytest
from deploy_helpers import MONTH


@pytest.fixture(scope="session")
def month_inbox(tmp_path_factory) -> Path:
    """`zw synth --months 2025-03 --scale 0.0005 --defect-rate 0`: a clean month (5 s to make)."""
    from zhongwei.synth.generate import SynthConfig, generate

    out = tmp_path_factory.mktemp("deploy-inbox")
    generate(SynthConfig(out=str(out), months=MONTH, scale=0.0005, seed=3, defect_rate=0.0))
    return out
