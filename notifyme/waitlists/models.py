"""One CSV waitlist import: the uploaded rows until they are imported, progress, error report.

The file's text stays in `source_csv` only while rows are left to import (it holds shoppers'
contacts, like the subscriptions it becomes) and is blanked when the import ends. The error
report is CSV text (`row,field,message`), row numbers as a spreadsheet shows them (the header
is row 1). `next_row` is the index of the first data row not yet imported, so a job that died
resumes there (re-importing a row is harmless anyway: see `importing`).
"""

from __future__ import annotations

from django.db import models

from notifyme.core.models import TimeStampedModel
from notifyme.shops.models import Shop


class WaitlistImport(TimeStampedModel):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    UNFINISHED = (State.QUEUED, State.RUNNING)

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="waitlist_imports")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    filename = models.CharField(max_length=255, blank=True)
    source_csv = models.TextField(blank=True, help_text="Blanked when the import ends")
    total_rows = models.PositiveIntegerField(default=0)
    next_row = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    existing_count = models.PositiveIntegerField(default=0)
    failed_count = models.PositiveIntegerField(default=0)
    error_report = models.TextField(blank=True)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "waitlist import"
        indexes = [models.Index(fields=["shop", "-created_at"], name="waitlist_import_recent")]

    def __str__(self) -> str:
        return f"import #{self.pk} ({self.filename or 'upload'}, {self.state})"
