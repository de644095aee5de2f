"""``imgpipe``: run the reference upload service and administer it.

``imgpipe serve`` starts the ASGI app under uvicorn (127.0.0.1:8080, data in ./imgpipe-data by default).
Admin commands work on the same data folder: ``create-app``, ``create-user``, ``create-album``,
``create-community``, ``list-apps``, ``maintenance on|off``, ``fsck``. Every command takes ``--data``.
"""

from __future__ import annotations

import argparse
import errno
import getpass
import json
import logging
import os
import socket
import sys
from pathlib import Path
from typing import Sequence

from .config import Config

__all__ = ["main", "build_parser", "StartupError"]

log = logging.getLogger("imgpipe.service")


class StartupError(Exception):
    """The service cannot start (port taken, data folder not writable, ...); the message says why."""


def _data_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, default=Path(os.environ.get("IMGPIPE_DATA", "imgpipe-data")),
                   help="data folder: imgpipe.sqlite3 (metadata) and files/ (images) "
                        "(default: $IMGPIPE_DATA or ./imgpipe-data)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (``--help`` documents each option)."""
    parser = argparse.ArgumentParser(prog="imgpipe", description="imgpipe reference upload service "
                                     "(uploadPhotos + up.photos.upload)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", help="run the service under uvicorn",
                       description="Run the upload service (ASGI, uvicorn). Logs are JSON lines on stderr.")
    _data_arg(s)
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    s.add_argument("--port", type=int, default=8080, help="TCP port (default: 8080; 0 picks a free one)")
    s.add_argument("--public-url", default=None,
                   help="base of the URLs handed out, e.g. https://photos.example.org "
                        "(default: taken from each request's Host header)")
    s.add_argument("--platform-http-errors", action="store_true",
                   help="answer up.* errors with a fitting 4xx/5xx status instead of the historical 200")
    s.add_argument("--regular-album-limit", type=int, default=60, help="photos per regular album (default: 60)")
    s.add_argument("--application-album-limit", type=int, default=1000,
                   help="photos per default application album (default: 1000)")
    s.add_argument("--pending-limit", type=int, default=500,
                   help="pending photos per user and application before error 325 (default: 500)")
    s.add_argument("--session-ttl", type=float, default=3600.0,
                   help="lifetime of up.* session keys in seconds (default: 3600)")
    s.add_argument("--credentials-ttl", type=float, default=3600.0,
                   help="lifetime of the uploadPhotos auth cookie + WSSID in seconds (default: 3600)")
    s.add_argument("--max-file-mb", type=int, default=50, help="largest image file accepted, MiB (default: 50)")
    s.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"],
                   help="log level (default: info)")

    a = sub.add_parser("create-app", help="register an application; prints api_key and secret as JSON")
    _data_arg(a)
    a.add_argument("name", help="application name")
    a.add_argument("--permission", action="append", default=[], metavar="PERM",
                   help="extended permission, repeatable; 'photo_upload' makes uploads visible at once")
    a.add_argument("--allow", action="append", default=[], metavar="ADDR",
                   help="allowed source address or CIDR network, repeatable (default: any)")
    a.add_argument("--daily-limit", type=int, default=None, help="uploads per 24 hours (error 4 beyond)")

    u = sub.add_parser("create-user", help="create a user (password from --password or asked)")
    _data_arg(u)
    u.add_argument("username")
    u.add_argument("--password", default=None, help="password (asked on the terminal when omitted)")
    u.add_argument("--premium", action="store_true", help="premium account: the 'full' rendition is listed")

    al = sub.add_parser("create-album", help="create a regular album for a user; prints its aid")
    _data_arg(al)
    al.add_argument("username")
    al.add_argument("name")
    al.add_argument("--description", default="")

    c = sub.add_parser("create-community", help="create a community (the up.* 'community' argument)")
    _data_arg(c)
    c.add_argument("name")
    c.add_argument("--title", default="")

    la = sub.add_parser("list-apps", help="print every application as JSON lines")
    _data_arg(la)

    m = sub.add_parser("maintenance", help="switch maintenance mode (APIs answer 'unavailable')")
    _data_arg(m)
    m.add_argument("state", choices=["on", "off"])

    f = sub.add_parser("fsck", help="find files no photo names (left by a crash) and temporary files")
    _data_arg(f)
    f.add_argument("--remove", action="store_true", help="remove them")
    return parser


def _service(data: Path):  # type: ignore[no-untyped-def]
    from .core import Service
    return Service(Config(data_dir=data))


