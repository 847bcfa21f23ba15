"""A campaign's list, read from JSON or CSV into rows, pure (no ORM).

Only the list's shape is checked here (what must hold for the request to be taken at
all); each row's own problems (a malformed entry now, a bad address or a duplicate
later, in the worker) are reported on that row, and the good rows are kept.

CSV columns: `to` (required), `name`, `timezone`, `customer.<key>` (more customer
details) and `dynamic.<key>` (the flow's dynamic inputs). An empty cell is a missing
value, so a placeholder's default stands in for it."""

import csv
import io
from dataclasses import dataclass, field

from core.errors import ApplicationError

MAX_TO_LENGTH = 320
MAX_NAME_LENGTH = 200
CSV_FIXED = ("to", "name", "timezone")
CSV_PREFIXES = ("customer.", "dynamic.")
JSON_KEYS = frozenset({"to", "metadata", "dynamic"})


@dataclass(slots=True)
class Row:
    position: int
    to: str = ""
    details: dict = field(default_factory=dict)
    dynamic: dict = field(default_factory=dict)
    # Set when the row is unusable as given: (skip reason, why).
    problem: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        name = self.details.get("name")
        return str(name)[:MAX_NAME_LENGTH] if isinstance(name, str | int | float) else ""


def _invalid(message: str, field_name: str) -> ApplicationError:
    return ApplicationError(message, code="validation_error", errors={field_name: [message]})


def rows_from_json(items: object) -> list[Row]:
    """Seed 000's per-recipient fields: `{"to", "metadata": {"customerDetails"}, "dynamic"}`."""
    if not isinstance(items, list):
        raise _invalid("Field 'recipients' must be a list.", "recipients")
    rows = []
    for position, item in enumerate(items, start=1):
        row = Row(position)
        rows.append(row)
        if not isinstance(item, dict):
            row.problem = ("invalid_data", "A recipient must be an object.")
            continue
        unknown = sorted(set(item) - JSON_KEYS)
        if unknown:
            row.problem = ("invalid_data", f"Field '{unknown[0]}' is not recognised.")
        to = item.get("to")
        if isinstance(to, str):
            row.to = to.strip()[:MAX_TO_LENGTH]
        if not isinstance(to, str) or not to.strip():
            row.problem = row.problem or ("invalid_address", "Field 'to' must be a string.")
        metadata = item.get("metadata", {})
        details = metadata.get("customerDetails", {}) if isinstance(metadata, dict) else None
        if not isinstance(details, dict) or (
            isinstance(metadata, dict) and set(metadata) - {"customerDetails"}
        ):
            row.problem = row.problem or (
                "invalid_data",
                "Field 'metadata' must be an object with only 'customerDetails', an object.",
            )
        else:
            row.details = details
        dynamic = item.get("dynamic", {})
        if isinstance(dynamic, dict):
            row.dynamic = dynamic
        else:
            row.problem = row.problem or ("invalid_data", "Field 'dynamic' must be an object.")
    return rows


def _csv_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _invalid("The file must be UTF-8 text.", "file") from None
    if "\x00" in text:
        raise _invalid("The file contains U+0000, which cannot be stored.", "file")
    return text


def rows_from_csv(data: bytes) -> list[Row]:
    """A CSV with a header row naming its columns (see the module's doc)."""
    reader = csv.reader(io.StringIO(_csv_text(data), newline=""))
    header = next(reader, None)
    if header is None:
        raise _invalid("The file is empty: it needs a header row and a row per recipient.", "file")
    columns = [column.strip() for column in header]
    if "to" not in columns:
        raise _invalid("The header row must name a 'to' column.", "file")
    unknown = [
        column
        for column in columns
        if column not in CSV_FIXED
        and not (column.startswith(CSV_PREFIXES) and column.partition(".")[2])
    ]
    if unknown:
        raise _invalid(
            f"Column '{unknown[0]}' is not recognised: use to, name, timezone, "
            "customer.<key> or dynamic.<key>.",
            "file",
        )
    if len(set(columns)) != len(columns):
        raise _invalid("A column is named twice in the header row.", "file")
    # Where each column's cell goes: ("to" | "details" | "dynamic", key).
    targets = [
        ("to", "")
        if column == "to"
        else ("details", column)
        if column in ("name", "timezone")
        else ("details" if column.startswith("customer.") else "dynamic", column.partition(".")[2])
        for column in columns
    ]
    width = len(columns)
    rows = []
    try:
        for cells in reader:
            if not "".join(cells).strip():
                continue  # blank lines are no recipients
            row = Row(len(rows) + 1)
            rows.append(row)
            if len(cells) != width:
                row.problem = (
                    "invalid_data",
                    f"Row {row.position} has {len(cells)} cells; the header has {width}.",
                )
            for (target, key), cell in zip(targets, cells, strict=False):
                value = cell.strip()
                if not value:
                    continue
                if target == "to":
                    row.to = value[:MAX_TO_LENGTH]
                elif target == "details":
                    row.details[key] = value
                else:
                    row.dynamic[key] = value
            if not row.to and row.problem is None:
                row.problem = ("invalid_address", "The 'to' cell is empty.")
    except csv.Error as exc:
        raise _invalid(f"The file is not valid CSV: {exc}.", "file") from None
    return rows
