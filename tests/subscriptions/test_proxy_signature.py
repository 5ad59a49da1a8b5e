"""App proxy verification: Shopify's published vectors and every way a request can be forged."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory, override_settings

from notifyme.shops.models import Shop
from notifyme.shops.proxy import (
    ALLOWED_PARAMS,
    TRACKING_PARAMS,
    AppProxyError,
    AppProxyRequest,
    UnreadableProxyQuery,
    app_proxy_required,
    app_proxy_verify,
    proxy_params,
    proxy_signature_valid,
)
from notifyme.shops.services import shop_uninstall
from notifyme.shops.signing import app_proxy_message, app_proxy_signature
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_create
from tests.fixtures.shopify import make_shop, make_variant, signed_proxy_query
from tests.subscriptions.helpers import SUBSCRIBE, UNSUBSCRIBE, subscribe

VECTOR_QUERY = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&path_prefix=%2Fapps%2Fawesome_reviews"
    "&timestamp=1317327555"
)
LOGGED_IN_SIG = "4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
ANONYMOUS_SIG = "e072b6d7e6622d85912a5214b860d3100dc1e73d9bc29f43796ac8c9ff8093cb"
LEGACY_SIG = "a9718877bea71c2484f91608a7eaea1532bdf71f5c56825065fa4ccabe549ef3"
BODY = {"variant_id": 4001, "email": "ada@example.com"}


@pytest.mark.parametrize(
    ("customer", "signature"),
    [("&logged_in_customer_id=1", LOGGED_IN_SIG),
     ("&logged_in_customer_id=", ANONYMOUS_SIG),
     ("", LEGACY_SIG)],
    ids=["logged-in", "anonymous", "legacy"],
)
def test_shopify_published_vectors(customer: str, signature: str) -> None:
    params = proxy_params(f"{VECTOR_QUERY}{customer}&signature={signature}")
    assert app_proxy_signature(params, "hush") == signature
    assert proxy_signature_valid(params, secrets=["hush"])
    assert not proxy_signature_valid(params, secrets=["not-hush"])


def test_vector_message_is_sorted_unseparated_with_repeats_joined_by_commas() -> None:
    params = proxy_params(f"{VECTOR_QUERY}&logged_in_customer_id=1&signature={LOGGED_IN_SIG}")
    assert app_proxy_message(params) == (
        "extra=1,2logged_in_customer_id=1path_prefix=/apps/awesome_reviews"
        "shop=shop-name.myshopify.comtimestamp=1317327555"
    )


@pytest.mark.django_db
def test_vector_request_is_refused_for_its_extra_parameters(client: Client) -> None:
    """Shopify's vector carries a shopper parameter (`extra`) the app never sends: refused,
    naming it, before the signature is looked at."""
    make_shop("shop-name.myshopify.com")
    url = f"{SUBSCRIBE}?{VECTOR_QUERY}&logged_in_customer_id=&signature={ANONYMOUS_SIG}"
    with override_settings(SHOPIFY_API_SECRET="hush"):
        response = client.post(url, BODY, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unexpected_parameter"
    assert "extra" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_vector_shaped_request_verifies_through_the_endpoint_until_it_is_stale(
    client: Client,
) -> None:
    """The vector's own parameters, signed with `hush`, get past the signature (then: too old)."""
    make_shop("shop-name.myshopify.com")
    params = proxy_params(VECTOR_QUERY.replace("extra=1&extra=2&", "") + "&logged_in_customer_id=")
    query = urlencode([(k, v[0]) for k, v in params.items()]
                      + [("signature", app_proxy_signature(params, "hush"))])
    with override_settings(SHOPIFY_API_SECRET="hush"):
        response = client.post(f"{SUBSCRIBE}?{query}", BODY, content_type="application/json")
    assert response.status_code == 401
    assert "too old" in response.json()["error"]["message"]


@pytest.mark.django_db
def test_missing_signature_is_401(client: Client, shop: Shop) -> None:
    query = urlencode({"shop": shop.domain, "timestamp": int(time.time())})
    response = subscribe(client, BODY, query=query)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"


