"""The plan verifier (framegraph/verifier): hand-built `framegraph-plan/1` dicts, each either correct
(no problems) or broken in one way (caught with the right kind, naming the pass and the resource)."""
from __future__ import annotations

import time

import pytest

from framegraph.verify import Problem, verify_plan

# Short names; the helpers expand them to full Vulkan enum names.
COLOR, FS, VS, CS, EARLY, LATE = ("COLOR_ATTACHMENT_OUTPUT", "FRAGMENT_SHADER", "VERTEX_SHADER",
                                  "COMPUTE_SHADER", "EARLY_FRAGMENT_TESTS", "LATE_FRAGMENT_TESTS")
ALL, COPY = "ALL_COMMANDS", "COPY"
CW, SAMPLED, SREAD, SWRITE = ("COLOR_ATTACHMENT_WRITE", "SHADER_SAMPLED_READ", "SHADER_STORAGE_READ",
                              "SHADER_STORAGE_WRITE")
TREAD, TWRITE, MREAD, MWRITE = "TRANSFER_READ", "TRANSFER_WRITE", "MEMORY_READ", "MEMORY_WRITE"
ATT, SRO, GENERAL, UNDEF = "COLOR_ATTACHMENT_OPTIMAL", "SHADER_READ_ONLY_OPTIMAL", "GENERAL", "UNDEFINED"


def S(spec) -> list[str]:
    """'A|B' or a list -> full stage names ('' = NONE)."""
    names = spec.split("|") if isinstance(spec, str) else list(spec)
    return [f"VK_PIPELINE_STAGE_2_{n}_BIT" for n in names if n]


def A(spec) -> list[str]:
    names = spec.split("|") if isinstance(spec, str) else list(spec)
    return [f"VK_ACCESS_2_{n}_BIT" for n in names if n]


def L(name: str) -> str:
    return f"VK_IMAGE_LAYOUT_{name}"


# ---- accesses of a pass
def img(res, stages, access, layout, mips=None, layers=None, discard=False):
    d = {"resource": res, "stages": S(stages), "access": A(access), "layout": L(layout),
         "mips": mips or [0, 1], "layers": layers or [0, 1]}
    if discard:
        d["discard"] = True
    return d


def buf(res, stages, access, rng=None, discard=False):
    d = {"resource": res, "stages": S(stages), "access": A(access), "range": rng or [0, 1024]}
    if discard:
        d["discard"] = True
    return d


# ---- barriers of a dependency: (section, dict)
def ib(res, src, src_acc, dst, dst_acc, old, new, mips=None, layers=None, sq=None, dq=None):
    return "images", {"resource": res, "mips": mips or [0, 1], "layers": layers or [0, 1],
                      "src_stages": S(src), "src_access": A(src_acc), "dst_stages": S(dst), "dst_access": A(dst_acc),
                      "old_layout": L(old), "new_layout": L(new), "src_queue": sq, "dst_queue": dq}


def bb(res, src, src_acc, dst, dst_acc, rng=None, sq=None, dq=None):
    return "buffers", {"resource": res, "range": rng or [0, 1024], "src_stages": S(src), "src_access": A(src_acc),
                       "dst_stages": S(dst), "dst_access": A(dst_acc), "src_queue": sq, "dst_queue": dq}


def mb(src, src_acc, dst, dst_acc):
    return "memory", {"src_stages": S(src), "src_access": A(src_acc), "dst_stages": S(dst), "dst_access": A(dst_acc)}


def dep(*barriers) -> dict:
    d = {"memory": [], "buffers": [], "images": []}
    for section, b in barriers:
        d[section].append(b)
    return d


class Plan:
    """Builds a plan: queues -> families; commands go to the submit opened last."""

    def __init__(self, **families):
        self.families = families or {"gfx": 0}
        self.resources, self.passes, self.submits = [], [], []
        self.values = dict.fromkeys(self.families, 0)

    def image(self, name, mips=1, layers=1, **extra):
        self.resources.append({"name": name, "kind": "image", "transient": not extra.get("imported"),
                               "imported": False, "mips": mips, "layers": layers, "size": 65536, **extra})
        return self

    def buffer(self, name, size=1024, **extra):
        self.resources.append({"name": name, "kind": "buffer", "transient": not extra.get("imported"),
                               "imported": False, "size": size, **extra})
        return self

    def submit(self, queue="gfx", wait=(), signal=ALL, present=()):
        self.values[queue] += 1
        s = {"queue": queue, "wait": list(wait), "signal": {"value": self.values[queue], "stages": S(signal)},
             "commands": []}
        if present:
            s["present"] = list(present)
        self.submits.append(s)
        return self

    def run(self, name, *accesses):
        self.passes.append({"name": name, "queue": self.submits[-1]["queue"], "accesses": list(accesses)})
        return self.cmd(op="pass", **{"pass": name})

    def barrier(self, *barriers):
        return self.cmd(op="barrier", dependency=dep(*barriers))

    def cmd(self, **command):
        self.submits[-1]["commands"].append(command)
        return self

    def build(self) -> dict:
        return {"format": "framegraph-plan/1", "graph": "test", "strategy": "hand",
                "queues": {q: {"family": f, "index": 0} for q, f in self.families.items()},
                "culled": [], "passes": self.passes, "resources": self.resources, "heaps": [],
                "submits": self.submits, "stats": {}}


def wait(queue, value, stages):
    return {"queue": queue, "value": value, "stages": S(stages)}


def assert_clean(plan: Plan) -> None:
    problems = verify_plan(plan.build())
    assert problems == [], "\n".join(map(str, problems))


