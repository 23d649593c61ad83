"""Keep personal data out of logs.

A filter on every handler rewrites e-mail addresses, bearer/API keys, portal
tokens and long hex/base64 secrets before a record is written. Code should not
log such values in the first place; this is the net under that rule.
"""

from __future__ import annotations

import logging
import re

_PATTERNS = [
    (re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"), "[email]"),
    (re.compile(r"(?i)(bearer|api-key|apikey|ocp-apim-subscription-key|authorization)([\"']?\s*[:=]\s*[\"']?)[^\s\"',}]+"),
     r"\1\2[secret]"),
    (re.compile(r"\b(pk|tok|vt|st|dl)_[A-Za-z0-9_\-]{16,}"), "[token]"),
    (re.compile(r"(?i)(token|sig|signature|key|secret|password|sas)=([^&\s\"']+)"), r"\1=[secret]"),
    # Phone numbers: international form, or grouped digits; not plain figures like durations.
    (re.compile(r"\+\d[\d \-]{7,}\d|\b\d{2,5}[ \-]\d{3,4}[ \-]\d{3,6}\b"), "[phone]"),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True
