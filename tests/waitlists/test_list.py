"""The subscriber list as the page reads it: search, filters, keyset pages, bad input, and
one shop's token never reaching another shop's rows."""

from __future__ import annotations

from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_unsubscribe
from tests.factories import subscription_make, subscriptions_bulk_make, variant_make
from tests.fixtures.shopify import id_token
from tests.waitlists.conftest import Merchant


def test_lists_newest_first_with_status_and_sync_state(merchant: Merchant, shirt: Variant,
                                                       boots: Variant) -> None:
    first = subscription_make(merchant.shop, shirt, email="Ada@Example.com", phone="+14155550100")
    second = subscription_make(merchant.shop, boots, email="bob@example.com")
    Subscription.objects.filter(pk=second.pk).update(sync_state="failed",
                                                     sync_error="Klaviyo refused the phone.")
    response = merchant.list()
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2 and body["next_cursor"] is None
    newest, oldest = body["subscribers"]
    assert newest["id"] == second.pk and oldest["id"] == first.pk
    assert newest["product"] == "Trail Boots" and newest["variant_id"] == 4002
    assert newest["sync_state"] == "failed" and newest["sync_label"] == "Failed (see last error)"
    assert newest["sync_error"] == "Klaviyo refused the phone."
    assert oldest["email"] == "Ada@Example.com" and oldest["phone"] == "+14155550100"
    assert oldest["status"] == "active" and oldest["status_label"] == "Waiting for restock"
    assert oldest["removable"] is True


def test_search_by_email_phone_product_and_sku(merchant: Merchant, shirt: Variant,
                                               boots: Variant) -> None:
    ada = subscription_make(merchant.shop, shirt, email="ada@example.com", phone="+14155550100")
    bob = subscription_make(merchant.shop, boots, email="bob@example.org")

    def found(q: str) -> set[int]:
        return {s["id"] for s in merchant.list(q=q).json()["subscribers"]}

    assert found("ADA@") == {ada.pk}
    assert found("example.org") == {bob.pk}
    assert found("(415) 555-0100") == {ada.pk}
    assert found("0415 555 0100") == {ada.pk}
    assert found("trail") == {bob.pk}
    assert found("SKU-4001") == {ada.pk}
    assert found("nobody") == set()


def test_filters_by_status_sync_state_and_variant(merchant: Merchant, shirt: Variant,
                                                  boots: Variant) -> None:
    ada = subscription_make(merchant.shop, shirt, email="ada@example.com")
    bob = subscription_make(merchant.shop, boots, email="bob@example.com")
    cid = subscription_make(merchant.shop, boots, email="cid@example.com")
    subscription_unsubscribe(subscription=cid)
    Subscription.objects.filter(pk=ada.pk).update(sync_state="synced")

    def ids(**params: str) -> set[int]:
        return {s["id"] for s in merchant.list(**params).json()["subscribers"]}

    assert ids(status="unsubscribed") == {cid.pk}
    assert ids(status="active") == {ada.pk, bob.pk}
    assert ids(sync_state="synced") == {ada.pk}
    assert ids(variant_id="4002") == {bob.pk, cid.pk}
    assert ids(variant_id="4002", status="active") == {bob.pk}
    assert merchant.list(variant_id="4002").json()["total"] == 2


def test_keyset_pages_cover_every_row_once(merchant: Merchant, shirt: Variant) -> None:
    made = subscriptions_bulk_make(merchant.shop, shirt, 45)
    seen: list[int] = []
    cursor = ""
    pages = 0
    while True:
        params = {"limit": "20", **({"cursor": cursor} if cursor else {})}
        body = merchant.list(**params).json()
        seen += [s["id"] for s in body["subscribers"]]
        pages += 1
        if body["next_cursor"] is None:
            break
        cursor = str(body["next_cursor"])
    assert pages == 3
    assert seen == sorted((s.pk for s in made), reverse=True)


def test_bad_filters_are_400s_naming_the_field(merchant: Merchant) -> None:
    for params, name in [({"status": "gone"}, "status"), ({"sync_state": "x"}, "sync_state"),
                         ({"variant_id": "abc"}, "variant_id"), ({"cursor": "-1"}, "cursor"),
                         ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"),
                         ({"q": "a" * 101}, "q"), ({"q": "ada\x00"}, "q")]:
        response = merchant.list(**params)
        assert response.status_code == 400, params
        assert name in response.json()["error"]["fields"], params


def test_needs_an_id_token_and_get(client: Client, merchant: Merchant) -> None:
    response = client.get("/app/api/subscribers")
    assert response.status_code == 401
    assert response["X-Shopify-Retry-Invalid-Session-Request"] == "1"
    response = client.post("/app/api/subscribers", **merchant.headers())
    assert response.status_code == 405 and response["Allow"] == "GET"


def test_one_shop_never_sees_another_shops_subscribers(
    merchant: Merchant, other_merchant: Merchant, shirt: Variant,
) -> None:
    mine = subscription_make(merchant.shop, shirt, email="ada@example.com")
    theirs_variant = variant_make(other_merchant.shop, shopify_id=4001, product_id=9001)
    theirs = subscription_make(other_merchant.shop, theirs_variant, email="ada@example.com")
    assert [s["id"] for s in merchant.list().json()["subscribers"]] == [mine.pk]
    assert [s["id"] for s in other_merchant.list(q="ada").json()["subscribers"]] == [theirs.pk]
    # A cursor cannot reach across either: it only bounds the shop's own rows.
    body = other_merchant.list(cursor=str(mine.pk + 1000)).json()
    assert [s["id"] for s in body["subscribers"]] == [theirs.pk]
    # Another shop's id is a plain 404, and nothing changes.
    response = other_merchant.remove(mine.pk)
    assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.status == "active"
    exported = b"".join(other_merchant.export().streaming_content).decode("utf-8-sig")
    assert exported.count("\r\n") == 2  # header + their one row
    assert "Linen Shirt" in exported and exported.count("ada@example.com") == 1


def test_the_page_is_an_embedded_document(client: Client, merchant: Merchant,
                                          shirt: Variant) -> None:
    subscription_make(merchant.shop, shirt, email="ada@example.com")
    shirt.product.title = "<script>alert(1)</script> Shirt"
    shirt.product.save(update_fields=["title"])
    response = client.get("/app/subscribers", {"id_token": id_token(merchant.shop.domain),
                                                "shop": merchant.shop.domain})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1 class=\"page-title\">Subscribers</h1>" in html
    assert 'data-list-url="/app/api/subscribers"' in html
    # The first page is in the document (no layout shift), escaped.
    assert "ada@example.com" in html and "1 subscriber<" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Shirt" in html and "<script>alert" not in html
    assert "frame-ancestors https://demo-shop.myshopify.com" in response["Content-Security-Policy"]
    bounced = client.get("/app/subscribers")
    assert bounced.status_code == 302 and bounced["Location"].startswith("/app/bounce?")
