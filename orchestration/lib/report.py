"""The daily report as one self-contained HTML page: charts embedded as PNG data URIs (the same
PNGs are written beside it), tables escaped, headings in Chinese and English, no script and no
external resource, so it opens from a mail attachment or a file share as it is."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

STYLE = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "PingFang SC", "Microsoft YaHei", sans-serif;
       margin: 2em auto; max-width: 1100px; color: #222; }
h1 { border-bottom: 2px solid #1b9e77; padding-bottom: .3em; }
h2 { margin-top: 2em; color: #1b5e50; }
table { border-collapse: collapse; margin: .8em 0; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 10px; text-align: right; }
th { background: #f2f5f4; } td:first-child, th:first-child { text-align: left; }
img.chart { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
p.note { color: #666; font-size: 13px; }
"""


@dataclass
class Section:
    """One heading with its charts (PNG paths), tables and notes, in that order."""

    title_en: str
    title_zh: str
    charts: list[Path] = field(default_factory=list)
    tables: list[tuple[Sequence[str], Sequence[Sequence[object]]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def table_html(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_text(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body or _empty(len(header))}</tbody></table>'


def render(title: str, day: str, sections: Sequence[Section]) -> str:
    parts = [f"<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{html.escape(title)} {day}</title>",
             f"<style>{STYLE}</style></head><body>",
             f"<h1>{html.escape(title)} — {day}</h1>"]
    for section in sections:
        anchor = section.title_en.lower().replace(" ", "-")
        parts.append(f'<section id="{html.escape(anchor)}"><h2>{html.escape(section.title_zh)} · '
                     f"{html.escape(section.title_en)}</h2>")
        for chart in section.charts:
            data = base64.b64encode(chart.read_bytes()).decode("ascii")
            parts.append(f'<img class="chart" alt="{html.escape(chart.stem)}" src="data:image/png;base64,{data}">')
        parts += [table_html(header, rows) for header, rows in section.tables]
        parts += [f'<p class="note">{html.escape(note)}</p>' for note in section.notes]
        parts.append("</section>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def markdown(title: str, day: str, sections: Sequence[Section]) -> str:
    """The page's headings, tables and notes as Markdown (no charts): the preview the Dagster UI
    shows in the asset's metadata, where a file link to the page would be blocked."""
    def line(values: Sequence[object]) -> str:
        return "| " + " | ".join(_text(v).replace("|", "\\|") for v in values) + " |"

    parts = [f"## {title} — {day}"]
    for section in sections:
        parts.append(f"### {section.title_zh} · {section.title_en}")
        for header, rows in section.tables:
            body = [line(row) for row in rows] or [line(["none · 无", *[""] * (len(header) - 1)])]
            parts.append("\n".join([line(header), "|" + "---|" * len(header), *body]))
        parts += [f"_{note}_" for note in section.notes]
    return "\n\n".join(parts) + "\n"


def _text(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _empty(columns: int) -> str:
    return f'<tr><td colspan="{columns}">none · 无</td></tr>'
