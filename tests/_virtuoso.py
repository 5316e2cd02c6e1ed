"""A throwaway Virtuoso (Debian's `virtuoso-opensource`) for the contract test and the benchmark.

`start(folder)` installs the package when it is missing (as root, non-interactively; otherwise
`Unavailable` with the reason), writes an ini whose database, ports (loopback only) and
allowed directories are all inside `folder`, starts `virtuoso-t +configfile <ini> +foreground`,
waits for its SPARQL endpoint and grants the anonymous `SPARQL` user the SPARQL_UPDATE role,
so that the Graph Store Protocol at /sparql-graph-crud accepts writes without a login.

The ini's `[SPARQL] DefaultGraph` names the graph a query without FROM reads
(`DEFAULT_GRAPH`): Virtuoso's default graph is otherwise every graph of the quad store, where
a triple held by two documents' graphs matches twice (the embedded store and an Oxigraph
server read a default graph holding each triple once). `kg load --default-graph` fills it.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEFAULT_GRAPH = "https://w3id.org/bcmkg/graph/default"


class Unavailable(Exception):
    """Virtuoso cannot be installed or started here (the reason is the message)."""


@dataclass
class Virtuoso:
    proc: subprocess.Popen[bytes]
    http: str               # http://127.0.0.1:PORT
    sql_port: int
    folder: Path

    @property
    def sparql(self) -> str:
        return self.http + "/sparql"

    @property
    def crud(self) -> str:
        return self.http + "/sparql-graph-crud"

    def isql(self, statements: str, timeout: float = 600) -> str:
        out = subprocess.run([_isql(), f"127.0.0.1:{self.sql_port}", "dba", "dba", "VERBOSE=OFF",
                              "BANNER=OFF", "PROMPT=OFF", "ECHO=OFF", "ERRORS=STDOUT"],
                             input=statements, capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0 or "*** Error" in out.stdout:
            raise RuntimeError(f"isql failed: {out.stdout[-800:]} {out.stderr[-800:]}")
        return out.stdout

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _isql() -> str:
    return shutil.which("isql-vt") or "isql-vt"


def install() -> str:
    """The path of virtuoso-t, installing Debian's package first when it is missing."""
    found = shutil.which("virtuoso-t")
    if found:
        return found
    if os.geteuid() != 0:
        raise Unavailable("virtuoso-t is not installed and installing it needs root "
                          "(apt-get install virtuoso-opensource)")
    if not shutil.which("apt-get"):
        raise Unavailable("virtuoso-t is not installed and there is no apt-get to install it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "virtuoso-opensource"]):
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if out.returncode != 0:
            raise Unavailable(f"{' '.join(cmd)} failed: {out.stderr[-400:]}")
    found = shutil.which("virtuoso-t")
    if not found:
        raise Unavailable("virtuoso-opensource installed but virtuoso-t is not on PATH")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ini(folder: Path, sql_port: int, http_port: int, buffers: int) -> str:
    db = folder / "db"
    db.mkdir(parents=True, exist_ok=True)
    vsp = Path("/var/lib/virtuoso-opensource-7/vsp")
    return f"""[Database]
DatabaseFile = {db}/virtuoso.db
ErrorLogFile = {db}/virtuoso.log
LockFile = {db}/virtuoso.lck
TransactionFile = {db}/virtuoso.trx
xa_persistent_file = {db}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {db}/virtuoso-temp.db
TransactionFile = {db}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {folder}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {buffers * 3 // 4}
ThreadsPerQuery = 2
MaxQueryMem = 1G
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp if vsp.is_dir() else folder}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0
[SPARQL]
ResultSetMaxRows = 10000000
; 0 = no limit: Virtuoso's cost estimate of the standard claim row's ~40 OPTIONALs runs to years
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 30
DefaultGraph = {DEFAULT_GRAPH}
"""


def start(folder: Path, buffers: int = 20000) -> Virtuoso:
    """A fresh, empty Virtuoso on loopback with its database in `folder` (Unavailable if it cannot run)."""
    exe = install()
    if not shutil.which("isql-vt"):
        raise Unavailable("virtuoso-t is installed but isql-vt is not")
    sql_port, http_port = _free_port(), _free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(_ini(folder, sql_port, http_port, buffers), encoding="utf-8")
    log = open(folder / "stdout.log", "wb")
    proc = subprocess.Popen([exe, "+configfile", str(ini), "+foreground"], cwd=folder,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/sparql?query=ASK%7B%7D", timeout=2).read()
            break
        except Exception:
            if proc.poll() is not None:
                raise Unavailable("virtuoso-t exited: "
                                  + (folder / "stdout.log").read_text(errors="replace")[-600:]) from None
            if time.monotonic() > deadline:
                proc.kill()
                raise Unavailable("virtuoso-t did not answer on /sparql within 120 s") from None
            time.sleep(0.2)
    server = Virtuoso(proc, base, sql_port, folder)
    try:
        server.isql('GRANT SPARQL_UPDATE TO "SPARQL";\n')
    except Exception:
        server.stop()
        raise
    return server