def assert_finds(plan: Plan, kind: str, pass_name, resource: str) -> list[Problem]:
    problems = verify_plan(plan.build())
    hits = [p for p in problems if p.kind == kind and p.pass_name == pass_name and p.resource == resource]
    assert hits, f"no {kind} for pass {pass_name!r} / {resource!r}; found:\n" + "\n".join(map(str, problems))
    for p in hits:
        assert resource in str(p) and (pass_name is None or pass_name in str(p))
    return hits


# ---------------------------------------------------------------------------- single queue
FIRST_USE = ib("img", "", "", COLOR, CW, UNDEF, ATT)
TO_SAMPLED = ib("img", COLOR, CW, FS, SAMPLED, ATT, SRO)


def color_then_sample(barrier=TO_SAMPLED, consumer_layout=SRO) -> Plan:
    return (Plan().image("img").submit()
            .barrier(FIRST_USE).run("producer", img("img", COLOR, CW, ATT, discard=True))
            .barrier(barrier).run("consumer", img("img", FS, SAMPLED, consumer_layout)))


def storage_chain(barrier=bb("b", CS, SWRITE, CS, SREAD), consumer_stage=CS) -> Plan:
    return (Plan().buffer("b").submit()
            .run("producer", buf("b", CS, SWRITE, discard=True))
            .barrier(*([barrier] if barrier else []))
            .run("consumer", buf("b", consumer_stage, SREAD)))


def test_color_write_barrier_sampled_read_is_clean():
    assert_clean(color_then_sample())


def test_war_needs_only_an_execution_dependency():
    plan = (color_then_sample()
            .barrier(ib("img", FS, "", COLOR, CW, SRO, ATT))
            .run("overwrite", img("img", COLOR, CW, ATT, discard=True)))
    assert_clean(plan)
    plan = (storage_chain()
            .barrier(bb("b", CS, "", CS, ""))
            .run("overwrite", buf("b", CS, SWRITE, discard=True)))
    assert_clean(plan)


def test_read_after_read_in_one_layout_needs_no_barrier():
    plan = color_then_sample().run("consumer2", img("img", FS, SAMPLED, SRO))
    assert_clean(plan)


def test_compute_storage_buffer_chain_on_ranges():
    plan = (Plan().buffer("b").submit()
            .run("left", buf("b", CS, SWRITE, [0, 512], discard=True))
            .run("right", buf("b", CS, SWRITE, [512, 512], discard=True))
            .barrier(bb("b", CS, SWRITE, CS, SREAD, [0, 512]), bb("b", CS, SWRITE, CS, SREAD, [512, 512]))
            .run("reduce", buf("b", CS, SREAD))
            .barrier(bb("b", CS, "", CS, "", [0, 256]))
            .run("rewrite", buf("b", CS, SWRITE, [0, 256]))
            .barrier(bb("b", CS, SWRITE, CS, SREAD, [0, 256]))
            .run("reread", buf("b", CS, SREAD, [0, 512])))
    assert_clean(plan)


def test_imported_image_with_initial_and_final_states():
    initial = {"stages": S(COLOR), "access": A(CW), "layout": L(ATT)}
    final = {"stages": S(COPY), "access": A(TREAD), "layout": L("TRANSFER_SRC_OPTIMAL")}
    plan = (Plan().image("hist", imported=True, initial=initial, final=final).submit()
            .barrier(ib("hist", COLOR, CW, FS, SAMPLED, ATT, SRO))
            .run("reader", img("hist", FS, SAMPLED, SRO, [0, 1]))
            .barrier(ib("hist", FS, "", COPY, TREAD, SRO, "TRANSFER_SRC_OPTIMAL")))
    plan.resources[0]["imported"] = True
    assert_clean(plan)


def test_naive_global_memory_barriers_are_clean():
    full = mb(ALL, MWRITE, ALL, f"{MREAD}|{MWRITE}")
    plan = (Plan().image("img").buffer("b").submit()
            .barrier(full, ib("img", ALL, MWRITE, ALL, f"{MREAD}|{MWRITE}", UNDEF, ATT))
            .run("draw", img("img", COLOR, CW, ATT, discard=True), buf("b", FS, SWRITE))
            .barrier(full, ib("img", ALL, MWRITE, ALL, f"{MREAD}|{MWRITE}", ATT, SRO))
            .run("post", img("img", FS, SAMPLED, SRO), buf("b", CS, SREAD))
            .barrier(full)
            .run("post2", buf("b", VS, SWRITE)))
    assert_clean(plan)


def test_depth_write_then_sampled_read():
    depth = "DEPTH_ATTACHMENT_OPTIMAL"
    dsw, dsr = "DEPTH_STENCIL_ATTACHMENT_WRITE", "DEPTH_STENCIL_ATTACHMENT_READ"
    plan = (Plan().image("depth").submit()
            .barrier(ib("depth", "", "", f"{EARLY}|{LATE}", f"{dsr}|{dsw}", UNDEF, depth))
            .run("shadow", img("depth", f"{EARLY}|{LATE}", f"{dsr}|{dsw}", depth, discard=True))
            .barrier(ib("depth", f"{EARLY}|{LATE}", dsw, FS, SAMPLED, depth, SRO))
            .run("lighting", img("depth", FS, SAMPLED, SRO)))
    assert_clean(plan)


# ---------------------------------------------------------------------------- single queue, broken
def test_missing_barrier_is_raw():
    hits = assert_finds(storage_chain(barrier=None), "RAW", "consumer", "b")
    assert hits[0].producer == "producer" and "producer" in str(hits[0])


