"""The one client for Shopify's Admin GraphQL API (version pinned in `conf.API_VERSION`).

`AdminClient(shop).run(document, variables)` returns the response's `data` or raises a typed
`ShopifyError`; nothing outside this module (and `tokens.py`, for the token endpoint) looks at
an HTTP status. Per call:
1. reserve the document's estimated cost in the shop's bucket (`ratelimit`), waiting (sleeping)
   until the bucket holds it; a cost above the bucket's maximum is never sent (`QueryTooCostly`);
2. POST `{query, variables, operationName}` with `X-Shopify-Access-Token` (a token fresh for 5
   more minutes, `tokens.access_token`) and a timeout;
3. learn the bucket and the document's requested cost from `extensions.cost`;
4. THROTTLED (HTTP 200 or 429): wait the computed time and resend, at most `MAX_THROTTLED`
   times (then `Throttled`); 401: refresh the token once and resend, a second 401 marks the shop
   `needs_reauth` and raises `ReauthRequired`; 5xx, timeout, connection error:
   `ShopifyUnavailable`; GraphQL `errors`: `GraphQLErrors`.
`cost_used` adds up the actual cost points this client spent (progress bars, benchmarks).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests

from integrations.shopify import conf, ratelimit, tokens
from integrations.shopify.documents import Document
from integrations.shopify.errors import (
    SINGLE_QUERY_MAX_COST,
    AccessTokenRejected,
    QueryTooCostly,
    ShopifyError,
    ShopifyUnavailable,
    Throttled,
    graphql_outcome,
)
from integrations.shopify.http import mask_token, scrub, shared_session, timeouts
from notifyme.core import logcontext
from notifyme.shops.models import Shop

MAX_THROTTLED = 5
#: Longest single wait for the bucket; a longer one raises `Throttled` for the job to retry.
MAX_WAIT_SECONDS = 30.0


def _cost_key(document: Document, variables: Mapping[str, Any]) -> str:
    """The document plus the variables that change its cost (page sizes, id list lengths)."""
    sizes = [f"{key}={value}" for key, value in sorted(variables.items())
             if isinstance(value, int) and not isinstance(value, bool)]
    sizes += [f"{key}#{len(value)}" for key, value in sorted(variables.items())
              if isinstance(value, list | tuple)]
    return ":".join([document.name, *sizes])


def _throttle_wait(error: Throttled) -> float:
    """Seconds until the bucket holds the requested cost, from Shopify's own figures."""
    status = error.cost.get("throttleStatus") or {}
    try:
        missing = float(error.cost["requestedQueryCost"]) - float(status["currentlyAvailable"])
        return max(0.05, missing / float(status["restoreRate"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return error.retry_after or 1.0


def _retry_after(response: requests.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After") or "") or None
    except ValueError:
        return None


class AdminClient:
    """Admin GraphQL calls for one shop. Cheap to build; the HTTP session is per process."""

    def __init__(self, shop: Shop, *, timeout: float | None = None,
                 session: requests.Session | None = None) -> None:
        self.shop = shop
        logcontext.bind_shop(shop.domain)
        self.timeout = timeouts(timeout)
        self.session = session or shared_session()
        self.cost_used = 0
        self._sent_token = ""
        self.url = conf.graphql_url(shop.domain)

    def __repr__(self) -> str:  # never the token, even in a traceback
        return f"<AdminClient shop={self.shop.domain} token={mask_token(self._sent_token)}>"

    def run(self, document: Document, variables: Mapping[str, Any] | None = None, *,
            cost: int | None = None) -> dict[str, Any]:
        """The `data` of one query or mutation (see the module contract). `cost`: a known
        requested cost, instead of the learnt estimate."""
        variables = dict(variables or {})
        key = _cost_key(document, variables)
        refreshed = False
        throttled = 0
        while True:
            try:
                return self._once(document, variables, key, cost)
            except Throttled as error:
                if error.status is not None:  # Shopify's answer, not our own bucket's wait
                    ratelimit.throttled_note()
                self._refuse_if_never_fits(document, error)
                throttled += 1
                if throttled > MAX_THROTTLED:
                    raise
                if not error.cost.get("throttleStatus"):  # a bare 429: no figures to learn
                    time.sleep(min(MAX_WAIT_SECONDS, _throttle_wait(error)))
                # else: the bucket learnt Shopify's level; the next reserve waits for it.
            except AccessTokenRejected as rejected:
                if refreshed:
                    raise tokens.shop_needs_reauth(
                        shop=self.shop, reason="401 after a token refresh") from rejected
                refreshed = True
                tokens.tokens_refresh(shop=self.shop, rejected=self._sent_token)

    def _refuse_if_never_fits(self, document: Document, error: Throttled) -> None:
        status = error.cost.get("throttleStatus") or {}
        requested = int(float(error.cost.get("requestedQueryCost") or 0))
        maximum = float(status.get("maximumAvailable") or 0)
        if maximum and requested > maximum:
            raise QueryTooCostly(document=document.name, requested=requested,
                                 maximum=int(maximum)) from error

    def _reserve(self, document: Document, key: str, cost: int | None) -> ratelimit.Reservation:
        estimate, guessed = (cost, False) if cost else ratelimit.cost_estimate(key)
        if not guessed and estimate > SINGLE_QUERY_MAX_COST:
            raise QueryTooCostly(document=document.name, requested=estimate,
                                 maximum=SINGLE_QUERY_MAX_COST)
        while True:
            reservation, wait = ratelimit.reserve(shop_domain=self.shop.domain, cost=estimate,
                                                  document=document.name, guessed=guessed)
            if reservation is not None:
                return reservation
            if wait > MAX_WAIT_SECONDS:
                raise Throttled("bucket empty", retry_after=wait)
            time.sleep(wait)

    def _once(self, document: Document, variables: dict[str, Any], key: str,
              cost: int | None) -> dict[str, Any]:
        reservation = self._reserve(document, key, cost)
        try:
            token = tokens.access_token(shop=self.shop)
        except ShopifyError:
            ratelimit.release(reservation=reservation, refund=True)
            raise
        self._sent_token = token
        status, parsed, retry_after = self._post(document, variables, token, reservation)
        extensions = parsed.get("extensions") if isinstance(parsed, dict) else None
        self._settle(key, reservation, (extensions or {}).get("cost") or {})
        error = graphql_outcome(status, parsed, retry_after=retry_after, document=document.name)
        if error is not None:
            raise error
        return dict(parsed.get("data") or {})

    def _post(self, document: Document, variables: dict[str, Any], token: str,
              reservation: ratelimit.Reservation) -> tuple[int, Any, float | None]:
        payload = {"query": document.text, "variables": variables,
                   "operationName": document.name}
        headers = {"X-Shopify-Access-Token": token, "Content-Type": "application/json",
                   "Accept": "application/json"}
        try:
            response = self.session.post(self.url, json=payload, headers=headers,
                                         timeout=self.timeout)
        except requests.ConnectionError as exc:
            ratelimit.release(reservation=reservation, refund=True)
            raise ShopifyUnavailable("connection failed") from scrub(exc)
        except requests.RequestException as exc:  # a timeout: the query may have run
            ratelimit.release(reservation=reservation, refund=False)
            raise ShopifyUnavailable("timed out") from scrub(exc)
        try:
            parsed: Any = response.json()
        except ValueError:
            parsed = None
        return response.status_code, parsed, _retry_after(response)

    def _settle(self, key: str, reservation: ratelimit.Reservation,
                cost: Mapping[str, Any]) -> None:
        status = cost.get("throttleStatus")
        if isinstance(status, Mapping):
            ratelimit.learn(shop_domain=self.shop.domain, reservation=reservation,
                            throttle_status=status)
        else:
            ratelimit.release(reservation=reservation, refund=False)
        ratelimit.cost_learn(key, cost.get("requestedQueryCost"))
        actual = cost.get("actualQueryCost")
        if isinstance(actual, int | float):
            self.cost_used += int(actual)
