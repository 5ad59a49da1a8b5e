"""Staff only, CSRF enforced, invalid input answered with a 4xx naming the field; and the RQ
dashboard (django-rq's views under /admin/rq/) for staff only, its job arguments ids only."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.catalog.services import variant_update_stock
from notifyme.delivery import nudges
from notifyme.restocks.services import detection_of
from notifyme.support.models import SupportAction
from notifyme.sync.models import OutboxItem
from tests.factories import klaviyo_connect, shop_make, subscription_make, variant_make
from tests.fixtures.sandbox import SandboxHandle

from .conftest import csrf, post

DOMAIN = "access-shop.myshopify.com"
OTHER = "other-shop.myshopify.com"
JSON = {"HTTP_ACCEPT": "application/json"}
POSTS = ["reverify", "retry", "pause", "resume", "reconcile"]
ALL = [*POSTS, "retry/preview"]


def _url(name: str, domain: str = DOMAIN) -> str:
    return f"/support/shops/{domain}/{name}"


def test_the_url_names_resolve_under_the_support_namespace() -> None:
    for name in ("shop_reverify", "shop_retry_preview", "shop_retry", "shop_pause",
                 "shop_resume", "shop_reconcile"):
        assert reverse(f"support:{name}", kwargs={"domain": DOMAIN}).startswith(
            f"/support/shops/{DOMAIN}/")


@pytest.mark.parametrize("name", ALL)
def test_anonymous_and_merchant_tokens_are_sent_to_the_staff_login(
    db: None, name: str, bearer: Any,
) -> None:
    shop_make(DOMAIN)
    for method in ("get", "post"):
        for headers in ({}, bearer(DOMAIN)):
            answer = getattr(Client(), method)(_url(name), **headers)
            assert answer.status_code == 302, (method, headers)
            assert answer["Location"].startswith("/admin/login/?next=/support/")
    assert not SupportAction.objects.exists()


@pytest.mark.parametrize("name", ALL)
def test_signed_in_non_staff_get_403(db: None, name: str, plain_user: User) -> None:
    shop_make(DOMAIN)
    client = Client()
    client.force_login(plain_user)
    for method in ("get", "post"):
        assert getattr(client, method)(_url(name)).status_code == 403
    assert not SupportAction.objects.exists()


def test_wrong_methods_are_405(db: None, staff: Client) -> None:
    shop_make(DOMAIN)
    for name in POSTS:
        assert staff.get(_url(name)).status_code == 405, name
    assert post(staff, _url("retry/preview")).status_code == 405


def test_csrf_is_enforced_and_nothing_is_written_without_it(
    db: None, klaviyo_sandbox: SandboxHandle, staff: Client,
) -> None:
    shop = shop_make(DOMAIN)
    klaviyo_connect(shop, klaviyo_sandbox)
    for name in POSTS:
        assert staff.post(_url(name), {"token": "x"}).status_code == 403, name
    assert not SupportAction.objects.exists()
    assert KlaviyoConnection.objects.get(shop=shop).paused is False
    assert post(staff, _url("pause")).status_code == 200  # with the token it goes through


def test_unknown_shop_and_record_are_404_naming_the_field(db: None, staff: Client) -> None:
    shop = shop_make(DOMAIN)
    for name in POSTS:
        answer = post(staff, _url(name, "nope.myshopify.com"), {"token": "x"}, **JSON)
        assert answer.status_code == 404 and answer.json()["error"]["field"] == "domain"
    page = staff.get(_url("retry/preview", "nope.myshopify.com"))
    assert page.status_code == 404 and b"nope.myshopify.com" in page.content
    for record in ("sync-999999", "delivery-5", "bogus", "sync-0", "sync-1; drop", "x" * 300):
        answer = staff.get(_url("retry/preview"), {"record": record}, **JSON)
        assert answer.status_code == 404, record
        assert answer.json()["error"]["field"] == "record"
        answer = post(staff, _url("retry"), {"token": "t", "record": record}, **JSON)
        assert answer.status_code == 404, record
    missing = post(staff, _url("retry"), {}, **JSON)
    assert missing.status_code == 400 and missing.json()["error"]["field"] == "token"
    assert not SupportAction.objects.exists()
    assert shop.pk


def test_one_shops_record_is_not_found_through_another_shop(
    db: None, klaviyo_sandbox: SandboxHandle, staff: Client,
) -> None:
    """A failed record of shop B, asked for under shop A's URL, does not exist there."""
    shop_make(DOMAIN)
    other = shop_make(OTHER)
    variant = variant_make(other, quantity=0)
    sub = subscription_make(other, variant, email="b@example.com")
    item = OutboxItem.objects.get(subscription=sub)
    OutboxItem.objects.filter(pk=item.pk).update(state=OutboxItem.State.FAILED)  # by hand
    ref = f"sync-{item.pk}"
    assert staff.get(_url("retry/preview"), {"record": ref}).status_code == 404
    assert staff.get(_url("retry/preview", OTHER), {"record": ref}).status_code == 200
    everything = staff.get(_url("retry/preview"), **JSON).json()["preview"]
    assert everything["records"] == []


