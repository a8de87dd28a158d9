"""Installed speech models (Vosk, or faster-whisper folders): where they are, and installing one safely.

An install downloads the zip next to the models folder, checks it (the size the server announced, every
member's CRC, a Vosk model's layout), unpacks it into a hidden temporary folder while refusing absolute
paths, "..", links and oversized members, and only then renames that folder into place: an interrupted or
failed install leaves no half model, and running it again starts clean.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import stat
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from assistant.config import DEFAULT_MODELS_DIR, Settings
from assistant.recognition.base import RecognizerError

DEFAULT_MODEL = "vosk-model-small-en-us-0.15"
OFFICIAL_BASE_URL = "https://alphacephei.com/vosk/models/"
BASE_URL_ENV = "ASSISTANT_MODEL_URL"  # another base URL (a local mirror; the tests' own server)
MODEL_PATH_ENV = "VOSK_MODEL_PATH"
MAX_MEMBER_BYTES = 2 * 1024**3  # no file of a Vosk model is near this
MAX_TOTAL_BYTES = 8 * 1024**3  # the largest official models unpack to a few GB
MAX_RATIO = 200  # unpacked/packed size of one member: more is a zip bomb, not a model
CHUNK = 1 << 16
TIMEOUT = 30.0


class ModelInstallError(RuntimeError):
    """The install failed; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class InstalledModel:
    name: str
    path: Path
    size: int  # bytes on disk
    grammar: bool  # dynamic graph: takes a runtime grammar (Vosk only)
    engine: str = "vosk"  # "vosk" or "whisper"


def looks_like_model(folder: Path) -> bool:
    from assistant.recognition.whisper_model import looks_like_whisper_model

    return looks_like_vosk_model(folder) or looks_like_whisper_model(folder)


