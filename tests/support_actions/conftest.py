"""Support-action fixtures: staff and non-staff users, a CSRF-enforcing client, and the queued
jobs run by a real RQ worker in this process.

`run_jobs()` is the app's own worker class (`notifyme.delivery.worker.Worker`, what
`manage.py rqworker` runs) in burst mode on both lanes. Jobs drop stale database connections
around themselves, so tests that run jobs use `transactional_db`: rows are really committed,
and the nudges that wait for a commit really fire, as in production.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from notifyme.delivery import nudges
from notifyme.delivery.worker import Worker

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_user("sam.support", "sam@notifyme.test", "pw-Support-1",
                                    is_staff=True)


@pytest.fixture
def plain_user(db: None) -> User:
    return User.objects.create_user("mia.merchant", "mia@shop.test", "pw-Plain-1")


@pytest.fixture
def staff(staff_user: User) -> Client:
    """A signed-in staff member whose browser enforces CSRF like a real one."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


def csrf(client: Client) -> str:
    """The CSRF token a page would put in its forms (the admin index sets the cookie)."""
    page = client.get("/admin/")
    match = CSRF_INPUT.search(page.content.decode())
    return match.group(1) if match else client.cookies["csrftoken"].value


def post(client: Client, url: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    """POST as the browser does: the form carries the CSRF token."""
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": csrf(client)}, **extra)


def run_jobs(*, rounds: int = 5) -> int:
    """Run every queued job of both lanes (what a worker would do); returns how many ran.
    Several rounds, since jobs enqueue follow-ups."""
    ran = 0
    for _ in range(rounds):
        queues = [nudges.queue(lane) for lane in nudges.LANES]
        waiting = sum(q.count for q in queues)
        if not waiting:
            break
        worker = Worker(queues, connection=queues[0].connection)
        worker.work(burst=True, with_scheduler=False)
        ran += waiting
    return ran


@pytest.fixture
def jobs() -> Iterator[Callable[..., int]]:
    yield run_jobs
