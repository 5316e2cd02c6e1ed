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
import io
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ..errors import KGError
from ..formats import GRAPH_TYPES, RESULT_TYPES, answer_bytes, negotiate, rdf_bytes, solutions
from .guard import EndpointError, check_query

if TYPE_CHECKING:
    from ..store import Store

__all__ = ["Limits", "EngineSpec", "WorkerPool", "answer_query", "answer_named", "drop_network"]

Answer = tuple[int, str, bytes]   # (HTTP status, format key or "text", body)


@dataclass(frozen=True)
class Limits:
    """What bounds one answer: seconds, rows or triples, hosts SERVICE may call."""

    timeout: float
    max_results: int
    allow_service: tuple[str, ...] = ()


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


# --- one answer ---------------------------------------------------------------------------

class _LineCap(io.RawIOBase):
    """A write target that refuses more than `lines` lines, so the serialiser stops pulling
    solutions from the engine once the answer is known to be too large."""

    def __init__(self, lines: int):
        super().__init__()
        self.lines, self.seen, self.buf, self.over = lines, 0, bytearray(), False

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.seen += chunk.count(b"\n")
        self.buf += chunk
        if self.seen > self.lines:
            self.over = True
            raise OSError("result limit reached")
        return len(chunk)


def capped_select(answer: ox.QuerySolutions, key: str, cap: int, too_many: str) -> bytes:
    """SELECT results in format `key`, refused (422) past `cap` rows.

    Counted on the TSV form, where a row is exactly one line (newlines inside literals are
    escaped), then re-written by pyoxigraph in the format asked for: the library's writers
    throughout, and the engine is never read far past the limit.
    """
    out = _LineCap(cap + 1)          # the header line, then at most `cap` rows
    try:
        answer.serialize(out, format=ox.QueryResultsFormat.TSV)  # type: ignore[arg-type]  # any binary writer
    except OSError:
        if out.over:
            raise EndpointError(422, too_many) from None
        raise
    tsv = bytes(out.buf)
    if key == "tsv":
        return tsv
    return answer_bytes(ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV), key)


def triples_table(triples: list[ox.Triple]) -> bytes:
    """A CONSTRUCT answer as SPARQL results JSON (subject, predicate, object), for the HTML view."""
    from ..store import Result
    rows: list[dict[str, Any]] = [{"subject": t.subject, "predicate": t.predicate, "object": t.object}
                                  for t in triples]
    return answer_bytes(solutions(Result(["subject", "predicate", "object"], rows)), "json")


def answer_query(store: Store, text: str, accept: str | None, fmt: str | None,
                 limits: Limits, context: dict[str, Any] | None = None) -> Answer:
    """Check, run and serialise one /sparql query: (status, format key, body). Runs in a worker.

    The HTML view ("html") gets SPARQL results JSON, which the server turns into a table.
    """
    try:
        kind = check_query(text, limits.allow_service)
        graph = kind in ("CONSTRUCT", "DESCRIBE")
        offers = GRAPH_TYPES if graph else RESULT_TYPES
        key = negotiate(accept, offers, fmt)
        if key is None:
            raise EndpointError(406, f"cannot answer a {kind} query as {fmt or accept}; "
                                     f"offered: {', '.join(offers)}")
        cap = limits.max_results
        too_many = (f"the result has more than {cap} {'triples' if graph else 'rows'} (this endpoint's "
                    f"limit); add a LIMIT, or narrow the query")
        answer = store.raw(text)
        if isinstance(answer, ox.QueryBoolean):
            return 200, key, answer_bytes(answer, "json" if key == "html" else key)
        if isinstance(answer, ox.QueryTriples):
            triples = list(islice(answer, cap + 1))
            if len(triples) > cap:
                raise EndpointError(422, too_many)
            return 200, key, triples_table(triples) if key == "html" else rdf_bytes(triples, key, context)
        return 200, key, capped_select(answer, "json" if key == "html" else key, cap, too_many)
    except EndpointError as err:
        return err.status, "text", str(err).encode()
    except SyntaxError as err:
        return 400, "text", f"malformed query: {err}".encode()
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
    conn.send(("ready", isolated))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request[0] == "named":
            conn.send(answer_named(store, request[1], request[2], request[3], limits, folder))
        else:
            conn.send(answer_query(store, request[1], request[2], request[3], limits, context))


class WorkerPool:
    """Runs queries in killable processes: a worker that overruns the time limit is replaced."""

    def __init__(self, spec: EngineSpec, limits: Limits, size: int, context: dict[str, Any] | None,
                 folder: Path):
        self.spec, self.limits, self.size, self.context, self.folder = spec, limits, size, context, folder
        self.ctx = multiprocessing.get_context("spawn")
        self.idle: asyncio.Queue[tuple[Any, Any]] | None = None
        self.isolated = False
        self.procs: set[Any] = set()

    async def start(self) -> None:
        self.idle = asyncio.Queue()
        await asyncio.gather(*(self._add() for _ in range(self.size)))

    async def _add(self) -> None:
        assert self.idle is not None
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
        self.idle.put_nowait((proc, parent))

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

    async def run(self, *request: Any) -> Answer:
        """Send ("sparql", text, accept, format) or ("named", name, values, format) to a worker."""
        assert self.idle is not None
        t = self.limits.timeout
        try:
            proc, conn = await asyncio.wait_for(self.idle.get(), t)
        except TimeoutError:
            return 503, "text", f"all query workers are busy; try again (time limit {t:g} s)".encode()
        try:
            conn.send(request)
            await self._readable(conn, t)
            answer: Answer = conn.recv()
        except (TimeoutError, EOFError, OSError) as err:
            proc.kill()
            proc.join(1)
            self.procs.discard(proc)
            conn.close()
            asyncio.get_running_loop().create_task(self._add())
            if isinstance(err, asyncio.TimeoutError):
                return 503, "text", (f"query stopped: it ran longer than this endpoint's time limit "
                                     f"of {t:g} s; add a LIMIT or narrow the query").encode()
            return 500, "text", f"query worker failed: {err}".encode()
        self.idle.put_nowait((proc, conn))
        return answer

    def stop(self) -> None:
        for proc in list(self.procs):
            proc.kill()
        self.procs.clear()
