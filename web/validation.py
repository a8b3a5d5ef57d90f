"""Checks shared by the API schemas, the page forms and the importers: ID numbers, phones, positions,
and the bounds every number, date and page number a request carries must keep (issue 10, part 7)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from . import clock
from .config import setting
from .models import Sex

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")

#: The largest integer every database column of jiuye holds (PostgreSQL's INTEGER): ids, slots, cents.
INT32_MAX = 2**31 - 1
#: Page numbers of any list: far beyond any real list, small enough for any OFFSET.
PAGE_MAX = 1_000_000
#: Dates people mean: a birth, a start, a departure, a day of statistics.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2100, 12, 31)

#: China's extent, generously: a position outside it is a typing mistake.
CHINA_LAT = (3.0, 54.0)
CHINA_LON = (73.0, 136.0)


@dataclass(frozen=True, slots=True)
class ResidentId:
    """A checked 18-digit resident ID number and what it says."""

    number: str
    birth_on: date
    sex: Sex
    region_code: str


def parse_resident_id(value: str, today: date | None = None) -> ResidentId:
    """Check an 18-digit resident ID number (format, birth date, checksum); ValueError says why."""
    number = ric.compact(value or "").upper()
    if len(number) == 15:
        raise ValueError(_l("old 15-digit numbers are not accepted; enter the 18-digit number"))
    if len(number) != 18:
        raise ValueError(_l("must be 18 characters"))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise ValueError(_l("only digits, with X allowed as the last character"))
    try:
        birth_on = ric.get_birth_date(number)
    except StdnumError:
        raise ValueError(_l("the birth date in the number is not a real date")) from None
    if birth_on > (today or clock.today()):
        raise ValueError(_l("the birth date in the number is in the future"))
    if birth_on.year < 1900:
        raise ValueError(_l("the birth date in the number is before 1900"))
    if number[17] != ric.calc_check_digit(number):
        raise ValueError(_l("the check digit is wrong; please check the number"))
    if not region_existed(number[:6], birth_on.year, (today or clock.today()).year):
        raise ValueError(
            _l("the first six digits are not a region code that existed at any time from the birth year to today")
        )
    sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    return ResidentId(number=number, birth_on=birth_on, sex=sex, region_code=number[:6])


def region_existed(code: str, first_year: int, last_year: int) -> bool:
    """Whether a 6-digit address code was in force at any time from first_year to last_year.

    GB 11643: the code is that of the place where the number was issued, not of the birth place,
    so a person born in 1962 who registered after 2000 carries a code created in 2000. python-stdnum's
    table gives each code the years it was in force ("[2000-]大宁县"); a code is refused only when
    none of its spans meets the span from the birth year to this year (or it is not in the table).
    """
    info = {key: value for _, props in numdb.get("cn/loc").info(code) for key, value in props.items()}
    if not info.get("county"):
        return False
    for entry in info["county"].split(","):
        if not entry.startswith("["):
            return True  # in force without interruption
        start, end = entry[1:].split("]", 1)[0].split("-")
        if (not start or int(start) <= last_year) and (not end or int(end) >= first_year):
            return True
    return False


def age_on(birth_on: date, day: date) -> int:
    """Age in whole years on the given day."""
    return day.year - birth_on.year - ((day.month, day.day) < (birth_on.month, birth_on.day))


def working_age_problem(birth_on: date, over_age_confirmed: bool, today: date | None = None) -> tuple[str, str] | None:
    """Why a person of this birth date may not be registered as a laborer, as (field, message); None if they may.

    Under MIN_LABOR_AGE (16: the Labour Law's minimum) is refused on the ID number the birth date
    comes from; above MAX_LABOR_AGE only when the cadre confirms (`over_age_confirmed`) that the
    person still wants and is able to work.
    """
    age = age_on(birth_on, today or clock.today())
    youngest, oldest = setting("MIN_LABOR_AGE"), setting("MAX_LABOR_AGE")
    if age < youngest:
        message = _l(
            "the person is %(age)s, under the working age of %(min)s, and cannot be registered", age=age, min=youngest
        )
        return "id_number", str(message)
    if age > oldest and not over_age_confirmed:
        return "over_age_confirmed", str(
            _l(
                "the person is %(age)s, older than %(max)s: confirm that they still want and are able to work",
                age=age,
                max=oldest,
            )
        )
    return None


def check_phone(value: str) -> str:
    """A mainland mobile (11 digits) or landline number; ValueError says why not."""
    phone = re.sub(r"[\s()]", "", value or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    if not (_MOBILE.match(phone) or _LANDLINE.match(phone)):
        raise ValueError(_l("not a phone number: use 11 digits for a mobile, e.g. 13912345678"))
    return phone


def check_position(lat: float, lon: float) -> None:
    """A WGS-84 position inside China; ValueError names the coordinate that is wrong."""
    if not -90 <= lat <= 90:
        raise ValueError(_l("latitude must be between -90 and 90"))
    if not -180 <= lon <= 180:
        raise ValueError(_l("longitude must be between -180 and 180"))
    if not (CHINA_LAT[0] <= lat <= CHINA_LAT[1] and CHINA_LON[0] <= lon <= CHINA_LON[1]):
        raise ValueError(_l("the position is outside China; check latitude and longitude"))


def check_day(day: date | datetime) -> date | datetime:
    """A date (or moment, by its own calendar day) from 1900 to 2100; ValueError otherwise."""
    if not FIRST_DAY <= (day.date() if isinstance(day, datetime) else day) <= LAST_DAY:
        raise ValueError(_l("a date from 1900 to 2100"))
    return day


def parse_day(text: str) -> date:
    """A YYYY-MM-DD date from 1900 to 2100; ValueError says what is wrong."""
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(_l("use the form YYYY-MM-DD")) from None
    return check_day(day)


def parse_page(text: str | None) -> int:
    """A page number from 1 to PAGE_MAX (1 when not given); ValueError otherwise."""
    if text is None or not text.strip():
        return 1
    value = text.strip()
    # Digits only, and few of them: int() of a huge string costs time before it fails.
    is_number = value.isascii() and value.isdigit() and len(value) <= len(str(PAGE_MAX))
    if not is_number or not 1 <= int(value) <= PAGE_MAX:
        raise ValueError(_l("a page number from 1 to %(max)s", max=PAGE_MAX))
    return int(value)
