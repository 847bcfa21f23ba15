"""Placeholders in a flow's messages, pure: `{{customer.name}}`, `{{dynamic.when}}`, and
with a default, `{{customer.name|there}}`.

Plain substitution, on purpose no template engine, so a flow's text can never reach
code, attributes or settings. A value that is missing (and has no default) renders
empty, with the spacing around it tidied ("Hi {{customer.name}}, ..." becomes "Hi, ..."):
a placeholder never makes an optional field of the request a required one."""

import re
from dataclasses import dataclass

SCOPES = ("customer", "dynamic")
PATTERN = re.compile(
    r"\{\{\s*(?P<scope>[A-Za-z_][A-Za-z0-9_]*)\.(?P<key>[A-Za-z0-9_\-]+)"
    r"\s*(?:\|(?P<default>[^{}]*?))?\s*\}\}"
)
_EMPTY = "\x00"  # marks where a placeholder rendered empty, for the tidying below
_BEFORE_PUNCTUATION = re.compile(rf"[ \t]*{_EMPTY}[ \t]*(?=[,.!?;:)])")
_BETWEEN_WORDS = re.compile(rf"[ \t]*{_EMPTY}[ \t]*")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")


@dataclass(frozen=True)
class Placeholder:
    scope: str
    key: str
    default: str | None

    @property
    def name(self) -> str:
        return f"{self.scope}.{self.key}"


def placeholders_in(template: str) -> list[Placeholder]:
    """Each placeholder of the template once, in order of first use."""
    seen: dict[str, Placeholder] = {}
    for match in PATTERN.finditer(template):
        found = Placeholder(match["scope"], match["key"], match["default"])
        seen.setdefault(found.name, found)
    return list(seen.values())


def unknown_scopes(template: str) -> list[str]:
    """Placeholders naming something other than customer.* or dynamic.*."""
    return [p.name for p in placeholders_in(template) if p.scope not in SCOPES]


def not_scalar(template: str, *, dynamic: dict) -> list[str]:
    """The dynamic keys the template uses whose values are not text, numbers or
    booleans (an object or a list has no one way to be written in a message)."""
    return [
        p.key
        for p in placeholders_in(template)
        if p.scope == "dynamic"
        and p.key in dynamic
        and dynamic[p.key] is not None
        and not isinstance(dynamic[p.key], str | int | float | bool)
    ]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


def render(template: str, *, customer: dict, dynamic: dict) -> str:
    scopes = {"customer": customer, "dynamic": dynamic}

    def value(match: re.Match) -> str:
        found = scopes.get(match["scope"], {}).get(match["key"])
        text = _text(found).strip() if found is not None else ""
        if not text:
            text = (match["default"] or "").strip()
        return text or _EMPTY

    rendered = PATTERN.sub(value, template)
    if _EMPTY not in rendered:
        return rendered
    rendered = _BEFORE_PUNCTUATION.sub("", rendered)
    rendered = _BETWEEN_WORDS.sub(" ", rendered)
    return _TRAILING_SPACE.sub("", rendered).strip()
