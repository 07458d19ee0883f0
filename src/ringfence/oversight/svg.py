"""Maps and charts as SVG text: no plotting library, no tiles, no network.

Maps use an equirectangular projection scaled by cos(latitude) at the map's centre, which over
London distorts distances by well under 1 %. Polygons are simplified to half a pixel before
drawing, so a 1,002-MSOA map stays small. Colours are five sequential classes (quantile breaks)
from ColorBrewer's YlGnBu, readable in greyscale; areas with no value are hatched grey.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt
import shapely

PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
NO_DATA = "#dddddd"
#: Camera networks' dot colours (unknown networks are grey).
NETWORK_COLOURS = {
    "cc_lez_2015": "#d7191c",
    "ulez_inner_2021": "#fdae61",
    "ulez_london_2023": "#7b3294",
}
ZONE_STYLES = {
    "ccz": ("#000000", "4 2"),
    "ulez_2021_inner": ("#444444", "8 3"),
    "lez_2008": ("#888888", "2 2"),
}
FONT = "font-family='sans-serif'"


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def number(v: float) -> str:
    """A compact human number for legends and labels."""
    if not np.isfinite(v):
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:.2f}".rstrip("0").rstrip(".")
    return f"{v:.3g}"


@dataclass(frozen=True, slots=True)
class Projection:
    lon0: float
    lat1: float  # top
    scale: float  # pixels per degree of latitude
    kx: float  # cos(centre latitude)
    width: float
    height: float

    @classmethod
    def fit(cls, bounds: Sequence[float], width: float) -> Projection:
        minx, miny, maxx, maxy = bounds
        kx = float(np.cos(np.radians((miny + maxy) / 2)))
        scale = width / ((maxx - minx) * kx)
        return cls(minx, maxy, scale, kx, width, (maxy - miny) * scale)

    def xy(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[Any, Any]:
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self.kx * self.scale
        y = (self.lat1 - np.asarray(lat, dtype=np.float64)) * self.scale
        return x, y


def path_data(geom: Any, proj: Projection) -> str:
    """SVG path commands for a (Multi)Polygon or (Multi)LineString, every ring closed."""
    parts: list[str] = []
    for part in shapely.get_parts(geom):
        rings = [part.exterior, *part.interiors] if part.geom_type == "Polygon" else [part]
        for ring in rings:
            coords = shapely.get_coordinates(ring)
            if len(coords) < 2:
                continue
            x, y = proj.xy(coords[:, 0], coords[:, 1])
            pts = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in zip(x, y, strict=True))
            close = "Z" if part.geom_type == "Polygon" else ""
            parts.append(f"M{pts}{close}")
    return "".join(parts)


def breaks(values: npt.ArrayLike, classes: int = 5) -> npt.NDArray[np.float64]:
    """Upper bounds of quantile classes over the finite values (duplicates removed)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.zeros(0)
    edges: npt.NDArray[np.float64] = np.unique(np.quantile(v, np.linspace(0, 1, classes + 1)[1:]))
    return edges


def colour_of(
    values: npt.ArrayLike, edges: npt.NDArray[np.float64], palette: Sequence[str] = PALETTE
) -> list[str]:
    v = np.asarray(values, dtype=np.float64)
    # spread the classes over the palette when ties leave fewer than five
    step = len(PALETTE) / max(len(edges), 1)
    cls = np.searchsorted(edges, v, side="left")
    out = []
    for value, c in zip(v, cls, strict=True):
        if not np.isfinite(value):
            out.append(NO_DATA)
        else:
            out.append(palette[min(int((c + 1) * step) - 1, len(palette) - 1)])
    return out


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{_fmt(width)}' "
        f"height='{_fmt(height)}' viewBox='0 0 {_fmt(width)} {_fmt(height)}' role='img'>"
        f"<title>{escape(title)}</title>"
        f"<rect width='100%' height='100%' fill='white'/>" + "".join(body) + "</svg>"
    )


