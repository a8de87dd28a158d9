"""`assistant model install [NAME|FOLDER]` and `assistant model list`: speech models in models/."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from assistant.config import DEFAULT_MODELS_DIR, Settings


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    from assistant.recognition.models import BASE_URL_ENV, DEFAULT_MODEL

    parser = subparsers.add_parser("model", parents=parents, help="install or list speech models",
                                   description="Extra speech models (Vosk, or faster-whisper folders) live in "
                                               "models/, one folder each. The built-in English model needs none.")
    actions = parser.add_subparsers(dest="model_action", metavar="ACTION")
    install = actions.add_parser("install", help="download a Vosk model, or copy in a model folder",
                                 description=f"Download an official Vosk model (default {DEFAULT_MODEL}), or copy "
                                             "a Vosk or faster-whisper model folder from this machine; check it "
                                             "and put it into the models folder. Safe to run again.")
    install.add_argument("name", nargs="?", default=DEFAULT_MODEL,
                         help=f"model name to download (default {DEFAULT_MODEL}), or a model folder to copy in")
    install.add_argument("--url", metavar="BASE",
                         help=f"where the models are (default: the official site, or ${BASE_URL_ENV})")
    install.add_argument("--dir", type=Path, default=DEFAULT_MODELS_DIR, help="models folder (default models/)")
    listing = actions.add_parser("list", help="show the installed models")
    listing.add_argument("--dir", type=Path, default=DEFAULT_MODELS_DIR, help="models folder (default models/)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.model_action == "install":
        return _install(args.name, args.dir, args.url)
    if args.model_action == "list":
        return _list(args.dir, settings)
    print("assistant model: say `install [NAME]` or `list`", file=sys.stderr)
    return 2


def _install(name: str, models_dir: Path, base_url: str | None) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from assistant.recognition.models import (
        ModelInstallError,
        install_folder,
        install_model,
        looks_like_model,
        model_url,
    )

    if Path(name).expanduser().is_dir():
        try:
            path = install_folder(Path(name), models_dir)
        except ModelInstallError as exc:
            print(f"assistant model install: {exc}", file=sys.stderr)
            return 1
        print(f"Installed {Path(name).name} in {path}.")
        return 0
    if looks_like_model(models_dir / name):
        print(f"{name} is already installed in {models_dir / name}")
        return 0
    console = Console(stderr=True)
    url = model_url(name, base_url)
    console.print(f"Downloading {url}")
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task(name, total=None)
            path = install_model(name, models_dir, base_url,
                                 progress=lambda done, total: progress.update(task, completed=done, total=total))
    except ModelInstallError as exc:
        print(f"assistant model install: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("assistant model install: interrupted; nothing was installed. Run it again to retry.", file=sys.stderr)
        return 130
    print(f"Installed {name} in {path}. `assistant` now uses it (engine auto).")
    return 0


def _list(models_dir: Path, settings: Settings) -> int:
    from assistant.recognition import RecognizerError, choose_engine
    from assistant.recognition.models import installed_models

    models = installed_models(models_dir)
    if not models:
        print(f"No extra model in {models_dir}: the assistant uses its built-in English model (Whisper tiny.en). "
              "Add a Vosk model with `assistant model install`.")
    for model in models:
        kind = "whisper" if model.engine == "whisper" else ("vosk, runtime grammar" if model.grammar else "vosk")
        print(f"{model.name}\t{model.size / 1024**2:.0f} MB\t{kind}\t{model.path}")
    try:
        engine, path = choose_engine(settings, models_dir)
        print(f"In use: {engine}{f' ({path})' if path else ''}")
    except RecognizerError as exc:
        print(f"In use: none: {exc}")
        return 1
    return 0
