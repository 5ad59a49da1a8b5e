"""Every error kind the app defines has one catalogue entry; the pages show them all."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.klaviyo import errors as klaviyo_errors
from integrations.klaviyo import messages as klaviyo_messages
from integrations.klaviyo.scopes import API_CODES
from integrations.shopify import errors as shopify_errors
from integrations.shopify import messages as shopify_messages
from notifyme.support import catalogue
from notifyme.sync.models import OutboxItem


def _kinds(base: type) -> set[str]:
    found, todo = set(), [base]
    while todo:
        cls = todo.pop()
        found.add(cls.kind)
        todo += cls.__subclasses__()
    return found


KLAVIYO_KINDS = (_kinds(klaviyo_errors.KlaviyoError) | set(klaviyo_messages.SENTENCES)
                 | set(API_CODES) | {"invalid_phone", "phone_conflict"})
SHOPIFY_KINDS = _kinds(shopify_errors.ShopifyError) | set(shopify_messages.SENTENCES)


@pytest.mark.parametrize(("source", "kind"), sorted(
    [("klaviyo", k) for k in KLAVIYO_KINDS] + [("shopify", k) for k in SHOPIFY_KINDS]
    + [("webhook", k) for k in ("invalid_signature", "bad_payload", "handler_failed",
                                "retries_exhausted")]
    + [("shop", k) for k in ("uninstalled", "needs_reauth", "no_grant")]))
def test_every_known_kind_has_its_own_entry(source: str, kind: str) -> None:
    found = catalogue.ENTRIES.get((source, kind))
    assert found is not None, f"no catalogue entry for {source}/{kind}"
    assert found.explanation and found.fix and found.title
    assert found.anchor == f"{source}-{kind}"


def test_phone_issues_are_covered() -> None:
    issues = {"invalid": "invalid_phone", "conflict": "phone_conflict"}
    for value in OutboxItem.PhoneIssue.values:
        if value:
            assert ("klaviyo", issues[value]) in catalogue.ENTRIES


def test_the_fix_is_the_merchant_sentence_not_a_second_one() -> None:
    for kind, sentence in klaviyo_messages.SENTENCES.items():
        assert catalogue.entry("klaviyo", kind).fix == sentence
    for kind, sentence in shopify_messages.SENTENCES.items():
        assert catalogue.entry("shopify", kind).fix == sentence


def test_an_unknown_kind_falls_back_without_raising() -> None:
    found = catalogue.entry("klaviyo", "brand_new_kind")
    assert found.kind == "brand_new_kind"
    assert found.fix == klaviyo_messages.SENTENCES["unknown"]
    assert catalogue.entry("elsewhere", "x").fix


def test_webhook_kind_reads_what_processing_writes() -> None:
    assert catalogue.webhook_kind("gave up after 8 tries: RetryLater") == "retries_exhausted"
    assert catalogue.webhook_kind("ReauthRequired: Shopify needs_reauth: x") == "needs_reauth"
    assert catalogue.webhook_kind("the body is not JSON (Expecting value)") == "bad_payload"
    assert catalogue.webhook_kind("KeyError: 'id'") == "handler_failed"


def test_the_catalogue_page_has_every_entry_with_its_anchor(staff: Client) -> None:
    page = staff.get("/support/errors/").content.decode()
    for found in catalogue.entries():
        assert f'id="{found.anchor}"' in page
    assert len(catalogue.entries()) == len({e.anchor for e in catalogue.entries()})


def test_one_entry_per_page_and_a_404_naming_the_kind(staff: Client) -> None:
    page = staff.get("/support/errors/klaviyo/missing_scopes/")
    assert page.status_code == 200
    assert catalogue.entry("klaviyo", "missing_scopes").explanation in page.content.decode()
    missing = staff.get("/support/errors/klaviyo/no_such_kind/")
    assert missing.status_code == 404
    assert "klaviyo/no_such_kind" in missing.content.decode()
