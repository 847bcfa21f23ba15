from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    """Cursor pagination as the API answers it: `{"next", "previous", "results"}`, the
    links null at either end. An unreadable cursor is a 404 (DRF's)."""

    page_size = 50
    page_size_query_param = "limit"
    max_page_size = 200
    page_size_query_description = "Page size, 1 to 200 (default 50)."
    cursor_query_description = "Where to go on from: take it from `next` or `previous`."

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


class OldestFirstPagination(CursorPage):
    """Cursor pagination in time order (a conversation's transcript)."""

    ordering = ("created_at", "id")
