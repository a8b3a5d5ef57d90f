"""Resident ID numbers, phones and positions are checked with a reason a person can act on."""

from __future__ import annotations

from datetime import date

import pytest
from stdnum.cn import ric

from web.validation import check_phone, check_position, parse_resident_id, region_existed


def _valid(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_good_number_gives_birth_date_and_sex():
    number = _valid("14263319620308002")  # Daning's code before 2000; sequence digit 2 → female
    parsed = parse_resident_id(number)
    assert parsed.birth_on == date(1962, 3, 8)
    assert parsed.sex.value == "F"
    assert parse_resident_id(_valid("14263319620308001")).sex.value == "M"


def test_lowercase_x_and_spaces_are_accepted():
    number = _valid("11010519491231002")
    assert number.endswith("X")
    assert parse_resident_id(" " + number.lower() + " ").number == number


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (_valid("14263319620308002")[:17] + ("1" if _valid("14263319620308002")[17] != "1" else "2"), "check digit"),
        (_valid("14263319620230002")[:17] + "0", "not a real date"),
        ("142633620308002", "15-digit"),
        ("1426331962", "18 characters"),
        ("14263319620308A02X", "only digits"),
        (_valid("14103020990101002"), "future"),
        (_valid("99999919620308002"), "not a region code that existed at any time from the birth year to today"),
        # 142633 (大宁县 until 2000) cannot have been issued to someone born in 2001.
        (_valid("14263320010308002"), "not a region code that existed"),
    ],
)
def test_bad_numbers_are_refused_with_the_reason(value, fragment):
    with pytest.raises(ValueError, match=fragment):
        parse_resident_id(value, today=date(2026, 11, 29))


def test_phone_numbers():
    assert check_phone("139 1234 5678") == "13912345678"
    assert check_phone("+8613912345678") == "13912345678"
    with pytest.raises(ValueError, match="11 digits"):
        check_phone("12345")


def test_positions_outside_china_are_refused():
    check_position(36.46, 110.75)
    with pytest.raises(ValueError, match="latitude"):
        check_position(91, 110)
    with pytest.raises(ValueError, match="outside China"):
        check_position(48.85, 2.35)


def test_the_address_code_is_where_the_number_was_issued_at_any_time_since_birth():
    """GB 11643: a person born 1985 who registered after 2000 carries Daning's present code 141030."""
    parsed = parse_resident_id("141030198506153810", today=date(2026, 11, 29))
    assert parsed.birth_on == date(1985, 6, 15) and parsed.region_code == "141030"
    assert parse_resident_id(_valid("14263319620308002"), today=date(2026, 11, 29)).region_code == "142633"
    assert region_existed("141030", 1962, 2026)  # created 2000: within 1962–2026
    assert region_existed("142633", 1962, 2026)  # until 2000
    assert not region_existed("142633", 2001, 2026)
    assert region_existed("140000", 1900, 2026)  # a code with no end
    assert not region_existed("141099", 1962, 2026)  # listed under Shanxi but never a region
    assert not region_existed("999999", 1962, 2026)
