"""The project's own modules import each other without a circle (issue 13).

The graph is built from the source with ``ast``: every ``import`` and ``from ... import``, at module level and
inside functions alike (an import hidden in a function is still a dependency), of every module outside tests/
and migrations/. A circle is a strongly connected component of more than one module.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
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


# --- imports at the top of modules, except where a comment says why (issue 13) ---------------------------------
PROJECT_PACKAGES = ("oa_platform", "faq", "broadcasts")
_NOQA = re.compile(r"#\s*noqa(?::\s*[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)?\s*$", re.IGNORECASE)


def _explained_lines(source: str) -> set[int]:
    """Line numbers that hold a comment saying something (a bare ``# noqa: X123`` says nothing about why)."""
    return {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT and not _NOQA.fullmatch(token.string.strip())
    }


def unexplained_function_imports(root: Path) -> list[str]:
    """``path:line`` of every import of a project module inside a function with no comment on its line or on the
    two lines above it."""
    found = []
    for name, path in project_modules(root).items():
        if name.split(".")[0] not in PROJECT_PACKAGES:
            continue
        source = path.read_text(encoding="utf-8")
        explained = _explained_lines(source)
        tree = ast.parse(source, filename=str(path))
        functions = [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]
        imports = {node for function in functions for node in ast.walk(function)}
        for node in sorted(imports, key=lambda n: getattr(n, "lineno", 0)):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                targets = ["." if node.level else (node.module or "")]
            else:
                continue
            if not any(t == "." or t.split(".")[0] in PROJECT_PACKAGES for t in targets):
                continue
            if explained & {node.lineno, node.lineno - 1, node.lineno - 2}:
                continue
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_project_imports_inside_functions_say_why():
    found = unexplained_function_imports(ROOT)
    assert not found, (
        "Imports of project modules inside functions: move them to the top of the module, or say why on the line"
        " above (e.g. '# imported here: ...'):\n  " + "\n  ".join(found)
    )


def test_the_function_import_check_wants_a_comment_that_is_not_a_bare_noqa(tmp_path):
    root = _package(
        tmp_path,
        {
            "faq/__init__.py": "",
            "faq/a.py": (
                "import json\n"
                "from faq import b\n"
                "def f():\n"
                "    import os\n"  # not a project module
                "    from faq import c\n"  # line 5: no comment
                "def g():\n"
                "    # imported here: c imports a\n"
                "\n"
                "    from faq import c\n"  # line 9: comment two lines above
                "def h():\n"
                "    from . import c  # noqa: F401\n"  # line 11: a bare noqa is no reason
                "async def i():\n"
                "    from faq.c import x  # noqa: F401 - registers the receivers\n"  # line 13: says why
                "def j():\n"
                "    # imported here: too far above\n"
                "    x = 1\n"
                "    y = 2\n"
                "    import faq.c\n"  # line 18: the comment is three lines above
            ),
            "faq/migrations/0001.py": "def f():\n    from faq import a\n",
            "other/x.py": "def f():\n    from other import y\n",
        },
    )
    assert unexplained_function_imports(root) == ["faq/a.py:5", "faq/a.py:11", "faq/a.py:18"]
