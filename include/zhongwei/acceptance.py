"""The one rule for accepting a month's failing checks: a reason a reader can follow.

An acceptance publishes figures the checks did not pass; its reason is printed in
the manifest and the bulletin, so `x` or a blank will not do. Used by the CLI
option, the publication DAG's param and the gate, which therefore agree.
"""
from __future__ import annotations

MIN_REASON_CHARS = 5
REASON_PATTERN = r"\S"  # JSON Schema for the DAG param: not only blanks


def acceptance_reason(text: str) -> str:
    """The reason, stripped; ValueError saying what a reason needs when it is too short."""
    reason = (text or "").strip()
    if len(reason) < MIN_REASON_CHARS:
        raise ValueError(f"an acceptance needs a reason of at least {MIN_REASON_CHARS} characters "
                         f"saying why the failing checks may be published (got {text!r})")
    return reason
