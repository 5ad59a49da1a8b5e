"""Migration 0004 normalises stored emails, keeps what was typed, and collapses spellings of one
mailbox that were each holding an active alert for the same variant into the oldest one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("subscriptions", "0003_subscription_fillfactor")]
FULLWIDTH_ADA = "\uff41\uff44\uff41@example.com"
AFTER = [("subscriptions", "0004_email_display_consent_per_channel")]


def _migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps(transactional_db: None) -> Iterator[Any]:
    apps = _migrate(BEFORE)
    yield apps
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_existing_rows_get_the_normalised_email(old_apps: Any) -> None:
    Shop = old_apps.get_model("shops", "Shop")
    Product = old_apps.get_model("catalog", "Product")
    Variant = old_apps.get_model("catalog", "Variant")
    Subscription = old_apps.get_model("subscriptions", "Subscription")
    # By hand, with the historical models: rows as the schema before the migration held them.
    shop = Shop.objects.create(domain="m.myshopify.com")
    product = Product.objects.create(shop=shop, shopify_id=1, title="Shirt")
    variant = Variant.objects.create(shop=shop, product=product, shopify_id=2, title="L")
    rows = {
        "oldest": Subscription.objects.create(shop=shop, variant=variant,
                                              email="ada@example.com", unsubscribe_token="a"),
        "fullwidth": Subscription.objects.create(shop=shop, variant=variant,
                                                 email=FULLWIDTH_ADA, unsubscribe_token="b"),
        "idn": Subscription.objects.create(shop=shop, variant=variant, email="zoe@bücher.de",
                                           unsubscribe_token="c"),
        "phone": Subscription.objects.create(shop=shop, variant=variant, phone="+14155550142",
                                             unsubscribe_token="d"),
    }
    apps = _migrate(AFTER)
    New = apps.get_model("subscriptions", "Subscription")
    found = {name: New.objects.get(pk=row.pk) for name, row in rows.items()}
    assert (found["oldest"].email, found["oldest"].status) == ("ada@example.com", "active")
    assert found["fullwidth"].email == "ada@example.com"
    assert found["fullwidth"].email_display == FULLWIDTH_ADA
    assert found["fullwidth"].status == "unsubscribed"  # a second alert for one mailbox
    assert (found["idn"].email, found["idn"].email_display) == ("zoe@xn--bcher-kva.de",
                                                                "zoe@bücher.de")
    assert (found["phone"].email, found["phone"].email_display) == ("", "")
    assert not found["oldest"].sms_consent and found["oldest"].marketing_withdrawn_at is None
