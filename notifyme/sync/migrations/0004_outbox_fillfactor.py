"""Outbox pages keep room for a new version of every row, so a whole claim is HOT.

A claim sets `leased_until` and `lease_token` (unindexed) on thousands of consecutive rows in
one statement. At fillfactor 80 (0003) a page had room for a fifth of its rows' new versions,
so most of a claim still wrote all four indexes (30,000 of 252,000 updates were HOT in
bench/backlog.py). The table is a short-lived queue (done rows are pruned after days), so
the extra space costs little.
"""

from django.db import migrations

FILLFACTOR = 50


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE sync_outboxitem SET (fillfactor = {FILLFACTOR})")


def restore_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE sync_outboxitem SET (fillfactor = 80)")


class Migration(migrations.Migration):

    dependencies = [("sync", "0003_outbox_partial_index")]

    operations = [migrations.RunPython(set_fillfactor, restore_fillfactor)]
