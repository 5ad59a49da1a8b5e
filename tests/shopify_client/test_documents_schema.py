"""Every document the app sends validates against Shopify's official 2026-10 Admin schema.

The schema comes from `sandboxes.shopify.schema.load_schema()` (../shared file, else the npm
package @shopify/dev-mcp): never skipped. A misspelt field, a wrong argument or a missing
required variable fails here, before Shopify would answer it with `errors`.
"""

from __future__ import annotations

import pytest
from graphql import GraphQLSchema, OperationDefinitionNode, parse, validate

from integrations.shopify.documents import BULK_QUERIES, DOCUMENTS, Document
from sandboxes.shopify.schema import load_schema


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return load_schema()


def _errors(schema: GraphQLSchema, text: str) -> list[str]:
    return [error.message for error in validate(schema, parse(text))]


@pytest.mark.parametrize("document", list(DOCUMENTS.values()), ids=list(DOCUMENTS))
def test_every_document_is_valid_against_the_official_schema(
    schema: GraphQLSchema, document: Document
) -> None:
    assert _errors(schema, document.text) == []


@pytest.mark.parametrize("name", list(BULK_QUERIES))
def test_every_bulk_operation_query_is_valid_too(schema: GraphQLSchema, name: str) -> None:
    assert _errors(schema, BULK_QUERIES[name]) == []


@pytest.mark.parametrize("document", list(DOCUMENTS.values()), ids=list(DOCUMENTS))
def test_each_document_is_one_operation_named_as_its_key(document: Document) -> None:
    operations = [d for d in parse(document.text).definitions
                  if isinstance(d, OperationDefinitionNode)]
    assert len(operations) == 1
    assert operations[0].name is not None and operations[0].name.value == document.name


def test_the_documents_the_contract_names_exist() -> None:
    assert {"ShopInfo", "CatalogProductsPage", "CatalogCounts", "InventoryItemVariant",
            "VariantsInventory", "Locations", "BulkCatalogRun",
            "BulkOperationStatus"} <= set(DOCUMENTS)


def test_the_validator_catches_a_misspelt_field(schema: GraphQLSchema) -> None:
    text = DOCUMENTS["CatalogProductsPage"].text.replace("onlineStoreUrl", "onlineStoreURL")
    assert text != DOCUMENTS["CatalogProductsPage"].text
    errors = _errors(schema, text)
    assert any("onlineStoreURL" in message for message in errors)


def test_the_validator_catches_a_misspelt_field_in_a_bulk_query(schema: GraphQLSchema) -> None:
    text = BULK_QUERIES["catalog"].replace("legacyResourceId", "legacyResourceID", 1)
    assert any("legacyResourceID" in message for message in _errors(schema, text))
