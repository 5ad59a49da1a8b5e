"""A logging filter that masks anything shaped like a Klaviyo private key or bearer token."""

from __future__ import annotations

import logging
import re

_SECRET_PATTERNS = [
    re.compile(r"pk_[A-Za-z0-9]{4,}"),
    re.compile(r"(Klaviyo-API-Key\s+)\S+", re.IGNORECASE),
    re.compile(r"(Bearer\s+)[A-Za-z0-9._-]+", re.IGNORECASE),
]


def redact(text: str) -> str:
    """Replace secrets in free text; keys keep only their last four characters."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"pk_…{m.group(0)[-4:]}", text)
    for pattern in _SECRET_PATTERNS[1:]:
        text = pattern.sub(lambda m: f"{m.group(1)}[redacted]", text)
    return text


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
