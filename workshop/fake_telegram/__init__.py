"""A fake Telegram Bot API on 127.0.0.1: the tests and ``bench load`` run the real bot on it.

Not part of the bot: nothing in ``bot.telegram`` imports it.
"""
