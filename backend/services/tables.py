"""An uploaded table (CSV or XLSX) read as a stream of rows, in bounded memory.

A file is judged by its content, not its name. Rows are read one at a time and counted as
they come, so a file with millions of tiny rows is refused after `max_rows` rather than loaded
whole (a 20 MB CSV once took a worker to 1 GB). An XLSX is a ZIP of XML parts: each part's
prolog is checked for a DTD before openpyxl parses it (entity expansion, external entities),
parts that are loaded whole (shared strings, styles) have a bounded size, and the first sheet
is parsed row by row as it is unzipped. Anything unreadable is `InvalidImportFile`.
"""

import codecs
import contextlib
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import ParseError

from backend.services.errors import InvalidImportFile

BLANK_ROWS_ALLOWED = 1000  # blank rows cost reading too; a ledger has a few, not millions
PROLOG_BYTES = 64 * 1024  # where an XML part's DOCTYPE would be, before its root element
MAX_WHOLE_PART = 64 * 1024 * 1024  # unzipped size of a part openpyxl loads whole
DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
ROOT = re.compile(rb"<[A-Za-z_]")  # the first element: no DTD may follow it
# What a broken ZIP or XML makes zipfile, zlib and openpyxl raise.
UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, ParseError, KeyError,
              IndexError, ValueError, TypeError, OSError, EOFError)


def read_rows(stream: BinaryIO, *, max_rows: int) -> Iterator[list[str]]:
    """Yield the file's non-blank rows (the header first) as stripped strings; refuse the file
    once more than `max_rows` rows below the header have been read."""
    magic = stream.read(4)
    stream.seek(0)
    rows = _xlsx_rows(stream) if magic == b"PK\x03\x04" else _csv_rows(stream)
    kept = read = 0
    for row in rows:
        read += 1
        if any(row):
            kept += 1
            yield row
        if kept > max_rows + 1 or read > max_rows + 1 + BLANK_ROWS_ALLOWED:
            raise InvalidImportFile(f"一次最多导入 {max_rows} 行", fields={"file": "行数过多"})


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    text = io.TextIOWrapper(stream, encoding=_csv_encoding(stream), newline="")
    try:
        for row in csv.reader(text):
            yield [cell.strip() for cell in row]
    except (UnicodeDecodeError, csv.Error) as error:
        raise InvalidImportFile(fields={"file": "文件不是 CSV 或 XLSX"}) from error
    finally:
        with contextlib.suppress(ValueError):  # already closed by its owner
            text.detach()  # the caller owns the upload's stream: never close it here


def _csv_encoding(stream: BinaryIO) -> str:
    """UTF-8 (with or without a BOM) or GBK/GB 18030, judged on the file's first 64 KB."""
    head = stream.read(PROLOG_BYTES)
    stream.seek(0)
    if b"\x00" in head or not head.strip():
        raise InvalidImportFile(fields={"file": "文件为空或不是 CSV"})
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            codecs.getincrementaldecoder(encoding)().decode(head, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    raise InvalidImportFile(fields={"file": "文件不是 CSV 或 XLSX"})


def _xlsx_rows(stream: BinaryIO) -> Iterator[list[str]]:
    """The first sheet's rows, parsed as they are read. Not through openpyxl's read-only
    worksheet: without a <dimension> element it parses the whole sheet to size it first
    (2 million rows: minutes and hundreds of MB) before giving the first row."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        with zipfile.ZipFile(stream) as archive:
            _check_parts(archive)
        stream.seek(0)
        reader = ExcelReader(stream, read_only=True, data_only=True)
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        _sheet, rel = next(reader.parser.find_sheets())
        source = reader.archive.open(rel.target)
    except InvalidImportFile:
        raise
    except (*UNREADABLE, StopIteration) as error:
        raise InvalidImportFile(fields={"file": "XLSX 文件已损坏"}) from error
    try:
        parser = WorkSheetParser(source, reader.shared_strings, data_only=True)
        for _number, cells in parser.parse():
            row = [""] * max((cell["column"] for cell in cells), default=0)
            for cell in cells:
                value = cell["value"]
                row[cell["column"] - 1] = "" if value is None else str(value).strip()
            yield row
    except UNREADABLE as error:
        raise InvalidImportFile(fields={"file": "XLSX 文件已损坏"}) from error
    finally:
        source.close()
        reader.archive.close()


def _check_parts(archive: zipfile.ZipFile) -> None:
    """Refuse a DTD or entity declaration in any XML part, and an oversized whole part."""
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels")):
            continue
        if info.file_size > MAX_WHOLE_PART and not info.filename.startswith("xl/worksheets/"):
            raise InvalidImportFile(fields={"file": "XLSX 文件过大"})
        with archive.open(info) as part:
            prolog = part.read(PROLOG_BYTES)
        if prolog.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in prolog[:4]:
            raise InvalidImportFile(fields={"file": "XLSX 文件的编码不受支持"})
        root = ROOT.search(prolog)
        if root is None and len(prolog) == PROLOG_BYTES:
            raise InvalidImportFile(fields={"file": "XLSX 文件已损坏"})
        if DECLARATION.search(prolog, 0, root.start() if root else len(prolog)):
            raise InvalidImportFile(fields={"file": "XLSX 文件含有不允许的 DTD 或实体声明"})
