"""Newsdesk's library: articles, passages, embeddings, the FAISS and BM25 indexes, and search.

Nothing here reads the environment or imports ``bot``: callers pass every setting explicitly.
"""
