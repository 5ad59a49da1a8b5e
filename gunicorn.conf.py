"""gunicorn settings for production: `gunicorn` started in the checkout's root reads this file
(or pass `-c gunicorn.conf.py`); the bind address stays a command-line choice, the worker
count and threads come from the environment (below).

The access log goes through `RedactingGunicornLogger` (notifyme/core/gunicorn_logger.py), which
masks the credentials that travel in URLs (the shoppers' cancel `token`, Shopify's proxy
`signature`, the App Bridge `id_token`) and bearer tokens in every atom, so no
`access_log_format` can print them; with LOG_FORMAT=json its lines are the app's JSON objects.
"""

import os

wsgi_app = "notifyme.wsgi:application"
accesslog = "-"
logger_class = "notifyme.core.gunicorn_logger.RedactingGunicornLogger"

# Threads, not more processes: a request mostly waits on PostgreSQL's commit and Redis, so one
# process per core with several threads keeps the cores busy without a copy of Django per
# request in flight, and gthread keeps connections alive (the sync worker closes every one,
# so each request paid a new TCP connection: bench/webhook_burst.py). Sized by environment:
# WEB_CONCURRENCY processes (default: one per core), GUNICORN_THREADS threads each.
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS") or 8)
keepalive = 5  # seconds an idle keep-alive connection stays open
timeout = 30  # a worker silent this long is restarted (no request here should take 1 s)
graceful_timeout = 30
