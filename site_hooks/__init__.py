"""Build-time code of the course site: the MkDocs hooks, the diagrams, notebook preparation.

``mkdocs.yml`` loads :mod:`site_hooks.mkdocs_hooks`; the other modules do one job each and
are imported by it and by ``tests/test_site.py``.
"""
