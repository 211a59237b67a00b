"""GPU timestamps per pass: a query pool per frame slot, written around each pass and read when
the slot comes round again (its frame has finished by then, so reading never stalls)."""
from __future__ import annotations

import vulkan as vk
from vulkan import ffi, lib

from .owner import Owner

_START = vk.VK_PIPELINE_STAGE_2_TOP_OF_PIPE_BIT
_END = vk.VK_PIPELINE_STAGE_2_ALL_COMMANDS_BIT


class GpuTimer:
    def __init__(self, ctx, owner: Owner, name: str) -> None:
        self.ctx = ctx
        self.owner = owner
        self.name = name
        self.enabled = bool(getattr(ctx, "features", {}).get("hostQueryReset"))
        self.period_ns = ctx.timestamp_period_ns
        self.pool = None
        self.capacity = 0
        self.used = 0
        self.names: list[str] = []
        self.bits: list[int] = []       # per pass: timestampValidBits of its queue family

    def prepare(self, passes: int) -> None:
        """Before recording a frame in this slot (whose previous frame has finished)."""
        self.used = 0
        self.names.clear()
        self.bits.clear()
        if not self.enabled:
            return
        needed = 2 * max(passes, 1)
        if needed > self.capacity:
            if self.pool is not None:
                self.owner.release(self.pool, "VkQueryPool")
            self.capacity = max(needed, 2 * self.capacity, 32)
            self.pool = self.owner.create("VkQueryPool", vk.VkQueryPoolCreateInfo(
                queryType=vk.VK_QUERY_TYPE_TIMESTAMP, queryCount=self.capacity), name=f"{self.name}.timestamps")
        vk.vkResetQueryPool(self.ctx.device, self.pool, 0, self.capacity)

    def begin(self, cmd, pass_name: str, valid_bits: int = 64):
        if not self.enabled or self.used + 2 > self.capacity:
            return None
        query = self.used
        self.used += 2
        self.names.append(pass_name)
        self.bits.append(valid_bits)
        lib.vkCmdWriteTimestamp2(cmd, _START, self.pool, query)
        return query

    def end(self, cmd, query: int) -> None:
        lib.vkCmdWriteTimestamp2(cmd, _END, self.pool, query + 1)

    def collect(self) -> dict[str, float]:
        """{pass: milliseconds} of the frame last recorded here; call after it finished."""
        if not self.used:
            return {}
        data = ffi.new("uint64_t[]", self.used)
        vk.vkGetQueryPoolResults(self.ctx.device, self.pool, 0, self.used, ffi.sizeof(data), data, 8,
                                 vk.VK_QUERY_RESULT_64_BIT | vk.VK_QUERY_RESULT_WAIT_BIT)
        out = {}
        for i, name in enumerate(self.names):
            mask = (1 << self.bits[i]) - 1 if self.bits[i] < 64 else (1 << 64) - 1
            ticks = ((data[2 * i + 1] & mask) - (data[2 * i] & mask)) & mask
            out[name] = ticks * self.period_ns / 1e6
        self.used = 0
        return out
