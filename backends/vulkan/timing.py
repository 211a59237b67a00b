"""GPU timestamps: a query pool per frame slot, written around each pass and at the very start and
end of each command buffer (so the frame's span includes its barriers, events and semaphore waits),
read when the slot comes round again (its frame has finished by then, so reading never stalls)."""
from __future__ import annotations

import vulkan as vk
from vulkan import ffi, lib

from .owner import Owner

_START = vk.VK_PIPELINE_STAGE_2_TOP_OF_PIPE_BIT
_END = vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT


class GpuTimer:
    """`per_pass=False` keeps only the command-buffer spans: a timestamp at ALL_COMMANDS after each
    pass waits for the work before it, which on some GPUs serialises the very overlap that barrier
    strategies are compared on."""

    def __init__(self, ctx, owner: Owner, name: str) -> None:
        self.ctx = ctx
        self.owner = owner
        self.name = name
        self.enabled = bool(getattr(ctx, "features", {}).get("hostQueryReset"))
        self.per_pass = True
        self.period_ns = ctx.timestamp_period_ns
        self.pool = None
        self.pools_made = 0     # a new pool's handle value may be the old one's: recordings key on this
        self.capacity = 0
        self.used = 0
        self.names: list[tuple[str, int, int]] = []    # per pass: (name, first query, valid bits)
        self.commands: list[tuple[int, int]] = []      # per command buffer: (first query, valid bits)
        self.pass_query: dict[str, int] = {}
        self.command_query: list = []
        self.last_spans_ns: list[tuple[float, float]] = []

    def layout(self, passes, command_buffers) -> tuple:
        """A fixed query layout for one plan: (pass name, valid bits) and command buffers' valid bits
        in plan order -> ({pass: query}, [query or None per command buffer], names, commands, used).
        Fixed, so that command buffers recorded once and replayed write the queries `collect` reads."""
        pass_query: dict[str, int] = {}
        names, commands, command_query = [], [], []
        q = 0
        if self.enabled and self.per_pass:
            for name, bits in passes:
                if bits:
                    pass_query[name] = q
                    names.append((name, q, bits))
                    q += 2
        for bits in command_buffers:
            if self.enabled and bits:
                command_query.append(q)
                commands.append((q, bits))
                q += 2
            else:
                command_query.append(None)
        return pass_query, command_query, names, commands, q

    def prepare(self, layout: tuple) -> None:
        """Before recording (or replaying) a frame in this slot, whose previous frame has finished."""
        self.pass_query, self.command_query, names, commands, used = layout
        self.names, self.commands, self.used = names, commands, used
        if not self.enabled or not used:
            return
        if used > self.capacity:
            if self.pool is not None:
                self.owner.release(self.pool, "VkQueryPool")
            self.capacity = max(used, 2 * self.capacity, 32)
            self.pool = self.owner.create("VkQueryPool", vk.VkQueryPoolCreateInfo(
                queryType=vk.VK_QUERY_TYPE_TIMESTAMP, queryCount=self.capacity), name=f"{self.name}.timestamps")
            self.pools_made += 1
        lib.vkResetQueryPool(self.ctx.device, self.pool, 0, self.capacity)   # lib: no wrapper cost

    def abandon(self) -> None:
        """The frame prepared here never reached the GPU: its queries are never written, so nothing
        may wait for their results."""
        self.names, self.commands, self.used = [], [], 0

    def begin(self, cmd, pass_name: str):
        query = self.pass_query.get(pass_name)
        if query is not None:
            lib.vkCmdWriteTimestamp2(cmd, _START, self.pool, query)
        return query

    def end(self, cmd, query: int) -> None:
        lib.vkCmdWriteTimestamp2(cmd, _END, self.pool, query + 1)

    def begin_commands(self, cmd, index: int):
        """Right after vkBeginCommandBuffer of plan submit `index`; `end(cmd, query)` right before
        its vkEndCommandBuffer."""
        query = self.command_query[index]
        if query is not None:
            lib.vkCmdWriteTimestamp2(cmd, _START, self.pool, query)
        return query

    def collect(self) -> dict[str, float]:
        """{pass: milliseconds} of the frame last recorded here; call after it finished. The frame's
        command-buffer spans (start, end) in nanoseconds go to `last_spans_ns`."""
        if not self.used:
            self.last_spans_ns = []
            return {}
        data = ffi.new("uint64_t[]", self.used)
        # lib: the binding's wrapper converts every argument again (~10 µs, once per frame).
        result = lib.vkGetQueryPoolResults(self.ctx.device, self.pool, 0, self.used, ffi.sizeof(data), data, 8,
                                           vk.VK_QUERY_RESULT_64_BIT | vk.VK_QUERY_RESULT_WAIT_BIT)
        if result != vk.VK_SUCCESS:
            raise vk.exception_codes[result]
        out = {}
        for name, query, bits in self.names:
            mask = (1 << bits) - 1 if bits < 64 else (1 << 64) - 1
            ticks = ((data[query + 1] & mask) - (data[query] & mask)) & mask
            out[name] = ticks * self.period_ns / 1e6
        spans = []
        for query, bits in self.commands:
            mask = (1 << bits) - 1 if bits < 64 else (1 << 64) - 1
            start = data[query] & mask
            ticks = ((data[query + 1] & mask) - start) & mask
            spans.append((start * self.period_ns, (start + ticks) * self.period_ns))
        self.last_spans_ns = spans
        self.used = 0
        return out
