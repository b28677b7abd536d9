"""Uploads the Flask way: ``request.files[...]`` is a ``FileStorage`` with Werkzeug's
synchronous API in a plain ``def`` view, and ``secure_filename`` follows Werkzeug's rules."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from kettle import Kettle, request
from kettle.filestorage import FileStorage, secure_filename


@pytest.fixture
def app(tmp_path: Path) -> Kettle:
    app = Kettle(__name__)
    app.config["UPLOADS"] = str(tmp_path)

    @app.post("/upload")
    def upload() -> dict[str, object]:
        doc = request.files["doc"]
        first = doc.readline()
        doc.seek(0)
        name = secure_filename(doc.filename or "")
        doc.save(Path(app.config["UPLOADS"]) / name)
        doc.seek(0)
        return {
            "kind": type(doc).__name__,
            "field": doc.name,
            "filename": doc.filename,
            "saved_as": name,
            "mimetype": doc.mimetype,
            "length": doc.content_length,
            "first_line": first.decode(),
            "all": doc.read().decode(),
            "truthy": bool(doc),
        }

    return app


@pytest.mark.parametrize(
    "kwargs",
    [
        {},  # the client writes multipart because a value is a file
        {"content_type": "multipart/form-data"},  # as Flask's docs write it: boundary added
    ],
)
def test_a_plain_view_reads_and_saves_the_upload_synchronously(
    app: Kettle, tmp_path: Path, kwargs: dict[str, str]
) -> None:
    data = {"doc": (io.BytesIO(b"line one\nline two\n"), "../../my report.txt", "text/plain")}
    response = app.test_client().post("/upload", data=data, **kwargs)
    assert response.status_code == 200, response.data
    assert response.get_json() == {
        "kind": "FileStorage",
        "field": "doc",
        "filename": "my report.txt",
        "saved_as": "my_report.txt",
        "mimetype": "text/plain",
        "length": 18,
        "first_line": "line one\n",
        "all": "line one\nline two\n",
        "truthy": True,
    }
    assert (tmp_path / "my_report.txt").read_bytes() == b"line one\nline two\n"


def test_a_file_storage_is_a_value_the_client_sends(app: Kettle) -> None:
    storage = FileStorage(io.BytesIO(b"csv,data\n"), filename="table.csv", content_type="text/csv")
    response = app.test_client().post("/upload", data={"doc": storage})
    assert response.get_json()["mimetype"] == "text/csv"
    assert response.get_json()["all"] == "csv,data\n"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("My cool movie.mov", "My_cool_movie.mov"),
        ("../../../etc/passwd", "etc_passwd"),
        ("i contain cool \xfcml\xe4uts.txt", "i_contain_cool_umlauts.txt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),  # the right-to-left override is dropped
        ("re\x00port.txt", "report.txt"),
        ("..\\..\\windows\\system.ini", "windows_system.ini"),
        ("COM1.log", "_COM1.log"),
        ("...", ""),
        ("", ""),
    ],
)
def test_secure_filename(name: str, safe: str) -> None:
    assert secure_filename(name) == safe


def test_the_flask_clients_path_is_percent_decoded_for_the_view() -> None:
    app = Kettle(__name__)

    @app.route("/files/<name>")
    def show(name: str) -> str:
        return name

    client = app.test_client()
    for path in ("/files/my%20report.txt", "/files/my report.txt"):
        assert client.get(path).data == b"my report.txt"
    assert client.get("/files/100%25").data == b"100%"
