"""scripts/import_graph.py: the project's imports have no circle and flow one way."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "import_graph.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["import_graph"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_the_project_passes() -> None:
    graph = _script()
    assert graph.problems_of(graph.read_imports(graph.find_modules())) == []


def test_a_circle_and_imports_against_the_flow_fail() -> None:
    graph = _script()
    Import = graph.Import
    imports = [
        Import("index.answering.answer", "index.answering.quotes", 1, False),
        Import("index.answering.quotes", "index.answering.answer", 2, False),
        Import("bot.cli", "workshop.commands", 3, True),  # inside a function: allowed
        Import("bot.engine", "workshop.bench.measure", 4, False),
        Import("index.search.searcher", "bot.config", 5, True),
        Import("index.corpus.articles", "index.answering.question", 6, False),
        Import("index.answering.answer", "index.corpus.articles", 7, False),  # down the flow
    ]
    problems = graph.problems_of(imports)
    assert problems[0] == (
        "import circle: index.answering.answer -> index.answering.quotes -> index.answering.answer"
    )
    assert [p.split(" ")[0] for p in problems[1:]] == [
        "bot.engine",
        "index.search.searcher",
        "index.corpus.articles",
    ]
    back = Import("workshop.commands", "bot.cli", 8, False)
    assert graph.deferred_circles([imports[2], back]) == ["bot.cli -> workshop.commands -> bot.cli"]
