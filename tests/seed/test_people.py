"""Synthetic people: resident ID numbers, names and phone numbers, all deterministic."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest
from stdnum.cn import ric

from seed.gazetteer import load_shanxi
from seed.people import (
    FEMALE_GIVEN,
    MALE_GIVEN,
    SURNAMES,
    chinese_name,
    id_region,
    phone,
    resident_id,
)


@pytest.mark.parametrize("sex", ["M", "F"])
@pytest.mark.parametrize("birth_on", [date(1955, 1, 1), date(1978, 6, 30), date(2004, 2, 29)])
def test_resident_id_is_valid_and_carries_birth_date_and_sex(sex, birth_on):
    rng = random.Random(1)
    for _ in range(50):
        number = resident_id("141030", birth_on, sex, rng)
        assert re.fullmatch(r"[0-9]{17}[0-9X]", number)
        assert ric.validate(number) == number
        assert ric.get_birth_date(number) == birth_on
        assert int(number[16]) % 2 == (1 if sex == "M" else 0)
        assert ric.get_birth_place(number)["county"] == "大宁县"


def test_resident_id_uses_the_code_in_force_at_birth():
    rng = random.Random(2)
    # 临汾 became a prefecture-level city in 2000: before that Daning was 142633.
    assert resident_id("141030", date(1975, 5, 1), "F", rng).startswith("142633")
    assert resident_id("141030", date(2001, 5, 1), "F", rng).startswith("141030")
    # 怀仁县 became 怀仁市 in 2018; same place, new code.
    assert id_region("140681", 1990) == "142133"
    assert id_region("140681", 2010) == "140624"
    assert id_region("140681", 2020) == "140681"
    # 平城区 (2018) has no namesake before it: the city's code stands in.
    assert id_region("140213", 1970) == "140200"


def test_every_shanxi_county_gives_valid_ids_across_birth_years():
    rng = random.Random(3)
    counties = [r.code for r in load_shanxi() if r.level == "county"]
    for code in counties:
        for year in (1940, 1965, 1983, 1999, 2003, 2019):
            number = resident_id(code, date(year, 7, 15), rng.choice("MF"), rng)
            assert ric.is_valid(number), (code, year, number)


@pytest.mark.parametrize(("region6", "sex"), [("14103", "M"), ("1410300", "M"), ("14103a", "F"), ("141030", "male")])
def test_resident_id_rejects_bad_input(region6, sex):
    with pytest.raises(ValueError):
        resident_id(region6, date(1970, 1, 1), sex, random.Random(0))


@pytest.mark.parametrize(("sex", "given"), [("M", MALE_GIVEN), ("F", FEMALE_GIVEN)])
def test_chinese_name(sex, given):
    rng = random.Random(4)
    for _ in range(200):
        name = chinese_name(sex, rng)
        assert 2 <= len(name) <= 3
        assert name[0] in SURNAMES
        assert all(char in given for char in name[1:])


def test_chinese_name_rejects_unknown_sex():
    with pytest.raises(ValueError):
        chinese_name("X", random.Random(0))


def test_phone_is_a_mainland_mobile_number():
    rng = random.Random(5)
    numbers = [phone(rng) for _ in range(500)]
    assert all(re.fullmatch(r"1[3-9][0-9]{9}", number) for number in numbers)
    assert len(set(numbers)) > 490


def test_same_seed_same_people():
    def people(seed: int) -> list[tuple[str, str, str]]:
        rng = random.Random(seed)
        return [
            (
                chinese_name(sex, rng),
                resident_id("141030", date(1960 + i, 3, 1), sex, rng),
                phone(rng),
            )
            for i, sex in enumerate("MFMFMFMF")
        ]

    assert people(42) == people(42)
    assert people(42) != people(43)
