"""Reading and writing `framegraph-graph/1` files (DESIGN.md), and strict JSON reading for every
file the CLI takes. Malformed input raises FrameGraphError naming the pass, resource and field;
the value checks are graph.py's, so a file and the Python API accept exactly the same frames."""
from __future__ import annotations

import json
import os
from typing import Any

from .errors import FrameGraphError, show_value, expect_bool, expect_name
from .graph import (AccessDecl, BufferDesc, Graph, ImageDesc, PassDecl, ResourceDecl, check_access,
                    check_pass_header)

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
    """Parse a graph from JSON text or an already-decoded dict. Every field is checked for type and
    range (docs/formats.md, "Limits") before anything is built; errors name pass, resource and field."""
    if isinstance(source, (str, bytes, bytearray)):
        source = parse_json(source, "graph")
    return graph_from_dict(source)


# ---------------------------------------------------------------- JSON text and files

MAX_FILE_BYTES = 64 << 20   # a 10,000-pass graph is ~3 MB; anything near this is not a frame


def parse_json(text: str | bytes, what: str, origin: str = ""):
    """Strict JSON: UTF-8, no NaN/Infinity, no key given twice (which one would win is a guess).
    `what` ("graph", "plan") and `origin` (a file name) are for messages."""
    where = f" in {origin!r}" if origin else ""
    source = f"{what} file {origin!r}" if origin else what
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise FrameGraphError(f"{source} is not UTF-8 text (byte {e.start}: {e.reason})") from None
    if len(text) > MAX_FILE_BYTES:
        raise FrameGraphError(f"{source} is larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except RecursionError:
        problem = "nested too deeply"
    except (ValueError, FrameGraphError) as e:     # ValueError: also an integer of more than 4300 digits
        problem = str(e)
    raise FrameGraphError(f"malformed {what} JSON{where}: {problem}")


def read_json_file(path, what: str):
    """A JSON file's value; a missing file, a directory, non-UTF-8 bytes or bad JSON raise
    FrameGraphError. Only paths: an int would be taken by open() as a file descriptor."""
    if not isinstance(path, (str, os.PathLike)):
        raise FrameGraphError(f"{what}: expected a file path, got {show_value(path)}")
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        raise FrameGraphError(f"cannot read {what} {os.fspath(path)!r}: it is a directory") from None
    except OSError as e:
        raise FrameGraphError(f"cannot read {what} {os.fspath(path)!r}: {e.strerror or e}") from None
    except ValueError as e:     # a path with a NUL byte
        raise FrameGraphError(f"cannot read {what} {path!r}: {e}") from None
    return parse_json(data, what, os.fspath(path))


def _no_duplicate_keys(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        owner = d.get("name")
        named = f" of the object named {show_value(owner)}" if isinstance(owner, str) else ""
        raise FrameGraphError(f"key {dup!r} given twice{named}")
    return d


def _no_constant(name: str):
    raise FrameGraphError(f"{name} is not a JSON number")


# ---------------------------------------------------------------- the graph's schema

_TOP_KEYS = frozenset({"format", "name", "resources", "passes", "outputs"})
_COMMON_KEYS = frozenset({"name", "kind", "imported", "history", "initial", "final", "sharing"})
_IMAGE_KEYS = _COMMON_KEYS | {"format", "extent", "mips", "layers", "samples", "swapchain"}
_BUFFER_KEYS = _COMMON_KEYS | {"size"}
_PASS_KEYS = frozenset({"name", "queue", "accesses"})
_ACCESS_KEYS = frozenset({"resource", "access", "mips", "layers", "range", "discard"})


def graph_from_dict(d) -> Graph:
    if not isinstance(d, dict):
        raise FrameGraphError(f"graph JSON must be an object, got {type(d).__name__}")
    if d.get("format") != FORMAT:
        raise FrameGraphError(f"unsupported graph format {show_value(d.get('format'))} (want {FORMAT!r})")
    _known_keys(d, _TOP_KEYS, "the graph")
    name = expect_name(d.get("name", "frame"), "name")
    resources: dict[str, ResourceDecl] = {}
    for i, r in enumerate(_list(d, "resources")):
        decl = _resource(r, i)
        if decl.name in resources:
            raise FrameGraphError("duplicate resource name", resource=decl.name)
        resources[decl.name] = decl
    passes, pass_names = [], set()
    for i, p in enumerate(_list(d, "passes")):
        decl = _pass(p, i, resources)
        if decl.name in pass_names:
            raise FrameGraphError("duplicate pass name", pass_name=decl.name)
        pass_names.add(decl.name)
        passes.append(decl)
    outputs = []
    for i, o in enumerate(_list(d, "outputs")):
        expect_name(o, f"outputs[{i}]")
        if o not in resources:
            raise FrameGraphError("unknown output resource", resource=o, field="outputs")
        if o in outputs:
            raise FrameGraphError("listed twice", resource=o, field="outputs")
        outputs.append(o)
    return Graph(name=name, resources=tuple(resources.values()), passes=tuple(passes), outputs=tuple(outputs))


def _list(d: dict, key: str, **where) -> list:
    value = d.get(key, [])
    if not isinstance(value, list):
        raise FrameGraphError(f"must be a list, got {show_value(value)}", field=key, **where)
    return value


def _known_keys(d: dict, allowed: frozenset, what: str, **where) -> None:
    """A misspelt key ("mip", "imported ") would otherwise be ignored and change the meaning silently."""
    unknown = sorted(map(str, d.keys() - allowed))
    if unknown:
        raise FrameGraphError(f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
                              f"in {what} (known: {', '.join(sorted(allowed))})", **where)


def _required(d: dict, key: str, **where):
    if key not in d:
        raise FrameGraphError("missing field", field=key, **where)
    return d[key]


def _resource(d, index: int) -> ResourceDecl:
    if not isinstance(d, dict):
        raise FrameGraphError(f"must be an object, got {show_value(d)}", field=f"resources[{index}]")
    if "name" not in d:
        _missing(f"resources[{index}].name")
    name = expect_name(d["name"], f"resources[{index}].name")
    where = {"resource": name}
    kind = _required(d, "kind", **where)
    if kind not in ("image", "buffer"):
        raise FrameGraphError(f"unknown kind {show_value(kind)} (image or buffer)", field="kind", **where)
    _known_keys(d, _IMAGE_KEYS if kind == "image" else _BUFFER_KEYS, f"an {kind} resource", **where)
    try:
        if kind == "image":
            desc = ImageDesc(format=_required(d, "format"), extent=_required(d, "extent"), mips=d.get("mips", 1),
                             layers=d.get("layers", 1), samples=d.get("samples", 1))
        else:
            desc = BufferDesc(size=_required(d, "size"))
        imported = expect_bool(d.get("imported", False), "imported")
        swapchain = expect_bool(d.get("swapchain", False), "swapchain")
        if swapchain and "imported" in d and not imported:
            raise FrameGraphError("a swapchain image is imported", field="imported")
        return ResourceDecl(name=name, desc=desc, imported=imported or swapchain, swapchain=swapchain,
                            history=d.get("history", False), initial=d.get("initial", "undefined"),
                            final=d.get("final", "present" if swapchain else None),
                            sharing=d.get("sharing", "exclusive"))
    except FrameGraphError as e:
        raise e.at(resource=name) from None


def _missing(field: str):
    raise FrameGraphError("missing field", field=field)


def _pass(d, index: int, resources: dict[str, ResourceDecl]) -> PassDecl:
    if not isinstance(d, dict):
        raise FrameGraphError(f"must be an object, got {show_value(d)}", field=f"passes[{index}]")
    if "name" not in d:
        _missing(f"passes[{index}].name")
    name = expect_name(d["name"], f"passes[{index}].name")
    queue = d.get("queue", "graphics")
    check_pass_header(name, queue)
    _known_keys(d, _PASS_KEYS, "a pass", pass_name=name)
    accesses = []
    for i, a in enumerate(_list(d, "accesses", pass_name=name)):
        if not isinstance(a, dict):
            raise FrameGraphError(f"must be an object, got {show_value(a)}", pass_name=name, field=f"accesses[{i}]")
        res = expect_name(_required(a, "resource", pass_name=name), f"accesses[{i}].resource", pass_name=name)
        where = {"pass_name": name, "resource": res}
        _known_keys(a, _ACCESS_KEYS, "an access", **where)
        decl = resources.get(res)
        if decl is None:
            raise FrameGraphError("unknown resource", **where)
        spans = {}
        for key in ("mips", "layers", "range"):
            value = a.get(key)
            if value is not None and not isinstance(value, (list, tuple)):
                raise FrameGraphError(f"must be [base, count] integers, got {show_value(value)}", field=key, **where)
            spans[key] = value
        info, mips, layers, range_, discard = check_access(decl, _required(a, "access", **where),
                                                           discard=a.get("discard", False), pass_name=name, queue=queue,
                                                           **spans)
        accesses.append(AccessDecl(resource=res, access=info.name, mips=mips, layers=layers, range=range_,
                                   discard=discard))
    return PassDecl(name=name, queue=queue, accesses=tuple(accesses))