# -- the RQ dashboard ----------------------------------------------------------------------


def _rq_urls() -> list[str]:
    """Every django-rq view mounted under /admin/rq/, with placeholder arguments."""
    values = {"queue_index": "0", "job_id": "job-x", "key": "worker-x", "token": "tok",
              "scheduler_index": "0", "connection_index": "0", "scheduler_name": "s",
              "cron_job_name": "c"}
    mounted = next(p for p in get_resolver().url_patterns
                   if isinstance(p, URLResolver) and str(p.pattern) == "admin/rq/")
    urls = []
    for pattern in mounted.url_patterns:
        assert isinstance(pattern, URLPattern)
        names = pattern.pattern.regex.groupindex
        urls.append(reverse(f"django_rq:{pattern.name}",
                            kwargs={name: values.get(name, "0" if name.endswith("index") else "x")
                                    for name in names}))
    return sorted(set(urls))


def test_every_rq_dashboard_view_is_staff_only(db: None, staff: Client, plain_user: User,
                                               bearer: Any) -> None:
    shop_make(DOMAIN)
    urls = _rq_urls()
    assert "/admin/rq/" in urls and len(urls) > 15
    member = Client()
    member.force_login(plain_user)
    for url in urls:
        for client, headers in ((Client(), {}), (Client(), bearer(DOMAIN)), (member, {})):
            for method in ("get", "post"):
                answer = getattr(client, method)(url, **headers)
                assert answer.status_code in (302, 401, 403, 405), (url, method, answer)
                if answer.status_code == 302:
                    assert answer["Location"].startswith("/admin/login/"), url
    assert staff.get("/admin/rq/").status_code == 200


def test_queued_jobs_carry_ids_only_and_no_secret_reaches_redis_or_the_dashboard(
    db: None, klaviyo_sandbox: SandboxHandle, staff: Client, clean_redis: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    shop = shop_make(DOMAIN)
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    with django_capture_on_commit_callbacks(execute=True):
        subscription_make(shop, variant, email="jane@example.com", phone="+14155550100")
    with django_capture_on_commit_callbacks(execute=True):
        detection_of(variant_update_stock(variant=variant, quantity=3))
    post(staff, _url("reconcile"))
    jobs = [job for lane in nudges.LANES for job in nudges.queue(lane).jobs]
    assert {job.func_name for job in jobs} >= {"notifyme.sync.jobs.sync_shop",
                                               "notifyme.support.jobs.run_reconcile"}
    secrets = [connected.key, "jane@example.com", "+14155550100", "shpat_test_access_token",
               "shprt_test_refresh_token"]
    shown = 0
    for job in jobs:
        assert all(isinstance(arg, int | bool) or arg in nudges.LANES for arg in job.args), job
        assert not job.kwargs, job
        index = list(settings.RQ_QUEUES).index(job.origin)
        page = staff.get(f"/admin/rq/queues/{index}/{job.id}/")
        assert page.status_code == 200 and job.id.encode() in page.content
        assert not any(s.encode() in page.content for s in secrets), job
        shown += 1
    assert shown == len(jobs) >= 3
    for index in range(len(settings.RQ_QUEUES)):
        listing = staff.get(f"/admin/rq/queues/{index}/")
        assert listing.status_code == 200
        assert not any(s.encode() in listing.content for s in secrets)
    # Nothing in Redis holds a secret or a shopper's contact either.
    for key in clean_redis.scan_iter():
        kind = clean_redis.type(key).decode()
        dump = {"string": lambda k: clean_redis.get(k),
                "hash": lambda k: clean_redis.hgetall(k),
                "list": lambda k: clean_redis.lrange(k, 0, -1),
                "set": lambda k: clean_redis.smembers(k),
                "zset": lambda k: clean_redis.zrange(k, 0, -1)}[kind](key)
        text = repr(dump)
        assert not any(s in text for s in secrets), key
    assert csrf(staff)


def test_the_audit_is_listed_read_only_in_the_admin(
    db: None, klaviyo_sandbox: SandboxHandle, staff: Client,
) -> None:
    shop = shop_make(DOMAIN)
    klaviyo_connect(shop, klaviyo_sandbox)
    post(staff, _url("pause"))
    admin = Client()
    admin.force_login(User.objects.create_superuser("root", "root@notifyme.test", "pw-Root-1"))
    listing = admin.get("/admin/support/supportaction/")
    assert listing.status_code == 200
    assert b"sam.support" in listing.content and DOMAIN.encode() in listing.content
    action = SupportAction.objects.get()
    assert admin.get("/admin/support/supportaction/add/").status_code == 403
    detail = admin.get(f"/admin/support/supportaction/{action.pk}/change/")
    assert detail.status_code == 200 and b'name="outcome"' not in detail.content  # no form
    assert admin.post(f"/admin/support/supportaction/{action.pk}/delete/").status_code == 403
