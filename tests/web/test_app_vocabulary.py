"""The phone's copies of the server's vocabularies (frontend/static/app/rules.js) stay equal to
backend/vocabulary.py: the phone works offline with no build step, so it carries its own."""

import json
import re
from pathlib import Path

from backend import vocabulary
from backend.services import ids

APP = Path(__file__).resolve().parents[2] / "frontend/static/app"
RULES = (APP / "rules.js").read_text("utf-8")

# Every list the phone carries, by its name in rules.js, and the server's list it copies.
COPIES = {
    "KINDS": vocabulary.VISIT_KIND_LABELS,
    "PHASES": vocabulary.PHASES,
    "RESULTS": vocabulary.RESULT_LABELS,
    "DEFAULT_PHASE": vocabulary.DEFAULT_PHASE,
    "SURVEY_KINDS": vocabulary.SURVEY_KINDS,
    "REVIEW_STATES": vocabulary.REVIEW_STATES,
    "UNCHECKED_OUTCOMES": vocabulary.UNCHECKED_OUTCOMES,
    "CATEGORIES": vocabulary.CATEGORIES,
    "STRUCTURE_TYPES": vocabulary.STRUCTURE_TYPES,
}
# The phone's own words, in no server vocabulary: what 待上传 calls each kind of queued item.
PHONE_ONLY = {"views/outbox.js": {"ITEM_LABELS"}, "views/checklist.js": {"GROUP_WORDS"},
              "views/visit.js": {"PHASE_CHOSEN"}}
LITERAL = re.compile(r"^(?:export )?const ([A-Z][A-Z_]*) = ([{\[].*?[}\]]);", re.S | re.M)


def js_literal(source: str) -> dict | list:
    """An object or array literal of plain strings, read as JSON (its keys quoted first)."""
    text = re.sub(r"([{,]\s*)(\w+):", r'\1"\2":', source)
    return json.loads(re.sub(r",\s*([}\]])", r"\1", text))


def phone_lists() -> dict[str, dict[str, str]]:
    """Every upper-case object or array of words in the phone's modules, by module."""
    found = {}
    for path in sorted(APP.rglob("*.js")):
        lists = {m.group(1): m.group(2) for m in LITERAL.finditer(path.read_text("utf-8"))
                 if '"' in m.group(2)}
        if lists:
            found[path.relative_to(APP).as_posix()] = lists
    return found


def test_every_list_on_the_phone_is_a_checked_copy_or_its_own():
    lists = {module: set(names) for module, names in phone_lists().items()}
    assert lists == {"rules.js": set(COPIES), **PHONE_ONLY}


def test_phone_copies_equal_the_server_vocabulary():
    copies = phone_lists()["rules.js"]
    for name, server in COPIES.items():
        phone = js_literal(copies[name])
        # In the same order too: the phone lists categories and kinds in it.
        if isinstance(server, tuple):
            assert tuple(phone) == server, name
        else:
            assert list(phone.items()) == list(server.items()), name


def test_the_phone_asks_only_for_photo_variants_the_server_makes():
    asked = {variant for path in APP.rglob("*.js")
             for variant in re.findall(r"variant=(\w+)", path.read_text("utf-8"))}
    assert asked and asked <= set(vocabulary.VARIANTS)


def test_id_number_rules_match_the_server():
    assert "7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2" in RULES
    assert f'"{ids.CHECK_CHARS}"' in RULES


def test_every_case_status_has_a_phase():
    assert set(vocabulary.STATUS_PHASES) == set(vocabulary.STATUSES)
