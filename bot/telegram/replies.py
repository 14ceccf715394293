"""The bot's own words: fixed replies and the plain-text lines of /start, /help, /stats...

Lines here are plain text; ``render.render_lines`` escapes them (article titles included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from bot.conversation import DEFAULT_MINUTES
from bot.engine import EngineStats
from bot.reports import changed_lines, newest_first, plural
from bot.telegram.access import QuestionLimiter
from bot.text_render import quote_lines
from index.answering.quotes import Quote
from index.indexing.builder import BuildReport
from index.storage.metadata import ArticleRecord

REFUSED = "Sorry, this bot is private."
ADMINS_ONLY = "Only the bot's admins can use this command."
EXPIRED = "This answer has expired. Please ask again."
SORRY = "Sorry, something went wrong on my side. Please try again in a moment."
EMPTY_QUESTION = "Ask me a question, for example: /ask Who is quoted in the articles?"
QUESTION_TOO_LONG = "That question is too long: please keep it under {limit} characters."
REINDEX_RUNNING = "A reindex is already running."
REINDEX_STARTED = "Reindexing the seeds folder; questions are answered meanwhile."
REINDEX_FAILED = "Reindex failed, the index is unchanged: {reason}"
VOTED = {"good": "Thanks: noted 👍", "bad": "Thanks: noted 👎, it helps us improve."}
READ_AS = "(read as: {question})"
FORGOTTEN = "Starting afresh: your next question is read on its own."

# Shapes of example questions for /start, filled with article titles in turn.
_EXAMPLE_SHAPES = (
    "What happened in “{title}”?",
    "Who is quoted in “{title}”?",
    "Where does “{title}” take place?",
)
_MAX_NAMED = 10
MAX_SOURCES_WORD = 100  # a /sources filter longer than any title is cut

REINDEXED = "Reindexed in"  # how the reindex report begins (the load bench waits for it)


def slow_down(limiter: QuestionLimiter, user_id: int) -> str:
    wait = max(1, math.ceil(limiter.seconds_until_free(user_id)))
    return (
        f"Slow down, please: at most {plural(limiter.per_minute, 'question')} a minute. "
        f"Try again in {wait} s."
    )


def date_range(articles: Sequence[ArticleRecord]) -> str | None:
    dates = sorted(article.date for article in articles if article.date)
    if not dates:
        return None
    return dates[0] if dates[0] == dates[-1] else f"from {dates[0]} to {dates[-1]}"


def example_questions(articles: Sequence[ArticleRecord], count: int = 3) -> list[str]:
    """Questions shaped like the ones the bot answers, about the newest articles."""
    if not articles:
        return []
    newest = sorted(articles, key=lambda a: a.date or "", reverse=True)
    return [
        shape.format(title=newest[number % len(newest)].title)
        for number, shape in enumerate(_EXAMPLE_SHAPES[:count])
    ]


def start_lines(articles: Sequence[ArticleRecord]) -> list[str]:
    dates = date_range(articles)
    known = f"I answer questions about {plural(len(articles), 'news article')}"
    lines = [known + (f" ({dates})." if dates else ".")]
    lines += [
        "Ask in plain words here; in a group, use /ask QUESTION or mention me.",
        "",
        "For example:",
        *(f"• {question}" for question in example_questions(articles)),
        "",
        "/sources lists the articles, /help explains the rest.",
    ]
    return lines


def help_lines(is_admin: bool, follow_up_minutes: float = DEFAULT_MINUTES) -> list[str]:
    follow_up = [
        "A follow-up such as “where is it based?” or “who said that?” is read with my last "
        f"answer in this chat (for {follow_up_minutes:g} minutes), or with the answer you "
        "reply to.",
    ]
    lines = [
        "Send me a question and I answer with the sentence from the articles that answers it, "
        "the short answer in bold, and where it comes from.",
        "“More” shows the next best passages, “Context” the whole passage; 👍 or 👎 tells us "
        "whether the answer was right (pressing again changes your vote).",
        "If the articles don't say, I tell you so and show the closest passage.",
        *(follow_up if follow_up_minutes > 0 else []),
        "",
        "/ask QUESTION: ask (in groups, or mention me, or reply to me)",
        "/sources: the newest articles I know (/sources WORD: those whose title holds WORD)",
        "/new: forget the last answer; the next question is read on its own",
        "/quotes NAME: what NAME said in the articles, newest first",
        "/start: what I know, with examples",
        "/help: this message",
    ]
    if is_admin:
        lines += ["", "Admins:", "/stats: index size, model, usage", "/reindex: reread the seeds"]
    return lines


def sources_lines(articles: Sequence[ArticleRecord], word: str = "") -> list[str]:
    """The newest ``NEWEST_SHOWN`` articles, or those whose title holds ``word``: one message.

    Listing every title cost 17 messages on 1,848 articles (157 on 50,000), all sent under the
    bot-wide send cap, so one user's ``/sources`` held up everyone's answers.
    """
    if not articles:
        return ["No article is indexed yet."]
    rows = [
        (a.date, a.title, f"• {a.title}" + (f" ({a.date})" if a.date else "")) for a in articles
    ]
    word = " ".join(word.split())[:MAX_SOURCES_WORD]
    lines = [
        f"{plural(len(articles), 'article')} indexed" + (f", matching “{word}”:" if word else ":")
    ]
    lines += newest_first(
        rows, match=word or None, older_hint="/sources WORD lists those whose title holds WORD"
    )
    return lines


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s"


def describe_stats(stats: EngineStats) -> list[str]:
    return [
        f"Index: {plural(stats.articles, 'article')}, {plural(stats.passages, 'passage')}, "
        f"{plural(stats.sentences, 'sentence')} (build {stats.build_id}).",
        f"Model: {stats.model}",
        f"Questions answered: {stats.questions}",
        f"Uptime: {format_duration(stats.uptime_seconds)}",
    ]


def describe_reindex(report: BuildReport, stats: EngineStats) -> list[str]:
    """What changed, for the admin who asked: counts, then the names of what moved."""
    lines = [
        f"{REINDEXED} {report.seconds:.1f} s: {len(report.added)} added, "
        f"{len(report.changed)} changed, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged.",
        *changed_lines(report),
        f"Now {plural(stats.articles, 'article')}, {plural(stats.sentences, 'sentence')}.",
    ]
    if report.skipped:
        lines.append(f"{plural(len(report.skipped), 'file')} skipped:")
        lines += [f"• {skipped}" for skipped in report.skipped[:_MAX_NAMED]]
    return lines


QUOTES_USAGE = "Say whose statements you want: /quotes NAME (for example /quotes Bali)."
MAX_QUOTES_SHOWN = 20  # a long list stays a few messages, not dozens


def quotes_lines(name: str, quotes: Sequence[Quote]) -> list[str]:
    """The statements by ``name`` (at most ``MAX_QUOTES_SHOWN``), or that there are none."""
    return quote_lines(name, quotes, MAX_QUOTES_SHOWN)
