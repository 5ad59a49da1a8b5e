"""The Klaviyo API revision the client pins, and when Klaviyo retires it.

Klaviyo versions its REST API by dated revisions (the `revision` header every request sends,
`settings.KLAVIYO_REVISION`). A revision is supported for two years after its release date and
then retired: requests pinned to it start failing. Klaviyo publishes the exact retirement date
in its changelog; `RETIREMENTS` records it for the revisions this code has pinned, and any other
revision is assumed to retire two years after its date. Support sees a warning `WARN_DAYS`
before the date (board and `manage.py doctor`), so the upgrade is planned, not an outage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.conf import settings

#: Revision → retirement date (release + 2 years, as Klaviyo's versioning policy states).
RETIREMENTS: dict[str, date] = {
    "2026-07-15": date(2028, 7, 15),
}
#: Warn this many days before a pinned revision retires.
WARN_DAYS = 90


@dataclass(frozen=True)
class RevisionStatus:
    revision: str
    retires_on: date | None
    days_left: int | None
    #: "ok", "retiring" (within WARN_DAYS) or "retired" (past the date); "unknown" when the
    #: revision is not a date.
    state: str

    @property
    def warning(self) -> str:
        """One sentence for support, or "" while nothing needs doing."""
        if self.state == "retiring":
            return (f"Klaviyo retires API revision {self.revision} on {self.retires_on} "
                    f"({self.days_left} days): upgrade KLAVIYO_REVISION and the client before "
                    "then.")
        if self.state == "retired":
            return (f"Klaviyo retired API revision {self.revision} on {self.retires_on}: "
                    "calls may fail; upgrade KLAVIYO_REVISION and the client now.")
        if self.state == "unknown":
            return f"The pinned Klaviyo API revision {self.revision!r} is not a known date."
        return ""


def retirement_date(revision: str) -> date | None:
    """The known date, else the revision's date + 2 years (None if it is not a date)."""
    if revision in RETIREMENTS:
        return RETIREMENTS[revision]
    try:
        released = date.fromisoformat(revision[:10])
    except ValueError:
        return None
    try:
        return released.replace(year=released.year + 2)
    except ValueError:  # 29 February
        return released.replace(year=released.year + 2, day=28)


def revision_status(*, today: date, revision: str | None = None) -> RevisionStatus:
    """Where the pinned (or given) revision stands on `today` (a parameter, so tests and
    callers choose the date; production passes `timezone.localdate()`)."""
    pinned = revision or str(settings.KLAVIYO_REVISION)
    retires = retirement_date(pinned)
    if retires is None:
        return RevisionStatus(pinned, None, None, "unknown")
    days = (retires - today).days
    state = "retired" if days < 0 else "retiring" if days <= WARN_DAYS else "ok"
    return RevisionStatus(pinned, retires, days, state)
