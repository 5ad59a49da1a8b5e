"""One mailbox, one alert per variant and one contact limit, whatever spelling reaches us:
fullwidth or IDN vs punycode domains, invisible characters, quoted local parts, case."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from notifyme.catalog.models import Variant
from notifyme.subscriptions import abuse
from notifyme.subscriptions.emails import EmailInvalid, email_normalize
from notifyme.subscriptions.models import Subscription
from tests.subscriptions.helpers import subscribe


def wide(text: str) -> str:
    """`text` in fullwidth forms (U+FF01..U+FF5E)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


SPELLINGS = [
    "ada@example.com",
    "ADA@EXAMPLE.COM",
    wide("ada@example.com"),            # fullwidth, as an East Asian keyboard types it
    "a\u200bda@example.com",            # zero-width space
    "ad\u200ca@exam\u200dple.com",      # zero-width non-joiner / joiner
    "\ufeffada@example.com\u2060",      # BOM, word joiner
    "a\u00adda@ex\u00adample.com",      # soft hyphens
    '"ada"@example.com',                # quotes that change nothing
    '"a\\da"@example.com',              # a quoted pair that changes nothing
    "ada@example.com.",                 # the root label's dot
]
IDN = ["zoe@bücher.de", "zoe@xn--bcher-kva.de", "ZOE@BÜCHER.DE",
       "zoe@" + wide("b") + "ü" + wide("cher.de"), "zoe@XN--BCHER-KVA.DE"]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_spellings_of_one_mailbox_normalise_to_one_address(spelling: str) -> None:
    assert email_normalize(spelling) == "ada@example.com"


@pytest.mark.parametrize("spelling", IDN)
def test_idn_domains_normalise_to_punycode(spelling: str) -> None:
    assert email_normalize(spelling) == "zoe@xn--bcher-kva.de"


@pytest.mark.parametrize("address", ['"a..b"@example.com', "a+tag@example.com",
                                     "o'brien@example.com"])
def test_addresses_that_need_their_spelling_keep_it(address: str) -> None:
    assert email_normalize(address) == address


@pytest.mark.parametrize("address", ["josé@example.com", "ada@", "@example.com", "ada",
                                     "ada@ex_ample.com", "a" * 65 + "@example.com",
                                     "ada@localhost", "ada@xn--zz.com"])
def test_addresses_with_no_deliverable_spelling_are_refused(address: str) -> None:
    with pytest.raises(EmailInvalid):
        email_normalize(address)


@pytest.mark.django_db
def test_every_spelling_finds_the_one_active_alert(client: Client,
                                                  sold_out_variant: Variant) -> None:
    first = subscribe(client, {"variant_id": 4001, "email": "Ada@Example.com"})
    assert first.status_code == 201
    for n, spelling in enumerate(SPELLINGS):
        response = subscribe(client, {"variant_id": 4001, "email": spelling},
                             HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        # 429 once the contact's limit is used up: that limit is the mailbox's, too.
        assert response.status_code in (200, 429), (spelling, response.content)
    sub = Subscription.objects.get()
    assert sub.email == "ada@example.com"  # compared, limited and sent to Klaviyo
    assert sub.email_display == "Ada@Example.com"  # shown back to people


@pytest.mark.django_db
def test_idn_and_punycode_are_one_alert(client: Client, sold_out_variant: Variant) -> None:
    assert subscribe(client, {"variant_id": 4001, "email": "zoe@bücher.de"}).status_code == 201
    again = subscribe(client, {"variant_id": 4001, "email": "zoe@xn--bcher-kva.de"})
    assert again.json()["status"] == "already_subscribed"
    sub = Subscription.objects.get()
    assert (sub.email, sub.email_display) == ("zoe@xn--bcher-kva.de", "zoe@bücher.de")


@pytest.mark.django_db
def test_spellings_share_one_contact_limit(client: Client, sold_out_variant: Variant,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    pinned = time.time() // 3600 * 3600 + 10
    monkeypatch.setattr(abuse, "clock", lambda: pinned)
    for n, spelling in enumerate(SPELLINGS[:5]):
        response = subscribe(client, {"variant_id": 4001, "email": spelling},
                             HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
        assert response.status_code in (200, 201)
    response = subscribe(client, {"variant_id": 4001, "email": SPELLINGS[7]},
                         HTTP_X_FORWARDED_FOR="203.0.113.99")
    assert response.status_code == 429


@pytest.mark.django_db
def test_unsubscribe_page_shows_the_address_as_typed(client: Client,
                                                     sold_out_variant: Variant) -> None:
    assert subscribe(client, {"variant_id": 4001, "email": "zoe@bücher.de"}).status_code == 201
    token = Subscription.objects.get().unsubscribe_token
    page = client.get(f"/proxy/unsubscribe?token={token}")
    assert "z•••@bücher.de" in page.content.decode()
