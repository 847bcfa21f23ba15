"""Address checks and normal forms, pure: E.164 for SMS (phonenumbers), lower-cased
addresses for email. Contacts and senders are stored and matched in these forms."""

import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

SMS = "SMS"
EMAIL = "Email"


class AddressError(ValueError):
    pass


# E.164 as seed 000 gives it: "+", then up to 15 digits, the first not 0.
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
E164_HINT = "must be a phone number in E.164 format, e.g. +14155550123"


def normalize_phone(raw: str) -> str:
    """E.164 (`+14155550123`). Only full international numbers are taken: without a
    leading `+` and country code a number is ambiguous. A number already written in
    E.164 is taken as it is (whether it exists is the carrier's to say, and a refusal
    fails the message with the carrier's code); one written with spaces, dashes or
    parentheses is brought to E.164. An extension cannot be texted: refused, never
    silently dropped."""
    if not isinstance(raw, str) or not raw.strip().startswith("+"):
        raise AddressError(E164_HINT)
    text = raw.strip()
    if E164.fullmatch(text):
        return text
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        raise AddressError(E164_HINT) from None
    if number.extension:
        raise AddressError("must not carry an extension: a text message cannot reach one")
    formatted = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not E164.fullmatch(formatted) or not phonenumbers.is_possible_number(number):
        raise AddressError("is not a valid phone number")
    return formatted


# Domains no mail can be routed to on the internet (RFC 6761, 6762).
_UNROUTABLE = (".localhost", ".local", ".invalid", ".internal")


def normalize_email(raw: str) -> str:
    if not isinstance(raw, str):
        raise AddressError("must be an email address, e.g. user@example.com")
    address = raw.strip()
    try:
        validate_email(address)
    except ValidationError:
        raise AddressError("must be an email address, e.g. user@example.com") from None
    domain = address.rpartition("@")[2].lower()
    if "." not in domain or domain.startswith("[") or f".{domain}".endswith(_UNROUTABLE):
        raise AddressError("must be an email address on an internet domain, e.g. user@example.com")
    return address.lower()


def normalize_address(channel: str, raw: str) -> str:
    return normalize_phone(raw) if channel == SMS else normalize_email(raw)
