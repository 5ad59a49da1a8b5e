"""The privacy handler's minute sweep (registered in PrivacyConfig.ready()): nudge Klaviyo
erasures that are due or stranded (`erasure.erasures_sweep`), and forget the subject of data
requests past their 30 days (`reports.report_close`), so a report nobody opened does not keep
the shopper's identifiers. Reads PostgreSQL only and is cheap when nothing is due."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from notifyme.privacy import erasure, reports
from notifyme.privacy.models import ComplianceRequest


def data_requests_expire() -> int:
    """Close open data requests whose report expired; returns how many."""
    expired = ComplianceRequest.objects.filter(subject_expires_at__lte=timezone.now())
    count = 0
    for row in expired[:500]:
        reports.report_close(request=row, note="")
        count += 1
    return count


def privacy_sweep() -> dict[str, Any]:
    return {"erasures": erasure.erasures_sweep(), "expired_reports": data_requests_expire()}
