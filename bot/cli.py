"""The ``newsdesk`` command line: one group, subcommands per job.

Library errors (``NewsdeskError``) and bad settings become one line on stderr and a non-zero
exit code here, at the edge; nothing below prints to the user.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

import click
from pydantic import ValidationError

from bot.bench.squad_data import DEFAULT_SQUAD, parse_slice
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


class NewsdeskGroup(click.Group):
    """A click group that turns known errors into one line and an exit code."""

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


@cli.group("bench")
def bench_group() -> None:
    """Benchmarks that print their figures (not tests)."""


@bench_group.command("squad")
@click.argument("squad", type=click.Path(path_type=Path), default=str(DEFAULT_SQUAD))
@click.option("--articles", default=":", show_default=True, help="START:STOP of the articles.")
@click.option("--out-of-corpus", is_flag=True, help="Also ask the other articles' questions.")
@click.option("--fresh", is_flag=True, help="Rebuild the benchmark index from scratch.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_squad(
    ctx: click.Context,
    squad: Path,
    articles: str,
    out_of_corpus: bool,
    fresh: bool,
    as_json: bool,
) -> None:
    """Retrieval, answers, abstention and latency on a SQuAD-format file."""
    from bot.bench.squad import format_squad_bench, run_squad_bench

    figures = run_squad_bench(
        settings_of(ctx),
        squad,
        parse_slice(articles),
        out_of_corpus=out_of_corpus,
        fresh=fresh,
    )
    click.echo(json.dumps(figures) if as_json else format_squad_bench(figures))
    if not as_json:
        click.echo(json.dumps(figures))


@bench_group.command("news")
@click.option(
    "--questions",
    type=click.Path(path_type=Path, dir_okay=False),
    help="JSON Lines of questions (all asked); default: the reporting half of the project's own.",
)
@click.option(
    "--articles",
    type=click.Path(path_type=Path, file_okay=False),
    default="../shared/data/news/articles",
    show_default=True,
    help="Folder of articles to index and ask about.",
)
@click.option(
    "--groups/--no-groups",
    default=True,
    show_default=True,
    help="Also the speaker, date and dialogue groups (with the default questions only).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_news(
    ctx: click.Context, questions: Path | None, articles: Path, groups: bool, as_json: bool
) -> None:
    """Right article, sentence and short answer, and abstention, on real news questions; then
    the speaker, date and dialogue groups, each against its targets."""
    from bot.bench.answers import format_news_bench, run_news_bench
    from bot.bench.dates import format_date_bench, run_date_bench
    from bot.bench.dialogues import format_dialogue_bench, run_dialogue_bench
    from bot.bench.speakers import format_speaker_bench, run_speaker_bench

    settings = settings_of(ctx)
    figures = run_news_bench(settings, questions, articles)
    if not as_json:
        click.echo(format_news_bench(figures))
    if groups and questions is None:
        benches = (
            ("speakers", run_speaker_bench, format_speaker_bench),
            ("dates", run_date_bench, format_date_bench),
            ("dialogues", run_dialogue_bench, format_dialogue_bench),
        )
        figures["groups"] = {}
        for name, run, show in benches:
            group = figures["groups"][name] = run(settings, articles=articles)
            if not as_json:
                click.echo("\n" + show(group))
    if as_json:
        click.echo(json.dumps(figures))


@bench_group.command("dates")
@click.option(
    "--sample",
    "sample_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Instead: write 50 resolved event dates (seeded) to check by hand, as JSON Lines.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_dates(ctx: click.Context, sample_out: Path | None, as_json: bool) -> None:
    """Date questions (filters, event dates, latest) and the hand-checked event dates."""
    from bot.bench.dates import format_date_bench, run_date_bench, write_event_date_sample

    if sample_out is not None:
        click.echo(write_event_date_sample(settings_of(ctx), sample_out))
        return
    figures = run_date_bench(settings_of(ctx))
    click.echo(json.dumps(figures) if as_json else format_date_bench(figures))


@bench_group.command("dialogues")
@click.option(
    "--dialogues",
    "path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=str(Path("bot/bench/data/news_dialogues.jsonl")),
    show_default=True,
    help="JSON Lines of two-turn dialogues.",
)
@click.option(
    "--articles",
    type=click.Path(path_type=Path, file_okay=False),
    default="../shared/data/news/articles",
    show_default=True,
    help="Folder of articles to index and ask about.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_dialogues(ctx: click.Context, path: Path, articles: Path, as_json: bool) -> None:
    """Follow-up questions: the second turn of two-turn dialogues, and no stand-alone changed."""
    from bot.bench.dialogues import format_dialogue_bench, run_dialogue_bench

    figures = run_dialogue_bench(settings_of(ctx), path, articles)
    click.echo(json.dumps(figures) if as_json else format_dialogue_bench(figures))


@bench_group.command("speakers")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.option(
    "--sample",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also write 100 extracted statements (seeded) to FILE, to judge by hand.",
)
@click.pass_context
def bench_speakers(ctx: click.Context, as_json: bool, sample: Path | None) -> None:
    """ "What did X say" and "who said" questions answered from the stored statements."""
    from bot.bench.speakers import format_speaker_bench, run_speaker_bench

    figures = run_speaker_bench(settings_of(ctx), sample_out=sample)
    click.echo(json.dumps(figures) if as_json else format_speaker_bench(figures))


@bench_group.command("squad2")
@click.argument(
    "path", type=click.Path(path_type=Path), default="../shared/data/squad/dev-v2.0-half.json"
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_squad2(ctx: click.Context, path: Path, as_json: bool) -> None:
    """Answers and abstention on SQuAD v2.0 (with unanswerable questions)."""
    from bot.bench.answers import format_squad2_bench, run_squad2_bench

    figures = run_squad2_bench(settings_of(ctx), path)
    click.echo(json.dumps(figures) if as_json else format_squad2_bench(figures))


@cli.group("train")
def train_group() -> None:
    """Retrain the project's learned parts from the data in ../shared."""


