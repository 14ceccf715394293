"""``newsdesk console``: ask one question after another at a prompt with line editing.

GNU readline (in the standard library) gives line editing and a history kept across sessions.
A follow-up ("where is it based?") is read with the session's last answer, for
``FOLLOW_UP_MINUTES``; ``:new`` forgets it.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from bot.conversation import DEFAULT_MINUTES, Conversations, read_question, turn_of
from bot.engine import Engine
from bot.feedback import BAD, GOOD, FeedbackLog
from bot.reports import describe_error, newest_first
from bot.text_render import quote_lines, render_answer, render_more
from bot.watching import WatchThread
from index.answering.results import MORE_PAGE, Answer
from index.corpus.articles import printable
from index.errors import NewsdeskError

PROMPT = "newsdesk> "
HISTORY_FILE = Path.home() / ".newsdesk_history"
HISTORY_LENGTH = 1000
SESSION = "console"  # the one chat a console session is
READ_AS = "(read as: {question})"
FORGOTTEN = "Starting afresh: the next question is read on its own."
HELP = """Type a question and press Enter; a follow-up ("where is it based?") is read with
the last answer.
  :more      the next passages for the last question
  :context   the whole passage around the last answer
  :good      the last answer was right (:bad: it was not); saved to the feedback log
  :sources   the newest articles (:sources all, or :sources WORD to filter)
  :new       forget the last answer: the next question is read on its own
  :quotes NAME  what NAME said in the articles
  :help      this help
  :quit      leave (Ctrl-D works too)"""


# Words that are commands even without the colon: nobody asks the articles "help" or "quit".
_BARE_COMMANDS = frozenset({"help", "exit", "quit"})


class Console:
    """The state of one console session: the engine, the last answer and its memory."""

    def __init__(
        self,
        engine: Engine,
        write: Callable[[str], None],
        colour: bool,
        feedback: FeedbackLog | None = None,
        conversation: Conversations | None = None,
    ) -> None:
        self.engine = engine
        self.write = write
        self.colour = colour
        self.feedback = feedback
        self.conversation = conversation if conversation is not None else Conversations()
        self.last: Answer | None = None
        self.last_id = ""  # the last answer's id in the feedback log (a second vote replaces)
        self.more_shown = 0  # of the last answer's further passages, by :more so far

    def handle(self, line: str) -> bool:
        """Act on one input line; False when the session should end."""
        line = line.strip()
        if not line:
            return True
        if line.lower().rstrip(".!") in _BARE_COMMANDS:  # "help", "exit", "quit" as typed
            return self._command(line.lower().rstrip(".!"))
        if line.startswith(":"):
            command, _, argument = line[1:].partition(" ")
            if command.lower() == "quotes":
                self._quotes(argument.strip())
                return True
            if command.lower() == "sources" and argument.strip():
                self.write(self._sources(argument))
                return True
            return self._command(line[1:].lower())
        reading = read_question(self.conversation.previous(SESSION), line)
        if reading.rewritten:
            self.write(READ_AS.format(question=printable(reading.asked)))
        self.last = self.engine.ask(reading.asked)
        self.last_id = secrets.token_urlsafe(8)
        self.conversation.remember(SESSION, turn_of(self.last))
        self.more_shown = 0
        self.write(render_answer(self.last, colour=self.colour))
        return True

    def _command(self, name: str) -> bool:
        if name in {"quit", "q", "exit"}:
            return False
        if name == "help":
            self.write(HELP)
        elif name == "sources":
            self.write(self._sources())
        elif name == "new":
            self.conversation.forget(SESSION)
            self.write(FORGOTTEN)
        elif name in {"more", "context", GOOD, BAD} and self.last is None:
            self.write("Ask a question first.")
        elif name in {GOOD, BAD} and self.last is not None:
            self.write(self._vote(self.last, name))
        elif name == "more" and self.last is not None:
            first = self.more_shown
            page = self.last.more[first : first + MORE_PAGE]
            self.more_shown += len(page)
            self.write(render_more(page, colour=self.colour, first=first + 1))
        elif name == "context" and self.last is not None:
            source = self.last.source.line() if self.last.source else ""
            self.write(f"{self.last.context}\n— {source}")
        else:
            self.write(f"Unknown command ':{name}'. Type :help for the commands.")
        return True

    def _vote(self, answer: Answer, vote: str) -> str:
        if self.feedback is None:
            return "Feedback is not kept in this session."
        try:
            self.feedback.record(
                answer,
                vote,
                chat=f"console:{os.getuid()}",
                answer_id=self.last_id,
                build_id=self.engine.store.manifest.build_id,
            )
        except NewsdeskError as error:  # a read-only or full disk: say so, keep the session
            return f"Could not record your vote: {describe_error(error)}"
        return f"Thanks: noted {'👍' if vote == GOOD else '👎'} (a second vote replaces it)."

    def _quotes(self, name: str) -> None:
        if not name:
            self.write("Say whose statements: :quotes NAME")
            return
        self.write("\n".join(quote_lines(name, self.engine.quotes(name))))

    def _sources(self, argument: str = "") -> str:
        """``:sources``: the newest 20; ``:sources all``: every one; ``:sources WORD``: those
        whose title or file holds WORD."""
        articles = self.engine.articles()
        rows = [
            (
                a.date,
                f"{a.title} {a.path}",
                f"  {a.title} ({a.date or 'undated'}) {printable(a.path)}",
            )
            for a in articles
        ]
        word = argument.strip()
        show_all = word.lower() == "all"
        listed = newest_first(
            rows,
            match=None if show_all else word or None,
            show_all=show_all,
            more_hint=":sources all",
        )
        return "\n".join([f"{len(articles)} article(s) indexed:", *listed])


def run_console(
    engine: Engine,
    feedback: FeedbackLog | None = None,
    follow_up_minutes: float = DEFAULT_MINUTES,
    watch_seconds: float = 0,
) -> None:
    """Read questions until :quit or end of input; ``:good`` / ``:bad`` go to ``feedback``.

    With ``watch_seconds`` the seeds folder is watched meanwhile and the index updated; what
    changed ("2 articles added") is said between questions.
    """
    conversation = Conversations(follow_up_minutes)
    console = Console(
        engine, print, colour=sys.stdout.isatty(), feedback=feedback, conversation=conversation
    )
    interactive = sys.stdin.isatty()
    if interactive:
        _load_history()
        print(f"Newsdesk: {len(engine.articles())} article(s). Ask a question; :help for more.")
    notes: queue.SimpleQueue[str] = queue.SimpleQueue()
    watcher = WatchThread(engine, watch_seconds, notes.put) if watch_seconds > 0 else None
    if watcher is not None:
        watcher.start()
    try:
        while True:
            _say_notes(notes)
            try:
                line = input(PROMPT if interactive else "")
            except EOFError:
                break
            except KeyboardInterrupt:
                print()
                continue
            if not console.handle(line):
                break
    finally:
        if watcher is not None:
            watcher.stop()
        if interactive:
            _save_history()


def _say_notes(notes: queue.SimpleQueue[str]) -> None:
    """What the watch did since the last question, one line each ("2 articles added")."""
    while True:
        try:
            print(f"({notes.get_nowait()})")
        except queue.Empty:
            return


def _load_history() -> None:
    try:
        import readline
    except ImportError:  # no readline on this platform: plain input still works
        return
    readline.set_history_length(HISTORY_LENGTH)
    with contextlib.suppress(OSError):
        readline.read_history_file(HISTORY_FILE)


def _save_history() -> None:
    try:
        import readline
    except ImportError:
        return
    with contextlib.suppress(OSError):
        readline.write_history_file(HISTORY_FILE)
