"""Household import in bounded memory (issue 19): a 20 MB CSV of tiny rows and a small XLSX
of 2 million rows, each imported by the import service in a fresh worker process.

Both files are far over the row cap (IMPORT_MAX_ROWS, 100,000 as in the app), so the import
must refuse them while reading, after about 100,000 rows, without ever holding the file's rows.
Prints the file sizes, time and the worker's peak RSS (ru_maxrss); aim ≤ 300 MB per worker.

    python bench/import_memory.py [--db postgresql://...]
"""

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import bench_app  # noqa: I001  (puts the repo on sys.path)

MAX_ROWS = 100_000
AIM_MB = 300
CSV_BYTES = 20 * 1024 * 1024
XLSX_ROWS = 2_000_000


def build_csv(path: Path) -> None:
    """20 MB of rows like `x,1,1` under the real headers: 3.5 million tiny rows."""
    line = b"x,1,1\n"
    with path.open("wb") as out:
        out.write("户主姓名,身份证号,村\n".encode())
        block = line * (1024 * 1024 // len(line))
        while out.tell() < CSV_BYTES:
            out.write(block)


XLSX_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
    'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="appl'
    'ication/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentTyp'
    'e="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.o'
    'penxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/works'
    'heets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetm'
    'l.worksheet+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
    'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schem'
    'as.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbo'
    'ok.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.o'
    'penxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/off'
    'iceDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></s'
    'heets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
    '"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Ty'
    'pe="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target'
    '="worksheets/sheet1.xml"/></Relationships>',
}


def build_xlsx(path: Path) -> None:
    """A minimal XLSX whose one sheet holds 2 million tiny rows, written as a stream."""
    head = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlforma'
            'ts.org/spreadsheetml/2006/main"><sheetData><row><c t="inlineStr"><is><t>户主姓名</t>'
            '</is></c><c t="inlineStr"><is><t>身份证号</t></is></c><c t="inlineStr"><is><t>村</t>'
            '</is></c></row>')
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c><c><v>1</v></c><c><v>1</v></c></row>'
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, body in XLSX_PARTS.items():
            archive.writestr(name, body)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(head.encode())
            block = row * 10_000
            for _ in range(XLSX_ROWS // 10_000):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")


def run_one(kind: str, path: Path, db_url: str | None) -> None:
    """In this (fresh) process: import the file as a county admin; print one result line."""
    from backend.extensions import db
    from backend.services import imports
    from backend.services.errors import InvalidImportFile
    from backend.services.policy import Actor
    from tests import factories

    with bench_app(db_url):
        w = factories.world(db.session)
        admin = Actor.of(w.users["county_admin"])
        started = time.perf_counter()
        with path.open("rb") as stream:
            try:
                report = imports.import_households(db.session, admin, path.name, stream,
                                                   max_rows=MAX_ROWS)
                outcome = f"imported {report['created']} of {report['total']}"
            except InvalidImportFile as refusal:
                outcome = f"refused: {refusal.message}"
        elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = path.stat().st_size / (1024 * 1024)
    verdict = "OK" if peak <= AIM_MB else "MISSED"
    print(f"{kind:5} {size:6.1f} MB file  {elapsed:6.1f} s  peak RSS {peak:5.0f} MB  {verdict} "
          f"(aim ≤ {AIM_MB} MB)  {outcome}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an empty PostgreSQL database URL (default: SQLite)")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one[0], Path(args.one[1]), args.db)
        return
    print(f"Household import, row cap {MAX_ROWS:,}: each file in a fresh worker process")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, build in (("csv", build_csv), ("xlsx", build_xlsx)):
            path = Path(tmp) / f"households.{kind}"
            build(path)
            command = [sys.executable, __file__, "--one", kind, str(path)]
            subprocess.run(command + (["--db", args.db] if args.db else []), check=True)


if __name__ == "__main__":
    main()
