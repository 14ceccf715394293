"""Index builds, manifests and library errors described in words for a person."""

from __future__ import annotations

from pathlib import Path

from bot.feedback import BAD, GOOD, FeedbackSummary
from index.analysis.embedder import DEFAULT_MODEL
from index.corpus.articles import printable, printable_name
from index.errors import NewsdeskError, Remedy
from index.indexing.builder import BuildReport
from index.storage.dense import DenseParams
from index.storage.manifest import Manifest

SHOWN_NAMES = 10  # articles named per line of a build's report
# How a person fixes each kind of library error, in the commands and settings of this CLI.
REMEDIES: dict[Remedy, str] = {
    Remedy.BUILD: "build it with: newsdesk index build",
    Remedy.REBUILD: "rebuild it with: newsdesk index build --full",
    Remedy.UPDATE: "update it with: newsdesk index build",
    Remedy.RETRAIN: "retrain it with: newsdesk train answers",
    Remedy.REINSTALL: "reinstall Newsdesk",
    Remedy.READER: "reinstall Newsdesk (scripts/install), or retrain it: newsdesk train reader",
    Remedy.CHOOSE_MODEL: (
        f"set EMBEDDING_MODEL to a local sentence-transformers folder or to '{DEFAULT_MODEL}'"
    ),
    Remedy.CHECK_ENGINE: "start it, or set MILVUS_URI to where it runs",
}


def describe_error(error: NewsdeskError) -> str:
    """The error's one line, with what to do about it when the library named a remedy."""
    if error.remedy is None:
        return str(error)
    return f"{error}; {REMEDIES[error.remedy]}"


def describe_dense(params: DenseParams) -> str:
    if params.kind == "flat":
        return "exact inner-product search (FAISS IndexFlatIP)"
    if params.kind == "milvus":
        how = f"IVF-Flat, {params.nlist} lists, {params.nprobe} probed" if params.nlist else "exact"
        return f"Milvus collection {params.collection} ({how})"
    return (
        f"approximate search (FAISS IVF, {params.nlist} lists, {params.nprobe} probed, "
        f"trained on {params.trained_on} vectors)"
    )


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _some(names: list[str], shown: int = SHOWN_NAMES) -> str:
    """The first ``shown`` names, and how many more."""
    text = ", ".join(printable_name(name) for name in names[:shown])
    return text + (f" and {len(names) - shown} more" if len(names) > shown else "")


def changed_lines(report: BuildReport) -> list[str]:
    """ "Added: a.txt, b.txt" and so on: which articles a build added, changed, removed."""
    return [
        f"{label}: {_some(names)}"
        for label, names in (
            ("Added", report.added),
            ("Changed", report.changed),
            ("Removed", report.removed),
        )
        if names
    ]


def describe_build(report: BuildReport) -> str:
    lines = [
        f"Built the index in {report.seconds:.1f} s: {len(report.added)} added, "
        f"{len(report.changed)} changed, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged.",
        f"{plural(report.sentences, 'sentence')} ({report.embedded} embedded), "
        f"{plural(report.passages, 'passage')}; {describe_dense(report.dense)}.",
    ]
    lines += changed_lines(report)
    if report.tail_sentences is not None:
        lines.append(
            f"Updated through the index's tail ({plural(report.tail_sentences, 'sentence')} "
            "since the last full build; a full build folds them in when they grow, or now "
            "with --full)."
        )
    if report.retrained:
        lines.append(f"{report.retrained}.")
    if report.full_reason:
        lines.append(f"Everything was re-embedded: {report.full_reason}.")
    if report.skipped:
        lines.append(f"{plural(len(report.skipped), 'file')} skipped (see the warnings above).")
    if report.folder is not None:
        lines.append(f"Written to {report.folder}")
    return "\n".join(lines)


