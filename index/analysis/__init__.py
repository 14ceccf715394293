"""What the models make of text: sentence vectors, the question encoder, entities.

Imports ``index.corpus`` and ``index.errors``; heavy libraries (torch, spaCy) only inside the
functions that need them, so the question path never loads them.
"""