def looks_like_vosk_model(folder: Path) -> bool:
    """The layout every Vosk model has: an acoustic model and a decoding graph."""
    folder = Path(folder)
    acoustic = (folder / "am" / "final.mdl").is_file() or (folder / "final.mdl").is_file()
    graph = folder / "graph"
    decoding = (graph / "HCLG.fst").is_file() or ((graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file())
    return acoustic and decoding


def installed_models(models_dir: Path = DEFAULT_MODELS_DIR) -> list[InstalledModel]:
    from assistant.recognition.vosk_engine import has_dynamic_graph

    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    found = []
    for folder in sorted(models_dir.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir() or not looks_like_model(folder):
            continue
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        if looks_like_vosk_model(folder):
            found.append(InstalledModel(folder.name, folder, size, has_dynamic_graph(folder)))
        else:
            found.append(InstalledModel(folder.name, folder, size, False, engine="whisper"))
    return found


def find_vosk_model(settings: Settings, models_dir: Path = DEFAULT_MODELS_DIR) -> Path | None:
    """The Vosk model to use: --model / the config's `model`, else $VOSK_MODEL_PATH, else one in models/
    (the default model first). A model named explicitly that is not there is an error, not a fallback."""
    for origin, value in (("--model (or `model` in the config file)", settings.model),
                          (f"${MODEL_PATH_ENV}", os.environ.get(MODEL_PATH_ENV))):
        if value:
            path = Path(value).expanduser()
            if not looks_like_vosk_model(path):
                problem = "does not exist" if not path.exists() else "is not a Vosk model folder"
                raise RecognizerError(f"the Vosk model {path} given by {origin} {problem}. Run `assistant model "
                                      "install`, or give the folder of an unpacked Vosk model.")
            return path
    models = [m for m in installed_models(models_dir) if m.engine == "vosk"]
    for model in models:
        if model.name == DEFAULT_MODEL:
            return model.path
    return models[0].path if models else None


def find_whisper_model(settings: Settings, models_dir: Path = DEFAULT_MODELS_DIR, quiet: bool = False) -> Path | None:
    """The faster-whisper model folder to use: --model / the config's `model` when it is one, else the first
    one installed in models/, else None (the built-in tiny.en). With `quiet`, a --model that is not a
    Whisper folder gives None instead of an error (engine auto then tries it as a Vosk model)."""
    from assistant.recognition.whisper_model import looks_like_whisper_model

    if settings.model:
        path = Path(settings.model).expanduser()
        if looks_like_whisper_model(path):
            return path
        if quiet:
            return None
        problem = "does not exist" if not path.exists() else "is not a faster-whisper model folder"
        raise RecognizerError(f"the Whisper model {path} given by --model (or `model` in the config file) {problem}"
                              ": give a folder with model.bin, config.json and tokenizer.json, or leave --model out"
                              " for the built-in English model.")
    models = [m for m in installed_models(models_dir) if m.engine == "whisper"]
    return models[0].path if models else None


# -- install ----------------------------------------------------------------------------------------------

def model_url(name: str, base_url: str | None = None) -> str:
    base = base_url or os.environ.get(BASE_URL_ENV) or OFFICIAL_BASE_URL
    return urllib.parse.urljoin(base if base.endswith("/") else base + "/", f"{name}.zip")


Progress = Callable[[int, int | None], None]  # (bytes so far, total or None)


def _check_name(name: str) -> None:
    if not name or name != Path(name).name or name.startswith(".") or "/" in name or "\\" in name:
        raise ModelInstallError(f"'{name}' is not a model name (like {DEFAULT_MODEL})")


def install_model(name: str = DEFAULT_MODEL, models_dir: Path = DEFAULT_MODELS_DIR, base_url: str | None = None,
                  progress: Progress | None = None) -> Path:
    """Download, check and unpack model `name` into models_dir/name; returns that folder."""
    _check_name(name)
    models_dir = Path(models_dir)
    target = models_dir / name
    if looks_like_model(target):
        return target
    if target.exists():
        raise ModelInstallError(f"{target} exists but is not a complete model: remove it, then install again")
    models_dir.mkdir(parents=True, exist_ok=True)
    url = model_url(name, base_url)
    workdir = Path(tempfile.mkdtemp(prefix=f".installing-{name}-", dir=models_dir))
    try:
        archive = workdir / f"{name}.zip"
        _download(url, archive, progress, models_dir)
        unpacked = workdir / "unpacked"
        _unpack(archive, unpacked)
        archive.unlink()
        root = _model_root(unpacked)
        if root is None:
            raise ModelInstallError(f"{url} is not a speech model: the archive has neither a Vosk model (am/final.mdl "
                                    "and graph/) nor a faster-whisper model (model.bin, config.json, tokenizer.json)")
        root.rename(target)  # the one step that makes the model visible: atomic on one file system
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return target


def install_folder(source: Path, models_dir: Path = DEFAULT_MODELS_DIR) -> Path:
    """Copy a model folder on this machine (a Vosk or faster-whisper model, e.g. from a USB stick) into
    models_dir/<its name>, with the archive's checks: no links or special files, no oversized files, the
    layout of a model; the copy becomes visible in one rename, so a failed copy leaves nothing behind."""
    source = Path(source).expanduser()
    if not source.is_dir() or source.is_symlink():
        raise ModelInstallError(f"{source} is not a folder: give the unpacked model folder")
    if not looks_like_model(source):
        raise ModelInstallError(f"{source} is not a speech model: it needs a Vosk layout (am/final.mdl and graph/) "
                                "or a faster-whisper one (model.bin, config.json, tokenizer.json)")
    name = source.resolve().name
    _check_name(name)
    models_dir = Path(models_dir)
    target = models_dir / name
    if target.exists():
        if looks_like_model(target):
            return target
        raise ModelInstallError(f"{target} exists but is not a complete model: remove it, then install again")
    models_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".installing-{name}-", dir=models_dir))
    try:
        copy = workdir / name
        total = 0
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise ModelInstallError(f"the model folder has a link ({relative}): refusing it")
            if stat.S_ISDIR(mode):
                (copy / relative).mkdir(parents=True, exist_ok=True)
                continue
            if not stat.S_ISREG(mode):
                raise ModelInstallError(f"the model folder has a special file ({relative}): refusing it")
            size = path.stat().st_size
            total += size
            if size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
                raise ModelInstallError(f"the model folder is larger than any speech model ({relative}): refusing it")
            (copy / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, copy / relative)
        copy.rename(target)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return target


