"""The admin index speaks English: every model's plural follows the spelling rules Django's
default (name + "s") gets wrong ("Stock watchs", "Import batchs", "Restock deliverys")."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.test import Client


def english_plural(singular: str) -> str:
    """The regular English plural of the last word (the rules our model names need)."""
    if singular.endswith("settings"):
        return singular  # a plural noun already ("restock settings")
    if re.search(r"(s|x|z|ch|sh)$", singular):
        return singular + "es"
    if re.search(r"[^aeiou]y$", singular):
        return singular[:-1] + "ies"
    return singular + "s"


@pytest.mark.parametrize("singular,plural", [
    ("stock watch", "stock watches"), ("import batch", "import batches"),
    ("restock delivery", "restock deliveries"), ("klaviyo erasure", "klaviyo erasures"),
    ("catalog settings", "catalog settings"), ("sync attempt", "sync attempts"),
    ("day", "days"),
])
def test_the_rule_itself(singular: str, plural: str) -> None:
    assert english_plural(singular) == plural


OURS = [m for m in apps.get_models()
        if m.__module__.startswith(("notifyme.", "integrations."))]


@pytest.mark.parametrize("model", OURS, ids=lambda m: m.__name__)
def test_every_model_plural_is_english(model: type) -> None:
    meta = model._meta  # type: ignore[attr-defined]
    assert str(meta.verbose_name_plural) == english_plural(str(meta.verbose_name))


@pytest.mark.django_db
def test_admin_index_lists_the_corrected_names(client: Client) -> None:
    client.force_login(User.objects.create_superuser("support", "s@example.com", "pw"))
    page = client.get("/admin/").content.decode()
    assert "Stock watches" in page and "Import batches" in page
    assert "watchs" not in page and "batchs" not in page
