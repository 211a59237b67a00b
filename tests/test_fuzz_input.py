"""Issue 16: hostile input never crashes. Mutated graph and plan JSON through the CLI (in-process),
and random calls of the Python API with wrong types and ranges, end only in clean errors (exit 2
with one `error:` line, or FrameGraphError leaving the builder unchanged) or in plans the verifier
passes. Bounded here (a few seconds); `-m slow_fuzz` runs the larger campaign."""
import json
import os
import random
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framegraph import FrameGraph, FrameGraphError, compile
from framegraph.access import ACCESS_TABLE
from framegraph.consistency import check_plan_against_graph
from framegraph.graph import QUEUE_STAGES
from framegraph.verifier import verify_plan

from .fuzz_inputs import Tally, compile_case, sample_graphs, sample_plans, verify_case, viz_case

GRAPHS = sample_graphs()
PLANS = sample_plans(GRAPHS)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def run_cases(case, seed: int, inputs) -> None:
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        try:
            with open("plan.py", "w") as f:      # `viz plan.JSON` once imported this from the cwd
                f.write("TRAP = True\n")
            case(random.Random(seed), inputs, tmp, tally)
        finally:
            os.chdir(cwd)
    assert not tally.failures, "\n".join(f"{c} {v}\n{d}" for c, v, d in tally.failures)


@FAST
@given(st.integers(0, 2 ** 32 - 1))
def test_mutated_graphs_compile_or_fail_cleanly(seed):
    run_cases(compile_case, seed, GRAPHS)


@FAST
@given(st.integers(0, 2 ** 32 - 1))
def test_mutated_plans_verify_or_fail_cleanly(seed):
    run_cases(verify_case, seed, PLANS)


@FEW
@given(st.integers(0, 2 ** 32 - 1))
def test_mutated_graphs_under_any_name_viz_or_fail_cleanly(seed):
    run_cases(viz_case, seed, GRAPHS)


# ---------------------------------------------------------------- the Python API

FORMATS = st.sampled_from(["R8G8B8A8_UNORM", "VK_FORMAT_D32_SFLOAT", "r16g16b16a16_sfloat", "B8G8R8A8_SRGB"])
BAD = st.sampled_from([None, True, 1.5, float("nan"), float("inf"), "16", "", -1, 0, 2 ** 63, [], (1.5, 1),
                       (0, "8"), (1, 2, 3), {}, "\ud800", b"x", object()])


def sometimes_bad(good):
    """Mostly right (so that frames get built and compiled), one argument in eight wrong."""
    return st.sampled_from([False] * 7 + [True]).flatmap(lambda bad: BAD if bad else good)


GOOD_NAMES = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "swap"])
WRITES = ["color_attachment_write", "transfer_write", "compute_shader_write_storage", "depth_attachment_write",
          "fragment_shader_write_storage", "general", "host_write"]
READS = ["fragment_shader_read_sampled", "transfer_read", "compute_shader_read_storage", "compute_shader_read_sampled",
         "vertex_buffer", "compute_shader_read_uniform", "depth_attachment_read", "host_read"]


@st.composite
def resource_call(draw):
    kind = draw(st.sampled_from(["image", "image", "buffer", "buffer", "import_image", "import_buffer", "history"]))
    name = draw(sometimes_bad(GOOD_NAMES))
    extent = sometimes_bad(st.sampled_from([(16, 16), (8,), (4, 4, 4), (32, 16), (1, 1)]))
    count = sometimes_bad(st.sampled_from([1, 1, 2, 3]))
    state = sometimes_bad(st.sampled_from(WRITES + READS + ["undefined"]))
    if kind in ("buffer", "import_buffer"):
        kw = dict(size=sometimes_bad(st.sampled_from([64, 256, 4096])))
        if kind == "import_buffer":
            kw.update(initial=state, final=st.one_of(st.none(), state))
    else:
        kw = dict(format=sometimes_bad(FORMATS), extent=extent, mips=count, layers=count)
        if kind == "image":
            kw["samples"] = sometimes_bad(st.sampled_from([1, 1, 1, 4]))
        if kind == "import_image":
            kw.update(initial=state, final=st.one_of(st.none(), state), swapchain=sometimes_bad(st.booleans()))
        if kind == "history":
            kw["state"] = state
    return kind, None, {"name": name, **{k: draw(v) for k, v in kw.items()}}


