"""The health board's page of shops: filter, sort broken first, paginate, then facts (reads).

`board_page` validates its inputs (`BoardQueryInvalid` names the field), runs the ranked
queryset in the database (count + one page) and loads the page's facts and problems with a
constant number of queries (`health.facts_for`), so 50 shops cost what 5 do and 10,000 shops
are 200 pages of the same cost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Q

from integrations.klaviyo.revision import RevisionStatus, revision_status
from notifyme.support.catalogue import entry
from notifyme.support.facts import RANK, STATUS_LABELS, STATUSES, Facts
from notifyme.support.health import facts_for, shops_ranked
from notifyme.support.problems import Problem, problems_for
from notifyme.webhooks import signature_failures
from notifyme.webhooks.signature_failures import Failures

PER_PAGE = 50
RANK_FIELD = "health_rank"  # the annotation of `shops_ranked`
MAX_QUERY_LENGTH = 255


class BoardQueryInvalid(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}")


@dataclass
class Row:
    facts: Facts
    problems: list[Problem]

    @property
    def actions(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "action"]


@dataclass
class BoardPage:
    rows: list[Row]
    number: int
    pages: int
    total: int
    status: str
    q: str
    counts: dict[str, int]
    revision: RevisionStatus
    #: Refused webhook deliveries of every claimed domain, known shop or not.
    signature_failures: Failures | None = None
    statuses: tuple[tuple[str, str], ...] = field(default=STATUSES)

    @property
    def status_counts(self) -> list[tuple[str, str, int]]:
        return [(value, label, self.counts.get(value, 0)) for value, label in self.statuses]

    @property
    def all_count(self) -> int:
        return sum(self.counts.values())

    @property
    def signature_fix(self) -> str:
        return entry("webhook", "invalid_signature").fix

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def board_query_clean(*, status: str | None, q: str | None, page: str | None
                      ) -> tuple[str, str, int]:
    """(status, q, page) from the raw GET values; raise BoardQueryInvalid naming the field."""
    status = (status or "").strip()
    if status and status not in STATUS_LABELS:
        raise BoardQueryInvalid("status", "Choose one of: " + ", ".join(STATUS_LABELS) + ".")
    text = (q or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise BoardQueryInvalid("q", f"Search at most {MAX_QUERY_LENGTH} characters.")
    if "\x00" in text:  # PostgreSQL cannot compare text with NUL in it
        raise BoardQueryInvalid("q", "The search cannot contain NUL characters.")
    raw_page = (page or "1").strip()
    if not raw_page.isdigit() or int(raw_page) < 1 or len(raw_page) > 6:
        raise BoardQueryInvalid("page", "The page must be a whole number from 1.")
    return status, text, int(raw_page)


def board_page(*, status: str = "", q: str = "", page: int = 1, now: datetime,
               today: date, per_page: int | None = None) -> BoardPage:
    """One page of the board (a page past the end shows the last page); `per_page` defaults
    to `settings.SUPPORT_BOARD_PAGE_SIZE` (50)."""
    per_page = per_page or int(getattr(settings, "SUPPORT_BOARD_PAGE_SIZE", PER_PAGE))
    ranked = shops_ranked(now=now)
    if q:
        ranked = ranked.filter(Q(domain__icontains=q) | Q(name__icontains=q))
    counts = {STATUSES[row[RANK_FIELD]][0]: row["n"] for row in
              ranked.order_by().values(RANK_FIELD).annotate(n=Count("id"))}
    if status:
        ranked = ranked.filter(**{RANK_FIELD: RANK[status]})
    paginator = Paginator(ranked, per_page)
    paginator.count = counts.get(status, 0) if status else sum(counts.values())
    current = paginator.get_page(page)
    facts = facts_for(list(current.object_list), now=now)
    rows = [Row(f, problems_for(f, now=now, today=today)) for f in facts]
    return BoardPage(rows=rows, number=current.number, pages=paginator.num_pages,
                     total=paginator.count, status=status, q=q, counts=counts,
                     revision=revision_status(today=today),
                     signature_failures=signature_failures.global_counts(now=now))
