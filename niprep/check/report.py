"""The check's findings as files: ``check.csv``, ``check.json`` and ``check/report.html``."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Sequence
from urllib.parse import quote

from niprep.check.findings import Finding

COLUMNS = ("CASE", "CHECK", "SEVERITY", "DETAIL")
_STYLE = (
    "body{font-family:sans-serif;margin:1.5em;background:#fafafa}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
    "text-align:left;vertical-align:top}.error{color:#b00020;font-weight:bold}"
    ".warning{color:#a06000}img{max-width:100%}"
)


def _rows(findings: Sequence[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.case, f.check, f.severity, f.detail) for f in findings]


def csv_text(findings: Sequence[Finding]) -> str:
    """``check.csv``: a header, then one ``CASE,CHECK,SEVERITY,DETAIL`` row per finding."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_rows(findings))
    return buffer.getvalue()


def json_text(findings: Sequence[Finding]) -> str:
    """``check.json``: the same rows as a list of ``{case, check, severity, detail}``."""
    rows = [dict(zip(("case", "check", "severity", "detail"), row)) for row in _rows(findings)]
    return json.dumps(rows, indent=1) + "\n"


def html_text(findings: Sequence[Finding], thumbnails: dict[str, str], headline: str,
              sheet: str) -> str:
    """``check/report.html``: the headline, the distribution sheet, then the findings, each
    case linking to its thumbnail; self-contained but for those pictures, which it links
    by paths relative to its own folder.

    Args:
        findings: the rows.
        thumbnails: ``{case: thumbnail path relative to the report}`` of the cases drawn.
        headline: the one-line summary.
        sheet: the distribution sheet's path relative to the report.
    """
    lines = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8"><title>niprep check</title>',
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>niprep check</h1><p>{html.escape(headline)}</p>",
        f'<p><a href="{quote(sheet)}"><img src="{quote(sheet)}" alt="distribution sheet"></a></p>',
        "<table><tr>" + "".join(f"<th>{name}</th>" for name in COLUMNS) + "</tr>",
    ]
    for case, check, severity, detail in _rows(findings):
        name = html.escape(case)
        if case in thumbnails:
            name = f'<a href="{quote(thumbnails[case])}">{name}</a>'
        lines.append(f'<tr><td>{name}</td><td>{check}</td><td class="{severity}">{severity}'
                     f"</td><td>{html.escape(detail)}</td></tr>")
    lines.append("</table>")
    drawn = [case for case in dict.fromkeys(f.case for f in findings) if case in thumbnails]
    for case in drawn:
        lines.append(f'<h2 id="{html.escape(case)}">{html.escape(case)}</h2>'
                     f'<img src="{quote(thumbnails[case])}" alt="{html.escape(case)}">')
    lines.append("</body></html>")
    return "\n".join(lines) + "\n"
