"""The layers, pinned from the import graph (AST), and the public API, pinned by name.

reader -> decode -> frames -> snapshot -> analysis -> charts -> views -> widgets -> cli:
a module imports only from its own layer or the layers below. Every import
counts, also one inside a function (a lazy import is still a dependency).
The only upward imports are the *doorways* listed in :data:`DOORWAYS`: a
data object reaching the layer above that renders, shows or stores it
(``_repr_html_``/``__repr__`` -> views, ``to_widget`` -> widgets,
``save``/``load`` -> persist), each imported lazily inside that one method;
an ``if TYPE_CHECKING:`` import may name the layer a doorway of its module
opens onto, to annotate what the doorway returns. No two modules import each
other at run time, but for a doorway and the module it opens onto.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mognet_lab

PACKAGE = Path(mognet_lab.__file__).resolve().parent
# Layer -> module prefixes (a prefix names a module or a subpackage); lowest first.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("base", ("_version", "errors", "format", "keys", "urls", "units", "settings", "schemas",
              "vector", "progress", "embedded", "raw", "export")),
    ("reader", ("reader", "offline.dump", "offline.batches", "offline.memory_model")),
    ("decode", ("decode",)),
    ("frames", ("frames", "records", "chunks", "fields")),
    ("snapshot", ("snapshot", "scanner", "lab", "offline")),
    ("persist", ("persist",)),
    ("dataset", ("dataset",)),
    ("analysis", ("analysis", "compare", "history")),
    ("charts", ("charts",)),
    ("views", ("views", "display", "report", "metrics")),
    ("widgets", ("widgets",)),
    ("cli", ("cli", "cli_ops", "cli_source", "demo", "__init__", "__main__")),
)
# (importer, imported module, function it is imported in): the allowed upward imports.
DOORWAYS = {
    ("snapshot", "views", "result"), ("snapshot", "views", "server_info"),
    ("snapshot", "views", "_repr_html_"), ("snapshot", "views", "__repr__"),
    ("snapshot", "widgets", "to_widget"),
    ("snapshot", "persist", "save"), ("snapshot", "persist", "load"),
    ("lab", "views", "_repr_html_"),
    ("compare", "views", "__repr__"), ("compare", "views", "_repr_html_"),
    # Lab.value reads one value through the reader, then display/value.py decodes
    # and renders it.
    ("lab", "display.value", "value"),
    # Lab.scan attaches the warnings a pure analysis judges from the scan's frames.
    ("lab", "analysis", "scan"),
    # from_rdb attaches the nested-app warnings, as Lab.scan does.
    ("lab", "analysis", "from_rdb"),
    # Lab.scan(to=DIR) writes the scan to a dataset and opens it.
    ("lab", "dataset", "scan"),
    # from_rdb(..., to=DIR) writes dumps to a dataset and opens it.
    ("lab", "dataset", "from_rdb"),
    # Lab.estimate shows the pre-flight as an analysis.preflight.Estimate, and the guard
    # of a full scan judges it there (the estimators live in analysis.estimate).
    ("lab", "analysis", "estimate"), ("lab", "analysis", "_guard"),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    raise AssertionError(f"module {module} is in no layer: add it to LAYERS")


class _Imports(ast.NodeVisitor):
    """``(imported module, enclosing function or None, under TYPE_CHECKING)`` of one file."""

    def __init__(self, module: str, is_package: bool) -> None:
        self.base = module.split(".") if is_package else module.split(".")[:-1]
        self.found: list[tuple[str, str | None, bool]] = []
        self.function: list[str] = []
        self.typing = 0

    def _add(self, name: str) -> None:
        self.found.append((name, self.function[-1] if self.function else None,
                           self.typing > 0))

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.function.append(node.name)
        self.generic_visit(node)
        self.function.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_If(self, node: ast.If) -> None:
        typing = isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
        self.typing += typing
        for child in node.body:
            self.visit(child)
        self.typing -= typing
        for child in node.orelse:
            self.visit(child)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.startswith("mognet_lab."):
                self._add(alias.name[len("mognet_lab."):])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0:
            if node.module and node.module.startswith("mognet_lab."):
                self._add(node.module[len("mognet_lab."):])
            return
        base = self.base[:len(self.base) - (node.level - 1)]
        if node.module:
            self._add(".".join([*base, node.module]))
        else:  # from . import html: each name may be a module
            for alias in node.names:
                self._add(".".join([*base, alias.name]))


def _graph() -> dict[str, list[tuple[str, str | None, bool]]]:
    graph = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        visitor = _Imports(module if module != "__init__" else "", path.name == "__init__.py")
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        graph[module] = [(name.strip("."), fn, typing) for name, fn, typing in visitor.found
                         if name.strip(".")]
    return graph


GRAPH = _graph()


def _target(name: str) -> str:
    """The module an import names (``views.html`` stays; ``views.cells.x`` is ``views.cells``)."""
    while name not in GRAPH:
        if "." not in name:
            return "__init__"  # a name the package itself defines (__version__)
        name = name.rsplit(".", 1)[0]
    return name


def _owner(module: str) -> str:
    """The LAYERS prefix a module belongs to (``analysis`` for ``analysis.ttl``)."""
    return next(p for _, prefixes in LAYERS for p in prefixes
                if module == p or module.startswith(p + "."))


def test_every_module_has_a_layer() -> None:
    for module in GRAPH:
        _layer(module)


def _doorway(module: str, target: str, function: str | None) -> tuple[str, str, str | None]:
    return (_owner(module), target if target == "display.value" else _owner(target), function)


def _annotates_a_doorway(module: str, target: str) -> bool:
    owner, opened = _owner(module), _owner(target)
    return any(d[0] == owner and d[1].split(".")[0] == opened for d in DOORWAYS)


def test_imports_go_only_downward_but_through_the_doorways() -> None:
    upward, used = [], set()
    for module, imports in GRAPH.items():
        for name, function, typing in imports:
            target = _target(name)
            if _layer(target) <= _layer(module):
                continue
            doorway = _doorway(module, target, function)
            if typing and _annotates_a_doorway(module, target):
                continue
            if doorway in DOORWAYS:
                used.add(doorway)
            else:
                upward.append(f"{module} imports {target} (in {function or 'the module'})")
    assert upward == []
    assert used == DOORWAYS  # a doorway no longer used leaves the list


def test_no_module_is_imported_both_ways() -> None:
    edges = {(module, _target(name)) for module, imports in GRAPH.items()
             for name, fn, typing in imports
             if not typing and _doorway(module, _target(name), fn) not in DOORWAYS}
    both = sorted(f"{a} <-> {b}" for a, b in edges if a < b and (b, a) in edges)
    assert both == []


def test_doorways_are_lazy() -> None:
    for module, imports in GRAPH.items():
        for name, function, typing in imports:
            if _layer(_target(name)) > _layer(module) and not typing:
                assert function is not None, f"{module} imports {name} at module level"


def test_only_the_analysis_layer_uses_private_analysis_helpers() -> None:
    users = sorted(module for module, imports in GRAPH.items()
                   for name, _fn, _typing in imports
                   if _target(name) == "analysis._common" and not module.startswith("analysis"))
    assert users == []


@pytest.mark.parametrize("layer", ["views", "analysis", "charts", "decode", "frames"])
def test_nothing_above_the_reader_sends_a_command(layer: str) -> None:
    prefixes = dict(LAYERS)[layer]
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        if _owner(module) in prefixes:
            text = path.read_text(encoding="utf-8")
            assert ".call(" not in text and "execute_command" not in text, module


# -- the public API ---------------------------------------------------------------------------
PUBLIC = {
    "mognet_lab": [
        "AccessDenied", "AppNotFound", "BadDump", "BadOption", "Comparison",
        "EmbeddedRedisError", "FRAME_NAMES", "History", "InvalidURL", "Lab", "MognetLabError",
        "NotReadOnly", "NotRedis", "Provenance",
        "RedisUnavailable", "SCHEMAS", "ScanSettings", "ScanTooLarge", "ScanWarning",
        "Snapshot", "TLSFailed",
        "__version__",
        "compare", "connect", "discover_apps", "from_rdb", "Dataset", "open_dataset"],
    "mognet_lab.dataset": ["BatchSource", "CannotResume", "Dataset", "open_dataset",
                           "scan_to_dataset", "write_dataset"],
    "mognet_lab.analysis": [
        "AGE_BUCKETS", "TTL_BUCKETS", "anomalies", "anomaly_summary", "app_bytes",
        "arrival_rate", "cleanup_plan", "compression", "counted_servers", "duration_percentiles", "exceptions",
        "expiry_schedule",
        "family_bytes", "findings", "forecast", "format_bytes", "largest_values",
        "listpack_overflow", "maxmemory", "memory_by", "never_expiring", "overview",
        "poorly_compressed", "read_errors", "reference_time", "server_pressure", "throughput",
        "top_findings", "ttl_buckets", "used_memory", "value_statuses", "value_summary",
        "what_if", "without_ttl"],
    "mognet_lab.views": [
        "Chart", "Fact", "Page", "ResultView", "Section", "ServerInfo", "Table",
        "comparison_page", "dashboard_page", "findings_html", "findings_section", "lab_page",
        "render_html", "render_text", "snapshot_page", "summary_page", "summary_text"],
    "mognet_lab.report": ["REDACTED", "Report", "ReportData", "SUFFIXES", "check_report_path",
                          "redact"],
    "mognet_lab.display": ["ExceptionInfo", "ValueView"],
    "mognet_lab.widgets": ["Dashboard", "TAB_TITLES"],
}


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_api_is_pinned(name: str) -> None:
    from importlib import import_module

    if name == "mognet_lab.widgets":
        pytest.importorskip("ipywidgets")
    module = import_module(name)
    assert sorted(module.__all__) == sorted(PUBLIC[name])
    assert len(set(module.__all__)) == len(module.__all__)
    for attribute in module.__all__:
        assert getattr(module, attribute) is not None, attribute


def test_lazy_presentation_classes_stay_reachable() -> None:
    import mognet_lab
    from mognet_lab.report import Report

    assert mognet_lab.Report is Report and "Report" not in mognet_lab.__all__


FRONTENDS = ("matplotlib", "ipywidgets", "IPython")


def _frontend_imports(path: Path) -> list[tuple[str, bool]]:
    """``(frontend module, imported inside a function)`` of every run-time import in ``path``."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) \
                    and child.test.id == "TYPE_CHECKING":
                continue  # annotations only
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            names = [a.name for a in child.names] if isinstance(child, ast.Import) else \
                [child.module or ""] if isinstance(child, ast.ImportFrom) and not child.level \
                else []
            found.extend((n, inside) for n in names if n.split(".")[0] in FRONTENDS)
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


def test_frontends_load_only_where_they_are_drawn() -> None:
    """Below charts nothing imports a frontend; views draw charts only inside a function."""
    charts = dict(LAYERS)["charts"]
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        layer = _layer(module)
        for name, inside in _frontend_imports(path):
            assert layer >= _layer(charts[0]), f"{module} imports {name}"
            if _owner(module) in dict(LAYERS)["views"]:
                assert inside, f"{module} imports {name} at module level"
