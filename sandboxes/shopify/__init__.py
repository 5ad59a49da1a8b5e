"""A local Shopify stand-in: shops, catalog, stock, token endpoint, Admin GraphQL, webhooks."""
