"""An area's archives for a year as one ZIP (a town's, usually): a folder per household with its
archive PDF and its documents (附件), and a manifest (清单.csv) of each archive's completeness.

The ZIP is streamed as it is built: zipfile writes into a pipe that is emptied after every
megabyte, and only one household's archive is in memory at a time, so memory stays flat
however many households there are. Nothing is checked once the first byte has gone, so the
area and the year are checked first (`plan_bundle`).
"""

import csv
import io
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from backend.models import Case, Region
from backend.models.base import CHINA_TZ
from backend.services import policy
from backend.services.archive import pdf
from backend.services.archive.completeness import REQUIREMENTS, missing_labels
from backend.services.archive.contents import HouseholdArchive, household_archive
from backend.services.archive.pdf import safe_name
from backend.services.errors import InvalidInput, OutsideScope
from backend.services.policy import Actor
from backend.storage import ObjectNotFound, ObjectStore
from backend.storage.base import CHUNK_SIZE
from backend.storage.keys import attachment_key
from backend.vocabulary import ATTACHMENT_KINDS, STATUSES

MANIFEST = "清单.csv"


@dataclass(frozen=True)
class Bundle:
    region: Region
    year: int
    household_ids: list[int]

    @property
    def filename(self) -> str:
        return f"农户档案_{self.region.name}_{self.year}.zip"


def plan_bundle(session, actor: Actor, region_code: str, year: int) -> Bundle:
    """The households with a case of `year` in the area, which must lie inside mine."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(fields={"year": "年度应在 2000—2100 之间"})
    region = session.get(Region, region_code)
    if region is None or not actor.covers(region.code):
        raise OutsideScope()
    ids = session.scalars(policy.scoped(select(Case.household_id), actor, Case)
                          .where(Case.year == year,
                                 Case.village_code.between(*region.range))
                          .order_by(Case.village_code, Case.household_id)).all()
    return Bundle(region, year, list(ids))


def stream_bundle(session, store: ObjectStore, actor: Actor, bundle: Bundle, *,
                  today: date, now: datetime) -> Iterator[bytes]:
    """Yield the ZIP's bytes, household by household, the manifest last."""
    pipe = _Pipe()
    stamp = now.astimezone(CHINA_TZ).timetuple()[:6]
    rows = []
    with zipfile.ZipFile(pipe, "w", allowZip64=True) as zf:
        for number, household_id in enumerate(bundle.household_ids, 1):
            archive = household_archive(session, actor, household_id, year=bundle.year,
                                        today=today)
            folder = f"{number:03d}_{safe_name(archive.household.village.name)}_" \
                     f"{safe_name(archive.household.name)}"
            with tempfile.TemporaryFile() as document:
                pdf.write_pdf(archive, store, actor, document, generated_at=now)
                document.seek(0)
                yield from _entry(zf, pipe, f"{folder}/{pdf.filename(archive)}", stamp,
                                  _read(document))
            lost = []
            for index, doc in enumerate(archive.documents, 1):
                name = f"{folder}/附件/{index:02d}_{ATTACHMENT_KINDS.get(doc.kind, doc.kind)}_" \
                       f"{safe_name(doc.filename)}"
                try:
                    source = store.open(attachment_key(doc.sha256))
                except ObjectNotFound:
                    lost.append(doc.filename)
                    continue
                with source:
                    yield from _entry(zf, pipe, name, stamp, _read(source))
            rows.append(manifest_row(number, folder, archive, lost))
        yield from _entry(zf, pipe, MANIFEST, stamp, [manifest(rows)], compress=True)
    yield pipe.take()  # the central directory


MANIFEST_HEADER = ("序号", "文件夹", "乡镇", "村", "户主", "身份证号", "改造年度", "改造方式",
                   "当前环节", "照片（张）", "附件（份）", "档案是否齐全",
                   *(r.label for r in REQUIREMENTS), "缺少材料", "附件文件缺失")


def manifest_row(number: int, folder: str, archive: HouseholdArchive, lost: list[str]
                 ) -> tuple:
    h, c = archive.household, archive.case
    town = h.village.parent
    return (number, folder, town.name if town else "", h.village.name, h.name,
            archive.id_number, c.year, c.method, STATUSES[c.status], len(archive.photos),
            len(archive.documents), "是" if archive.complete else "否",
            *("有" if e.present else "缺" for e in archive.completeness),
            "；".join(missing_labels(archive.completeness)), "；".join(lost))


def manifest(rows: list[tuple]) -> bytes:
    """The manifest as CSV with a byte-order mark, so that Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MANIFEST_HEADER)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    return out.getvalue().encode("utf-8-sig")


def _cell(value):
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def _read(stream) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk


def _entry(zf: zipfile.ZipFile, pipe: "_Pipe", name: str, stamp: tuple,
           chunks: Iterable[bytes], *, compress: bool = False) -> Iterator[bytes]:
    """Write one file into the ZIP, yielding what is ready after every chunk. PDFs, JPEGs and
    scanned documents are compressed already: they are stored, not deflated again."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    with zf.open(info, "w") as out:
        for chunk in chunks:
            out.write(chunk)
            if ready := pipe.take():
                yield ready
    if ready := pipe.take():
        yield ready


class _Pipe(io.RawIOBase):
    """Where zipfile writes. It cannot seek, so zipfile puts each file's sizes after its
    bytes (data descriptors) instead of going back to its header."""

    def __init__(self):
        super().__init__()
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data
