"""CSV in and out: decoding an upload, reading its header, guarding cells against formulas.

Accepted headers (case, spaces, dashes and underscores do not matter); the first header that
names a column wins, other columns (e.g. a product title) are ignored and reported:

- email: email, email address, e-mail, customer email, subscriber email, contact email
- phone: phone, phone number, mobile, sms, sms phone, customer phone, phone_e164
- variant: variant id, shopify variant id, product variant id, variantid (a GID works too)
- sku: sku, variant sku (used when there is no variant id column or its cell is empty)
- marketing consent: marketing consent, email marketing consent, accepts marketing, consent,
  opt in, accepts email marketing, email consent
- sms consent: sms consent, sms marketing consent, accepts sms marketing, sms opt in
- timestamp: timestamp, created at, subscribed at, signed up at, signup date, date added,
  date created, created, date
- status: status, subscription status (only empty / active / waiting rows are imported: an
  alert that was cancelled or already sent stays ended)
- also: first name, country, locale / language, quantity, consent text version, sms consent
  text version

These cover our own export (its file imports back unchanged), Klaviyo's profile export
("Email", "Phone Number", "Email Marketing Consent": SUBSCRIBED/UNSUBSCRIBED/NEVER_SUBSCRIBED,
"Created") and the common back-in-stock apps' exports ("Customer Email", "Variant ID", "SKU",
"Accepts Marketing", "Created At"). Delimiter: comma, semicolon or tab (sniffed from the header).
Encoding: UTF-8 (with or without BOM), UTF-16 with BOM, or Windows-1252 (Excel's "CSV").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# The guard lives in core so that every CSV the app writes shares it (re-exported here).
from notifyme.core.spreadsheet import cell_guard
from notifyme.core.spreadsheet import cell_unguard as cell_unguard

COLUMNS: dict[str, tuple[str, ...]] = {
    "email": ("email", "email address", "e mail", "customer email", "subscriber email",
              "contact email"),
    "phone": ("phone", "phone number", "mobile", "sms", "sms phone", "customer phone",
              "phone e164"),
    "variant_id": ("variant id", "shopify variant id", "product variant id", "variantid"),
    "sku": ("sku", "variant sku"),
    "marketing_consent": ("marketing consent", "email marketing consent", "accepts marketing",
                          "consent", "opt in", "accepts email marketing", "email consent"),
    "sms_consent": ("sms consent", "sms marketing consent", "accepts sms marketing",
                    "sms opt in"),
    "timestamp": ("timestamp", "created at", "subscribed at", "signed up at", "signup date",
                  "date added", "date created", "created", "date"),
    "first_name": ("first name", "firstname", "given name"),
    "country": ("country", "country code"),
    "locale": ("locale", "language"),
    "quantity": ("quantity", "quantity wanted"),
    "consent_text_version": ("consent text version",),
    "sms_consent_text_version": ("sms consent text version",),
    "status": ("status", "subscription status"),
}
_ALIASES = {alias: column for column, aliases in COLUMNS.items() for alias in aliases}
_SEPARATORS = re.compile(r"[\s_\-]+")


class FileInvalid(ValueError):
    """The upload as a whole is unusable; `str(error)` is the merchant-facing sentence."""


@dataclass(frozen=True)
class Header:
    """Where each known column sits (`index[column]`), and the header cells not used."""

    index: dict[str, int]
    ignored: tuple[str, ...]


def decode(raw: bytes) -> str:
    """The upload's text; FileInvalid when it is not text in an encoding we take."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates: Sequence[str] = ("utf-16",)
    else:
        candidates = ("utf-8-sig", "cp1252")
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise FileInvalid("The file must be a CSV file saved as UTF-8 text.")


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t")
    except csv.Error:
        return csv.excel


def rows(text: str) -> Iterator[list[str]]:
    """Every record of the file, the header first (blank lines skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""), _dialect(text), strict=True)
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                yield record
    except csv.Error as error:
        raise FileInvalid(f"The file is not valid CSV near line {reader.line_num}: {error}."
                          ) from None


def header_read(cells: Sequence[str]) -> Header:
    """Map the header row to known columns; FileInvalid naming what is missing."""
    index: dict[str, int] = {}
    ignored: list[str] = []
    for position, cell in enumerate(cells):
        name = _SEPARATORS.sub(" ", cell.strip().lstrip("\ufeff").lower()).strip()
        column = _ALIASES.get(name)
        if column is None or column in index:
            ignored.append(cell.strip()[:60])
        else:
            index[column] = position
    if "email" not in index and "phone" not in index:
        raise FileInvalid("The file needs an email or a phone column (e.g. a header "
                          "\"email\" or \"phone\").")
    if "variant_id" not in index and "sku" not in index:
        raise FileInvalid("The file needs a variant column: a header \"variant_id\" (the "
                          "Shopify variant id) or \"sku\".")
    return Header(index=index, ignored=tuple(ignored))


class LineWriter:
    """Writes one guarded CSV record at a time and hands it back (for streaming)."""

    def __init__(self) -> None:
        self._text = ""
        self._writer = csv.writer(self)

    def write(self, text: str) -> int:  # the file-like sink csv.writer writes into
        self._text = text
        return len(text)

    def line(self, cells: Sequence[object]) -> str:
        """One CSV record (CRLF-terminated, as Excel writes), every cell guarded."""
        self._writer.writerow([cell_guard(cell) for cell in cells])
        return self._text