def test_src_stage_earlier_than_the_write_is_raw():
    plan = (Plan().buffer("b").submit()
            .run("producer", buf("b", FS, SWRITE, discard=True))
            .barrier(bb("b", VS, SWRITE, FS, SREAD))
            .run("consumer", buf("b", FS, SREAD)))
    assert_finds(plan, "RAW", "consumer", "b")
    # the image form: the layout transition itself is not ordered after the write
    plan = color_then_sample(ib("img", VS, CW, FS, SAMPLED, ATT, SRO))
    assert_finds(plan, "RAW", "consumer", "img")


def test_execution_dependency_without_src_access_is_raw():
    hits = assert_finds(storage_chain(bb("b", CS, "", CS, SREAD)), "RAW", "consumer", "b")
    assert "available" in hits[0].detail
    assert_finds(color_then_sample(ib("img", COLOR, "", FS, SAMPLED, ATT, SRO)), "RAW", "consumer", "img")


def test_dst_stage_later_than_the_read_is_raw():
    plan = (Plan().buffer("b").submit()
            .run("producer", buf("b", CS, SWRITE, discard=True))
            .barrier(bb("b", CS, SWRITE, COLOR, SREAD))
            .run("consumer", buf("b", FS, SREAD)))
    assert_finds(plan, "RAW", "consumer", "b")
    assert_finds(color_then_sample(ib("img", COLOR, CW, COLOR, SAMPLED, ATT, SRO)), "RAW", "consumer", "img")


def test_dst_access_missing_is_raw():
    hits = assert_finds(storage_chain(bb("b", CS, SWRITE, CS, "")), "RAW", "consumer", "b")
    assert "visible" in hits[0].detail


def test_later_barrier_must_chain_from_the_transition_not_the_producer():
    # The transition before 'compute_read' is ordered before COMPUTE_SHADER only; a later barrier whose
    # source is the producer's stage does not chain from it, so the fragment read may overtake it.
    plan = (color_then_sample(ib("img", COLOR, CW, CS, SAMPLED, ATT, SRO), consumer_layout=SRO)
            .barrier(ib("img", COLOR, CW, FS, SAMPLED, SRO, SRO))
            .run("fragment_read", img("img", FS, SAMPLED, SRO)))
    plan.passes[1]["accesses"][0]["stages"] = S(CS)
    hits = assert_finds(plan, "RAW", "fragment_read", "img")
    assert "second scope COMPUTE_SHADER" in hits[0].detail
    plan.submits[0]["commands"][-2]["dependency"]["images"][0]["src_stages"] = S(f"{COLOR}|{CS}")
    assert_clean(plan)


def test_wrong_old_layout():
    assert_finds(color_then_sample(ib("img", COLOR, CW, FS, SAMPLED, GENERAL, SRO)), "layout", "consumer", "img")


def test_missing_layout_transition():
    assert_finds(color_then_sample(ib("img", COLOR, CW, FS, SAMPLED, ATT, ATT)), "layout", "consumer", "img")


def test_wrong_final_layout():
    final = {"stages": [], "access": [], "layout": L("PRESENT_SRC_KHR")}
    plan = (Plan().image("out", imported=True, initial={"stages": [], "access": [], "layout": L(UNDEF)},
                         final=final).submit()
            .barrier(ib("out", "", "", COLOR, CW, UNDEF, ATT))
            .run("draw", img("out", COLOR, CW, ATT, discard=True))
            .barrier(ib("out", COLOR, CW, "", "", ATT, "TRANSFER_SRC_OPTIMAL")))
    plan.resources[0]["imported"] = True
    assert_finds(plan, "final", None, "out")


def test_write_after_read_without_dependency_is_war():
    plan = storage_chain().run("overwrite", buf("b", CS, SWRITE, discard=True))
    hits = assert_finds(plan, "WAR", "overwrite", "b")
    assert hits[0].producer == "consumer"


def test_write_after_write_without_dependency_is_waw():
    plan = (Plan().buffer("b").submit()
            .run("first", buf("b", CS, SWRITE, discard=True))
            .run("second", buf("b", CS, SWRITE, discard=True)))
    assert_finds(plan, "WAW", "second", "b")
    # ordered but the second write does not see the first: still WAW (as VVL's sync validation)
    plan = (Plan().buffer("b").submit()
            .run("first", buf("b", CS, SWRITE, discard=True))
            .barrier(bb("b", CS, SWRITE, CS, ""))
            .run("second", buf("b", CS, SWRITE, discard=True)))
    assert_finds(plan, "WAW", "second", "b")


def test_read_of_never_written_transient_is_raw():
    plan = Plan().buffer("b").submit().run("reader", buf("b", CS, SREAD))
    hits = assert_finds(plan, "RAW", "reader", "b")
    assert "never written" in hits[0].detail
    plan = (Plan().image("img").submit()
            .barrier(ib("img", "", "", FS, SAMPLED, UNDEF, SRO))
            .run("reader", img("img", FS, SAMPLED, SRO)))
    assert_finds(plan, "RAW", "reader", "img")


