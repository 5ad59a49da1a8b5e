"""Nudges of the webhook job: one coalesced job per shop domain, delayed ones for backoff.

Thin names over `notifyme.delivery.nudges`. The job is
`notifyme.webhooks.jobs.process_shop_events(shop_domain)`, enqueued by path on the `sync` lane
(a webhook can start a restock: it is interactive work, never behind a bulk backlog). At most
one job per shop is *queued* (marker `webhooks:queued:sync:<name>`, the domain's
`<name>.myshopify.com` part: RQ job ids allow no dots), so a burst of 10,000
deliveries enqueues one job, not 10,000; the job drains the shop's due events. Keyed by domain,
not shop id, because a signed delivery for a shop we have no row for is processed too.
Delayed nudges are `webhooks|<domain>`. Everything here is best effort: the sweeper finds due
events in PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from notifyme.delivery import nudges

logger = logging.getLogger(__name__)

KIND = "webhooks"
LANE = "sync"
JOB = "notifyme.webhooks.jobs.process_shop_events"
DELAYED_PREFIX = "webhooks"


def _key(shop_domain: str) -> str:
    return shop_domain.removesuffix(".myshopify.com")


def enqueue_shop(*, shop_domain: str, verify: bool = False) -> bool:
    """Enqueue the shop's job unless one is queued; True if enqueued. Raises Redis errors."""
    return nudges.enqueue_coalesced(kind=KIND, lane=LANE, key=_key(shop_domain), func=JOB,
                                    args=(shop_domain,), verify=verify)


def nudge_shop(*, shop_domain: str) -> bool:
    """`enqueue_shop`, logging instead of raising (the intake's on-commit nudge)."""
    try:
        return enqueue_shop(shop_domain=shop_domain)
    except Exception:
        logger.warning("could not nudge webhook processing for %s; the sweeper will",
                       shop_domain)
        return False


def job_started(*, shop_domain: str) -> None:
    nudges.job_started(kind=KIND, lane=LANE, key=_key(shop_domain))


def later_shop(*, shop_domain: str, seconds: float) -> bool:
    return nudges.later(DELAYED_PREFIX, shop_domain, seconds)


def _fire(arg: str) -> object:
    return enqueue_shop(shop_domain=arg)


#: What the sweeper process calls for due delayed nudges (registered in WebhooksConfig.ready()).
DELAYED: dict[str, Callable[[str], object]] = {DELAYED_PREFIX: _fire}
