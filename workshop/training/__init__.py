"""Training the project's learned parts: the answer model and the reader (``newsdesk train``).

Reads the question sets and benchmark indexes of ``workshop.bench``; writes the files that
``index.answering`` loads.
"""
