"""A household's archive as a PDF: the HTML templates under `frontend/templates/archive/`,
laid out by WeasyPrint with Debian's Noto CJK fonts.

Photos are embedded at the `large` size (1600 px), never the originals: a 60-photo archive
stays a few tens of megabytes and renders in seconds (bench/archive.py). The only resources
a document may load are those photos, read from the object store; any other URL is refused.
"""

import gc
import re
import shutil
import tempfile
import threading
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import BinaryIO

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from backend import display
from backend.services.archive.contents import UNREGISTERED, HouseholdArchive, household_archive
from backend.services.photos.variants import ensure_variant, stored_variant
from backend.services.policy import Actor
from backend.storage import ObjectNotFound, ObjectStore
from backend.storage.base import CHUNK_SIZE
from backend.storage.keys import variant_key
from backend.vocabulary import (
    ACTION_LABELS,
    ATTACHMENT_KINDS,
    CATEGORIES,
    DEPARTMENT_RESULTS,
    DEPARTMENTS,
    FLAG_LABELS,
    FLAG_STATUS_LABELS,
    FUND_LEVELS,
    GRADES,
    OBJECTION_STATUSES,
    PAYEE_KINDS,
    PHASES,
    RECOVERY_STATUSES,
    RESULT_LABELS,
    REVIEW_STATES,
    ROLE_LABELS,
    STATUSES,
    TRANCHES,
    VISIT_KIND_LABELS,
)

TEMPLATES = Path(__file__).resolve().parents[3] / "frontend" / "templates"
PHOTO_SCHEME = "photo"
# The sizes a document may embed, best first; the original is never one of them.
_RENDERING = threading.Lock()
# Characters a file name may not hold on Windows (and the folder separator everywhere).
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def household_pdf(session, store: ObjectStore, actor: Actor, household_id: int, *,
                  year: int | None, today: date, now: datetime) -> tuple[str, BinaryIO]:
    """A household's archive for its case of `year` (default: its latest): its name, and a
    temporary file holding the PDF, read from the start; the caller closes it."""
    archive = household_archive(session, actor, household_id, year=year, today=today)
    out = tempfile.TemporaryFile()
    try:
        write_pdf(archive, store, actor, out, generated_at=now)
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return filename(archive), out


def filename(archive: HouseholdArchive) -> str:
    h, c = archive.household, archive.case
    return safe_name(f"农户档案_{h.village.name}_{h.name}" + (f"_{c.year}" if c else "")) + ".pdf"


def safe_name(text: str) -> str:
    """A file or folder name every system accepts."""
    return _UNSAFE.sub("_", text).strip(" .") or "_"


def render_html(archive: HouseholdArchive, actor: Actor, *, generated_at: datetime) -> str:
    """The archive's HTML, as WeasyPrint lays it out."""
    return _environment().get_template("archive/household.html").render(
        a=archive, generated=display.local_time(generated_at), **_words(actor))


def write_pdf(archive: HouseholdArchive, store: ObjectStore, actor: Actor, out: BinaryIO, *,
              generated_at: datetime) -> None:
    """Write the archive as PDF into `out`.

    WeasyPrint keeps in memory the bytes of an image it was handed, but only the name of an
    image it read from a file, which it reads again while writing the PDF: photos are given
    to it as files (a remote store's are copied to a folder that lives as long as the PDF
    is being made), and the PDF goes to a file, so neither is held in memory whole.
    """
    html = render_html(archive, actor, generated_at=generated_at)
    # One PDF at a time in a worker, with the worker's one font configuration: a new one per
    # document leaks a third of a megabyte in fontconfig, and two PDFs at once would double
    # the memory a worker needs (bench/archive.py).
    try:
        with _RENDERING, tempfile.TemporaryDirectory(prefix="archive-") as spool:
            document = _weasyprint().HTML(string=html, url_fetcher=_fetcher(store, Path(spool)))
            document.render(font_config=_fonts()).write_pdf(out)
    finally:
        # Each document reads its fonts' files whole (a Noto CJK face is 20 MB) into
        # reference cycles; left to the collector's own pace, a worker grows by that much
        # per PDF until a full collection runs.
        del html
        gc.collect()


@cache
def _fonts():
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


def _weasyprint():
    """WeasyPrint (it loads Pango, so only once a PDF is made), with Pillow kept strict.

    On import it tells Pillow to accept truncated images (ImageFile.LOAD_TRUNCATED_IMAGES):
    left so, every later upload in this worker would let a truncated photo or scan through
    the checks. This app never wants that, and the photos an archive embeds are whole.
    """
    import weasyprint
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return weasyprint


def photo_src(photo) -> str:
    return f"{PHOTO_SCHEME}:{stored_variant(photo, 'large')}-{photo.sha256}"


def _fetcher(store: ObjectStore, spool: Path):
    _weasyprint()
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class PhotoFetcher(URLFetcher):
        """`photo:<variant>-<sha256>` as a file of its `large` size (rendered if it is missing,
        the thumb if even the original is gone); every other URL refused."""

        def fetch(self, url, headers=None):
            scheme, _, name = url.partition(":")
            if scheme != PHOTO_SCHEME:
                raise ValueError(f"an archive loads only its photos, not {url!r}")
            large, _, sha = name.partition("-")
            for variant in (large, "thumb"):
                try:
                    path = _as_file(store, ensure_variant(store, sha, variant), spool)
                except ObjectNotFound:
                    continue
                return URLFetcherResponse(path.as_uri(), path.open("rb"),
                                          {"Content-Type": "image/jpeg"})
            raise ObjectNotFound(variant_key(sha, "thumb"))

    return PhotoFetcher(allowed_protocols=(PHOTO_SCHEME,))


def _as_file(store: ObjectStore, key: str, spool: Path) -> Path:
    if (path := store.local_path(key)) is not None:
        return path
    path = spool / key.rsplit("/", 1)[-1]
    with store.open(key) as source, path.open("wb") as copy:
        shutil.copyfileobj(source, copy, CHUNK_SIZE)
    return path


def _words(actor: Actor) -> dict:
    return {
        "UNREGISTERED": UNREGISTERED, "EMPTY": display.EMPTY,
        "show_account": lambda number: display.account(number, actor) or display.EMPTY,
        "yuan": display.yuan, "local": display.local_time, "metres": display.metres,
        "flag_detail": display.flag_detail, "photo_src": photo_src,
        "ACTION_LABELS": ACTION_LABELS, "ATTACHMENT_KINDS": ATTACHMENT_KINDS,
        "CATEGORIES": CATEGORIES, "DEPARTMENTS": DEPARTMENTS,
        "DEPARTMENT_RESULTS": DEPARTMENT_RESULTS, "FLAG_LABELS": FLAG_LABELS,
        "FLAG_STATUS": FLAG_STATUS_LABELS, "FUND_LEVELS": FUND_LEVELS, "GRADES": GRADES,
        "OBJECTION_STATUSES": OBJECTION_STATUSES, "PAYEE_KINDS": PAYEE_KINDS, "PHASES": PHASES,
        "RECOVERY_STATUSES": RECOVERY_STATUSES, "RESULT_LABELS": RESULT_LABELS,
        "REVIEW_STATES": REVIEW_STATES, "ROLE_LABELS": ROLE_LABELS, "STATUSES": STATUSES,
        "TRANCHES": TRANCHES, "KIND_LABELS": VISIT_KIND_LABELS,
    }
