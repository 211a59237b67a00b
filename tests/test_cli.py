import json
import subprocess
import sys

from framegraph import dump_graph

from .graphs import deferred_like


def run(*args):
    return subprocess.run([sys.executable, "-m", "framegraph", *args], capture_output=True, text=True)


def test_compile_then_verify(tmp_path):
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    for strategy in ("naive", "per_resource", "batched", "split"):
        for device in ("lavapipe", "discrete"):
            plan = tmp_path / f"{strategy}-{device}.json"
            r = run("compile", str(g), "--strategy", strategy, "--device", device, "-o", str(plan))
            assert r.returncode == 0, r.stderr
            assert "transient memory" in r.stderr and "barrier calls" in r.stderr
            assert json.loads(plan.read_text())["strategy"] == strategy
            v = run("verify", str(g), str(plan), "--driver-rules")
            assert v.returncode == 0 and "0 problems" in v.stdout, v.stdout


def test_verify_exits_1_on_a_broken_plan(tmp_path):
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    plan = tmp_path / "p.json"
    assert run("compile", str(g), "-o", str(plan)).returncode == 0
    d = json.loads(plan.read_text())
    for s in d["submits"]:
        s["commands"] = [c for c in s["commands"] if c["op"] != "barrier"]
    plan.write_text(json.dumps(d))
    v = run("verify", str(g), str(plan))
    assert v.returncode == 1 and "problem" in v.stdout and "lighting" in v.stdout


def test_verify_notices_a_plan_that_drops_a_pass(tmp_path):
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    plan = tmp_path / "p.json"
    assert run("compile", str(g), "-o", str(plan)).returncode == 0
    d = json.loads(plan.read_text())
    d["passes"] = [p for p in d["passes"] if p["name"] != "gbuffer"]
    plan.write_text(json.dumps(d))
    v = run("verify", str(g), str(plan))
    assert v.returncode == 1 and "gbuffer" in v.stdout


def test_bad_input_is_an_error_not_a_traceback(tmp_path):
    g = tmp_path / "bad.json"
    g.write_text("{ not json")
    r = run("compile", str(g))
    assert r.returncode == 2 and "malformed graph JSON" in r.stderr and "Traceback" not in r.stderr
    r = run("compile", str(g), "--device", "no_such_profile.json")
    assert r.returncode == 2


def test_compile_reports_the_transient_memory_of_the_plan(tmp_path):
    """The memory line states the plan's own aliased / unaliased / lower-bound bytes and the saving."""
    import re

    from samples import deferred
    g = tmp_path / "deferred.json"
    g.write_text(dump_graph(deferred.build_graph(width=640, height=360, shadow_size=1024).graph()))
    plan_path = tmp_path / "plan.json"
    r = run("compile", str(g), "-o", str(plan_path))
    assert r.returncode == 0, r.stderr
    stats = json.loads(plan_path.read_text())["stats"]
    m = re.search(r"transient memory: (\d+) bytes aliased \(.* MiB\), (\d+) unaliased \(.* MiB\), "
                  r"([\d.]+)% saved; lower bound (\d+) \(([\d.]+)x\)", r.stderr)
    assert m, r.stderr
    aliased, unaliased, bound = int(m[1]), int(m[2]), int(m[4])
    assert (aliased, unaliased, bound) == (stats["transient_bytes"], stats["transient_bytes_unaliased"],
                                           stats["transient_bytes_lower_bound"])
    assert aliased < unaliased and float(m[3]) == round(100 * (1 - aliased / unaliased), 1)


def test_exit_codes_0_1_2_with_one_error_line(tmp_path):
    """0 verified, 1 hazards, 2 bad input: the three answers of `verify`, as a shell script sees them."""
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    plan = tmp_path / "p.json"
    assert run("compile", str(g), "-o", str(plan)).returncode == 0
    assert run("verify", str(g), str(plan)).returncode == 0
    d = json.loads(plan.read_text())
    for s in d["submits"]:
        s["commands"] = [c for c in s["commands"] if c["op"] != "barrier"]
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(d))
    assert run("verify", str(g), str(broken)).returncode == 1
    d["resources"][0]["mips"] = 2 ** 63
    broken.write_text(json.dumps(d))
    for args in (("verify", str(g), str(broken)), ("verify", str(g), str(tmp_path)),
                 ("compile", str(tmp_path / "missing.json")), ("compile", str(g), "--strategy", "fastest")):
        r = run(*args)
        assert r.returncode == 2, args
        assert [x for x in r.stderr.splitlines() if x.startswith("error:")] and "Traceback" not in r.stderr, r.stderr
        assert len([x for x in r.stderr.splitlines() if x.startswith("error:")]) == 1, r.stderr


def test_compile_accepts_a_profile_file_and_refuses_a_bad_one(tmp_path):
    from framegraph.profiles import DISCRETE
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    prof = tmp_path / "prof.json"
    prof.write_text(json.dumps(DISCRETE.to_dict()))
    assert run("compile", str(g), "--device", str(prof), "-o", str(tmp_path / "p.json")).returncode == 0
    prof.write_text(json.dumps({**DISCRETE.to_dict(), "buffer_alignment": 300}))
    r = run("compile", str(g), "--device", str(prof))
    assert r.returncode == 2 and "buffer_alignment" in r.stderr and "power of two" in r.stderr
