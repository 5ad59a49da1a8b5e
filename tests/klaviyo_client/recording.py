"""Record what production sends to Klaviyo: on the wire, per client operation.

`recording(monkeypatch)` observes, without changing anything: every public `KlaviyoClient`
method call (counted by name), the operation each `_request` sends, and the prepared HTTP
request that `requests`' transport adapter then puts on the wire (method, path, query, body
bytes), whichever session or client instance production built. Nothing else is recorded (the
sandbox's admin calls go through no client operation).
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from requests.adapters import HTTPAdapter

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.operations import Operation

#: The client's public methods: one per operation production calls.
PUBLIC_METHODS = frozenset(name for name, value in vars(KlaviyoClient).items()
                           if callable(value) and not name.startswith("_"))


@dataclass(frozen=True)
class Sent:
    operation: Operation
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes | None
    headers: dict[str, str]  # without Authorization


@dataclass
class Recorder:
    sent: list[Sent] = field(default_factory=list)
    methods: Counter[str] = field(default_factory=Counter)
    _current: threading.local = field(default_factory=threading.local)

    def by_operation(self, name: str) -> list[Sent]:
        return [s for s in self.sent if s.operation.name == name]


def _counting(recorder: Recorder, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def counted(*args: Any, **kwargs: Any) -> Any:
        recorder.methods[name] += 1
        return method(*args, **kwargs)
    return counted


@contextmanager
def recording(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()
    original_request = KlaviyoClient._request
    original_send = HTTPAdapter.send

    def request(self: KlaviyoClient, op: Operation, **kwargs: Any) -> Any:
        recorder._current.op = op
        try:
            return original_request(self, op, **kwargs)
        finally:
            recorder._current.op = None

    def send(self: HTTPAdapter, prepared: requests.PreparedRequest, *args: Any,
             **kwargs: Any) -> requests.Response:
        op = getattr(recorder._current, "op", None)
        if op is not None:
            url = urlsplit(prepared.url or "")
            body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
            headers = {k.lower(): v for k, v in prepared.headers.items()
                       if k.lower() != "authorization"}
            recorder.sent.append(Sent(op, str(prepared.method), url.path,
                                      parse_qs(url.query, keep_blank_values=True), body,
                                      headers))
        return original_send(self, prepared, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(KlaviyoClient, "_request", request)
        patch.setattr(HTTPAdapter, "send", send)
        for name in PUBLIC_METHODS:
            patch.setattr(KlaviyoClient, name, _counting(recorder, name,
                                                         getattr(KlaviyoClient, name)))
        yield recorder
