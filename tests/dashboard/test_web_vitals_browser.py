"""Built for Shopify figures for every merchant page, in a real headless Chromium on demo-like
data: LCP <= 2.5 s, CLS <= 0.1, INP <= 200 ms (bench/web_vitals.py prints the figures; this
asserts only the ceilings, which are generous: not a micro-timing).

Each page is loaded as the Shopify admin embeds it (ID token in the query, App Bridge's script
answered by a local stub that hands the page its ID token), then its main control is clicked
once; three fresh loads, and the median of each figure is held to its ceiling (Shopify holds
the 75th percentile of real loads: one load slowed by this shared two-core machine is not the
page's figure, two of three are). Pages of issue 12 that the URL conf does not have yet show
as skipped, never silently.
"""

from __future__ import annotations

from statistics import median
from typing import Any

import pytest
from playwright.sync_api import Browser

from bench.web_vitals import CLS, INP_MS, LCP_MS, PAGES, Page, measure_page, pages_in_urlconf, seed
from notifyme.restocks.models import Restock
from notifyme.shops.models import Shop
from notifyme.subscriptions.models import Subscription
from tests.fixtures.shopify import id_token

pytestmark = pytest.mark.browser

RUNS = 3
PRESENT, MISSING = pages_in_urlconf()
PARAMS = [pytest.param(page, id=page.path) for page in PRESENT] + [
    pytest.param(page, id=page.path,
                 marks=pytest.mark.skip(reason=f"{page.path} is not in the URL conf yet"))
    for page in MISSING]


@pytest.fixture
def demo(live_server: Any, transactional_db: None) -> Shop:
    shop = seed(subscribers=2000)
    assert Subscription.objects.filter(shop=shop, status="active").count() >= 1900
    assert Restock.objects.filter(shop=shop).count() == 2
    return shop


def test_every_page_of_the_issue_is_accounted_for() -> None:
    assert {p.path for p in PAGES} == {"/app/", "/app/subscribers", "/app/demand",
                                       "/app/restocks", "/app/revenue"}
    assert {"/app/", "/app/demand", "/app/restocks"} <= {p.path for p in PRESENT}


@pytest.mark.parametrize("page", PARAMS)
def test_built_for_shopify_web_vitals(browser: Browser, live_server: Any, demo: Shop,
                                      page: Page) -> None:
    runs = [measure_page(browser, base_url=str(live_server.url), page=page,
                         shop_domain=demo.domain, token=id_token(demo.domain))
            for _ in range(RUNS)]
    print(*runs, sep="\n")  # the figures, for a human reading the log (-s)
    assert all(run.interactions >= 1 for run in runs)  # Event Timing saw every click
    assert median(run.lcp_ms for run in runs) <= LCP_MS, runs
    assert median(run.cls for run in runs) <= CLS, runs
    assert median(run.inp_ms for run in runs) <= INP_MS, runs