@pytest.mark.django_db
def test_forged_signature_is_401_and_writes_nothing(client: Client, shop: Shop,
                                                    sold_out_variant: object) -> None:
    response = subscribe(client, BODY, query=signed_proxy_query(shop.domain, secret="x" * 40))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_tampered_query_is_401(client: Client, shop: Shop, sold_out_variant: object) -> None:
    query = signed_proxy_query(shop.domain).replace("path_prefix=%2Fapps", "path_prefix=%2Fa")
    assert subscribe(client, BODY, query=query).status_code == 401


@pytest.mark.django_db
def test_non_ascii_signature_is_401_not_500(client: Client, shop: Shop) -> None:
    query = signed_proxy_query(shop.domain).rsplit("signature=", 1)[0] + "signature=%C3%A9"
    assert subscribe(client, BODY, query=query).status_code == 401


@pytest.mark.django_db
def test_old_secret_is_accepted_during_rotation(client: Client, shop: Shop,
                                                sold_out_variant: object) -> None:
    old = "previous-shopify-secret-at-least-32-bytes"
    with override_settings(SHOPIFY_API_SECRET_OLD=old):
        response = subscribe(client, BODY, query=signed_proxy_query(shop.domain, secret=old))
    assert response.status_code == 201
    response = subscribe(client, {**BODY, "email": "b@example.com"},
                         query=signed_proxy_query(shop.domain, secret=old))
    assert response.status_code == 401  # without the rotation setting the old secret is dead


@pytest.mark.django_db
@pytest.mark.parametrize("age", [91, 3600, -91], ids=["stale", "replayed-hour-old", "future"])
def test_stale_or_future_timestamp_is_refused(client: Client, shop: Shop,
                                              sold_out_variant: object, age: int) -> None:
    query = signed_proxy_query(shop.domain, timestamp=int(time.time()) - age)
    response = subscribe(client, BODY, query=query)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_timestamp_within_the_window_is_accepted(client: Client, shop: Shop,
                                                 sold_out_variant: object) -> None:
    query = signed_proxy_query(shop.domain, timestamp=int(time.time()) - 60)
    assert subscribe(client, BODY, query=query).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["shop", "timestamp", "signature"])
def test_duplicated_signed_params_are_refused(client: Client, shop: Shop,
                                              sold_out_variant: object, param: str) -> None:
    other_shop = make_shop("evil-shop.myshopify.com")
    values = {"shop": other_shop.domain, "timestamp": str(int(time.time())), "signature": "0" * 64}
    query = f"{signed_proxy_query(shop.domain)}&{urlencode({param: values[param]})}"
    response = subscribe(client, BODY, query=query)
    assert response.status_code == 401
    assert param in response.json()["error"]["message"]


@pytest.mark.django_db
def test_duplicated_shop_is_refused_even_when_signed(client: Client, shop: Shop) -> None:
    """A signature over `shop=a,b` must not let either shop through."""
    params = {"shop": [shop.domain, "other-shop.myshopify.com"],
              "timestamp": [str(int(time.time()))], "logged_in_customer_id": [""]}
    signature = app_proxy_signature(params, "dev-shopify-api-secret-at-least-32-bytes-long")
    flat = [(k, v) for k, vs in params.items() for v in vs] + [("signature", signature)]
    with override_settings(SHOPIFY_API_SECRET="dev-shopify-api-secret-at-least-32-bytes-long"):
        response = subscribe(client, BODY, query=urlencode(flat))
    assert response.status_code == 401


def _signed(params: dict[str, list[str]]) -> str:
    signature = app_proxy_signature(params, settings.SHOPIFY_API_SECRET)
    flat = [(k, v) for k, vs in params.items() for v in vs] + [("signature", signature)]
    return urlencode(flat)


