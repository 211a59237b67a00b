"""Issue 16, one regression test per class of bad input: it is refused with a FrameGraphError that
names pass, resource and field (API and graph file alike), or, on the CLI, exit 2 with one
`error:` line and no traceback; verify reports a malformed plan's fields instead of crashing."""
import copy
import json
import os
import subprocess
import sys
import time

import pytest

import framegraph
from framegraph import FrameGraph, FrameGraphError, PlanCache, compile, dump_graph, load_graph
from framegraph.__main__ import main
from framegraph.profiles import DeviceProfile, QueueSlot, resolve_profile
from framegraph.verifier import verify_plan
from framegraph.verifier.plan_model import check_plan
from framegraph.viz import load_graph_source

from .graphs import chain, deferred_like

BASE = json.loads(dump_graph(deferred_like().graph()))
RES = {r["name"]: i for i, r in enumerate(BASE["resources"])}


def graph_with(edit) -> dict:
    d = copy.deepcopy(BASE)
    edit(d)
    return d


def res(d, name):
    return d["resources"][RES[name]]


def first_access(d):
    return d["passes"][0]["accesses"][0]      # upload_lights writes 'lights'


def cli(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def assert_clean_error(rc, err, match=""):
    lines = err.splitlines()
    assert rc == 2, err
    assert len([x for x in lines if x.startswith("error:")]) == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert match in err, err


# ---------------------------------------------------------------- wrong types reached lookup/parse

@pytest.mark.parametrize("edit,match", [
    (lambda d: first_access(d).update(access=5), "pass 'upload_lights', resource 'lights', field 'access'"),
    (lambda d: res(d, "depth").update(format=37), "resource 'depth', field 'format'"),
    (lambda d: res(d, "swapchain").update(initial=["undefined"]), "resource 'swapchain', field 'initial'"),
    (lambda d: res(d, "depth").update(name=["depth"]), "field 'resources[0].name': must be a string"),
    (lambda d: d["passes"][0].update(name={"a": 1}), "field 'passes[0].name': must be a string"),
    (lambda d: res(d, "depth").update(extent=[]), "resource 'depth', field 'extent'"),
    (lambda d: res(d, "depth").update(extent=[float("inf"), 1]), "resource 'depth', field 'extent'"),
    (lambda d: res(d, "hdr").update(mips=float("inf")), "resource 'hdr', field 'mips'"),
    (lambda d: res(d, "lights").update(size=float("nan")), "resource 'lights', field 'size'"),
])
def test_wrong_types_are_errors_naming_the_field(edit, match):
    with pytest.raises(FrameGraphError, match=match.replace("[", r"\[").replace("]", r"\]")):
        load_graph(graph_with(edit))


def test_a_one_dimensional_extent_is_a_1d_image():
    d = graph_with(lambda d: res(d, "depth").update(extent=[16]))
    assert load_graph(d).resources[RES["depth"]].desc.extent == (16, 1, 1)


def test_json_text_infinity_nan_and_deep_nesting_are_clean_errors():
    text = dump_graph(deferred_like().graph())
    for bad in (text.replace('"mips": 3', '"mips": Infinity'), text.replace('"size": 4096', '"size": NaN')):
        with pytest.raises(FrameGraphError, match="not a JSON number"):
            load_graph(bad)
    with pytest.raises(FrameGraphError, match="nested too deeply"):
        load_graph("[" * 100_000 + "]" * 100_000)
    with pytest.raises(FrameGraphError, match="malformed graph JSON"):
        load_graph('{"size": ' + "9" * 5000 + "}")


def test_duplicate_and_unknown_keys_are_errors():
    text = dump_graph(deferred_like().graph()).replace('"mips": 3', '"mips": 3, "mips": 1')
    with pytest.raises(FrameGraphError, match="'mips' given twice of the object named 'hdr'"):
        load_graph(text)
    with pytest.raises(FrameGraphError, match="resource 'hdr'.*unknown field 'mip'"):
        load_graph(graph_with(lambda d: res(d, "hdr").update(mip=2)))


# ---------------------------------------------------------------- accepted but wrong

@pytest.mark.parametrize("edit,match", [
    (lambda d: res(d, "depth").update(samples=0), "field 'samples'"),
    (lambda d: res(d, "depth").update(samples=-1), "field 'samples'"),
    (lambda d: res(d, "depth").update(samples=3), "field 'samples': 3 is not a sample count"),
    (lambda d: res(d, "depth").update(format="VK_FORMAT_UNDEFINED"), "field 'format'"),
    (lambda d: res(d, "depth").update(extent="16"), "field 'extent'"),
    (lambda d: res(d, "depth").update(imported="false"), "field 'imported': must be true or false"),
    (lambda d: first_access(d).update(discard="no"), "field 'discard': must be true or false"),
    (lambda d: res(d, "swapchain").update(final="vertex_buffer"), "field 'final': 'vertex_buffer' is a buffer access"),
    (lambda d: res(d, "lights").update(imported=True, initial="present"), "field 'initial': 'present' is an image"),
    (lambda d: res(d, "swapchain").update(final="undefined"), "field 'final': cannot be 'undefined'"),
    (lambda d: res(d, "depth").update(extent=[1, 1, 1], mips=2), "field 'mips': 2 mips is more than a 1x1x1"),
    (lambda d: res(d, "depth").update(samples=4, mips=2), "field 'samples': a multisampled image has one mip"),
    (lambda d: res(d, "shadow").update(extent=[16, 16, 4]), "field 'layers': a 3D image"),
    (lambda d: res(d, "depth").update(history=True), "field 'imported'"),
])
def test_values_once_accepted_are_refused(edit, match):
    with pytest.raises(FrameGraphError, match=match):
        load_graph(graph_with(edit))


def test_the_api_refuses_the_same_values():
    fg = FrameGraph("api")
    with pytest.raises(FrameGraphError, match="resource 'a', field 'samples'"):
        fg.create_image("a", format="R8G8B8A8_UNORM", extent=(4, 4), samples=0)
    with pytest.raises(FrameGraphError, match="resource 'a', field 'format'"):
        fg.create_image("a", format="UNDEFINED", extent=(4, 4))
    with pytest.raises(FrameGraphError, match="resource 'a', field 'extent'"):
        fg.create_image("a", format="R8G8B8A8_UNORM", extent="16")
    with pytest.raises(FrameGraphError, match="resource 'a', field 'mips'"):
        fg.create_image("a", format="R8G8B8A8_UNORM", extent=(4, 4), mips=True)
    with pytest.raises(FrameGraphError, match="resource 'sc', field 'final'"):
        fg.import_image("sc", format="B8G8R8A8_SRGB", extent=(4, 4), final="vertex_buffer")
    with pytest.raises(FrameGraphError, match="resource 'b', field 'initial'"):
        fg.import_buffer("b", size=64, initial="present")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(16, 16), mips=3)
    buf = fg.create_buffer("buf", size=64)
    p = fg.add_pass("p")
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'img', field 'mips': must be an integer"):
        p.writes(img, "color_attachment_write", mips=(1.5, 1))
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'buf', field 'range': must be an integer"):
        p.writes(buf, "transfer_write", range=(0, "8"))
    with pytest.raises(FrameGraphError, match="field 'discard'"):
        p.writes(buf, "transfer_write", discard="no")
    assert fg.structural_key()[2] == (("p", "graphics", ()),)


