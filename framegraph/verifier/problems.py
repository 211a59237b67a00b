"""What the verifier reports, and how repeated findings over many subresources are folded into one."""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("RAW", "WAR", "WAW", "layout", "final", "ownership", "event", "semaphore", "alias", "format", "queue",
         "driver")


@dataclass(frozen=True)
class Problem:
    """One hazard or plan error. `pass_name` is the consumer (the pass whose access, or the barrier before
    it, is unsafe); None for end-of-frame checks. `producer` names the pass on the other side, if known."""
    kind: str
    pass_name: str | None
    resource: str
    detail: str
    producer: str | None = None

    def __str__(self) -> str:
        where = f"pass '{self.pass_name}'" if self.pass_name else "end of frame"
        return f"{self.kind}: {where}, resource '{self.resource}': {self.detail}"


class Reporter:
    """Collects problems; the same finding on many subresources (or byte ranges) becomes one Problem
    whose detail ends with the affected mips/layers or bytes."""

    def __init__(self) -> None:
        self._found: dict[tuple, list] = {}

    def add(self, kind: str, pass_name: str | None, resource: str, detail: str,
            producer: str | None = None, where: tuple | None = None) -> None:
        assert kind in KINDS, kind
        wheres = self._found.setdefault((kind, pass_name, resource, detail, producer), [])
        if where is not None:
            wheres.append(where)

    def problems(self) -> list[Problem]:
        return [Problem(kind, pass_name, resource, detail + _where_suffix(wheres), producer)
                for (kind, pass_name, resource, detail, producer), wheres in self._found.items()]


def _spans(values) -> str:
    """[0, 1, 2, 5] -> '0-2,5'"""
    out, run = [], []
    for v in sorted(set(values)):
        if run and v == run[-1] + 1:
            run.append(v)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [v]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def _where_suffix(wheres: list[tuple]) -> str:
    if not wheres:
        return ""
    if wheres[0][0] == "image":
        return f" (mip {_spans(w[1] for w in wheres)}, layer {_spans(w[2] for w in wheres)})"
    ranges = sorted((w[1], w[2]) for w in wheres)
    merged = [list(ranges[0])]
    for lo, hi in ranges[1:]:
        if lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return " (bytes " + ", ".join(f"[{lo}, {hi})" for lo, hi in merged) + ")"