@pytest.mark.django_db
@pytest.mark.parametrize("timestamp", ["9" * 5000, "-5", "12.5", "", "١٢٣"])
def test_signed_junk_timestamp_is_401_not_500(client: Client, shop: Shop,
                                              timestamp: str) -> None:
    query = _signed({"shop": [shop.domain], "timestamp": [timestamp],
                     "logged_in_customer_id": [""]})
    response = subscribe(client, BODY, query=query)
    assert response.status_code == 401


@pytest.mark.django_db
def test_signed_missing_timestamp_is_401(client: Client, shop: Shop) -> None:
    response = subscribe(client, BODY, query=_signed({"shop": [shop.domain]}))
    assert response.status_code == 401


@pytest.mark.django_db
def test_junk_customer_id_is_treated_as_logged_out(client: Client, shop: Shop,
                                                   sold_out_variant: object) -> None:
    query = signed_proxy_query(shop.domain, customer_id="9" * 5000)
    assert subscribe(client, BODY, query=query).status_code == 201
    assert Subscription.objects.get().shopify_customer_id is None


@pytest.mark.django_db
def test_decorator_sets_request_app_proxy(rf: RequestFactory, shop: Shop) -> None:
    seen: list[AppProxyRequest] = []

    @app_proxy_required
    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request.app_proxy)  # type: ignore[attr-defined]
        return HttpResponse("ok")

    query = signed_proxy_query(shop.domain, customer_id="42")
    assert view(rf.get(f"/proxy/x?{query}")).status_code == 200
    assert seen[0].shop == shop and seen[0].logged_in_customer_id == 42
    assert seen[0].path_prefix == "/apps/notifyme"
    refused = view(rf.get(f"/proxy/x?{query.replace('signature=', 'signature=0')}"))
    assert refused.status_code == 401 and len(seen) == 1


@pytest.mark.django_db
def test_unknown_shop_is_404_naming_shop(client: Client) -> None:
    response = subscribe(client, BODY, shop_domain="nobody-here.myshopify.com")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_shop"
    assert "shop" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_uninstalled_shop_is_404(client: Client, shop: Shop, sold_out_variant: object) -> None:
    shop_uninstall(shop=shop)
    response = subscribe(client, BODY)
    assert response.status_code == 404
    assert "shop" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_signed_but_invalid_shop_domain_is_rejected(client: Client) -> None:
    response = subscribe(client, BODY, shop_domain="evil.myshopify.com.attacker.io")
    assert response.status_code == 400
    assert "shop" in response.json()["error"]["fields"]


@pytest.mark.django_db
def test_shop_comes_from_the_signed_query_not_the_body(
    client: Client, shop: Shop, other_shop: Shop, sold_out_variant: object
) -> None:
    response = subscribe(client, {**BODY, "shop": other_shop.domain})
    assert response.status_code == 201
    subscription = Subscription.objects.get()
    assert subscription.shop == shop
    assert not other_shop.subscriptions.exists()


def _resplit(signed: dict[str, list[str]], forged: dict[str, list[str]]) -> str:
    """`forged` with the signature Shopify gave `signed`: the same signed text, split anew."""
    assert app_proxy_message(signed) == app_proxy_message(forged)
    signature = app_proxy_signature(signed, settings.SHOPIFY_API_SECRET)
    return urlencode([(k, v) for k, vs in forged.items() for v in vs] + [("signature", signature)])


