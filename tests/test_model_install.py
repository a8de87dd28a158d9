"""`assistant model install` against a local HTTP server on 127.0.0.1 serving archives built by the test.

The internet cannot be reached from tests, so the official site is replaced by a local server (the
installer's base URL is overridable for exactly this). The archives have a Vosk model's layout with small
placeholder files: good, truncated in transit, corrupt, malicious (path traversal, absolute path, link).
"""

from __future__ import annotations

import http.server
import io
import os
import socket
import stat
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.recognition import choose_engine
from assistant.recognition.models import ModelInstallError, install_model, installed_models, looks_like_vosk_model

REPO = Path(__file__).resolve().parent.parent
LAYOUT = {"am/final.mdl": b"acoustic model", "conf/model.conf": b"--min-active=200\n", "conf/mfcc.conf": b"",
          "graph/HCLr.fst": b"lexicon", "graph/Gr.fst": b"grammar", "graph/phones/word_boundary.int": b"1 nonword\n",
          "ivector/final.ie": b"ivector", "README": b"test model\n"}


def model_zip(name: str, extra: dict[str, bytes] | None = None, links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path, data in {**LAYOUT, **(extra or {})}.items():
            bundle.writestr(path if path.startswith(("/", "..")) else f"{name}/{path}", data)
        for path, target in (links or {}).items():
            info = zipfile.ZipInfo(f"{name}/{path}")
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            bundle.writestr(info, target)
    return buffer.getvalue()


class Handler(http.server.BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    truncate: set[str] = set()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        name = self.path.rsplit("/", 1)[-1]
        body = self.files.get(name)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.truncate:  # the connection drops half way
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server():
    Handler.files = {
        "vosk-model-good.zip": model_zip("vosk-model-good"),
        "vosk-model-cut.zip": model_zip("vosk-model-cut", {"am/final.mdl": os.urandom(200_000)}),
        "vosk-model-notzip.zip": b"<html>not found</html>",
        "vosk-model-empty.zip": _zip({"readme.txt": b"no model here"}),
        "vosk-model-traversal.zip": model_zip("vosk-model-traversal", {"../../escaped.txt": b"x"}),
        "vosk-model-absolute.zip": model_zip("vosk-model-absolute", {"/tmp/escaped-absolute.txt": b"x"}),
        "vosk-model-link.zip": model_zip("vosk-model-link", links={"graph/evil": "/etc/passwd"}),
        "vosk-model-crc.zip": _bad_crc(model_zip("vosk-model-crc")),
    }
    Handler.truncate = {"vosk-model-cut.zip"}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/models/"
    httpd.shutdown()
    httpd.server_close()


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for path, data in files.items():
            bundle.writestr(path, data)
    return buffer.getvalue()


def _bad_crc(data: bytes) -> bytes:
    """Flip a byte inside a stored member's data: the archive still opens, the checksum fails."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as out:
        for info in source.infolist():
            out.writestr(info.filename, source.read(info))
    raw = bytearray(buffer.getvalue())
    raw[raw.index(b"acoustic model")] ^= 0xFF
    return bytes(raw)


def _leftovers(models: Path) -> list[str]:
    return sorted(p.name for p in models.iterdir()) if models.exists() else []


def test_good_archive_installs_and_is_found(server, tmp_path):
    models = tmp_path / "models"
    seen: list[tuple[int, int | None]] = []
    path = install_model("vosk-model-good", models, server, progress=lambda done, total: seen.append((done, total)))
    assert path == models / "vosk-model-good" and looks_like_vosk_model(path)
    assert (path / "am" / "final.mdl").read_bytes() == b"acoustic model"
    assert _leftovers(models) == ["vosk-model-good"]  # no temp folder, no archive
    assert seen and seen[-1][0] == seen[-1][1]  # progress reached the announced size
    assert [m.name for m in installed_models(models)] == ["vosk-model-good"]
    assert choose_engine(Settings(engine="auto"), models_dir=models) == ("vosk", path)
    assert install_model("vosk-model-good", models, server) == path  # again: already there, nothing to do


@pytest.mark.parametrize(("name", "message"), [
    ("vosk-model-cut", "broke off"),
    ("vosk-model-notzip", "not a valid zip"),
    ("vosk-model-empty", "not a speech model"),
    ("vosk-model-crc", "checksum"),
    ("vosk-model-traversal", "leaving its folder"),
    ("vosk-model-absolute", "absolute path"),
    ("vosk-model-link", "link"),
    ("vosk-model-missing", "HTTP 404"),
])
def test_bad_archives_are_refused_and_leave_nothing(server, tmp_path, name, message):
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError, match=message):
        install_model(name, models, server)
    assert _leftovers(models) == []  # no half model, no temp folder, no download
    assert not (tmp_path / "escaped.txt").exists() and not Path("/tmp/escaped-absolute.txt").exists()
    assert installed_models(models) == []


def test_a_failed_install_can_be_run_again(server, tmp_path):
    models = tmp_path / "models"
    with pytest.raises(ModelInstallError):
        install_model("vosk-model-cut", models, server)
    Handler.files["vosk-model-retry.zip"] = model_zip("vosk-model-retry")
    assert looks_like_vosk_model(install_model("vosk-model-retry", models, server))


def test_unsafe_names_are_refused(tmp_path):
    for name in ("../evil", "a/b", ".hidden", ""):
        with pytest.raises(ModelInstallError, match="not a model name"):
            install_model(name, tmp_path, "http://127.0.0.1:9/")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "ASSISTANT_CONFIG": "/nonexistent/config.yaml", **(env or {})}
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          cwd=REPO, env=environment, timeout=60)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_install_says_so_in_one_line_and_fails(tmp_path):
    result = _cli("model", "install", "--dir", str(tmp_path / "models"),
                  env={"ASSISTANT_MODEL_URL": f"http://127.0.0.1:{_closed_port()}/models/"})
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("assistant")]
    assert len(errors) == 1
    assert "cannot reach 127.0.0.1" in errors[0] and "check the internet connection" in errors[0]
    assert "Traceback" not in result.stderr
    assert _leftovers(tmp_path / "models") == []


def test_cli_install_then_list(server, tmp_path):
    models = tmp_path / "models"
    installed = _cli("model", "install", "vosk-model-good", "--url", server, "--dir", str(models))
    assert installed.returncode == 0, installed.stderr
    assert "Installed vosk-model-good" in installed.stdout
    listed = _cli("model", "list", "--dir", str(models))
    assert listed.returncode == 0
    assert "vosk-model-good" in listed.stdout and "runtime grammar" in listed.stdout
    refused = _cli("model", "install", "vosk-model-link", "--url", server, "--dir", str(models))
    assert refused.returncode == 1 and "refusing it" in refused.stderr


# -- a model folder on this machine (a faster-whisper model from a USB stick) ------------------------------

def whisper_folder(root: Path, name: str = "faster-whisper-small.en") -> Path:
    """A faster-whisper model folder's layout with small placeholder files."""
    folder = root / name
    folder.mkdir(parents=True)
    for file, data in {"model.bin": b"weights", "config.json": b"{}", "tokenizer.json": b"{}",
                       "vocabulary.txt": b"a\n"}.items():
        (folder / file).write_bytes(data)
    return folder


def test_a_whisper_model_folder_is_copied_in_and_chosen(tmp_path: Path):
    from assistant.recognition.models import install_folder

    source = whisper_folder(tmp_path / "usb")
    models = tmp_path / "models"
    path = install_folder(source, models)
    assert path == models / "faster-whisper-small.en" and (path / "model.bin").read_bytes() == b"weights"
    assert [(m.name, m.engine) for m in installed_models(models)] == [("faster-whisper-small.en", "whisper")]
    assert choose_engine(Settings(engine="whisper"), models_dir=models) == ("whisper", path)
    assert choose_engine(Settings(engine="auto"), models_dir=models) == ("whisper", path)
    assert install_folder(source, models) == path  # again: already there
    assert _leftovers(models) == ["faster-whisper-small.en"]


def test_a_bad_model_folder_is_refused_and_leaves_nothing(tmp_path: Path):
    from assistant.recognition.models import install_folder

    models = tmp_path / "models"
    linked = whisper_folder(tmp_path / "usb", "linked")
    (linked / "extra.bin").symlink_to("/etc/passwd")
    with pytest.raises(ModelInstallError, match="link"):
        install_folder(linked, models)
    half = tmp_path / "usb" / "half"
    half.mkdir()
    (half / "model.bin").write_bytes(b"weights")
    with pytest.raises(ModelInstallError, match="not a speech model"):
        install_folder(half, models)
    with pytest.raises(ModelInstallError, match="not a folder"):
        install_folder(tmp_path / "usb" / "nothing", models)
    assert not models.exists() or _leftovers(models) == []


def test_model_install_command_takes_a_folder(tmp_path: Path):
    source = whisper_folder(tmp_path / "usb")
    result = subprocess.run([sys.executable, "-m", "assistant", "model", "install", str(source),
                             "--dir", str(tmp_path / "models")], cwd=REPO, capture_output=True, text=True,
                            env={**os.environ, "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "Installed faster-whisper-small.en" in result.stdout
    listing = subprocess.run([sys.executable, "-m", "assistant", "model", "list", "--dir", str(tmp_path / "models")],
                             cwd=REPO, capture_output=True, text=True, env={**os.environ, "HOME": str(tmp_path)})
    assert "faster-whisper-small.en\t0 MB\twhisper" in listing.stdout
