"""De-identification: personal information stops at ingestion (README: Ingestion).

Names, member names, phones and street addresses leave the parsers only as a
keyed hash (HMAC-SHA256, so records still join across feeds while nobody without
the key can test a guess) and a masked display form. `redact` scrubs free text and
raw quarantined lines, which are shown to people fixing partner files.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

from zhongwei.config import pii_key

HASH_HEX_CHARS = 32
_SHA256_BLOCK = 64
MASK = "*"
_HASH_CACHE_SIZE = 1 << 16  # lines of one order repeat the buyer; exports repeat buyers

# Keys whose (string or number) values are personal in the partner JSON records.
# sender/receiver/buyer are objects by contract; a broken record may carry a string.
PII_JSON_KEYS = ("name", "phone", "address", "sender", "receiver", "buyer")
_JSON_PII_VALUE = re.compile(
    r'("(?:' + "|".join(PII_JSON_KEYS) + r')"\s*:\s*)'
    r'(?:"(?:[^"\\]|\\.)*"?|-?\d[\d.eE+-]*)'
)
# Keys whose values identify a record, not a person: they stay as sent, even when their digits
# look like a phone number (an unknown company's waybill XYZ000000000001), so that the
# quarantine can be searched by them.
IDENTIFIER_JSON_KEYS = (
    "waybill_no", "order_no", "order_id", "shop_id", "sku", "outlet_id", "pickup_outlet_id", "company",
    "area_code", "origin_area_code", "dest_area_code",
)
_JSON_IDENTIFIER_VALUE = re.compile(
    r'"(?:' + "|".join(IDENTIFIER_JSON_KEYS) + r')"\s*:\s*(?:"(?:[^"\\]|\\.)*"?|-?\d[\d.eE+-]*)'
)
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_FIXED_LINE = re.compile(r"(?<!\d)0\d{2,3}[- ]?\d{7,8}(?!\d)")
_PHONE_NOISE = re.compile(r"[\s\-()]")
_CN_MOBILE_WITH_PREFIX = re.compile(r"^(?:\+?86)(1[3-9]\d{9})$")
_SPACE_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")
_SPACES = re.compile(r"\s+")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')
_BARE_WORD = re.compile(r'[^\s{}\[\]:,"]+')
_JSON_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_JSON_WORDS = frozenset({"true", "false", "null"})


def _text(value: object) -> str:
    """NFKC + strip: partners type full-width digits and stray spaces."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text.strip() if text.isascii() else unicodedata.normalize("NFKC", text).strip()


def is_masked(text: str) -> bool:
    """Whether a partner already masked the value (e.g. PDD's `陈*`, `138****0001`)."""
    return MASK in text


def clean_name(value: object) -> str:
    """A person's name as typed, without the stray spaces ('李 梅' is 李梅)."""
    text = _text(value)
    if _SPACES.search(text):
        text = _SPACES.sub(" ", _SPACE_BETWEEN_CJK.sub("", text))
    return text


def clean_phone(value: object) -> str:
    """Digits of a phone number, so `138 1234 5678` and `+8613812345678` hash alike."""
    text = _text(value)
    if text.isdigit():
        return text
    text = _PHONE_NOISE.sub("", text)
    prefixed = _CN_MOBILE_WITH_PREFIX.match(text)
    return prefixed.group(1) if prefixed else text


def _masked_phone(text: str) -> str | None:
    if not text:
        return None
    if is_masked(text):
        return text
    if len(text) >= 10:
        return f"{text[:3]}{MASK * 4}{text[-4:]}"
    return MASK * 4 + text[-2:] if len(text) >= 4 else MASK * 4


def _masked_name(text: str) -> str | None:
    if not text:
        return None
    if is_masked(text):
        return text
    return text[0] + MASK * (len(text) - 1) if len(text) > 1 else MASK


def mask_phone(value: object) -> str | None:
    """`13812345678` -> `138****5678`; short numbers keep only their last two digits."""
    return _masked_phone(clean_phone(value))


def mask_name(value: object) -> str | None:
    """`王芳` -> `王*`, `马建国` -> `马**`: the family name stays for display."""
    return _masked_name(clean_name(value))


def _mask_match(match: re.Match[str]) -> str:
    return mask_phone(match.group(0)) or ""


def redact(text: str | None) -> str | None:
    """Free text or a raw (possibly broken) record with personal information masked.

    Masks mobile and fixed-line numbers anywhere but in the values of the JSON keys in
    `IDENTIFIER_JSON_KEYS`, and replaces the values of the JSON keys in `PII_JSON_KEYS` with "***". Names written inside prose cannot be
    recognised; the parsers therefore never put a name column into raw text.
    """
    if text is None:
        return None
    text = _JSON_PII_VALUE.sub(r'\1"***"', text)
    parts, position = [], 0
    for identifier in _JSON_IDENTIFIER_VALUE.finditer(text):
        parts += [mask_phones(text[position:identifier.start()]), identifier.group(0)]
        position = identifier.end()
    parts.append(mask_phones(text[position:]))
    return "".join(parts)


def mask_phones(text: str) -> str:
    """Mobile and fixed-line numbers anywhere in the text masked."""
    return _FIXED_LINE.sub(_mask_match, _MOBILE.sub(_mask_match, text))


def redact_json_line(text: str | None) -> str | None:
    """`redact` for a raw JSON Lines record that may not be JSON at all.

    Beyond `redact`, every bare word outside a string literal (other than
    numbers, true, false, null) is masked: in a line that is not JSON there is
    no key to say what a word is, so a name written there cannot otherwise be
    told from a status.
    """
    if text is None:
        return None
    parts, position = [], 0
    for literal in _JSON_STRING.finditer(text):
        parts += [_BARE_WORD.sub(_mask_bare, text[position:literal.start()]), literal.group(0)]
        position = literal.end()
    parts.append(_BARE_WORD.sub(_mask_bare, text[position:]))
    return redact("".join(parts))


def _mask_bare(match: re.Match[str]) -> str:
    word = match.group(0)
    return word if word in _JSON_WORDS or _JSON_NUMBER.fullmatch(word) else "***"


class Deidentifier:
    """Keyed hashing and masking with one secret (`zhongwei.config.pii_key`)."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("the PII key must not be empty")
        # HMAC (RFC 2104) with the padded-key states computed once: per value this is
        # half the work of `hmac.digest`, which re-derives them on every call.
        if len(key) > _SHA256_BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(_SHA256_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self._digest = lru_cache(maxsize=_HASH_CACHE_SIZE)(self._compute)

    @classmethod
    def from_settings(cls) -> Deidentifier:
        """The deployment's key (ZW_PII_KEY, or the developer machine's key file)."""
        return cls(pii_key())

    def _compute(self, text: str) -> str:
        inner = self._inner.copy()
        inner.update(text.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:HASH_HEX_CHARS]

    def hash(self, value: object) -> str | None:
        """HMAC-SHA256 (hex, first 32 chars) of the NFKC-stripped value.

        None/empty give None, and so does a value the partner already masked:
        its hash would join unrelated people who share the visible characters.
        """
        return self._hash_clean(_text(value))

    def _hash_clean(self, text: str) -> str | None:
        return None if not text or is_masked(text) else self._digest(text)

    def name(self, value: object) -> tuple[str | None, str | None]:
        """(hash, masked) of a person's name."""
        text = clean_name(value)
        return self._hash_clean(text), _masked_name(text)

    def phone(self, value: object) -> tuple[str | None, str | None]:
        """(hash, masked) of a phone number."""
        text = clean_phone(value)
        return self._hash_clean(text), _masked_phone(text)