@train_group.command("answers")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write the model (default: the one the package answers with).",
)
@click.pass_context
def train_answers(ctx: click.Context, out: Path | None) -> None:
    """Fit the answer model on the tuning splits and print its held-out figures."""
    from bot.training import format_training, run_training

    click.echo(format_training(run_training(settings_of(ctx), out, say=_say)))


@train_group.command("reader")
@click.option(
    "--examples",
    type=click.Path(path_type=Path, dir_okay=False),
    default="var/reader/examples.jsonl.gz",
    show_default=True,
    help="The collected questions and candidates (collected from ../shared when missing).",
)
@click.option("--collect", is_flag=True, help="Search every split again, even if collected.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Where to write reader.json and its files (default: the package's own).",
)
@click.option("--epochs", type=click.IntRange(1, 20), default=2, show_default=True)
@click.option("--steps", type=click.IntRange(1), default=None, help="Stop after this many batches.")
@click.option("--compare-fp32", is_flag=True, help="Also export fp32; serve it if it reads better.")
@click.option(
    "--combiner-only",
    type=click.IntRange(1, 12),
    metavar="K",
    default=None,
    help="Keep the trained reader; fit its combiner again for K candidates a question.",
)
@click.pass_context
def train_reader(
    ctx: click.Context,
    examples: Path,
    collect: bool,
    out: Path | None,
    epochs: int,
    steps: int | None,
    compare_fp32: bool,
    combiner_only: int | None,
) -> None:
    """Fine-tune the reader, export it to ONNX, fit its combiner; print held-out figures."""
    from bot.reader_data import collect_examples, read_examples
    from bot.reader_training import format_report, refit_combiner
    from bot.reader_training import train_reader as fit_reader
    from index.answering.reader import DEFAULT_READER_PATH

    if collect or not examples.is_file():
        collect_examples(settings_of(ctx), examples, say=_say)
    questions = list(read_examples(examples))
    if combiner_only is not None:
        refitted = refit_combiner(
            questions, out or DEFAULT_READER_PATH, _say, candidates=combiner_only
        )
        for split, values in refitted.items():
            click.echo(f"{split}: " + ", ".join(f"{k} {v}" for k, v in values.items()))
        return
    report = fit_reader(
        questions,
        out or DEFAULT_READER_PATH,
        _say,
        epochs=epochs,
        max_steps=steps,
        compare_fp32=compare_fp32,
    )
    click.echo(format_report(report))


