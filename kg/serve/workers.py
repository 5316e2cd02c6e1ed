"""Time-limited query workers: every user query runs in a process the server can kill.

Why processes: an embedded engine cannot be interrupted in the middle of a query, so the only
hard time limit is a process we can kill. Each worker opens its own store (the release's
on-disk store read-only, so N workers share one copy on disk; or the remote endpoint), checks
the query, runs it, stops reading at `max_results + 1` and serialises. The server waits
`query_timeout` seconds, then kills and replaces the worker.
"""
from __future__ import annotations

import asyncio
import ctypes
import functools
import io
import math
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ..errors import KGError, QueryError
from ..formats import EXTENSION, GRAPH_TYPES, RESULT_TYPES, answer_bytes, negotiate, rdf_bytes, solutions
from ..rdf import check_iri
from .guard import EndpointError, check_query

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["ServeConfig", "named_queries", "run_sync", "Limits", "EngineSpec", "WorkerPool", "answer_query",
           "answer_named", "drop_network"]

Answer = tuple[int, str, bytes]   # (HTTP status, format key or "text", body)


@dataclass(frozen=True)
class Limits:
    """What bounds one answer: seconds, rows or triples, hosts SERVICE may call."""

    timeout: float
    max_results: int
    allow_service: tuple[str, ...] = ()
    max_bytes: int = 50_000_000          # bytes of one answer, as written
    base_iri: str = "https://w3id.org/bcmkg/"   # relative IRIs in a query resolve against it


@dataclass
class EngineSpec:
    """Picklable recipe for a worker's own store: the release folder or the endpoint, never a
    store object (an open store does not cross a process boundary). `opener` defaults to
    `kg.store.open_store`; it must be a module-level function so that it pickles."""

    release: str | None = None
    endpoint: str | None = None
    isolate_network: bool = False
    opener: Callable[..., Store] | None = None

    def open(self) -> Store:
        from ..store import open_store
        opener = self.opener or open_store
        return opener(Path(self.release) if self.release else None, self.endpoint)


@dataclass
class ServeConfig:
    """What to serve and how hard to bound it. `release` (its files, and the store the workers
    open) or `endpoint` (a remote store); `queries` defaults to the project's queries/."""

    release: Path | None = None
    endpoint: str | None = None
    query_timeout: float = 10.0
    max_results: int = 10_000
    allow_service: list[str] = field(default_factory=list)
    cors: list[str] = field(default_factory=list)
    workers: int = 2
    queries: Path | None = None
    max_query_bytes: int = 1_000_000        # a request body, or a query in the URL
    max_answer_bytes: int = 50_000_000      # one /sparql answer, as written
    express_seconds: float = 1.0            # the express worker's limit (short queries while others run)


def _fmt_from_path(path: str) -> tuple[str, str | None]:
    """Split `/vocab/X.ttl` into (`/vocab/X`, 'ttl'); a dot inside an id stays."""
    for key, ext in EXTENSION.items():
        if path.endswith("." + ext):
            return path[: -len(ext) - 1], key
    return path, None


def _valid_iri(iri: str) -> bool:
    try:
        check_iri(iri)
    except QueryError:
        return False
    return True


@functools.lru_cache(maxsize=4)
def _load_queries(folder: str, stamp: tuple[tuple[str, int], ...]) -> list[Any]:
    from ..query import load_queries
    return list(load_queries(Path(folder)).values())


def named_queries(folder: Path) -> list[Any]:
    """The query library (kg.query reads and checks the .rq headers); re-read when a file changes."""
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(Path(folder).glob("*.rq")))
    return _load_queries(str(folder), stamp)


