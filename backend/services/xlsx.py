"""The one XLSX writer every export uses (round results today; the payment ledger, the
monthly report and the spot-check list next).

What a sheet promises, whoever fills it:
- text is text: a cell written from user text never becomes a formula, whatever it starts
  with (`=`, `+`, `-`, `@`, a tab or a carriage return), and numbers stay numbers only when
  the caller passes them as numbers;
- a control character, lone surrogate or noncharacter (`backend.services.inputs`) is shown
  escaped (`\\x18`) instead of making the whole file fail, so one bad name stored earlier
  never breaks an export for everyone;
- ID numbers are written as text (never as an 18-digit number rounded by Excel) and masked for
  callers without the PII right, through `backend.display`;
- money (`Decimal`) is a number shown with two decimals and thousands separators;
- the header row is bold and frozen, and each column gets a width that fits its header and
  contents.
"""

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from backend import display
from backend.services.inputs import escape_unsafe
from backend.services.policy import Actor

# What Excel, LibreOffice and WPS read as the start of a formula, or of DDE (`=cmd|...`).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_WIDTH = 60
MONEY = "#,##0.00"


@dataclass(frozen=True)
class IdNumber:
    """A cell holding a resident ID number, masked unless the reader has the PII right."""

    value: str | None


@dataclass(frozen=True)
class Link:
    """A cell whose text opens `url` (an absolute address: Excel opens no relative one)."""

    text: str
    url: str


@dataclass(frozen=True)
class Sheet:
    title: str
    headers: Sequence[str]  # the header's row (its last row, under `header_above`)
    rows: Iterable[Sequence[object]]
    # A form's layout (the seeds' report forms): lines above the table, each across its width
    # (title, 填报单位 …); header rows above `headers`; header cells to merge, as (first row,
    # first column, last row, last column) counted from the header's first row; lines below.
    preamble: Sequence[str] = ()
    header_above: Sequence[Sequence[str | None]] = ()
    merges: Sequence[tuple[int, int, int, int]] = ()
    footer: Sequence[str] = ()
    money_format: str = MONEY  # how Decimal cells read (yuan; 万元 in reports)


def safe_text(value: str) -> str:
    """User text as a cell can hold it, and never as a formula."""
    value = escape_unsafe(value)  # XML 1.0 cannot hold them: openpyxl would refuse the file
    if value.startswith(FORMULA_STARTS):
        value = "'" + value  # the quote shows the text is text; Excel would hide a prefix
    return value


def workbook(sheets: Sequence[Sheet], actor: Actor) -> bytes:
    """Write the sheets into one workbook and return its bytes."""
    book = Workbook()
    book.remove(book.active)
    for spec in sheets:
        sheet = book.create_sheet(spec.title)
        widths = [_width(h) for h in spec.headers]
        span = max(1, len(spec.headers))
        for line in spec.preamble:
            _append(sheet, [line], actor, [0])
            sheet.merge_cells(start_row=sheet.max_row, start_column=1,
                              end_row=sheet.max_row, end_column=span)
        if spec.preamble:
            sheet.cell(1, 1).font = Font(bold=True, size=14)
            sheet.cell(1, 1).alignment = Alignment(horizontal="center")
        first = sheet.max_row + 1 if spec.preamble else 1
        for above in spec.header_above:
            _append(sheet, [v if v is not None else "" for v in above], actor, [0] * span)
        _append(sheet, spec.headers, actor, widths)
        header_rows = range(first, sheet.max_row + 1)
        for r1, c1, r2, c2 in spec.merges:
            sheet.merge_cells(start_row=first + r1 - 1, start_column=c1,
                              end_row=first + r2 - 1, end_column=c2)
        for row in header_rows:
            for cell in sheet[row]:
                cell.font = Font(bold=True)
                if spec.header_above:
                    cell.alignment = Alignment(horizontal="center", vertical="center",
                                               wrap_text=True)
        for row in spec.rows:
            _append(sheet, row, actor, widths, spec.money_format)
        if spec.footer:
            sheet.append([])
        for line in spec.footer:
            _append(sheet, [line], actor, [0])
        sheet.freeze_panes = sheet.cell(header_rows[-1] + 1, 1).coordinate
        for index, width in enumerate(widths, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _append(sheet, values: Sequence[object], actor: Actor, widths: list[int],
            money_format: str = MONEY) -> None:
    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value is not None else 1
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row, column)
        if isinstance(value, IdNumber):
            value = display.id_number(value.value, actor) or ""
        if isinstance(value, bool):
            value = "是" if value else ""
        if isinstance(value, Link):
            if value.url.startswith(("http://", "https://")):
                cell.hyperlink = value.url
                cell.style = "Hyperlink"
            value = value.text
        if isinstance(value, str):
            cell.value = safe_text(value)
            cell.data_type = TYPE_STRING  # openpyxl would read a leading "=" as a formula
        elif isinstance(value, Decimal):
            cell.value = value
            cell.number_format = money_format
        elif value is None or isinstance(value, int | float | date | datetime):
            cell.value = value
        else:
            raise TypeError(f"an export cell cannot hold {type(value).__name__}")
        if column <= len(widths):
            widths[column - 1] = max(widths[column - 1], _width(cell.value))
        else:
            widths.append(_width(cell.value))


def _width(value: object) -> int:
    """Column width in Excel's character units: CJK characters are about two wide."""
    if value is None:
        return 4
    text = str(value)
    return min(MAX_WIDTH, 2 + sum(2 if ord(ch) > 0x2E7F else 1 for ch in text))
