"""The per-shop cost bucket in real Redis: reservations, waits, Shopify's figures, estimates."""

from __future__ import annotations

import pytest

from integrations.shopify import ratelimit
from integrations.shopify.errors import QueryTooCostly

SHOP = "bucket-shop.myshopify.com"
STATUS = {"maximumAvailable": 100.0, "currentlyAvailable": 100.0, "restoreRate": 10.0}


def test_before_any_answer_the_bucket_assumes_the_small_published_defaults() -> None:
    reservation, wait = ratelimit.reserve(shop_domain=SHOP, cost=400)
    assert reservation is not None and wait == 0.0
    state = ratelimit.bucket(shop_domain=SHOP)
    assert state is not None and state.maximum == ratelimit.DEFAULT_MAXIMUM
    assert state.available <= ratelimit.DEFAULT_MAXIMUM - 400 + 1


def test_shopifys_throttle_status_becomes_the_bucket() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None, throttle_status=STATUS)
    state = ratelimit.bucket(shop_domain=SHOP)
    assert state == ratelimit.Bucket(100.0, 100.0, 10.0)


def test_a_reservation_that_does_not_fit_waits_with_nothing_taken() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None,
                    throttle_status={**STATUS, "currentlyAvailable": 20.0})
    reservation, wait = ratelimit.reserve(shop_domain=SHOP, cost=60)
    assert reservation is None
    assert 0.0 < wait <= 4.0  # (60 - 20) points at 10 points/s, less what refilled meanwhile
    state = ratelimit.bucket(shop_domain=SHOP)
    assert state is not None and state.available == 20.0


def test_a_known_cost_above_the_maximum_is_refused_and_a_guess_is_capped() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None, throttle_status=STATUS)
    with pytest.raises(QueryTooCostly) as caught:
        ratelimit.reserve(shop_domain=SHOP, cost=101, document="Big")
    assert (caught.value.requested, caught.value.maximum) == (101, 100)
    reservation, _ = ratelimit.reserve(shop_domain=SHOP, cost=250, guessed=True)
    assert reservation is not None and reservation.cost == 100


def test_other_workers_reservations_in_flight_count_against_shopifys_figure() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None, throttle_status=STATUS)
    mine, _ = ratelimit.reserve(shop_domain=SHOP, cost=30)
    theirs, _ = ratelimit.reserve(shop_domain=SHOP, cost=40)
    assert mine is not None and theirs is not None
    # Shopify answered my query (it charged me 30) before it saw theirs.
    ratelimit.learn(shop_domain=SHOP, reservation=mine,
                    throttle_status={**STATUS, "currentlyAvailable": 70.0})
    state = ratelimit.bucket(shop_domain=SHOP)
    assert state is not None and state.available == 30.0


def test_a_call_that_never_reached_shopify_gives_its_points_back() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None, throttle_status=STATUS)
    reservation, _ = ratelimit.reserve(shop_domain=SHOP, cost=50)
    ratelimit.release(reservation=reservation, refund=True)
    state = ratelimit.bucket(shop_domain=SHOP)
    assert state is not None and state.available == 100.0


def test_a_lapsed_reservation_stops_holding_points() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None, throttle_status=STATUS)
    ratelimit.reserve(shop_domain=SHOP, cost=50, lease_seconds=-1)  # already lapsed
    ratelimit.learn(shop_domain=SHOP, reservation=None, throttle_status=STATUS)
    state = ratelimit.bucket(shop_domain=SHOP)
    assert state is not None and state.available == 100.0


def test_cost_estimates_are_learnt_per_document() -> None:
    assert ratelimit.cost_estimate("CatalogProductsPage:first=10") == (
        ratelimit.DEFAULT_COST, True)
    ratelimit.cost_learn("CatalogProductsPage:first=10", 612)
    ratelimit.cost_learn("CatalogProductsPage:first=10", "not a number")
    assert ratelimit.cost_estimate("CatalogProductsPage:first=10") == (612, False)


def test_buckets_are_per_shop() -> None:
    ratelimit.learn(shop_domain=SHOP, reservation=None,
                    throttle_status={**STATUS, "currentlyAvailable": 0.0})
    other, wait = ratelimit.reserve(shop_domain="other-" + SHOP, cost=100)
    assert other is not None and wait == 0.0
