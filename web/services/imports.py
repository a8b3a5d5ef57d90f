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
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy.orm import Session

from matcher.types import job_type_code, skill_code

from ..config import setting
from ..errors import DomainError, ValidationError
from ..models import Ability, Household, Laborer, LaborerStatus, PayType, PovertyStatus, User, WorkArea
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
    ("physical_ability", "劳动能力", "轻体力"),
    ("skills", "技能", "缝纫"),
    ("work_area", "就业意向", "就近就业"),
    ("max_commute_km", "最远通勤公里", "10"),
    ("job_types", "意向工种", "包装"),
    ("pay_type", "工资方式", "计件"),
    ("needs_flexible_hours", "需要弹性工时", "是"),
    ("status", "就业状态", "求职中"),
    ("over_age_confirmed", "超龄仍能工作", "否"),
)
#: The column the refused rows' workbook adds (ignored when that workbook is uploaded again).
ERROR_HEADER = "错误"
HEADER_TO_FIELD = {header: name for name, header, _ in COLUMNS} | {n: n for n, _, _ in COLUMNS}
FIELD_TO_HEADER = {name: header for name, header, _ in COLUMNS}
REQUIRED = ("household_code", "name", "id_number", "physical_ability", "work_area")

#: Synonyms: words offices write for a code, beside the form's own labels (web.labels, in
#: both languages) and the stored codes, which are always accepted. The ability terms are those of
#: the poverty registration (建档立卡) forms; 弱劳动力或半劳动力 is taken as the lighter of the two,
#: so that nobody is offered work beyond their strength.
SYNONYMS: dict[str, dict[str, str]] = {
    "poverty_status": {
        "建档立卡": "registered_poor",
        "贫困户": "registered_poor",
        "脱贫户": "registered_poor",
        "一般户": "non_poor",
        "监测对象": "monitored",
    },
    "physical_ability": {
        "普通劳动力": "full",
        "技能劳动力": "full",
        "全劳力": "full",
        "全劳动力": "full",
        "半劳力": "moderate",
        "半劳动力": "moderate",
        "弱劳力": "light",
        "弱劳动力": "light",
        "弱劳动力或半劳动力": "light",
        "丧失劳动力": "none",
        "无劳动力": "none",
        "无劳力": "none",
    },
    "work_area": {"本地": "local", "就近": "local", "外出": "migrant"},
    "pay_type": {"计时": "hourly", "日结": "daily", "月薪": "monthly"},
    "status": {
        "求职": "seeking",
        "待业": "seeking",
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
#: Yes/no columns: service field → what the sheet's cell is made of.
BOOLEAN_FIELDS = ("needs_flexible_hours", "over_age_confirmed")


def _label(code: str, locale: str) -> str | None:
    """The form's name of a code in one language (web.labels), when an app is running."""
    from flask import has_app_context
    from flask_babel import force_locale

    from ..labels import LABELS

    if code not in LABELS or not has_app_context():
        return None
    with force_locale(locale):
        return str(LABELS[code])


def choices(name: str) -> list[str]:
    """A column's dropdown: the form's Chinese names of its codes, then the offices' own terms."""
    names = [_label(code, "zh") or code for code in CODES[name]]
    return list(dict.fromkeys([*names, *SYNONYMS.get(name, {})]))


def accepted(name: str) -> dict[str, str]:
    """Every word accepted in a column, lower-cased, and the code it stands for: the form's labels in
    both languages, the synonyms and the codes themselves."""
    words: dict[str, str] = {}
    for code in CODES[name]:
        words[code] = code
        for locale in ("en", "zh"):
            if (text := _label(code, locale)) is not None:
                words[text.lower()] = code
    words.update(SYNONYMS.get(name, {}))
    return words


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
    #: What the row created, once imported.
    laborer_id: int | None = None
    household_id: int | None = None
    household_created: bool = False


@dataclass
class ImportResult:
    rows: list[RowOutcome]
    households_created: int = 0
    laborers_created: int = 0

    @property
    def failed(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.errors]

    @property
    def imported(self) -> list[RowOutcome]:
        return [row for row in self.rows if row.laborer_id is not None]

    @property
    def new_household_ids(self) -> set[int]:
        return {row.household_id for row in self.imported if row.household_created and row.household_id}

    @property
    def is_ok(self) -> bool:
        return bool(self.rows) and not self.failed


# -- the template -----------------------------------------------------------------------------------


#: Columns filled from a list, and the list's source: an enumerated code, or yes/no.
LIST_COLUMNS = (*CODES, *BOOLEAN_FIELDS)


def _headers_row(sheet: Any, extra: tuple[str, ...] = ()) -> None:
    for cell in append_row(sheet, [header for _, header, _ in COLUMNS] + list(extra)):
        cell.font = Font(bold=True)
    for index in range(len(COLUMNS) + len(extra)):
        sheet.column_dimensions[get_column_letter(index + 1)].width = 16


def _add_dropdowns(book: Workbook, sheet: Any) -> None:
    """A dropdown (list validation) on every enumerated column, its options on a hidden sheet.

    The error style is a warning, not a stop: a synonym typed by hand (an office's own term) is
    still accepted by the import, which is where values are checked.
    """
    options = book.create_sheet("选项")
    options.sheet_state = "hidden"
    positions = {name: index for index, (name, _, _) in enumerate(COLUMNS)}
    for index, name in enumerate(LIST_COLUMNS):
        values = ["是", "否"] if name in BOOLEAN_FIELDS else choices(name)
        letter = get_column_letter(index + 1)
        options.cell(row=1, column=index + 1, value=FIELD_TO_HEADER[name])
        for row, value in enumerate(values, start=2):
            options.cell(row=row, column=index + 1, value=value)
        validation = DataValidation(
            type="list",
            formula1=f"'选项'!${letter}$2:${letter}${len(values) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=FIELD_TO_HEADER[name],
            error="不在列表中；导入时会检查",
        )
        target = get_column_letter(positions[name] + 1)
        validation.add(f"{target}2:{target}{MAX_ROWS + 1}")
        sheet.add_data_validation(validation)


def template_workbook(village_code: str | None = None) -> bytes:
    """The XLSX template: headers, one example row, dropdowns on every enumerated column, and a sheet
    explaining the accepted values. Given the downloading cadre's village, the example row is placed
    there, so that it imports as it is in any office."""
    examples = {name: example for name, _, example in COLUMNS}
    if village_code:
        examples |= {"village_code": village_code, "household_code": f"{village_code}-0999"}
    book = Workbook()
    sheet = book.active
    sheet.title = "劳动力"
    _headers_row(sheet)
    append_row(sheet, [examples[name] for name, _, _ in COLUMNS])
    _add_dropdowns(book, sheet)
    notes = book.create_sheet("填写说明", 1)
    append_row(notes, ["列", "说明"])
    append_row(notes, ["户编号", "已登记的户编号；新户须同时填村代码、户主姓名、贫困属性"])
    for name in CODES:
        append_row(notes, [FIELD_TO_HEADER[name], "、".join(choices(name))])
    append_row(notes, ["需要弹性工时", "是 / 否"])
    append_row(notes, ["超龄仍能工作", f"超过 {setting('MAX_LABOR_AGE')} 岁的人须填“是”：本人仍愿意且能够工作"])
    append_row(notes, ["身份证号", f"未满 {setting('MIN_LABOR_AGE')} 岁的人不能登记"])
    append_row(notes, ["技能、意向工种", "多个用逗号分隔"])
    append_row(notes, ["行数", f"每次最多 {MAX_ROWS} 行；不接受公式"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused_workbook(rows: list[RowOutcome]) -> bytes:
    """The refused rows as they were uploaded, each with its errors in a last column; fixed, the file
    can be uploaded again as it is (the error column is ignored)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "未导入"
    _headers_row(sheet, (ERROR_HEADER,))
    for row in rows:
        append_row(sheet, [row.values.get(name, "") for name, _, _ in COLUMNS] + [describe_errors(row)])
    sheet.column_dimensions[get_column_letter(len(COLUMNS) + 1)].width = 60
    _add_dropdowns(book, sheet)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def describe_errors(row: RowOutcome) -> str:
    """A row's complaints as one line: column — message; …, in the current language."""
    from ..labels import translated

    parts = []
    for name, messages in row.errors.items():
        text = "；".join(translated(m) for m in messages)
        header = FIELD_TO_HEADER.get(name)
        parts.append(f"{header}：{text}" if header else text)
    return " · ".join(parts)


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


def read_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    """The non-blank rows of an XLSX upload's first sheet, with their numbers, once every check has passed
    (size, longest cell, formulas, MAX_ROWS): the one reader of uploaded workbooks."""
    return _rows_from_xlsx(data)


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
    unknown = [h for h in headers if h and h not in HEADER_TO_FIELD and h != ERROR_HEADER]
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
    code = accepted(name).get(value.lower())
    if code is None:
        errors.setdefault(name, []).append(str(_l("unknown value “%(value)s”", value=value)))
    return code


def _yes_no(name: str, values: Mapping[str, str], errors: dict[str, list[str]]) -> bool:
    answer = values.get(name, "").lower()
    if answer not in YES and answer not in NO:
        errors.setdefault(name, []).append(str(_l("write 是 or 否")))
    return answer in YES


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
        "skills": [skill_code(p) for p in values.get("skills", "").replace("，", ",").split(",") if p.strip()],
        # 包装 or packaging: a known kind of work is stored by its code, whatever language it was typed in.
        "job_types": [
            job_type_code(p)
            for p in values.get("job_types", "").replace("，", ",").replace("、", ",").split(",")
            if p.strip()
        ],
        "needs_flexible_hours": _yes_no("needs_flexible_hours", values, errors),
        "over_age_confirmed": _yes_no("over_age_confirmed", values, errors),
    }
    commute = values.get("max_commute_km", "")
    try:
        data["max_commute_km"] = float(commute) if commute else 10.0
        if not 0 < data["max_commute_km"] <= 500:
            raise ValueError
    except ValueError:
        errors.setdefault("max_commute_km", []).append(str(_l("a number of km between 0 and 500")))
    return data


def _household(
    session: Session,
    values: Mapping[str, str],
    user: User,
    remote_addr: str | None,
    errors: dict[str, list[str]],
) -> tuple[Household | None, bool]:
    """The row's household, registering it when the sheet describes a new one (its own complaints
    are added to `errors`, whatever else the row has wrong)."""
    code = values.get("household_code", "")
    if not code:
        return None, False
    found = session.scalar(scope.scoped(Household, user).where(Household.code == code))
    if found is not None:
        return found, False
    own: dict[str, list[str]] = {}
    status = _code("poverty_status", values.get("poverty_status", ""), own)
    for name in ("village_code", "head_name", "poverty_status"):
        if not values.get(name):
            own.setdefault(name, []).append(str(_l("required for a new household")))
    household = None
    if not own:
        try:
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
        except DomainError as error:
            _merge(own, error, {"code": "household_code"})
    for name, messages in own.items():
        errors.setdefault(name, []).extend(messages)
    return household, household is not None


def _merge(errors: dict[str, list[str]], error: DomainError, aliases: Mapping[str, str]) -> None:
    if not error.fields:
        errors.setdefault("row", []).append(error.message)
    for name, messages in error.fields.items():
        errors.setdefault(aliases.get(name, name), []).extend(str(m) for m in messages)


def _import_row(session: Session, row: RowOutcome, user: User, remote_addr: str | None) -> Laborer | None:
    """One row: its household (if new) and laborer, or every complaint the row has, all at once."""
    errors = row.errors
    data = _laborer_data(row.values, errors)
    household, created = _household(session, row.values, user, remote_addr, errors)
    if errors or household is None:
        # The laborer's own fields are checked all the same, so that one upload shows every error.
        for name, messages in registry.laborer_complaints(data).items():
            errors.setdefault(name, []).extend(messages)
        return None
    try:
        laborer = registry.create_laborer(session, {**data, "household_id": household.id}, user, remote_addr)
    except DomainError as error:
        _merge(errors, error, {"household_id": "household_code"})
        # The refused laborer was attached to the household's collection; forget it.
        session.expire(household, ["laborers"])
        return None
    row.laborer_id = laborer.id
    row.household_id = household.id
    row.household_created = created
    return laborer


class _RowRefused(Exception):
    """A row with complaints: its savepoint is undone, the import goes on with the next row."""


def run_import(session: Session, rows: list[RowOutcome], user: User, remote_addr: str | None = None) -> ImportResult:
    """Register every row's household (if new) and laborer; collect every complaint of every row.

    Never commits. Each row runs in its own savepoint: a refused row leaves nothing (not even its new
    household), rows that pass are flushed (so later rows see them: a duplicate ID number in the same
    sheet is caught). The caller keeps all rows only if none failed, or, when the cadre asked to
    import the valid rows, keeps those that passed.
    """
    result = ImportResult(rows=rows)
    for row in rows:
        try:
            with session.begin_nested():  # leaving it by _RowRefused undoes the row
                if _import_row(session, row, user, remote_addr) is None:
                    raise _RowRefused
        except _RowRefused:
            continue
        result.households_created += row.household_created
        result.laborers_created += 1
    return result