def _download(url: str, destination: Path, progress: Progress | None, models_dir: Path) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "ot-pt-assistant model installer"})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - http(s) URL we built
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ModelInstallError(f"no model at {url} (HTTP 404): check the name with the list on the Vosk "
                                    "models page") from exc
        raise ModelInstallError(f"{url} answered HTTP {exc.code} {exc.reason}: try again later") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _unreachable(url, models_dir) from exc
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > MAX_TOTAL_BYTES:
            raise ModelInstallError(f"{url} is {total} bytes, more than any Vosk model: refusing it")
        received = 0
        try:
            with open(destination, "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    received += len(chunk)
                    if received > MAX_TOTAL_BYTES:
                        raise ModelInstallError(f"{url} sends more than {MAX_TOTAL_BYTES} bytes: refusing it")
                    if progress:
                        progress(received, total)
        except http.client.IncompleteRead as exc:
            received += len(exc.partial)
            raise _incomplete(url, received, total) from exc
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, (TimeoutError, socket.timeout, ConnectionError)):
                raise _incomplete(url, received, total) from exc
            raise ModelInstallError(f"could not save {url} into {destination.parent}: {exc}") from exc
    if total is not None and received != total:
        raise _incomplete(url, received, total)


def _unreachable(url: str, models_dir: Path) -> ModelInstallError:
    host = urllib.parse.urlsplit(url).netloc or url
    return ModelInstallError(f"cannot reach {host}: check the internet connection, or copy a model folder "
                             f"into {models_dir}/")


def _incomplete(url: str, received: int, total: int | None) -> ModelInstallError:
    expected = f" of {total}" if total is not None else ""
    return ModelInstallError(f"the download of {url} broke off ({received}{expected} bytes): nothing was "
                             "installed; run the same command again")


def _unpack(archive: Path, destination: Path) -> None:
    """Extract after checking every member; raises ModelInstallError naming the first bad one."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            total = 0
            for member in members:
                _check_member(member)
                total += member.file_size
                if total > MAX_TOTAL_BYTES:
                    raise ModelInstallError(f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes: refusing it")
            bad = bundle.testzip()  # reads every member and checks its CRC
            if bad is not None:
                raise ModelInstallError(f"the archive is corrupt ({bad} fails its checksum): run the command again")
            destination.mkdir(parents=True)
            for member in members:
                path = destination.joinpath(*PurePosixPath(member.filename).parts)
                if member.is_dir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, open(path, "wb") as out:
                    shutil.copyfileobj(source, out, CHUNK)
    except zipfile.BadZipFile as exc:
        raise ModelInstallError(f"the download is not a valid zip archive ({exc}): run the command again") from exc
    except (zipfile.LargeZipFile, NotImplementedError, EOFError) as exc:
        raise ModelInstallError(f"the archive cannot be unpacked ({exc})") from exc


def _check_member(member: zipfile.ZipInfo) -> None:
    name = member.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise ModelInstallError(f"the archive has an absolute path ({name}): refusing it")
    if ".." in parts:
        raise ModelInstallError(f"the archive has a path leaving its folder ({name}): refusing it")
    mode = member.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ModelInstallError(f"the archive has a link ({name}): refusing it")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):  # 0: archivers that store no file type
        raise ModelInstallError(f"the archive has a special file ({name}): refusing it")
    if member.file_size > MAX_MEMBER_BYTES:
        raise ModelInstallError(f"the archive member {name} is too large ({member.file_size} bytes): refusing it")
    if member.compress_size and member.file_size / member.compress_size > MAX_RATIO and member.file_size > 1 << 20:
        raise ModelInstallError(f"the archive member {name} expands {member.file_size // member.compress_size}"
                                " times: refusing it")


def _model_root(unpacked: Path) -> Path | None:
    """The model folder inside the unpacked archive: the archive itself, or its single top folder."""
    if looks_like_model(unpacked):
        return unpacked
    entries = [p for p in unpacked.iterdir() if not p.name.startswith("__MACOSX")]
    if len(entries) == 1 and entries[0].is_dir() and looks_like_model(entries[0]):
        return entries[0]
    return None
