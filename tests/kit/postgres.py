"""A throwaway PostgreSQL cluster for the tests: a temp data dir, a free port, its unix socket
in the temp dir, started once per session; each test gets a fresh database cloned from a
migrated template (CREATE DATABASE ... TEMPLATE is a file copy: a few ms).

PostgreSQL refuses to run as root, so as root the cluster runs as a system user created here
(`cxbot-pg`). When the binaries are missing or the server does not start, the PostgreSQL tests
are skipped with the reason, except under CI=true, where that is a failure: CI must run them.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.kit.support import free_port

PG_USER = "cxbot-pg"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _version(path: str) -> int:
    try:
        return int(Path(path).parents[1].name)
    except ValueError:
        return 0


@dataclass
class Cluster:
    root: Path
    port: int
    bindir: Path
    as_user: str | None
    durable: bool = False  # fsync each commit (benchmarks); the tests do not need it

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    def url(self, dbname: str = "postgres") -> str:
        user = self.as_user or os.environ.get("USER", "postgres")
        return f"postgresql://{user}@127.0.0.1:{self.port}/{dbname}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_user:
            cmd = ["runuser", "-u", self.as_user, "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        data = self.root / "data"
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        if self.as_user:
            shutil.chown(self.root, self.as_user)
            shutil.chown(self.socket_dir, self.as_user)
        done = self._run("initdb", "-D", str(data), "-A", "trust", "-E", "UTF8", "--no-locale")
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        # Durability is not under test here and fsync per commit would slow the suite; many
        # connections: several replicas and their pools share the cluster.
        opts = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1"
            f" -c unix_socket_directories={self.socket_dir} -c max_connections=300"
        )
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        done = self._run(
            "pg_ctl", "-D", str(data), "-l", str(self.root / "log"), "-o", opts, "-w", "start"
        )
        if done.returncode:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()} {log[-2000:]}")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.root / "data"), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    if subprocess.run(["id", "-u", PG_USER], capture_output=True, check=False).returncode:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER],
            capture_output=True,
            check=True,
        )
    return PG_USER


def start_cluster(*, durable: bool = False) -> Cluster:
    """Raises RuntimeError with the reason when PostgreSQL cannot be started here."""
    bindir = _binaries()
    if bindir is None or not (bindir / "initdb").exists():
        raise RuntimeError(
            "PostgreSQL binaries not found (initdb/pg_ctl under /usr/lib/postgresql)"
        )
    user = _system_user()
    root = Path(tempfile.mkdtemp(prefix="cxbot-pg-"))
    os.chmod(root, 0o755)
    cluster = Cluster(root, free_port(), bindir, user, durable)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster


class Databases:
    """Fresh databases on a cluster, each a copy of one migrated template."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._lock = threading.Lock()
        self._template: str | None = None

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.cluster.url(), autocommit=True) as conn:
            conn.execute(sql)

    def _template_name(self) -> str:
        with self._lock:
            if self._template is None:
                from cxbot.store.pg import connect_pg, migrate_pg

                name = "cxbot_template"
                self._admin(f"CREATE DATABASE {name}")
                db = connect_pg(self.cluster.url(name))
                try:
                    migrate_pg(db)
                finally:
                    db.close()
                self._template = name
            return self._template

    def fresh(self, *, migrated: bool = True) -> str:
        """The URL of a new, empty (or migrated) database."""
        name = "t_" + uuid.uuid4().hex[:12]
        template = self._template_name() if migrated else "template0"
        self._admin(f"CREATE DATABASE {name} TEMPLATE {template}")
        return self.cluster.url(name)


@dataclass
class Engine:
    """One test's database on one engine: an SQLite file in tmp_path, or a fresh PostgreSQL
    database. `writer()` opens it the way the app does; `connect()` gives a handle for the
    test's own checks (autocommit)."""

    name: str  # "sqlite" or "postgres"
    path: Path
    url: str | None = None
    databases: Databases | None = None
    opened: list[Any] = field(default_factory=list)  # closed at the test's end (`close_all`)

    def another(self, name: str) -> Engine:
        """A second, separate database on the same engine (closed with this one)."""
        url = self.databases.fresh() if self.databases is not None else None
        other = Engine(self.name, self.path.with_name(name), url, self.databases, self.opened)
        return other

    def close_all(self) -> None:
        for db in self.opened:
            with contextlib.suppress(Exception):
                db.conn.close()
        self.opened.clear()

    @property
    def is_pg(self) -> bool:
        return self.url is not None

    def writer(self, **options: object) -> Any:
        from cxbot.store.pgwriter import PgWriter
        from cxbot.store.writer import Writer

        if self.url is not None:
            options.pop("synchronous", None)
            return PgWriter(self.url, path=self.path, **options)  # type: ignore[arg-type]
        return Writer(self.path, **options)  # type: ignore[arg-type]

    def connect(self) -> Any:
        from cxbot.store.pg import connect_pg
        from cxbot.store.writer import connect

        db = connect_pg(self.url) if self.url is not None else connect(self.path)
        self.opened.append(db)
        return db

    def migrated(self) -> Any:
        """A migrated handle (the writer migrates on start)."""
        w = self.writer()
        w.start()
        w.close()
        return self.connect()

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": self.url} if self.url is not None else {}
