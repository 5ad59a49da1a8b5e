"""`manage.py rotate_encryption_keys`: re-encrypt every stored secret under the newest key.

Secrets: Klaviyo private keys (`KlaviyoConnection.private_key_encrypted`) and Shopify access
and refresh tokens (`Shop.access_token_encrypted`, `Shop.refresh_token_encrypted`). Put the new
key first in `NOTIFYME_ENCRYPTION_KEYS` (keep the old ones after it), run this, then remove the
old keys.

Resumable: rows are walked in primary-key batches, each committed on its own; a row that already
decrypts with the newest key alone is skipped, so a re-run after an interruption only touches
what is left. Each write is conditional on the ciphertext being unchanged (a merchant reconnecting
meanwhile wins). Nothing secret is printed. Exit status 1 when some rows failed to decrypt.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from integrations.klaviyo.models import KEY_CONTEXT_PURPOSE, KlaviyoConnection
from notifyme.core import crypto
from notifyme.shops.models import Shop


@dataclass(frozen=True)
class SecretColumn:
    label: str
    model: Any  # a model class with the default manager `objects`
    field: str
    context: Callable[[Any], str]
    related: tuple[str, ...] = ()


COLUMNS = (
    SecretColumn("Klaviyo private keys", KlaviyoConnection, "private_key_encrypted",
                 lambda row: row.shop.secret_context(KEY_CONTEXT_PURPOSE), ("shop",)),
    SecretColumn("Shopify access tokens", Shop, "access_token_encrypted",
                 lambda row: row.secret_context("shopify_access_token")),
    SecretColumn("Shopify refresh tokens", Shop, "refresh_token_encrypted",
                 lambda row: row.secret_context("shopify_refresh_token")),
)


def _on_newest_key(token: str, context: str) -> bool:
    newest = crypto._fernet_for((settings.NOTIFYME_ENCRYPTION_KEYS[0],), context)
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the newest NOTIFYME_ENCRYPTION_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true",
                            help="Count what would be rotated; change nothing.")
        parser.add_argument("--batch-size", type=int, default=200)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.NOTIFYME_ENCRYPTION_KEYS:
            raise CommandError("NOTIFYME_ENCRYPTION_KEYS is empty")
        dry_run: bool = options["dry_run"]
        batch_size = max(1, int(options["batch_size"]))
        totals = {"rotated": 0, "current": 0, "failed": 0}
        for column in COLUMNS:
            counts = self._rotate_column(column, batch_size=batch_size, dry_run=dry_run)
            for name, value in counts.items():
                totals[name] += value
        verb = "would rotate" if dry_run else "rotated"
        self.stdout.write(
            f"Done: {verb} {totals['rotated']}, already current {totals['current']}, "
            f"failed {totals['failed']}."
        )
        if totals["failed"]:
            raise CommandError(
                f"{totals['failed']} secret(s) did not decrypt with any configured key; they "
                "were left unchanged (see the ids above). Keep the old keys until they are fixed."
            )

    def _rows(self, column: SecretColumn, batch_size: int) -> Iterator[list[Any]]:
        queryset = column.model.objects.exclude(**{column.field: ""}).order_by("pk")
        if column.related:
            queryset = queryset.select_related(*column.related)
        last_pk = 0
        while True:
            batch = list(queryset.filter(pk__gt=last_pk)[:batch_size])
            if not batch:
                return
            last_pk = batch[-1].pk
            yield batch

    def _rotate_column(
        self, column: SecretColumn, *, batch_size: int, dry_run: bool
    ) -> dict[str, int]:
        total = column.model.objects.exclude(**{column.field: ""}).count()
        counts = {"rotated": 0, "current": 0, "failed": 0}
        done = 0
        self._progress(column.label, done, total, counts)
        for batch in self._rows(column, batch_size):
            with transaction.atomic():
                for row in batch:
                    outcome = self._rotate_row(column, row, dry_run=dry_run)
                    counts[outcome] += 1
                    if outcome == "failed":
                        self.stderr.write(f"\n  {column.model.__name__} id={row.pk}: does not "
                                          "decrypt with any configured key")
            done += len(batch)
            self._progress(column.label, done, total, counts)
        if self._tty():
            self.stdout.write("")  # end the line the bar was redrawing
        return counts

    def _tty(self) -> bool:
        return bool(getattr(self.stdout, "isatty", lambda: False)())

    def _rotate_row(self, column: SecretColumn, row: Any, *, dry_run: bool) -> str:
        token = getattr(row, column.field)
        context = column.context(row)
        if _on_newest_key(token, context):
            return "current"
        try:
            rotated = crypto.rotate(token, context=context)
        except crypto.SecretDecryptionError:
            return "failed"
        if not dry_run:
            column.model.objects.filter(pk=row.pk, **{column.field: token}).update(
                **{column.field: rotated}
            )
        return "rotated"

    def _progress(self, label: str, done: int, total: int, counts: dict[str, int]) -> None:
        width = 30
        filled = width if total == 0 else int(width * done / total)
        bar = "#" * filled + "." * (width - filled)
        line = (f"{label:<22} [{bar}] {done}/{total}  rotated {counts['rotated']}, "
                f"current {counts['current']}, failed {counts['failed']}")
        end = "\r" if self._tty() else "\n"
        self.stdout.write(line, ending=end)
        if end == "\r":
            sys.stdout.flush()
