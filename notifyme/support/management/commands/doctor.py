"""`manage.py doctor <shop-domain> [--json] [--no-probe] [--today YYYY-MM-DD]`

The shop page's diagnosis in a terminal (`notifyme.support.diagnose.shop_diagnose`), with the
Klaviyo key's scopes and list re-probed live (nothing is saved by the probe). Exit codes: 0
healthy, 1 something needs action, 2 the shop is unknown. `--today` sets the date the API
revision's retirement is measured from (to rehearse the warning).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.klaviyo.models import KlaviyoConnection
from notifyme.support.diagnose import Diagnosis, ShopUnknown, shop_diagnose

EXIT_ACTION, EXIT_UNKNOWN = 1, 2


def _when(value: Any) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else "never"


def _flow_line(c: KlaviyoConnection) -> str:
    if not c.flow_state:
        return "not checked yet"
    flows = ", ".join(f"{f['name']} ({f['status']})" for f in c.flow_flows or [])
    return (f"{c.get_flow_state_display()} (checked {_when(c.flow_checked_at)})"
            + (f"; flows: {flows}" if flows else ""))


def _lines(d: Diagnosis) -> list[str]:
    f, shop, c = d.facts, d.facts.shop, d.facts.connection
    verdict = "NEEDS ACTION" if d.needs_action else "healthy"
    out = [f"Shop: {shop.domain} ({shop.display_name}): {verdict}",
           f"Install: {f.install_state} (installed {_when(shop.installed_at)}, authorization "
           f"{shop.auth_state})",
           "Tokens: access " + (f"present, expires {_when(shop.access_token_expires_at)}"
                                if shop.access_token_encrypted else "none")
           + "; refresh " + (f"present, expires {_when(shop.refresh_token_expires_at)}"
                             if shop.refresh_token_encrypted else "none"),
           f"Klaviyo: {f.connection_label}" + (
               f", key {c.key_display}, account {c.account_name or c.account_id}, "
               f"list {c.list_name or '-'} ({c.list_id or '-'})" if c and c.has_key else ""),
           "Klaviyo flow: " + (_flow_line(c) if c and c.has_key else "-"),
           f"Last success: {_when(f.last_success)}"]
    if d.probe is not None:
        p = d.probe
        scopes = ("all required present" if p.ok or not p.missing_scopes
                  else "missing " + ", ".join(p.missing_scopes))
        out.append(f"Probe (live): {'ok' if p.ok else p.kind}; scopes {scopes}; list "
                   + {True: "found", False: "NOT FOUND", None: "not checked"}[p.list_ok])
    out += [f"Backlog: {f.outbox_pending} subscriber syncs ({f.outbox_due} due, oldest "
            f"{_when(f.outbox_oldest)}), {f.restock_pending} restock alerts",
            f"Webhooks: {f.webhooks_pending} waiting (oldest {_when(f.webhook_oldest)})",
            f"Rate limits: {f.rate_limited_day} x 429 in 24 h, cool-down "
            f"{f.cool_down_seconds:.0f} s, Shopify bucket "
            + (f"{f.bucket.available:.0f}/{f.bucket.maximum:.0f}" if f.bucket else "unknown"),
            f"Klaviyo API revision: {d.revision.revision} retires {d.revision.retires_on} "
            f"({d.revision.days_left} days)"]
    out.append("Errors (24 h / 7 days):" if f.errors else "Errors: none in 7 days")
    out += [f"  {e.source}/{e.kind}: {e.day} / {e.week}  {e.entry.title}" for e in f.errors]
    if d.failures:
        out.append("Recent failed calls:")
        out += [f"  {x.at:%Y-%m-%d %H:%M:%S} {x.operation}{' (probe)' if x.is_probe else ''} "
                f"{x.status_code or 'no response'} {x.kind}"
                + (f" {x.code}" if x.code else "") + (f" id={x.error_id}" if x.error_id else "")
                for x in d.failures]
    if d.webhooks:
        out.append("Recent failed webhooks:")
        out += [f"  {w.received_at:%Y-%m-%d %H:%M:%S} {w.topic} {w.entry.kind}: {w.error[:120]}"
                for w in d.webhooks]
    out.append("Problems:" if d.problems else "Problems: none")
    for problem in d.problems:
        out += [f"  [{problem.severity.upper()}] {problem.entry.title}"
                + (f": {problem.detail}" if problem.detail else ""),
                f"    What happened: {problem.entry.explanation}",
                f"    Fix: {problem.fix}",
                f"    See /support/errors/#{problem.entry.anchor}"]
    return out


class Command(BaseCommand):
    help = "Diagnose one shop: install, tokens, Klaviyo (re-probed), backlog, errors and fixes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("shop_domain")
        parser.add_argument("--json", action="store_true", help="one JSON document")
        parser.add_argument("--no-probe", action="store_true",
                            help="use stored facts only (no Klaviyo call)")
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="the date to measure the API revision's retirement from")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            diagnosis = shop_diagnose(domain=options["shop_domain"], now=timezone.now(),
                                      today=options["today"] or timezone.localdate(),
                                      probe=not options["no_probe"])
        except ShopUnknown as unknown:
            if options["json"]:
                self.stdout.write(json.dumps({"shop": str(unknown), "error": "unknown_shop"}))
            raise CommandError(f"No shop {unknown} has installed the app.",
                               returncode=EXIT_UNKNOWN) from None
        if options["json"]:
            self.stdout.write(json.dumps(diagnosis.as_json(), indent=2))
        else:
            self.stdout.write("\n".join(_lines(diagnosis)))
        if diagnosis.needs_action:
            raise SystemExit(EXIT_ACTION)
