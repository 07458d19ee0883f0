"""SVG maps and charts are valid XML with one element per area, outline, point, bar and dot."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import shapely

from ringfence.oversight import svg

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(text: str) -> ET.Element:
    return ET.fromstring(text)


def test_choropleth_has_a_path_per_area_and_outline_and_a_circle_per_camera() -> None:
    squares = [shapely.box(-0.1 + i * 0.01, 51.5, -0.09 + i * 0.01, 51.51) for i in range(3)]
    hole = shapely.Polygon(
        [(-0.2, 51.4), (-0.15, 51.4), (-0.15, 51.45), (-0.2, 51.45)],
        [[(-0.19, 51.41), (-0.16, 51.41), (-0.16, 51.44)]],
    )
    root = parse(
        svg.choropleth(
            [*squares, hole],
            [1.0, 2.0, np.nan, 4.0],
            names=["a", "b", "c", "d <&>"],
            title="Test & map",
            legend="per km²",
            points={"cc_lez_2015": ([-0.095, -0.085], [51.505, 51.505]), "x": ([-0.18], [51.42])},
            outlines={"ccz": shapely.box(-0.1, 51.5, -0.07, 51.51), "lez_2008": hole},
        )
    )
    paths = root.findall(".//s:path", NS)
    assert len([p for p in paths if p.get("class") == "area"]) == 4
    assert len([p for p in paths if p.get("class") == "zone"]) == 2
    cams = [g for g in root.findall(".//s:g", NS) if g.get("class") == "cameras"]
    assert sum(len(g.findall("s:circle", NS)) for g in cams) == 3
    area_fills = [p.get("fill") for p in paths if p.get("class") == "area"]
    assert area_fills[2] == svg.NO_DATA and len(set(area_fills)) == 4
    assert "M" in paths[3].get("d", "") and paths[3].get("d", "").count("M") == 2  # the hole


def test_bar_chart_and_scatter_and_lines() -> None:
    bars = parse(svg.bar_chart(["a", "b", "c"], [3.0, 0.0, np.nan], title="t", unit="u"))
    rects = [r for r in bars.findall(".//s:rect", NS) if r.get("class") == "bar"]
    assert len(rects) == 3 and float(rects[0].get("width", "0")) > 0
    dots = parse(
        svg.scatter([1, 2, np.nan, 4], [1, 1, 1, np.nan], title="t", x_label="x", y_label="y")
    )
    assert len([c for c in dots.findall(".//s:circle", NS) if c.get("class") == "dot"]) == 2
    lines = parse(
        svg.line_chart(
            {"one": [(1, 0.1), (2, 0.5)], "two": [(1, 0.0), (2, 1.0)]},
            title="t",
            x_label="k",
            y_label="share",
        )
    )
    assert len(lines.findall(".//s:polyline", NS)) == 2


def test_breaks_and_colours_use_the_quantiles() -> None:
    edges = svg.breaks(np.arange(1.0, 11.0))
    assert edges[-1] == 10.0 and len(edges) == 5
    colours = svg.colour_of([1.0, 10.0, np.nan], edges)
    assert colours == [svg.PALETTE[0], svg.PALETTE[-1], svg.NO_DATA]
