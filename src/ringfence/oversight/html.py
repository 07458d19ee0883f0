"""Self-contained HTML pages: inline CSS and SVG, no script, no CDN, nothing fetched."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

STYLE = """
body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}
td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.note{color:#555;font-size:.9em}figure{margin:1em 0}
"""


def table(columns: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def paragraphs(texts: Sequence[str], css: str = "") -> str:
    cls = f" class='{css}'" if css else ""
    return "".join(f"<p{cls}>{escape(t)}</p>" for t in texts)


def bullets(texts: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in texts) + "</ul>"


def figure(svg: str, caption: str) -> str:
    """An SVG produced by `ringfence.oversight.svg`, inline, with a caption."""
    return f"<figure>{svg}<figcaption class='note'>{escape(caption)}</figcaption></figure>"


def page(title: str, sections: Sequence[tuple[str, str]], *, intro: Sequence[str] = ()) -> str:
    """A whole page: each section is (heading, HTML body built with the helpers above)."""
    parts = [
        "<!DOCTYPE html><html lang='en-GB'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        paragraphs(intro),
    ]
    for heading, body in sections:
        parts.append(f"<h2>{escape(heading)}</h2>{body}")
    parts.append("</body></html>")
    return "".join(parts)


def subheading(text: str) -> str:
    return f"<h3>{escape(text)}</h3>"
