"""The users of ``newsdesk bench load``: a fake Bot API and the chats that talk to the bot.

This runs in a child process, as Telegram's servers and its users are not in the bot's process:
sharing the bot's interpreter lock with them would charge their work to the bot. It imports
no model, no index and no torch. ``serve_users`` starts the fake server, hands its URL to the
bench, plays every chat once told to start, checks each reply, and sends back a ``Tally``.

Each chat asks its next question as soon as the answer to the previous one arrives, so the bot
always has a backlog. Meanwhile an admin sends ``/reindex`` a few times, each after a new
article was added to the seeds; each reply must match the index it was asked against, and a
question about the new article, asked once the swap is reported, must be answered from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path

from bot.telegram.replies import REINDEXED
from workshop.fake_telegram.rules import ApiCall
from workshop.fake_telegram.server import FakeBotApi

FIRST_CHAT = 500_000
ADMIN_CHAT = 400_001
PROBE_CHAT = 400_002
STALL_SECONDS = 60.0  # give up when no reply at all arrives for this long
LATE_REPLY_SECONDS = 1.0  # wait this long after the last answer for duplicates
# Twenty different questions about the shipped seed article (seeds/raqqa-2017-10-15.txt).
SEED_QUESTIONS = (
    "How many civilians left?",
    "Who said the final battle could take hours or days?",
    "What did Coalition spokesman Ryan Dillon say?",
    "How many Daesh fighters did the elders persuade to surrender?",
    "Who is Omar Alloush?",
    "How many fighters do US officials think ISIS has in the Middle Euphrates River Valley?",
    "How long did it take the evacuation convoy to reach Deir el-Zour?",
    "What did SANA quote the Foreign Ministry source as saying?",
    "Who posted on Facebook about the liberation of Raqqa?",
    "Which militia dominates the SDF?",
    "When did Raqqa become the capital of the caliphate?",
    "Who will search and screen all people departing Raqqa?",
    "Where is the town with the small pocket of militants?",
    "When did Islamic State fighters agree to be evacuated from the Lebanon-Syria border?",
    "Who supports the Syrian government forces in Deir el-Zour?",
    "What was the terror group's last stronghold in Syria?",
    "When may the city be cleared of the group's fighters?",
    "Who is Armen Petrosyan?",
    "What is the capital of Australia?",
    "Who leads the Syrian Democratic Forces?",
)
# The articles added before each /reindex; each answers a question no other article does.
_HARBOURS = ("Aberdeen", "Brindisi", "Cadiz", "Dunedin", "Esbjerg", "Fremantle")


@dataclass(frozen=True)
class ExtraArticle:
    file_name: str
    title: str
    text: str
    question: str


def extra_article(number: int) -> ExtraArticle:
    """The ``number``-th article added to the seeds during the run."""
    harbour = _HARBOURS[number % len(_HARBOURS)]
    title = f"{harbour} ferry strike ends"
    text = (
        f"{title}\n\nPosted October {21 + number}, 2017\n\n"
        f"The ferry workers of {harbour} ended their strike on Friday after the port "
        f"authority agreed to {12 + number} new rotas, union leader Maria Holm said.\n"
    )
    question = f"How many new rotas did the {harbour} port agree?"
    return ExtraArticle(f"ferry-{harbour.lower()}.txt", title, text, question)


@dataclass(frozen=True)
class Plan:
    """What the users do: their questions, the replies expected from each index, the seeds."""

    token: str
    questions: list[list[str]]  # per chat
    expected: list[dict[str, str]]  # per index: the first, then one per /reindex
    seeds: Path


@dataclass
class Tally:
    """What the users saw, sent back to the bench."""

    taken: list[float] = field(default_factory=list)  # getUpdates hand-over -> sendMessage
    waited: list[float] = field(default_factory=list)  # the user's send -> sendMessage
    seconds: float = 0.0  # first question -> last answer
    wrong: int = 0
    missing: int = 0
    duplicated: int = 0
    probes_asked: int = 0
    probes_replied: int = 0
    probes_right: int = 0
    reindex_seconds: list[float] = field(default_factory=list)


def serve_users(conn: Connection, plan: Plan) -> None:
    """Child process entry: serve the fake Bot API and play the users (see the module doc)."""
    with FakeBotApi(plan.token) as api:
        conn.send(api.base_url)
        if conn.recv() != "go":
            return
        users = _Users(api, plan)
        tally = users.run()
        time.sleep(LATE_REPLY_SECONDS)
        users.count_replies(tally)
        conn.send(tally)
        conn.recv()  # keep serving until the bot has stopped polling


@dataclass
class _Chat:
    """One simulated user: the questions left to ask and what came back."""

    chat_id: int
    questions: list[str]
    asked: int = 0
    update_id: int = 0
    pushed_at: float = 0.0
    replies: list[str] = field(default_factory=list)


class _Users:
    """Plays the users and the admin against the fake server, and checks every reply."""

    def __init__(self, api: FakeBotApi, plan: Plan) -> None:
        self.api, self.seeds = api, plan.seeds
        self.chats = {
            FIRST_CHAT + n: _Chat(FIRST_CHAT + n, list(questions))
            for n, questions in enumerate(plan.questions)
        }
        self.expected = [plan.expected[0]]
        self.ready_at = [0.0]  # when each index's swap was reported
        self.coming = list(plan.expected[1:])
        self.total = sum(len(questions) for questions in plan.questions)
        # /reindex when a quarter, a half, three quarters... of the answers are in.
        reindexes = len(self.coming)
        self.reindex_at = [self.total * (n + 1) // (reindexes + 1) for n in range(reindexes)]
        self.reindex_sent_at = 0.0
        self.extra: ExtraArticle | None = None
        self.tally = Tally()

    def run(self) -> Tally:
        """Ask until every question is answered (or nothing arrives for a minute)."""
        started = time.monotonic()
        last_reply, seen = started, 0
        for chat in self.chats.values():
            self._ask_next(chat)
        while (
            len(self.tally.taken) < self.total
            or self.reindex_sent_at
            or self.tally.probes_replied < self.tally.probes_asked
        ):
            calls = self.api.calls_after(seen, timeout=1.0)
            seen += len(calls)
            fresh = [call for call in calls if call.method == "sendMessage"]
            for call in fresh:
                chat_id = int(call.params["chat_id"])
                if chat_id in self.chats:
                    self._check_answer(self.chats[chat_id], call)
                    last_reply = call.at
                elif chat_id == ADMIN_CHAT:
                    self._check_reindex(call)
                elif chat_id == PROBE_CHAT:
                    self._check_probe(call)
            if self.reindex_at and len(self.tally.taken) >= self.reindex_at[0]:
                self.reindex_at.pop(0)
                self._reindex()
            if not calls and time.monotonic() - last_reply > STALL_SECONDS:
                break
        self.tally.seconds = last_reply - started
        return self.tally

    def count_replies(self, tally: Tally) -> None:
        """Missing and duplicated replies per chat, from everything the server received."""
        for chat in self.chats.values():
            count = len(self.api.sent_texts(chat.chat_id))
            tally.missing += max(0, len(chat.questions) - count)
            tally.duplicated += max(0, count - len(chat.questions))

    def _ask_next(self, chat: _Chat) -> None:
        chat.pushed_at = time.monotonic()
        chat.update_id = self.api.push_message(chat.questions[chat.asked], chat_id=chat.chat_id)
        chat.asked += 1

    def _check_answer(self, chat: _Chat, call: ApiCall) -> None:
        chat.replies.append(call.params.get("text", ""))
        if len(chat.replies) > chat.asked:
            return  # a second reply to one question: counted as duplicated at the end
        taken = self.api.handed_at(chat.update_id) or chat.pushed_at
        self.tally.taken.append(call.at - taken)
        self.tally.waited.append(call.at - chat.pushed_at)
        question = chat.questions[chat.asked - 1]
        # Asked against the newest index whose swap was reported by then; a swap that
        # finished while the question was answered (reported or not yet) may have served it.
        live = max(n for n, ready in enumerate(self.ready_at) if ready <= chat.pushed_at)
        valid = {expected[question] for expected in self.expected[live:]}
        if self.reindex_sent_at:
            valid.add(self.coming[0][question])
        self.tally.wrong += chat.replies[-1] not in valid
        if chat.asked < len(chat.questions):
            self._ask_next(chat)

    def _reindex(self) -> None:
        """Add an article to the seeds, then ask for /reindex as the admin."""
        self.extra = extra_article(len(self.expected) - 1)
        (self.seeds / self.extra.file_name).write_text(self.extra.text, encoding="utf-8")
        self.reindex_sent_at = time.monotonic()
        self.api.push_message("/reindex", chat_id=ADMIN_CHAT)

    def _check_reindex(self, call: ApiCall) -> None:
        """Once the swap is reported: expect the new index's answers, and ask the new article."""
        if not call.params.get("text", "").startswith(REINDEXED) or self.extra is None:
            return
        self.tally.reindex_seconds.append(call.at - self.reindex_sent_at)
        self.expected.append(self.coming.pop(0))
        self.ready_at.append(call.at)
        self.reindex_sent_at = 0.0
        self.tally.probes_asked += 1
        self.api.push_message(self.extra.question, chat_id=PROBE_CHAT)

    def _check_probe(self, call: ApiCall) -> None:
        text = call.params.get("text", "")
        self.tally.probes_replied += 1
        self.tally.probes_right += self.extra is not None and self.extra.title in text
