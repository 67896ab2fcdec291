"""The phone's copies of the server's vocabularies (frontend/static/app/rules.js) stay equal."""

import json
import re
from pathlib import Path

from backend.services import ids
from backend.vocabulary import CATEGORIES, STATUS_PHASES, STATUSES, STRUCTURE_TYPES

RULES = (Path(__file__).resolve().parents[2] / "frontend/static/app/rules.js").read_text("utf-8")


def js_object(name: str) -> dict:
    body = re.search(rf"export const {name} = \{{(.*?)\}};", RULES, re.S).group(1)
    return dict(re.findall(r'(\w+): "([^"]*)"', body))


def test_categories_and_structure_types_match_the_server():
    assert js_object("CATEGORIES") == CATEGORIES
    listed = re.search(r"export const STRUCTURE_TYPES = (\[.*?\]);", RULES).group(1)
    assert tuple(json.loads(listed)) == STRUCTURE_TYPES


def test_id_number_rules_match_the_server():
    assert "7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2" in RULES
    assert f'"{ids.CHECK_CHARS}"' in RULES


def test_every_case_status_has_a_phase():
    assert set(STATUS_PHASES) == set(STATUSES)
