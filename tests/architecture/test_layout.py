"""The architecture's rules as tests (issue 15): arrows one way, a pure core, small modules.

* nothing under workers/sync/core imports SQLAlchemy, exchangelib, httpx or Celery, directly
  or through what it imports;
* within app/ and workers/, only workers/connectors/ews imports exchangelib;
* the import graph of app/ and workers/ has no cycle, and inside workers/ the core imports no
  other part of workers, connectors import no entity, wiring or runner, entities no connector;
* no module in app/ or workers/ is over 500 lines.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "workers")
CORE = "workers.sync.core"
EWS = "workers.connectors.ews"
CLIENT_LIBRARIES = ("sqlalchemy", "exchangelib", "httpx", "celery")
MAX_LINES = 500


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = module.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        stem = ".".join([*base, node.module] if node.module else base)
    else:
        stem = node.module or ""
    yield stem
    # `from package import module` imports that module too.
    for alias in node.names:
        if f"{stem}.{alias.name}" in modules():
            yield f"{stem}.{alias.name}"


def imports(module: str, *, top_level_only: bool) -> set[str]:
    path = modules()[module]
    tree = ast.parse(path.read_text(), str(path))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.update(_imported(node, module, path.name == "__init__.py"))
    return found


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_sync_core_imports_no_database_client_or_task_library() -> None:
    core = [name for name in modules() if _within(name, CORE)]
    assert len(core) > 10
    for module in core:
        direct = {
            name
            for name in imports(module, top_level_only=False)
            if name.split(".")[0] in CLIENT_LIBRARIES
        }
        assert not direct, f"{module} imports {sorted(direct)}"
    # Nor through what it imports: a fresh interpreter loads the whole core and is asked.
    probe = (
        "import importlib, sys\n"
        f"for name in {core!r}: importlib.import_module(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(CLIENT_LIBRARIES)!r}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]", loaded.stdout


def test_only_the_ews_connector_imports_exchangelib() -> None:
    importers = sorted(
        module
        for module in modules()
        if not _within(module, EWS)
        and any(_within(name, "exchangelib") for name in imports(module, top_level_only=False))
    )
    assert importers == []


def test_the_import_graph_has_no_cycle() -> None:
    graph = {
        module: {
            name
            for name in imports(module, top_level_only=True)
            if name in modules() and name != module
        }
        for module in modules()
    }
    cycle = _find_cycle(graph)
    assert cycle is None, " → ".join(cycle or [])


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_arrows_inside_workers_point_one_way() -> None:
    entities = ("workers.sync.contacts", "workers.sync.appointments", "workers.sync.tasks")
    entities += ("workers.sync.communications",)
    rules = {
        # the core: nothing of workers but itself
        CORE: lambda name: _within(name, "workers") and not _within(name, CORE),
        # connectors: the core only
        "workers.connectors": lambda name: (
            _within(name, "workers.sync") and not _within(name, CORE)
        ),
        # entities: no connector, no wiring or runner
        **{
            entity: lambda name: (
                _within(name, "workers.connectors")
                or name in ("workers.sync.wiring", "workers.sync.runner")
            )
            for entity in entities
        },
    }
    wrong = sorted(
        f"{module} imports {name}"
        for module in modules()
        for prefix, forbidden in rules.items()
        if _within(module, prefix)
        for name in imports(module, top_level_only=False)
        if forbidden(name)
    )
    assert wrong == []


def test_no_module_is_over_500_lines() -> None:
    long = {
        module: lines
        for module, path in modules().items()
        if (lines := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}
