"""Record-submit-wait for one-off work (uploads, readbacks, samples, tests).

Frames in flight use their own pools and timeline semaphores; this path trades overlap for
simplicity: a fresh pool, one primary command buffer, vkQueueSubmit2, a fence wait.
"""
from __future__ import annotations

from contextlib import contextmanager

import vulkan as vk


@contextmanager
def one_time_commands(ctx, *, queue: str = "graphics", name: str | None = None, submit: bool = True):
    """Yield a recording command buffer; on a clean exit end, submit and wait for it.

    With submit=False the recording is only ended (validation still checks it), which
    is how tests provoke record-time messages without executing invalid work.
    """
    family, _, queue_handle = ctx.queues[queue]
    with ctx.scope():
        pool = ctx.create("VkCommandPool", vk.VkCommandPoolCreateInfo(
            flags=vk.VK_COMMAND_POOL_CREATE_TRANSIENT_BIT, queueFamilyIndex=family),
            name=name and f"{name}.pool")
        (cmd,) = ctx.allocate_command_buffers(pool, 1, name=name)
        vk.vkBeginCommandBuffer(cmd, vk.VkCommandBufferBeginInfo(
            flags=vk.VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT))
        yield cmd
        vk.vkEndCommandBuffer(cmd)
        if submit:
            fence = ctx.create("VkFence", vk.VkFenceCreateInfo(), name=name and f"{name}.fence")
            submit_info = vk.VkSubmitInfo2(
                pCommandBufferInfos=[vk.VkCommandBufferSubmitInfo(commandBuffer=cmd)])
            vk.vkQueueSubmit2(queue_handle, 1, [submit_info], fence)
            vk.vkWaitForFences(ctx.device, 1, [fence], vk.VK_TRUE, vk.UINT64_MAX)
