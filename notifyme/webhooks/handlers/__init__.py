"""Topic handlers: one thin module per group of topics, each a call into its domain's service.

Each handler is a `TopicHandler` (`notifyme.webhooks.context`): it takes a `WebhookContext` and
returns a one-line outcome for support; it raises `EventIgnored(reason)` when the event does not
apply (e.g. an unknown shop), `RetryLater(reason)` (or a Shopify outage) when waiting can fix
it, and anything else fails the event alone with the reason. Rows go in `topics.TOPICS`.
"""
