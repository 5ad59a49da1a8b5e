"""Stored XSS and CSV formula injection: hostile text in product titles, variant titles (both
arrive from Shopify) and shopper input (the storefront's free-text first name, through the real
signed `POST /proxy/subscribe`) is escaped on every page it renders and defused in every CSV.

Pages: every `/app/` route answered as text/html (walked from the URL resolver, as the merchant
would load them, fragments re-rendered into the page by `innerHTML` included), the support board,
shop page, error catalogue, shopper search and each shopper's timeline, and every Django admin
change list and change page of the rows holding the payloads. CSVs: every `/app/` route that
answers text/csv (subscribers export, import error report, privacy report): no cell may start
with = + - @ tab or CR (a spreadsheet would run it), and the value must still be there.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.test import Client

from notifyme.catalog.upserts import product_upsert, variant_upsert
from notifyme.core.spreadsheet import FORMULA_START
from notifyme.privacy.models import ComplianceRequest
from notifyme.subscriptions.models import Subscription
from notifyme.waitlists.importing import waitlist_import_start
from notifyme.waitlists.models import WaitlistImport
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import signed_proxy_query
from tests.privacy.conftest import deliver, shopper_everywhere
from tests.security.conftest import Tenant, url_routes
from tests.security.test_isolation import PARAM, _body, _call, _fill

DOMAIN = "xss-shop.myshopify.com"
SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = "\"><img src=x onerror=alert(1)>"
#: Each starts like a formula and carries markup, so one payload proves both guards.
PRODUCT_TITLE = f"=HYPERLINK(\"http://evil.test\") {SCRIPT}"
VARIANT_TITLE = f"+1 {ATTRIBUTE}"
FIRST_NAMES = (f"@SUM(1) {SCRIPT}", f"-2+3 {ATTRIBUTE}", "\t=cmd|' /C calc'!A0")
#: What must never appear raw in HTML (escaped, `&lt;script&gt;…`, is what it should be).
RAW = (b"<script>alert(1)", b"<img src=x onerror", b"onerror=alert(1)>")


def _hostile_shop(sandbox: SandboxHandle, client: Client) -> Tenant:
    store = shopper_everywhere(sandbox, domain=DOMAIN)
    product = store.variant.product
    product_upsert(shop=store.shop, shopify_id=product.shopify_id, title=PRODUCT_TITLE,
                   handle=product.handle, image_url=product.image_url)
    variant_upsert(product=product, shopify_id=store.variant.shopify_id, title=VARIANT_TITLE,
                   sku=store.variant.sku, price=store.variant.price, quantity=0,
                   inventory_tracked=True, inventory_policy=store.variant.inventory_policy)
    for n, name in enumerate(FIRST_NAMES):
        query = signed_proxy_query(DOMAIN)
        response = client.post(f"/proxy/subscribe?{query}", {
            "variant_id": store.variant.shopify_id, "email": f"hostile{n}@example.com",
            "first_name": name}, content_type="application/json")
        assert response.status_code == 201, response.content
        assert SCRIPT.encode() not in response.content or \
            response["Content-Type"].startswith("application/json")
    # An import whose rejected row carries a formula lands in the import's error report.
    waitlist_import_start(shop=store.shop, raw=(
        "email,variant_id,first_name\n=cmd@x,1,=EVIL()\n"
        f"ok@example.com,{store.variant.shopify_id},@import\n").encode())
    hostile = Subscription.objects.get(shop=store.shop, email="hostile0@example.com")
    deliver("customers/data_request", {"customer": {"email": hostile.email},
                                       "orders_requested": [], "data_request": {"id": 77}},
            shop_domain=DOMAIN)
    request = ComplianceRequest.objects.filter(shop=store.shop).latest("pk")
    batch = WaitlistImport.objects.filter(shop=store.shop).latest("pk")
    tenant = Tenant(store, batch.pk, request.pk, 0)
    tenant.ids = {"subscription_id": hostile.pk, "import_id": batch.pk}
    return tenant


def _html_leaks(where: str, response: HttpResponse, body: bytes) -> list[str]:
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    return [f"{where} has raw {raw!r}" for raw in RAW if raw in body]


def _formula_cells(where: str, body: bytes) -> list[str]:
    text = body.decode("utf-8-sig")
    return [f"{where} cell {cell!r}" for row in csv.reader(io.StringIO(text))
            for cell in row if cell.startswith(FORMULA_START)]


@pytest.mark.django_db
def test_hostile_text_is_escaped_on_every_merchant_page_and_defused_in_every_csv(
        klaviyo_sandbox: SandboxHandle, client: Client) -> None:
    tenant = _hostile_shop(klaviyo_sandbox, client)
    leaks, formulas, csv_bodies, html_pages = [], [], [], 0
    extra = {"/app/api/privacy/report": {"request": tenant.request_id},
             "/app/api/privacy/export": {"request": tenant.request_id, "format": "csv"}}
    for route in sorted({r for r, _ in url_routes() if r.startswith("app/")}):
        path = _fill(route, tenant.ids) if PARAM.search(route) else "/" + route
        response = _call(client, "get", path, attacker=tenant, fields=extra.get(path, {}))
        body = _body(response)
        where = f"GET {path} → {response.status_code}"
        leaks += _html_leaks(where, response, body)
        html_pages += response.get("Content-Type", "").startswith("text/html")
        if "csv" in response.get("Content-Type", ""):
            formulas += _formula_cells(where, body)
            csv_bodies.append(body.decode("utf-8-sig"))
    assert leaks == []
    assert formulas == []
    assert html_pages >= 6  # the walk rendered the app's pages, not only redirects
    assert len(csv_bodies) == 3, "subscribers export, import errors, privacy report"
    everything = "\n".join(csv_bodies)
    # Defused, not dropped: the text is there behind the apostrophe.
    assert "'@SUM(1)" in everything and "'=HYPERLINK" in everything
    assert "row,field,message" in everything  # the import's error report was among them


@pytest.fixture
def superuser(db: None) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw-12345678"))
    return client


@pytest.mark.django_db
def test_hostile_text_is_escaped_on_support_pages_and_in_the_admin(
        klaviyo_sandbox: SandboxHandle, client: Client, superuser: Client) -> None:
    tenant = _hostile_shop(klaviyo_sandbox, client)
    pages = ["/support/", f"/support/shops/{DOMAIN}/", "/support/errors/",
             "/support/shoppers/?q=hostile"]
    pages += [f"/support/shoppers/{pk}/"
              for pk in Subscription.objects.filter(shop=tenant.shop).values_list("pk", flat=True)]
    for model in admin.site._registry:
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        pages.append(base)
        if model in (Subscription, type(tenant.store.variant), type(tenant.store.variant.product)):
            pages += [f"{base}{pk}/change/" for pk in
                      model._default_manager.values_list("pk", flat=True)[:20]]
    leaks: list[str] = []
    shown: dict[str, Any] = {}
    for page in pages:
        response = superuser.get(page)
        assert response.status_code == 200, (page, response.status_code)
        body = _body(response)
        leaks += _html_leaks(f"GET {page}", response, body)
        shown[page] = b"&lt;script&gt;alert(1)" in body or b"&quot;&gt;&lt;img" in body
    assert leaks == []
    # The payloads were on these pages (escaped), so the check above looked at them.
    for page in (f"/support/shoppers/{tenant.ids['subscription_id']}/",
                 "/admin/catalog/product/",
                 "/admin/subscriptions/subscription/"):
        assert shown[page], page