def test_barrier_on_mip_0_does_not_cover_mip_1():
    plan = (Plan().image("img", mips=2).submit()
            .barrier(ib("img", "", "", CS, SWRITE, UNDEF, GENERAL, mips=[0, 2]))
            .run("producer", img("img", CS, SWRITE, GENERAL, mips=[0, 2], discard=True))
            .barrier(ib("img", CS, SWRITE, CS, SREAD, GENERAL, GENERAL, mips=[0, 1]))
            .run("consumer", img("img", CS, SREAD, GENERAL, mips=[1, 1])))
    hits = assert_finds(plan, "RAW", "consumer", "img")
    assert "mip 1" in hits[0].detail
    # with layouts, the untransitioned mip is also in the wrong layout
    plan = (Plan().image("img", mips=2).submit()
            .barrier(ib("img", "", "", COLOR, CW, UNDEF, ATT, mips=[0, 2]))
            .run("producer", img("img", COLOR, CW, ATT, mips=[0, 2], discard=True))
            .barrier(ib("img", COLOR, CW, FS, SAMPLED, ATT, SRO, mips=[0, 1]))
            .run("consumer", img("img", FS, SAMPLED, SRO, mips=[1, 1])))
    assert_finds(plan, "layout", "consumer", "img")
    assert_finds(plan, "RAW", "consumer", "img")


def test_buffer_barrier_range_does_not_cover_the_rest():
    plan = (Plan().buffer("b").submit()
            .run("producer", buf("b", CS, SWRITE, discard=True))
            .barrier(bb("b", CS, SWRITE, CS, SREAD, [0, 256]))
            .run("consumer", buf("b", CS, SREAD, [128, 256])))
    hits = assert_finds(plan, "RAW", "consumer", "b")
    assert "[256, 384)" in hits[0].detail


def test_problem_str_names_pass_resource_and_producer():
    p = assert_finds(storage_chain(barrier=None), "RAW", "consumer", "b")[0]
    text = str(p)
    assert text.startswith("RAW:") and "'consumer'" in text and "'b'" in text and "'producer'" in text


def test_malformed_names_are_format_problems():
    plan = storage_chain()
    plan.passes[0]["accesses"][0]["stages"] = ["VK_PIPELINE_STAGE_2_WARP_DRIVE_BIT"]
    assert_finds(plan, "format", "producer", "b")


def test_global_memory_barrier_with_exact_masks():
    assert_clean(storage_chain(mb(CS, SWRITE, CS, SREAD)))
    assert_finds(storage_chain(mb(CS, "", CS, SREAD)), "RAW", "consumer", "b")
    assert_finds(storage_chain(mb(CS, SWRITE, CS, "UNIFORM_READ")), "RAW", "consumer", "b")


def test_execution_dependency_of_a_buffer_barrier_is_global():
    # WAR on 'a' is covered by the barrier that names only 'b': execution dependencies are global.
    plan = (Plan().buffer("a").buffer("b").submit()
            .run("write_b", buf("b", CS, SWRITE, discard=True))
            .run("write_a", buf("a", CS, SWRITE, discard=True))
            .barrier(bb("a", CS, SWRITE, CS, SREAD))
            .run("read_a", buf("a", CS, SREAD))
            .barrier(bb("b", CS, SWRITE, CS, SREAD))
            .run("overwrite_a", buf("a", CS, SWRITE, discard=True), buf("b", CS, SREAD)))
    assert_clean(plan)


# ---------------------------------------------------------------------------- events
SET_DEP = dep(ib("img", COLOR, CW, FS, SAMPLED, ATT, SRO))


def event_plan(between=None, set_event=True, wait=True, wait_dep=SET_DEP) -> Plan:
    plan = (Plan().image("img").image("other").submit()
            .barrier(FIRST_USE, ib("other", "", "", COLOR, CW, UNDEF, ATT))
            .run("producer", img("img", COLOR, CW, ATT, discard=True)))
    if set_event:
        plan.cmd(op="set_event", event="e0", dependency=SET_DEP)
    plan.run("independent", img("other", COLOR, CW, ATT, discard=True))
    if between:
        between(plan)
    if wait:
        plan.cmd(op="wait_events", events=["e0"], dependencies=[wait_dep])
    return plan.run("consumer", img("img", FS, SAMPLED, SRO))


def test_event_with_independent_work_between_is_clean():
    assert_clean(event_plan())


def test_event_reused_after_reset_is_clean():
    plan = (event_plan().cmd(op="reset_event", event="e0", stages=S(FS))
            .barrier(ib("img", FS, "", COLOR, CW, SRO, ATT))
            .run("producer2", img("img", COLOR, CW, ATT, discard=True))
            .cmd(op="set_event", event="e0", dependency=SET_DEP)
            .cmd(op="wait_events", events=["e0"], dependencies=[SET_DEP])
            .run("consumer2", img("img", FS, SAMPLED, SRO)))
    assert_clean(plan)


def test_wait_on_event_never_set():
    assert_finds(event_plan(set_event=False), "event", "consumer", "img")


def test_set_after_the_wait():
    plan = event_plan(set_event=False).cmd(op="set_event", event="e0", dependency=SET_DEP)
    hits = [p for p in verify_plan(plan.build()) if p.kind == "event"]
    assert any("after the wait" in p.detail for p in hits), hits


def test_set_of_an_event_still_set():
    plan = (event_plan()
            .barrier(ib("img", FS, "", COLOR, CW, SRO, ATT))
            .run("producer2", img("img", COLOR, CW, ATT, discard=True))
            .cmd(op="set_event", event="e0", dependency=SET_DEP))
    hits = assert_finds(plan, "event", None, "img")
    assert "still set" in hits[0].detail


def test_reset_not_ordered_after_the_wait():
    plan = event_plan().cmd(op="reset_event", event="e0", stages=S("TOP_OF_PIPE"))
    assert_finds(plan, "event", "consumer", "event e0")


def test_wait_dependency_must_equal_the_set():
    plan = event_plan(wait_dep=dep(ib("img", COLOR, CW, VS, SAMPLED, ATT, SRO)))
    assert_finds(plan, "event", "consumer", "img")


