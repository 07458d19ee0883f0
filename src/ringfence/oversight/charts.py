"""A tiny inline-SVG horizontal bar chart: no library, no network, safe to embed in HTML.

Every label is escaped, sizes are computed from the data only, and the SVG carries a `<title>`
and `role="img"` so a screen reader names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["bar_chart"]

_BAR_HEIGHT = 18
_GAP = 6
_LABEL_WIDTH = 360
_PLOT_WIDTH = 340
_VALUE_WIDTH = 110
_TOP = 28
_CHAR_WIDTH = 6.4  # 11px sans-serif, roughly: used only to shorten over-long labels


def _fit(label: str, width: float) -> str:
    """Shorten from the middle: the start names the group, the end often its outcome."""
    most = int(width / _CHAR_WIDTH)
    if len(label) <= most:
        return label
    head = (most - 1) // 2
    return label[:head] + "…" + label[len(label) - (most - 1 - head) :]


def _number(value: float) -> str:
    return f"{value:,}" if float(value).is_integer() else f"{value:,.3g}"


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    error: int | None = None,
    limit: float | None = None,
    colour: str = "#2f6f9f",
) -> str:
    """One bar per label.

    ``error`` draws a ±error whisker on each bar (a noisy count's stated accuracy), so a reader
    sees which differences the noise could explain; ``limit`` a dashed line (a budget).
    """
    if len(labels) != len(values):
        raise ValueError("one value per label")
    top = max([*values, limit or 0, 1]) + (error or 0)
    scale = _PLOT_WIDTH / top
    height = _TOP + len(values) * (_BAR_HEIGHT + _GAP) + _GAP
    width = _LABEL_WIDTH + _PLOT_WIDTH + _VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="4" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
        f'<line x1="{_LABEL_WIDTH}" y1="{_TOP - 4}" x2="{_LABEL_WIDTH}" y2="{height - _GAP}" '
        'stroke="#888888"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = _TOP + i * (_BAR_HEIGHT + _GAP)
        mid = y + _BAR_HEIGHT / 2
        bar = max(value, 0) * scale
        shown = _number(value) + (f" ±{error:,}" if error else "")
        parts += [
            f'<text x="{_LABEL_WIDTH - 6}" y="{mid + 4:.1f}" text-anchor="end">'
            f"{escape(_fit(label, _LABEL_WIDTH - 10))}</text>",
            f'<rect x="{_LABEL_WIDTH}" y="{y}" width="{bar:.1f}" height="{_BAR_HEIGHT}" '
            f'fill="{escape(colour)}"><title>{escape(label)}: {escape(shown)}</title></rect>',
        ]
        if error:
            lo = _LABEL_WIDTH + max(value - error, 0) * scale
            hi = _LABEL_WIDTH + (value + error) * scale
            parts += [
                f'<line x1="{lo:.1f}" y1="{mid:.1f}" x2="{hi:.1f}" y2="{mid:.1f}" '
                'stroke="#222222"/>',
                f'<line x1="{hi:.1f}" y1="{y + 4}" x2="{hi:.1f}" y2="{y + _BAR_HEIGHT - 4}" '
                'stroke="#222222"/>',
            ]
        end = _LABEL_WIDTH + (max(value, 0) + (error or 0)) * scale + 4
        parts.append(f'<text x="{end:.1f}" y="{mid + 4:.1f}">{escape(shown)}</text>')
    if limit is not None:
        x = _LABEL_WIDTH + limit * scale
        parts += [
            f'<line x1="{x:.1f}" y1="{_TOP - 6}" x2="{x:.1f}" y2="{height - _GAP}" '
            'stroke="#b00020" stroke-dasharray="4 3"/>',
            f'<text x="{x - 4:.1f}" y="{_TOP - 8}" text-anchor="end" fill="#b00020">'
            f"limit {escape(_number(limit))}</text>",
        ]
    parts.append("</svg>")
    return "\n".join(parts)
