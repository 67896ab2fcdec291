from datetime import date

import pytest

from backend.display import masked_id_number as mask
from backend.services.ids import check_char, id_number_problem


def test_known_number_with_x_check_digit_is_valid():
    assert check_char("11010519491231002") == "X"
    assert id_number_problem("11010519491231002x") is None


@pytest.mark.parametrize("raw,reason", [
    ("11010519491231002", "18位"),
    ("110105194912310021", "校验位"),
    ("1101051949123100AX", "数字"),
    ("110105194902300025", "出生日期"),
    ("110105189912310023", "出生日期"),
])
def test_bad_numbers_name_the_reason(raw, reason):
    assert reason in id_number_problem(raw)


def test_birth_date_in_future_is_invalid():
    body = "11010520990101001"
    assert "出生日期" in id_number_problem(body + check_char(body), today=date(2026, 1, 1))


def test_mask_keeps_region_and_tail():
    assert mask("11010519491231002X") == "1101**********002X"
