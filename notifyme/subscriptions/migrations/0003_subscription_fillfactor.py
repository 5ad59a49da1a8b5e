"""Room on every page for a new version of each row, so a backlog's sync-state update is HOT.

The sync (sync_state, synced_at, sync_error) and notify updates touch no indexed column, so
PostgreSQL can write them as heap-only tuples, without an entry in each of the table's seven
indexes — but only where the row's page has room. Rows arrive densely packed (fillfactor 100),
and a bulk round updates every row of a page in one statement, so all but a few updates went to
another page and wrote every index: 26 µs of database time per subscriber in bench/backlog.py.
At 55 a page keeps room for one new version of each of its rows. Applies to rows written from
now on (a `VACUUM FULL` repacks existing ones).
"""

from django.db import migrations

FILLFACTOR = 55


def set_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE subscriptions_subscription SET (fillfactor = {FILLFACTOR})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE subscriptions_subscription RESET (fillfactor)")


class Migration(migrations.Migration):

    dependencies = [("subscriptions", "0002_fewer_indexes")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
