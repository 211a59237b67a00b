"""Input fuzzing for issue 16: mutate graph and plan JSON the way an outside tester would (wrong
types, missing keys, huge numbers, unicode, duplicates, broken text) and run the CLI in-process.

A case passes when the command either succeeds with a plan the verifier passes, or fails cleanly:
exit 2 with exactly one `error:` line on stderr and no internal error (verify may also exit 1 on
hazards). `python -m tests.fuzz_inputs --cases 3000` runs a campaign and prints the counts.
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field

from framegraph import FrameGraph, compile, dump_graph
from framegraph.access import ACCESS_TABLE
from framegraph.vk import Format

from .graphs import chain, deferred_like

HANG_SECONDS = 20


def everything_graph() -> FrameGraph:
    """Every resource feature in one small frame: buffers with ranges, imported/history/swapchain
    images, layers and mips, all three queues."""
    fg = FrameGraph("everything")
    buf = fg.create_buffer("particles", size=4096)
    lights = fg.import_buffer("lights", size=1024, initial="host_write", final="compute_shader_read_uniform")
    hist = fg.history_image("taa_history", format="R16G16B16A16_SFLOAT", extent=(32, 32),
                            state="fragment_shader_read_sampled")
    cube = fg.create_image("cube", format="R8G8B8A8_UNORM", extent=(16, 16), layers=6, mips=5)
    swap = fg.import_image("swapchain", format="B8G8R8A8_SRGB", extent=(32, 32), swapchain=True)
    with fg.add_pass("upload", queue="transfer") as p:
        buf = p.writes(buf, "transfer_write", range=(0, 2048), discard=True)
    with fg.add_pass("simulate", queue="compute") as p:
        p.reads(lights, "compute_shader_read_uniform")
        p.reads(buf, "compute_shader_read_storage", range=(0, 2048))
        buf = p.writes(buf, "compute_shader_write_storage", range=(2048, 2048), discard=True)
    with fg.add_pass("faces") as p:
        cube = p.writes(cube, "color_attachment_write", mips=(0, 1), discard=True)
    for m in range(1, 3):
        with fg.add_pass(f"down{m}") as p:
            p.reads(cube, "fragment_shader_read_sampled", mips=(m - 1, 1))
            cube = p.writes(cube, "color_attachment_write", mips=(m, 1), layers=(0, 6), discard=True)
    with fg.add_pass("shade") as p:
        p.reads(buf, "vertex_buffer", range=(2048, 2048))
        p.reads(cube, "fragment_shader_read_sampled", mips=(0, 3))
        p.reads(hist, "fragment_shader_read_sampled")
        swap = p.writes(swap, "color_attachment_write", discard=True)
    with fg.add_pass("resolve_history") as p:
        hist = p.writes(hist, "color_attachment_write", discard=True)
    fg.output(swap)
    fg.output(hist)
    return fg


def sample_graphs(samples: bool = True) -> list[dict]:
    """The test graphs, and (with `samples`) the shadow-map and deferred samples' graphs at a small
    size, where they build without a device."""
    fgs = [chain(2), deferred_like(), everything_graph()]
    if samples:
        import importlib
        for name in ("shadow_map", "deferred"):
            try:   # the samples' own tests cover them; here they are only more inputs
                fgs.append(importlib.import_module(f"samples.{name}").build_graph(width=64, height=48))
            except Exception:  # noqa: BLE001
                pass
    return [json.loads(dump_graph(fg.graph())) for fg in fgs]


def sample_plans(graphs: list[dict]) -> list[tuple[dict, dict]]:
    from framegraph import load_graph
    out = []
    for g in graphs:
        for strategy, device in (("batched", "lavapipe"), ("split", "discrete"), ("naive", "discrete")):
            out.append((g, json.loads(compile(load_graph(g), strategy=strategy, device=device).to_json())))
    return out


# ---------------------------------------------------------------- mutations

VOCAB = (list(ACCESS_TABLE) + [f.full_name for f in Format] + ["undefined", "image", "buffer", "graphics", "compute",
         "transfer", "video", "VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT", "VK_PIPELINE_STAGE_2_FOO_BIT",
         "VK_ACCESS_2_SHADER_WRITE_BIT", "VK_IMAGE_LAYOUT_GENERAL", "VK_IMAGE_LAYOUT_BOGUS", "framegraph-graph/1",
         "framegraph-plan/1", "exclusive", "concurrent", "barrier", "pass", "set_event", "wait_events"])
EVIL = [None, True, False, 0, -1, 1, 2, 3, 7, 1.5, -0.0, 2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 63, 2 ** 64, 10 ** 30,
        -(2 ** 63), "", "16", "1e3", "false", "no", "null", "é", "日本語", "\u202e", "\ud800", "\x00", "a\nb",
        "x" * 300, [], [1], [0, 1], [1, 2, 3], ["a"], [None], [[0, 1]], {}, {"a": 1}, {"stages": 3}]


def _nodes(doc, path=()):
    """Every (container, key) in the document, with its path."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield doc, k, path + (k,)
            yield from _nodes(v, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield doc, i, path + (i,)
            yield from _nodes(v, path + (i,))


def _evil(rng: random.Random, old):
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(EVIL)
    if roll < 0.5:
        return rng.choice(VOCAB)
    if isinstance(old, int) and not isinstance(old, bool) and roll < 0.8:
        return rng.choice([0, -1, old + 1, old - 1, old * 2, old * 1000, old + 2 ** 31, 2 ** 62, -old])
    if isinstance(old, list) and old and roll < 0.8:
        return old[:-1] if rng.random() < 0.5 else old + [copy.deepcopy(rng.choice(old))]
    if isinstance(old, str) and roll < 0.8:
        return rng.choice([old.upper(), old + " ", old[:-1], old * 2, "VK_" + old, old.replace("_", "-")])
    return rng.choice(EVIL)


def gentle(doc, rng: random.Random):
    """Mutations that keep every type right (small ints, names from the vocabulary, dropped or
    repeated entries): most of these graphs are accepted, so the compiler and verifier get exercised."""
    for _ in range(rng.randint(1, 4)):
        nodes = list(_nodes(doc))
        if not nodes:
            return doc
        container, key, path = rng.choice(nodes)
        old = container[key]
        if isinstance(old, bool):
            container[key] = not old
        elif isinstance(old, int):
            container[key] = rng.choice([0, 1, 2, 3, 4, 6, 8, 16, 64, 256, 4096, old // 2, old + 1])
        elif isinstance(old, str) and path[-1] in ("access", "initial", "final"):
            container[key] = rng.choice(list(ACCESS_TABLE) + ["undefined"])
        elif isinstance(old, str) and path[-1] == "format":
            container[key] = rng.choice([f.full_name for f in Format])
        elif isinstance(old, str) and path[-1] == "queue":
            container[key] = rng.choice(["graphics", "compute", "transfer"])
        elif isinstance(container, list) and rng.random() < 0.5:
            del container[key]
        elif isinstance(container, list):
            dup = copy.deepcopy(old)
            if isinstance(dup, dict) and isinstance(dup.get("name"), str):
                dup["name"] += "_copy"
            container.insert(rng.randint(0, len(container)), dup)
    return doc


def mutate(doc, rng: random.Random):
    """1-4 mutations of a decoded JSON document (in place; returns it): gentle ones (right types)
    or hostile ones (anything)."""
    if rng.random() < 0.4:
        return gentle(doc, rng)
    for _ in range(rng.randint(1, 4)):
        nodes = list(_nodes(doc))
        if not nodes:
            return doc
        container, key, _path = rng.choice(nodes)
        roll = rng.random()
        if roll < 0.55:
            container[key] = _evil(rng, container[key])
        elif roll < 0.7:
            del container[key]
        elif roll < 0.8 and isinstance(container, list):
            container.insert(rng.randint(0, len(container)), copy.deepcopy(container[key]))   # duplicate
        elif roll < 0.88 and isinstance(container, dict):
            container[str(key) + rng.choice(["_", "s", " "])] = container.pop(key)          # misspelt key
        else:
            other_container, other_key, _ = rng.choice(nodes)                               # swap values
            if other_container is not container or other_key != key:
                a, b = container[key], other_container[other_key]
                try:
                    container[key], other_container[other_key] = copy.deepcopy(b), copy.deepcopy(a)
                except (IndexError, KeyError):
                    pass
    return doc


def to_text(doc, rng: random.Random) -> bytes:
    """Serialise, sometimes breaking the text itself: non-JSON constants, duplicate keys, truncation,
    stray bytes, deep nesting."""
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
    roll = rng.random()
    if roll < 0.04:
        text = text.replace("1", "Infinity", 1) if rng.random() < 0.5 else text.replace("1", "NaN", 1)
    elif roll < 0.08:
        i = text.find('"name": ')
        if i >= 0:
            text = text[:i] + '"name": "dup", ' + text[i:]
    elif roll < 0.11:
        text = text[:rng.randint(0, len(text))]
    elif roll < 0.13:
        depth = rng.choice([100, 10_000, 100_000])
        text = text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    elif roll < 0.15:
        data = bytearray(text.encode("utf-8", "surrogatepass"))
        data[rng.randrange(len(data))] = rng.choice([0xff, 0xc3, 0x80, 0x00])
        return bytes(data)
    elif roll < 0.17:
        text = text.replace("1", "9" * rng.choice([30, 5000]), 1)
    return text.encode("utf-8", "surrogatepass")


# ---------------------------------------------------------------- running the CLI in-process

class Hang(BaseException):
    """Raised by the alarm: a BaseException, so that main()'s catch-all cannot swallow it."""


@dataclass
class Outcome:
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    escaped: str | None = None      # an exception that got out of main()


def run_cli(argv: list[str], timeout: int = HANG_SECONDS) -> Outcome:
    from framegraph.__main__ import main

    def on_alarm(signum, frame):
        raise Hang()
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(timeout)
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = main(argv)
        escaped = None
    except Hang:
        rc, escaped = None, "hang"
    except BaseException as e:  # noqa: BLE001 - counted as a traceback
        rc, escaped = None, f"{type(e).__name__}: {e}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return Outcome(rc, out.getvalue(), err.getvalue(), time.perf_counter() - start, escaped)


def classify(outcome: Outcome, allowed: tuple[int, ...]) -> str:
    """'ok', 'clean_error', 'hang', 'traceback' (an exception or internal error) or 'bad_exit'."""
    if outcome.escaped == "hang":
        return "hang"
    if outcome.escaped is not None or "internal error" in outcome.stderr or "Traceback" in outcome.stderr:
        return "traceback"
    if outcome.rc not in allowed:
        return "bad_exit"
    if outcome.rc == 2:
        lines = [line for line in outcome.stderr.splitlines() if line.startswith("error:")]
        return "clean_error" if len(lines) == 1 else "bad_exit"
    return "ok"


def verified(graph_path: str, plan_path: str) -> list[str]:
    """What the verifier and the consistency check say about an accepted plan (empty: verified)."""
    from framegraph.consistency import check_plan_against_graph
    from framegraph.graph_json import graph_from_dict, read_json_file
    from framegraph.verifier import verify_plan
    plan = read_json_file(plan_path, "plan")
    graph = graph_from_dict(read_json_file(graph_path, "graph"))
    return [str(p) for p in verify_plan(plan)] + check_plan_against_graph(graph, plan)


@dataclass
class Tally:
    cases: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    slowest: float = 0.0

    def add(self, command: str, verdict: str, detail: str = "", seconds: float = 0.0) -> None:
        self.cases[command] = self.cases.get(command, 0) + 1
        key = (command, verdict)
        self.counts[key] = self.counts.get(key, 0) + 1
        self.slowest = max(self.slowest, seconds)
        if verdict in ("traceback", "hang", "bad_exit", "unverified"):
            self.failures.append((command, verdict, detail))


def _keep(verdict: str, *paths: str) -> None:
    """With FUZZ_KEEP=DIR, failing inputs are copied there (the reproducer for `--debug`)."""
    keep = os.environ.get("FUZZ_KEEP")
    if keep and verdict in ("traceback", "hang", "bad_exit", "unverified"):
        os.makedirs(keep, exist_ok=True)
        n = len(os.listdir(keep))
        for i, path in enumerate(paths):
            shutil.copy(path, os.path.join(keep, f"{n:04d}-{i}-{os.path.basename(path)}"))


def compile_case(rng: random.Random, graphs: list[dict], tmp: str, tally: Tally) -> None:
    graph_path, plan_path = os.path.join(tmp, "g.json"), os.path.join(tmp, "p.json")
    with open(graph_path, "wb") as f:
        f.write(to_text(mutate(copy.deepcopy(rng.choice(graphs)), rng), rng))
    if os.path.exists(plan_path):
        os.remove(plan_path)
    argv = ["compile", graph_path, "--strategy", rng.choice(["naive", "per_resource", "batched", "split"]),
            "--device", rng.choice(["lavapipe", "discrete"]), "-o", plan_path]
    outcome = run_cli(argv)
    verdict = classify(outcome, (0, 2))
    detail = outcome.escaped or outcome.stderr[-400:]
    if verdict == "ok":
        problems = verified(graph_path, plan_path)
        if problems:
            verdict, detail = "unverified", "\n".join(problems[:5])
    _keep(verdict, graph_path)
    if verdict not in ("ok", "clean_error"):
        detail = (detail or "") + "\n" + open(graph_path, "rb").read()[:3000].decode("utf-8", "replace")
    tally.add("compile", verdict, detail, outcome.seconds)


def _rc_verdict(verdict):
    return verdict


def verify_case(rng: random.Random, plans: list[tuple[dict, dict]], tmp: str, tally: Tally) -> None:
    graph, plan = rng.choice(plans)
    graph_path, plan_path = os.path.join(tmp, "vg.json"), os.path.join(tmp, "vp.json")
    with open(graph_path, "wb") as f:
        f.write(to_text(mutate(copy.deepcopy(graph), rng), rng) if rng.random() < 0.15
                else json.dumps(graph).encode())
    with open(plan_path, "wb") as f:
        f.write(to_text(mutate(copy.deepcopy(plan), rng), rng))
    outcome = run_cli(["verify", graph_path, plan_path] + (["--driver-rules"] if rng.random() < 0.3 else []))
    verdict = classify(outcome, (0, 1, 2))
    if verdict == "ok":
        verdict = "hazards" if outcome.rc == 1 else "verified"
    _keep(verdict, graph_path, plan_path)
    detail = (outcome.escaped or outcome.stderr[-400:]) + "\n" + open(plan_path, "rb").read()[:2000].decode(
        "utf-8", "replace") if verdict not in ("ok", "clean_error") else ""
    tally.add("verify", verdict, detail, outcome.seconds)


def viz_case(rng: random.Random, graphs: list[dict], tmp: str, tally: Tally) -> None:
    """Mutated graphs under names that are not lowercase .json; a module named like the file sits in
    the working directory and must never be imported."""
    name = rng.choice(["plan.JSON", "plan.Json", "plan", "plan.txt", "plan.json"])
    graph_path = os.path.join(tmp, name)
    with open(graph_path, "wb") as f:
        f.write(to_text(mutate(copy.deepcopy(rng.choice(graphs)), rng), rng) if rng.random() < 0.8
                else json.dumps(rng.choice(graphs)).encode())
    outcome = run_cli(["viz", graph_path, "-o", os.path.join(tmp, "viz")])
    verdict = classify(outcome, (0, 2))
    if "plan" in sys.modules and getattr(sys.modules["plan"], "TRAP", False):
        verdict = "traceback"
        del sys.modules["plan"]
    tally.add("viz", verdict, outcome.escaped or outcome.stderr[-400:], outcome.seconds)


def campaign(cases: dict[str, int], seed: int = 0, log=print) -> Tally:
    rng = random.Random(seed)
    graphs = sample_graphs()
    plans = sample_plans(graphs)
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        cwd = os.getcwd()
        os.chdir(tmp)
        sys.path.insert(0, tmp)
        try:
            with open("plan.py", "w") as f:     # `viz plan.JSON` once imported this
                f.write("TRAP = True\n")
            for command, n in cases.items():
                run = {"compile": lambda: compile_case(rng, graphs, tmp, tally),
                       "verify": lambda: verify_case(rng, plans, tmp, tally),
                       "viz": lambda: viz_case(rng, graphs, tmp, tally)}[command]
                start = time.perf_counter()
                for i in range(n):
                    run()
                log(f"{command}: {n} cases in {time.perf_counter() - start:.0f} s")
        finally:
            sys.path.remove(tmp)
            os.chdir(cwd)
    return tally


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--compile", type=int, default=2500)
    ap.add_argument("--verify", type=int, default=1500)
    ap.add_argument("--viz", type=int, default=400)
    ap.add_argument("--seed", type=int, default=16)
    args = ap.parse_args(argv)
    tally = campaign({"compile": args.compile, "verify": args.verify, "viz": args.viz}, seed=args.seed)
    for (command, verdict), n in sorted(tally.counts.items()):
        print(f"{command:8} {verdict:12} {n}")
    print(f"slowest case: {tally.slowest:.2f} s")
    for command, verdict, detail in tally.failures[:20]:
        print(f"--- {command} {verdict}\n{detail}")
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
