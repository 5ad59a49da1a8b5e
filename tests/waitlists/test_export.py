"""The CSV export: streamed, every cell a spreadsheet would run as a formula defused, filters
applied, and 100,000 rows within a memory bound (tracemalloc, not timing)."""

from __future__ import annotations

import csv
import io
import tracemalloc

from notifyme.catalog.models import Variant
from notifyme.subscriptions.models import Subscription
from tests.factories import subscription_make, subscriptions_bulk_make
from tests.waitlists.conftest import Merchant

PEAK_BOUND = 30 * 1024 * 1024


def _read(merchant: Merchant, **params: str) -> list[dict[str, str]]:
    response = merchant.export(**params)
    assert response.status_code == 200
    assert response.streaming  # never built in memory
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="subscribers-demo-shop.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 accents only with the BOM
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_export_has_every_column_and_defuses_formulas(merchant: Merchant, shirt: Variant) -> None:
    subscription_make(merchant.shop, shirt, email="ada@example.com", phone="+14155550100",
                      first_name="=HYPERLINK(\"http://evil\")", marketing_consent=True,
                      consent_text_version="v1")
    shirt.product.title = "@SUM(1+1)"
    shirt.product.save(update_fields=["title"])
    for first_name in ("-2+3", "+cmd", "\tx", "\rx", "Zoë"):
        subscription_make(merchant.shop, shirt, email=f"{len(first_name)}{ord(first_name[0])}@x.io",
                          first_name=first_name)
    rows = _read(merchant)
    assert len(rows) == 6
    ada = next(r for r in rows if r["email"] == "ada@example.com")
    assert ada["first_name"] == "'=HYPERLINK(\"http://evil\")"
    assert ada["product"] == "'@SUM(1+1)"
    assert ada["phone"] == "'+14155550100"
    assert ada["variant_id"] == "4001" and ada["sku"] == "SKU-4001"
    assert ada["status"] == "active" and ada["sync_state"] == "pending"
    assert ada["marketing_consent"] == "yes" and ada["sms_consent"] == "no"
    assert ada["consent_text_version"] == "v1" and ada["consented_at"]
    assert ada["source"] == "storefront" and ada["created_at"]
    names = {r["first_name"] for r in rows}
    assert {"'-2+3", "'+cmd", "'\tx", "'\rx", "Zoë"} <= names
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row


def test_export_applies_the_list_filters(merchant: Merchant, shirt: Variant,
                                         boots: Variant) -> None:
    subscription_make(merchant.shop, shirt, email="ada@example.com")
    subscription_make(merchant.shop, boots, email="bob@example.com")
    assert [r["email"] for r in _read(merchant, variant_id="4002")] == ["bob@example.com"]
    assert [r["email"] for r in _read(merchant, q="ada")] == ["ada@example.com"]
    assert merchant.export(status="nope").status_code == 400


def test_export_of_100000_rows_streams_within_a_memory_bound(merchant: Merchant,
                                                             shirt: Variant) -> None:
    subscriptions_bulk_make(merchant.shop, shirt, 100_000, phone_every=3, consent_every=2)
    assert Subscription.objects.filter(shop=merchant.shop).count() == 100_000
    tracemalloc.start()
    try:
        response = merchant.export()
        lines = 0
        size = 0
        tail = b""
        for piece in response.streaming_content:
            lines += piece.count(b"\r\n")
            size += len(piece)
            tail = piece
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == 100_001  # the header and every row
    assert size > 8_000_000
    # Never held at once: the peak stays under the bound and under the file's own size.
    assert peak < min(PEAK_BOUND, size), f"peak {peak / 1e6:.1f} MB, file {size / 1e6:.1f} MB"
    assert tail.endswith(b"\r\n")
