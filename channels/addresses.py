"""Address checks and normal forms, pure: E.164 for SMS (phonenumbers), lower-cased
addresses for email. Contacts and senders are stored and matched in these forms."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

SMS = "SMS"
EMAIL = "Email"


class AddressError(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """E.164 (`+14155550123`). Only full international numbers are taken: without a
    leading `+` and country code a number is ambiguous."""
    if not isinstance(raw, str) or not raw.strip().startswith("+"):
        raise AddressError("must be a phone number in E.164 format, e.g. +14155550123")
    try:
        number = phonenumbers.parse(raw.strip(), None)
    except phonenumbers.NumberParseException:
        raise AddressError("must be a phone number in E.164 format, e.g. +14155550123") from None
    if not phonenumbers.is_valid_number(number):
        raise AddressError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(raw: str) -> str:
    if not isinstance(raw, str):
        raise AddressError("must be an email address, e.g. user@example.com")
    address = raw.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise AddressError("must be an email address, e.g. user@example.com") from None
    return address.lower()


def normalize_address(channel: str, raw: str) -> str:
    return normalize_phone(raw) if channel == SMS else normalize_email(raw)
