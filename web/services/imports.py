"""Bulk import of laborers (and their households) from an XLSX or CSV sheet with Chinese headers.

Reading refuses what must not be read at all (formulas, more than MAX_ROWS rows, CSV that is not
UTF-8, unknown columns). Importing runs the registry's own create use cases row by row, so that a
sheet is checked by exactly the rules a form is; every row's complaints are collected. Each use case
runs in its own savepoint, so a row the database refuses (an ID number or household code that another
import saved a moment ago) is a complaint of that row, and the rows before it stay as they were. The
caller's unit of work owns the transaction: the preview discards it, the commit keeps it only when no
row failed.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session

from matcher.types import job_type_code

from ..errors import DomainError, ValidationError
from ..models import Household, User
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
    "poverty_status": {"建档立卡户": "registered_poor", "建档立卡": "registered_poor", "贫困户": "registered_poor",
                       "监测户": "monitored", "非贫困户": "non_poor", "一般户": "non_poor"},
    "physical_ability": {"全劳力": "full", "半劳力": "moderate", "弱劳力": "light", "无劳力": "none",
                         "丧失劳动力": "none"},
    "work_area": {"本地": "local", "就近": "local", "外出": "migrant", "均可": "any"},
    "pay_type": {"计件": "piece", "计时": "hourly", "日结": "daily", "月薪": "monthly"},
    "status": {"求职": "seeking", "待业": "seeking", "已就业": "employed", "务工": "employed",
               "自主创业": "self_employed", "不求职": "not_seeking"},
}
CODES = {
    "poverty_status": ("registered_poor", "monitored", "non_poor"),
    "physical_ability": ("full", "moderate", "light", "none"),
    "work_area": ("local", "migrant", "any"),
    "pay_type": ("piece", "hourly", "daily", "monthly"),
    "status": ("seeking", "employed", "self_employed", "not_seeking"),
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
    sheet.append([header for _, header, _ in COLUMNS])
    sheet.append([example for _, _, example in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    notes = book.create_sheet("填写说明")
    notes.append(["列", "说明"])
    notes.append(["户编号", "已登记的户编号；新户须同时填村代码、户主姓名、贫困属性"])
    for name, options in VALUES.items():
        notes.append([FIELD_TO_HEADER[name], "、".join(options)])
    notes.append(["需要弹性工时", "是 / 否"])
    notes.append(["技能、意向工种", "多个用逗号分隔"])
    notes.append(["行数", f"每次最多 {MAX_ROWS} 行；不接受公式"])
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


def _rows_from_xlsx(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
        raise ImportFileError(_l("the file is not a readable XLSX workbook")) from None
    if not book.worksheets:
        raise ImportFileError(_l("the file is empty"))
    sheet = book.worksheets[0]
    rows: list[tuple[int, list[Any]]] = []
    # values_only would hide formulas; cells tell them apart. Blank rows (a sheet formatted down to
    # row 100,000) are skipped as they are read: they are neither errors nor counted against MAX_ROWS.
    for number, row in enumerate(sheet.iter_rows(), start=1):
        values = []
        for cell in row:
            if getattr(cell, "data_type", None) == "f" or (
                isinstance(cell.value, str) and cell.value.startswith("=")
            ):
                book.close()
                raise ImportFileError(
                    _l("row %(row)s holds a formula; paste values only", row=number)
                )
            values.append(cell.value)
        if _is_blank(values):
            continue
        rows.append((number, values))
        if len(rows) > MAX_ROWS + 1:
            break
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
    rows = []
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            number = reader.line_num
            if any(value.startswith("=") for value in row):
                raise ImportFileError(_l("row %(row)s holds a formula; paste values only", row=number))
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
        raise ImportFileError(
            _l("unknown columns: %(names)s; use the template", names="、".join(unknown[:5]))
        )
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
        errors.setdefault(name, []).append(
            str(_l("unknown value “%(value)s”", value=value))
        )
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
        "status": _code("status", values.get("status", ""), errors) or "seeking",
        "skills": [p.strip() for p in values.get("skills", "").replace("，", ",").split(",") if p.strip()],
        # 包装 or packaging: a known kind of work is stored by its code, whatever language it was typed in.
        "job_types": [
            job_type_code(p) for p in values.get("job_types", "").replace("，", ",").replace("、", ",").split(",")
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
    session: Session, values: Mapping[str, str], user: User, remote_addr: str | None,
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
        {"code": code, "village_code": values["village_code"], "head_name": values["head_name"],
         "poverty_status": status},
        user,
        remote_addr,
    )
    return household, True


def _merge(errors: dict[str, list[str]], error: DomainError, aliases: Mapping[str, str]) -> None:
    if not error.fields:
        errors.setdefault("row", []).append(error.message)
    for name, messages in error.fields.items():
        errors.setdefault(aliases.get(name, name), []).extend(str(m) for m in messages)


def run_import(
    session: Session, rows: list[RowOutcome], user: User, remote_addr: str | None = None
) -> ImportResult:
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
