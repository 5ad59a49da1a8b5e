"""One spelling per mailbox: the normalised email address we compare, limit and send.

A shopper's address can reach us in many spellings of one mailbox: fullwidth characters from an
East Asian keyboard, an internationalised domain or its punycode form, invisible characters
pasted along with it, a needlessly quoted local part, any letter case. `email_normalize` maps
all of them to one ASCII address, which is what the app stores in `Subscription.email`, dedupes
and rate-limits on, and sends to Klaviyo (which accepts ASCII addresses); the form the shopper
typed is kept beside it for display only (`Subscription.email_display`).

Steps, in order: drop invisible characters (zero-width space / joiners, word joiner, BOM, soft
hyphen, ...); NFKC (fullwidth → ASCII, compatibility forms folded); split at the last "@"; the
local part loses quotes it does not need and is lower-cased — it must then be ASCII (what
Klaviyo and most mail systems take) and at most 64 characters; the domain goes through IDNA
(UTS #46 mapping, so case and width are folded too) to its punycode form; the whole address must
then be at most 254 characters and pass Django's email validator.
"""

from __future__ import annotations

import re
import unicodedata

import idna
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

MAX_EMAIL_LENGTH = 254
MAX_LOCAL_LENGTH = 64
#: Characters that render as nothing, so two spellings that look the same differ only in them.
INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c"
             "\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
             "\u2066\u2067\u2068\u2069\u3164\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07"
             "\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff\uffa0"),
    None,
)
DOT_ATOM = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*",
                      re.IGNORECASE)
QUOTED_PAIR = re.compile(r"\\(.)")

_validator = EmailValidator(allowlist=[])  # no "user@localhost" on a storefront


class EmailInvalid(ValueError):
    """The address cannot be normalised; `str(error)` is the shopper-facing message."""


def _local_part(local: str) -> str:
    if len(local) >= 2 and local.startswith('"') and local.endswith('"'):
        inner = QUOTED_PAIR.sub(r"\1", local[1:-1])
        # "ada"@x.com is ada@x.com; "a..b"@x.com needs its quotes (and keeps them).
        local = inner if DOT_ATOM.fullmatch(inner) else local
    if not local.isascii():
        raise EmailInvalid("Use an address with only Latin letters, digits and punctuation "
                           "before the @.")
    # The whole address is lower-cased, not just the domain: RFC 5321 lets a local part be
    # case-sensitive, but no mainstream provider does, and Klaviyo matches profiles by email
    # case-insensitively. So "Ada@x.com" and "ada@x.com" are one contact, one subscription.
    local = local.lower()
    if len(local) > MAX_LOCAL_LENGTH:
        raise EmailInvalid(f"The part before the @ must be at most {MAX_LOCAL_LENGTH} "
                           "characters.")
    return local


def _domain(domain: str) -> str:
    domain = domain.removesuffix(".")
    try:
        return idna.encode(domain, uts46=True, std3_rules=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):  # too long labels land here too
        raise EmailInvalid("Enter a valid email address.") from None


def email_normalize(value: str) -> str:
    """The one spelling of the mailbox `value` names; raise EmailInvalid when there is none.

    `value` must be storable text already (no surrogates or control characters).
    """
    text = unicodedata.normalize("NFKC", value.translate(INVISIBLE)).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise EmailInvalid("Enter a valid email address.")
    address = f"{_local_part(local)}@{_domain(domain)}"
    if len(address) > MAX_EMAIL_LENGTH:
        raise EmailInvalid(f"Must be at most {MAX_EMAIL_LENGTH} characters.")
    try:
        _validator(address)
    except ValidationError:
        raise EmailInvalid("Enter a valid email address.") from None
    return address


def email_normalize_or_keep(value: str) -> str:
    """`email_normalize`, or `value` lower-cased when it cannot be normalised (rows stored
    before normalisation existed keep working; used by the data migration)."""
    try:
        return email_normalize(value)
    except EmailInvalid:
        return value.strip().lower()[:MAX_EMAIL_LENGTH]
