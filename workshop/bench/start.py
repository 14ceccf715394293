"""``newsdesk bench start``: how long a person waits for a first answer, and at what memory.

Everything is measured in child processes, as a person or a script meets it: cold
``newsdesk ask`` (wall time and the whole process's peak RSS from ``wait4``) beside a cold
``import torch, sentence_transformers`` in the same run and interleaved with it, so a busy
machine slows both alike; warm single-question latency of the engine, quiet and while two
other processes keep both cores busy, for one and two encoder threads; and the resident memory
of the real Telegram bot (against the fake Bot API on 127.0.0.1) once it has answered.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.runtime import ONE_SHOT_QUERY_THREADS
from workshop.bench.measure import percentile
from workshop.fake_telegram.server import FakeBotApi

BENCH_FOLDER = Path("var/start-bench")
QUESTION = "How many civilians left?"
QUESTIONS = (
    "How many civilians left?",
    "Who said the final battle could take hours or days?",
    "When did the fighters leave Raqqa?",
    "What did the Syrian Democratic Forces say?",
    "Which group controlled the city?",
    "Where did the civilians go?",
)
TOKEN = "123456:BENCHTOKEN-abcdefghijklmnopqrstuvwxyz01"
TARGETS = {
    "ask_seconds": 1.5,
    "ask_over_import": 0.2,
    "ask_peak_mb": 250.0,
    "bot_rss_mb": 300.0,
    "busy_over_quiet": 3.0,
    "quiet_p50_ms_before": 13.8,  # the measure of the traced TorchScript path
}
# Asks QUESTIONS ``rounds`` times through a loaded engine; prints the latencies and modules.
_WARM = """
import json, sys, time
from bot.runtime import ONE_SHOT_QUERY_THREADS
from bot.config import Settings
from bot.engine import Engine
threads, rounds, questions = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
engine = Engine.load(Settings().index_setup(), query_threads=threads)
engine.ask(questions[0])
seconds = []
for _ in range(rounds):
    for question in questions:
        started = time.perf_counter()
        engine.ask(question)
        seconds.append(time.perf_counter() - started)
print(json.dumps({"seconds": seconds, "torch": "torch" in sys.modules}))
"""
_SPIN = "while True: pass"


def run_start_bench(settings: Settings, *, runs: int = 5, rounds: int = 40) -> dict[str, Any]:
    """Build the seeds' index in ``var/start-bench`` (once), then measure; returns the figures."""
    root = BENCH_FOLDER.resolve()
    env = {
        **os.environ,
        "SEEDS_DIR": str(Path(settings.seeds_dir).resolve()),
        "INDEX_DIR": str(root / "index"),
        "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
    }
    root.mkdir(parents=True, exist_ok=True)
    build = _run([sys.executable, "-m", "bot", "index", "build"], env)
    if build["code"] != 0:
        raise RuntimeError(f"the benchmark index did not build: {build['stderr']}")
    asks, imports = [], []
    for _ in range(runs):  # interleaved: a machine that grows busier slows both alike
        asks.append(_run([sys.executable, "-m", "bot", "ask", QUESTION], env))
        imports.append(_run([sys.executable, "-c", "import torch, sentence_transformers"], env))
    failed = [run for run in asks if run["code"] != 0]
    if failed:
        raise RuntimeError(f"newsdesk ask failed: {failed[0]['stderr']}")
    warm = {
        threads: {
            "quiet": _warm(env, threads, rounds, busy=0),
            "busy": _warm(env, threads, rounds, busy=2),
        }
        for threads in sorted({1, 2, ONE_SHOT_QUERY_THREADS})
    }
    return {
        "runs": runs,
        "build_seconds": build["seconds"],
        "ask_seconds": statistics.median(run["seconds"] for run in asks),
        "ask_peak_mb": statistics.median(run["peak_mb"] for run in asks),
        "ask_seconds_all": [round(run["seconds"], 3) for run in asks],
        "import_seconds": statistics.median(run["seconds"] for run in imports),
        "import_peak_mb": statistics.median(run["peak_mb"] for run in imports),
        "warm": warm,
        "bot": _bot_memory(env),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
    }