@st.composite
def access_call(draw):
    kind = draw(st.sampled_from(["reads", "writes", "writes"]))
    span = sometimes_bad(st.sampled_from(["none", "none", "none", "int", "pair"]).flatmap(
        lambda k: st.none() if k == "none" else st.integers(0, 3) if k == "int" else
        st.tuples(st.integers(-1, 4), st.integers(-1, 4))))
    pool = WRITES if kind == "writes" else READS
    # ("pick", i): the i-th access that suits the resource and the queue, chosen when applied.
    access = st.sampled_from(["pick", "pick", "pick", "any"]).flatmap(
        lambda k: st.tuples(st.just("pick"), st.integers(0, 99)) if k == "pick" else st.sampled_from(pool))
    kw = {"access": draw(sometimes_bad(access)), "mips": draw(span), "layers": draw(span),
          "range": draw(sometimes_bad(st.sampled_from([None, None, (0, 64), (64, 64), (0, 4096)])))}
    if kind == "writes":
        kw["discard"] = draw(sometimes_bad(st.sampled_from([True, True, False])))
    return kind, draw(st.integers(0, 20)), kw


@st.composite
def api_programs(draw, max_passes=6):
    """A frame declared the usual way (resources, then passes with their accesses, then outputs),
    every argument sometimes wrong, and a few calls out of place."""
    calls = [draw(resource_call()) for _ in range(draw(st.integers(1, 5)))]
    for _ in range(draw(st.integers(1, max_passes))):
        names = st.sampled_from([f"p{i}" for i in range(12)] + ["text"]).flatmap(
            lambda n: st.text(min_size=1, max_size=4) if n == "text" else st.just(n))
        calls.append(("pass", None, {"name": draw(sometimes_bad(names)),
                                     "queue": draw(sometimes_bad(st.sampled_from(["graphics", "graphics", "compute",
                                                                                  "transfer"])))}))
        calls += [draw(access_call()) for _ in range(draw(st.integers(0, 3)))]
    calls += [("output", draw(st.integers(0, 20)), {}) for _ in range(draw(st.integers(0, 2)))]
    for _ in range(draw(st.integers(0, 2))):
        calls.insert(draw(st.integers(0, len(calls))), draw(st.one_of(resource_call(), access_call())))
    return calls


def suitable(decl, queue: str) -> list:
    """Accesses the resource's kind takes and the queue can execute."""
    image = decl.kind == "image"
    return [a for a in ACCESS_TABLE.values() if (a.layout if image else a.buffer_usage) is not None
            and not a.stages & ~QUEUE_STAGES[queue]]


def apply_call(fg: FrameGraph, handles: list, passes: list, call) -> None:
    kind, index, kw = call
    kw = dict(kw)
    if kind in ("image", "buffer", "import_image", "import_buffer", "history"):
        method = {"image": fg.create_image, "buffer": fg.create_buffer, "import_image": fg.import_image,
                  "import_buffer": fg.import_buffer, "history": fg.history_image}[kind]
        handles.append(method(kw.pop("name"), **kw))
    elif kind == "pass":
        passes.append(fg.add_pass(kw["name"], queue=kw["queue"]))
    elif kind == "output":
        if handles:
            fg.output(handles[index % len(handles)])
    elif passes and handles:
        h = handles[index % len(handles)]
        access = kw.pop("access")
        if isinstance(access, tuple) and access[:1] == ("pick",):
            suits = [a for a in suitable(fg._resources[h.name], passes[-1].queue) if a.writes == (kind == "writes")]
            access = suits[access[1] % len(suits)].name if suits else "general"
            for key in (("range",) if fg._resources[h.name].kind == "image" else ("mips", "layers")):
                kw.pop(key)         # the well-meaning caller also names ranges the kind has
        if kind == "reads":
            kw.pop("discard", None)
            passes[-1].reads(h, access, **kw)
        else:
            handles[index % len(handles)] = passes[-1].writes(h, access, **kw)


