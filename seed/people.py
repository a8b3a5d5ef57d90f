"""Deterministic synthetic people: names, resident ID numbers and mobile numbers.

Every function takes a ``random.Random`` and draws only from it, so a fixed seed gives the same
people on every run. The names are common rural northern-Chinese names, not real persons.
"""

from __future__ import annotations

import functools
import random
import re
from datetime import date

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

SURNAMES = "王李张刘杨赵郭高武贺冯薛任韩梁白郝侯孙陈马吴胡田乔程石牛史曹卫闫段贾宋范常苏许霍康柴申裴吕姚温董雷"
MALE_GIVEN = "建国军平明福贵保生忠宝成文林海强春永东志德金山喜旺兵俊伟刚红小二虎"
FEMALE_GIVEN = "秀英兰梅芳花玉凤琴霞珍娟萍丽桂翠艳红燕莲云爱香巧彩润银小二"
#: Mainland mobile prefixes in service (three digits; the rest of the 11 are free).
MOBILE_PREFIXES = (
    *range(130, 140), 145, 147, 149, *range(150, 154), *range(155, 160), 162, 165, 166,
    *range(170, 179), *range(180, 190), 191, 193, 195, 196, 197, 198, 199,
)  # fmt: skip


def _check_sex(sex: str) -> bool:
    """True for 'M', False for 'F'; anything else is an error."""
    if sex not in ("M", "F"):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}")
    return sex == "M"


def chinese_name(sex: str, rng: random.Random) -> str:
    """A common surname and one or two given-name characters suited to sex ('M' or 'F')."""
    given = MALE_GIVEN if _check_sex(sex) else FEMALE_GIVEN
    length = 1 if rng.random() < 0.3 else 2
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(length))


def phone(rng: random.Random) -> str:
    """An 11-digit mainland mobile number (1[3-9]x, then eight digits)."""
    return f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(100_000_000):08d}"


def resident_id(region6: str, birth_on: date, sex: str, rng: random.Random) -> str:
    """An 18-digit resident ID number with a valid checksum; odd sequence digit = male.

    The first six digits are those in force in region6's place when the person was born (a
    Daning laborer born in 1975 carries 142633, 临汾地区大宁县, not 141030), found in
    python-stdnum's own code table, so ``stdnum.cn.ric.validate`` accepts the number.
    """
    if not re.fullmatch(r"[0-9]{6}", region6):
        raise ValueError(f"region6 must be a 6-digit county code, got {region6!r}")
    is_male = _check_sex(sex)
    region = id_region(region6, birth_on.year)
    # 001-999, odd for men and even for women (GB 11643).
    sequence = rng.randrange(1 if is_male else 2, 1000, 2)
    body = f"{region}{birth_on:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum wants a placeholder check digit


@functools.cache
def id_region(region6: str, year: int) -> str:
    """The 6-digit place code a person born in year in today's region6 would carry.

    Ladder: region6 itself if it existed that year; else a code in the same province that existed
    that year under the same name (or the same name but for 县/市/区); else the city's code; else
    the province's code.
    """
    if _existed(region6, year):
        return region6
    names = {name for code, name in _province_codes(region6[:2]) if code == region6}
    stems = {_stem(name) for name in names}
    candidates = _province_codes(region6[:2])
    for code, name in candidates:
        if name in names and _existed(code, year):
            return code
    for code, name in candidates:
        if _stem(name) in stems and _existed(code, year):
            return code
    city = region6[:4] + "00"
    return city if _existed(city, year) else region6[:2] + "0000"


def _existed(code: str, year: int) -> bool:
    """Whether stdnum's table knows code as a place in force in year."""
    try:
        ric.get_birth_place(f"{code}{year:04d}01010010")
    except ValidationError:
        return False
    return True


@functools.cache
def _province_codes(province2: str) -> tuple[tuple[str, str], ...]:
    """Every (6-digit code, name) that stdnum's table lists under a province, past or present."""
    found = []
    for length, low, high, _, children in numdb.get("cn/loc").prefixes:
        if length == 2 and low <= province2 <= high:
            for _, sub_low, _, props, _ in children:
                for entry in props.get("county", "").split(","):
                    found.append((province2 + sub_low, re.sub(r"^\[[0-9-]*\]", "", entry)))
    return tuple(found)


def _stem(name: str) -> str:
    """A place name without its 县/市/区 suffix (怀仁县 and 怀仁市 are one place)."""
    return name[:-1] if len(name) > 1 and name[-1] in "县市区" else name
