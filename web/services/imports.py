"""Bulk import of laborers (and their households) from an XLSX or CSV sheet with Chinese headers.

Reading refuses what must not be read at all: a workbook that unpacks beyond the configured size or
holds an overlong cell (checked before it is parsed), formulas and text a spreadsheet would take
for one (web.spreadsheets), more than MAX_ROWS rows, CSV that is not UTF-8, unknown columns.
Importing runs the registry's own create use cases row by row, so that a sheet is checked by
exactly the rules a form is; every row's complaints are collected. Each use case runs in its own
savepoint, so a row the database refuses (an ID number or household code that another import saved
a moment ago) is a complaint of that row, and the rows before it stay as they were. The caller's
unit of work owns the transaction: the preview discards it, the commit keeps it only when no row
failed.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from matcher.types import job_type_code

from ..config import setting
from ..errors import DomainError, ValidationError
from ..models import Ability, Household, LaborerStatus, PayType, PovertyStatus, User, WorkArea
from ..spreadsheets import append_row, is_formula_like
from . import registry, scope

MAX_ROWS = 5000

#: (service field, header in the sheet, example value); the sheet's headers are Chinese.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("household_code", "户编号", "141030100201-0999"),
    ("village_code", "村代码", "141030100201"),
    ("head_name", "户主姓名", "张三"),
    ("poverty_status", "贫困属性", "建档立卡户"),
    ("name", "姓名", "张三"),
    ("id_number", "身份证号", "141030196203080029"),
    ("phone", "手机号", "13912345678"),
    ("physical_ability", "劳动能力", "弱劳力"),
    ("skills", "技能", "缝纫"),
    ("work_area", "就业意向", "本地"),
    ("max_commute_km", "最远通勤公里", "10"),
    ("job_types", "意向工种", "包装"),
    ("pay_type", "工资方式", "计件"),
    ("needs_flexible_hours", "需要弹性工时", "是"),
    ("status", "就业状态", "求职"),
)
HEADER_TO_FIELD = {header: name for name, header, _ in COLUMNS} | {n: n for n, _, _ in COLUMNS}
FIELD_TO_HEADER = {name: header for name, header, _ in COLUMNS}
REQUIRED = ("household_code", "name", "id_number", "physical_ability", "work_area")

#: Values accepted in the sheet (Chinese as people write them, or the stored English codes).
VALUES: dict[str, dict[str, str]] = {
    "poverty_status": {
        "建档立卡户": "registered_poor",
        "建档立卡": "registered_poor",
        "贫困户": "registered_poor",
        "监测户": "monitored",
        "非贫困户": "non_poor",
        "一般户": "non_poor",
    },
    "physical_ability": {
        "全劳力": "full",
        "半劳力": "moderate",
        "弱劳力": "light",
        "无劳力": "none",
        "丧失劳动力": "none",
    },
    "work_area": {"本地": "local", "就近": "local", "外出": "migrant", "均可": "any"},
    "pay_type": {"计件": "piece", "计时": "hourly", "日结": "daily", "月薪": "monthly"},
    "status": {
        "求职": "seeking",
        "待业": "seeking",
        "已就业": "employed",
        "务工": "employed",
        "自主创业": "self_employed",
        "不求职": "not_seeking",
    },
}
CODES: dict[str, tuple[str, ...]] = {
    name: tuple(member.value for member in enum)
    for name, enum in (
        ("poverty_status", PovertyStatus),
        ("physical_ability", Ability),
        ("work_area", WorkArea),
        ("pay_type", PayType),
        ("status", LaborerStatus),
    )
}
YES = {"是", "y", "yes", "true", "1", "需要"}
NO = {"否", "n", "no", "false", "0", "不需要", ""}


class ImportFileError(ValidationError):
    """The file as a whole cannot be imported; the message says why."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message), {"upload": [str(message)]})


