"""Every Shopify error kind has its own merchant-facing sentence, and scopes are checked."""

from __future__ import annotations

import inspect

from integrations.shopify import errors
from integrations.shopify.messages import SENTENCES, sentence_for
from integrations.shopify.scopes import REQUIRED_SCOPES, SCOPE_REASONS, missing_scopes


def _kinds() -> set[str]:
    return {cls.kind for _, cls in inspect.getmembers(errors, inspect.isclass)
            if issubclass(cls, errors.ShopifyError)}


def test_every_error_kind_has_a_sentence() -> None:
    assert _kinds() <= set(SENTENCES)
    assert sentence_for("no such kind") == SENTENCES["unknown"]


def test_missing_scopes_are_named_to_the_merchant() -> None:
    text = sentence_for(errors.MissingScopes(["read_locations", "read_inventory"]))
    assert "read_inventory, read_locations permissions" in text


def test_every_required_scope_has_a_reason_and_write_implies_read() -> None:
    assert set(REQUIRED_SCOPES) == set(SCOPE_REASONS)
    assert all(SCOPE_REASONS.values())
    assert missing_scopes({"write_products", "read_inventory", "read_locations",
                           "read_orders"}) == set()
    assert missing_scopes({"read_products"}) == {"read_inventory", "read_locations", "read_orders"}


def test_a_token_endpoint_answer_is_classified_once() -> None:
    assert isinstance(errors.token_outcome(400, {"error": "invalid_subject_token"}),
                      errors.InvalidSubjectToken)
    assert isinstance(errors.token_outcome(400, {"error": "invalid_grant"}),
                      errors.ReauthRequired)
    assert isinstance(errors.token_outcome(503, None), errors.ShopifyUnavailable)
    assert errors.token_outcome(200, {"access_token": "shpat_x", "scope": ""}) is None


def test_graphql_answers_are_classified_once() -> None:
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    assert isinstance(errors.graphql_outcome(200, throttled), errors.Throttled)
    assert isinstance(errors.graphql_outcome(429, throttled), errors.Throttled)
    assert isinstance(errors.graphql_outcome(401, None), errors.AccessTokenRejected)
    assert isinstance(errors.graphql_outcome(502, None), errors.ShopifyUnavailable)
    bad = errors.graphql_outcome(200, {"errors": [{"message": "Field 'x' doesn't exist"}]})
    assert isinstance(bad, errors.GraphQLErrors) and bad.messages == ("Field 'x' doesn't exist",)
    assert errors.graphql_outcome(200, {"data": {"shop": {}}}) is None
