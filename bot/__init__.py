"""Newsdesk's front ends: the command line, the console and the Telegram bot."""