def choropleth(
    geometries: Sequence[Any],
    values: npt.ArrayLike,
    *,
    names: Sequence[str],
    title: str,
    legend: str,
    points: Mapping[str, tuple[npt.ArrayLike, npt.ArrayLike]] | None = None,
    outlines: Mapping[str, Any] | None = None,
    width: float = 760.0,
    reverse: bool = False,
    no_data: str = "no data",
) -> str:
    """Areas coloured by quantile class of `values`, with camera dots and zone outlines.

    One `<path class='area'>` per area (its name and value in a tooltip), one
    `<path class='zone'>` per outline, one `<circle>` per point.
    """
    geoms = np.asarray(geometries, dtype=object)
    box = shapely.total_bounds(geoms)
    map_w = width - 190.0  # room on the right for the legend
    proj = Projection.fit(box, map_w)
    pad_top = 34.0
    height = max(proj.height + pad_top + 10, 330.0)
    simplified = shapely.simplify(geoms, 0.5 / proj.scale)
    v = np.asarray(values, dtype=np.float64)
    edges = breaks(v)
    palette = PALETTE[::-1] if reverse else PALETTE  # reverse: small values are the worst
    colours = colour_of(v, edges, palette)
    body = [
        f"<text x='8' y='20' {FONT} font-size='15' font-weight='bold'>{escape(title)}</text>",
        f"<g transform='translate(0,{_fmt(pad_top)})' stroke='#ffffff' stroke-width='0.3'>",
    ]
    for geom, colour, name, value in zip(simplified, colours, names, v, strict=True):
        body.append(
            f"<path class='area' d='{path_data(geom, proj)}' fill='{colour}' "
            f"fill-rule='evenodd'><title>{escape(name)}: {number(value)}</title></path>"
        )
    for zone_id, geom in (outlines or {}).items():
        stroke, dash = ZONE_STYLES.get(zone_id, ("#000000", "3 3"))
        body.append(
            f"<path class='zone' d='{path_data(shapely.boundary(geom), proj)}' fill='none' "
            f"stroke='{stroke}' stroke-width='1.4' stroke-dasharray='{dash}'>"
            f"<title>{escape(zone_id)}</title></path>"
        )
    for network, (lon, lat) in (points or {}).items():
        colour = NETWORK_COLOURS.get(network, "#555555")
        x, y = proj.xy(lon, lat)
        body.append(f"<g class='cameras' fill='{colour}' fill-opacity='0.8' stroke='none'>")
        body += [
            f"<circle cx='{_fmt(a)}' cy='{_fmt(b)}' r='1.3'/>" for a, b in zip(x, y, strict=True)
        ]
        body.append("</g>")
    body.append("</g>")
    body += _legend(map_w + 10, pad_top, edges, legend, points, outlines, palette, no_data)
    return _svg(width, height, body, title)


def _legend(
    x0: float,
    y0: float,
    edges: npt.NDArray[np.float64],
    label: str,
    points: Mapping[str, Any] | None,
    outlines: Mapping[str, Any] | None,
    palette: Sequence[str],
    no_data: str,
) -> list[str]:
    out = [f"<text x='{_fmt(x0)}' y='{_fmt(y0)}' {FONT} font-size='11'>{escape(label)}</text>"]
    y = y0 + 8
    lows = [float("nan"), *edges[:-1]] if len(edges) else []
    colours = colour_of(edges, edges, palette) if len(edges) else []
    for lo, hi, colour in zip(lows, edges, colours, strict=True):
        if hi == 0:
            text = "0"
        elif not np.isfinite(lo):
            text = f"up to {number(hi)}"
        else:
            text = f"{number(lo)} to {number(hi)}"
        out.append(
            f"<rect x='{_fmt(x0)}' y='{_fmt(y)}' width='14' height='12' fill='{colour}' "
            f"stroke='#999'/><text x='{_fmt(x0 + 20)}' y='{_fmt(y + 10)}' {FONT} "
            f"font-size='10'>{escape(text)}</text>"
        )
        y += 16
    out.append(
        f"<rect x='{_fmt(x0)}' y='{_fmt(y)}' width='14' height='12' fill='{NO_DATA}' "
        f"stroke='#999'/><text x='{_fmt(x0 + 20)}' y='{_fmt(y + 10)}' {FONT} "
        f"font-size='10'>{escape(no_data)}</text>"
    )
    y += 26
    for network in points or {}:
        colour = NETWORK_COLOURS.get(network, "#555555")
        out.append(
            f"<circle cx='{_fmt(x0 + 7)}' cy='{_fmt(y + 5)}' r='3.5' fill='{colour}'/>"
            f"<text x='{_fmt(x0 + 20)}' y='{_fmt(y + 9)}' {FONT} font-size='10'>"
            f"cameras: {escape(network)}</text>"
        )
        y += 15
    y += 6
    for zone_id in outlines or {}:
        stroke, dash = ZONE_STYLES.get(zone_id, ("#000000", "3 3"))
        out.append(
            f"<line x1='{_fmt(x0)}' y1='{_fmt(y + 5)}' x2='{_fmt(x0 + 14)}' y2='{_fmt(y + 5)}' "
            f"stroke='{stroke}' stroke-width='1.4' stroke-dasharray='{dash}'/>"
            f"<text x='{_fmt(x0 + 20)}' y='{_fmt(y + 9)}' {FONT} font-size='10'>"
            f"zone: {escape(zone_id)}</text>"
        )
        y += 15
    return out