@pytest.mark.django_db
def test_a_resplit_query_cannot_set_logged_in_customer_id(client: Client, shop: Shop,
                                                          sold_out_variant: object) -> None:
    """A shopper's own parameter `a` swallowed the signed text that now reads as customer 42."""
    now, prefix = str(int(time.time())), "/apps/notifyme"
    signed = {"a": [f"1logged_in_customer_id=42path_prefix={prefix}"],
              "logged_in_customer_id": [""], "path_prefix": [prefix],
              "shop": [shop.domain], "timestamp": [now]}
    forged = {"a": ["1"], "logged_in_customer_id": ["42"],
              "path_prefix": [f"{prefix}logged_in_customer_id=path_prefix={prefix}"],
              "shop": [shop.domain], "timestamp": [now]}
    response = subscribe(client, BODY, query=_resplit(signed, forged))
    assert response.status_code == 400
    assert "a" in response.json()["error"]["fields"]
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_a_resplit_query_cannot_move_a_signup_to_another_shop(
    client: Client, shop: Shop, other_shop: Shop
) -> None:
    """Only allowed parameters: the cancel link's `token`, signed for `shop`, re-read so that
    `path_prefix` swallows the real shop and the token's tail names the other one."""
    make_variant(other_shop, shopify_id=4001)
    now, prefix = str(int(time.time())), "/apps/notifyme"
    signed = {"logged_in_customer_id": [""], "path_prefix": [prefix], "shop": [shop.domain],
              "timestamp": [now], "token": [f"xshop={other_shop.domain}timestamp={now}"]}
    forged = {"logged_in_customer_id": [""],
              "path_prefix": [f"{prefix}shop={shop.domain}timestamp={now}token=x"],
              "shop": [other_shop.domain], "timestamp": [now]}
    response = subscribe(client, BODY, query=_resplit(signed, forged))
    assert response.status_code == 400
    assert "path_prefix" in response.json()["error"]["fields"]
    assert not Subscription.objects.exists()
    # The text as Shopify signed it is refused too: its token may not hold an `=`.
    response = subscribe(client, BODY, query=_resplit(signed, signed))
    assert response.status_code == 400
    assert "token" in response.json()["error"]["fields"]


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["hmac", "utm_source", "x" * 500, "shop[]"],
                         ids=["hmac", "utm", "long", "brackets"])
def test_parameters_nobody_sends_are_refused_by_name(client: Client, shop: Shop,
                                                     sold_out_variant: object,
                                                     param: str) -> None:
    query = signed_proxy_query(shop.domain, extra={param: "1"})
    response = subscribe(client, BODY, query=query)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unexpected_parameter"
    assert param[:40] in error["fields"] and param[:40] in error["message"]
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_the_cancel_links_token_is_accepted(client: Client, shop: Shop,
                                            sold_out_variant: object) -> None:
    query = signed_proxy_query(shop.domain, extra={"token": "abc_DEF-123"})
    assert subscribe(client, BODY, query=query).status_code == 201


@pytest.mark.django_db
@pytest.mark.parametrize("param", ["path_prefix", "logged_in_customer_id", "token"])
def test_every_parameter_at_most_once(client: Client, shop: Shop, sold_out_variant: object,
                                      param: str) -> None:
    params = proxy_params(signed_proxy_query(shop.domain, extra={"token": "t"}))
    params[param] = [params[param][0], "2"]
    response = subscribe(client, BODY, query=urlencode(
        [(k, v) for k, vs in params.items() for v in vs]))
    assert response.status_code == 401
    assert param in response.json()["error"]["message"]


def test_no_accepted_name_ends_with_another() -> None:
    """The one-reading argument (notifyme/shops/proxy.py) needs it, tracking names included."""
    names = ALLOWED_PARAMS | TRACKING_PARAMS
    assert [(a, b) for a in names for b in names if a != b and a.endswith(b)] == []


def _readings(text: str, names: frozenset[str]) -> list[dict[str, list[str]]]:
    """Every way to cut `text` into `key=value` pairs that passes the rules (keys from `names`,
    each once, no `=` in a value) and signs as `text`: a brute-force search, no argument used."""
    found: list[dict[str, list[str]]] = []

    def walk(at: int, pairs: dict[str, list[str]]) -> None:
        if at == len(text):
            if pairs and app_proxy_message(pairs) == text:
                found.append(dict(pairs))
            return
        for key in names - pairs.keys():
            start = at + len(key) + 1
            if not text.startswith(f"{key}=", at):
                continue
            end = text.find("=", start)
            for stop in range(start, len(text) + 1 if end < 0 else end + 1):
                walk(stop, {**pairs, key: [text[start:stop]]})

    walk(0, {})
    return found


