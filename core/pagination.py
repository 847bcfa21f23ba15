import uuid
from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.db.models import Model, QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.views import APIView


class CursorPage(CursorPagination):
    """Cursor pagination as the API answers it: `{"next", "previous", "results"}`, the
    links null at either end. An unreadable cursor is a 404 (DRF's)."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    page_size_query_description = "Page size, 1 to 200 (default 50)."
    cursor_query_description = "Where to go on from: take it from `next` or `previous`."

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: APIView | None = None
    ) -> list[Model]:
        # DRF reads the cursor's position as a value of the ordering's field: one that
        # field cannot take (not a time, a number out of range) is an unreadable cursor.
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError, DataError):
            raise NotFound(self.invalid_cursor_message) from None

    def get_paginated_response_schema(self, schema: dict) -> dict:
        def link(description: str, cursor: str) -> dict:
            return {
                "type": "string",
                "nullable": True,
                "format": "uri",
                "description": description,
                "example": f"https://api.example.com/v1/...?cursor={cursor}",
            }

        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": link("The following page; null on the last.", "cD0yMDI2LTAzLTE1"),
                "previous": link("The page before; null on the first.", "cj0xJnA9MjAyNg"),
                "results": schema,
            },
        }


class NewestFirstPagination(CursorPage):
    """Cursor pagination, newest first: stable while rows are being added."""

    ordering = "-created_at"


class KeysetPagination(CursorPage):
    """Oldest first (a conversation's transcript) over (created_at, id), each page one
    statement the caller builds once (`fetch`): DRF's CursorPagination slices a queryset
    built and compiled anew on every request, which cost more than the rest of a
    conversation's message list.

    The cursor is DRF's (the same links, the same 404 for an unreadable one) and its
    position names the row exactly, time and id, so no offset is needed for rows created
    in the same microsecond. A cursor from before (time alone, with an offset) is still
    honoured, through DRF's own pagination of `queryset`."""

    ordering = ("created_at", "id")

    def paginate_keyset(
        self,
        request: Request,
        fetch: Callable[..., list[Model]],
        queryset: Callable[[], QuerySet],
        view: APIView | None = None,
    ) -> list[Model]:
        """`fetch(after=, before=, rows=)` gives up to `rows` rows in time order after
        the (created_at, id) `after`, or the last ones before `before` (newest first)."""
        cursor = self.decode_cursor(request)
        position = None if cursor is None else self._position(cursor.position)
        if cursor is not None and position is None:  # an earlier cursor: time and offset
            self.keyset = False
            return super().paginate_queryset(queryset(), request, view)
        self.keyset = True
        self.request, self.base_url = request, request.build_absolute_uri()
        self.page_size = size = self.get_page_size(request)
        backwards = cursor is not None and cursor.reverse
        if backwards:
            rows = fetch(before=position, rows=size + 1)
            page = rows[:size][::-1]
            self.has_previous, self.has_next = len(rows) > size, True
        else:
            rows = fetch(after=position, rows=size + 1)
            page = rows[:size]
            self.has_next, self.has_previous = len(rows) > size, position is not None
        self.page, self.at = page, position
        return page

    def _position(self, text: str | None) -> tuple[datetime, uuid.UUID] | None:
        if not text or "~" not in text:
            return None
        moment, _, key = text.partition("~")
        try:
            created_at, pk = datetime.fromisoformat(moment), uuid.UUID(key)
        except ValueError:
            raise NotFound(self.invalid_cursor_message) from None
        if created_at.tzinfo is None:
            raise NotFound(self.invalid_cursor_message)
        return created_at, pk

    def _link(self, row: Model | None, reverse: bool) -> str:
        if row is not None:
            position = f"{row.created_at.isoformat()}~{row.pk}"
        else:  # an empty page: from where it was asked
            created_at, pk = self.at
            position = f"{created_at.isoformat()}~{pk}"
        return self.encode_cursor(Cursor(offset=0, reverse=reverse, position=position))

    def get_next_link(self) -> str | None:
        if not self.keyset:
            return super().get_next_link()
        if not self.has_next or (not self.page and self.at is None):
            return None
        return self._link(self.page[-1] if self.page else None, reverse=False)

    def get_previous_link(self) -> str | None:
        if not self.keyset:
            return super().get_previous_link()
        if not self.has_previous or (not self.page and self.at is None):
            return None
        return self._link(self.page[0] if self.page else None, reverse=True)
