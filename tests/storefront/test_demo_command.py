"""`manage.py demo`: idempotent, keeps changed stock unless told, JSON for scripts."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from notifyme.catalog.models import Product, Variant
from notifyme.dev.demo import DEMO_SHOP_DOMAIN
from notifyme.shops.models import Shop
from tests.core.test_production_settings import PRODUCTION, ROOT

pytestmark = pytest.mark.django_db


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


def _snapshot() -> list[tuple]:
    return list(Variant.objects.order_by("shopify_id").values_list(
        "shopify_id", "title", "sku", "price", "inventory_tracked", "inventory_policy",
        "available_quantity", "product__shopify_id", "updated_at"))


def test_demo_creates_a_shop_with_every_availability_case() -> None:
    output = _run()
    shop = Shop.objects.get(domain=DEMO_SHOP_DOMAIN)
    assert shop.name == "Demo Outfitters" and shop.country_code == "US"
    variants = list(Variant.objects.filter(shop=shop))
    assert Product.objects.filter(shop=shop).count() == 3
    assert len(variants) >= 8
    assert any(v.accepts_alerts for v in variants)  # sold out, tracked, deny
    assert any(v.available_quantity > 0 for v in variants)  # in stock
    assert any(not v.inventory_tracked for v in variants)  # untracked
    assert any(v.inventory_policy == "continue" and v.available_quantity <= 0
               for v in variants)  # backorder
    assert all(not (not v.inventory_tracked and v.accepts_alerts) for v in variants)
    assert "demo-shop.myshopify.com" in output
    assert "SOLD OUT" in output and "45120000000012" in output


def test_running_it_again_changes_nothing() -> None:
    _run()
    before = _snapshot()
    _run()
    assert _snapshot() == before
    assert Shop.objects.filter(domain=DEMO_SHOP_DOMAIN).count() == 1


def test_changed_stock_is_kept_unless_reset_is_asked_for() -> None:
    _run()
    call_command("restock", DEMO_SHOP_DOMAIN, "45120000000012", "7", stdout=io.StringIO())
    _run()
    assert Variant.objects.get(shopify_id=45_120_000_000_012).available_quantity == 7
    _run("--reset-stock")
    assert Variant.objects.get(shopify_id=45_120_000_000_012).available_quantity == 0


def test_json_output_is_only_json_with_each_variant() -> None:
    data = json.loads(_run("--json"))
    assert data["shop"] == DEMO_SHOP_DOMAIN
    assert {"id", "product", "title", "stock", "available"} == set(data["variants"][0])
    by_id = {item["id"]: item for item in data["variants"]}
    assert by_id[45_120_000_000_011] == {"id": 45_120_000_000_011, "product": "Linen Camp Shirt",
                                         "title": "Small", "stock": 8, "available": True}
    assert by_id[45_120_000_000_012]["available"] is False
    assert by_id[45_120_000_000_023]["available"] is True  # untracked
    assert by_id[45_120_000_000_033]["available"] is True  # continue selling
    assert json.loads(_run("--json")) == data


def test_development_superuser_only_when_debug(settings) -> None:
    settings.DEBUG = False
    _run()
    assert not get_user_model().objects.filter(username="admin").exists()
    settings.DEBUG = True
    output = _run()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
    assert "development only" in output
    admin.set_password("changed-by-someone")
    admin.save()
    _run()
    assert get_user_model().objects.get(username="admin").check_password("changed-by-someone")


def test_demo_refuses_to_seed_a_shop_where_dev_tools_are_off() -> None:
    with override_settings(NOTIFYME_DEV_TOOLS=False), pytest.raises(CommandError,
                                                                     match="development tool"):
        _run()
    assert not Shop.objects.exists()


def test_production_has_no_demo_command() -> None:
    """The command lives in the dev tools' app, which production does not install."""
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION}
    result = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, "manage.py", "demo", "--json"], cwd=ROOT, env={**clean, **PRODUCTION},
        capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "Unknown command: 'demo'" in result.stderr
