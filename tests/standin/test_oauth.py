"""Token exchange, the authorization-code grant and expiring-token refresh, as Shopify answers."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import parse_qsl, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.fixtures.shopify_standin import StandinHandle

SHOP_QUERY = "{ shop { name } }"


def query_hmac(pairs: list[tuple[str, str]], secret: str) -> str:
    """Shopify's OAuth query signature, written here independently of the stand-in."""
    message = "&".join(sorted(f"{k}={v}" for k, v in pairs if k != "hmac"))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def test_the_query_signature_helper_matches_shopifys_published_vectors() -> None:
    pairs = [("code", "0907a61c0c8d55e99db179b68161bc00"), ("shop", "some-shop.myshopify.com"),
             ("state", "0.6784241404160823"), ("timestamp", "1337178173")]
    assert query_hmac(pairs, "hush") == (
        "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf")


def test_token_exchange_returns_an_expiring_offline_pair(shopify_standin: StandinHandle,
                                                         shop: str) -> None:
    response = shopify_standin.exchange(shop)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "scope", "expires_in", "refresh_token",
                         "refresh_token_expires_in"}
    assert body["access_token"].startswith("shpat_")
    assert body["refresh_token"].startswith("shprt_")
    assert body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 90 * 86400
    assert "read_products" in body["scope"].split(",")
    answer = shopify_standin.graphql(shop, body["access_token"], SHOP_QUERY)
    assert answer.status_code == 200
    assert answer.json()["data"]["shop"]["name"] == "Test Shop"
    tokens = shopify_standin.admin.tokens(shop)
    assert tokens["token_exchanges"] == 1 and tokens["installed"] is True
    assert "shpat_" not in str(tokens)


def test_token_exchange_without_expiring_gives_a_token_without_expiry(
        shopify_standin: StandinHandle, shop: str) -> None:
    body = shopify_standin.exchange(shop, expiring=False).json()
    assert set(body) == {"access_token", "scope"}


@pytest.mark.parametrize("options", [
    {"secret": "another-secret-that-is-at-least-32-bytes"},
    {"aud": "someone-elses-api-key"},
    {"exp_in": -11},  # expired beyond the 10 s leeway
    {"nbf_in": 11},  # not yet valid beyond the leeway
    {"dest": "https://other-shop.myshopify.com"},
    {"iss": "https://other-shop.myshopify.com/admin"},
], ids=["wrong-secret", "wrong-aud", "expired", "not-yet-valid", "other-shop", "iss-mismatch"])
def test_a_bad_id_token_is_an_invalid_subject_token(shopify_standin: StandinHandle, shop: str,
                                                    options: dict[str, object]) -> None:
    id_token = shopify_standin.admin.mint_id_token(shop, **options)
    response = shopify_standin.exchange(shop, id_token=id_token)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_subject_token"


def test_an_id_token_within_the_leeway_is_accepted(shopify_standin: StandinHandle,
                                                   shop: str) -> None:
    id_token = shopify_standin.admin.mint_id_token(shop, exp_in=-5, nbf_in=5)
    assert shopify_standin.exchange(shop, id_token=id_token).status_code == 200


def test_a_token_not_signed_with_hs256_is_refused(shopify_standin: StandinHandle,
                                                  shop: str) -> None:
    now = int(time.time())
    claims = {"iss": f"https://{shop}/admin", "dest": f"https://{shop}",
              "aud": shopify_standin.api_key, "sub": "1", "exp": now + 60, "nbf": now - 1}
    forged = jwt.encode(claims, shopify_standin.api_secret, algorithm="HS512")
    response = shopify_standin.exchange(shop, id_token=forged)
    assert response.json()["error"] == "invalid_subject_token"


