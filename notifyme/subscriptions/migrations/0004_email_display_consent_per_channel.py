"""Normalised emails, the address as typed, and marketing consent per channel.

Existing rows: `email_display` keeps the stored address and `email` becomes its normalised form
(`emails.email_normalize_or_keep`). Spellings of one mailbox that were each holding an active
alert for the same variant collapse into the oldest one; the others end as unsubscribed, with no
outbox row (the oldest stays active, so the shopper still hears once and stays on the list).
The one-active-alert-per-email constraint is dropped for the rewrite and rebuilt after it.
`marketing_consent` keeps meaning email marketing; SMS consent starts unset (it was never asked
for separately).
"""

from django.db import migrations, models
from django.db.models import Q
from django.utils import timezone

from notifyme.subscriptions.emails import email_normalize_or_keep

BATCH = 2000


def _checks_now(schema_editor):
    # Deferred foreign-key checks queued by these UPDATEs would otherwise still be pending when
    # the constraint's index is built in the same transaction, which PostgreSQL refuses.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def normalise_emails(apps, schema_editor):
    _checks_now(schema_editor)
    Subscription = apps.get_model("subscriptions", "Subscription")
    rows = Subscription.objects.exclude(email="").only("id", "email").order_by("id")
    changed = []
    for sub in rows.iterator(chunk_size=BATCH):
        normal = email_normalize_or_keep(sub.email)
        sub.email_display, sub.email = sub.email, normal
        changed.append(sub)
        if len(changed) >= BATCH:
            Subscription.objects.bulk_update(changed, ["email", "email_display"])
            changed = []
    if changed:
        Subscription.objects.bulk_update(changed, ["email", "email_display"])
    _end_duplicates(Subscription)


def _end_duplicates(Subscription):
    seen = set()
    duplicates = []
    active = (Subscription.objects.filter(status="active").exclude(email="")
              .order_by("created_at", "id").values_list("id", "shop_id", "variant_id", "email"))
    for pk, shop_id, variant_id, email in active.iterator(chunk_size=BATCH):
        key = (shop_id, variant_id, email)
        if key in seen:
            duplicates.append(pk)
        seen.add(key)
    if duplicates:
        Subscription.objects.filter(pk__in=duplicates).update(
            status="unsubscribed", unsubscribed_at=timezone.now())


def restore_emails(apps, schema_editor):
    _checks_now(schema_editor)
    Subscription = apps.get_model("subscriptions", "Subscription")
    Subscription.objects.exclude(email_display="").update(email=models.F("email_display"))


class Migration(migrations.Migration):

    dependencies = [("subscriptions", "0003_subscription_fillfactor")]

    operations = [
        migrations.RemoveConstraint(
            model_name="subscription", name="one_active_subscription_per_email"),
        migrations.AlterField(
            model_name="subscription", name="email",
            field=models.EmailField(blank=True, help_text="Normalised", max_length=254)),
        migrations.AddField(
            model_name="subscription", name="email_display",
            field=models.CharField(blank=True, db_default="", default="", help_text="As typed",
                                   max_length=254)),
        migrations.RunPython(normalise_emails, restore_emails),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.UniqueConstraint(
                condition=Q(status="active") & ~Q(email=""),
                fields=("shop", "variant", "email"), name="one_active_subscription_per_email")),
        migrations.AlterField(
            model_name="subscription", name="marketing_consent",
            field=models.BooleanField(default=False, help_text="Email marketing")),
        migrations.AddField(
            model_name="subscription", name="sms_consent",
            field=models.BooleanField(db_default=False, default=False, help_text="SMS marketing")),
        migrations.AddField(
            model_name="subscription", name="sms_consent_text_version",
            field=models.CharField(blank=True, db_default="", default="", max_length=64)),
        migrations.AddField(
            model_name="subscription", name="sms_consented_at",
            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="subscription", name="marketing_withdrawn_at",
            field=models.DateTimeField(blank=True, null=True)),
    ]
