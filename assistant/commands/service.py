"""`assistant service install|uninstall|status`: start the assistant by itself at boot or login (systemd)."""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import shlex
import sys
from pathlib import Path

from assistant.caregiver import systemd_unit
from assistant.config import Settings

JOURNAL_HINT = "journalctl {scope}-u ot-pt-assistant.service -f"


def register(subparsers: argparse._SubParsersAction, parents: list[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "service",
        help="start the assistant at boot or login (systemd service)",
        description="Install, remove or check the systemd service that runs `assistant listen` by itself "
                    "and restarts it after a failure. Without --system it is a user service that starts "
                    "when the user logs in (or at boot with `loginctl enable-linger USER`).",
    )
    actions = parser.add_subparsers(dest="service_action", metavar="ACTION", required=True)

    install = actions.add_parser(
        "install", parents=parents, help="write, enable and start the service",
        description="Write the service with the given options (devices, engine, model, wake phrase, "
                    "content folder; speaking rate/volume/voice only if given here) and start it. "
                    "Options set in the config file are kept in the service too.")
    install.add_argument("--system", action="store_true",
                         help="system-wide service in /etc/systemd/system (needs root); starts at boot")
    install.add_argument("--user", dest="service_user", metavar="NAME",
                         help="with --system: the account it runs as (default: you, also under sudo)")
    install.add_argument("--dry-run", action="store_true", help="print the unit and write nothing")
    serve = install.add_argument_group("serving every room (`assistant serve` instead of `assistant listen`)")
    serve.add_argument("--serve", action="store_true", help="the service runs the Wyoming server")
    serve.add_argument("--uri", help="with --serve: where it listens (default tcp://127.0.0.1:10700)")
    serve.add_argument("--allow", nargs="+", action="extend", metavar="CIDR", default=[],
                       help="with --serve: accept only clients in these networks")
    serve.add_argument("--zeroconf", nargs="?", const="", metavar="NAME", help="with --serve: announce it")

    for name, text in (("uninstall", "stop, disable and remove the service"),
                       ("status", "show whether the service is installed, enabled and running")):
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        action.add_argument("--system", action="store_true", help="the system-wide service")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        if args.service_action == "install":
            return _install(args, settings)
        if args.service_action == "uninstall":
            return _print_outcome(systemd_unit.uninstall(args.system))
        return _status(args.system)
    except systemd_unit.ServiceError as exc:
        print(f"assistant service: {exc}", file=sys.stderr)
        return 2


def _given(args: argparse.Namespace) -> set[str]:
    names = [name for name, _ in systemd_unit.PINNED_OPTIONS + systemd_unit.SPEECH_OPTIONS]
    return {name for name in names if getattr(args, name, None) is not None}


def _check_paths(settings: Settings) -> None:
    # A service that cannot find its content or model would only fail and restart for ever.
    content = settings.content_path().expanduser()
    if not content.is_dir():
        raise systemd_unit.ServiceError(f"the content folder {content} does not exist. Give the right one with "
                                   "--content DIR (or leave it out for the built-in content).")
    if settings.model and not Path(settings.model).expanduser().is_dir():
        raise systemd_unit.ServiceError(f"the model folder {settings.model} does not exist. Install one with "
                                   "`assistant model install`, or leave --model out for the built-in English model.")


def _system_account(args: argparse.Namespace) -> tuple[str, list[str]]:
    name = args.service_user or systemd_unit.invoking_user()
    try:
        pwd.getpwnam(name)
    except KeyError as exc:
        raise systemd_unit.ServiceError(
            f"there is no user '{name}' on this machine; give one with --user NAME") from exc
    try:
        grp.getgrnam("audio")  # Debian / Raspberry Pi OS: members may open the sound cards directly
        groups = ["audio"]
    except KeyError:
        groups = []
    return name, groups


def _install(args: argparse.Namespace, settings: Settings) -> int:
    if args.service_user and not args.system:
        raise systemd_unit.ServiceError("--user NAME only applies to a system service: add --system")
    _check_paths(settings)
    user, groups = _system_account(args) if args.system else (None, [])
    environment = {}
    if os.environ.get("ASSISTANT_CONFIG"):  # keep using the same config file as this command did
        environment["ASSISTANT_CONFIG"] = str(Path(os.environ["ASSISTANT_CONFIG"]).expanduser().absolute())
    if not args.serve and (args.uri or args.allow or args.zeroconf is not None):
        raise systemd_unit.ServiceError("--uri, --allow and --zeroconf are options of the server: add --serve")
    if args.serve:
        options = [*([f"--uri={args.uri}"] if args.uri else []), *(f"--allow={cidr}" for cidr in args.allow),
                   *([f"--zeroconf={args.zeroconf}"] if args.zeroconf else ["--zeroconf"] if args.zeroconf == ""
                     else [])]
        argv = systemd_unit.serve_argv(systemd_unit.assistant_command(), settings, _given(args),
                                       log_enabled=not getattr(args, "no_log", False), serve_options=options)
    else:
        argv = systemd_unit.listen_argv(systemd_unit.assistant_command(), settings, _given(args),
                                        log_enabled=not getattr(args, "no_log", False))
    spec = systemd_unit.UnitSpec(argv=argv, system=args.system, user=user, environment=environment,
                            supplementary_groups=groups, systemd_version=systemd_unit.systemd_version())
    text = systemd_unit.render_unit(spec)
    path = systemd_unit.unit_path(args.system)
    if args.dry_run:
        sys.stdout.write(text)
        print(f"(dry run: this would be written to {path}; nothing was written)", file=sys.stderr)
        return 0
    if not args.system and os.geteuid() == 0 and os.environ.get("SUDO_USER"):
        print(f"note: with sudo this installs root's own user service. Run it without sudo to install it "
              f"for {os.environ['SUDO_USER']}, or add --system.", file=sys.stderr)
    code = _print_outcome(systemd_unit.install(text, args.system, path))
    scope = "" if args.system else "--user "
    print(f"See what it says: {JOURNAL_HINT.format(scope=scope)}")
    if not args.system:
        print(f"To start it at boot without anyone logging in: sudo loginctl enable-linger "
              f"{systemd_unit.invoking_user()}")
    return code


def _print_outcome(outcome: systemd_unit.Outcome) -> int:
    for line in outcome.lines:
        print(line)
    return 0 if outcome.ok else 1


def _status(system: bool) -> int:
    state = systemd_unit.status(system)
    scope = "" if system else "--user "
    print(f"Unit file: {state.path} ({'installed' if state.installed else 'not installed'})")
    if not state.installed:
        print("Install it with: assistant service install" + (" --system" if system else ""))
        return 1
    print(f"Enabled:   {state.enabled or 'unknown'}")
    if state.manager_running:
        print(f"Running:   {state.active or 'unknown'}")
    else:
        print("Running:   unknown: systemd is not running here (it starts the service on a booted device)")
    if state.argv is not None:
        print("Command:   " + shlex.join(state.argv))
    print(f"Its output: {JOURNAL_HINT.format(scope=scope)}")
    return 0
