"""The ``newsdesk`` command line: one group, subcommands per job.

Library errors (``NewsdeskError``) and bad settings become one line on stderr and a non-zero
exit code here, at the edge; nothing below prints to the user.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import click
from pydantic import ValidationError

from bot.build_progress import BuildDisplay
from bot.config import Settings, SettingsError
from bot.engine import Engine
from bot.reports import describe_build, describe_error, describe_feedback, describe_manifest
from bot.runtime import (
    ONE_SHOT_QUERY_THREADS,
    build_setup,
    check_build_folders,
    configure_logging,
)
from bot.text_render import quote_lines, render_answer
from index.answering.quotes import speaker_name
from index.answering.time_words import BadDateError, parse_day
from index.corpus.articles import printable_name
from index.errors import NewsdeskError
from index.storage.manifest import read_manifest
from index.storage.store import current_build

EXIT_ERROR = 1
EXIT_USAGE = 2


# The workshop's command groups (``workshop/commands.py``): benchmarks and training stand beside
# the product, so they are imported only when named, never when the bot or ``ask`` starts.
_WORKSHOP_GROUPS = {"bench": "bench_group", "train": "train_group"}


class NewsdeskGroup(click.Group):
    """A click group that turns known errors into one line and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *_WORKSHOP_GROUPS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _WORKSHOP_GROUPS:
            return super().get_command(ctx, cmd_name)
        try:
            commands = importlib.import_module("workshop.commands")
        except ModuleNotFoundError as error:
            if error.name != "workshop":
                raise
            return None  # an install without the workshop: no such command
        group: click.Command = getattr(commands, _WORKSHOP_GROUPS[cmd_name])
        return group

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NewsdeskError as error:
            fail(describe_error(error), EXIT_ERROR)
        except ValidationError as error:
            fail(settings_problem(error), EXIT_USAGE)
        except SettingsError as error:
            fail(str(error), EXIT_USAGE)
        except KeyboardInterrupt:
            fail("interrupted", 130)


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"newsdesk: {message}", err=True)
    sys.exit(code)


def settings_problem(error: ValidationError) -> str:
    """One line naming each bad setting as its environment variable."""
    parts = []
    for problem in error.errors():
        name = ".".join(str(part) for part in problem["loc"]).upper()
        parts.append(f"{name}: {problem['msg']}")
    return "bad setting " + "; ".join(parts)


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _progress(message: str) -> None:
    """Say what takes the next seconds, on a terminal only (scripts read stderr for errors)."""
    if sys.stderr.isatty():
        click.echo(message, err=True)


def _load_engine(settings: Settings) -> Engine:
    _progress("Loading the index…")
    return Engine.load(
        settings.index_setup(),
        build_missing=True,
        on_build=_say,
        query_threads=ONE_SHOT_QUERY_THREADS,
    )


@click.group(cls=NewsdeskGroup)
@click.version_option(package_name="newsdesk", message="%(prog)s %(version)s")
@click.option(
    "--seeds",
    type=click.Path(path_type=Path),
    default=None,
    help="Folder of articles (instead of SEEDS_DIR; default seeds).",
)
@click.option(
    "--index",
    "index_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Index folder (instead of INDEX_DIR; default var/index).",
)
@click.pass_context
def cli(ctx: click.Context, seeds: Path | None, index_dir: Path | None) -> None:
    """Newsdesk: ask questions about a folder of news articles.

    Settings come from the environment or .env (see .env.example); --seeds and --index
    override SEEDS_DIR and INDEX_DIR.
    """
    overrides: dict[str, Any] = {}
    if seeds is not None:
        overrides["seeds_dir"] = seeds
    if index_dir is not None:
        overrides["index_dir"] = index_dir
    settings = Settings(**overrides)
    configure_logging(settings.log_level)
    ctx.obj = settings


@cli.group("index")
def index_group() -> None:
    """Build and describe the index of the seeds folder."""


@index_group.command("build")
@click.option("--full", is_flag=True, help="Re-embed every article, even unchanged ones.")
@click.pass_context
def index_build(ctx: click.Context, full: bool) -> None:
    """Build (or update) the index from SEEDS_DIR (seeds) into INDEX_DIR (var/index).

    --seeds and --index override them; EMBEDDING_MODEL, EMBEDDING_BATCH_SIZE and the other
    build settings are in docs/settings.md.
    """
    settings = settings_of(ctx)
    check_build_folders(settings.index_setup())  # a wrong folder is said before the model loads
    _progress(f"Reading the articles in {settings.seeds_dir}…")
    display = BuildDisplay(terminal=sys.stderr.isatty())
    try:
        report = build_setup(settings.index_setup(), full=full, progress=display, say=_progress)
    finally:
        display.close()
    for skipped in report.skipped:
        click.echo(f"warning: {printable_name(str(skipped))}", err=True)
    click.echo(describe_build(report))


