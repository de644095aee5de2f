"""Real servers for the shared backends, started on 127.0.0.1 for the tests and the benchmarks.

- :class:`PostgresCluster`: a throwaway PostgreSQL cluster from Debian's ``postgresql`` package (initdb and
  pg_ctl refuse to run as root: as root they run as the ``postgres`` user), on a free port, in a temporary
  folder, removed by :meth:`PostgresCluster.stop`. Durability is off (a throwaway cluster). Each test
  gets a schema of its own in one database of the run (:meth:`PostgresCluster.new_schema`).
- :class:`S3Endpoint`: the S3-compatible server the tests use: ``moto_server`` (moto's standalone S3
  server, a separate process spoken to over HTTP exactly like any S3 endpoint), or, when
  ``PHOTOSERVICE_TEST_S3_ENDPOINT_URL`` is set, that endpoint (MinIO, AWS, ...) with the credentials of
  the usual ``AWS_*`` variables. One bucket per run; every test gets a prefix of its own in it.
- ``PHOTOSERVICE_TEST_POSTGRES_URL`` (an account that may create databases) likewise replaces the
  throwaway cluster by an existing server.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["PostgresCluster", "S3Endpoint", "free_port", "postgres_bin", "stop_process", "ServerUnavailable"]


class ServerUnavailable(RuntimeError):
    """A server's program is not installed (the message names the Debian package)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_process(proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Ask a server process to stop (SIGTERM), and kill it if it has not within ``timeout`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding initdb (Debian's layout), else one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _wait_for_port(port: int, proc: subprocess.Popen[Any] | None, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on port {port} within {timeout:g} s")


class PostgresCluster:
    """A PostgreSQL server for tests: a throwaway cluster, or an existing one (``admin_url``)."""

    def __init__(self, admin_url: str | None = None) -> None:
        self.admin_url = admin_url or ""
        self.folder: Path | None = None
        self._bin: Path | None = None
        self._user: str | None = None
        self._databases: list[str] = []

    # ------------------------------------------------------------------ life cycle
    def start(self) -> PostgresCluster:
        if self.admin_url:
            self._make_run_database()
            return self
        self._bin = postgres_bin()
        if self._bin is None:
            raise ServerUnavailable("PostgreSQL is not installed (Debian package: postgresql)")
        self._user = "postgres" if os.geteuid() == 0 else None
        self.folder = Path(tempfile.mkdtemp(prefix="photoservice-pg-"))
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        data = self.folder / "data"
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C")
        port = free_port()
        settings = (
            f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
            " -c shared_buffers=32MB"
        )
        self._run("pg_ctl", "start", "-D", str(data), "-w", "-t", "60", "-l", str(self.folder / "log"), "-o", settings)
        self.admin_url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        try:
            _wait_for_port(port, None, "PostgreSQL")
            self._make_run_database()
        except BaseException:
            self.stop()
            raise
        return self

    def _run(self, program: str, *args: str) -> None:
        assert self._bin is not None
        result = subprocess.run(
            [str(self._bin / program), *args],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=str(self.folder),
        )
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr or result.stdout}")

    def stop(self) -> None:
        """Stop the server and remove its folder; on an existing server, drop the databases made."""
        if self.folder is None:
            if self.admin_url:
                self._drop_databases()
            return
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w", "-t", "30")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    # ------------------------------------------------------------------ databases
    def _admin(self, database: str | None = None) -> Any:
        import psycopg

        return psycopg.connect(self.url(database) if database else self.admin_url, autocommit=True)

    def url(self, database: str, schema: str | None = None) -> str:
        """The URL of a database of this server (``schema``: the one its tables live in)."""
        import psycopg.conninfo

        params = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        user = params.get("user", "postgres")
        password = f":{params['password']}" if params.get("password") else ""
        url = f"postgresql://{user}{password}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{database}"
        return url + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def _make_run_database(self) -> None:
        self.run_database = f"photoservice_run_{secrets.token_hex(4)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.run_database}"')

    def new_schema(self) -> str:
        """The URL of a fresh, migrated schema in the run's database: what a test's service uses (a schema
        costs a few CREATE TABLEs, a database a copy of the template's catalogs, 10-20 times longer)."""
        from photoservice.storage.postgres import PostgresBackend

        schema = f"t_{secrets.token_hex(6)}"
        with self._admin(self.run_database) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        url = self.url(self.run_database, schema)
        backend = PostgresBackend(url)
        backend.migrate()
        backend.close()
        return url

    def new_database(self) -> str:
        """The URL of a new, empty database (no schema: for the tests of ``migrate`` itself)."""
        name = f"t_{secrets.token_hex(6)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return self.url(name)

    def _drop_databases(self) -> None:
        with self._admin() as conn:
            for name in [*self._databases, getattr(self, "run_database", None)]:
                if name:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.clear()


