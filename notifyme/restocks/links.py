"""The alert's link: the product URL a "Back in Stock" event carries, tagged with UTM parameters.

The restock owns the link it sends, so the tag is defined here, once: `alert_url` adds
`utm_source=notifyme&utm_medium=back_in_stock&utm_campaign=restock-<id>` to the storefront URL
(keeping its `?variant=`), and `alert_link_parse` reads a landing URL back (Shopify's order
`landing_site`, a path with its query, or a full URL). Recovered revenue
(`notifyme.revenue`) counts an order whose landing page carries the source and medium as
"direct"; the campaign names the restock. Parameter names are matched case-sensitively (as
analytics tools do) and values case-insensitively (some email tools lower-case links).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

UTM_SOURCE = "notifyme"
UTM_MEDIUM = "back_in_stock"
CAMPAIGN_PREFIX = "restock-"


def alert_url(product_url: str, *, restock_id: int) -> str:
    """`product_url` with the alert's UTM parameters ("" stays "": no handle, no link)."""
    if not product_url:
        return ""
    parts = urlsplit(product_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not k.startswith("utm_")]
    query += [("utm_source", UTM_SOURCE), ("utm_medium", UTM_MEDIUM),
              ("utm_campaign", f"{CAMPAIGN_PREFIX}{restock_id}")]
    return urlunsplit(parts._replace(query=urlencode(query)))


@dataclass(frozen=True)
class AlertLink:
    """What a landing URL says about the alert: came through one (`direct`), and which
    restock's (`restock_id`, None when the campaign is missing or not ours)."""

    direct: bool
    restock_id: int | None


NOT_AN_ALERT = AlertLink(direct=False, restock_id=None)


def alert_link_parse(landing: str | None) -> AlertLink:
    """Read the alert's tag from a landing URL or path; anything unreadable is not an alert."""
    if not landing or not isinstance(landing, str):
        return NOT_AN_ALERT
    try:
        query = dict(parse_qsl(urlsplit(landing.strip()).query, keep_blank_values=True))
    except ValueError:
        return NOT_AN_ALERT
    source = query.get("utm_source", "").strip().lower()
    medium = query.get("utm_medium", "").strip().lower()
    if (source, medium) != (UTM_SOURCE, UTM_MEDIUM):
        return NOT_AN_ALERT
    campaign = query.get("utm_campaign", "").strip().lower()
    number = campaign.removeprefix(CAMPAIGN_PREFIX)
    restock_id = int(number) if campaign.startswith(CAMPAIGN_PREFIX) and number.isdigit() \
        and len(number) < 19 else None
    return AlertLink(direct=True, restock_id=restock_id)
