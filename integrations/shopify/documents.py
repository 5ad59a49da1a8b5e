"""Every GraphQL query and mutation the app sends to the Admin API, by operation name.

One module, so `tests/shopify_client/test_documents_schema.py` can validate each against
Shopify's official 2026-10 schema (a misspelt field fails the suite, not a merchant's sync).
Documents are append-only for other helpers: add a `_doc(...)` below and it is validated too.

Conventions: numeric ids through `legacyResourceId` (they exceed 2**53: parse as int, never
float); "published to the Online Store" is `publishedAt` + `onlineStoreUrl` (a product with
an Online Store URL is visible there); a variant's stock detail is its inventory item
(`tracked`) and levels `quantities(names: ["available"])` per location. Page sizes are
variables so callers keep each query's requested cost well under the single-query limit.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    """A named GraphQL operation; `name` is the operation name inside `text`."""

    name: str
    text: str


DOCUMENTS: dict[str, Document] = {}


def _doc(name: str, text: str) -> Document:
    document = Document(name, text.strip())
    DOCUMENTS[name] = document
    return document


_VARIANT_FIELDS = """
      legacyResourceId
      title
      sku
      price
      inventoryPolicy
      inventoryQuantity
      updatedAt
      image { url }
      inventoryItem { legacyResourceId tracked }
"""

_PRODUCT_FIELDS = """
      legacyResourceId
      title
      handle
      status
      publishedAt
      onlineStoreUrl
      updatedAt
      featuredMedia { preview { image { url } } }
"""

# `billingAddress` is deprecated in favour of `shopAddress` (same fields); the stand-in serves
# only the former so far. Switch when it serves `shopAddress`.
SHOP_INFO = _doc("ShopInfo", """
query ShopInfo {
  shop {
    id
    name
    email
    myshopifyDomain
    currencyCode
    ianaTimezone
    billingAddress { countryCodeV2 }
  }
}
""")

CATALOG_PRODUCTS_PAGE = _doc("CatalogProductsPage", """
query CatalogProductsPage($first: Int!, $after: String, $variantsFirst: Int!) {
  products(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {""" + _PRODUCT_FIELDS + """
      variants(first: $variantsFirst) {
        pageInfo { hasNextPage endCursor }
        nodes {""" + _VARIANT_FIELDS + """
        }
      }
    }
  }
}
""")

PRODUCT_VARIANTS_PAGE = _doc("ProductVariantsPage", """
query ProductVariantsPage($id: ID!, $first: Int!, $after: String) {
  product(id: $id) {
    legacyResourceId
    variants(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {""" + _VARIANT_FIELDS + """
      }
    }
  }
}
""")

CATALOG_COUNTS = _doc("CatalogCounts", """
query CatalogCounts {
  productsCount(limit: null) { count precision }
  productVariantsCount(limit: null) { count precision }
}
""")

INVENTORY_ITEM_VARIANT = _doc("InventoryItemVariant", """
query InventoryItemVariant($id: ID!) {
  inventoryItem(id: $id) {
    legacyResourceId
    tracked
    variant {""" + _VARIANT_FIELDS + """
      product {""" + _PRODUCT_FIELDS + """
      }
    }
  }
}
""")

VARIANTS_INVENTORY = _doc("VariantsInventory", """
query VariantsInventory($ids: [ID!]!, $levelsFirst: Int!) {
  nodes(ids: $ids) {
    ... on ProductVariant {
      legacyResourceId
      inventoryQuantity
      product { legacyResourceId }
      inventoryItem {
        legacyResourceId
        tracked
        inventoryLevels(first: $levelsFirst) {
          nodes {
            location { legacyResourceId }
            quantities(names: ["available"]) { name quantity }
            updatedAt
          }
        }
      }
    }
  }
}
""")

LOCATIONS = _doc("Locations", """
query Locations($first: Int!, $after: String) {
  locations(first: $first, after: $after, includeInactive: true) {
    pageInfo { hasNextPage endCursor }
    nodes {
      legacyResourceId
      name
      isActive
      fulfillsOnlineOrders
    }
  }
}
""")

BULK_CATALOG_RUN = _doc("BulkCatalogRun", """
mutation BulkCatalogRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status }
    userErrors { field message code }
  }
}
""")

BULK_OPERATION_STATUS = _doc("BulkOperationStatus", """
query BulkOperationStatus($id: ID!) {
  bulkOperation(id: $id) {
    id
    status
    errorCode
    objectCount
    rootObjectCount
    url
    partialDataUrl
  }
}
""")

# The inner queries of bulk operations (sent as the `query` variable of BulkCatalogRun, and
# validated as documents too). Bulk queries take no `first`; each nested connection's nodes
# come out as their own JSONL lines carrying `__parentId` (hence `id` on every parent).
BULK_CATALOG_QUERY = """
{
  products {
    edges {
      node {
        id""" + _PRODUCT_FIELDS + """
        variants {
          edges {
            node {
              id""" + _VARIANT_FIELDS + """
            }
          }
        }
      }
    }
  }
}
""".strip()

BULK_INVENTORY_QUERY = """
{
  inventoryItems {
    edges {
      node {
        id
        legacyResourceId
        tracked
        variant { legacyResourceId }
        inventoryLevels {
          edges {
            node {
              location { legacyResourceId }
              quantities(names: ["available"]) { name quantity }
              updatedAt
            }
          }
        }
      }
    }
  }
}
""".strip()

# The catalog sync's second export (helper "install"): every variant's levels. From
# `productVariants` (two connection levels: within Shopify's bulk nesting limit), so each level
# line's `__parentId` is its variant's `id`.
BULK_VARIANT_LEVELS_QUERY = """
{
  productVariants {
    edges {
      node {
        id
        legacyResourceId
        inventoryItem {
          id
          legacyResourceId
          inventoryLevels {
            edges {
              node {
                location { legacyResourceId }
                quantities(names: ["available"]) { name quantity }
                updatedAt
              }
            }
          }
        }
      }
    }
  }
}
""".strip()

BULK_QUERIES: dict[str, str] = {"catalog": BULK_CATALOG_QUERY, "inventory": BULK_INVENTORY_QUERY,
                                "variant_levels": BULK_VARIANT_LEVELS_QUERY}