def check_startup(config: Config) -> None:
    """Raise :class:`StartupError` unless the data folder is writable and the port is free."""
    data = Path(config.data_dir)
    try:
        data.mkdir(parents=True, exist_ok=True)
        probe = data / ".write-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        raise StartupError(f"the data folder {data.resolve()} is not writable: {exc.strerror or exc}") from exc
    if config.port != 0:
        family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((config.host, config.port))
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise StartupError(f"port {config.port} on {config.host} is already in use "
                                       f"(choose another with --port)") from exc
                raise StartupError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc


def serve(args: argparse.Namespace) -> int:
    """Run the service until interrupted."""
    from .logs import setup_logging

    setup_logging(args.log_level)
    config = Config(data_dir=args.data, host=args.host, port=args.port, public_url=args.public_url,
                    platform_http_errors=args.platform_http_errors, regular_album_limit=args.regular_album_limit,
                    application_album_limit=args.application_album_limit, pending_limit=args.pending_limit,
                    session_ttl=args.session_ttl, web_credentials_ttl=args.credentials_ttl,
                    max_file_bytes=args.max_file_mb * 1024 * 1024)
    check_startup(config)
    import uvicorn

    from .app import ASGIApp
    from .core import Service
    try:
        service = Service(config)
        service.files.check_writable()
    except Exception as exc:
        raise StartupError(f"cannot open the data folder {Path(args.data).resolve()}: {exc}") from exc
    if not service.store.list_communities():
        service.store.create_community("default", "Default community")
    log.info("service.start", extra={"fields": {"host": args.host, "port": args.port,
                                                "data": str(Path(args.data).resolve())}})
    server = uvicorn.Server(uvicorn.Config(ASGIApp(service), host=args.host, port=args.port, log_config=None,
                                           access_log=False, lifespan="on", timeout_graceful_shutdown=5))
    server.run()
    if not server.started:
        raise StartupError(f"uvicorn could not start on {args.host}:{args.port} (see the log above)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``imgpipe`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        return admin(args)
    except StartupError as exc:
        print(f"imgpipe: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def admin(args: argparse.Namespace) -> int:
    """The admin subcommands."""
    from .store import AlreadyExists
    if args.command == "maintenance":
        flag = Config(data_dir=args.data).maintenance_flag
        if args.state == "on":
            Path(args.data).mkdir(parents=True, exist_ok=True)
            flag.write_text("maintenance\n")
        elif flag.exists():
            flag.unlink()
        print(f"maintenance {args.state}")
        return 0
    try:
        check_startup(Config(data_dir=args.data, port=0))
    except StartupError as exc:
        print(f"imgpipe: error: {exc}", file=sys.stderr)
        return 2
    svc = _service(args.data)
    try:
        store = svc.store
        if args.command == "create-app":
            app = store.create_application(args.name, args.permission, args.allow, args.daily_limit)
            print(json.dumps({"name": app.name, "api_key": app.api_key, "secret": app.secret,
                              "permissions": sorted(app.permissions), "allowed": list(app.allowed_addresses)}))
        elif args.command == "create-user":
            password = args.password if args.password is not None else getpass.getpass("password: ")
            try:
                user = store.create_user(args.username, password, args.premium)
            except (AlreadyExists, ValueError) as exc:
                print(f"imgpipe: error: {exc}", file=sys.stderr)
                return 1
            print(json.dumps({"uid": user.id, "username": user.username, "premium": user.premium}))
        elif args.command == "create-album":
            user = store.get_user_by_name(args.username)
            if user is None:
                print(f"imgpipe: error: no user {args.username!r}", file=sys.stderr)
                return 1
            album = store.create_album(user.id, args.name, args.description)
            print(json.dumps({"aid": str(album.id), "name": album.name, "owner": user.id}))
        elif args.command == "create-community":
            try:
                com = store.create_community(args.name, args.title)
            except (AlreadyExists, ValueError) as exc:
                print(f"imgpipe: error: {exc}", file=sys.stderr)
                return 1
            print(json.dumps({"name": com.name, "title": com.title}))
        elif args.command == "list-apps":
            for app in store.list_applications():
                print(json.dumps({"name": app.name, "api_key": app.api_key, "permissions": sorted(app.permissions),
                                  "allowed": list(app.allowed_addresses), "daily_limit": app.daily_upload_limit}))
        elif args.command == "fsck":
            known = store.all_file_keys()
            files = svc.files
            orphans = [k for k in files.keys() if k not in known]
            temps = list(getattr(files, "temp_files", lambda: [])())
            missing = sorted(k for k in known if not files.exists(k))
            for k in orphans:
                print(json.dumps({"orphan": k}))
                if args.remove:
                    files.delete(k)
            for t in temps:
                print(json.dumps({"temporary": str(t)}))
                if args.remove:
                    t.unlink(missing_ok=True)
            for k in missing:
                print(json.dumps({"missing": k}))
            return 1 if missing else 0
    finally:
        svc.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