@FAST
@given(api_programs(), st.sampled_from(["naive", "batched", "split"]),
       st.sampled_from(["lavapipe", "discrete"]))
def test_api_raises_before_changing_anything_or_builds_a_verified_plan(calls, strategy, device):
    check_api(calls, strategy, device)


def check_api(calls, strategy, device):
    fg = FrameGraph("api")
    handles, passes = [], []
    for call in calls:
        before = (fg.structural_key(), dict(fg._versions), len(passes))
        try:
            apply_call(fg, handles, passes, call)
        except FrameGraphError:
            assert (fg.structural_key(), dict(fg._versions), len(passes)) == before
    try:
        plan = compile(fg, strategy=strategy, device=device)
    except FrameGraphError:
        return
    d = json.loads(plan.to_json())
    problems = [str(p) for p in verify_plan(d)] + check_plan_against_graph(fg.graph(), d)
    assert problems == [], "\n".join(problems)


# ---------------------------------------------------------------- the larger opt-in campaign

@pytest.mark.slow_fuzz
@SLOW
@given(st.integers(0, 2 ** 32 - 1))
def test_slow_mutated_graphs(seed):
    run_cases(compile_case, seed, GRAPHS)


@pytest.mark.slow_fuzz
@SLOW
@given(st.integers(0, 2 ** 32 - 1))
def test_slow_mutated_plans(seed):
    run_cases(verify_case, seed, PLANS)


@pytest.mark.slow_fuzz
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1))
def test_slow_viz(seed):
    run_cases(viz_case, seed, GRAPHS)


@pytest.mark.slow_fuzz
@SLOW
@given(api_programs(max_passes=12), st.sampled_from(["naive", "per_resource", "batched", "split"]),
       st.sampled_from(["lavapipe", "discrete"]))
def test_slow_api(calls, strategy, device):
    check_api(calls, strategy, device)


# ---------------------------------------------------------------- every field, one at a time

def replaced(doc, path, value):
    doc = json.loads(json.dumps(doc))
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def check_every_plan_field(graph, plan, values):
    """Each field of a compiled plan replaced by each value: the shape check reports it, or the
    verifier and the consistency check read the plan without raising."""
    from framegraph.verifier.plan_model import check_plan
    from .fuzz_inputs import _nodes
    for _, _, path in list(_nodes(plan)):
        for value in values:
            d = replaced(plan, path, value)
            if not check_plan(d):
                verify_plan(d, driver_rules=True)
                check_plan_against_graph(graph, d)


def check_every_graph_field(doc, values, strategy="split", device="discrete"):
    """Each field of a graph file replaced by each value: FrameGraphError, or a graph whose plan
    verifies."""
    from framegraph import load_graph
    from .fuzz_inputs import _nodes
    for _, _, path in list(_nodes(doc)):
        for value in values:
            try:
                graph = load_graph(replaced(doc, path, value))
                plan = json.loads(compile(graph, strategy=strategy, device=device).to_json())
            except FrameGraphError:
                continue
            problems = [str(p) for p in verify_plan(plan)] + check_plan_against_graph(graph, plan)
            assert problems == [], f"{path} = {value!r}:\n" + "\n".join(problems)


def test_every_plan_field_replaced_is_reported_or_read():
    from .graphs import chain
    graph = chain(1).graph()
    check_every_plan_field(graph, json.loads(compile(graph, strategy="split", device="discrete").to_json()),
                           (None, [], "x", -1))


def test_every_graph_field_replaced_is_refused_or_verified():
    from .graphs import chain
    check_every_graph_field(GRAPHS[0], (None, [], "x", 0, 2, True))


@pytest.mark.slow_fuzz
def test_slow_every_field():
    """The test graphs' files and plans (the samples' are too large to take field by field: ~2 min)."""
    from framegraph import load_graph
    values = (None, {}, [], "x", "", -1, 0, 1, 2, 7, True, 1.5, 2 ** 70, [0, 1], {"a": 1})
    small = GRAPHS[:3]
    for doc, plan in PLANS:
        if doc in small:
            check_every_plan_field(load_graph(doc), plan, values)
    for doc in small:
        check_every_graph_field(doc, values)