def bar_chart(
    labels: Sequence[str],
    values: npt.ArrayLike,
    *,
    title: str,
    unit: str,
    width: float = 760.0,
    colour: str = PALETTE[3],
) -> str:
    """Horizontal bars, one `<rect class='bar'>` per label, in the order given."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0)
    row, left, top = 16.0, 190.0, 34.0
    height = top + row * len(v) + 30
    vmax = float(v.max()) if len(v) and v.max() > 0 else 1.0
    span = width - left - 70
    body = [f"<text x='8' y='20' {FONT} font-size='15' font-weight='bold'>{escape(title)}</text>"]
    for i, (label, value) in enumerate(zip(labels, v, strict=True)):
        y = top + i * row
        w = max(value, 0.0) / vmax * span
        body.append(
            f"<text x='{_fmt(left - 6)}' y='{_fmt(y + 11)}' {FONT} font-size='10' "
            f"text-anchor='end'>{escape(label)}</text>"
            f"<rect class='bar' x='{_fmt(left)}' y='{_fmt(y + 2)}' width='{_fmt(w)}' "
            f"height='{_fmt(row - 4)}' fill='{colour}'><title>{escape(label)}: "
            f"{number(value)}</title></rect>"
            f"<text x='{_fmt(left + w + 4)}' y='{_fmt(y + 11)}' {FONT} font-size='10'>"
            f"{number(value)}</text>"
        )
    body.append(
        f"<text x='{_fmt(left)}' y='{_fmt(height - 8)}' {FONT} font-size='10' "
        f"fill='#555'>{escape(unit)}</text>"
    )
    return _svg(width, height, body, title)


def scatter(
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    title: str,
    x_label: str,
    y_label: str,
    width: float = 640.0,
    height: float = 360.0,
) -> str:
    """One `<circle class='dot'>` per finite (x, y) pair, on linear axes from zero."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    keep = np.isfinite(xa) & np.isfinite(ya)
    xa, ya = xa[keep], ya[keep]
    left, right, top, bottom = 56.0, 14.0, 34.0, 42.0
    pw, ph = width - left - right, height - top - bottom
    xmax = float(xa.max()) if len(xa) and xa.max() > 0 else 1.0
    ymax = float(ya.max()) if len(ya) and ya.max() > 0 else 1.0
    body = [
        f"<text x='8' y='20' {FONT} font-size='14' font-weight='bold'>{escape(title)}</text>",
        f"<rect x='{_fmt(left)}' y='{_fmt(top)}' width='{_fmt(pw)}' height='{_fmt(ph)}' "
        "fill='none' stroke='#999'/>",
    ]
    for frac in (0.0, 0.5, 1.0):
        gx = left + frac * pw
        gy = top + ph - frac * ph
        body.append(
            f"<text x='{_fmt(gx)}' y='{_fmt(top + ph + 14)}' {FONT} font-size='10' "
            f"text-anchor='middle'>{number(frac * xmax)}</text>"
            f"<text x='{_fmt(left - 4)}' y='{_fmt(gy + 3)}' {FONT} font-size='10' "
            f"text-anchor='end'>{number(frac * ymax)}</text>"
        )
    body.append(
        f"<text x='{_fmt(left + pw / 2)}' y='{_fmt(height - 8)}' {FONT} font-size='11' "
        f"text-anchor='middle'>{escape(x_label)}</text>"
        f"<text x='12' y='{_fmt(top + ph / 2)}' {FONT} font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 12 {_fmt(top + ph / 2)})'>{escape(y_label)}</text>"
    )
    body.append(f"<g fill='{PALETTE[3]}' fill-opacity='0.55'>")
    for a, b in zip(xa, ya, strict=True):
        cx = left + a / xmax * pw
        cy = top + ph - b / ymax * ph
        body.append(f"<circle class='dot' cx='{_fmt(cx)}' cy='{_fmt(cy)}' r='2.6'/>")
    body.append("</g>")
    return _svg(width, height, body, title)


