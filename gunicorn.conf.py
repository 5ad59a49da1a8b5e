"""gunicorn settings for production: `gunicorn` started in the checkout's root reads this file
(or pass `-c gunicorn.conf.py`); bind address and worker count stay command-line choices.

The access log goes through `RedactingGunicornLogger` (notifyme/core/gunicorn_logger.py), which
masks the credentials that travel in URLs (the shoppers' cancel `token`, Shopify's proxy
`signature`, the App Bridge `id_token`) and bearer tokens in every atom, so no
`access_log_format` can print them; with LOG_FORMAT=json its lines are the app's JSON objects.
"""

wsgi_app = "notifyme.wsgi:application"
accesslog = "-"
logger_class = "notifyme.core.gunicorn_logger.RedactingGunicornLogger"
