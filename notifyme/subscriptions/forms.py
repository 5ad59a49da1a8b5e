"""Strict validation of the storefront subscribe payload (JSON object or form fields).

`subscribe_input_validate` takes the decoded body as a mapping of field → raw value (JSON types,
or strings from a form) and returns a `SubscribeInput` with normalised values, or raises
`SubscribeInputInvalid` carrying one or more messages per bad field. It never raises anything
else for any input. Unknown fields (including a `shop` field: the shop comes only from the
signed query) are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import phonenumbers

from notifyme.subscriptions.emails import MAX_EMAIL_LENGTH, EmailInvalid, email_normalize

MAX_PHONE_INPUT_LENGTH = 32
MAX_CONSENT_VERSION_LENGTH = 64
MAX_LOCALE_LENGTH = 16
MAX_FIRST_NAME_LENGTH = 100
MAX_QUANTITY = 99
MAX_SHOPIFY_ID = 2**63 - 1

TRUE_STRINGS = frozenset({"true", "on", "1", "yes"})
FALSE_STRINGS = frozenset({"false", "off", "0", "no", ""})
LOCALE_RE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
COUNTRY_RE = re.compile(r"[A-Za-z]{2}")
# Text PostgreSQL cannot store (NUL; lone surrogates, which JSON's "\\ud800" escapes can carry
# and UTF-8 cannot encode) would fail the INSERT with a 500; no field here needs any control
# character either.
UNSTORABLE_RE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class SubscribeInput:
    """A validated storefront submission. `email` / `phone` are "" when not given.

    `email` is the normalised address (`emails.email_normalize`), `email_display` the address
    as the shopper typed it. `marketing_consent` is consent to email marketing, `sms_consent`
    to SMS marketing: two separate choices, each with the version of the wording shown.
    """

    variant_id: int
    email: str
    email_display: str
    phone: str
    country: str
    marketing_consent: bool
    consent_text_version: str
    sms_consent: bool
    sms_consent_text_version: str
    locale: str
    first_name: str
    quantity: int

    @property
    def contacts(self) -> list[str]:
        return [contact for contact in (self.email, self.phone) if contact]


class SubscribeInputInvalid(Exception):
    """The payload has bad fields: `fields` maps each field name to its messages."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(", ".join(sorted(fields)))
        self.fields = fields


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.fields.setdefault(name, []).append(message)