def describe_manifest(
    manifest: Manifest, folder: Path, *, match: str | None = None, show_all: bool = False
) -> str:
    counts = manifest.counts
    model = manifest.model
    chunking = manifest.chunking
    lines = [
        f"Index in {folder}",
        f"  built {manifest.built_at} in {manifest.build_seconds:.1f} s "
        f"(build {manifest.build_id}, format {manifest.format})",
        f"  {plural(counts['articles'], 'article')}, {plural(counts['paragraphs'], 'paragraph')}, "
        f"{plural(counts['passages'], 'passage')}, {plural(counts['sentences'], 'sentence')}",
        f"  model {model.name}: {model.dimension} dimensions, up to {model.max_tokens} tokens, "
        f"fingerprint {model.fingerprint}, encoded in {model.precision}",
        f"  dense side: {describe_dense(manifest.dense)}; lexical side: BM25 (bm25s, stemmed)",
        f"  chunking: sentences by {chunking.splitter} (at most {chunking.sentence_max_chars} "
        f"characters), passages of at most {chunking.passage_max_words} words",
        "  libraries: " + ", ".join(f"{k} {v}" for k, v in manifest.libraries.items()),
    ]
    tail = manifest.tail
    if tail is not None:
        lines.append(
            f"  updated through its tail since full build {tail.base_build}: "
            f"{plural(tail.tail_sentences, 'sentence')} in the tail (by the {tail.encoded_by}); "
            "a full build folds them in when they grow, or now with index build --full"
        )
    lines.append("  articles:")
    rows = [
        (
            entry.date,
            f"{entry.title} {key}",
            f"    - {printable(entry.title)} ({entry.date or 'undated'}), {printable_name(key)}: "
            f"{plural(entry.sentence_count, 'sentence')}",
        )
        for key, entry in manifest.articles.items()
    ]
    lines += newest_first(rows, match=match, show_all=show_all, more_hint="--all")
    return "\n".join(lines)


NEWEST_SHOWN = 20  # articles a listing shows unless asked for all


def newest_first(
    rows: list[tuple[str | None, str, str]],
    *,
    match: str | None = None,
    show_all: bool = False,
    more_hint: str = "all",
    older_hint: str | None = None,
) -> list[str]:
    """Listing lines, newest article first (undated last), ``NEWEST_SHOWN`` unless ``show_all``.

    ``rows`` are (date, text searched by ``match``, line). A folder of 1,848 articles would
    otherwise print 1,848 lines; the last line says how many were left out and how to see them
    (``older_hint``, or "``more_hint`` lists every one, a word keeps ...").
    """
    if match:
        wanted = match.lower()
        rows = [row for row in rows if wanted in row[1].lower()]
    rows = sorted(rows, key=lambda row: row[0] or "", reverse=True)
    shown = rows if show_all else rows[:NEWEST_SHOWN]
    lines = [line for _, _, line in shown]
    if len(rows) > len(shown):
        hint = older_hint or (
            f"{more_hint} lists every one, a word keeps those whose title or file holds it"
        )
        lines.append(f"    ... and {len(rows) - len(shown)} older: {hint}")
    if match and not rows:
        lines.append(f"    (no article's title or file holds {match!r})")
    return lines


def describe_feedback(summary: FeedbackSummary) -> str:
    """👍 / 👎 counts by question type, each answer counted once (its latest vote)."""
    good = sum(counts[GOOD] for counts in summary.by_type.values())
    bad = sum(counts[BAD] for counts in summary.by_type.values())
    lines = [
        f"{plural(summary.votes, 'answer')} voted on: {good} 👍, {bad} 👎 (latest vote each).",
        f"  {'question type':<14}{'👍':>5}{'👎':>5}  👎 share",
    ]
    for kind, counts in summary.by_type.items():
        total = counts[GOOD] + counts[BAD]
        share = f"{counts[BAD] / total:.0%}" if total else "-"
        lines.append(f"  {kind:<14}{counts[GOOD]:>5}{counts[BAD]:>5}  {share:>8}")
    return "\n".join(lines)
