"""The declared graph as Graphviz DOT, coloured by what the compiler made of it: passes (boxes,
filled by the stream that runs them, numbered in compiled order; culled ones grey and dashed) and
resource versions (a write makes a new version, Filament-style, so the picture stays acyclic)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from ..access import lookup
from ..errors import FrameGraphError
from ..plan import Plan
from .explain import size_text

# Colours of the logical queues, shared with the timeline so a pass reads the same in both
# pictures (the stream that runs it is the timeline's lane, and the graph's label where it differs).
QUEUE_COLORS = {"graphics": "#8ecae6", "compute": "#ffb703", "transfer": "#90be6d"}
CULLED_FILL = "#e5e5e5"
CULLED_INK = "#9a9a9a"


def queue_color(queue: str) -> str:
    return QUEUE_COLORS.get(queue, "#cdb4db")


def _q(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(s: str) -> str:
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _as_graph(graph):
    """Accept a frozen Graph or a FrameGraph builder."""
    return graph.graph() if hasattr(graph, "graph") and callable(graph.graph) else graph


def _span(pair, what):
    if pair is None:
        return ""
    base, count = pair
    return f" {what}{base}" if count == 1 else f" {what}{base}-{base + count - 1}"


def _access_label(a) -> str:
    rng = _span(a.mips, "mip") + _span(a.layers, "layer")
    if a.range is not None:
        rng += f" [{a.range[0]}+{a.range[1]}]"
    return a.access + rng + (" (discard)" if a.discard else "")


def _resource_desc(decl) -> str:
    d = decl.desc
    if decl.kind == "image":
        w, h, depth = d.extent
        extra = "".join(f" ×{n} {what}" for n, what in ((d.mips, "mips"), (d.layers, "layers")) if n > 1)
        return f"{d.format.name} {w}×{h}" + (f"×{depth}" if depth > 1 else "") + extra
    return f"buffer {size_text(d.size)}"


def to_dot(plan: Plan, graph) -> str:
    """DOT text for `graph` as compiled into `plan`."""
    graph = _as_graph(graph)
    kept = {p.name: (i, p) for i, p in enumerate(plan.passes)}
    culled = set(plan.culled) | {p.name for p in graph.passes if p.name not in kept}
    decls = {r.name: r for r in graph.resources}
    used_by_kept = {a.resource for p in plan.passes for a in p.accesses}
    outputs = set(graph.outputs)

    device = plan.options.get("device", "?") if plan.options else "?"
    title = f"{plan.graph} · strategy {plan.strategy} · device {device}"
    lines = [f"digraph {_q(plan.graph)} {{",
             "  rankdir=TB; newrank=true; nodesep=0.3; ranksep=0.35; fontname=Helvetica;",
             f"  label={_q(title)}; labelloc=t; fontsize=16;",
             "  node [fontname=Helvetica, fontsize=11]; edge [fontname=Helvetica, fontsize=8, color=\"#555555\"];"]

    # Resource version nodes, created lazily in program order.
    version = {r.name: 0 for r in graph.resources}
    made: set[str] = set()

    def res_node(name: str, v: int) -> str:
        node = f"r:{name}:{v}"
        if node in made:
            return node
        made.add(node)
        decl = decls.get(name)
        live = name in used_by_kept
        ink = "black" if live else CULLED_INK
        vtext = f" v{v}" if v else ""
        desc = _resource_desc(decl) if decl is not None else "?"
        kind = ("transient" if decl is None or decl.transient else
                "swapchain" if decl.swapchain else "history" if decl.history else "imported")
        label = (f'<<b>{_html(name)}</b>{_html(vtext)}<br/><font point-size="8">{_html(desc)} · '
                 f'{kind}</font>>')
        shape = "ellipse" if decl is None or decl.kind == "image" else "cylinder"
        attrs = [f"label={label}", f"shape={shape}", f"color={_q(ink)}", f"fontcolor={_q(ink)}"]
        if decl is not None and decl.imported:
            attrs.append("peripheries=2")
        if name in outputs:
            attrs.append("penwidth=2")
        if not live:
            attrs.append("style=dashed")
        lines.append(f"  {_q(node)} [{', '.join(attrs)}];")
        return node

    for p in graph.passes:
        is_kept = p.name in kept
        if is_kept:
            pos, pp = kept[p.name]
            fill = queue_color(p.queue)
            where = p.queue if pp.stream == p.queue else f"{p.queue} → {pp.stream} stream"
            label = f'<<b>{pos}  {_html(p.name)}</b><br/><font point-size="9">{_html(where)}</font>>'
            attrs = f'shape=box, style="rounded,filled", fillcolor={_q(fill)}, label={label}'
        else:
            label = f'<<b>{_html(p.name)}</b><br/><font point-size="9">{_html(p.queue)} · culled</font>>'
            attrs = (f'shape=box, style="rounded,filled,dashed", fillcolor={_q(CULLED_FILL)}, '
                     f'color={_q(CULLED_INK)}, fontcolor={_q(CULLED_INK)}, label={label}')
        pnode = f"p:{p.name}"
        lines.append(f"  {_q(pnode)} [{attrs}];")
        grey = "" if is_kept else f", color={_q(CULLED_INK)}, fontcolor={_q(CULLED_INK)}, style=dashed"
        # Reads see the version on entry; each written resource gets one new version per pass.
        entry = {}
        writes = {}
        for a in p.accesses:
            entry.setdefault(a.resource, version[a.resource])
            if lookup(a.access).writes:
                writes.setdefault(a.resource, []).append(a)
            else:
                src = res_node(a.resource, entry[a.resource])
                lines.append(f"  {_q(src)} -> {_q(pnode)} [label={_q(_access_label(a))}{grey}];")
        for name, accs in writes.items():
            version[name] = entry[name] + 1
            dst = res_node(name, version[name])
            label = "\\n".join(_access_label(a) for a in accs)
            lines.append(f"  {_q(pnode)} -> {_q(dst)} [label={_q(label)}, penwidth=1.8, color=\"#222222\"{grey}];")
            read_too = any(a.resource == name and not lookup(a.access).writes for a in p.accesses)
            keeps_old = not all(a.discard for a in accs) or any(
                a.mips is not None or a.layers is not None or a.range is not None for a in accs)
            if keeps_old and not read_too and (entry[name] > 0 or decls[name].imported):
                # The write keeps older contents it did not read: show what it builds on.
                prev = res_node(name, entry[name])
                lines.append(f"  {_q(prev)} -> {_q(dst)} [style=dotted, arrowhead=none, color=\"#999999\"];")

    lines.append(_legend(plan, [q for q in QUEUE_COLORS if any(p.queue == q for p in graph.passes)]))
    if graph.passes:
        # An invisible edge from the last pass keeps the legend at the bottom (rank=sink alone is
        # ignored for an unconnected node).
        lines.append(f'  {_q("p:" + graph.passes[-1].name)} -> "legend" [style=invis];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend(plan: Plan, queues: list[str]) -> str:
    rows = []
    for q in queues:
        rows.append(f'<tr><td bgcolor="{queue_color(q)}" width="28"> </td>'
                    f'<td align="left">{_html(q)} queue pass</td></tr>')
    rows.append('<tr><td>N</td><td align="left">position in the compiled order; "→ X stream": runs on the X '
                'VkQueue</td></tr>')
    if plan.culled:
        rows.append(f'<tr><td bgcolor="{CULLED_FILL}"> </td><td align="left">culled pass (not in the plan; '
                    'dashed)</td></tr>')
    rows.append('<tr><td>○</td><td align="left">image (cylinder: buffer); double outline: imported; '
                'bold: frame output</td></tr>')
    rows.append('<tr><td>→</td><td align="left">thin: read · bold: write (makes the next version vN) · '
                'dotted: older contents kept</td></tr>')
    table = ('<<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
             '<tr><td colspan="2"><b>legend</b></td></tr>' + "".join(rows) + "</table>>")
    return f'  "legend" [shape=plaintext, fontsize=9, label={table}];'


def render_svg(dot_text: str, path: str | Path, *, fmt: str = "svg") -> Path:
    """Render DOT with the `dot` binary (graphviz); FrameGraphError if it is missing or fails."""
    exe = shutil.which("dot")
    if exe is None:
        raise FrameGraphError("graphviz 'dot' not found on PATH: install graphviz to render graph.svg")
    path = Path(path)
    r = subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot_text, text=True, capture_output=True)
    if r.returncode != 0:
        raise FrameGraphError(f"dot failed: {r.stderr.strip()}")
    return path
