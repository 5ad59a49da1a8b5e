"""One merchant's life against the Klaviyo sandbox, through production code only.

Every step is a service, selector or job production runs (connect, re-test, list the lists,
signups, support's re-sync, the sync engine's jobs, restocks and their fan-out, unsubscribe,
redaction); the only data written directly is the sandbox's own state before recording starts.
Between them the steps call every client operation, with the variations that change a body:
profiles with every field and with a single identifier, consent for email, SMS and both, fresh
and historical, without consent, list membership one by one and through bulk import jobs
(with an import error to page through), events one by one and in bulk, for the sync and for a
restock, unsubscribe and redaction, a shopper's privacy erasure (`customers/redact`: profile
deletion jobs by profile id and by email, the data-privacy scope probe included), and every
scope probe.
"""

from __future__ import annotations

from typing import Any

import pytest

from integrations.klaviyo.client import KlaviyoClient
from integrations.klaviyo.flows import flow_check, flow_create
from integrations.klaviyo.models import KlaviyoConnection
from integrations.klaviyo.selectors import klaviyo_lists
from integrations.klaviyo.services import connection_connect, connection_retest
from notifyme.catalog.services import variant_update_stock
from notifyme.privacy.erasure import erasure_run
from notifyme.privacy.models import KlaviyoErasure
from notifyme.privacy.services import customer_redact
from notifyme.restocks.services import detection_of
from notifyme.subscriptions.services import (
    subscription_create,
    subscription_redact,
    subscription_requeue_sync,
    subscription_unsubscribe,
)
from tests.fixtures.sandbox import SandboxHandle
from tests.fixtures.shopify import make_shop, make_variant
from tests.klaviyo_client.recording import Recorder, recording
from tests.restocks.conftest import drain as fanout_drain
from tests.sync.conftest import drain

TAKEN_PHONE = "+14155550999"  # already another Klaviyo profile's phone: an import error


def run(sandbox: SandboxHandle, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    settings.SYNC_IMPORT_FIRST_POLL_SECONDS = 0
    sandbox.admin.set_rate_limits(enabled=False)
    account, key = sandbox.new_account("Contract Store")
    KlaviyoClient(key).upsert_profile({"phone_number": TAKEN_PHONE})  # before recording
    for n in range(25):  # more lists than one page holds
        sandbox.admin.create_list(account["id"], f"Seasonal {n:02d}")
    shop = make_shop()
    shirt = make_variant(shop, quantity=0)
    scarf = make_variant(shop, shopify_id=4002, product_id=9002, quantity=0)

    def signup(variant: Any = shirt, **fields: Any) -> Any:
        return subscription_create(shop=shop, variant=variant, **fields)[0]

    with recording(monkeypatch) as recorder:
        connection_connect(shop=shop, private_key=key)  # account, probes, list found/created
        connection_retest(shop=shop)  # the stored list, read back
        klaviyo_lists(shop=shop)  # the merchant's list picker

        ann = signup(email="ann@shop.test", phone="+14155550101", first_name="Ann",
                     marketing_consent=True, consent_text_version="v1", sms_consent=True,
                     sms_consent_text_version="sms-v1", locale="en-US",
                     shopify_customer_id=7390001)
        drain(shop.pk, lane="sync")  # one by one: create_event
        bo = signup(email="bo@shop.test", first_name="Bo")  # no consent
        signup(phone="+14155550102", sms_consent=True, sms_consent_text_version="sms-v1")
        drain(shop.pk, lane="sync")  # SMS-only consent, bulk events
        subscription_requeue_sync(subscription=ann)  # known profile id: PATCH
        drain(shop.pk, lane="sync")

        settings.SYNC_HISTORICAL_CONSENT_AFTER_SECONDS = 0  # consent caught up on: historical
        volunteers = []
        for n in range(12):  # more than the one-by-one path takes: a bulk import job
            phone = TAKEN_PHONE if n == 3 else f"+1415555{200 + n:04d}" if n % 3 == 0 else ""
            volunteers.append(signup(
                email=f"vol{n}@shop.test", first_name=f"Vol{n}", phone=phone,
                marketing_consent=n % 2 == 0, consent_text_version="v1",
                sms_consent=bool(phone) and n % 2 == 0, sms_consent_text_version="sms-v1"))
        drain(shop.pk, lane="bulk")
        signup(variant=scarf, email="cy@shop.test")
        drain(shop.pk, lane="sync")

        for variant in (shirt, scarf):  # a restock of many, then of one
            restock = detection_of(variant_update_stock(variant=variant, quantity=5)).restock
            assert restock is not None
            fanout_drain(restock)
        # The flow panel: the metric now exists, no flow uses it; "Create the flow for me".
        connection = KlaviyoConnection.objects.get(shop=shop)
        assert flow_check(connection=connection).flow_state == "no_flow"
        assert flow_create(connection=connection).flow_state == "not_live"

        subscription_unsubscribe(subscription=bo)  # the last alert cancelled: off the list
        subscription_unsubscribe(subscription=volunteers[1])  # imported: found by email first
        subscription_unsubscribe(subscription=volunteers[0], marketing=True)  # consent withdrawn
        subscription_redact(subscription=ann)
        drain(shop.pk, lane="sync")
        customer_redact(shop=shop, payload={"customer": {"id": None, "email": "cy@shop.test",
                                                         "phone": None}})
        for erasure in KlaviyoErasure.objects.filter(shop=shop):  # the key has data-privacy
            erasure_run(erasure_id=erasure.pk)
    return recorder