def _optional_string(data: Mapping[str, Any], name: str, errors: _Errors, max_length: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.add(name, "Must be text.")
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.add(name, f"Must be at most {max_length} characters.")
        return ""
    if UNSTORABLE_RE.search(value):
        errors.add(name, "Contains characters that are not allowed.")
        return ""
    return value


def _positive_int(value: Any) -> int | None:
    """An int (not a bool) or a string of ASCII digits, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = value.strip()
        if value.isascii() and value.isdigit() and len(value) <= 20:
            return int(value)
    return None


def _variant_id(data: Mapping[str, Any], errors: _Errors) -> int:
    raw = data.get("variant_id")
    if raw is None or raw == "":
        errors.add("variant_id", "Choose a variant.")
        return 0
    value = _positive_int(raw)
    if value is None or not 0 < value <= MAX_SHOPIFY_ID:
        errors.add("variant_id", "Must be a Shopify variant id (a positive whole number).")
        return 0
    return value


def _email(data: Mapping[str, Any], errors: _Errors) -> tuple[str, str]:
    """(normalised address, address as typed), or ("", "") when absent or invalid."""
    value = _optional_string(data, "email", errors, MAX_EMAIL_LENGTH)
    if not value:
        return "", ""
    try:
        return email_normalize(value), value
    except EmailInvalid as error:
        errors.add("email", str(error))
        return "", ""


def _country(data: Mapping[str, Any], errors: _Errors, default: str) -> str:
    value = _optional_string(data, "country", errors, 2)
    if not value:
        return default.upper()
    if not COUNTRY_RE.fullmatch(value):
        errors.add("country", "Must be a two-letter country code like US or FR.")
        return default.upper()
    return value.upper()


def _phone(data: Mapping[str, Any], errors: _Errors, country: str) -> str:
    value = _optional_string(data, "phone", errors, MAX_PHONE_INPUT_LENGTH)
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        errors.add("phone", "Enter a valid phone number, with the country code if abroad.")
        return ""
    if not phonenumbers.is_valid_number(number):
        errors.add("phone", "Enter a valid phone number, with the country code if abroad.")
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _choice(data: Mapping[str, Any], name: str, errors: _Errors) -> bool:
    value = data.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
        return value.strip().lower() in TRUE_STRINGS
    errors.add(name, "Must be true or false.")
    return False


#: Each channel's consent field, its wording-version field, and the contact field it needs.
CONSENT_CHANNELS = {
    "email": ("marketing_consent", "consent_text_version", "email", "Needs an email address."),
    "sms": ("sms_consent", "sms_consent_text_version", "phone", "Needs a phone number."),
}


def _consent(data: Mapping[str, Any], errors: _Errors, channel: str,
             contact: str) -> tuple[bool, str]:
    """One channel's marketing consent and the version of its wording. Consent needs the
    channel's own contact (`contact`, "" when not given); a bad contact is reported alone."""
    name, version_name, contact_name, missing = CONSENT_CHANNELS[channel]
    given = _choice(data, name, errors)
    version = _optional_string(data, version_name, errors, MAX_CONSENT_VERSION_LENGTH)
    if not given:
        return False, ""
    if not contact and contact_name not in errors.fields:
        errors.add(name, missing)
    if not version and version_name not in errors.fields:
        errors.add(version_name, "Required when marketing consent is given.")
    return True, version


def _quantity(data: Mapping[str, Any], errors: _Errors) -> int:
    raw = data.get("quantity")
    if raw is None or raw == "":
        return 1
    value = _positive_int(raw)
    if value is None or not 1 <= value <= MAX_QUANTITY:
        errors.add("quantity", f"Must be a whole number from 1 to {MAX_QUANTITY}.")
        return 1
    return value


def subscribe_input_validate(
    data: Mapping[str, Any], *, default_country: str
) -> SubscribeInput:
    """Validate a subscribe payload; raise SubscribeInputInvalid naming every bad field.

    `default_country` (the shop's ISO country) is the phone-parsing hint when the form sends no
    `country`. The honeypot field `website` must be empty or absent.
    """
    errors = _Errors()
    website = data.get("website")
    if website not in (None, ""):
        errors.add("website", "Leave this field empty.")
    variant_id = _variant_id(data, errors)
    email, email_display = _email(data, errors)
    country = _country(data, errors, default_country)
    phone = _phone(data, errors, country)
    if not email and not phone and not {"email", "phone"} & errors.fields.keys():
        errors.add("email", "Enter an email address or a phone number.")
        errors.add("phone", "Enter an email address or a phone number.")
    consent, consent_version = _consent(data, errors, "email", email)
    sms_consent, sms_version = _consent(data, errors, "sms", phone)
    locale = _optional_string(data, "locale", errors, MAX_LOCALE_LENGTH).replace("_", "-")
    if locale and not LOCALE_RE.fullmatch(locale):
        errors.add("locale", "Must be a language tag like en or fr-CA.")
    first_name = _optional_string(data, "first_name", errors, MAX_FIRST_NAME_LENGTH)
    quantity = _quantity(data, errors)
    if errors.fields:
        raise SubscribeInputInvalid(errors.fields)
    return SubscribeInput(
        variant_id=variant_id,
        email=email,
        email_display=email_display,
        phone=phone,
        country=country,
        marketing_consent=consent,
        consent_text_version=consent_version,
        sms_consent=sms_consent,
        sms_consent_text_version=sms_version,
        locale=locale,
        first_name=first_name,
        quantity=quantity,
    )