def test_work_between_set_and_wait_is_not_covered():
    plan = event_plan(between=lambda p: p.run("meddler", img("img", COLOR, CW, ATT)))
    assert_finds(plan, "WAW", "meddler", "img")          # no dependency after the producer at all
    assert_finds(plan, "RAW", "consumer", "img")         # the event's first scope ended at the set
    hits = [p for p in verify_plan(plan.build()) if p.kind == "RAW" and p.pass_name == "consumer"]
    assert any(p.producer == "meddler" for p in hits)


# ---------------------------------------------------------------------------- semaphores
def two_queue_plan(wait_entry=wait("compute", 1, VS), families=None) -> Plan:
    plan = Plan(**(families or {"gfx": 0, "compute": 0})).buffer("b")
    plan.submit("compute").run("simulate", buf("b", CS, SWRITE, discard=True))
    plan.submit("gfx", wait=[wait_entry] if wait_entry else []).run("draw", buf("b", VS, SREAD))
    return plan


def test_semaphore_between_queues_is_clean():
    assert_clean(two_queue_plan())
    assert_clean(two_queue_plan(wait("compute", 1, "TOP_OF_PIPE")))


def test_missing_semaphore_wait_is_raw():
    assert_finds(two_queue_plan(None), "RAW", "draw", "b")


def test_semaphore_wait_stage_after_the_first_use_is_raw():
    assert_finds(two_queue_plan(wait("compute", 1, FS)), "RAW", "draw", "b")


def test_wait_for_a_value_never_signalled():
    assert_finds(two_queue_plan(wait("compute", 2, VS)), "semaphore", "draw", "(semaphore of 'compute')")


def test_semaphore_then_barrier_chain():
    # the wait reaches compute work on gfx; a barrier on gfx chains it on to the vertex shader
    plan = Plan(gfx=0, compute=0).buffer("b")
    plan.submit("compute").run("simulate", buf("b", CS, SWRITE, discard=True))
    plan.submit("gfx", wait=[wait("compute", 1, CS)]).barrier(bb("b", CS, "", VS, SREAD)).run("draw", buf("b", VS, SREAD))
    assert_clean(plan)


def test_waiting_for_a_later_value_covers_earlier_signals():
    plan = Plan(gfx=0, compute=0).buffer("b")
    plan.submit("compute").run("simulate", buf("b", CS, SWRITE, discard=True))
    plan.submit("compute").run("unrelated", buf("b", CS, SREAD))
    plan.submits[-1]["commands"].insert(0, {"op": "barrier", "dependency": dep(bb("b", CS, SWRITE, CS, SREAD))})
    plan.submit("gfx", wait=[wait("compute", 2, VS)]).run("draw", buf("b", VS, SREAD))
    assert_clean(plan)


def test_signal_values_must_increase():
    plan = two_queue_plan()
    plan.submit("compute").run("again", buf("b", CS, SREAD))
    plan.submits[-1]["signal"]["value"] = 1
    assert_finds(plan, "semaphore", "again", "(semaphore of 'compute')")


def test_swapchain_acquire_and_present():
    final = {"stages": [], "access": [], "layout": L("PRESENT_SRC_KHR")}
    initial = {"stages": [], "access": [], "layout": L(UNDEF)}

    def build(acquire=True, present=True):
        plan = Plan().image("swapchain", imported=True, swapchain=True, initial=initial, final=final)
        plan.resources[0]["imported"] = True
        plan.submit(wait=[{"acquire": "swapchain", "stages": S(COLOR)}] if acquire else [],
                    present=["swapchain"] if present else [])
        return (plan.barrier(ib("swapchain", COLOR, "", COLOR, CW, UNDEF, ATT))
                .run("draw", img("swapchain", COLOR, CW, ATT, discard=True))
                .barrier(ib("swapchain", COLOR, CW, "", "", ATT, "PRESENT_SRC_KHR")))

    assert_clean(build())
    assert_finds(build(acquire=False), "semaphore", "draw", "swapchain")
    assert_finds(build(present=False), "final", None, "swapchain")


# ---------------------------------------------------------------------------- queue family ownership
OWN = {"gfx": 0, "compute": 1}


def ownership_plan(release=True, acquire=True, wait_stages=ALL) -> Plan:
    plan = Plan(**OWN).buffer("b")
    plan.submit("compute").run("simulate", buf("b", CS, SWRITE, discard=True))
    if release:
        plan.barrier(bb("b", CS, SWRITE, "", "", sq=1, dq=0))
    plan.submit("gfx", wait=[wait("compute", 1, wait_stages)])
    if acquire:
        plan.barrier(bb("b", "", "", VS, SREAD, sq=1, dq=0))
    return plan.run("draw", buf("b", VS, SREAD))


def test_release_acquire_across_families_is_clean():
    assert_clean(ownership_plan())


def test_image_release_acquire_with_layout_change():
    plan = Plan(**OWN).image("img")
    (plan.submit("compute").barrier(ib("img", "", "", CS, SWRITE, UNDEF, GENERAL))
     .run("simulate", img("img", CS, SWRITE, GENERAL, discard=True))
     .barrier(ib("img", CS, SWRITE, "", "", GENERAL, SRO, sq=1, dq=0)))
    (plan.submit("gfx", wait=[wait("compute", 1, ALL)])
     .barrier(ib("img", "", "", FS, SAMPLED, GENERAL, SRO, sq=1, dq=0))
     .run("draw", img("img", FS, SAMPLED, SRO)))
    assert_clean(plan)


def test_release_without_acquire():
    assert_finds(ownership_plan(acquire=False), "ownership", "draw", "b")


