"""The XCom keys tasks push and `zw run` and the failure alerts read: one module that imports
nothing, so reading a key never loads a task's heavy modules (GX, pandas) nor makes a cycle."""
from __future__ import annotations

FAILED_BATCHES = "failed_batches"  # an ingestion task's batches that failed their checks
GATE = "gate"  # the publication gate's checks when it blocked a month