@index_group.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def index_add(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Copy FILES (.txt, .md, .html, .jsonl) into SEEDS_DIR and index them now.

    Each is saved under a safe name of its own (never over another file); a file holding no
    readable article is not kept.
    """
    from bot.adding import index_added, save_article

    settings = settings_of(ctx)
    check_build_folders(settings.index_setup())
    saved = []
    for file in files:
        try:
            data = file.read_bytes()
        except OSError as error:
            raise NewsdeskError(f"cannot read {file} ({error.strerror or error})") from None
        saved.append(
            save_article(settings.seeds_dir, file.name, data, int(settings.max_article_mb * 2**20))
        )
    added, problems = index_added(_load_engine(settings), saved)
    for problem in problems:
        click.echo(f"warning: {printable_name(problem)}", err=True)
    for article in added:
        click.echo(article.line())
    if not added:
        fail("nothing was added", 1)


@index_group.command("watch")
@click.pass_context
def index_watch(ctx: click.Context) -> None:
    """Keep the index up to date with SEEDS_DIR until Ctrl-C, looking every WATCH_SECONDS.

    For a bot or console that runs elsewhere on the same INDEX_DIR: they answer from each new
    build as it becomes live.
    """
    from bot.watching import WatchThread

    settings = settings_of(ctx)
    seconds = settings.watch_seconds or 60
    engine = _load_engine(settings)
    click.echo(f"Watching {settings.seeds_dir} every {seconds:g} s; Ctrl-C stops.", err=True)
    watcher = WatchThread(engine, seconds, lambda line: click.echo(line, err=False))
    try:
        watcher.run()
    except KeyboardInterrupt:
        watcher.stop()


@index_group.command("info")
@click.option("--all", "show_all", is_flag=True, help="List every article, not the newest 20.")
@click.option("--match", metavar="WORD", help="Only the articles whose title or file holds WORD.")
@click.pass_context
def index_info(ctx: click.Context, show_all: bool, match: str | None) -> None:
    """Describe the live index (INDEX_DIR): articles, sizes, model and how it was built."""
    settings = settings_of(ctx)
    folder = current_build(settings.index_dir)
    click.echo(describe_manifest(read_manifest(folder), folder, match=match, show_all=show_all))


@cli.command("ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option(
    "--file",
    "questions_file",
    type=click.File("rb"),
    help="Answer one question per line (use - for stdin); prints one JSON object per line.",
)
@click.option("--since", "since_text", metavar="DATE", help="Only articles or events from DATE.")
@click.option("--until", "until_text", metavar="DATE", help="Only articles or events up to DATE.")
@click.pass_context
def ask(
    ctx: click.Context,
    question: str | None,
    as_json: bool,
    questions_file: BinaryIO | None,
    since_text: str | None,
    until_text: str | None,
) -> None:
    """Answer QUESTION once from the index (building it from the seeds if there is none).

    DATE is YYYY-MM-DD (or "1 March 1987"); both ends are included, undated articles left out.
    Reads SEEDS_DIR (seeds) and INDEX_DIR (var/index), or --seeds and --index.
    """
    if (question is None) == (questions_file is None):
        raise click.UsageError("give either a QUESTION or --file FILE")
    if question is not None and not question.strip():
        raise click.UsageError("the question is empty")  # said before anything loads
    since, until = _day_option("--since", since_text), _day_option("--until", until_text)
    engine = _load_engine(settings_of(ctx))
    if questions_file is not None:
        _ask_each_line(engine, questions_file, since, until)
        return
    assert question is not None
    answer = engine.ask(question, since=since, until=until)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_answer(answer, colour=sys.stdout.isatty()))


def _day_option(name: str, text: str | None) -> date | None:
    """A --since/--until value as a date; a bad one is one line and exit 2, before loading."""
    if text is None:
        return None
    try:
        return parse_day(text)
    except BadDateError as error:
        fail(f"{name}: {error}", EXIT_USAGE)


def _ask_each_line(
    engine: Engine, lines: BinaryIO, since: date | None = None, until: date | None = None
) -> None:
    """One JSON answer per question line; lines that are not UTF-8 are reported, not fatal."""
    unreadable = []
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8").strip()
        except UnicodeDecodeError:
            unreadable.append(number)
            continue
        if line:
            answer = engine.ask(line, since=since, until=until)
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    if unreadable:
        shown = ", ".join(str(n) for n in unreadable[:10])
        raise NewsdeskError(
            f"{len(unreadable)} question line(s) were not UTF-8 text and were skipped "
            f"(line {shown}); the others were answered"
        )


@cli.command("quotes")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the statements as JSON.")
@click.pass_context
def quotes(ctx: click.Context, name: str, as_json: bool) -> None:
    """What NAME said in the articles (any alias: "Bali", "Mustafa Bali"), newest first.

    Reads INDEX_DIR (var/index), built from SEEDS_DIR (seeds) first if missing.
    """
    if not speaker_name(name):
        raise click.UsageError("the name is empty")
    found = _load_engine(settings_of(ctx)).quotes(name)
    if as_json:
        click.echo(json.dumps([quote.to_dict() for quote in found], ensure_ascii=False, indent=2))
    if not found:
        fail(f"no statements by {speaker_name(name)} in these articles", EXIT_ERROR)
    if not as_json:
        click.echo("\n".join(quote_lines(name, found)))


@cli.command("console")
@click.pass_context
def console(ctx: click.Context) -> None:
    """Ask questions one after another.

    \b
    Commands: :more, :context, :good, :bad, :new, :sources, :quotes NAME, :help, :quit
    (help, exit and quit work without the colon). Reads SEEDS_DIR, INDEX_DIR,
    FOLLOW_UP_MINUTES (15) and WATCH_SECONDS (60: how often new articles are looked for).
    """
    from bot.console import run_console
    from bot.feedback import feedback_log_of

    settings = settings_of(ctx)
    run_console(
        _load_engine(settings),
        feedback_log_of(settings),
        settings.follow_up_minutes,
        settings.watch_seconds,
    )


def _say(message: str) -> None:
    click.echo(message, err=True)


@cli.command("feedback")
@click.option(
    "--export",
    "export_to",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the 👎 questions as JSON Lines in the news benchmark's question format.",
)
@click.pass_context
def feedback(ctx: click.Context, export_to: Path | None) -> None:
    """👍 / 👎 counts by question type, from the feedback log beside the index.

    The log is INDEX_DIR/feedback.jsonl (INDEX_DIR: var/index, or --index); lines that are
    not whole votes (damaged, hand-edited) are skipped and counted.
    """
    from bot.feedback import bad_questions, feedback_log_of, summarise
    from bot.reports import plural

    log = feedback_log_of(settings_of(ctx))
    found = log.read()
    votes = found.votes
    skipped = f"{plural(found.skipped, 'line')} skipped: not a whole vote" if found.skipped else ""
    if not votes:
        hint = f"; {skipped}" if skipped else " (👍 / 👎 in Telegram, :good / :bad)"
        fail(f"no feedback yet: {log.path} holds no vote{hint}", 1)
    if skipped:
        _say(f"newsdesk: {log.path}: {skipped} (damaged or edited by hand)")
    if export_to is not None:
        rows = bad_questions(votes)
        lines = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        try:
            export_to.write_text(lines, encoding="utf-8")
        except OSError as error:
            raise NewsdeskError(f"cannot write {export_to} ({error.strerror})") from None
        click.echo(
            f"{len(rows)} 👎 question(s) written to {export_to}: fill in each answer and "
            "sentence (and the article) before adding them to the benchmark."
        )
        return
    click.echo(describe_feedback(summarise(votes)))


@cli.command("telegram")
@click.pass_context
def telegram(ctx: click.Context) -> None:
    """Run the Telegram bot (long polling, or a webhook when WEBHOOK_URL is set).

    Needs TELEGRAM_BOT_TOKEN (from @BotFather) in the environment or .env; reads SEEDS_DIR,
    INDEX_DIR, ALLOWED_USER_IDS, ALLOWED_CHAT_IDS and ADMIN_USER_IDS (docs/telegram.md).
    """
    from bot.telegram.app import run_bot

    run_bot(settings_of(ctx))


def main() -> None:
    cli(prog_name="newsdesk")
