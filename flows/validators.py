"""Validation shared by the API's serializers and the admin's forms (through the model
fields), so both apply one set of rules."""

from django.core.exceptions import ValidationError

from flows import working_hours

MAX_DELAY_SECONDS = 7 * 24 * 3600


def validate_timezone_name(value: str) -> None:
    try:
        working_hours.validate_timezone(value)
    except ValueError:
        raise ValidationError(
            f"'{value}' is not a valid IANA timezone name (e.g. 'Europe/London')."
        ) from None


def parse_days(value: object) -> list[int] | None:
    """Working-hours days as stored: sorted ISO weekdays, or None for every day. Takes
    1-7 or "mon"…"sun"; raises ValueError with a message naming the problem."""
    settings = {"enabled": False, "start": "00:00", "end": "00:00", "timezone": "UTC"}
    days = working_hours.WorkingHours.from_settings({**settings, "days": value}).days
    return sorted(days) if days else None


def validate_days(value: object) -> None:
    if value is None:
        return
    try:
        parse_days(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
