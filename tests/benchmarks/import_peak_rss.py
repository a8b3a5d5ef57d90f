"""Peak memory of the import facing a zip bomb (issue 10, part 7): a ~1 MB XLSX whose first sheet
holds one inline string of about 1 GB. One fresh process builds the app on a temporary SQLite
database, logs a cadre in and uploads the file through the page, as a server worker would; it
prints the answer, the process's peak resident set size before and after the upload (the app
alone, with numpy, scipy and scikit-learn loaded, already holds most of it), and the peak of the
memory Python allocated while the upload was handled (tracemalloc).

    python -m tests.benchmarks.import_peak_rss [--unpacked-mb 1024]
"""

from __future__ import annotations

import argparse
import io
import re
import resource
import tempfile
import tracemalloc
import zipfile
from pathlib import Path

from openpyxl import Workbook

from web.services.imports import COLUMNS


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_bomb(path: Path, unpacked_mb: int) -> None:
    """A real workbook (openpyxl's parts) whose sheet1.xml is one huge inline string, streamed."""
    book = Workbook()
    book.active.append([header for _, header, _ in COLUMNS])
    template = io.BytesIO()
    book.save(template)
    with (
        zipfile.ZipFile(io.BytesIO(template.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item, source.read(item))
                continue
            with target.open(item.filename, "w", force_zip64=True) as sheet:
                sheet.write(
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                    b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
                )
                chunk = b"A" * 2**20
                for _ in range(unpacked_mb):
                    sheet.write(chunk)
                sheet.write(b"</t></is></c></row></sheetData></worksheet>")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unpacked-mb", type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bomb = Path(tmp) / "bomb.xlsx"
        write_bomb(bomb, args.unpacked_mb)
        data = bomb.read_bytes()
        unpacked = sum(i.file_size for i in zipfile.ZipFile(bomb).infolist())

        from tests.conftest import PASSWORD, Factory
        from web import create_app
        from web.extensions import db

        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                "SECRET_KEY": "bench",
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_STORAGE_URI": "memory://",
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:2000",
            }
        )
        with app.app_context():
            db.create_all()
            factory = Factory()
            factory.region_tree()
            cadre = factory.user("cadre")
            db.session.commit()
            client = app.test_client()
            client.post("/login", data={"username": cadre.username, "password": PASSWORD})
            before = peak_rss_mb()
            tracemalloc.start()
            response = client.post(
                "/cadre/import",
                data={"upload": (io.BytesIO(data), "laborers.xlsx")},
                content_type="multipart/form-data",
                headers={"Accept-Language": "en"},
            )
            allocated = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
            after = peak_rss_mb()
            text = response.get_data(as_text=True)
            found = re.search(r'class="error-text"[^>]*>([^<]*)<', text)
            message = found.group(1) if found else text[:200]
            db.engine.dispose()
    print(f"file {len(data) / 2**20:.2f} MB, unpacks to {unpacked / 2**20:.0f} MB")
    print(f"answer {response.status_code}: {message}")
    print(f"peak RSS before the upload {before:.0f} MB, after {after:.0f} MB")
    print(f"peak allocated while handling the upload {allocated:.1f} MB")


if __name__ == "__main__":
    main()