@dataclass
class RowOutcome:
    """One data row of the sheet: its number as the spreadsheet shows it, values, complaints."""

    number: int
    values: dict[str, str]
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ImportResult:
    rows: list[RowOutcome]
    households_created: int = 0
    laborers_created: int = 0

    @property
    def failed(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.errors]

    @property
    def is_ok(self) -> bool:
        return bool(self.rows) and not self.failed


# -- the template -----------------------------------------------------------------------------------


def template_workbook() -> bytes:
    """The XLSX template: headers, one example row, and a sheet explaining the accepted values."""
    book = Workbook()
    sheet = book.active
    sheet.title = "劳动力"
    for cell in append_row(sheet, [header for _, header, _ in COLUMNS]):
        cell.font = Font(bold=True)
    append_row(sheet, [example for _, _, example in COLUMNS])
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    notes = book.create_sheet("填写说明")
    append_row(notes, ["列", "说明"])
    append_row(notes, ["户编号", "已登记的户编号；新户须同时填村代码、户主姓名、贫困属性"])
    for name, options in VALUES.items():
        append_row(notes, [FIELD_TO_HEADER[name], "、".join(options)])
    append_row(notes, ["需要弹性工时", "是 / 否"])
    append_row(notes, ["技能、意向工种", "多个用逗号分隔"])
    append_row(notes, ["行数", f"每次最多 {MAX_ROWS} 行；不接受公式"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- reading ------------------------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_blank(values: list[Any]) -> bool:
    return not any(_text(v) for v in values)


def _column(index: int, rows: list[tuple[int, list[Any]]]) -> str:
    """A column as people find it: its letter, and its header once the header row is read."""
    header = _text(rows[0][1][index]) if rows and index < len(rows[0][1]) else ""
    return f"{get_column_letter(index + 1)}（{header}）" if header else get_column_letter(index + 1)


def _check_row(
    number: int,
    values: list[Any],
    formulas: list[bool],
    rows: list[tuple[int, list[Any]]],
    max_chars: int,
) -> None:
    """Refuse a formula, or text a spreadsheet would take for one, and overlong cells: row and column."""
    for index, (value, formula) in enumerate(zip(values, formulas, strict=True)):
        if formula or is_formula_like(value):
            raise ImportFileError(
                _l(
                    "row %(row)s, column %(column)s holds a formula or begins with =, +, - or @; paste values only",
                    row=number,
                    column=_column(index, rows),
                )
            )
        if isinstance(value, str) and len(value) > max_chars:
            raise ImportFileError(
                _l(
                    "row %(row)s, column %(column)s holds more than %(max)s characters",
                    row=number,
                    column=_column(index, rows),
                    max=max_chars,
                )
            )


_TAG_EDGES = re.compile(r"([<>])")


def _longest_text(stream: IO[bytes], limit: int) -> int:
    """The longest run of text between XML tags, read in chunks (stops once past `limit`)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    longest = run = 0
    in_tag = False
    while chunk := stream.read(1 << 16):
        for piece in _TAG_EDGES.split(decoder.decode(chunk)):
            if piece == "<":
                in_tag, run = True, 0
            elif piece == ">":
                in_tag = False
            elif not in_tag:
                run += len(piece)
                longest = max(longest, run)
        if longest > limit:
            break
    return longest


def _check_archive(data: bytes) -> None:
    """Before any parsing: the workbook's unpacked size and its longest cell text stay in bounds.

    The sizes in the zip directory bound what can be unpacked (Python's zipfile stops at the
    declared size and fails on a mismatch), so a small file that unpacks to a gigabyte is refused
    without unpacking it; cell text is then measured by streaming each sheet and the shared strings.
    """
    max_bytes = setting("IMPORT_MAX_UNPACKED_BYTES")
    max_chars = setting("IMPORT_MAX_CELL_CHARS")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            unpacked = sum(info.file_size for info in members)
            if unpacked > max_bytes:
                raise ImportFileError(
                    _l(
                        "the workbook unpacks to %(size)s MB, more than %(max)s MB; split the file",
                        size=unpacked // 2**20,
                        max=max_bytes // 2**20,
                    )
                )
            for info in members:
                name = info.filename
                if name != "xl/sharedStrings.xml" and not name.startswith("xl/worksheets/"):
                    continue
                with archive.open(info) as stream:
                    if _longest_text(stream, max_chars) > max_chars:
                        raise ImportFileError(_l("a cell holds more than %(max)s characters", max=max_chars))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        raise ImportFileError(_l("the file is not a readable XLSX workbook")) from None


def _rows_from_xlsx(data: bytes) -> list[tuple[int, list[Any]]]:
    _check_archive(data)
    max_chars = setting("IMPORT_MAX_CELL_CHARS")
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(_l("the file is not a readable XLSX workbook")) from None
    try:
        if not book.worksheets:
            raise ImportFileError(_l("the file is empty"))
        rows: list[tuple[int, list[Any]]] = []
        # values_only would hide formulas; cells tell them apart. Blank rows (a sheet formatted down
        # to row 100,000) are skipped as read: neither errors nor counted against MAX_ROWS.
        for number, row in enumerate(book.worksheets[0].iter_rows(), start=1):
            values = [cell.value for cell in row]
            formulas = [getattr(cell, "data_type", None) == "f" for cell in row]
            _check_row(number, values, formulas, rows, max_chars)
            if _is_blank(values):
                continue
            rows.append((number, values))
            if len(rows) > MAX_ROWS + 1:
                break
    finally:
        book.close()
    return rows


def _rows_from_csv(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _l("the CSV file is not UTF-8 text; save it as “CSV UTF-8” and upload it again")
        ) from None
    if "\x00" in text:
        raise ImportFileError(_l("the file is not a readable CSV file"))
    max_chars = setting("IMPORT_MAX_CELL_CHARS")
    rows: list[tuple[int, list[Any]]] = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            number = reader.line_num
            _check_row(number, row, [False] * len(row), rows, max_chars)
            if _is_blank(row):
                continue
            rows.append((number, row))
            if len(rows) > MAX_ROWS + 1:
                break
    except csv.Error:
        raise ImportFileError(_l("the file is not a readable CSV file")) from None
    return rows


def read_upload(filename: str, data: bytes) -> list[RowOutcome]:
    """The data rows of an uploaded sheet, keyed by service field; ImportFileError if unusable."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        raw = _rows_from_xlsx(data)
    elif name.endswith(".csv"):
        raw = _rows_from_csv(data)
    else:
        raise ImportFileError(_l("only .xlsx or .csv files"))
    if not raw:
        raise ImportFileError(_l("the file is empty"))
    if len(raw) - 1 > MAX_ROWS:
        raise ImportFileError(_l("more than %(max)s rows; split the file", max=MAX_ROWS))
    headers = [_text(v) for v in raw[0][1]]
    unknown = [h for h in headers if h and h not in HEADER_TO_FIELD]
    if unknown:
        raise ImportFileError(_l("unknown columns: %(names)s; use the template", names="、".join(unknown[:5])))
    fields = [HEADER_TO_FIELD.get(h) for h in headers]
    missing = [FIELD_TO_HEADER[f] for f in REQUIRED if f not in fields]
    if missing:
        raise ImportFileError(_l("missing columns: %(names)s", names="、".join(missing)))
    outcomes = []
    for number, row in raw[1:]:
        values = {f: _text(v) for f, v in zip(fields, row, strict=False) if f}
        outcomes.append(RowOutcome(number=number, values=values))
    return outcomes


# -- importing ----------------------------------------------------------------------------------------


def _code(name: str, value: str, errors: dict[str, list[str]]) -> str | None:
    if value == "":
        return None
    code = VALUES.get(name, {}).get(value, value.lower())
    if code not in CODES[name]:
        errors.setdefault(name, []).append(str(_l("unknown value “%(value)s”", value=value)))
        return None
    return code


def _laborer_data(values: Mapping[str, str], errors: dict[str, list[str]]) -> dict[str, Any]:
    for name in REQUIRED:
        if not values.get(name):
            errors.setdefault(name, []).append(str(_l("required")))
    data: dict[str, Any] = {
        "name": values.get("name", ""),
        "id_number": values.get("id_number", ""),
        "phone": values.get("phone") or None,
        "physical_ability": _code("physical_ability", values.get("physical_ability", ""), errors),
        "work_area": _code("work_area", values.get("work_area", ""), errors),
        "pay_type": _code("pay_type", values.get("pay_type", ""), errors),
        "status": _code("status", values.get("status", ""), errors) or LaborerStatus.SEEKING.value,
        "skills": [p.strip() for p in values.get("skills", "").replace("，", ",").split(",") if p.strip()],
        # 包装 or packaging: a known kind of work is stored by its code, whatever language it was typed in.
        "job_types": [
            job_type_code(p)
            for p in values.get("job_types", "").replace("，", ",").replace("、", ",").split(",")
            if p.strip()
        ],
    }
    commute = values.get("max_commute_km", "")
    try:
        data["max_commute_km"] = float(commute) if commute else 10.0
        if not 0 < data["max_commute_km"] <= 500:
            raise ValueError
    except ValueError:
        errors.setdefault("max_commute_km", []).append(str(_l("a number of km between 0 and 500")))
    flexible = values.get("needs_flexible_hours", "").lower()
    if flexible in YES:
        data["needs_flexible_hours"] = True
    elif flexible in NO:
        data["needs_flexible_hours"] = False
    else:
        errors.setdefault("needs_flexible_hours", []).append(str(_l("write 是 or 否")))
    return data


def _household(
    session: Session,
    values: Mapping[str, str],
    user: User,
    remote_addr: str | None,
    errors: dict[str, list[str]],
) -> tuple[Household | None, bool]:
    """The row's household, registering it when the sheet describes a new one."""
    code = values.get("household_code", "")
    if not code:
        return None, False
    found = session.scalar(scope.scoped(Household, user).where(Household.code == code))
    if found is not None:
        return found, False
    status = _code("poverty_status", values.get("poverty_status", ""), errors)
    for name in ("village_code", "head_name", "poverty_status"):
        if not values.get(name):
            errors.setdefault(name, []).append(str(_l("required for a new household")))
    if errors:
        return None, False
    household = registry.create_household(
        session,
        {
            "code": code,
            "village_code": values["village_code"],
            "head_name": values["head_name"],
            "poverty_status": status,
        },
        user,
        remote_addr,
    )
    return household, True


def _merge(errors: dict[str, list[str]], error: DomainError, aliases: Mapping[str, str]) -> None:
    if not error.fields:
        errors.setdefault("row", []).append(error.message)
    for name, messages in error.fields.items():
        errors.setdefault(aliases.get(name, name), []).extend(str(m) for m in messages)


def run_import(session: Session, rows: list[RowOutcome], user: User, remote_addr: str | None = None) -> ImportResult:
    """Register every row's household (if new) and laborer; collect each row's complaints.

    Never commits. Rows that pass are flushed (so later rows see them: a duplicate ID number in
    the same sheet is caught); the caller keeps them only if no row failed.
    """
    result = ImportResult(rows=rows)
    for row in rows:
        errors = row.errors
        data = _laborer_data(row.values, errors)
        household = None
        try:
            household, created = _household(session, row.values, user, remote_addr, errors)
            result.households_created += created
        except DomainError as error:
            _merge(errors, error, {"code": "household_code"})
        if errors or household is None:
            continue
        try:
            registry.create_laborer(session, {**data, "household_id": household.id}, user, remote_addr)
            result.laborers_created += 1
        except DomainError as error:
            _merge(errors, error, {"household_id": "household_code"})
            # The refused laborer was attached to the household's collection; forget it.
            session.expire(household, ["laborers"])
    return result
