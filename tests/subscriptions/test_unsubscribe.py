"""/proxy/unsubscribe: a confirmation page (GET) and the action (POST), direct or via the proxy."""

from __future__ import annotations

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.shops.models import Shop
from notifyme.subscriptions.links import unsubscribe_url
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from notifyme.sync.models import OutboxItem
from tests.fixtures.shopify import make_variant, signed_proxy_query
from tests.subscriptions.helpers import UNSUBSCRIBE

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(shop: Shop, sold_out_variant: Variant) -> Subscription:
    created, _ = subscription_create(shop=shop, variant=sold_out_variant,
                                     email="ada.lovelace@example.com")
    return created


def _outbox_kinds(subscription: Subscription) -> list[str]:
    return list(subscription.outbox_items.order_by("id").values_list("kind", flat=True))


def test_direct_link_shows_a_confirmation_form(client: Client,
                                               subscription: Subscription) -> None:
    response = client.get(UNSUBSCRIBE, {"token": subscription.unsubscribe_token})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Stop back-in-stock alerts?" in html
    assert "Linen Shirt — Large" in html and "Demo Shop" in html
    assert "a•••@example.com" in html and "ada.lovelace" not in html
    assert f'value="{subscription.unsubscribe_token}"' in html
    assert 'action="unsubscribe"' in html  # relative: works under /proxy/ and /apps/<subpath>/
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE  # GET never changes anything


def test_post_unsubscribes_once_and_writes_an_outbox_row(client: Client,
                                                         subscription: Subscription) -> None:
    response = client.post(UNSUBSCRIBE, {"token": subscription.unsubscribe_token})
    assert response.status_code == 200
    assert "You're unsubscribed" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED
    assert subscription.unsubscribed_at is not None
    assert _outbox_kinds(subscription) == [OutboxItem.Kind.PROFILE_SYNC,
                                           OutboxItem.Kind.UNSUBSCRIBE]

    again = client.post(UNSUBSCRIBE, {"token": subscription.unsubscribe_token})
    assert again.status_code == 200
    assert "already unsubscribed" in again.content.decode()
    assert len(_outbox_kinds(subscription)) == 2
    page = client.get(UNSUBSCRIBE, {"token": subscription.unsubscribe_token})
    assert "already unsubscribed" in page.content.decode()


