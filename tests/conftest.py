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
