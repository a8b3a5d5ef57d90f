"""Fairness breakdowns as people read them: named groups, rates in %, ratios marked when below the
office's threshold, on pages (the `_fairness.html` macro) and in a plan's XLSX file alike."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select

from matcher.fairness import Breakdown, GroupFigures
from matcher.types import KINDS

from ..extensions import db
from ..labels import FAIRNESS_DIMENSIONS, group_label, label
from ..models import Plan, Region
from ..spreadsheets import append_row

#: The figures of a plan's report in its XLSX file, in order (the plan page's rows, and more).
REPORT_FIGURES = (
    "laborers",
    "placed",
    "households_without_work",
    "households_moved",
    "poor_households_without_work",
    "poor_households_moved",
    "registered_poor_placed",
    "mean_commute_km",
    "p90_commute_km",
    "mean_score",
)


def pct(rate: float | None) -> str:
    """A rate as a whole percentage; '—' when there is nothing to divide by."""
    return "—" if rate is None else f"{rate * 100:.0f} %"


def ratio(value: float | None) -> str:
    """A ratio to the overall rate, to two places; '—' when undefined."""
    return "—" if value is None else f"{value:.2f}"


def region_names(codes: Iterable[str]) -> dict[str, str]:
    """The names of regions by code (codes without a region are left out)."""
    codes = sorted(set(codes))
    names: dict[str, str] = {}
    for start in range(0, len(codes), 10_000):
        chunk = codes[start : start + 10_000]
        names.update(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(chunk))).all())
    return names


def village_codes(*breakdowns: Breakdown | None) -> set[str]:
    """Every village a breakdown has a group for."""
    return {g.group for b in breakdowns if b is not None for g in b.dimensions.get("village", [])}


def context(*breakdowns: Breakdown | None) -> dict[str, Any]:
    """What the `_fairness.html` macro needs beside the breakdowns: names, threshold, formats."""
    return {
        "fairness_villages": region_names(village_codes(*breakdowns)),
        "min_ratio": current_app.config["FAIRNESS_MIN_RATIO"],
        "dimension_titles": FAIRNESS_DIMENSIONS,
        "group_label": group_label,
        "pct": pct,
        "ratio": ratio,
        "fairness_pairs": pairs,
    }


def pairs(now: Breakdown, then: Breakdown, dimension: str) -> list[tuple[GroupFigures, GroupFigures]]:
    """The overall figures and each group's of two breakdowns of the same laborers, side by side."""
    theirs = {g.group: g for g in then.dimensions.get(dimension, [])}
    rows = [(now.overall, then.overall)]
    rows.extend((g, theirs[g.group]) for g in now.dimensions.get(dimension, []) if g.group in theirs)
    return rows


def _sheet_rows(breakdown: Breakdown, villages: dict[str, str], min_ratio: float) -> list[list[Any]]:
    """A breakdown's rows for a sheet: the overall row, then each dimension's groups."""

    def row(dimension: str, name: str, g: GroupFigures) -> list[Any]:
        below = g.below(min_ratio)
        return [
            dimension,
            name,
            g.laborers,
            g.placed,
            pct(g.placed_rate),
            ratio(g.placed_ratio),
            g.households_without_work,
            g.households_moved,
            pct(g.moved_rate),
            ratio(g.moved_ratio),
            "" if g.mean_commute_km is None else round(g.mean_commute_km, 1),
            g.checked,
            g.retained,
            pct(g.retention_rate),
            ratio(g.retention_ratio),
            _("yes") if below else "",
        ]

    rows = [row(_("All"), _("All"), breakdown.overall)]
    for dimension, groups in breakdown.dimensions.items():
        title = str(FAIRNESS_DIMENSIONS[dimension])
        rows.extend(row(title, group_label(dimension, g.group, villages), g) for g in groups)
    return rows


def _headers() -> list[str]:
    return [
        _("Dimension"),
        _("Group"),
        _("Laborers"),
        _("Placed"),
        _("Placed, share"),
        _("Ratio to overall"),
        _("Households without work"),
        _("Households moved"),
        _("Moved, share"),
        _("Ratio to overall"),
        _("Mean commute (km)"),
        _("90-day check-ins"),
        _("Still working at 90 days"),
        _("Retention"),
        _("Ratio to overall"),
        _("Below the threshold"),
    ]


def plan_workbook(plan: Plan, mine: Breakdown | None, baseline: Breakdown | None) -> bytes:
    """A plan's XLSX file, in Chinese whatever the page's language: its report beside the greedy
    baseline, then the fairness breakdown of each (no formulas: `web.spreadsheets`)."""
    villages = region_names(village_codes(mine, baseline))
    min_ratio = current_app.config["FAIRNESS_MIN_RATIO"]
    book = Workbook(write_only=True)
    with force_locale("zh"):
        sheet = book.create_sheet(_("Plan report")[:31])
        append_row(sheet, [_("Plan %(n)s", n=plan.id), label(plan.mode), label("greedy")])
        report, base = plan.report or {}, plan.baseline_report or {}
        for key in REPORT_FIGURES:
            append_row(sheet, [_report_name(key), _number(report.get(key), key), _number(base.get(key), key)])
        for kind in KINDS:
            append_row(
                sheet,
                [
                    label(kind),
                    (report.get("placed_by_kind") or {}).get(kind),
                    (base.get("placed_by_kind") or {}).get(kind),
                ],
            )
        append_row(sheet, [_("Threshold: ratio to the overall rate"), min_ratio, ""])
        for title, breakdown in ((_("Fairness"), mine), (_("Fairness, greedy baseline"), baseline)):
            if breakdown is None:
                continue
            sheet = book.create_sheet(title[:31])
            append_row(sheet, _headers())
            for cells in _sheet_rows(breakdown, villages, min_ratio):
                append_row(sheet, cells)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _number(value: Any, key: str) -> Any:
    """A report figure for a cell: distances to 0.1 km, other numbers as they are, blank when missing."""
    if value is None:
        return ""
    return round(value, 1) if key.endswith("_km") else value


def _report_name(key: str) -> str:
    names = {
        "laborers": _("Seeking laborers in the plan"),
        "placed": _("Laborers placed"),
        "households_without_work": _("Households without work before the plan"),
        "households_moved": _("Households moved out of “without work” (poor or not)"),
        "poor_households_without_work": _(
            "Poor households without work before the plan, of those with a laborer in the plan"
        ),
        "poor_households_moved": _("Poor households moved out of “without work”"),
        "registered_poor_placed": _("Registered-poor laborers placed"),
        "mean_commute_km": _("Mean commute (km)"),
        "p90_commute_km": _("90th percentile commute (km)"),
        "mean_score": _("Mean score"),
    }
    return names[key]