def test_a_wrong_client_secret_is_refused_before_anything_else(
        shopify_standin: StandinHandle, shop: str) -> None:
    response = requests.post(shopify_standin.token_url(shop), data={
        "client_id": shopify_standin.api_key, "client_secret": "wrong",
        "grant_type": "refresh_token", "refresh_token": "shprt_x"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_an_unknown_shop_is_not_found(shopify_standin: StandinHandle) -> None:
    response = shopify_standin.exchange("nobody.myshopify.com")
    assert response.status_code == 404


def _authorize(handle: StandinHandle, shop: str, redirect_uri: str, **extra: str
               ) -> requests.Response:
    query = {"client_id": handle.api_key, "scope": "read_products,read_inventory",
             "redirect_uri": redirect_uri, "state": "nonce-123", **extra}
    return requests.get(f"{handle.url}/{shop}/admin/oauth/authorize?{urlencode(query)}",
                        allow_redirects=False, timeout=10)


def test_authorize_redirects_with_a_shopify_signed_query_and_the_code_works_once(
        shopify_standin: StandinHandle, shop: str) -> None:
    shopify_standin.admin.config(app_url="https://app.example")
    response = _authorize(shopify_standin, shop, "https://app.example/auth/callback")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://app.example/auth/callback")
    pairs = parse_qsl(location.query, keep_blank_values=True)
    params = dict(pairs)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert params["shop"] == shop and params["state"] == "nonce-123"
    assert abs(int(params["timestamp"]) - time.time()) < 60
    assert hmac.compare_digest(params["hmac"], query_hmac(pairs, shopify_standin.api_secret))
    tampered = [(k, v + "x" if k == "shop" else v) for k, v in pairs]
    assert query_hmac(tampered, shopify_standin.api_secret) != params["hmac"]

    body = {"client_id": shopify_standin.api_key, "client_secret": shopify_standin.api_secret,
            "code": params["code"], "expiring": "1"}
    first = requests.post(shopify_standin.token_url(shop), data=body, timeout=10)
    assert first.status_code == 200
    assert first.json()["scope"] == "read_products,read_inventory"
    assert first.json()["refresh_token"].startswith("shprt_")
    again = requests.post(shopify_standin.token_url(shop), data=body, timeout=10)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


def test_authorize_refuses_a_redirect_outside_the_app(shopify_standin: StandinHandle,
                                                      shop: str) -> None:
    shopify_standin.admin.config(app_url="https://app.example")
    response = _authorize(shopify_standin, shop, "https://app.example.attacker.io/cb")
    assert response.status_code == 400


def _refresh(handle: StandinHandle, shop: str, refresh_token: str) -> requests.Response:
    return requests.post(handle.token_url(shop), json={
        "client_id": handle.api_key, "client_secret": handle.api_secret,
        "grant_type": "refresh_token", "refresh_token": refresh_token}, timeout=10)


def test_refresh_rotates_and_the_old_token_is_retryable_until_the_new_one_is_used(
        shopify_standin: StandinHandle, shop: str) -> None:
    first = shopify_standin.exchange(shop).json()
    second = _refresh(shopify_standin, shop, first["refresh_token"])
    assert second.status_code == 200
    second_pair = second.json()
    assert second_pair["refresh_token"] != first["refresh_token"]
    assert second_pair["access_token"] != first["access_token"]
    # the response was "lost": the same refresh again works, and retires the unused second
    retry = _refresh(shopify_standin, shop, first["refresh_token"]).json()
    assert _refresh(shopify_standin, shop, second_pair["refresh_token"]).status_code == 400
    # the retry's pair is used: now the first refresh token is dead
    third = _refresh(shopify_standin, shop, retry["refresh_token"])
    assert third.status_code == 200
    reused = _refresh(shopify_standin, shop, first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert shopify_standin.graphql(shop, third.json()["access_token"],
                                   SHOP_QUERY).status_code == 200


def test_an_expired_refresh_token_is_an_invalid_grant(shopify_standin: StandinHandle,
                                                      shop: str) -> None:
    pair = shopify_standin.exchange(shop).json()
    assert shopify_standin.admin.expire_tokens(shop, access=True, refresh=True) == 2
    assert shopify_standin.graphql(shop, pair["access_token"], SHOP_QUERY).status_code == 401
    response = _refresh(shopify_standin, shop, pair["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_short_lifetimes_from_the_config_expire_tokens(shopify_standin: StandinHandle,
                                                       shop: str) -> None:
    shopify_standin.admin.config(access_ttl=0)
    pair = shopify_standin.exchange(shop).json()
    assert pair["expires_in"] == 0
    response = shopify_standin.graphql(shop, pair["access_token"], SHOP_QUERY)
    assert response.status_code == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token "
                                         "(unrecognized login or wrong password)"}


def test_a_new_grant_retires_the_previous_refresh_token(shopify_standin: StandinHandle,
                                                        shop: str) -> None:
    old = shopify_standin.exchange(shop).json()
    shopify_standin.exchange(shop)
    assert _refresh(shopify_standin, shop, old["refresh_token"]).status_code == 400


def test_uninstall_revokes_the_tokens(shopify_standin: StandinHandle, shop: str) -> None:
    pair = shopify_standin.exchange(shop).json()
    shopify_standin.admin.uninstall(shop, notify=False)
    assert shopify_standin.graphql(shop, pair["access_token"], SHOP_QUERY).status_code == 401
    assert _refresh(shopify_standin, shop, pair["refresh_token"]).status_code == 400
    assert shopify_standin.admin.tokens(shop)["installed"] is False


def test_a_token_of_one_shop_does_not_open_another(shopify_standin: StandinHandle,
                                                   shop: str) -> None:
    other = shopify_standin.new_shop("other-shop.myshopify.com")
    token = shopify_standin.access_token(shop)
    assert shopify_standin.graphql(other, token, SHOP_QUERY).status_code == 401


def test_the_down_switch_makes_oauth_and_the_api_unavailable(shopify_standin: StandinHandle,
                                                             shop: str) -> None:
    token = shopify_standin.access_token(shop)
    shopify_standin.admin.set_switches(down=True)
    assert shopify_standin.exchange(shop).status_code == 503
    assert shopify_standin.graphql(shop, token, SHOP_QUERY).status_code == 503
    shopify_standin.admin.set_switches(down=False)
    assert shopify_standin.graphql(shop, token, SHOP_QUERY).status_code == 200
