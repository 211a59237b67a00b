"""Data flows one way: no import cycle among the modules of `framegraph/` and `backends/` (module-level
imports, as Python runs them; imports inside functions are deliberate late bindings)."""
import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"framegraph": ROOT / "framegraph", "framegraph.backends": ROOT / "backends"}


def _modules() -> dict[str, Path]:
    out = {}
    for prefix, base in PACKAGES.items():
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix] + parts)] = path
    return out


def _top_level_imports(tree: ast.Module):
    """Import statements Python runs when the module loads (not inside defs; TYPE_CHECKING skipped)."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                for child in getattr(node, field, []) or []:
                    stack.extend(child.body if isinstance(child, ast.ExceptHandler) else [child])


def import_graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    g.add_nodes_from(modules)
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in _top_level_imports(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = package
                for _ in range(max(node.level - 1, 0)):
                    base = base.rsplit(".", 1)[0]
                mod = node.module if node.level == 0 else ".".join(x for x in (base, node.module) if x)
                # `from pkg import name` imports the submodule pkg.name when there is one.
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names]
            for t in targets:
                while t and t not in modules and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t in modules and t != name:
                    g.add_edge(name, t)
    return g


def test_no_import_cycles():
    g = import_graph()
    assert g.number_of_edges() > 50, "the walk found too few imports to mean anything"
    for a, b in (("framegraph.compiler.tracking", "framegraph.plan"), ("framegraph.viz", "framegraph.plan"),
                 ("framegraph.backends.vulkan.resources", "framegraph.backends.vulkan.heaps")):
        assert g.has_edge(a, b), (a, b)
    cycles = list(nx.simple_cycles(g))
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:10])


def test_heaps_and_resources_depend_one_way_even_inside_functions():
    """heaps.py knows nothing of resources.py (it used to reach back for ResourceCache inside a function)."""
    source = (ROOT / "backends" / "vulkan" / "heaps.py").read_text()
    imported = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ImportFrom)]
    assert not any(n.module == "resources" or (n.module or "").endswith(".resources") for n in imported)
