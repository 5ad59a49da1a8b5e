"""`/support/shoppers/?q=`: one box for an email, a phone, a Shopify customer id or a Klaviyo
profile id, normalised as the app stores them, across every shop; bad input answers 400
naming `q`."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.support.search import query_parse
from tests.factories import variant_make
from tests.fixtures.shopify import make_shop
from tests.support_shoppers.conftest import SHOPPERS, Store

pytestmark = pytest.mark.django_db


def _found(admin_client: Client, q: str) -> set[int]:
    response = admin_client.get(SHOPPERS, {"q": q})
    assert response.status_code == 200, (q, response.content[:500])
    page = response.content.decode()
    return {sub.pk for sub in Subscription.objects.all()
            if f'href="/support/shoppers/{sub.pk}/"' in page}


def test_each_identifier_finds_the_shopper_however_it_is_typed(
    store: Store, admin_client: Client,
) -> None:
    ada = store.signup({"email": "Ada@Example.com", "phone": "+1 415 555 0123"},
                       customer_id="777001")
    grace = store.signup({"email": "grace@example.com"}, customer_id="777002")
    store.sync()
    ada.refresh_from_db()
    assert ada.klaviyo_profile_id  # written by the sync, from Klaviyo's answer

    for q in ("ada@example.com", "  ADA@EXAMPLE.COM ", "\uff21\uff44\uff41@example.com",
              "+14155550123", "+1 (415) 555-0123", "14155550123", "(415) 555-0123",
              "777001", "gid://shopify/Customer/777001", ada.klaviyo_profile_id):
        assert _found(admin_client, q) == {ada.pk}, q
    assert _found(admin_client, "777002") == {grace.pk}
    assert _found(admin_client, "nobody@example.com") == set()
    assert "No shopper matches" in admin_client.get(SHOPPERS, {"q": "x@y.com"}).content.decode()


def test_a_search_spans_every_shop(store: Store, admin_client: Client) -> None:
    here = store.signup({"email": "ada@example.com"})
    other = make_shop("other-shop.myshopify.com", name="Other Shop")
    there, _ = subscription_create(shop=other, variant=variant_make(other),
                                   email="ada@example.com")
    page = admin_client.get(SHOPPERS, {"q": "ada@example.com"}).content.decode()
    assert _found(admin_client, "ada@example.com") == {here.pk, there.pk}
    assert "demo-shop.myshopify.com" in page and "other-shop.myshopify.com" in page


@pytest.mark.parametrize(("q", "says"), [
    ("", "Enter an email, a phone number"),
    ("   ", "Enter an email, a phone number"),
    ("ada@", "Not a valid email address"),
    ("12-34", "Not an email, phone number"),
    ("+99 123", "Not a valid phone number"),
    ("hello world!", "Not an email, phone number"),
    ("x" * 400, "at most 320 characters"),
    ("99999999999999999999", "Not a valid phone number or customer id"),
])
def test_a_query_that_names_no_identifier_answers_400_naming_q(
    admin_client: Client, db: None, q: str, says: str,
) -> None:
    response = admin_client.get(SHOPPERS, {"q": q})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'data-field="q"' in page and says in page and 'aria-invalid="true"' in page


def test_the_empty_form(admin_client: Client, db: None) -> None:
    response = admin_client.get(SHOPPERS)
    assert response.status_code == 200 and 'name="q"' in response.content.decode()


def test_the_search_reads_the_indexes(store: Store) -> None:
    """Each kind of lookup is an index probe, not a scan of every subscription."""
    store.signup({"email": "ada@example.com"})
    for q in ("ada@example.com", "+14155550123", "777001", "01HXYZABCDEFGHJKMNPQRSTVWX"):
        condition = query_parse(q).condition()
        sql, params = Subscription.objects.filter(condition).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("SET enable_seqscan = on")
        assert "subscription_by_" in plan, (q, plan)