@bench_group.command("scale")
@click.option(
    "--sentences",
    "counts",
    type=int,
    multiple=True,
    default=[100_000],
    show_default=True,
    help="Corpus size; repeat for several (e.g. --sentences 100000 --sentences 1000000).",
)
@click.option(
    "--vectors",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A .npy of real sentence vectors to scatter copies around (e.g. a build's vectors.npy).",
)
@click.option(
    "--dense-only",
    is_flag=True,
    help="Only the FAISS index: IVF-Flat beside IVF-SQ6 (no seeds, SQLite or tagging).",
)
@click.option(
    "--backend",
    "backends",
    type=click.Choice(["faiss", "milvus"]),
    multiple=True,
    default=["faiss"],
    show_default=True,
    help="Where the vectors are searched; repeat to measure both on the same corpus.",
)
@click.option(
    "--queries",
    type=click.IntRange(10),
    default=1000,
    show_default=True,
    help="Queries scored for recall@10; up to 300 of them are also timed one by one.",
)
@click.option(
    "--tag-entities",
    is_flag=True,
    help="Run spaCy over the synthetic sentences (some 20 minutes a million; they name no one).",
)
@click.pass_context
def bench_scale(
    ctx: click.Context,
    counts: tuple[int, ...],
    vectors: Path | None,
    dense_only: bool,
    backends: tuple[str, ...],
    queries: int,
    tag_entities: bool,
) -> None:
    """Build, load and search synthetic indexes of N sentences (query encoding excluded)."""
    from bot.bench.scale import (
        format_backend_ratios,
        format_dense_bench,
        format_scale_bench,
        run_dense_bench,
        run_scale_bench,
    )

    settings = settings_of(ctx)
    for count in counts:
        if dense_only:
            click.echo(format_dense_bench(run_dense_bench(count, vectors)))
            continue
        measured = {}
        for backend in backends:
            measured[backend] = run_scale_bench(
                count,
                settings.faiss_exact_limit,
                vectors,
                settings.faiss_compress_limit,
                tag_entities=tag_entities,
                backend=backend,
                queries=queries,
                timed=min(queries, 300),
            )
            click.echo(format_scale_bench(measured[backend]))
        if {"faiss", "milvus"} <= measured.keys():
            click.echo(format_backend_ratios(measured["faiss"], measured["milvus"]))


@bench_group.command("build")
@click.argument("squad", type=click.Path(path_type=Path), default=str(DEFAULT_SQUAD))
@click.option(
    "--news", type=click.Path(path_type=Path), default="../shared/data/news/articles",
    show_default=True, help="Folder of news articles to build from.",
)  # fmt: skip
@click.option(
    "--articles", type=click.IntRange(1), default=300, show_default=True,
    help="Build the first this many news articles (300: some 4,500 sentences).",
)  # fmt: skip
@click.option("--no-squad", is_flag=True, help="Skip the SQuAD retrieval figures (minutes).")
@click.pass_context
def bench_build(ctx: click.Context, squad: Path, news: Path, articles: int, no_squad: bool) -> None:
    """A full build against a bare fp32 model.encode, with vector agreement and SQuAD retrieval."""
    from bot.bench.build import format_build_bench, run_build_bench

    figures = run_build_bench(settings_of(ctx), news, articles, None if no_squad else squad)
    click.echo(format_build_bench(figures))


@bench_group.command("live")
@click.option("--runs", type=click.IntRange(3), default=5, show_default=True)
@click.option("--watch-seconds", type=click.FloatRange(0.5), default=2.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_live(ctx: click.Context, runs: int, watch_seconds: float, as_json: bool) -> None:
    """A new article answered: single-article updates of the news index, and the bot's watch."""
    from bot.bench.live import format_live_bench, run_live_bench

    figures = run_live_bench(settings_of(ctx), runs=runs, watch_seconds=watch_seconds)
    click.echo(json.dumps(figures) if as_json else format_live_bench(figures))


@bench_group.command("start")
@click.option("--runs", type=click.IntRange(5), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_start(ctx: click.Context, runs: int, as_json: bool) -> None:
    """Cold ask, bot memory and warm latency, quiet and busy, against the targets."""
    from bot.bench.start import format_start_bench, run_start_bench

    figures = run_start_bench(settings_of(ctx), runs=runs)
    click.echo(json.dumps(figures) if as_json else format_start_bench(figures))


@bench_group.command("load")
@click.option("--chats", type=click.IntRange(1), default=50, show_default=True)
@click.option("--questions", type=click.IntRange(1), default=20, show_default=True)
@click.option(
    "--reindexes", type=click.IntRange(0), default=3, show_default=True,
    help="/reindex this many times during the run, each after adding an article.",
)  # fmt: skip
@click.option(
    "--sends-per-second", type=click.IntRange(0), default=0, show_default=True,
    help="Bot-wide request cap as TELEGRAM_SENDS_PER_SECOND; 0: none (the fake has no limit).",
)  # fmt: skip
@click.pass_context
def bench_load(
    ctx: click.Context, chats: int, questions: int, reindexes: int, sends_per_second: int
) -> None:
    """The Telegram bot under CHATS chats asking QUESTIONS each, against a local fake Bot API."""
    from bot.bench.load import format_load_bench, run_load_bench

    figures = run_load_bench(
        settings_of(ctx),
        chats=chats,
        questions_per_chat=questions,
        reindexes=reindexes,
        sends_per_second=sends_per_second,
    )
    click.echo(format_load_bench(figures))
    click.echo(json.dumps(figures))


def main() -> None:
    cli(prog_name="newsdesk")
