"""Newsdesk's library, one sub-package per stage of the flow from files to answers.

``corpus`` (files into articles, sentences, passages) -> ``analysis`` (vectors and entities,
the models a build applies) -> ``storage`` (the index on disk) -> ``indexing`` (writing it) ->
``search`` (a question's passages) -> ``answering`` (the answer). A stage imports only the
stages before it, and ``errors``. Nothing here reads the environment or imports ``bot``:
callers pass every setting explicitly.
"""
