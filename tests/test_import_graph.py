"""The project's own modules import each other without a circle (issue 13).

The graph is built from the source with ``ast``: every ``import`` and ``from ... import``, at module level and
inside functions alike (an import hidden in a function is still a dependency), of every module outside tests/
and migrations/. A circle is a strongly connected component of more than one module.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP_DIRS = {"tests", "migrations", "var", "node_modules", "__pycache__"}

# Circles known to remain, each with who removes it. The list only shrinks: a circle not listed here fails the
# test, and so does a listed one that no longer exists (delete its line then).
# Each entry: frozenset({"app.module_a", "app.module_b"}), with a comment naming who removes it and when.
# Empty since main's faq-quality-2 merge removed faq.calibration <-> faq.matcher.
KNOWN_CIRCLES: set[frozenset[str]] = set()


def project_modules(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under ``root`` outside SKIP_DIRS and hidden folders."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if any(part in SKIP_DIRS or part.startswith(".") for part in parts[:-1]):
            continue
        name = ".".join(parts)[: -len(".py")]
        modules[name.removesuffix(".__init__")] = path
    return modules


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports (a name that is not a module counts as its package)."""
    modules = project_modules(root)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: ``from . import x``, ``from ..y import z``
                    parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in filter(None, map(resolve, targets)):
                # A module's own packages are imported by Python before it anyway: not an edge of a circle.
                if target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def circles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def _show(components) -> str:
    return "\n".join("  " + " <-> ".join(sorted(c)) for c in sorted(components, key=sorted)) or "  (none)"


def test_the_project_has_no_import_circle_beyond_the_known_ones():
    found = circles(import_graph(ROOT))
    new = found - KNOWN_CIRCLES
    gone = KNOWN_CIRCLES - found
    assert not new, f"New import circles (move the shared code down a layer instead):\n{_show(new)}"
    assert not gone, f"These known circles no longer exist: delete them from KNOWN_CIRCLES:\n{_show(gone)}"


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_the_graph_sees_imports_inside_functions_relative_imports_and_skips_tests_and_migrations(tmp_path):
    root = _package(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/a.py": "from app.b import thing\n",
            "app/b.py": "def f():\n    from . import c\n",
            "app/c.py": "def g():\n    import app.a\n",
            "app/d.py": "from .a import thing\nimport os\n",
            "app/migrations/0001.py": "from app import d\n",
            "tests/test_x.py": "from app import a\n",
        },
    )
    graph = import_graph(root)
    assert set(graph) == {"app", "app.a", "app.b", "app.c", "app.d"}
    assert graph["app.b"] == {"app.c"} and graph["app.d"] == {"app.a"}
    assert circles(graph) == {frozenset({"app.a", "app.b", "app.c"})}


def test_a_one_way_graph_has_no_circle_and_two_circles_are_told_apart():
    assert circles({"a": {"b"}, "b": {"c"}, "c": set()}) == set()
    two = circles({"a": {"b"}, "b": {"a", "c"}, "c": {"d"}, "d": {"c"}, "e": {"a"}})
    assert two == {frozenset({"a", "b"}), frozenset({"c", "d"})}
