"""The SPARQL guard: what /sparql accepts, decided by parsing, never by string matching.

Why parse: a comment or a string holding "INSERT" or "SERVICE" is harmless, and a regex
would refuse it; an update hidden behind unusual whitespace is harmful, and a regex could
miss it. rdflib's parser decides the form; its algebra says where SERVICE calls go.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlparse

from ..errors import KGError

__all__ = ["EndpointError", "check_query"]

READ_ONLY = ("this endpoint is read-only: SPARQL Update (INSERT, DELETE, LOAD, CLEAR, CREATE, DROP, "
             "COPY, MOVE, ADD) is not accepted")
FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
         "DescribeQuery": "DESCRIBE"}

# Comments, strings and IRIs, blanked before the lexical SERVICE backstop looks at the text.
_LEX_NOISE = re.compile(r'#[^\n]*|"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'|"(?:\\.|[^"\\\n])*"'
                        r"|'(?:\\.|[^'\\\n])*'|<[^<>\"{}|^`\\\s]*>")
_SERVICE_WORD = re.compile(r"(?<![\w:])SERVICE(?![\w:])", re.IGNORECASE)


class EndpointError(KGError):
    """A request the endpoint answers with a 4xx/5xx status and a message meant for people."""

    def __init__(self, status: int, message: str):
        self.status = status
        super().__init__(message)


@functools.lru_cache(maxsize=512)
def check_query(text: str, allowed_hosts: tuple[str, ...] = ()) -> str:
    """Parse `text`; return SELECT/ASK/CONSTRUCT/DESCRIBE or raise EndpointError.

    Updates are recognised by parsing them as updates. SERVICE is found in the algebra,
    including inside EXISTS, OPTIONAL and subqueries; a SERVICE whose IRI is a variable is
    refused, as is any host not listed. A lexical backstop refuses the SERVICE keyword if the
    algebra walk did not see it, so a disagreement between rdflib's parser and the engine's
    can never let a call through.

    >>> check_query("SELECT * WHERE { ?s ?p ?o }")
    'SELECT'
    """
    from pyparsing import ParseException
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery, parseUpdate

    try:
        parsed = parseQuery(text)
    except ParseException as err:
        try:
            parseUpdate(text)
        except Exception:
            raise EndpointError(400, f"malformed query: {err}") from None
        raise EndpointError(403, READ_ONLY) from None
    except Exception as err:
        raise EndpointError(400, f"malformed query: {err}") from None
    try:
        algebra = translateQuery(parsed).algebra
    except Exception as err:
        raise EndpointError(400, f"malformed query: {type(err).__name__}: {err}") from None
    kind = FORMS.get(algebra.name)
    if kind is None:
        raise EndpointError(400, f"unsupported query form {algebra.name}")
    services = list(_services(algebra))
    for term in services:
        if not isinstance(term, str) or term.startswith("?") or type(term).__name__ == "Variable":
            raise EndpointError(403, f"SERVICE with a variable endpoint ({term}) is not allowed")
        host = urlparse(str(term)).hostname or ""
        if host not in allowed_hosts:
            allowed = ", ".join(allowed_hosts) or "none"
            raise EndpointError(403, f"SERVICE to {host or term!s} is not allowed "
                                     f"(hosts this endpoint may call: {allowed})")
    if not services and _SERVICE_WORD.search(_LEX_NOISE.sub(" ", text)):
        raise EndpointError(403, "SERVICE is not allowed (could not verify its endpoint)")
    return kind


def _services(node: Any) -> Iterable[Any]:
    """Every SERVICE term in an rdflib algebra tree (CompValue is a dict subclass)."""
    if isinstance(node, dict):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            yield node.get("term")
        for value in node.values():
            yield from _services(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _services(value)
