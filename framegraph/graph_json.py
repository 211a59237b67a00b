"""Reading and writing `framegraph-graph/1` files (DESIGN.md); malformed input raises
FrameGraphError naming the pass and resource where it can."""
from __future__ import annotations

import json
from typing import Any

from .access import lookup
from .errors import FrameGraphError
from .graph import QUEUES, AccessDecl, BufferDesc, Graph, ImageDesc, PassDecl, ResourceDecl

FORMAT = "framegraph-graph/1"


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    resources = []
    for r in graph.resources:
        d: dict[str, Any] = {"name": r.name, "kind": r.kind}
        if isinstance(r.desc, ImageDesc):
            d.update(format=r.desc.format.full_name, extent=list(r.desc.extent), mips=r.desc.mips,
                     layers=r.desc.layers, samples=r.desc.samples)
        else:
            d["size"] = r.desc.size
        if r.imported:
            d["imported"] = True
            if r.swapchain:
                d["swapchain"] = True
            if r.history:
                d["history"] = True
            d["initial"] = r.initial
            if r.final is not None:
                d["final"] = r.final
        if r.sharing != "exclusive":
            d["sharing"] = r.sharing
        resources.append(d)
    passes = []
    for p in graph.passes:
        accesses = []
        for a in p.accesses:
            d = {"resource": a.resource, "access": a.access}
            for key in ("mips", "layers", "range"):
                if getattr(a, key) is not None:
                    d[key] = list(getattr(a, key))
            if a.discard:
                d["discard"] = True
            accesses.append(d)
        passes.append({"name": p.name, "queue": p.queue, "accesses": accesses})
    return {"format": FORMAT, "name": graph.name, "resources": resources, "passes": passes,
            "outputs": list(graph.outputs)}


def dump_graph(graph: Graph) -> str:
    return json.dumps(graph_to_dict(graph), indent=2)


def load_graph(source: str | bytes | dict) -> Graph:
    """Parse a graph from JSON text or an already-decoded dict."""
    if isinstance(source, (str, bytes)):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as e:
            raise FrameGraphError(f"malformed graph JSON: {e}") from None
    if not isinstance(source, dict):
        raise FrameGraphError("graph JSON must be an object")
    if source.get("format") != FORMAT:
        raise FrameGraphError(f"unsupported graph format {source.get('format')!r} (want {FORMAT!r})")
    try:
        resources = tuple(_resource(r) for r in _list(source, "resources"))
        passes = tuple(_pass(p) for p in _list(source, "passes"))
        outputs = tuple(str(o) for o in source.get("outputs", []))
        return Graph(name=str(source.get("name", "frame")), resources=resources, passes=passes,
                     outputs=outputs)
    except FrameGraphError:
        raise
    except (KeyError, TypeError, ValueError) as e:
        raise FrameGraphError(f"malformed graph: {e!r}") from None


def _list(d: dict, key: str) -> list:
    value = d.get(key, [])
    if not isinstance(value, list):
        raise FrameGraphError(f"'{key}' must be a list")
    return value


def _pair(value, what, pass_name, resource):
    if value is None:
        return None
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
        raise FrameGraphError(f"'{what}' must be [base, count] integers, got {value!r}",
                              pass_name=pass_name, resource=resource)
    return (value[0], value[1])


def _resource(d: dict) -> ResourceDecl:
    if not isinstance(d, dict) or "name" not in d:
        raise FrameGraphError(f"resource entry needs a name: {d!r}")
    name = d["name"]
    kind = d.get("kind")
    try:
        if kind == "image":
            desc = ImageDesc(format=d["format"], extent=tuple(d["extent"]), mips=int(d.get("mips", 1)),
                             layers=int(d.get("layers", 1)), samples=int(d.get("samples", 1)))
        elif kind == "buffer":
            desc = BufferDesc(size=int(d["size"]))
        else:
            raise FrameGraphError(f"unknown kind {kind!r} (image or buffer)", resource=name)
    except KeyError as e:
        raise FrameGraphError(f"missing field {e}", resource=name) from None
    except ValueError as e:
        raise FrameGraphError(str(e), resource=name) from None
    imported = bool(d.get("imported", False))
    swapchain = bool(d.get("swapchain", False))
    final = d.get("final", "present" if swapchain else None)
    for state in (d.get("initial", "undefined"), final):
        if state not in (None, "undefined"):
            lookup(state, resource=name)
    return ResourceDecl(name=name, desc=desc, imported=imported or swapchain, swapchain=swapchain,
                        history=bool(d.get("history", False)), initial=d.get("initial", "undefined"),
                        final=final, sharing=d.get("sharing", "exclusive"))


def _pass(d: dict) -> PassDecl:
    if not isinstance(d, dict) or "name" not in d:
        raise FrameGraphError(f"pass entry needs a name: {d!r}")
    name = d["name"]
    queue = d.get("queue", "graphics")
    if queue not in QUEUES:
        raise FrameGraphError(f"unknown queue {queue!r}", pass_name=name)
    accesses = []
    for a in _list(d, "accesses"):
        if not isinstance(a, dict) or "resource" not in a or "access" not in a:
            raise FrameGraphError(f"access needs 'resource' and 'access': {a!r}", pass_name=name)
        res = a["resource"]
        info = lookup(a["access"], pass_name=name, resource=res)
        accesses.append(AccessDecl(resource=res, access=info.name, mips=_pair(a.get("mips"), "mips", name, res),
                                   layers=_pair(a.get("layers"), "layers", name, res),
                                   range=_pair(a.get("range"), "range", name, res),
                                   discard=bool(a.get("discard", False))))
    return PassDecl(name=name, queue=queue, accesses=tuple(accesses))
