"""The base of every work row: what leasing, fencing, backoff and the sweeper rely on.

Saleor keeps a delivery row per event and an attempt row per call; here the work rows are the
domain's own outbox tables (OutboxItem, ImportBatch, RestockDelivery: each written in the same
transaction as the change that caused it) and the attempt rows are `SyncAttempt`. Every work row
has the same lifecycle fields:

- `state`: `pending` while there is work left (subclasses add their final states);
- `available_at`: not before (rate-limit waits, backoff, the next poll); a subclass may allow
  NULL for rows that are not released yet (batched restocks);
- `leased_until` / `lease_token`: a worker holds the row until then, under that token. Every
  outcome helper in `notifyme.delivery.leasing` requires the token, so a worker whose lease
  expired (and was claimed by another) cannot overwrite the new holder's outcome;
- `attempts`: failed tries (drives backoff and `policy.MAX_ATTEMPTS`);
- `last_error`: the last reason, for support.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

PENDING = "pending"


class WorkRow(models.Model):
    state = models.CharField(max_length=16, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    available_at = models.DateTimeField(default=timezone.now)
    leased_until = models.DateTimeField(null=True, blank=True)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    last_error = models.TextField(blank=True)

    class Meta:
        abstract = True