def test_use_on_another_family_without_transfer():
    hits = assert_finds(ownership_plan(release=False, acquire=False), "ownership", "draw", "b")
    assert hits[0].producer == "simulate"


def test_acquire_without_release():
    assert_finds(ownership_plan(release=False), "ownership", "draw", "b")


def test_release_ordered_by_a_narrow_wait():
    hits = assert_finds(ownership_plan(wait_stages=VS), "ownership", "draw", "b")
    assert any("ALL_COMMANDS" in h.detail for h in hits)


def test_concurrent_sharing_needs_no_transfer():
    plan = ownership_plan(release=False, acquire=False, wait_stages=VS)
    plan.resources[0]["sharing"] = "concurrent"
    assert_clean(plan)


def test_discarded_contents_need_no_transfer():
    plan = Plan(**OWN).buffer("b")
    plan.submit("compute").run("simulate", buf("b", CS, SWRITE, discard=True)).run("use", buf("b", CS, SREAD))
    plan.submits[-1]["commands"].insert(1, {"op": "barrier", "dependency": dep(bb("b", CS, SWRITE, CS, SREAD))})
    plan.submit("gfx", wait=[wait("compute", 1, ALL)]).run("overwrite", buf("b", VS, SWRITE, discard=True))
    assert_clean(plan)


# ---------------------------------------------------------------------------- aliasing
def alias_plan(second_first_use=None, order=True, kind="image") -> Plan:
    plan = Plan()
    if kind == "image":
        plan.image("a", heap=0, offset=0).image("b", heap=0, offset=4096)
        plan.resources[1]["size"] = 65536
        plan.submit().barrier(ib("a", "", "", COLOR, CW, UNDEF, ATT))
        plan.run("write_a", img("a", COLOR, CW, ATT, discard=True))
        plan.barrier(ib("a", COLOR, CW, FS, SAMPLED, ATT, SRO))
        plan.run("read_a", img("a", FS, SAMPLED, SRO))
        src = FS if order else ""
        plan.barrier(second_first_use or ib("b", src, "", CS, SWRITE, UNDEF, GENERAL))
        plan.run("write_b", img("b", CS, SWRITE, GENERAL, discard=True))
    else:
        plan.buffer("a", heap=0, offset=0).buffer("b", heap=0, offset=512)
        plan.submit().run("write_a", buf("a", CS, SWRITE, discard=True))
        plan.barrier(bb("a", CS, SWRITE, FS, SREAD))
        plan.run("read_a", buf("a", FS, SREAD))
        if order:
            plan.barrier(mb(FS, "", CS, ""))
        plan.run("write_b", second_first_use or buf("b", CS, SWRITE, discard=True))
    return plan


@pytest.mark.parametrize("kind", ["image", "buffer"])
def test_aliasing_done_right_is_clean(kind):
    assert_clean(alias_plan(kind=kind))


def test_aliased_image_not_starting_from_undefined():
    plan = alias_plan(ib("b", FS, "", CS, SWRITE, GENERAL, GENERAL))
    assert_finds(plan, "alias", "write_b", "b")


def test_aliased_transient_buffer_may_start_with_any_write():
    # A transient buffer's contents before its first write are undefined wherever it sits, so its
    # first write starts a new occupancy whether or not it says discard.
    assert_clean(alias_plan(buf("b", CS, SWRITE), kind="buffer"))


def test_aliased_transient_buffer_starting_with_a_read_reads_nothing_written():
    plan = alias_plan(buf("b", CS, SREAD), kind="buffer")
    assert_finds(plan, "RAW", "write_b", "b")


def handoff_plan(kind: str, handoff) -> Plan:
    """'a' is written, then 'b' takes over its memory right away (no barrier on 'a' in between)."""
    plan = Plan()
    if kind == "image":
        plan.image("a", heap=0, offset=0).image("b", heap=0, offset=0)
        plan.submit().barrier(ib("a", "", "", COLOR, CW, UNDEF, ATT))
        plan.run("write_a", img("a", COLOR, CW, ATT, discard=True))
        plan.barrier(*handoff)
        plan.run("write_b", img("b", CS, SWRITE, GENERAL, discard=True))
    else:
        plan.buffer("a", heap=0, offset=0).buffer("b", heap=0, offset=0)
        plan.submit().run("write_a", buf("a", CS, SWRITE, discard=True))
        plan.barrier(*handoff)
        plan.run("write_b", buf("b", FS, SWRITE))
    return plan


def test_alias_handoff_through_the_new_image_barrier_alone_is_reported():
    # The old hand-off: the new image's barrier names the old occupant's write in its source access,
    # but an image barrier's access scopes cover only accesses through that image (VkImageMemoryBarrier2).
    hits = assert_finds(handoff_plan("image", [ib("b", COLOR, CW, CS, SWRITE, UNDEF, GENERAL)]),
                        "alias", "write_b", "b")
    assert any("never made available" in h.detail and "'a'" in h.detail for h in hits)


def test_alias_handoff_through_the_new_buffer_barrier_alone_is_reported():
    hits = assert_finds(handoff_plan("buffer", [bb("b", CS, SWRITE, FS, SWRITE)]), "alias", "write_b", "b")
    assert any("never made available" in h.detail for h in hits)


def test_alias_handoff_with_a_global_memory_barrier_is_clean():
    assert_clean(handoff_plan("image", [mb(COLOR, CW, CS, SWRITE), ib("b", COLOR, "", CS, SWRITE, UNDEF, GENERAL)]))
    assert_clean(handoff_plan("buffer", [mb(CS, SWRITE, FS, SWRITE)]))


