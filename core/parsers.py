"""The API's JSON parser: DRF's, plus the limits PostgreSQL and the workers rely on.

A body is refused with a 400 (before any view sees it) when its JSON nests deeper than
MAX_DEPTH, or when any key or string holds U+0000 (PostgreSQL's text and jsonb cannot
store it) or an unpaired surrogate (not encodable as UTF-8). NaN and Infinity are not
JSON and are refused too."""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


def _text_problem(text: str) -> str | None:
    if "\x00" in text:
        return "contains U+0000, which cannot be stored"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate"
    return None


def check_json_value(data: object, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise ParseError naming the first place where `data` breaks the limits."""
    stack: list[tuple[object, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise ParseError(f"JSON nests deeper than {max_depth} levels at '{path or '$'}'.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and (problem := _text_problem(key)):
                    raise ParseError(f"A key at '{path or '$'}' {problem}.")
                child = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
                stack.append((item, child.lstrip("."), depth + 1))
        elif isinstance(value, str) and (problem := _text_problem(value)):
            raise ParseError(f"The value at '{path or '$'}' {problem}.")


class StrictJSONParser(JSONParser):
    def parse(self, stream: object, media_type: str | None = None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding) if stream is not None else ""
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid {encoding}.") from exc
        try:
            data = json.loads(text, parse_constant=_reject_constant)
        except RecursionError:
            raise ParseError(f"JSON nests deeper than {MAX_DEPTH} levels.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        check_json_value(data)
        return data
