"""``photoservice``: run the reference upload service and administer it (click).

``photoservice serve`` starts the ASGI app under uvicorn (127.0.0.1:8080; the data folder is the user's data
directory unless ``--data`` or ``PHOTOSERVICE_DATA`` says otherwise). The admin commands work on the same
database and storage: ``create-app``, ``create-user``, ``create-album``, ``create-community``, ``list-apps``,
``maintenance on|off``, ``fsck``, ``migrate``, ``import`` (copy an installation into another, e.g. SQLite +
folder into PostgreSQL + S3). ``serve --workers N`` runs N worker processes on one port. Every option of
``serve`` has a ``PHOTOSERVICE_*`` environment variable (``--help`` names them); the command line wins.
"""

from __future__ import annotations

import errno
import json
import logging
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .config import SETTINGS, Config

__all__ = ["main", "cli", "create_worker_app"]

log = logging.getLogger("photoservice")
_TYPES: dict[str, Any] = {"int": int, "float": float, "Path": click.Path(path_type=Path), "str": str}


def _options(serve: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The settings of :class:`~photoservice.config.Config` as click options (all for serve, storage for the rest)."""
    from dataclasses import fields

    types = {f.name: str(f.type) for f in fields(Config)}

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for name, setting in reversed(SETTINGS):
            if not serve and setting.serve_only:
                continue
            kind = types[name].replace(" | None", "")
            help_text = f"{setting.help} [env: {setting.env}]"
            if kind == "bool":
                fn = click.option(setting.option, name, is_flag=True, default=None, help=help_text)(fn)
            else:
                fn = click.option(setting.option, name, type=_TYPES[kind], default=None, help=help_text)(fn)
        return fn

    return decorate


def _config(**settings: Any) -> Config:
    try:
        return Config.from_env(**settings)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


class StartupError(click.ClickException):
    """The service cannot start (port taken, data folder not writable, ...); exits with status 2."""

    exit_code = 2


def _uses_data_dir(config: Config) -> bool:
    """Whether the database or the files live in the data folder (not for PostgreSQL + S3)."""
    return config.database is None or config.storage is None


def _describe(config: Config) -> str:
    from .storage import redacted_url

    return f"database {redacted_url(config.database_url)}, storage {config.storage_url}"


def _open(config: Config) -> Any:
    """The service's storage for an admin command (printed, so that the user sees which one is used)."""
    from .storage import SchemaMismatch, UnsupportedURL, open_storage
    from .storage.records import StoreUnavailable

    click.echo(f"photoservice: {_describe(config)}", err=True)
    try:
        if _uses_data_dir(config):
            Path(config.data_dir).mkdir(parents=True, exist_ok=True, mode=0o700)
        return open_storage(config)
    except (SchemaMismatch, UnsupportedURL, StoreUnavailable, OSError) as exc:
        raise StartupError(str(exc)) from exc


def _check_listening(config: Config) -> None:
    if config.port == 0:
        return
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((config.host, config.port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"port {config.port} on {config.host} is already in use (choose another with --port)"
                ) from exc
            raise StartupError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="fastmime", prog_name="photoservice", message="%(prog)s %(version)s")
def cli() -> None:
    """The photoservice reference upload service (uploadPhotos + up.photos.upload)."""


#: The account ``serve --demo`` creates, so that the page can be tried at once on a first run.
DEMO_USER = ("demo", "demo")


def _demo_account(catalog: Any) -> str | None:
    """Create the demo account when it is missing; its sign-in as words, or None once its password changed."""
    from .storage.records import AlreadyExists

    username, password = DEMO_USER
    if catalog.user_by_name(username) is None:
        try:
            catalog.create_user(username, password)
        except AlreadyExists:  # another process created it meanwhile
            pass
    if catalog.authenticate(username, password) is None:
        return None
    return f"sign in as {username}, password {password}"


def _ready_line(config: Config, port: int, demo: str | None) -> str:
    """The one plain line ``serve`` prints once it answers: where, how to sign in, where the data is."""
    if config.public_url:
        url = config.public_url.rstrip("/") + "/"
    else:
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(config.host, config.host)
        url = f"http://{f'[{host}]' if ':' in host else host}:{port}/"
    parts = [f"photoservice is up at {url}"]
    if demo:
        parts.append(demo)
    parts.append(f"data folder {Path(config.data_dir).resolve()}")
    return "; ".join(parts) + " (Ctrl+C stops it)"


@cli.command()
@_options(serve=True)
@click.option(
    "--demo",
    is_flag=True,
    envvar="PHOTOSERVICE_DEMO",
    help=f"create the local user {DEMO_USER[0]!r} (password {DEMO_USER[1]!r}) when it is missing, to try the "
    "page at once; never on a service others can reach [env: PHOTOSERVICE_DEMO]",
)
def serve(demo: bool, **settings: Any) -> None:
    """Run the service under uvicorn. Logs are JSON lines on stderr; once it answers, one plain line on stdout
    says where (and, with --demo, how to sign in)."""
    from .logs import setup_logging

    config = _config(**settings)
    setup_logging(config.log_level)
    if config.workers < 1:
        raise click.UsageError("--workers must be at least 1")
    data = Path(config.data_dir)
    if _uses_data_dir(config):
        try:
            data.mkdir(parents=True, exist_ok=True, mode=0o700)
            probe = data / ".write-probe"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError as exc:
            raise StartupError(f"the data folder {data.resolve()} is not writable: {exc.strerror or exc}") from exc
    _check_listening(config)
    import uvicorn

    from .http import ASGIApp, Service
    from .storage import SchemaMismatch, UnsupportedURL, redacted_url
    from .storage.records import AlreadyExists

    try:
        service = Service(config)
        service.files.check_writable()
    except (SchemaMismatch, UnsupportedURL) as exc:
        raise StartupError(str(exc)) from exc
    except Exception as exc:
        raise StartupError(f"cannot open the storage ({_describe(config)}): {exc}") from exc
    if not service.catalog.communities():
        try:
            service.catalog.create_community("default", "Default community")
        except AlreadyExists:  # another instance sharing the database made it meanwhile
            pass
    demo_line = _demo_account(service.catalog) if demo else None
    log.info(
        "service.start",
        extra={
            "host": config.host,
            "port": config.port,
            "workers": config.workers,
            "data": str(data.resolve()),
            "database": redacted_url(config.database_url),
            "storage": config.storage_url,
        },
    )
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_config": None,
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 5,
    }
    if config.workers > 1:
        _serve_workers(config, service, options, demo_line)
        return

    class AnnouncingServer(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started and not self.should_exit:
                bound = [sock.getsockname()[1] for srv in self.servers for sock in (srv.sockets or ())]
                click.echo(_ready_line(config, bound[0] if bound else config.port, demo_line))

    server = AnnouncingServer(uvicorn.Config(ASGIApp(service), **options))
    server.run()
    if not server.started:
        raise StartupError(f"uvicorn could not start on {config.host}:{config.port} (see the log above)")


def _serve_workers(config: Config, service: Any, options: dict[str, Any], demo_line: str | None) -> None:
    """``serve --workers N``: uvicorn binds the port and starts N worker processes accepting on it, each
    building the app from the ``PHOTOSERVICE_*`` environment (its supervisor restarts a worker that dies)."""
    import uvicorn

    service.close()  # the workers open their own connections
    if config.port == 0:  # a port chosen now, so that the ready line can name it
        with socket.socket(socket.AF_INET6 if ":" in config.host else socket.AF_INET) as probe:
            probe.bind((config.host, 0))
            options["port"] = config.port = probe.getsockname()[1]
    _export_settings(config)
    # uvicorn binds the socket first thing; connections then wait in its backlog until a worker accepts.
    click.echo(_ready_line(config, config.port, demo_line))
    uvicorn.run(f"{__name__}:create_worker_app", factory=True, workers=config.workers, **options)


def _export_settings(config: Config) -> None:
    """Put every setting of ``config`` into the ``PHOTOSERVICE_*`` environment (for worker processes)."""
    import os

    for name, setting in SETTINGS:
        value = getattr(config, name)
        if value is None:
            os.environ.pop(setting.env, None)
        elif isinstance(value, bool):
            os.environ[setting.env] = "1" if value else "0"
        else:
            os.environ[setting.env] = str(value)


def create_worker_app() -> Any:
    """The ASGI app of one ``photoservice serve --workers N`` process: JSON logs, then
    :func:`photoservice.http.asgi.create_app` configured from the ``PHOTOSERVICE_*`` environment."""
    from .http.asgi import create_app
    from .logs import setup_logging

    config = Config.from_env()
    setup_logging(config.log_level)
    return create_app(config)


def _print(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


@cli.command("create-app")
@_options(serve=False)
@click.argument("name")
@click.option(
    "--permission",
    multiple=True,
    metavar="PERM",
    help="extended permission, repeatable; 'photo_upload' makes uploads visible at once",
)
@click.option("--allow", multiple=True, metavar="ADDR", help="allowed source address or CIDR network, repeatable")
@click.option("--daily-limit", type=int, default=None, help="uploads per 24 hours (error 4 beyond)")
def create_app(
    name: str, permission: Sequence[str], allow: Sequence[str], daily_limit: int | None, **settings: Any
) -> None:
    """Register an application; prints its api_key and secret as JSON."""
    catalog, _ = _open(_config(**settings))
    app = catalog.create_application(name, permission, allow, daily_limit)
    _print(
        {
            "name": app.name,
            "api_key": app.api_key,
            "secret": app.secret,
            "permissions": sorted(app.permissions),
            "allowed": list(app.allowed_addresses),
        }
    )


@cli.command("create-user")
@_options(serve=False)
@click.argument("username")
@click.option("--password", default=None, help="the password (asked on the terminal when omitted)")
@click.option("--premium", is_flag=True, help="premium account: the 'full' original is listed")
def create_user(username: str, password: str | None, premium: bool, **settings: Any) -> None:
    """Create a user."""
    from .storage.records import AlreadyExists

    catalog, _ = _open(_config(**settings))
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    try:
        user = catalog.create_user(username, password, premium)
    except (AlreadyExists, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print({"uid": user.id, "username": user.username, "premium": user.premium})


@cli.command("create-album")
@_options(serve=False)
@click.argument("username")
@click.argument("name")
@click.option("--description", default="", help="the album's description")
def create_album(username: str, name: str, description: str, **settings: Any) -> None:
    """Create a regular album for a user; prints its aid."""
    catalog, _ = _open(_config(**settings))
    user = catalog.user_by_name(username)
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    album = catalog.create_album(user.id, name, description)
    _print({"aid": str(album.id), "name": album.name, "owner": user.id})


@cli.command("create-community")
@_options(serve=False)
@click.argument("name")
@click.option("--title", default="", help="the community's title")
def create_community(name: str, title: str, **settings: Any) -> None:
    """Create a community (the up.* 'community' argument)."""
    from .storage.records import AlreadyExists

    catalog, _ = _open(_config(**settings))
    try:
        community = catalog.create_community(name, title)
    except (AlreadyExists, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    _print({"name": community.name, "title": community.title})


@cli.command("list-apps")
@_options(serve=False)
def list_apps(**settings: Any) -> None:
    """Print every application as a JSON line."""
    catalog, _ = _open(_config(**settings))
    for app in catalog.applications():
        _print(
            {
                "name": app.name,
                "api_key": app.api_key,
                "permissions": sorted(app.permissions),
                "allowed": list(app.allowed_addresses),
                "daily_limit": app.daily_upload_limit,
            }
        )


@cli.command()
@_options(serve=False)
@click.argument("state", type=click.Choice(["on", "off"]))
def maintenance(state: str, **settings: Any) -> None:
    """Switch maintenance mode: both APIs answer 'service unavailable' on every worker."""
    catalog, _ = _open(_config(**settings))
    catalog.set_maintenance(state == "on")
    click.echo(f"maintenance {state}")


@cli.command()
@_options(serve=False)
@click.option("--remove", is_flag=True, help="remove the orphans and unfinished writes found")
@click.option(
    "--grace",
    type=float,
    default=None,
    show_default=True,
    help="leave files younger than this many seconds alone (default: 3600)",
)
def fsck(remove: bool, grace: float | None, **settings: Any) -> None:
    """Find files no photo names, unfinished writes and missing files; exit 1 when anything was found.

    Safe while the service runs: files younger than the grace period may belong to an upload in progress
    and are never touched."""
    from .storage.fsck import DEFAULT_GRACE
    from .storage.fsck import fsck as run_fsck

    catalog, files = _open(_config(**settings))
    report = run_fsck(catalog, files, now=time.time(), grace=DEFAULT_GRACE if grace is None else grace, remove=remove)
    for key in report.orphans:
        _print({"orphan": key, "removed": remove})
    for name in report.incomplete:
        _print({"incomplete": name, "removed": remove})
    for key in report.missing:
        _print({"missing": key})
    if report.young:
        click.echo(
            f"photoservice: {report.young} unreferenced file(s) younger than the grace period left alone", err=True
        )
    if not report.clean:
        sys.exit(1)


@cli.command()
@_options(serve=False)
def migrate(**settings: Any) -> None:
    """Create or upgrade the database schema (SQLite or PostgreSQL); safe to run from several places at once."""
    from .storage import UnsupportedURL, open_metadata, redacted_url
    from .storage.metadata import SCHEMA_VERSION
    from .storage.records import StoreUnavailable

    config = _config(**settings)
    click.echo(f"photoservice: database {redacted_url(config.database_url)}", err=True)
    try:
        backend = open_metadata(config.database_url)
        try:
            before = backend.migrate()
        finally:
            backend.close()
    except (UnsupportedURL, StoreUnavailable) as exc:
        raise StartupError(str(exc)) from exc
    if before > SCHEMA_VERSION:
        raise StartupError(
            f"the database schema is version {before}, newer than this photoservice "
            f"({SCHEMA_VERSION}): upgrade photoservice"
        )
    click.echo(
        f"schema version {before} -> {SCHEMA_VERSION}"
        if before != SCHEMA_VERSION
        else f"schema version {SCHEMA_VERSION}: up to date"
    )


@cli.command("import")
@_options(serve=False)
@click.option(
    "--from-database",
    "from_database",
    required=True,
    metavar="URL",
    help="the database to copy from, e.g. sqlite:///home/me/.local/share/photoservice/photoservice.sqlite3",
)
@click.option(
    "--from-storage",
    "from_storage",
    required=True,
    metavar="URL",
    help="the storage to copy from, e.g. file:///home/me/.local/share/photoservice/files",
)
@click.option(
    "--from-s3-endpoint-url",
    "from_s3_endpoint_url",
    default=None,
    metavar="URL",
    help="S3-compatible server of --from-storage (default: --s3-endpoint-url)",
)
def import_installation(
    from_database: str, from_storage: str, from_s3_endpoint_url: str | None, **settings: Any
) -> None:
    """Copy a whole installation (every row, and every file a row names) into the configured, empty one,
    keeping every id, key and secret: e.g. SQLite + folder to PostgreSQL + S3. Creates the destination's
    schema; files already copied are skipped, so an interrupted import can be run again."""
    from .storage import UnsupportedURL, open_files, open_metadata, redacted_url
    from .storage.records import StoreError
    from .storage.transfer import copy_installation

    config = _config(**settings)
    if from_database == config.database_url:
        raise click.UsageError("--from-database names the destination database itself")
    click.echo(f"photoservice: from database {redacted_url(from_database)}, storage {from_storage}", err=True)
    click.echo(f"photoservice: into {_describe(config)}", err=True)
    source = destination = None
    try:
        source = open_metadata(from_database)
        destination = open_metadata(config.database_url)
        destination.migrate()
        report = copy_installation(
            source,
            open_files(from_storage, s3_endpoint_url=from_s3_endpoint_url or config.s3_endpoint_url),
            destination,
            open_files(config.storage_url, fsync=config.fsync, s3_endpoint_url=config.s3_endpoint_url),
            progress=lambda message: click.echo(f"photoservice: {message}", err=True),
        )
    except (UnsupportedURL, StoreError) as exc:
        raise StartupError(str(exc)) from exc
    finally:
        for backend in (source, destination):
            if backend is not None:
                backend.close()
    for key in report.missing:
        _print({"missing": key})
    _print(
        {
            "files_copied": report.files_copied,
            "bytes_copied": report.bytes_copied,
            "files_already_there": report.files_present,
            "files_missing": len(report.missing),
            "rows": report.rows,
        }
    )
    if report.missing:
        sys.exit(1)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``photoservice`` console script."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="photoservice", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        return 130
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    return 0
