"""JSON-LD, compacted with our context: one writer for the release's graph.jsonld and the server.

The context is derived from the claim model (a term per claim property, figures typed
xsd:decimal, term-valued properties as @id) plus our prefixes; the writer does the JSON-LD
compaction algorithm's term selection for the subset of JSON-LD that context uses, streaming one
node object per subject, so pyld's compaction of the expanded file gives the file again.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

import pyoxigraph as ox

from .rdf import PREFIXES, XSD_STRING, compact

__all__ = ["jsonld_context", "jsonld_nodes", "jsonld_document"]


def jsonld_context() -> dict[str, object]:
    """Our published JSON-LD @context: prefixes, plus a term for every claim property of the claim
    model (figures typed xsd:decimal so numbers stay exact, term-valued properties as @id)."""
    from .model import jsonld_terms
    ctx: dict[str, object] = dict(PREFIXES)
    ctx.update(jsonld_terms())
    ctx["label"] = "rdfs:label"
    return {"@context": ctx}


_RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class _Compactor:
    """JSON-LD term selection for the subset of JSON-LD our context uses (no containers, no
    languages on terms): a property becomes a term when the term's @id and @type fit the value,
    else a compact IRI; values are the compacted forms the JSON-LD compaction algorithm gives."""

    def __init__(self, context: dict[str, object]):
        self.terms: dict[tuple[str, str], str] = {}       # (property IRI, type or "" or "@id") -> term
        for term, definition in context.items():
            if isinstance(definition, dict):
                iri, kind = self.iri(str(definition["@id"]), context), str(definition.get("@type", ""))
                self.terms[(iri, self.iri(kind, context) if kind and kind != "@id" else kind)] = term
            elif ":" in str(definition) and not str(definition).endswith(("/", "#")):
                self.terms[(self.iri(str(definition), context), "")] = term

    @staticmethod
    def iri(value: str, context: dict[str, object]) -> str:
        prefix, _, local = value.partition(":")
        base = context.get(prefix)
        return f"{base}{local}" if isinstance(base, str) and local and not local.startswith("//") else value

    def key_and_value(self, predicate: str, obj: object) -> tuple[str, object]:
        if isinstance(obj, ox.Literal):
            kind = "" if obj.datatype.value == XSD_STRING and not obj.language else obj.datatype.value
            if obj.language:   # a term with neither @type nor @language also takes language-tagged strings
                key = self.terms.get((predicate, "")) or compact(predicate, ours_only=True)
                return key, {"@value": obj.value, "@language": obj.language}
            term = self.terms.get((predicate, kind))
            if term:
                return term, obj.value
            if not kind:
                return compact(predicate, ours_only=True), obj.value
            return compact(predicate, ours_only=True), {"@value": obj.value, "@type": compact(kind, ours_only=True)}
        node = node_id(obj)
        term = self.terms.get((predicate, "@id"))
        return (term, node) if term else (compact(predicate, ours_only=True), {"@id": node})


def node_id(term: object) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else compact(getattr(term, "value", str(term)),
                                                                           ours_only=True)


def jsonld_nodes(triples: Iterable[ox.Triple], context: dict[str, object]) -> Iterator[str]:
    """One compacted JSON-LD node object per subject, from triples grouped by subject."""
    compactor = _Compactor(context)
    node: dict[str, list[object]] = {}
    subject: object = None

    def done(n: dict[str, list[object]]) -> str:
        return json.dumps({k: v[0] if len(v) == 1 and k != "@graph" else v for k, v in n.items()},
                          ensure_ascii=False)

    for t in triples:
        if t.subject != subject:
            if node:
                yield done(node)
            subject, node = t.subject, {"@id": [node_id(t.subject)]}
        if t.predicate.value == _RDF_TYPE:
            node.setdefault("@type", []).append(node_id(t.object))
        else:
            key, value = compactor.key_and_value(t.predicate.value, t.object)
            node.setdefault(key, []).append(value)
    if node:
        yield done(node)


def jsonld_document(triples: Iterable[ox.Triple], context: dict[str, object] | None = None) -> Iterator[str]:
    """A whole compacted JSON-LD document (context inlined) in pieces, for files and responses.
    Triples must come grouped by subject (sorted N-Triples are)."""
    given = (context or jsonld_context())["@context"]
    ctx: dict[str, object] = dict(given) if isinstance(given, dict) else {}
    yield '{"@context": ' + json.dumps(ctx) + ',\n "@graph": [\n'
    first = True
    for node in jsonld_nodes(triples, ctx):
        yield ("" if first else ",\n") + node
        first = False
    yield "\n]}\n"
