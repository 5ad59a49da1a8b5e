"""RQ entry point of the Klaviyo erasure (thin: an id in, one service call). Enqueued by path
from `erasure.erasure_nudge`; idempotent (the row's lease and state decide)."""

from __future__ import annotations

from django.db import close_old_connections

from notifyme.privacy.erasure import erasure_run as _run


def erasure_run(erasure_id: int) -> str:
    close_old_connections()
    try:
        return _run(erasure_id=erasure_id)
    finally:
        close_old_connections()
