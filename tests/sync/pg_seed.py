"""Seed a database for the PostgreSQL-restart chaos test (run as a subprocess).

`python -m tests.sync.pg_seed <count>` with DATABASE_URL pointing at the private cluster and
SEED_ACCOUNT_ID / SEED_KEY / SEED_LIST_ID naming a sandbox account: one connected shop, `count`
subscribers (half with a phone and consent to email and SMS marketing) and their PROFILE_SYNC
outbox rows. Prints the shop id. Loopback sandbox keys only.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notifyme.settings")
    django.setup()
    from integrations.klaviyo.models import KlaviyoConnection
    from notifyme.subscriptions.models import Subscription
    from notifyme.sync.models import OutboxItem
    from tests.fixtures.shopify import make_shop, make_variant

    count = int(sys.argv[1])
    shop = make_shop("pg-chaos.myshopify.com")
    variant = make_variant(shop)
    connection = KlaviyoConnection(shop=shop, account_id=os.environ["SEED_ACCOUNT_ID"],
                                   list_id=os.environ["SEED_LIST_ID"],
                                   status=KlaviyoConnection.Status.CONNECTED)
    connection.set_private_key(os.environ["SEED_KEY"])
    connection.save()
    subs = Subscription.objects.bulk_create([
        Subscription(shop=shop, variant=variant, email=f"shopper{i}@shop.test",
                     phone=f"+1415555{i:04d}" if i % 2 == 0 else "", notify_by_email=True,
                     marketing_consent=i % 2 == 0, sms_consent=i % 2 == 0)
        for i in range(count)
    ], batch_size=2000)
    OutboxItem.objects.bulk_create([
        OutboxItem(shop=shop, subscription=s, kind=OutboxItem.Kind.PROFILE_SYNC) for s in subs
    ], batch_size=2000)
    print(shop.pk)


if __name__ == "__main__":
    main()
