"""A question's passages: dense and BM25 search fused over a loaded store.

Imports ``index.storage``, ``index.analysis`` (the question encoder) and ``index.errors``.
"""
