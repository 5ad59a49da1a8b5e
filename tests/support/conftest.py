"""Support fixtures: a staff browser session (Django's client, signed in through the admin
login form as a support engineer would) and a signed-in user who is not staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

STAFF_PASSWORD = "pw-support-123"


@pytest.fixture
def staff(db: None) -> Client:
    User.objects.create_user("support", "support@example.com", STAFF_PASSWORD, is_staff=True)
    client = Client()
    response = client.post("/admin/login/?next=/support/",
                           {"username": "support", "password": STAFF_PASSWORD,
                            "next": "/support/"})
    assert response.status_code == 302 and response["Location"] == "/support/"
    return client


@pytest.fixture
def non_staff(db: None) -> Client:
    user = User.objects.create_user("merchant-person", "m@example.com", "pw-not-staff-123")
    client = Client()
    client.force_login(user)
    return client