class S3Endpoint:
    """An S3-compatible endpoint and one bucket of this run: moto_server, or the configured one."""

    def __init__(self) -> None:
        self.url = os.environ.get("PHOTOSERVICE_TEST_S3_ENDPOINT_URL", "")
        self.external = bool(self.url)
        self.bucket = f"photoservice-test-{secrets.token_hex(6)}"
        self.env: dict[str, str] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None

    def start(self) -> S3Endpoint:
        if not self.external:
            # the one installed beside this interpreter (the test extra's), else one on PATH
            beside = Path(sys.executable).parent / "moto_server"
            program = str(beside) if beside.exists() else (shutil.which("moto_server") or "")
            if not program:
                raise RuntimeError("moto_server is missing: pip install 'moto[server]' (the test extra has it)")
            port = free_port()
            self._log = tempfile.TemporaryFile()
            self._proc = subprocess.Popen(
                [program, "-H", "127.0.0.1", "-p", str(port)], stdout=self._log, stderr=subprocess.STDOUT
            )
            self.url = f"http://127.0.0.1:{port}"
            # moto accepts any credentials; these keep boto3 from looking for real ones.
            self.env = {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_SESSION_TOKEN": "",
                "AWS_PROFILE": "",
            }
            try:
                _wait_for_port(port, self._proc, "moto_server")
            except BaseException:
                self.stop()
                raise
        for name, value in self.env.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
        client = self.client()
        region = client.meta.region_name
        if region and region != "us-east-1":  # AWS wants the region named outside us-east-1
            client.create_bucket(Bucket=self.bucket, CreateBucketConfiguration={"LocationConstraint": region})
        else:
            client.create_bucket(Bucket=self.bucket)
        return self

    @property
    def pid(self) -> int | None:
        """The process id of moto_server (None for an external endpoint)."""
        return self._proc.pid if self._proc is not None else None

    def client(self) -> Any:
        import boto3
        import botocore.config

        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, config=botocore.config.Config(s3={"addressing_style": "path"})
        )

    def storage_url(self) -> str:
        """A fresh ``s3://BUCKET/PREFIX`` of this run's bucket."""
        return f"s3://{self.bucket}/t{secrets.token_hex(6)}"

    def objects(self, storage_url: str) -> list[str]:
        """The names of the objects under a storage URL's prefix."""
        prefix = storage_url.split("/", 3)[3] + "/"
        names = []
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            names.extend(item["Key"] for item in page.get("Contents", ()))
        return names

    def stop(self) -> None:
        """Remove the bucket (an external endpoint) and stop moto_server."""
        if self.external:
            try:
                client = self.client()
                for page in client.get_paginator("list_object_versions").paginate(Bucket=self.bucket):
                    doomed = [
                        {"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                    ]
                    if doomed:
                        client.delete_objects(Bucket=self.bucket, Delete={"Objects": doomed})
                for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket):
                    for upload in page.get("Uploads", ()):
                        client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                client.delete_bucket(Bucket=self.bucket)
            except Exception:  # noqa: BLE001 - cleanup of an external bucket is best effort
                pass
        if self._proc is not None:
            stop_process(self._proc, timeout=10)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
