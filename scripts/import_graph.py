"""Check the import graph of bot/, index/ and workshop/: no circle, and imports flow one way.

Reads the sources with ``ast`` (nothing is imported) and draws an edge for every import that
runs when a module loads: at module level, in a class body, under ``if`` or ``try``. Imports
inside functions run later, when called, so they are counted apart and never make a circle;
``if TYPE_CHECKING:`` blocks never run and are skipped. Fails, naming the modules, on:

- a circle among module-level imports;
- a product module (``bot.*``, ``index.*``) importing ``workshop`` at module level (the product
  never loads the workshop; ``newsdesk bench`` and ``train`` attach it when named);
- a library module (``index.*``) importing ``bot`` anywhere (the library is called, it does not
  call up), or a stage of ``index`` importing a later one at module level (``STAGES``).

Usage: ``python scripts/import_graph.py [--verbose]`` from the repository root; exit 1 on a
problem. ``--verbose`` also lists the imports made inside functions.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "index", "workshop")
PRODUCT = ("bot", "index")
# The library's stages in the order of the flow (index/__init__.py): each imports only earlier ones.
STAGES = ("errors", "corpus", "analysis", "storage", "indexing", "search", "answering")


@dataclass(frozen=True)
class Import:
    """One import statement of ``source``: the module it loads and where it sits."""

    source: str
    target: str
    line: int
    deferred: bool  # inside a function: runs when called, not when the module loads


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            modules[module_name(path)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(body: list[ast.stmt], deferred: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Every statement under ``body`` with whether it runs only when a function is called."""
    for node in body:
        yield node, deferred
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _statements(node.body, True)
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _statements(node.orelse, deferred)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    for child in children:
                        if isinstance(child, ast.ExceptHandler | ast.match_case):
                            yield from _statements(child.body, deferred)
                    yield from _statements(
                        [c for c in children if isinstance(c, ast.stmt)], deferred
                    )


def _targets(node: ast.stmt, name: str, is_package: bool, modules: dict[str, Path]) -> list[str]:
    """The project modules an import statement loads (third-party ones are left out)."""
    found: list[str] = []
    if isinstance(node, ast.Import):
        found = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            package = name.split(".") if is_package else name.split(".")[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join([*package, *([base] if base else [])])
        found = [base]
        # ``from package import module`` loads the submodule too.
        found += [
            f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules
        ]
    return [target for target in found if target.split(".")[0] in PACKAGES and target in modules]


def read_imports(modules: dict[str, Path]) -> list[Import]:
    imports = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node, deferred in _statements(tree.body, False):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, name, is_package, modules):
                    if target != name:
                        imports.append(Import(name, target, node.lineno, deferred))
    return imports


def find_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return components


def cycle_path(component: list[str], edges: dict[str, set[str]]) -> list[str]:
    """One circle through the component's first module, as a path that returns to it."""
    members = set(component)
    start = component[0]
    parents: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(edges.get(node, set()) & members):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parents[path[-1]])
                    return [*reversed(path), start]
                if nxt not in parents:
                    parents[nxt] = node
                    following.append(nxt)
        frontier = following
    return component


def _stage(module: str) -> str:
    """``index.search.searcher`` -> ``search``; the package ``index`` itself counts as first."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else STAGES[0]


def problems_of(imports: list[Import]) -> list[str]:
    problems = []
    loaded = [i for i in imports if not i.deferred]
    edges: dict[str, set[str]] = {}
    for i in loaded:
        edges.setdefault(i.source, set()).add(i.target)
    for component in find_cycles(edges):
        problems.append("import circle: " + " -> ".join(cycle_path(component, edges)))
    for i in imports:
        top, target_top = i.source.split(".")[0], i.target.split(".")[0]
        if top in PRODUCT and target_top == "workshop" and not i.deferred:
            problems.append(
                f"{i.source} (line {i.line}) imports {i.target} at module level: the product "
                "never loads the workshop (import it inside the command that needs it)"
            )
        if top == "index" and target_top == "index" and not i.deferred:
            stage, target_stage = _stage(i.source), _stage(i.target)
            if STAGES.index(target_stage) > STAGES.index(stage):
                problems.append(
                    f"{i.source} (line {i.line}) imports {i.target}: the stage {stage} comes "
                    f"before {target_stage} in the flow ({' -> '.join(STAGES)})"
                )
        if top == "index" and target_top == "bot":
            problems.append(
                f"{i.source} (line {i.line}) imports {i.target}: the library never imports "
                "the front ends (pass what it needs as an argument)"
            )
    return problems


def deferred_circles(imports: list[Import]) -> list[str]:
    """Circles that only close through an import inside a function: allowed, but worth a look."""
    loaded: dict[str, set[str]] = {}
    every: dict[str, set[str]] = {}
    for i in imports:
        every.setdefault(i.source, set()).add(i.target)
        if not i.deferred:
            loaded.setdefault(i.source, set()).add(i.target)
    known = {frozenset(component) for component in find_cycles(loaded)}
    return [
        " -> ".join(cycle_path(component, every))
        for component in find_cycles(every)
        if frozenset(component) not in known
    ]


def main(argv: list[str]) -> int:
    modules = find_modules()
    imports = read_imports(modules)
    deferred = [i for i in imports if i.deferred]
    problems = problems_of(imports)
    for problem in problems:
        print(f"import_graph: {problem}", file=sys.stderr)
    for circle in deferred_circles(imports):
        print(f"import_graph: note, a circle closed inside a function (not counted): {circle}")
    if "--verbose" in argv:
        for i in deferred:
            print(f"  inside a function: {i.source}:{i.line} -> {i.target}")
    loaded = len(imports) - len(deferred)
    verdict = f"{len(problems)} problem(s)" if problems else "no circle, one-way"
    print(
        f"import graph: {len(modules)} modules, {loaded} module-level imports, {verdict}; "
        f"{len(deferred)} imports inside functions (not counted)"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
