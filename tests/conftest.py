"""Suite-wide fixtures: real PostgreSQL (pytest-django), real Redis, real Klaviyo sandbox."""

pytest_plugins = [
    "tests.fixtures.redis",
    "tests.fixtures.shopify",
    "tests.fixtures.shopify_scripted",
    "tests.fixtures.sandbox",
    "tests.fixtures.shopify_standin",
    "tests.fixtures.klaviyo_keys",
    "tests.fixtures.browser",
]


import pytest  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _webhook_group_writers_closed(django_db_setup: object) -> object:
    """The intake's writer thread holds a connection to the test database, which could not be
    dropped at the end of the session with it open."""
    yield
    from notifyme.webhooks.intake import group_writers_close

    group_writers_close()