async def run_sync(fn: Callable[..., Any], *args: Any) -> Any:
    """Store calls block; run them off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


# --- one answer ---------------------------------------------------------------------------

class _LineCap(io.RawIOBase):
    """A write target that refuses more than `lines` lines, so the serialiser stops pulling
    solutions from the engine once the answer is known to be too large."""

    def __init__(self, lines: int, max_bytes: int | None = None):
        super().__init__()
        self.lines, self.seen, self.buf, self.over = lines, 0, bytearray(), False
        self.max_bytes, self.too_big = max_bytes, False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.seen += chunk.count(b"\n")
        self.buf += chunk
        if self.seen > self.lines:
            self.over = True
            raise OSError("result limit reached")
        if self.max_bytes is not None and len(self.buf) > self.max_bytes:
            self.too_big = True
            raise OSError("byte limit reached")
        return len(chunk)


def too_large(max_bytes: int) -> EndpointError:
    return EndpointError(422, f"the answer is larger than {max_bytes:,} bytes (this endpoint's limit on "
                              f"one answer); add a LIMIT, select fewer or shorter values, or narrow the query")


def capped_select(answer: ox.QuerySolutions, key: str, cap: int, too_many: str,
                  max_bytes: int | None = None) -> bytes:
    """SELECT results in format `key`, refused (422) past `cap` rows.

    Counted on the TSV form, where a row is exactly one line (newlines inside literals are
    escaped), then re-written by pyoxigraph in the format asked for: the library's writers
    throughout, and the engine is never read far past the limit.
    """
    out = _LineCap(cap + 1, max_bytes)   # the header line, then at most `cap` rows
    try:
        answer.serialize(out, format=ox.QueryResultsFormat.TSV)  # type: ignore[arg-type]  # any binary writer
    except OSError:
        if out.over:
            raise EndpointError(422, too_many) from None
        if out.too_big and max_bytes is not None:
            raise too_large(max_bytes) from None
        raise
    tsv = bytes(out.buf)
    body = tsv if key == "tsv" else answer_bytes(ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV), key)
    if max_bytes is not None and len(body) > max_bytes:
        raise too_large(max_bytes)
    return body


def triples_table(triples: list[ox.Triple]) -> bytes:
    """A CONSTRUCT answer as SPARQL results JSON (subject, predicate, object), for the HTML view."""
    from ..store import Result
    rows: list[dict[str, Any]] = [{"subject": t.subject, "predicate": t.predicate, "object": t.object}
                                  for t in triples]
    return answer_bytes(solutions(Result(["subject", "predicate", "object"], rows)), "json")


def with_base(text: str, base: str) -> str:
    """The query with `BASE <base>` in front, so relative IRIs (`<s>`) resolve against the
    server's own base; a BASE the query declares comes later and wins (SPARQL's Prologue)."""
    return f"BASE <{base}> " + text if base else text


def answer_query(store: Store, text: str, accept: str | None, fmt: Any,
                 limits: Limits, context: dict[str, Any] | None = None,
                 dataset: tuple[list[str], list[str]] | None = None) -> Answer:
    """Check, run and serialise one /sparql query: (status, format key, body). Runs in a worker.

    `fmt` is the `format=` value(s); `dataset` the protocol's (default-graph-uri, named-graph-uri)
    lists, which override the query's FROM / FROM NAMED. The HTML view ("html") gets SPARQL
    results JSON, which the server turns into a table.
    """
    try:
        text = with_base(text, limits.base_iri)
        kind = check_query(text, limits.allow_service)
        graph = kind in ("CONSTRUCT", "DESCRIBE")
        offers = GRAPH_TYPES if graph else RESULT_TYPES
        key = negotiate(accept, offers, fmt)
        if key is None:
            raise EndpointError(406, f"cannot answer a {kind} query in the format asked for; "
                                     f"offered: {', '.join(offers)} (or format=json|xml|csv|tsv|ttl|jsonld|nt|rdf)")
        cap = limits.max_results
        too_many = (f"the result has more than {cap} {'triples' if graph else 'rows'} (this endpoint's "
                    f"limit); add a LIMIT, or narrow the query")
        if dataset is not None:
            if not hasattr(store, "has_default_graph"):
                raise EndpointError(400, "default-graph-uri / named-graph-uri are not supported when this "
                                         "server reads a remote endpoint; use FROM / FROM NAMED in the query")
            answer = store.raw(text, default_graph=dataset[0], named_graphs=dataset[1])  # type: ignore[call-arg]
        else:
            answer = store.raw(text)
        if isinstance(answer, ox.QueryBoolean):
            return 200, key, answer_bytes(answer, "json" if key == "html" else key)
        if isinstance(answer, ox.QueryTriples):
            triples = list(islice(answer, cap + 1))
            if len(triples) > cap:
                raise EndpointError(422, too_many)
            body = triples_table(triples) if key == "html" else rdf_bytes(triples, key, context)
            if len(body) > limits.max_bytes:
                raise too_large(limits.max_bytes)
            return 200, key, body
        return 200, key, capped_select(answer, "json" if key == "html" else key, cap, too_many, limits.max_bytes)
    except EndpointError as err:
        return err.status, "text", str(err).encode()
    except SyntaxError as err:
        return 400, "text", f"malformed query: {err}".encode()
    except KGError as err:            # the engine's own message: a syntax error is the client's
        status = 400 if str(err).startswith("SPARQL syntax error") else 500
        return status, "text", (str(err) if status == 400 else f"query failed: {err}").encode()
    except MemoryError:
        return 422, "text", b"the answer is too large for this endpoint's memory; narrow the query"
    except Exception as err:  # the engine's own failure, e.g. a remote endpoint down
        return 500, "text", f"query failed: {type(err).__name__}: {err}".encode()


def answer_named(store: Store, name: str, values: dict[str, str], fmt: str, limits: Limits,
                 folder: Path) -> Answer:
    """Run one named query through kg.query (its parameter checks and messages); runs in a worker."""
    from ..formats import format_result
    from ..query import run
    try:
        result = run(name, values, store, folder=folder)
        if len(result.rows) > limits.max_results:
            raise EndpointError(422, f"the result has more than {limits.max_results} rows (this "
                                     f"endpoint's limit); narrow the parameters")
        key = "csv" if fmt == "csv" else "json"
        return 200, key, format_result(result, key).encode()
    except EndpointError as err:
        return err.status, "text", str(err).encode()
    except KGError as err:
        return 400, "text", str(err).encode()
    except Exception as err:
        return 500, "text", f"query failed: {type(err).__name__}: {err}".encode()


# --- the processes ----------------------------------------------------------------------------

def drop_network() -> bool:
    """Move this process into an empty network namespace, so the engine cannot follow SERVICE.

    Best effort: needs root or unprivileged user namespaces; the parsed check still applies.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(0x40000000) == 0:  # CLONE_NEWNET
            return True
        return bool(libc.unshare(0x10000000 | 0x40000000) == 0)  # CLONE_NEWUSER | CLONE_NEWNET
    except Exception:
        return False


