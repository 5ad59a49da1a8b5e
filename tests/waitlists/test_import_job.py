"""A waitlist over `INLINE_ROWS` rows is imported by a job on the `bulk` queue — here a real
RQ worker on the real Redis, in burst mode — with progress the page polls; an import whose
job was lost (Redis flushed) is re-enqueued by the sweeper and finishes."""

from __future__ import annotations

import gc
from datetime import timedelta

import django_rq
import pytest
import redis
from django.utils import timezone

from notifyme.catalog.models import Variant
from notifyme.subscriptions.models import Subscription
from notifyme.waitlists.importing import INLINE_ROWS, import_sweep
from notifyme.waitlists.models import WaitlistImport
from tests.waitlists.conftest import Merchant

pytestmark = pytest.mark.django_db(transaction=True)
ROWS = INLINE_ROWS + 600


def _waitlist(bad_every: int = 0) -> str:
    lines = ["email,variant_id,marketing_consent,timestamp"]
    for i in range(ROWS):
        email = "broken" if bad_every and i % bad_every == 0 else f"shopper{i}@example.com"
        lines.append(f"{email},4001,{'yes' if i % 2 else 'no'},2024-02-01T12:00:00Z")
    return "\n".join(lines) + "\n"


def _work() -> None:
    saved = gc.get_threshold()
    try:
        django_rq.get_worker("bulk").work(burst=True)
    finally:  # the worker ran in this process: undo its GC tuning
        gc.unfreeze()
        gc.set_threshold(*saved)


def test_a_large_import_runs_as_a_job_with_progress(merchant: Merchant, shirt: Variant) -> None:
    response = merchant.upload(_waitlist(bad_every=100))
    assert response.status_code == 202
    queued = response.json()["import"]
    assert queued["state"] == "queued" and queued["total"] == ROWS and queued["processed"] == 0
    assert not Subscription.objects.exists()  # the request only recorded the import
    assert django_rq.get_queue("bulk").count == 1
    _work()
    progress = merchant.get(f"/imports/{queued['id']}").json()["import"]
    assert progress["state"] == "done" and progress["processed"] == ROWS
    bad = len(range(0, ROWS, 100))
    assert (progress["created"], progress["failed"], progress["existing"]) == (ROWS - bad, bad, 0)
    assert Subscription.objects.filter(shop=merchant.shop, source="import").count() == ROWS - bad
    report = merchant.get(f"/imports/{queued['id']}/errors.csv").content.decode("utf-8-sig")
    lines = report.strip().splitlines()
    assert lines[0] == "row,field,message" and len(lines) == bad + 1
    assert lines[1].startswith("2,email,")  # data row 0 is line 2 of the file
    assert lines[-1].startswith(f"{(bad - 1) * 100 + 2},email,")


def test_an_import_whose_job_was_lost_is_resumed_by_the_sweeper(
    merchant: Merchant, shirt: Variant, clean_redis: redis.Redis,
) -> None:
    queued = merchant.upload(_waitlist()).json()["import"]
    clean_redis.flushdb()  # the job is gone with Redis; the database still has the import
    assert import_sweep() == 0  # not stale yet: its job may just be waiting
    WaitlistImport.objects.filter(pk=queued["id"]).update(
        updated_at=timezone.now() - timedelta(minutes=5))
    assert import_sweep() == 1
    _work()
    done = WaitlistImport.objects.get(pk=queued["id"])
    assert done.state == "done" and done.created_count == ROWS and done.source_csv == ""
    assert import_sweep() == 0
