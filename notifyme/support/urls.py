"""`/support/`: one URL module per part, so each part owns its routes."""

from notifyme.support import action_urls, board_urls, metrics_urls, shopper_urls

app_name = "support"
urlpatterns = [
    *board_urls.urlpatterns,      # /support/ (health board), /support/errors/ (catalogue)
    *shopper_urls.urlpatterns,    # /support/shoppers/?q=… and one page per shopper
    *action_urls.urlpatterns,     # staff actions (re-verify, retry, pause/resume, reconcile)
    *metrics_urls.urlpatterns,    # /support/metrics (Prometheus text)
]
