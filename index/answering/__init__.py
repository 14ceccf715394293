"""The answering core: a parsed question, scored candidate sentences, the short answer.

Imports ``index.search``, ``index.storage`` (tokens, metadata), ``index.analysis`` (entity
spans) and ``index.corpus``; the front ends only render its ``Answer``.
"""
