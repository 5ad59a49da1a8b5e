"""Importing a waitlist CSV through the page's API: rows become storefront-shaped signups
(same validation, same service, same outbox row), keeping consent and time; bad rows land in a
downloadable report; re-imports add nothing; bad files are 400/413 naming `file`."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from notifyme.catalog.models import Variant
from notifyme.subscriptions.models import Subscription
from notifyme.subscriptions.services import subscription_unsubscribe
from notifyme.sync.models import OutboxItem
from notifyme.waitlists.models import WaitlistImport
from tests.factories import subscription_make, variant_make
from tests.waitlists.conftest import Merchant

GOOD = (
    "email,phone,variant_id,marketing_consent,sms_consent,timestamp,first_name\n"
    "Ada@Example.com,,4001,yes,no,2024-03-01T10:15:00Z,Ada\n"
    "bob@example.com,+1 415 555 0101,4002,no,yes,2024-03-02 08:00,Bob\n"
    ",4155550102,4001,no,no,,\n"
)


def _report(merchant: Merchant, import_id: int) -> list[dict[str, str]]:
    response = merchant.get(f"/imports/{import_id}/errors.csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="import-{import_id}-errors.csv"')
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_a_small_import_keeps_consent_and_time_and_syncs_like_a_signup(
    merchant: Merchant, shirt: Variant, boots: Variant,
) -> None:
    response = merchant.upload(GOOD)
    assert response.status_code == 200
    result = response.json()["import"]
    assert result["state"] == "done"
    assert (result["total"], result["processed"], result["created"], result["existing"],
            result["failed"]) == (3, 3, 3, 0, 0)
    ada = Subscription.objects.get(shop=merchant.shop, email="ada@example.com")
    assert ada.email_display == "Ada@Example.com" and ada.first_name == "Ada"
    assert ada.variant == shirt and ada.source == "import" and ada.status == "active"
    assert ada.marketing_consent and ada.consent_text_version == "imported"
    signed_up = datetime(2024, 3, 1, 10, 15, tzinfo=UTC)
    assert ada.consented_at == signed_up and ada.created_at == signed_up
    assert not ada.sms_consent
    bob = Subscription.objects.get(shop=merchant.shop, email="bob@example.com")
    assert bob.phone == "+14155550101" and bob.variant == boots  # E.164, the shop's country
    assert bob.sms_consent and bob.sms_consented_at == datetime(2024, 3, 2, 8, tzinfo=UTC)
    assert not bob.marketing_consent and bob.consented_at is None
    phone_only = Subscription.objects.get(shop=merchant.shop, phone="+14155550102")
    assert phone_only.email == "" and phone_only.notify_by_sms
    # The same outbox row a storefront signup writes: Klaviyo gets them like any signup.
    assert OutboxItem.objects.filter(subscription__shop=merchant.shop,
                                     kind="profile_sync").count() == 3
    listed = merchant.list(q="ada").json()["subscribers"]
    assert [s["source"] for s in listed] == ["import"]
    batch = WaitlistImport.objects.get(pk=result["id"])
    assert batch.source_csv == ""  # the contacts do not linger in the import row


def test_bad_rows_are_skipped_and_reported_row_by_row(merchant: Merchant, shirt: Variant) -> None:
    variant_make(merchant.shop, shopify_id=4003, product_id=9003, quantity=5,
                 product_title="In Stock Tee")
    csv_text = (
        "email,phone,variant_id,marketing_consent,timestamp\n"
        "ok@example.com,,4001,no,\n"                      # row 2: fine
        "not-an-email,,4001,no,\n"                        # row 3
        "ada@example.com,,999,no,\n"                      # row 4: unknown variant
        "cid@example.com,,4001,maybe,\n"                  # row 5: consent unreadable
        "dan@example.com,,4001,yes,\n"                    # row 6: consent without time
        "eve@example.com,,4001,no,tomorrow\n"             # row 7: bad time
        "fay@example.com,,4001,no,2999-01-01\n"           # row 8: future
        ",,4001,no,\n"                                    # row 9: no contact
        "gus@example.com,12,4001,no,\n"                   # row 10: bad phone
        "hal@example.com,,4003,no,\n"                     # row 11: in stock now
        "ivy@example.com,,gid://shopify/ProductVariant/4001,no,\n"  # row 12: GID, fine
    )
    result = merchant.upload(csv_text).json()["import"]
    assert (result["created"], result["failed"]) == (2, 9)
    assert result["has_errors"]
    report = _report(merchant, result["id"])
    by_row = {(int(r["row"]), r["field"]) for r in report}
    assert by_row >= {(3, "email"), (4, "variant_id"), (5, "marketing_consent"),
                      (6, "timestamp"), (7, "timestamp"), (8, "timestamp"), (9, "email"),
                      (10, "phone"), (11, "variant_id")}
    assert all(r["message"] for r in report)
    assert next(r for r in report if r["row"] == "4")["message"] == (
        "No variant 999 in your store's catalog.")
    assert {s.email for s in Subscription.objects.filter(shop=merchant.shop)} == {
        "ok@example.com", "ivy@example.com"}


def test_reimport_adds_nobody_and_never_resubscribes(merchant: Merchant, shirt: Variant,
                                                     boots: Variant) -> None:
    first = merchant.upload(GOOD).json()["import"]
    assert first["created"] == 3
    bob = Subscription.objects.get(shop=merchant.shop, email="bob@example.com")
    subscription_unsubscribe(subscription=bob)
    again = merchant.upload(GOOD).json()["import"]
    assert (again["created"], again["existing"], again["failed"]) == (0, 3, 0)
    assert Subscription.objects.filter(shop=merchant.shop).count() == 3
    bob.refresh_from_db()
    assert bob.status == "unsubscribed"
    # A shopper who withdrew marketing consent is not brought back for another variant either.
    subscription_unsubscribe(subscription=bob, marketing=True)
    other = merchant.upload("email,variant_id\nbob@example.com,4001\n").json()["import"]
    assert other["failed"] == 1
    assert "unsubscribed from your marketing" in _report(merchant, other["id"])[0]["message"]


def test_competitor_exports_sku_and_semicolons(merchant: Merchant, shirt: Variant) -> None:
    klaviyo = ("Email;Phone Number;SKU;Email Marketing Consent;Created;Product Title\n"
               "kim@example.com;;SKU-4001;SUBSCRIBED;2023-11-05 09:30:00;Linen Shirt\n"
               "lee@example.com;;SKU-4001;NEVER_SUBSCRIBED;2023-11-06 09:30:00;Linen Shirt\n")
    result = merchant.upload(klaviyo.encode("utf-8-sig")).json()["import"]
    assert (result["created"], result["failed"]) == (2, 0)
    kim = Subscription.objects.get(email="kim@example.com")
    assert kim.marketing_consent and kim.consented_at == datetime(2023, 11, 5, 9, 30, tzinfo=UTC)
    assert not Subscription.objects.get(email="lee@example.com").marketing_consent
    bis = ("Customer Email,Variant ID,Accepts Marketing,Created At\n"
           "max@example.com,4001,false,2024-01-01T00:00:00+01:00\n")
    assert merchant.upload(bis.encode("cp1252")).json()["import"]["created"] == 1


def test_an_export_imports_back_into_another_shop(merchant: Merchant, other_merchant: Merchant,
                                                  shirt: Variant) -> None:
    subscription_make(merchant.shop, shirt, email="ada@example.com", phone="+14155550100",
                      marketing_consent=True, consent_text_version="v7")
    gone = subscription_make(merchant.shop, shirt, email="old@example.com")
    subscription_unsubscribe(subscription=gone)
    exported = b"".join(merchant.export().streaming_content)
    variant_make(other_merchant.shop, shopify_id=4001, product_id=9001)
    result = other_merchant.upload(exported).json()["import"]
    assert (result["created"], result["failed"]) == (1, 1)  # the cancelled alert stays ended
    ada = Subscription.objects.get(shop=other_merchant.shop)
    assert ada.phone == "+14155550100"  # the formula guard's apostrophe is undone
    assert ada.marketing_consent and ada.consent_text_version == "v7"
    original = Subscription.objects.get(shop=merchant.shop, email="ada@example.com")
    # The signup time carries over; consent counts from it (the export's created_at column).
    assert ada.created_at == original.created_at == ada.consented_at


def test_bad_files_are_refused_naming_the_file_and_write_nothing(merchant: Merchant,
                                                                 shirt: Variant) -> None:
    cases = [
        (b"", 400, "empty"),
        (b"email,variant_id\n", 400, "no rows"),
        (b"name,variant_id\nAda,4001\n", 400, "email or a phone column"),
        (b"email,product\nada@example.com,Shirt\n", 400, "variant column"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 400, "UTF-8"),
        (b'email,variant_id\n"ada@example.com,4001\n', 400, "not valid CSV"),
    ]
    for content, status, words in cases:
        response = merchant.upload(content)
        assert response.status_code == status, content
        error = response.json()["error"]
        assert words in error["message"], (content, error)
        assert "file" in error["fields"]
    no_file = merchant.client.post("/app/api/subscribers/imports", {}, **merchant.headers())
    assert no_file.status_code == 400 and "file" in no_file.json()["error"]["fields"]
    assert not WaitlistImport.objects.exists()
    assert not Subscription.objects.exists()


def test_files_over_the_cap_are_413(merchant: Merchant, shirt: Variant,
                                    settings: object) -> None:
    rows = "".join(f"s{i}@example.com,4001\n" for i in range(100_001))
    response = merchant.upload("email,variant_id\n" + rows)
    assert response.status_code == 413
    assert "100,000 rows" in response.json()["error"]["message"]
    huge = b"email,variant_id\n" + b"a" * (10 * 1024 * 1024)
    response = merchant.upload(huge)
    assert response.status_code == 413
    assert response.json()["error"]["fields"]["file"]
    assert not Subscription.objects.exists() and not WaitlistImport.objects.exists()


def test_imports_are_the_shops_own(merchant: Merchant, other_merchant: Merchant,
                                   shirt: Variant) -> None:
    variant_make(other_merchant.shop, shopify_id=5001, product_id=9501)
    result = merchant.upload("email,variant_id\nbad,4001\nada@example.com,5001\n"
                             ).json()["import"]
    assert result["failed"] == 2  # another shop's variant id is not in this shop's catalog
    assert not Subscription.objects.exists()
    assert other_merchant.get(f"/imports/{result['id']}").status_code == 404
    assert other_merchant.get(f"/imports/{result['id']}/errors.csv").status_code == 404
    assert other_merchant.get("/imports").json() == {"imports": []}
    assert [i["id"] for i in merchant.get("/imports").json()["imports"]] == [result["id"]]


def test_a_filename_with_control_characters_is_stored_clean(merchant: Merchant,
                                                            shirt: Variant) -> None:
    response = merchant.upload("email,variant_id\nada@example.com,4001\n",
                               name="wait\x00list\x1b.csv")
    assert response.status_code == 200
    assert response.json()["import"]["filename"] == "waitlist.csv"
