"""Shared fixtures: locations of the shipped samples and a small generated inbox."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"


def require_service(name: str, available: bool) -> None:
    """Services (PostgreSQL, Redis) must run under CI; elsewhere their tests skip with a reason."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is required under CI but is not reachable")
    pytest.skip(f"{name} is not reachable on this machine")


@pytest.fixture(scope="session")
def small_inbox(tmp_path_factory) -> Path:
    """14 months (so that 同比 exists) at a tiny scale, with defects of every kind."""
    from zhongwei.synth.generate import SynthConfig, generate

    out = tmp_path_factory.mktemp("inbox")
    generate(SynthConfig(out=str(out), months="2024-01:2025-02", scale=0.0005, seed=7, defect_rate=0.02))
    return out
