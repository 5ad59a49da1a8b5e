"""Seed a database for the PostgreSQL-restart chaos test (run as a subprocess).

`python -m tests.sync.pg_seed <count>` with DATABASE_URL pointing at the private cluster and
SEED_ACCOUNT_ID / SEED_KEY / SEED_LIST_ID naming a sandbox account: one shop connected through
`connection_connect` and `count` signups from the bulk factory (half with a phone and consent
to email and SMS marketing), each with its PROFILE_SYNC outbox row. Prints the shop id.
Loopback sandbox keys only.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notifyme.settings")
    django.setup()
    from integrations.klaviyo.services import connection_connect
    from tests.factories import shop_make, subscriptions_bulk_make, variant_make

    count = int(sys.argv[1])
    shop = shop_make("pg-chaos.myshopify.com")
    variant = variant_make(shop)
    connection = connection_connect(shop=shop, private_key=os.environ["SEED_KEY"])
    assert connection.account_id == os.environ["SEED_ACCOUNT_ID"]
    assert connection.list_id == os.environ["SEED_LIST_ID"]
    subscriptions_bulk_make(shop, variant, count, phone_every=2, consent_every=2,
                            sms_consent_every=2)
    print(shop.pk)


if __name__ == "__main__":
    main()