def test_alias_handoff_after_a_barrier_on_the_old_resource_is_clean():
    # A barrier through 'a' made its write available already; the new barrier only orders execution.
    plan = handoff_plan("image", [ib("a", COLOR, CW, COLOR, "", ATT, ATT)])
    plan.barrier(ib("b", COLOR, "", CS, SWRITE, UNDEF, GENERAL))
    plan.submits[-1]["commands"][-2:] = plan.submits[-1]["commands"][-2:][::-1]   # pass write_b last
    assert_clean(plan)


@pytest.mark.parametrize("kind", ["image", "buffer"])
def test_aliased_use_not_ordered_after_the_earlier_occupant(kind):
    hits = assert_finds(alias_plan(order=False, kind=kind), "alias", "write_b", "b")
    assert any(h.producer == "read_a" for h in hits)


def test_earlier_occupant_used_again_after_being_overwritten():
    plan = (alias_plan(kind="buffer")
            .barrier(mb(CS, SWRITE, FS, SREAD))
            .run("read_a_again", buf("a", FS, SREAD)))
    assert_finds(plan, "alias", "read_a_again", "a")


# ---------------------------------------------------------------------------- scale
def test_ten_thousand_passes_verify_quickly():
    n = 10_000
    plan = Plan().buffer("b0").submit()
    plan.run("p0", buf("b0", CS, SWRITE, discard=True))
    for i in range(1, n):
        plan.buffer(f"b{i}")
        plan.barrier(bb(f"b{i - 1}", CS, SWRITE, CS, SREAD))
        plan.run(f"p{i}", buf(f"b{i - 1}", CS, SREAD), buf(f"b{i}", CS, SWRITE, discard=True))
    built = plan.build()
    start = time.perf_counter()
    assert verify_plan(built) == []
    assert time.perf_counter() - start < 20


# ---------------------------------------------------------------------------- more single-queue cases
def test_transition_from_undefined_discards_written_contents():
    plan = color_then_sample(ib("img", COLOR, CW, FS, SAMPLED, UNDEF, SRO))
    hits = assert_finds(plan, "layout", "consumer", "img")
    assert any("discarded" in h.detail for h in hits)


def test_read_write_attachment_and_general_access():
    rw = f"COLOR_ATTACHMENT_READ|{CW}"
    plan = (color_then_sample()
            .barrier(ib("img", FS, "", COLOR, rw, SRO, ATT))
            .run("blend", img("img", COLOR, rw, ATT))
            .barrier(ib("img", COLOR, CW, ALL, f"{MREAD}|{MWRITE}", ATT, GENERAL))
            .run("anything", img("img", ALL, f"{MREAD}|{MWRITE}", GENERAL))
            .barrier(ib("img", ALL, MWRITE, FS, SAMPLED, GENERAL, SRO))
            .run("sample", img("img", FS, SAMPLED, SRO)))
    assert_clean(plan)
    # the blend reads what the producer wrote: without the producer's write made visible it is RAW
    plan = (color_then_sample()
            .barrier(ib("img", FS, "", COLOR, CW, SRO, ATT))
            .run("blend", img("img", COLOR, rw, ATT)))
    assert_finds(plan, "RAW", "blend", "img")


def test_access_without_stages_only_checks_the_layout():
    plan = (color_then_sample()
            .barrier(ib("img", FS, "", "", "", SRO, "PRESENT_SRC_KHR"))
            .run("show", {"resource": "img", "stages": [], "access": [], "layout": L("PRESENT_SRC_KHR")}))
    assert_clean(plan)


def test_imported_buffer_written_by_the_host():
    initial = {"stages": S("HOST"), "access": A("HOST_WRITE")}
    final = {"stages": S("HOST"), "access": A("HOST_READ")}
    plan = (Plan().buffer("readback", imported=True, initial=initial, final=final).submit()
            .barrier(bb("readback", "HOST", "HOST_WRITE", CS, f"{SREAD}|{SWRITE}"))
            .run("use", buf("readback", CS, f"{SREAD}|{SWRITE}"))
            .barrier(bb("readback", CS, SWRITE, "HOST", "HOST_READ")))
    plan.resources[0]["imported"] = True
    assert_clean(plan)
    plan.submits[0]["commands"].pop()      # no end-of-frame barrier: the host would read too early
    assert_finds(plan, "final", None, "readback")


# ---------------------------------------------------------------------------- property: a reference placement
from hypothesis import given, settings, strategies as st  # noqa: E402

_STAGE_ACCESS = {VS: (SREAD, SWRITE), FS: (SREAD, SWRITE), CS: (SREAD, SWRITE), COPY: (TREAD, TWRITE)}


def reference_plan(passes, n_buffers):
    """Places exact per-buffer barriers the simple way (THSVS style).  Each barrier is tagged with the
    hazard it is for: the verifier ignores the extra key, the test uses it."""
    plan = Plan().submit()
    for b in range(n_buffers):
        plan.buffer(f"b{b}")
    last_write, seen_by, read_stages = {}, {}, {}
    for i, (stage, reads, write) in enumerate(passes):
        racc, wacc = _STAGE_ACCESS[stage]
        reads = [r for r in reads if r in last_write and r != write]
        bars, accesses = [], []
        for r in reads:
            if stage not in seen_by[r]:
                ws, wa = last_write[r]
                bars.append(bb(f"b{r}", ws, wa, stage, racc))
                bars[-1][1]["why"] = "RAW"
                seen_by[r].add(stage)
            accesses.append(buf(f"b{r}", stage, racc))
        if write is not None:
            if write in last_write:
                ws, wa = last_write[write]
                src = "|".join(sorted(read_stages[write] | {ws}))
                bars.append(bb(f"b{write}", src, wa, stage, wacc))
                bars[-1][1]["why"] = "WAR" if read_stages[write] else "WAW"
            accesses.append(buf(f"b{write}", stage, wacc, discard=write not in last_write))
            last_write[write], seen_by[write], read_stages[write] = (stage, wacc), set(), set()
        for r in reads:
            read_stages[r].add(stage)
        if bars:
            plan.barrier(*bars)
        plan.run(f"p{i}", *accesses)
    return plan