def test_ranges_are_checked_at_the_call_site():
    fg = FrameGraph("ranges")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(16, 16), mips=3, layers=2)
    buf = fg.create_buffer("buf", size=256)
    p = fg.add_pass("p")
    for kw in ({"mips": (2, 2)}, {"layers": (0, 3)}, {"mips": (-1, 1)}):
        with pytest.raises(FrameGraphError, match="pass 'p', resource 'img'"):
            p.writes(img, "color_attachment_write", **kw)
    with pytest.raises(FrameGraphError, match="pass 'p', resource 'buf', field 'range'"):
        p.writes(buf, "transfer_write", range=(200, 100))
    with pytest.raises(FrameGraphError, match="'color_attachment_write' is an image access, 'buf' is a buffer"):
        p.writes(buf, "color_attachment_write")
    with pytest.raises(FrameGraphError, match="'vertex_buffer' is a buffer access, 'img' is an image"):
        p.reads(img, "vertex_buffer")
    assert p._accesses == []


def test_accesses_a_queue_cannot_execute_are_refused():
    """Found by the input fuzzer: a colour write on the transfer queue compiled, and the verifier
    then flagged stages the queue's family cannot run."""
    fg = FrameGraph("queues")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(4, 4))
    with pytest.raises(FrameGraphError, match="pass 't'.*COLOR_ATTACHMENT_OUTPUT, which a transfer queue cannot"):
        fg.add_pass("t", queue="transfer").writes(img, "color_attachment_write")
    with pytest.raises(FrameGraphError, match="pass 'c'.*FRAGMENT_SHADER, which a compute queue cannot"):
        load_graph(graph_with(lambda d: d["passes"][4]["accesses"][0].update(access="fragment_shader_read_sampled")
                              or d["passes"][4].update(name="c")))
    fg.add_pass("c", queue="compute").writes(img, "compute_shader_write_storage", discard=True)


# ---------------------------------------------------------------- unbounded sizes

@pytest.mark.parametrize("edit,match", [
    (lambda d: res(d, "shadow").update(layers=1_000_000), "field 'layers': 1000000 is out of range"),
    (lambda d: res(d, "shadow").update(layers=10 ** 7), "field 'layers'"),
    (lambda d: res(d, "depth").update(extent=[2 ** 40, 1, 1]), "field 'extent'"),
    (lambda d: res(d, "lights").update(size=2 ** 41), "field 'size'"),
    (lambda d: res(d, "depth").update(name="x" * 257), "must be 1 to 256 characters"),
])
def test_sizes_beyond_the_limits_are_refused_fast(edit, match):
    start = time.perf_counter()
    with pytest.raises(FrameGraphError, match=match):
        load_graph(graph_with(edit))
    assert time.perf_counter() - start < 0.5


def test_the_largest_accepted_image_compiles_in_bounded_time():
    fg = FrameGraph("big")
    img = fg.create_image("big", format="R8_UNORM", extent=(16384, 16384), mips=15, layers=2048)
    with fg.add_pass("fill") as p:
        img = p.writes(img, "transfer_write", discard=True)
    fg.output(img)
    start = time.perf_counter()
    plan = compile(fg)
    assert time.perf_counter() - start < 20
    assert verify_plan(json.loads(plan.to_json())) == []


# ---------------------------------------------------------------- CLI: files and exit codes

def test_missing_file_directory_and_non_utf8_exit_2(tmp_path, capsys):
    binary = tmp_path / "bin.json"
    binary.write_bytes(b'{"format": "\xff\xfe"}')
    good = tmp_path / "g.json"
    good.write_text(dump_graph(deferred_like().graph()))
    for argv, match in ((["compile", str(tmp_path / "missing.json")], "No such file"),
                        (["compile", str(tmp_path)], "it is a directory"),
                        (["compile", str(binary)], "is not UTF-8 text"),
                        (["verify", str(tmp_path / "missing.json"), str(good)], "No such file"),
                        (["verify", str(good), str(tmp_path)], "it is a directory"),
                        (["verify", str(good), str(binary)], "is not UTF-8 text"),
                        (["compile", str(good), "--device", str(tmp_path)], "device profile"),
                        (["compile", str(good), "-o", str(tmp_path)], "cannot write"),
                        (["compile"], "required")):
        rc, out, err = cli(capsys, *argv)
        assert_clean_error(rc, err, match)


def test_cli_subprocess_has_no_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "framegraph", "verify", str(tmp_path / "nope.json"), str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("error:") == 1 and "Traceback" not in r.stderr, r.stderr


def test_an_internal_error_is_one_line_and_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    g = tmp_path / "g.json"
    g.write_text(dump_graph(chain(1).graph()))

    def boom(*a, **k):
        raise RuntimeError("compiler bug")
    monkeypatch.setattr(framegraph.compiler, "compile", boom)
    rc, out, err = cli(capsys, "compile", str(g))
    assert rc == 2 and err.splitlines() == [
        "error: internal error: RuntimeError: compiler bug (please report it; --debug shows the traceback)"]
    rc, out, err = cli(capsys, "compile", str(g), "--debug")
    assert rc == 2 and "Traceback" in err and err.splitlines()[-1].startswith("error: internal error")


def write_plan(tmp_path, edit=None):
    g = tmp_path / "g.json"
    g.write_text(dump_graph(deferred_like().graph()))
    plan = json.loads(compile(deferred_like(), strategy="split", device="discrete").to_json())
    if edit:
        edit(plan)
    p = tmp_path / "p.json"
    p.write_text(json.dumps(plan))
    return g, p


def test_verify_reports_unknown_flags_with_their_location(tmp_path, capsys):
    def edit(plan):
        plan["passes"][0]["accesses"][0]["stages"] = ["VK_PIPELINE_STAGE_2_WARP_DRIVE_BIT"]
        plan["submits"][0]["commands"][0]["dependency"] = {"images": [{"resource": "depth", "src_access": ["NOPE"]}]}
    g, p = write_plan(tmp_path, edit)
    rc, out, err = cli(capsys, "verify", str(g), str(p))
    assert_clean_error(rc, err, "is malformed: 2 problem(s)")
    assert ("format: passes[0].accesses[0].stages: unknown pipeline stage 'VK_PIPELINE_STAGE_2_WARP_DRIVE_BIT' "
            "(pass 'upload_lights', resource 'lights')") in out
    assert "submits[0].commands[0].dependency.images[0].src_access: unknown access flag 'NOPE'" in out


def test_verify_on_absurd_sizes_is_fast(tmp_path, capsys):
    def edit(plan):
        for r in plan["resources"]:
            r["mips"] = 2 ** 63
    g, p = write_plan(tmp_path, edit)
    start = time.perf_counter()
    rc, out, err = cli(capsys, "verify", str(g), str(p))
    assert time.perf_counter() - start < 5
    assert_clean_error(rc, err, "is malformed")
    assert "resources[0].mips: 9223372036854775808 is out of range [0, 15]" in out


def test_verify_of_a_compiled_plan_is_still_a_verdict(tmp_path, capsys):
    g, p = write_plan(tmp_path)
    assert check_plan(json.loads(p.read_text())) == []
    rc, out, err = cli(capsys, "verify", str(g), str(p))
    assert rc == 0 and "0 problems" in out
    g, p = write_plan(tmp_path, lambda plan: [s.update(commands=[c for c in s["commands"] if c["op"] != "barrier"])
                                              for s in plan["submits"]])
    rc, out, err = cli(capsys, "verify", str(g), str(p))
    assert rc == 1 and err == ""


def test_check_plan_survives_any_shape():
    for plan in (None, [], "plan", {"resources": 5}, {"resources": [5]}, {"passes": [{"name": []}]},
                 {"submits": [{"queue": "graphics", "commands": [{"op": "barrier", "dependency": []}]}]},
                 {"queues": {"graphics": 7}}, {"resources": [{"name": "x", "imported": True, "final": {"layout": "VK_IMAGE_LAYOUT_GENERAL"}}]},
                 {"submits": None}, {"passes": [{"name": "p", "accesses": None}]},     # the campaign found these
                 {"submits": [{"queue": "graphics", "commands": None}]},
                 {"submits": [{"queue": "graphics", "commands": [{"op": "barrier", "dependency": {"images": None}}]}]},
                 {"submits": [{"queue": "graphics", "commands": [{"op": "wait_events", "events": None}]}]}):
        assert all(p.kind == "format" for p in check_plan(plan))
        assert check_plan(plan)


# ---------------------------------------------------------------- viz never imports by accident

def test_viz_reads_any_non_py_path_as_json_and_never_imports_from_the_cwd(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "plan.py").write_text("raise SystemExit('imported plan.py from the cwd')\n")
    (tmp_path / "plan.JSON").write_text(dump_graph(chain(1).graph()))
    assert load_graph_source("plan.JSON").name == "chain"
    rc, out, err = cli(capsys, "viz", "plan.JSON", "-o", str(tmp_path / "out"))
    assert rc == 0, err
    for source in ("plan", "plan.txt"):
        with pytest.raises(FrameGraphError, match="cannot read graph"):
            load_graph_source(source)
    assert "plan" not in sys.modules


def test_viz_loads_python_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "my_frames.py").write_text("from tests.graphs import chain\n"
                                           "def frame(width=8, height=8):\n    return chain(1, size=(width, height))\n")
    fg = load_graph_source("my_frames:frame", width=4, height=2)
    assert fg.graph().resources[0].desc.extent == (4, 2, 1)
    with pytest.raises(FrameGraphError, match="has no build_graph"):
        load_graph_source(str(tmp_path / "my_frames.py"))
    with pytest.raises(FrameGraphError, match="has no nothing"):
        load_graph_source("my_frames:nothing")
    with pytest.raises(FrameGraphError, match="cannot read graph"):
        load_graph_source("my_frames")           # a bare module name is a (missing) file, not an import


# ---------------------------------------------------------------- device= and profiles

def test_device_takes_only_what_it_names():
    r, w = os.pipe()
    try:
        for bad in (r, 3.5, None, ["lavapipe"], b"lavapipe"):
            with pytest.raises(FrameGraphError, match="device= takes"):
                compile(chain(1), device=bad)
        os.fstat(r)          # the descriptor is still open
    finally:
        os.close(r)
        os.close(w)
    assert resolve_profile("discrete").name == "discrete"
    assert resolve_profile({"queues": {"graphics": {"family": 0}}}).name == "custom"
    with pytest.raises(FrameGraphError, match="malformed device profile"):
        resolve_profile({"queues": {"graphics": {"family": "0"}}})
    with pytest.raises(FrameGraphError, match="must map the 'graphics' queue"):
        resolve_profile({"queues": {}})


def test_profiles_are_immutable_and_the_cache_never_goes_stale():
    queues = {"graphics": QueueSlot(family=0), "compute": QueueSlot(family=0)}
    profile = DeviceProfile(name="mine", queues=queues)
    queues["compute"] = QueueSlot(family=2)          # the caller's dict is copied, not kept
    assert profile.queues["compute"].family == 0
    with pytest.raises(TypeError):
        profile.queues["compute"] = QueueSlot(family=2)
    cache = PlanCache()
    fg = deferred_like()
    one = cache.get_or_compile(fg, device=profile)
    two = cache.get_or_compile(fg, device=DeviceProfile(name="mine", queues=queues))
    assert one is not two and one.queues != two.queues
    assert cache.get_or_compile(fg, device=profile) is one
    d = {"queues": {"graphics": {"family": 0}, "compute": {"family": 0}}}
    three = cache.get_or_compile(fg, device=d)
    d["queues"]["compute"]["family"] = 2             # a dict is resolved on every call
    assert cache.get_or_compile(fg, device=d) is not three


# ---------------------------------------------------------------- builder state

def test_a_read_that_raised_records_nothing():
    fg = FrameGraph("b")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(4, 4))
    with fg.add_pass("w") as p:
        img = p.writes(img, "color_attachment_write", discard=True)
    with fg.add_pass("r") as p:
        key = fg.structural_key()
        with pytest.raises(FrameGraphError, match="only reads"):
            p.writes(img, "fragment_shader_read_sampled")
        with pytest.raises(FrameGraphError, match="writes: declare it with writes"):
            p.reads(img, "color_attachment_write")
        with pytest.raises(FrameGraphError, match="unknown access"):
            p.reads(img, "sampled_please")
        assert fg.structural_key() == key and p._entry_versions == {}
    assert fg.graph().passes[1].accesses == ()


def test_only_the_newest_pass_declares_accesses():
    fg = FrameGraph("order")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(4, 4))
    early, late = fg.add_pass("early"), fg.add_pass("late")
    v1 = late.writes(img, "color_attachment_write", discard=True)
    with pytest.raises(FrameGraphError, match="pass 'early': pass is closed"):
        early.reads(v1, "fragment_shader_read_sampled")    # would read a version a later pass writes
    with fg.add_pass("outer"):
        with pytest.raises(FrameGraphError, match="pass 'outer' is still open"):
            fg.add_pass("inner")
    assert [p.name for p in fg.graph().passes] == ["early", "late", "outer"]
    late.execute(lambda ctx: None)                        # callbacks may still be attached
    with pytest.raises(FrameGraphError, match="execute\\(\\) takes a callable"):
        late.execute("not callable")


def test_names_must_be_printable_text():
    for bad in ("", "a\x00b", "\ud800", "x" * 257, 5, None):
        with pytest.raises(FrameGraphError):
            FrameGraph().create_buffer(bad, size=4)
    FrameGraph("ünïcødé 漢字").create_buffer("光", size=4)


def test_swapchain_images_are_what_a_swapchain_gives():
    """Found by the API fuzzer: a 2-layer swapchain image with one layer drawn compiled to a plan whose
    end-of-frame transition of the other layer did not wait for the acquire."""
    fg = FrameGraph("sc")
    with pytest.raises(FrameGraphError, match="resource 'sc', field 'swapchain': a swapchain image has one mip, one"):
        fg.import_image("sc", format="B8G8R8A8_SRGB", extent=(16, 16), layers=2, swapchain=True)
    with pytest.raises(FrameGraphError, match="resource 'sc', field 'initial'"):
        fg.import_image("sc", format="B8G8R8A8_SRGB", extent=(16, 16), swapchain=True,
                        initial="color_attachment_write")
    fg.import_image("sc", format="B8G8R8A8_SRGB", extent=(16, 16), swapchain=True, initial="present")


def test_present_is_a_state_not_a_pass_access():
    """Found by the input fuzzer: a pass 'reading' a transient as `present` compiled to a transition
    with an empty second scope, and an aliased image then went unordered after it."""
    fg = FrameGraph("p")
    img = fg.create_image("img", format="R8G8B8A8_UNORM", extent=(4, 4))
    with fg.add_pass("w") as p:
        img = p.writes(img, "color_attachment_write", discard=True)
    with fg.add_pass("r") as p:
        with pytest.raises(FrameGraphError, match="pass 'r', resource 'img', field 'access': 'present' is not"):
            p.reads(img, "present")
