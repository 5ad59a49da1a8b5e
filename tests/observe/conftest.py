"""Capturing what the app's configured log handlers write, in the production JSON shape."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from notifyme.core.logformat import JsonFormatter
from notifyme.core.logging import RedactSecretsFilter


class Captured(io.StringIO):
    def records(self) -> list[dict[str, Any]]:
        """Every line parsed: each must be one JSON object."""
        return [json.loads(line) for line in self.getvalue().splitlines() if line]


@pytest.fixture
def json_log() -> Iterator[Captured]:
    """The root handler settings.LOGGING configured (its filters untouched), writing JSON
    (`LOG_FORMAT=json`, the production default) into a buffer for the test."""
    (handler,) = [h for h in logging.getLogger().handlers
                  if any(isinstance(f, RedactSecretsFilter) for f in h.filters)]
    assert isinstance(handler, logging.StreamHandler)
    stream = Captured()
    old_stream, old_formatter = handler.setStream(stream), handler.formatter
    handler.setFormatter(JsonFormatter())
    try:
        yield stream
    finally:
        handler.setStream(old_stream)  # type: ignore[arg-type]
        handler.setFormatter(old_formatter)