passes_strategy = st.lists(st.tuples(st.sampled_from(sorted(_STAGE_ACCESS)),
                                     st.lists(st.integers(0, 3), max_size=3),
                                     st.one_of(st.none(), st.integers(0, 3))), min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(passes_strategy, st.data())
def test_reference_placement_is_clean_and_each_memory_barrier_is_needed(passes, data):
    plan = reference_plan(passes, 4)
    assert_clean(plan)
    # A RAW or WAW barrier is the only one to make its write visible, so removing it must be caught.
    # (A WAR barrier needs only an execution dependency, which another barrier may well provide.)
    commands = plan.submits[0]["commands"]
    memory = [(ci, bi) for ci, c in enumerate(commands) if c["op"] == "barrier"
              for bi, b in enumerate(c["dependency"]["buffers"]) if b["why"] != "WAR"]
    if not memory:
        return
    ci, bi = data.draw(st.sampled_from(memory))
    removed = commands[ci]["dependency"]["buffers"].pop(bi)
    problems = verify_plan(plan.build())
    assert any(p.resource == removed["resource"] and p.kind == removed["why"] for p in problems), removed


# ---------------------------------------------------------------------------- queue capabilities
def test_graphics_stages_on_a_compute_only_family_are_caught():
    # 'compute' alone on family 1: a barrier there naming FRAGMENT_SHADER cannot be recorded.
    plan = Plan(graphics=0, compute=1).buffer("b")
    plan.submit("compute").barrier(bb("b", "FRAGMENT_SHADER", "", CS, SREAD)).run("sim", buf("b", CS, SREAD))
    hits = assert_finds(plan, "queue", "sim", "b")
    assert "FRAGMENT_SHADER" in hits[0].detail and "'compute'" in hits[0].detail


def test_compute_stages_on_a_transfer_only_family_are_caught():
    plan = Plan(graphics=0, transfer=1).buffer("b")
    plan.submit("transfer", wait=[]).run("copy", buf("b", CS, SWRITE, discard=True))
    assert_finds(plan, "queue", "copy", "b")


def test_a_queue_sharing_the_graphics_family_may_name_any_stage():
    plan = Plan(graphics=0, compute=0).buffer("b")
    plan.submit("compute").barrier(bb("b", "FRAGMENT_SHADER", "", CS, SREAD)).run("sim", buf("b", CS, SREAD))
    assert not [p for p in verify_plan(plan.build()) if p.kind == "queue"]


# ---------------------------------------------------------------------------- spec rules of issue 15
HOSTW = {"stages": S("HOST"), "access": A("HOST_WRITE")}
DSR, DSW, DATT = "DEPTH_STENCIL_ATTACHMENT_READ", "DEPTH_STENCIL_ATTACHMENT_WRITE", "DEPTH_ATTACHMENT_OPTIMAL"


def test_host_writes_before_the_submission_need_no_barrier():
    # Host write ordering guarantee: submitting orders earlier host writes before, and makes them
    # visible to, every command of the submission.
    plan = (Plan().buffer("up", imported=True, initial=HOSTW).submit()
            .run("draw", buf("up", VS, "UNIFORM_READ")))
    assert_clean(plan)


def test_device_writes_before_the_frame_still_need_a_barrier():
    plan = (Plan().buffer("b", imported=True, initial={"stages": S(CS), "access": A(SWRITE)}).submit()
            .run("draw", buf("b", VS, "UNIFORM_READ")))
    assert_finds(plan, "RAW", "draw", "b")


def depth_reuse(src, dst, discard=True, old=UNDEF):
    depth = f"{EARLY}|{LATE}"
    return (Plan().image("d").submit()
            .barrier(ib("d", "", "", EARLY, f"{DSR}|{DSW}", UNDEF, DATT))
            .run("z1", img("d", depth, f"{DSR}|{DSW}", DATT, discard=True))
            .barrier(ib("d", src, DSW, dst, f"{DSR}|{DSW}", old, DATT))
            .run("z2", img("d", depth, f"{DSR}|{DSW}", DATT, discard=discard)))


def test_depth_reuse_from_undefined_late_to_early_is_clean():
    # Khronos "depth re-use": the store ran at LATE_FRAGMENT_TESTS, the next load op (CLEAR) runs at
    # EARLY_FRAGMENT_TESTS and the render pass orders its other depth accesses after it.
    assert_clean(depth_reuse(LATE, EARLY))


def test_depth_reuse_without_the_late_tests_in_the_source_is_reported():
    assert_finds(depth_reuse(EARLY, EARLY), "WAW", "z2", "d")


def test_depth_reuse_visible_only_to_early_tests_needs_a_discarding_load_op():
    # With LOAD the pass reads the old depth at every test stage: EARLY alone does not make it visible.
    assert_finds(depth_reuse(LATE, EARLY, discard=False, old=DATT), "RAW", "z2", "d")


def test_depth_reuse_made_visible_only_to_late_tests_is_reported():
    assert_finds(depth_reuse(LATE, LATE), "WAW", "z2", "d")
