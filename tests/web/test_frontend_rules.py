"""Promises about the front end's source: text reaches a page's markup escaped, by one helper
(frontend/static/app/html.js, the html`` tagged template)."""

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "frontend/static"
HELPER = STATIC / "app/html.js"


def scripts() -> list[Path]:
    return sorted([*(STATIC / "app").rglob("*.js"), *(STATIC / "review").glob("*.js")])


def lines_matching(pattern: str) -> list[str]:
    """`path:line` of every line outside the helper that matches."""
    return [f"{path.relative_to(STATIC)}:{n}" for path in scripts() if path != HELPER
            for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if re.search(pattern, line)]


def test_text_is_escaped_only_by_the_html_helper():
    assert re.search(r"\besc\(", HELPER.read_text("utf-8")), "the check must see the helper's own"
    assert lines_matching(r"\besc\(") == []


def test_markup_reaches_the_page_only_through_the_html_helper():
    assert "innerHTML" in HELPER.read_text("utf-8")
    assert lines_matching(r"\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write)\b") == []
