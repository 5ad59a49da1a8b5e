"""The pinned Klaviyo API revision's retirement, and its warning on the board."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from integrations.klaviyo.revision import WARN_DAYS, retirement_date, revision_status


def test_the_pinned_revision_is_in_the_table_and_others_retire_after_two_years(
        settings: Any) -> None:
    assert retirement_date(settings.KLAVIYO_REVISION) == date(2028, 7, 15)
    assert retirement_date("2025-10-15") == date(2027, 10, 15)
    assert retirement_date("2024-02-29") == date(2026, 2, 28)
    assert retirement_date("latest") is None


@pytest.mark.parametrize(("today", "state", "days"), [
    (date(2028, 4, 15), "ok", 91), (date(2028, 4, 16), "retiring", WARN_DAYS),
    (date(2028, 7, 15), "retiring", 0), (date(2028, 7, 16), "retired", -1)])
def test_states_around_the_date(today: date, state: str, days: int) -> None:
    status = revision_status(today=today, revision="2026-07-15")
    assert (status.state, status.days_left) == (state, days)
    assert bool(status.warning) == (state != "ok")


def test_the_board_warns_when_the_pinned_revision_retires_within_90_days(
        staff: Client, settings: Any) -> None:
    assert 'id="revision-warning"' not in staff.get("/support/").content.decode()
    released = timezone.localdate() - timedelta(days=2 * 365 - 30)
    settings.KLAVIYO_REVISION = released.isoformat()
    page = staff.get("/support/").content.decode()
    assert 'id="revision-warning"' in page
    assert f"Klaviyo retires API revision {released.isoformat()}" in page
