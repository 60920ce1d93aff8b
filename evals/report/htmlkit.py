"""Safe building blocks for the report's HTML pages.

- Text and attributes go through :func:`esc`; nothing from a run is ever raw HTML.
- Data for scripts goes in ``<script type="application/json">`` blocks written by
  :func:`json_block`, which escapes ``<``, ``>``, ``&`` and U+2028/2029 so no
  string (``</script>`` included) can end the block; scripts read it with
  ``JSON.parse`` and render it with ``textContent``.
- Each page carries a Content-Security-Policy that allows only its own inline
  scripts (by SHA-256), no network and no other script: even an escaping bug
  could not run injected code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def esc(text: object) -> str:
    """Text or attribute value as HTML (quotes included)."""
    return html.escape(str(text), quote=True)


def script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element: none of ``<>&`` or U+2028/2029 appear raw."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _JSON_ESCAPES.items():
        text = text.replace(raw, escaped)
    return text


def json_block(element_id: str, data: Any) -> str:
    return f'<script type="application/json" id="{esc(element_id)}">{script_json(data)}</script>'


def asset(name: str) -> str:
    """A CSS or JS file shipped in ``evals/report/assets``."""
    return resources.files("evals.report").joinpath("assets", name).read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def page(
    title: str,
    body: str,
    *,
    scripts: Sequence[str] = (),
    data_blocks: Sequence[str] = (),
    script_files: bool = False,
) -> str:
    """A complete page: inline CSS, data blocks, then the given inline scripts.

    ``script_files``: the page also loads data files of its own report (same origin) by ``<script src>``.
    """
    sources = [f"'sha256-{_sha256(script)}'" for script in scripts] + (["'self'"] if script_files else [])
    policy = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {' '.join(sources) or chr(39) + 'none' + chr(39)}; base-uri 'none'; form-action 'none'"
    )
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            '<meta name="referrer" content="no-referrer">',
            '<link rel="icon" href="data:,">',
            f"<title>{esc(title)}</title>",
            f"<style>{asset('report.css')}</style>",
            "</head>",
            "<body>",
            body,
            *data_blocks,
            *(f"<script>{script}</script>" for script in scripts),
            "</body>",
            "</html>",
        ]
    )


def table(
    header: Sequence[tuple[str, str]], rows: Sequence[Sequence[tuple[str, str]]], *, table_id: str
) -> str:
    """A sortable table: ``header`` (label, "num"|"text"); each cell (sort value, inner HTML).

    Inner HTML must already be escaped by the caller; sort values are escaped here.
    An empty sort value is an undefined figure and sorts last either way.
    """
    head = "".join(
        f'<th scope="col" data-type="{kind}" aria-sort="none">'
        f'<button type="button">{esc(label)}</button></th>'
        for label, kind in header
    )
    body = "\n".join(
        "<tr>" + "".join(f'<td data-value="{esc(value)}">{inner}</td>' for value, inner in row) + "</tr>"
        for row in rows
    )
    return (
        f'<table class="sortable" id="{esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n{body}\n</tbody></table>"
    )
