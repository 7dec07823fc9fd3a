"""Typed access to fields of decoded JSON records (courier API, ZWYP lines).

JSON carries types, so the contracts' types are enforced: a number where a
string is due is a malformed record, not something to coerce.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from zhongwei.feeds import reasons
from zhongwei.feeds.common import RowError, norm_text


def optional_string(record: Mapping[str, Any], key: str, *, free_text: bool = False) -> str | None:
    """A string field or None; codes are NFKC-stripped, free text only stripped."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowError(reasons.MALFORMED_RECORD, f"{key} must be a string, got {value!r}")
    return (value.strip() if free_text else norm_text(value)) or None


def string(record: Mapping[str, Any], key: str) -> str:
    value = optional_string(record, key)
    if value is None:
        raise RowError(reasons.MALFORMED_RECORD, f"{key} is missing or empty")
    return value


def integer(record: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    value = record.get(key)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise RowError(reasons.MALFORMED_RECORD, f"{key} must be an integer, got {value!r}")
    return value


def boolean(record: Mapping[str, Any], key: str) -> bool:
    value = record.get(key)
    if not isinstance(value, bool):
        raise RowError(reasons.MALFORMED_RECORD, f"{key} must be true or false, got {value!r}")
    return value


def optional_object(record: Mapping[str, Any], key: str) -> Mapping[str, Any] | None:
    value = record.get(key)
    if value is not None and not isinstance(value, dict):
        raise RowError(reasons.MALFORMED_RECORD, f"{key} must be an object, got {value!r}")
    return value


def obj(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = optional_object(record, key)
    if value is None:
        raise RowError(reasons.MALFORMED_RECORD, f"{key} is missing")
    return value


def of_value(rule: Callable[..., Any], key: str, **options: Any) -> Callable[[object], Any]:
    """A field rule as a rule of the field's value alone (for a column of them): the same checks and texts."""
    return lambda value: rule({key: value}, key, **options)
