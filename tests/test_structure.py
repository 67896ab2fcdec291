"""Promises about where things live, checked on the source: masking of personal data only in
the presentation module, backend files of a readable size, services free of Flask."""

import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BACKEND = ROOT / "backend"
DISPLAY = BACKEND / "display.py"


def python_files():
    return sorted(p for p in BACKEND.rglob("*.py") if "__pycache__" not in p.parts)


def masking_literals(path: Path) -> list[str]:
    """String literals that build a mask: a run of stars, or a star repeated ("*" * n)."""
    found = []
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(path.read_text("utf-8")).readline)
              if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT)]
    for before, token, after in zip([None, *tokens[:-1]], tokens, [*tokens[1:], None], strict=True):
        if token.type != tokenize.STRING:
            continue
        body = token.string.strip("rbuRBU").strip("'\"")
        repeated = body == "*" and "*" in (getattr(before, "string", ""),
                                             getattr(after, "string", ""))
        if repeated or "**" in body:
            found.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {token.string}")
    return found


def test_personal_data_is_masked_only_in_the_presentation_module():
    assert masking_literals(DISPLAY), "the check itself must see display.py's masks"
    offenders = [hit for p in python_files() if p != DISPLAY for hit in masking_literals(p)]
    templates = [str(p.relative_to(ROOT)) for p in (ROOT / "frontend").rglob("*")
                 if p.suffix in (".html", ".js") and "****" in p.read_text("utf-8")]
    assert offenders == [] and templates == []


def test_backend_files_stay_readable():
    long = {str(p.relative_to(ROOT)): n for p in python_files()
            if (n := len(p.read_text("utf-8").splitlines())) > 330}
    assert long == {}


def test_services_do_not_read_the_request():
    offenders = [str(p.relative_to(ROOT)) for p in (BACKEND / "services").rglob("*.py")
                 if "from flask" in p.read_text("utf-8") or "import flask" in p.read_text("utf-8")]
    assert offenders == []


def test_storage_does_not_import_services():
    offenders = [str(p.relative_to(ROOT)) for p in (BACKEND / "storage").rglob("*.py")
                 if "backend.services" in p.read_text("utf-8")]
    assert offenders == []
