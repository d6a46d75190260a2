"""The layout holds: no import cycles between modules, and apps depend on each other in one direction.

The apps are layered: ``governance`` (accounts, departments, scope, the API framework) ← ``parties``
(the chain) ← ``grids`` ← ``petitions``. An app imports only from the layers below it. The project
layer inside ``governance`` (the URL file that composes ``/api/v1/``, the demo seed and its command,
settings, celery, wsgi) may import every app. Every import counts, at module level or inside a
function; ``if TYPE_CHECKING:`` blocks do not (they never run).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("governance", "parties", "grids", "petitions")
PROJECT_LAYER = (
    "governance.urls",
    "governance.settings",
    "governance.celery",
    "governance.wsgi",
    "governance.demo",
    "governance.management.commands.seed_demo",
)


def _modules() -> dict[str, Path]:
    found = {}
    for app in LAYERS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``name`` imports (resolved to modules, not packages' attributes)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def resolve(module: str) -> None:
        while module and module not in modules:
            module = module.rpartition(".")[0]
        if module and module != name:
            targets.add(module)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for branch in node.orelse:
                visit(branch)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                resolve(alias.name)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                resolve(full if full in modules else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return targets


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            connect(v)
    return found


def test_the_checker_sees_imports_and_cycles() -> None:
    # It reads function-level imports and relative ones, skips TYPE_CHECKING, and finds a cycle.
    graph = _graph()
    assert "petitions.models" in graph["petitions.workflow"]
    assert "governance.access" in graph["parties.models"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_apps_import_only_the_layers_below_them() -> None:
    wrong = []
    for module, targets in _graph().items():
        if module.startswith(PROJECT_LAYER):
            continue
        layer = LAYERS.index(module.partition(".")[0])
        for target in targets:
            if LAYERS.index(target.partition(".")[0]) > layer:
                wrong.append(f"{module} imports {target}")
    assert wrong == []
