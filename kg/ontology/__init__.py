"""The ontology: the tabular template and core.ttl merged into OWL, checked, and published.

Import from the submodules, so that reading terms never loads the OWL writer or HermiT:
`terms` (template rows, Term, TermIndex, load_terms), `build` (the OWL graph and the
reasoner), `qc` (the QC report; graph-level checks are queries/qc/*.rq) and `publish`
(SSSOM mappings and term pages).
"""