@pytest.mark.parametrize("kx", ["", "1", "padded=="], ids=["no-kx", "kx", "kx-padded"])
def test_a_signed_text_with_tracking_has_at_most_one_reading(kx: str) -> None:
    now, prefix = str(int(time.time())), "/apps/notifyme"
    signed = {"logged_in_customer_id": [""], "path_prefix": [prefix],
              "shop": ["demo-shop.myshopify.com"], "timestamp": [now], "token": ["abc"],
              "utm_campaign": ["xshop=evil-shop.myshopify.comtimestamp=1token=x"],
              "utm_source": ["klaviyo"]}
    if kx:
        signed["_kx"] = [kx]
    text = app_proxy_message(signed)
    # The `=`s in the values leave no reading with each key once; without them, one: Shopify's.
    assert _readings(text, ALLOWED_PARAMS | TRACKING_PARAMS) == []
    clean = {**signed, "utm_campaign": ["x"], **({"_kx": ["1"]} if kx else {})}
    assert _readings(app_proxy_message(clean), ALLOWED_PARAMS | TRACKING_PARAMS) == [
        dict(sorted(clean.items()))
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("param", sorted(TRACKING_PARAMS))
@pytest.mark.parametrize("value", ["1", "padded=="], ids=["plain", "with-equals"])
def test_tracking_parameters_are_refused_on_subscribe(client: Client, shop: Shop,
                                                      sold_out_variant: object, param: str,
                                                      value: str) -> None:
    response = subscribe(client, BODY, query=signed_proxy_query(shop.domain, extra={param: value}))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unexpected_parameter"
    assert param in response.json()["error"]["fields"]
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_a_resplit_through_tracking_parameters_cannot_change_the_shop(
    client: Client, rf: RequestFactory, shop: Shop, other_shop: Shop, sold_out_variant: object
) -> None:
    """Shopify signed a cancel link for `shop` whose `utm_campaign` swallows the text of another
    shop's query; re-split, that text would read `shop=other_shop` with the other token."""
    ours, _ = subscription_create(shop=shop, variant=sold_out_variant, email="ada@example.com")
    theirs, _ = subscription_create(shop=other_shop, email="bob@example.com",
                                    variant=make_variant(other_shop, shopify_id=4001))
    now, prefix = str(int(time.time())), "/apps/notifyme"
    mine, other = ours.unsubscribe_token, theirs.unsubscribe_token
    signed = {"logged_in_customer_id": [""], "path_prefix": [prefix], "shop": [shop.domain],
              "timestamp": [now], "token": [mine],
              "utm_campaign": [f"xshop={other_shop.domain}timestamp={now}token={other}"]}
    forged = {"logged_in_customer_id": [""],
              "path_prefix": [f"{prefix}shop={shop.domain}timestamp={now}token={mine}"
                              "utm_campaign=x"],
              "shop": [other_shop.domain], "timestamp": [now], "token": [other]}
    forged_query, signed_query = _resplit(signed, forged), _resplit(signed, signed)

    with pytest.raises(AppProxyError) as refused:
        app_proxy_verify(rf.get(f"{UNSUBSCRIBE}?{forged_query}"), allow_tracking=True)
    assert refused.value.status == 400 and "path_prefix" in refused.value.fields
    with pytest.raises(UnreadableProxyQuery):  # no shop is read from it at all
        app_proxy_verify(rf.get(f"{UNSUBSCRIBE}?{signed_query}"), allow_tracking=True)

    response = client.post(f"{UNSUBSCRIBE}?{forged_query}", {"token": other})
    assert response.status_code == 400
    # As Shopify signed it, the query is read like the direct link: its own token, its shop.
    response = client.post(f"{UNSUBSCRIBE}?{signed_query}", {"token": mine})
    assert response.status_code == 200
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == Subscription.Status.UNSUBSCRIBED
    assert theirs.status == Subscription.Status.ACTIVE
