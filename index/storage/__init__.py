"""The index on disk: FAISS, BM25, SQLite metadata, the manifest, the folder that owns a build.

Imports ``index.corpus``, ``index.analysis`` and ``index.errors``; writes nothing on its own
(``index.indexing`` decides what goes where).
"""
