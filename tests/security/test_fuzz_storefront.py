"""Generated storefront signups (hypothesis): whatever a correctly signed `POST /proxy/subscribe`
carries, the answer is never a 5xx; a 400 about the body's fields names them; a body that is
not a JSON object or form names `body`; and only accepted signups leave rows — one per accepted
shopper and variant, none from a refused request.

Bodies are drawn from the OpenAPI schema's fields (`notifyme/core/openapi.py`, `Subscribe`)
with values of every JSON type, unknown fields, and raw bytes under every content type.
`NOTIFYME_FUZZ_EXAMPLES` sets how many requests (default 300; issue 13's run: 10,000)."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db.models import Count
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notifyme.core.openapi import SCHEMAS
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from tests.factories import variant_make
from tests.fixtures.shopify import signed_proxy_query

EXAMPLES = int(os.environ.get("NOTIFYME_FUZZ_EXAMPLES", "300"))
FIELDS = sorted(SCHEMAS["Subscribe"]["properties"])
SOLD_OUT, IN_STOCK, UNKNOWN = 4001, 4002, 4999

scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=False) | st.text(max_size=300))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                           max_leaves=6)
variant_ids = st.sampled_from([SOLD_OUT, str(SOLD_OUT), IN_STOCK, UNKNOWN, 0, -1, 2**64,
                               "\uff14\uff10\uff10\uff11", " 4001 ", "4001.0"]) | json_values
emails = st.emails() | st.sampled_from(["ada@gmial.com", "ADA@Example.com ", "a@b", ""])
phones = st.sampled_from(["+14155550123", "4155550123", "+1", "phone"]) | st.text(max_size=40)
field_values = {"variant_id": variant_ids, "email": emails, "phone": phones}


@st.composite
def json_bodies(draw: Any) -> tuple[bytes, str]:
    chosen = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS)))
    body = {name: draw(field_values.get(name, json_values)) for name in chosen}
    if draw(st.booleans()):
        body["variant_id"] = draw(variant_ids)
    body.update(draw(st.dictionaries(st.text(max_size=12), json_values, max_size=2)))
    return json.dumps(body).encode(), "application/json"


@st.composite
def likely_valid_bodies(draw: Any) -> tuple[bytes, str]:
    """A shopper's signup as the block sends it, some optional fields drawn, as JSON or form."""
    body: dict[str, Any] = {"variant_id": draw(st.sampled_from([SOLD_OUT, str(SOLD_OUT)])),
                            "email": draw(st.emails(domains=st.sampled_from(
                                ["example.com", "shop.test", "gmail.com", "gmial.com"])))}
    if draw(st.booleans()):
        body.update(marketing_consent=True, consent_text_version="v1")
    if draw(st.booleans()):
        body["first_name"] = draw(st.text(max_size=120))
    if draw(st.booleans()):
        body["quantity"] = draw(st.integers(min_value=-1, max_value=120))
    if draw(st.booleans()):
        body["locale"] = draw(st.sampled_from(["en", "fr-CA", "pt_BR", "xx-invalid-tag-long"]))
    if draw(st.booleans()):
        return json.dumps(body).encode(), "application/json"
    return urlencode({k: str(v).lower() if isinstance(v, bool) else v
                      for k, v in body.items()}).encode(), "application/x-www-form-urlencoded"


raw_bodies = st.tuples(st.binary(max_size=400), st.sampled_from(
    ["application/json", "application/x-www-form-urlencoded", "text/plain",
     "multipart/form-data; boundary=x", "application/json; charset=latin-1"]))
bodies = likely_valid_bodies() | json_bodies() | raw_bodies


@pytest.mark.django_db
def test_generated_signups_never_fail_the_server_and_store_only_what_they_accept(
        shop: Shop) -> None:
    variant_make(shop, shopify_id=SOLD_OUT, quantity=0)
    variant_make(shop, shopify_id=IN_STOCK, quantity=5)
    client = Client()
    statuses: Counter[int] = Counter()
    accepted: set[int] = set()
    address = iter(range(1, 10**9))

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(body=bodies)
    def one(body: tuple[bytes, str]) -> None:
        raw, content_type = body
        n = next(address)  # a distinct shopper address each time: the per-address limit
        # generic(): the bytes exactly as drawn (post() would re-encode them for the charset).
        response = client.generic(
            "POST", f"/proxy/subscribe?{signed_proxy_query(shop.domain)}", raw,
            content_type=content_type,
            HTTP_X_FORWARDED_FOR=f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}")
        statuses[response.status_code] += 1
        assert response.status_code < 500, response.content[:500]
        answer = response.json()
        if response.status_code == 201:
            accepted.add(answer["subscription"]["id"])
        elif response.status_code == 400:
            # Named: a field of the form, or the body itself when it is not a JSON object/form.
            fields = answer["error"].get("fields") or {}
            assert fields and set(fields) <= {*FIELDS, "body"}, answer
        else:
            assert response.status_code in {200, 404, 409, 413, 415, 429}, answer

    one()
    print(f"\n{EXAMPLES} generated signups, by status: {dict(sorted(statuses.items()))}")
    assert sum(statuses.values()) == EXAMPLES
    assert statuses[201] and statuses[400]  # the draws reach both sides of the validation
    assert set(Subscription.objects.values_list("pk", flat=True)) == accepted
    twice = (Subscription.objects.filter(status=Subscription.Status.ACTIVE)
             .values("variant_id", "email", "phone").annotate(n=Count("pk")).filter(n__gt=1))
    assert list(twice) == []