def test_post_urlencoded_without_csrf_token(subscription: Subscription) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(UNSUBSCRIBE, f"token={subscription.unsubscribe_token}",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


def test_post_json_answers_json(client: Client, subscription: Subscription) -> None:
    body = {"token": subscription.unsubscribe_token}
    response = client.post(UNSUBSCRIBE, body, content_type="application/json")
    assert response.json() == {"status": "unsubscribed"}
    response = client.post(UNSUBSCRIBE, body, content_type="application/json")
    assert response.json() == {"status": "already_unsubscribed"}
    response = client.post(UNSUBSCRIBE, {"token": "nope"}, content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "invalid_token"
    assert "token" in response.json()["error"]["fields"]


@pytest.mark.parametrize("token", ["", "nope", "x" * 500, "abc\x00def", "a b", "é"])
def test_unknown_or_junk_token_is_a_404_page(client: Client, subscription: Subscription,
                                     token: str) -> None:
    response = client.get(UNSUBSCRIBE, {"token": token})
    assert response.status_code == 404
    assert "link is invalid" in response.content.decode()
    response = client.post(UNSUBSCRIBE, {"token": token})
    assert response.status_code == 404
    assert "link is invalid" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE


def test_missing_token_is_a_404_page(client: Client) -> None:
    assert client.get(UNSUBSCRIBE).status_code == 404
    assert client.post(UNSUBSCRIBE, {}).status_code == 404


def test_through_the_proxy_for_its_own_shop(client: Client, shop: Shop,
                                            subscription: Subscription) -> None:
    query = signed_proxy_query(shop.domain, extra={"token": subscription.unsubscribe_token})
    assert client.get(f"{UNSUBSCRIBE}?{query}").status_code == 200
    response = client.post(f"{UNSUBSCRIBE}?{signed_proxy_query(shop.domain)}",
                           {"token": subscription.unsubscribe_token})
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


def test_through_another_shops_proxy_the_token_is_unknown(
    client: Client, other_shop: Shop, subscription: Subscription
) -> None:
    make_variant(other_shop, shopify_id=4001)
    query = signed_proxy_query(other_shop.domain,
                               extra={"token": subscription.unsubscribe_token})
    response = client.get(f"{UNSUBSCRIBE}?{query}")
    assert response.status_code == 404
    assert "Linen" not in response.content.decode()
    response = client.post(f"{UNSUBSCRIBE}?{signed_proxy_query(other_shop.domain)}",
                           {"token": subscription.unsubscribe_token})
    assert response.status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE


def test_a_bad_proxy_signature_is_refused(client: Client, shop: Shop,
                                          subscription: Subscription) -> None:
    query = signed_proxy_query(shop.domain, secret="wrong-secret-wrong-secret-wrong-secret",
                               extra={"token": subscription.unsubscribe_token})
    response = client.get(f"{UNSUBSCRIBE}?{query}")
    assert response.status_code == 401
    response = client.post(f"{UNSUBSCRIBE}?{query}", {"token": subscription.unsubscribe_token})
    assert response.status_code == 401
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE


def test_other_methods_are_405(client: Client) -> None:
    response = client.put(UNSUBSCRIBE)
    assert response.status_code == 405
    assert "POST" in response["Allow"]


def test_oversized_unsubscribe_post_is_413(client: Client, settings: object) -> None:
    response = client.post(UNSUBSCRIBE, {"token": "x" * 20000})
    assert response.status_code == 413


def test_unsubscribe_url_leads_to_the_confirmation_page(client: Client,
                                                        subscription: Subscription) -> None:
    url = unsubscribe_url(subscription=subscription, base_url="https://app.example.com/")
    assert url == f"https://app.example.com/proxy/unsubscribe?token={subscription.unsubscribe_token}"
    response = client.get(url.removeprefix("https://app.example.com"))
    assert response.status_code == 200
    assert "Stop back-in-stock alerts?" in response.content.decode()


def test_cancelling_leaves_marketing_and_offers_a_separate_marketing_unsubscribe(
    client: Client, shop: Shop, subscription: Subscription
) -> None:
    page = client.get(UNSUBSCRIBE, {"token": subscription.unsubscribe_token}).content.decode()
    assert 'name="marketing" value="1"' in page  # a second, explicit button
    done = client.post(UNSUBSCRIBE, {"token": subscription.unsubscribe_token})
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed" and subscription.marketing_withdrawn_at is None
    assert 'name="marketing" value="1"' in done.content.decode()  # still offered afterwards


def test_marketing_unsubscribe_covers_the_shoppers_other_alerts(
    client: Client, shop: Shop, subscription: Subscription
) -> None:
    other, _ = subscription_create(shop=shop, variant=make_variant(shop, shopify_id=4002),
                                   email="ada.lovelace@example.com")
    response = client.post(UNSUBSCRIBE, {"token": subscription.unsubscribe_token,
                                         "marketing": "1"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "You're unsubscribed" in html and "marketing emails and texts" in html
    subscription.refresh_from_db()
    other.refresh_from_db()
    assert subscription.status == "unsubscribed" and subscription.marketing_withdrawn_at
    assert other.status == "active" and other.marketing_withdrawn_at  # the alert stays
    assert _outbox_kinds(subscription) == [OutboxItem.Kind.PROFILE_SYNC,
                                           OutboxItem.Kind.UNSUBSCRIBE]


def test_json_marketing_unsubscribe_after_cancelling(client: Client,
                                                     subscription: Subscription) -> None:
    token = subscription.unsubscribe_token
    first = client.post(UNSUBSCRIBE, {"token": token}, content_type="application/json")
    assert first.json() == {"status": "unsubscribed"}
    later = client.post(UNSUBSCRIBE, {"token": token, "marketing": True},
                        content_type="application/json")
    assert later.json() == {"status": "already_unsubscribed", "marketing": "unsubscribed"}
    assert _outbox_kinds(subscription).count(OutboxItem.Kind.UNSUBSCRIBE) == 2


# What Klaviyo's click tracking and a merchant's UTM settings append to the cancel link.
TRACKING = {"utm_source": "klaviyo", "utm_medium": "email",
            "utm_campaign": "Back in stock (01JABCDEF)", "utm_content": "cancel link",
            "utm_term": "linen", "utm_id": "01JABCDEF", "_kx": "nB3zV_8lQw.XyZ123"}
PADDED_KX = "eyJrIjoiYSJ9==.XyZ123"  # base64 padding: `=` once decoded


def _tracked_cancel_query(shop: Shop, subscription: Subscription, **overrides: str) -> str:
    return signed_proxy_query(shop.domain, extra={"token": subscription.unsubscribe_token,
                                                  **TRACKING, **overrides})


@pytest.mark.parametrize("kx", [TRACKING["_kx"], PADDED_KX], ids=["kx", "kx-with-padding"])
def test_a_tracked_cancel_link_through_the_proxy_cancels_the_alert(
    client: Client, shop: Shop, subscription: Subscription, kx: str
) -> None:
    page = client.get(f"{UNSUBSCRIBE}?{_tracked_cancel_query(shop, subscription, _kx=kx)}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Stop back-in-stock alerts?" in html and "Linen Shirt — Large" in html
    assert f'value="{subscription.unsubscribe_token}"' in html
    # The form posts to the relative `unsubscribe`: the proxy signs a query of its own.
    response = client.post(f"{UNSUBSCRIBE}?{signed_proxy_query(shop.domain)}",
                           {"token": subscription.unsubscribe_token})
    assert response.status_code == 200
    assert "You're unsubscribed" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


@pytest.mark.parametrize("kx", [TRACKING["_kx"], PADDED_KX], ids=["kx", "kx-with-padding"])
def test_a_post_to_the_tracked_url_itself_cancels_too(
    client: Client, shop: Shop, subscription: Subscription, kx: str
) -> None:
    url = f"{UNSUBSCRIBE}?{_tracked_cancel_query(shop, subscription, _kx=kx)}"
    response = client.post(url, {"token": subscription.unsubscribe_token},
                           content_type="application/json")
    assert response.json() == {"status": "unsubscribed"}


def test_tracking_parameters_never_widen_the_signed_shop(
    client: Client, other_shop: Shop, subscription: Subscription
) -> None:
    """Through another shop's proxy, with tracking the signature reads cleanly: still unknown."""
    make_variant(other_shop, shopify_id=4001)
    response = client.get(f"{UNSUBSCRIBE}?{_tracked_cancel_query(other_shop, subscription)}")
    assert response.status_code == 404
    assert "Linen" not in response.content.decode()


@pytest.mark.parametrize(("param", "value"), [("_kx", PADDED_KX), ("utm_campaign", "a=b")])
def test_an_ambiguous_tracking_value_reads_the_link_like_the_direct_one(
    client: Client, shop: Shop, subscription: Subscription, param: str, value: str
) -> None:
    """A tracking value with `=` leaves the signed text with several readings: nothing in the
    query is trusted, not even a bad signature is looked at, and the token alone decides."""
    query = signed_proxy_query(shop.domain, secret="wrong-secret-wrong-secret-wrong-secret",
                               extra={"token": subscription.unsubscribe_token, param: value})
    assert client.get(f"{UNSUBSCRIBE}?{query}").status_code == 200
    response = client.post(f"{UNSUBSCRIBE}?{query}", {"token": subscription.unsubscribe_token})
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


def test_a_padded_kx_left_unencoded_in_the_url_works_too(
    client: Client, shop: Shop, subscription: Subscription
) -> None:
    query = _tracked_cancel_query(shop, subscription, _kx=PADDED_KX)
    assert "%3D%3D" in query
    response = client.get(f"{UNSUBSCRIBE}?{query.replace('%3D', '=')}")
    assert response.status_code == 200
    assert "Stop back-in-stock alerts?" in response.content.decode()


def test_a_repeated_tracking_parameter_reads_the_link_like_the_direct_one(
    client: Client, shop: Shop, subscription: Subscription
) -> None:
    query = f"{_tracked_cancel_query(shop, subscription)}&utm_source=newsletter"
    assert client.get(f"{UNSUBSCRIBE}?{query}").status_code == 200


@pytest.mark.parametrize("param", ["fbclid", "utm_sourc", "xutm_id", "_ky", "hmac"])
def test_other_parameters_on_the_cancel_path_are_still_refused_by_name(
    client: Client, shop: Shop, subscription: Subscription, param: str
) -> None:
    query = _tracked_cancel_query(shop, subscription, **{param: "1"})
    page = client.get(f"{UNSUBSCRIBE}?{query}")
    assert page.status_code == 400
    assert param in page.content.decode() and "Linen" not in page.content.decode()
    response = client.post(f"{UNSUBSCRIBE}?{query}", {"token": subscription.unsubscribe_token},
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unexpected_parameter"
    assert param in response.json()["error"]["fields"]
    # Even when a tracking value is ambiguous too: the unknown name is named first.
    query = _tracked_cancel_query(shop, subscription, _kx=PADDED_KX, **{param: "1"})
    assert client.get(f"{UNSUBSCRIBE}?{query}").status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE
