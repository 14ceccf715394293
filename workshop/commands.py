"""``newsdesk bench ...`` and ``newsdesk train ...``: the workshop's commands.

``bot.cli`` attaches these two groups only when one is named (``NewsdeskGroup``), so the product
never imports the workshop; each command imports its benchmark or trainer when it runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli import settings_of
from workshop.bench.squad_data import DEFAULT_SQUAD, parse_slice


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group("bench")
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
    from workshop.bench.squad import format_squad_bench, run_squad_bench

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
    from workshop.bench.answers import format_news_bench, run_news_bench
    from workshop.bench.dates import format_date_bench, run_date_bench
    from workshop.bench.dialogues import format_dialogue_bench, run_dialogue_bench
    from workshop.bench.speakers import format_speaker_bench, run_speaker_bench

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
    from workshop.bench.dates import format_date_bench, run_date_bench, write_event_date_sample

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
    default=str(Path("workshop/bench/data/news_dialogues.jsonl")),
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
    from workshop.bench.dialogues import format_dialogue_bench, run_dialogue_bench

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
    from workshop.bench.speakers import format_speaker_bench, run_speaker_bench

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
    from workshop.bench.answers import format_squad2_bench, run_squad2_bench

    figures = run_squad2_bench(settings_of(ctx), path)
    click.echo(json.dumps(figures) if as_json else format_squad2_bench(figures))


@click.group("train")
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
    from workshop.training.answer_model import format_training, run_training

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
    from index.answering.reader import DEFAULT_READER_PATH
    from workshop.training.reader_data import collect_examples, read_examples
    from workshop.training.reader_training import format_report, refit_combiner
    from workshop.training.reader_training import train_reader as fit_reader

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
    from workshop.bench.scale import (
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
    from workshop.bench.build import format_build_bench, run_build_bench

    figures = run_build_bench(settings_of(ctx), news, articles, None if no_squad else squad)
    click.echo(format_build_bench(figures))


@bench_group.command("live")
@click.option("--runs", type=click.IntRange(3), default=5, show_default=True)
@click.option("--watch-seconds", type=click.FloatRange(0.5), default=2.0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_live(ctx: click.Context, runs: int, watch_seconds: float, as_json: bool) -> None:
    """A new article answered: single-article updates of the news index, and the bot's watch."""
    from workshop.bench.live import format_live_bench, run_live_bench

    figures = run_live_bench(settings_of(ctx), runs=runs, watch_seconds=watch_seconds)
    click.echo(json.dumps(figures) if as_json else format_live_bench(figures))


@bench_group.command("start")
@click.option("--runs", type=click.IntRange(5), default=5, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON only.")
@click.pass_context
def bench_start(ctx: click.Context, runs: int, as_json: bool) -> None:
    """Cold ask, bot memory and warm latency, quiet and busy, against the targets."""
    from workshop.bench.start import format_start_bench, run_start_bench

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
    from workshop.bench.load import format_load_bench, run_load_bench

    figures = run_load_bench(
        settings_of(ctx),
        chats=chats,
        questions_per_chat=questions,
        reindexes=reindexes,
        sends_per_second=sends_per_second,
    )
    click.echo(format_load_bench(figures))
    click.echo(json.dumps(figures))