def _run(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``command``; its wall seconds, its own peak RSS (``wait4``), exit code and stderr."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        stderr = process.stderr.read()  # small: one line at most, read before the wait
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
    return {
        "seconds": seconds,
        "peak_mb": usage.ru_maxrss / 1024,  # kilobytes on Linux
        "code": process.returncode,
        "stderr": stderr.strip(),
    }


def _warm(env: dict[str, str], threads: int, rounds: int, *, busy: int) -> dict[str, Any]:
    """Latency of one question at a time in a warm engine, with ``busy`` spinning processes."""
    spinners = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(busy)]
    try:
        result = subprocess.run(
            [sys.executable, "-c", _WARM, str(threads), str(rounds), json.dumps(QUESTIONS)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()
    report = json.loads(result.stdout.strip().splitlines()[-1])
    latencies = [seconds * 1000 for seconds in report["seconds"]]
    return {
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "questions": len(latencies),
        "torch": report["torch"],
    }


def _bot_memory(env: dict[str, str]) -> dict[str, Any]:
    """Start ``newsdesk telegram`` against the fake Bot API, let it answer once, read its RSS."""
    with FakeBotApi(TOKEN) as api:
        bot_env = {**env, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": api.base_url}
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "telegram"],
            env=bot_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # deleteWebhook is the last call before polling starts (getUpdates is not recorded).
            api.wait_for(lambda: bool(api.calls_to("deleteWebhook")), timeout=120)
            ready = time.perf_counter() - started
            api.push_message(QUESTION, chat_id=4242)
            api.wait_for_messages(4242, 1, timeout=60)
            status = _status(process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return {"ready_seconds": ready, "rss_mb": status["VmRSS"], "peak_mb": status["VmHWM"]}


def _status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a live process, in MB."""
    figures = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            figures[name] = int(value.split()[0]) / 1024
    return figures


def _verdict(value: float, target: float) -> str:
    return "met" if value <= target else "MISSED"


def format_start_bench(figures: dict[str, Any]) -> str:
    """The figures beside the targets, ratios included, one line each."""
    ask, imports = figures["ask_seconds"], figures["import_seconds"]
    ratio = ask / imports
    peak, bot = figures["ask_peak_mb"], figures["bot"]
    lines = [
        f"Cold start, median of {figures['runs']} runs each, interleaved "
        f"({figures['cpus']} CPUs, load average {figures['load_average']:.2f} at the end):",
        f"  newsdesk ask (built index)          {ask:6.2f} s   peak RSS {peak:5.0f} MB",
        f"  import torch, sentence_transformers {imports:6.2f} s   peak RSS "
        f"{figures['import_peak_mb']:5.0f} MB",
        f"  ask wall                {ask:6.2f} s    target <= {TARGETS['ask_seconds']} s    "
        + _verdict(ask, TARGETS["ask_seconds"]),
        f"  ask / import            {ratio:6.2f}      target <= {TARGETS['ask_over_import']}      "
        + _verdict(ratio, TARGETS["ask_over_import"]),
        f"  ask peak RSS            {peak:6.0f} MB   target <= {TARGETS['ask_peak_mb']:.0f} MB   "
        + _verdict(peak, TARGETS["ask_peak_mb"]),
        f"  ask runs (s): {', '.join(f'{s:.2f}' for s in figures['ask_seconds_all'])}",
        f"Telegram bot after start and one answer: RSS {bot['rss_mb']:.0f} MB (peak "
        f"{bot['peak_mb']:.0f} MB), polling after {bot['ready_seconds']:.1f} s   "
        f"target <= {TARGETS['bot_rss_mb']:.0f} MB   "
        + _verdict(bot["rss_mb"], TARGETS["bot_rss_mb"]),
        "Warm latency, one question at a time (engine.ask: encode, search, answer model):",
        "  encoder threads   quiet p50 / p95      2 busy processes p50 / p95   busy/quiet p50",
    ]
    for threads, warm in figures["warm"].items():
        quiet, busy = warm["quiet"], warm["busy"]
        lines.append(
            f"  {threads!s:<17} {quiet['p50_ms']:6.1f} / {quiet['p95_ms']:6.1f} ms   "
            f"{busy['p50_ms']:6.1f} / {busy['p95_ms']:6.1f} ms"
            f"{'':14}{busy['p50_ms'] / quiet['p50_ms']:5.2f}x"
        )
    before = TARGETS["quiet_p50_ms_before"]
    for threads, use in ((ONE_SHOT_QUERY_THREADS, "ask and console"), (1, "each bot worker")):
        warm = figures["warm"][threads]
        quiet, busy = warm["quiet"]["p50_ms"], warm["busy"]["p50_ms"]
        lines += [
            f"  {use} ({threads} thread{'s' if threads > 1 else ''}): quiet p50 {quiet:5.1f} ms "
            f"(before: {before} ms, traced TorchScript) {_verdict(quiet, before)}; busy/quiet "
            f"{busy / quiet:4.2f}x, target <= {TARGETS['busy_over_quiet']}x "
            + _verdict(busy / quiet, TARGETS["busy_over_quiet"]),
        ]
    lines.append(f"  torch imported by the warm engine: {figures['warm'][1]['quiet']['torch']}")
    return "\n".join(lines)
