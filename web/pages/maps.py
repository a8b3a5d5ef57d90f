"""Small maps drawn on the server as inline SVG: a laborer's matches around their home, a posting's
candidates around the posting. No tiles, no script, readable on a 360-px phone.

Each target (or person) is drawn by its bearing and distance from the centre; the radial scale is
logarithmic (``log(1 + km)``), so the workshop 0.4 km away and the batch's pickup point 40 km away
both fit, with rings at 1, 5 and 10 km (and one at the farthest mark when it is beyond 10 km). A
batch is drawn at the pickup point its distance is measured to. Every mark carries its number (the
card's place in the list) and a ``<title>`` with its name and distance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from matcher.geo import geodesic_km

SIZE = 360  # viewBox units; one unit is one CSS pixel on the narrowest phone
RADIUS = 150  # of the outermost ring
RINGS_KM = (1.0, 5.0, 10.0)
#: Fill of each kind's marks (presentation attributes: no inline style, so the CSP stays strict).
COLOURS = {"opening": "#1f6fb2", "batch": "#c77800", "welfare_post": "#2e7d32", "laborer": "#6a1b9a"}


@dataclass(frozen=True, slots=True)
class Mark:
    """One thing on a map: where it is, how far from the centre (the radius), its kind and its label (with the
    distance as the cards say it)."""

    lat: float
    lon: float
    distance_km: float
    kind: str
    label: str
    is_eligible: bool = True


def bearing_rad(origin: tuple[float, float], point: tuple[float, float]) -> float:
    """Initial bearing from origin to point, radians clockwise from north."""
    lat1, lon1, lat2, lon2 = (math.radians(v) for v in (*origin, *point))
    dlon = lon2 - lon1
    x = math.sin(dlon) * math.cos(lat2)
    y = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(dlon)
    return math.atan2(x, y)


def _km_label(km: float) -> str:
    return _("%(km)s km", km=f"{km:g}" if km < 10 else f"{km:.0f}")


def radial_map(centre: tuple[float, float], marks: Sequence[Mark], title: str, centre_label: str) -> Markup:
    """An SVG of marks around a centre by bearing and (log-scaled) distance, with rings at 1, 5, 10 km."""
    far = max([m.distance_km for m in marks] + [RINGS_KM[-1]])
    scale = RADIUS / math.log1p(far)
    mid = SIZE / 2

    def radius(km: float) -> float:
        return scale * math.log1p(max(km, 0.0))

    parts = []
    rings = [*RINGS_KM, *([math.ceil(far)] if far > RINGS_KM[-1] * 1.2 else [])]
    for km in rings:
        r = radius(km)
        parts.append(
            f'<circle class="map-ring" cx="{mid}" cy="{mid}" r="{r:.1f}" fill="none" stroke="#bbb" '
            f'stroke-dasharray="3 3"/><text x="{mid + 3}" y="{mid - r - 2:.1f}" font-size="10" '
            f'fill="#666">{escape(_km_label(km))}</text>'
        )
    parts.append(
        f'<g class="map-home"><title>{escape(centre_label)}</title>'
        f'<rect x="{mid - 5}" y="{mid - 5}" width="10" height="10" fill="#333"/>'
        f'<text x="{mid + 8}" y="{mid + 14}" font-size="11" fill="#333">{escape(centre_label)}</text></g>'
    )
    for n, mark in enumerate(marks, start=1):
        angle = bearing_rad(centre, (mark.lat, mark.lon))
        r = radius(mark.distance_km)
        x, y = mid + r * math.sin(angle), mid - r * math.cos(angle)
        colour = COLOURS.get(mark.kind, "#555")
        fill = colour if mark.is_eligible else "#fff"
        name = (
            f"{n}. {mark.label}"
            if mark.kind == "laborer"
            else f"{n}. {mark.label} · {_km_label(round(mark.distance_km, 1))}"
        )
        parts.append(
            f'<g class="map-mark map-{escape(mark.kind)}"><title>{escape(name)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="{fill}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="10" text-anchor="middle" '
            f'fill="{"#fff" if mark.is_eligible else colour}">{n}</text></g>'
        )
    return Markup(
        f'<svg class="map" viewBox="0 0 {SIZE} {SIZE}" width="100%" preserveAspectRatio="xMidYMid meet" '
        f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(parts)}</svg>"
    )


def match_map(home: tuple[float, float], matches: Sequence, title: str, labels: Sequence[str] = ()) -> Markup:
    """A laborer's matches (`matcher.rank.Match`, in card order) around their home."""
    marks = [
        Mark(
            m.point[0],
            m.point[1],
            m.distance_km,
            m.kind,
            f"{labels[i] if i < len(labels) else m.target_id} · {_km_label(round(m.distance_km, 1))}",
            m.eligible,
        )
        for i, m in enumerate(matches)
        if m.point is not None
    ]
    return radial_map(home, marks, title, _("home"))


def candidate_map(
    centre: tuple[float, float], people: Sequence[tuple[float, float, str, float]], title: str, centre_label: str
) -> Markup:
    """A posting's candidates (lat, lon, label, distance said) around it, drawn where they are said to be
    (for an employer, their village's point: `services.disclosure`); the ring scale is measured from the centre."""
    marks = [
        Mark(lat, lon, geodesic_km(centre, (lat, lon)), "laborer", f"{label} · {_km_label(said_km)}")
        for lat, lon, label, said_km in people
    ]
    return radial_map(centre, marks, title, centre_label)
