"""Pause / resume and re-verify, driven through the staff endpoints against the real sandbox.

Pause: nothing is claimed or sent for the shop (jobs skip it, the sweeper does not nudge it),
the merchant sees "Paused by support", a merchant reconnect does not lift it; resume drains the
backlog. Re-verify: a key that lost a scope is found out and halts the sync with its sentence;
once the scope is back, re-verify resumes it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.scopes import ALL_REQUIRED
from integrations.klaviyo.services import connection_connect
from notifyme.subscriptions.models import Subscription
from notifyme.support.action_selectors import actions_for_shop
from notifyme.support.models import SupportAction
from notifyme.sync.models import OutboxItem
from notifyme.sync.profile_fields import SUBSCRIBED_METRIC
from notifyme.sync.sweep import due_shops
from tests.factories import klaviyo_connect, shop_make, subscription_make, variant_make
from tests.fixtures.sandbox import SandboxHandle

from .conftest import post

DOMAIN = "pause-shop.myshopify.com"
JSON = {"HTTP_ACCEPT": "application/json"}


def _url(name: str) -> str:
    return f"/support/shops/{DOMAIN}/{name}"


def test_pause_stops_claiming_and_resume_drains(
    transactional_db: None, klaviyo_sandbox: SandboxHandle, staff: Client, staff_user: User,
    bearer: Any, jobs: Any,
) -> None:
    shop = shop_make(DOMAIN)
    variant = variant_make(shop, quantity=0)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    paused = post(staff, _url("pause"), **JSON)
    assert paused.status_code == 200 and paused.json()["action"]["outcome"] == "done"
    subs = [subscription_make(shop, variant, email=f"w{i}@example.com") for i in range(3)]
    jobs()  # the signups' nudges run, and claim nothing
    assert OutboxItem.objects.filter(state=OutboxItem.State.PENDING).count() == 3
    assert klaviyo_sandbox.admin.profiles(connected.account_id) == []
    assert shop.pk not in due_shops()  # the sweeper leaves a paused shop alone
    # The merchant sees it, in the API and on the page.
    status = Client().get("/app/api/klaviyo", **bearer(DOMAIN)).json()
    assert status["paused"] is True and status["syncing"] is False
    assert status["status_label"] == "Paused by support"
    page = Client().get("/app/", {"id_token": bearer(DOMAIN)["HTTP_AUTHORIZATION"][7:]})
    assert b"data-paused" in page.content and b"Paused by support" in page.content
    # A merchant reconnect does not undo support's pause.
    connection_connect(shop=shop, private_key=connected.key)
    jobs()
    assert klaviyo_sandbox.admin.profiles(connected.account_id) == []
    again = post(staff, _url("pause"), **JSON).json()["action"]
    assert again["outcome"] == "nothing"

    resumed = post(staff, _url("resume"), **JSON)
    assert resumed.json()["action"]["outcome"] == "done"
    jobs()
    assert OutboxItem.objects.filter(state=OutboxItem.State.DONE).count() == 3
    emails = sorted(p["email"] for p in klaviyo_sandbox.admin.profiles(connected.account_id))
    assert emails == sorted(s.email for s in subs)
    assert len(klaviyo_sandbox.admin.events(connected.account_id, metric=SUBSCRIBED_METRIC)) == 3
    kinds = list(SupportAction.objects.order_by("id").values_list("kind", "outcome",
                                                                  "actor_username"))
    assert kinds == [("pause", "done", "sam.support"), ("pause", "nothing", "sam.support"),
                     ("resume", "done", "sam.support")]
    assert all(a.actor == staff_user and a.created_at for a in SupportAction.objects.all())
    latest = [a.kind for a in actions_for_shop(shop=shop, limit=2)]
    assert latest == ["resume", "pause"]


def test_reverify_finds_a_lost_scope_and_resumes_once_it_is_back(
    db: None, klaviyo_sandbox: SandboxHandle, staff: Client,
) -> None:
    shop = shop_make(DOMAIN)
    connected = klaviyo_connect(shop, klaviyo_sandbox)
    klaviyo_sandbox.admin.set_key_scopes(
        connected.key, [s for s in ALL_REQUIRED if s != "events:write"])
    failed = post(staff, _url("reverify"), **JSON).json()["action"]
    assert failed["outcome"] == "failed" and "events:write" in failed["detail"]
    link = KlaviyoConnection.objects.get(shop=shop)
    assert link.status == KlaviyoConnection.Status.NEEDS_ATTENTION
    # The HTML answer names the outcome and what to do.
    klaviyo_sandbox.admin.set_key_scopes(connected.key, "all")
    page = post(staff, _url("reverify"))
    assert page.status_code == 200 and b'data-outcome="done"' in page.content
    link.refresh_from_db()
    assert link.status == KlaviyoConnection.Status.CONNECTED
    actions = list(SupportAction.objects.order_by("id").values_list("kind", "outcome"))
    assert actions == [("reverify", "failed"), ("reverify", "done")]
    assert all(connected.key not in a.detail + str(a.parameters)
               for a in SupportAction.objects.all())


def test_actions_on_a_shop_without_klaviyo_are_refused_and_recorded(
    db: None, staff: Client,
) -> None:
    shop_make(DOMAIN)
    for name in ("pause", "resume", "reverify"):
        answer = post(staff, _url(name), **JSON)
        assert answer.status_code == 200
        assert answer.json()["action"]["outcome"] == "refused", name
    assert SupportAction.objects.count() == 3
    assert not Subscription.objects.exists()


def test_a_safe_next_redirects_back_with_a_message(db: None, klaviyo_sandbox: SandboxHandle,
                                                   staff: Client) -> None:
    shop = shop_make(DOMAIN)
    klaviyo_connect(shop, klaviyo_sandbox)
    back = post(staff, _url("pause"), {"next": "/support/?shop=pause"})
    assert back.status_code == 302 and back["Location"] == "/support/?shop=pause"
    elsewhere = post(staff, _url("resume"), {"next": "https://evil.example/"})
    assert elsewhere.status_code == 200  # not an open redirect: the result page instead
