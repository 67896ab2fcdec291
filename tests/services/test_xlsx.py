"""The shared XLSX writer: user text never becomes a formula, control characters never break
a file, ID numbers are text and masked without the PII right, the header is frozen."""

import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from backend.services import xlsx
from backend.services.policy import Actor

PAYLOADS = ["=1+1", '=HYPERLINK("http://x.example","y")', "=cmd|' /C calc'!A0", "+1+1",
            "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"]
ID = "11010519491231002X"


def actor(role: str) -> Actor:
    return Actor(user_id=1, role=role, ranges=(("000000000000", "999999999999"),))


def read(data: bytes):
    return load_workbook(io.BytesIO(data))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_user_text_is_never_a_formula(payload):
    data = xlsx.workbook([xlsx.Sheet("明细", ["姓名"], [[payload]])], actor("county_admin"))
    cell = read(data)["明细"]["A2"]
    assert cell.data_type == "s" and cell.value.replace("\n", "\r") == "'" + payload
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml  # no formula element anywhere in the sheet


def test_control_characters_are_escaped_not_fatal():
    data = xlsx.workbook([xlsx.Sheet("明细", ["姓名", "原因"], [["王\u0018五", "外出\x00务工"]])],
                         actor("county_admin"))
    row = [c.value for c in read(data)["明细"][2]]
    assert row == ["王\\x18五", "外出\\x00务工"]


def test_id_numbers_are_text_and_masked_without_the_pii_right():
    sheets = [xlsx.Sheet("明细", ["身份证号"], [[xlsx.IdNumber(ID)]])]
    assert read(xlsx.workbook(sheets, actor("county_admin")))["明细"]["A2"].value == ID
    masked = read(xlsx.workbook(sheets, actor("auditor")))["明细"]["A2"]
    assert masked.value == "1101**********002X" and masked.data_type == "s"


def test_numbers_stay_numbers_and_booleans_read_as_words():
    data = xlsx.workbook([xlsx.Sheet("汇总", ["村", "户数", "金额", "需复查"],
                                     [["东村", 12, Decimal("1.25"), True]])],
                         actor("county_admin"))
    assert [c.value for c in read(data)["汇总"][2]] == ["东村", 12, 1.25, "是"]


def test_header_is_bold_and_frozen_and_columns_fit():
    data = xlsx.workbook([xlsx.Sheet("明细", ["村", "未排查原因"],
                                     [["东村", "外出务工，全家不在，已电话联系"]])],
                         actor("county_admin"))
    sheet = read(data)["明细"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    assert sheet.column_dimensions["B"].width > sheet.column_dimensions["A"].width >= 6


def test_other_cell_types_are_refused():
    with pytest.raises(TypeError):
        xlsx.workbook([xlsx.Sheet("明细", ["x"], [[object()]])], actor("county_admin"))
