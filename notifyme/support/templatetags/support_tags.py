"""Small helpers for the support templates: ages, durations, and links to other parts' views
that may not be installed (the actions live in another module: a button whose URL name does
not resolve is simply not rendered)."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

register = template.Library()


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400 * 2:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"


@register.filter
def age(value: datetime | None) -> str:
    """"5 min ago"; "—" for none."""
    if not value:
        return "—"
    return _span((timezone.now() - value).total_seconds()) + " ago"


@register.filter
def seconds(value: float | None) -> str:
    return _span(value) if value else "—"


@register.simple_tag
def optional_url(name: str, **kwargs: str) -> str:
    """reverse(name, kwargs=kwargs), or "" when no such URL is installed."""
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        return ""
