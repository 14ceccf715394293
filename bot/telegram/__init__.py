"""The Telegram front end: renders the engine's ``Answer`` as chat messages.

``app.build_application`` wires the handlers; ``app.run_bot`` is what ``newsdesk telegram`` runs.
"""