def line_chart(
    series: Mapping[str, Sequence[tuple[float, float]]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    y_max: float = 1.0,
    width: float = 560.0,
    height: float = 300.0,
) -> str:
    """One `<polyline class='series'>` per named series; x is spread over its own range.

    Each series has its own dash pattern and marker size, so series that coincide (unicity is
    often 1 at several resolutions) stay visible on top of each other.
    """
    left, right, top, bottom = 50.0, 160.0, 34.0, 40.0
    pw, ph = width - left - right, height - top - bottom
    xs = [p[0] for pts in series.values() for p in pts]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    xspan = (x1 - x0) or 1.0
    colours = ("#253494", "#d7191c", "#1a9641", "#fdae61", "#7b3294", "#555555")
    body = [
        f"<text x='8' y='20' {FONT} font-size='14' font-weight='bold'>{escape(title)}</text>",
        f"<rect x='{_fmt(left)}' y='{_fmt(top)}' width='{_fmt(pw)}' height='{_fmt(ph)}' "
        "fill='none' stroke='#999'/>",
    ]
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        gy = top + ph - frac * ph
        body.append(
            f"<line x1='{_fmt(left)}' x2='{_fmt(left + pw)}' y1='{_fmt(gy)}' y2='{_fmt(gy)}' "
            f"stroke='#eee'/><text x='{_fmt(left - 4)}' y='{_fmt(gy + 3)}' {FONT} "
            f"font-size='10' text-anchor='end'>{number(frac * y_max)}</text>"
        )
    for xv in sorted(set(xs)):
        gx = left + (xv - x0) / xspan * pw
        body.append(
            f"<text x='{_fmt(gx)}' y='{_fmt(top + ph + 14)}' {FONT} font-size='10' "
            f"text-anchor='middle'>{number(xv)}</text>"
        )
    body.append(
        f"<text x='{_fmt(left + pw / 2)}' y='{_fmt(height - 8)}' {FONT} font-size='11' "
        f"text-anchor='middle'>{escape(x_label)}</text>"
        f"<text x='12' y='{_fmt(top + ph / 2)}' {FONT} font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 12 {_fmt(top + ph / 2)})'>{escape(y_label)}</text>"
    )
    dashes = ("", "7 3", "2 3", "10 3 2 3", "4 4", "1 2")
    for i, (name, pts) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        xy = [
            (left + (a - x0) / xspan * pw, top + ph - min(b, y_max) / y_max * ph)
            for a, b in pts
            if np.isfinite(b)
        ]
        coords = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in xy)
        dash = dashes[i % len(dashes)]
        marks = "".join(
            f"<circle cx='{_fmt(a)}' cy='{_fmt(b)}' r='{_fmt(4.5 - 0.6 * (i % 6))}' "
            f"fill='{colour}'/>"
            for a, b in xy
        )
        body.append(
            f"<polyline class='series' points='{coords}' fill='none' stroke='{colour}' "
            f"stroke-width='2' stroke-dasharray='{dash}'><title>{escape(name)}</title></polyline>"
            f"{marks}"
            f"<text x='{_fmt(left + pw + 8)}' y='{_fmt(top + 10 + i * 14)}' {FONT} "
            f"font-size='10' fill='{colour}'>{escape(name)}</text>"
        )
    return _svg(width, height, body, title)
