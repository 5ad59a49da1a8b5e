"""STUB until h-client is merged (INTERFACES.md names only)."""
from __future__ import annotations


class ShopifyError(Exception):
    def __init__(self, message: str = "", *, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind or type(self).__name__


class InvalidSubjectToken(ShopifyError):
    pass


class ReauthRequired(ShopifyError):
    pass


class ShopifyUnavailable(ShopifyError):
    pass


class GraphQLErrors(ShopifyError):
    pass


class BulkOperationFailed(ShopifyError):
    pass
