"""SyncAttempt.subscription (a foreign key to subscriptions) becomes `subscription_id`, a plain
indexed bigint: the integration knows no domain model.

No data moves: the column `subscription_id` and its index stay as they are; the database only
loses the foreign-key constraint (the AlterField to `db_constraint=False`), and the model state
swaps the relation for an integer field of the same column.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("klaviyo", "0001_initial"),
        ("subscriptions", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="syncattempt",
                    name="subscription",
                    field=models.ForeignKey(
                        blank=True, null=True, db_constraint=False,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="klaviyo_attempts", to="subscriptions.subscription",
                    ),
                ),
            ],
            state_operations=[
                migrations.RemoveField(model_name="syncattempt", name="subscription"),
                migrations.AddField(
                    model_name="syncattempt",
                    name="subscription_id",
                    field=models.BigIntegerField(blank=True, db_index=True, null=True),
                ),
            ],
        ),
    ]