def _worker_main(conn: Any, spec: EngineSpec, limits: Limits, context: dict[str, Any] | None,
                 folder: Path) -> None:
    isolated = drop_network() if spec.isolate_network else False
    store = spec.open()
    if limits.allow_service and hasattr(store, "allow_service"):
        store.allow_service = True   # the guard has checked each SERVICE host against the list
    check_query("ASK {}")            # import the parser now: the first query would pay ~1 s for it
    conn.send(("ready", isolated))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] == "named":
            conn.send(answer_named(store, request[1], request[2], request[3], limits, folder))
        else:
            conn.send(answer_query(store, request[1], request[2], request[3], limits, context,
                                   request[4] if len(request) > 4 else None))


class WorkerPool:
    """Runs queries in killable processes: a worker that overruns the time limit is replaced.

    `size` general workers, plus one express worker kept for short queries: when every general
    worker is busy (long queries running), a query goes to the express worker with a time limit
    of `express_seconds`; if it needs longer it is stopped there and waits for a general worker.
    So a few long queries never make a trivial one wait for them.
    """

    def __init__(self, spec: EngineSpec, limits: Limits, size: int, context: dict[str, Any] | None,
                 folder: Path, express_seconds: float = 1.0):
        self.spec, self.limits, self.size, self.context, self.folder = spec, limits, size, context, folder
        self.express_seconds = express_seconds
        self.ctx = multiprocessing.get_context("spawn")
        self.idle: asyncio.Queue[tuple[Any, Any]] | None = None
        self.express: asyncio.Queue[tuple[Any, Any]] | None = None
        self.isolated = False
        self.procs: set[Any] = set()

    async def start(self) -> None:
        self.idle, self.express = asyncio.Queue(), asyncio.Queue()
        await asyncio.gather(*(self._add(self.idle) for _ in range(self.size)), self._add(self.express))

    async def _add(self, queue: asyncio.Queue[tuple[Any, Any]] | None = None) -> None:
        queue = queue if queue is not None else self.idle
        assert queue is not None
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker_main, daemon=True,
                                args=(child, self.spec, self.limits, self.context, self.folder))
        proc.start()
        child.close()
        self.procs.add(proc)
        try:
            await self._readable(parent, 120)
            _, self.isolated = parent.recv()
        except Exception:
            proc.kill()
            self.procs.discard(proc)
            raise
        queue.put_nowait((proc, parent))

    @staticmethod
    async def _readable(conn: Any, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)
        loop.add_reader(conn.fileno(), ready)
        try:
            await asyncio.wait_for(fut, timeout)
        finally:
            loop.remove_reader(conn.fileno())

    def retry_after(self) -> int:
        """Seconds after which a worker is sure to be free again (the time limit, rounded up)."""
        return max(1, math.ceil(self.limits.timeout))

    async def _ask(self, proc: Any, conn: Any, request: tuple[Any, ...], seconds: float,
                   home: asyncio.Queue[tuple[Any, Any]]) -> Answer | None:
        """The worker's answer, or None when it ran past `seconds` (it is then replaced)."""
        try:
            conn.send(request)
            await self._readable(conn, seconds)
            answer: Answer = conn.recv()
        except (TimeoutError, EOFError, OSError) as err:
            proc.kill()
            proc.join(1)
            self.procs.discard(proc)
            conn.close()
            asyncio.get_running_loop().create_task(self._add(home))
            if isinstance(err, asyncio.TimeoutError):
                return None
            return 500, "text", f"query worker failed: {err}".encode()
        home.put_nowait((proc, conn))
        return answer

    async def run(self, *request: Any) -> Answer:
        """Send ("sparql", text, accept, format, dataset) or ("named", name, values, format) to a worker."""
        assert self.idle is not None and self.express is not None
        t = self.limits.timeout
        loop = asyncio.get_running_loop()
        started = loop.time()
        if self.idle.empty() and not self.express.empty() and self.express_seconds < t:
            proc, conn = self.express.get_nowait()
            answer = await self._ask(proc, conn, request, self.express_seconds, self.express)
            if answer is not None:
                return answer
        try:
            proc, conn = await asyncio.wait_for(self.idle.get(), max(0.01, t - (loop.time() - started)))
        except TimeoutError:
            return 503, "busy", (f"all query workers are busy with long queries; retry in "
                                 f"{self.retry_after()} s (queries that finish within "
                                 f"{self.express_seconds:g} s are answered at once)").encode()
        answer = await self._ask(proc, conn, request, t, self.idle)
        if answer is None:
            return 503, "timeout", (f"query stopped: it ran longer than this endpoint's time limit "
                                    f"of {t:g} s; add a LIMIT or narrow the query").encode()
        return answer

    def stop(self) -> None:
        for proc in list(self.procs):
            proc.kill()
        self.procs.clear()
