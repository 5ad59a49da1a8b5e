"""What can go wrong talking to Shopify, by what the caller should do about it.

(A minimal version written by helper "webhooks" to the names in INTERFACES.md, so the webhook
job can tell "retry later" from the rest; the helper "client" owns this module.)
"""

from __future__ import annotations


class ShopifyError(Exception):
    kind = "shopify_error"

    def __init__(self, message: str = "", *, kind: str | None = None) -> None:
        super().__init__(message or self.kind)
        if kind:
            self.kind = kind


class InvalidSubjectToken(ShopifyError):
    """Token exchange refused the ID token (400 `invalid_subject_token`): bounce for a new one."""

    kind = "invalid_subject_token"


class ReauthRequired(ShopifyError):
    """The refresh token is missing, expired or refused: only the merchant can fix it."""

    kind = "reauth_required"


class ShopifyUnavailable(ShopifyError):
    """5xx, timeout, connection error: retry later."""

    kind = "unavailable"


class GraphQLErrors(ShopifyError):
    kind = "graphql_errors"

    def __init__(self, message: str = "", *, messages: list[str] | None = None,
                 codes: list[str] | None = None) -> None:
        super().__init__(message or "; ".join(messages or []))
        self.messages = messages or []
        self.codes = codes or []


class BulkOperationFailed(ShopifyError):
    kind = "bulk_operation_failed"
