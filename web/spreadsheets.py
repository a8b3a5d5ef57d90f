"""Spreadsheet cells that cannot run: every XLSX jiuye writes, and every sheet it reads, pass here.

A name such as `=HYPERLINK("http://…","x")` typed into a record would otherwise reach an office's
spreadsheet as a live formula (CSV / formula injection). Following OWASP's guidance, any text that
begins, after leading spaces, with `=`, `+`, `-` or `@`, or that begins with a tab or a carriage
return, is treated as a formula: exports write it as a plain string cell marked "quote prefix"
(shown as typed, never evaluated, and kept text if someone edits it), and the import refuses it.
Numbers stay numbers: -5 is written as the number -5.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet.worksheet import Worksheet

#: What a formula may begin with, once leading spaces are skipped (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@")
#: Leading characters that are themselves a risk: a spreadsheet may drop them and see a formula.
CONTROL_STARTS = ("\t", "\r")


def is_formula_like(value: Any) -> bool:
    """True for text a spreadsheet could take for a formula (see the module docstring)."""
    if not isinstance(value, str) or not value:
        return False
    if value.startswith(CONTROL_STARTS):
        return True
    return value.lstrip().startswith(FORMULA_STARTS)


def inert_cell(sheet: Worksheet, value: Any) -> Cell:
    """A cell for `sheet` holding `value`; formula-like text becomes an inert string cell."""
    cell = WriteOnlyCell(sheet, value=value)
    if is_formula_like(value):
        cell.data_type = "s"  # openpyxl took "=…" for a formula; store the text itself
        cell.quotePrefix = True
    return cell


def append_row(sheet: Worksheet, values: Iterable[Any]) -> list[Cell]:
    """Append one row of values to a sheet (write-only or not), none of them a live formula."""
    cells = [inert_cell(sheet, value) for value in values]
    sheet.append(cells)
    return cells
