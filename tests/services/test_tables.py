"""Reading an uploaded table as a stream: the row cap holds while reading, DTDs and broken
files are refused as `InvalidImportFile`, never an exception that would answer 500."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from backend.services.errors import InvalidImportFile
from backend.services.tables import read_rows


class EndlessCsv(io.RawIOBase):
    """A CSV of tiny rows that never ends; counts how much was read."""

    def __init__(self):
        self.position = 0
        self.line = b"a,b\n"

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        assert (offset, whence) == (0, 0)
        self.position = 0
        return 0

    def readinto(self, buffer):
        n = len(buffer)
        start = self.position % len(self.line)
        chunk = (self.line * (n // len(self.line) + 2))[start:start + n]
        buffer[:n] = chunk
        self.position += n
        return n


def test_the_row_cap_holds_while_reading_an_endless_csv():
    stream = EndlessCsv()
    with pytest.raises(InvalidImportFile) as refused:
        for _ in read_rows(io.BufferedReader(stream), max_rows=1000):
            pass
    assert refused.value.fields == {"file": "行数过多"}
    assert stream.position < 1_000_000  # stopped near 1,001 rows, not at the end of time


def xlsx_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def with_part(data: bytes, name: str, change) -> bytes:
    """The same XLSX with one part's bytes changed by `change`."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info)
            target.writestr(info.filename, change(body) if info.filename == name else body)
    return out.getvalue()


def test_xlsx_rows_are_read_and_capped():
    data = xlsx_bytes([["户主姓名", "身份证号"], ["张三", " 1 "], [None, None], ["李四", 5]])
    assert list(read_rows(io.BytesIO(data), max_rows=10)) == [
        ["户主姓名", "身份证号"], ["张三", "1"], ["李四", "5"]]
    many = xlsx_bytes([["x"]] * 50)
    with pytest.raises(InvalidImportFile):
        list(read_rows(io.BytesIO(many), max_rows=10))


LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>')
EXTERNAL = b'<?xml version="1.0"?><!doctype x [<!entity e SYSTEM "file:///etc/passwd">]>'


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/workbook.xml",
                                  "[Content_Types].xml", "xl/styles.xml"])
@pytest.mark.parametrize("declaration", [LAUGHS, EXTERNAL])
def test_a_dtd_or_entity_in_any_xml_part_is_refused(part, declaration):
    data = with_part(xlsx_bytes([["a"], ["b"]]), part,
                     lambda body: declaration + body[body.find(b"?>") + 2:])
    with pytest.raises(InvalidImportFile) as refused:
        list(read_rows(io.BytesIO(data), max_rows=10))
    assert "DTD" in refused.value.fields["file"]


@pytest.mark.parametrize("data", [
    b"PK\x03\x04broken zip",
    with_part(xlsx_bytes([["a"], ["b"]]), "xl/worksheets/sheet1.xml", lambda b: b[: len(b) // 2]),
    with_part(xlsx_bytes([["a"]]), "xl/workbook.xml", lambda b: b"<not-a-workbook/>"),
    with_part(xlsx_bytes([["a"]]), "xl/worksheets/sheet1.xml", lambda b: b"\xff\xfe<\x00"),
    with_part(xlsx_bytes([["a"]]), "xl/styles.xml", lambda b: b"<!-- " * 20000),
], ids=["zip", "truncated-sheet", "bad-workbook", "utf16", "long-prolog"])
def test_broken_xlsx_files_are_refused(data):
    with pytest.raises(InvalidImportFile):
        list(read_rows(io.BytesIO(data), max_rows=10))


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01\x02binary", b"\xff\xfe\xfd" * 10])
def test_empty_or_binary_csv_is_refused(data):
    with pytest.raises(InvalidImportFile):
        list(read_rows(io.BytesIO(data), max_rows=10))


def test_gbk_and_utf8_bom_csv_are_read():
    for data in ("户主姓名,村\n张三,东坪村\n".encode("gbk"),
                 "\ufeff户主姓名,村\n张三,东坪村\n".encode()):
        assert list(read_rows(io.BytesIO(data), max_rows=10))[1] == ["张三", "东坪村"]
