"""Smoke render: one colour triangle, dynamic rendering, offscreen, read back to numpy.

The barriers are written by hand here (the frame graph derives them elsewhere): this is the
reference that the backend's bring-up — device, pipeline, sync2, readback — works at all.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import vulkan as vk

from framegraph.backends.vulkan import (VulkanContext, create_buffer, create_image_2d, create_shader_module,
                                        one_time_commands, read_buffer)
from framegraph.backends.vulkan import memory

FORMAT = vk.VK_FORMAT_R8G8B8A8_UNORM
CLEAR_COLOR = (0.1, 0.1, 0.1, 1.0)
COLOR_RANGE = vk.VkImageSubresourceRange(aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT, baseMipLevel=0,
                                         levelCount=1, baseArrayLayer=0, layerCount=1)


def image_barrier(image, *, src_stage, src_access, dst_stage, dst_access, old_layout, new_layout):
    # The binding drops falsy fields, so "no ownership transfer" must be spelt out.
    return vk.VkImageMemoryBarrier2(
        srcStageMask=src_stage, srcAccessMask=src_access, dstStageMask=dst_stage, dstAccessMask=dst_access,
        oldLayout=old_layout, newLayout=new_layout,
        srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
        image=image, subresourceRange=COLOR_RANGE)


def buffer_barrier(buffer, size, *, src_stage, src_access, dst_stage, dst_access):
    return vk.VkBufferMemoryBarrier2(
        srcStageMask=src_stage, srcAccessMask=src_access, dstStageMask=dst_stage, dstAccessMask=dst_access,
        srcQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED, dstQueueFamilyIndex=vk.VK_QUEUE_FAMILY_IGNORED,
        buffer=buffer, offset=0, size=size)


def create_pipeline(ctx):
    vert = create_shader_module(ctx, "triangle.vert")
    frag = create_shader_module(ctx, "triangle.frag")
    layout = ctx.create("VkPipelineLayout", vk.VkPipelineLayoutCreateInfo(), name="triangle.layout")
    stages = [
        vk.VkPipelineShaderStageCreateInfo(stage=vk.VK_SHADER_STAGE_VERTEX_BIT, module=vert, pName="main"),
        vk.VkPipelineShaderStageCreateInfo(stage=vk.VK_SHADER_STAGE_FRAGMENT_BIT, module=frag, pName="main"),
    ]
    write_rgba = (vk.VK_COLOR_COMPONENT_R_BIT | vk.VK_COLOR_COMPONENT_G_BIT
                  | vk.VK_COLOR_COMPONENT_B_BIT | vk.VK_COLOR_COMPONENT_A_BIT)
    info = vk.VkGraphicsPipelineCreateInfo(
        # Dynamic rendering: the attachment formats replace a render pass.
        pNext=vk.VkPipelineRenderingCreateInfo(pColorAttachmentFormats=[FORMAT]),
        pStages=stages,
        pVertexInputState=vk.VkPipelineVertexInputStateCreateInfo(),
        pInputAssemblyState=vk.VkPipelineInputAssemblyStateCreateInfo(
            topology=vk.VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST),
        pViewportState=vk.VkPipelineViewportStateCreateInfo(viewportCount=1, scissorCount=1),
        pRasterizationState=vk.VkPipelineRasterizationStateCreateInfo(
            polygonMode=vk.VK_POLYGON_MODE_FILL, cullMode=vk.VK_CULL_MODE_NONE,
            frontFace=vk.VK_FRONT_FACE_COUNTER_CLOCKWISE, lineWidth=1.0),
        pMultisampleState=vk.VkPipelineMultisampleStateCreateInfo(
            rasterizationSamples=vk.VK_SAMPLE_COUNT_1_BIT),
        pColorBlendState=vk.VkPipelineColorBlendStateCreateInfo(
            pAttachments=[vk.VkPipelineColorBlendAttachmentState(colorWriteMask=write_rgba)]),
        pDynamicState=vk.VkPipelineDynamicStateCreateInfo(
            pDynamicStates=[vk.VK_DYNAMIC_STATE_VIEWPORT, vk.VK_DYNAMIC_STATE_SCISSOR]),
        layout=layout)
    return ctx.create_graphics_pipeline(info, name="triangle")


def record(ctx, cmd, *, pipeline, image, view, readback, width, height):
    # Validation layer 1.3.239 (Debian 12) does not track dynamic-rendering attachment
    # accesses in sync validation (later layers do): it checks the layout transitions and
    # the copy here, but a wrong src scope on the post-render barrier would pass unseen.
    vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[image_barrier(
        image, src_stage=vk.VK_PIPELINE_STAGE_2_NONE, src_access=vk.VK_ACCESS_2_NONE,
        dst_stage=vk.VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
        dst_access=vk.VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT,
        old_layout=vk.VK_IMAGE_LAYOUT_UNDEFINED, new_layout=vk.VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL)]))

    area = vk.VkRect2D(offset=vk.VkOffset2D(x=0, y=0), extent=vk.VkExtent2D(width=width, height=height))
    attachment = vk.VkRenderingAttachmentInfo(
        imageView=view, imageLayout=vk.VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
        resolveMode=vk.VK_RESOLVE_MODE_NONE,
        loadOp=vk.VK_ATTACHMENT_LOAD_OP_CLEAR, storeOp=vk.VK_ATTACHMENT_STORE_OP_STORE,
        clearValue=vk.VkClearValue(color=vk.VkClearColorValue(float32=list(CLEAR_COLOR))))
    with ctx.label(cmd, "triangle"):
        vk.vkCmdBeginRendering(cmd, vk.VkRenderingInfo(renderArea=area, layerCount=1,
                                                       pColorAttachments=[attachment]))
        vk.vkCmdBindPipeline(cmd, vk.VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline)
        vk.vkCmdSetViewport(cmd, 0, 1, [vk.VkViewport(x=0.0, y=0.0, width=float(width), height=float(height),
                                                      minDepth=0.0, maxDepth=1.0)])
        vk.vkCmdSetScissor(cmd, 0, 1, [area])
        vk.vkCmdDraw(cmd, 3, 1, 0, 0)
        vk.vkCmdEndRendering(cmd)

    with ctx.label(cmd, "readback"):
        vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pImageMemoryBarriers=[image_barrier(
            image, src_stage=vk.VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
            src_access=vk.VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT,
            dst_stage=vk.VK_PIPELINE_STAGE_2_COPY_BIT, dst_access=vk.VK_ACCESS_2_TRANSFER_READ_BIT,
            old_layout=vk.VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
            new_layout=vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL)]))
        region = vk.VkBufferImageCopy(
            bufferOffset=0, bufferRowLength=0, bufferImageHeight=0,   # 0: tightly packed rows
            imageSubresource=vk.VkImageSubresourceLayers(aspectMask=vk.VK_IMAGE_ASPECT_COLOR_BIT,
                                                         mipLevel=0, baseArrayLayer=0, layerCount=1),
            imageOffset=vk.VkOffset3D(x=0, y=0, z=0),
            imageExtent=vk.VkExtent3D(width=width, height=height, depth=1))
        vk.vkCmdCopyImageToBuffer(cmd, image, vk.VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL,
                                  readback.handle, 1, [region])
        # The fence orders the copy before the host, but only this barrier makes the
        # copy's writes visible to host reads.
        vk.vkCmdPipelineBarrier2(cmd, vk.VkDependencyInfo(pBufferMemoryBarriers=[buffer_barrier(
            readback.handle, readback.size,
            src_stage=vk.VK_PIPELINE_STAGE_2_COPY_BIT, src_access=vk.VK_ACCESS_2_TRANSFER_WRITE_BIT,
            dst_stage=vk.VK_PIPELINE_STAGE_2_HOST_BIT, dst_access=vk.VK_ACCESS_2_HOST_READ_BIT)]))


def render(*, width: int = 64, height: int = 64, ctx: VulkanContext | None = None) -> np.ndarray:
    """Draw the triangle; returns an HxWx4 uint8 RGBA array (row 0 is the top)."""
    if ctx is None:
        with VulkanContext(app_name="triangle") as own:
            return render(width=width, height=height, ctx=own)
    with ctx.scope():
        pipeline = create_pipeline(ctx)
        target = create_image_2d(
            ctx, width=width, height=height, format=FORMAT,
            usage=vk.VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | vk.VK_IMAGE_USAGE_TRANSFER_SRC_BIT, name="target")
        view = ctx.create("VkImageView", vk.VkImageViewCreateInfo(
            image=target.handle, viewType=vk.VK_IMAGE_VIEW_TYPE_2D, format=FORMAT,
            subresourceRange=COLOR_RANGE), name="target.view")
        readback = create_buffer(ctx, size=width * height * 4, usage=vk.VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                 memory=memory.HOST_READBACK, name="readback")
        with one_time_commands(ctx, queue="graphics", name="triangle.commands") as cmd:
            record(ctx, cmd, pipeline=pipeline, image=target.handle, view=view, readback=readback,
                   width=width, height=height)
        return read_buffer(ctx, readback).reshape(height, width, 4)


def save_png(array: np.ndarray, path) -> Path:
    from PIL import Image  # Pillow is an optional extra; only saving needs it

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(array), "RGBA").save(path)
    return path


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WxH, e.g. 64x64, got {text!r}") from None
    if width <= 0 or height <= 0:
        raise argparse.ArgumentTypeError("width and height must be positive")
    return width, height


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="out/triangle.png", help="PNG to write (default: %(default)s)")
    parser.add_argument("--size", type=_size, default=(64, 64), metavar="WxH", help="default: 64x64")
    args = parser.parse_args(argv)
    width, height = args.size
    with VulkanContext(app_name="triangle") as ctx:
        pixels = render(width=width, height=height, ctx=ctx)
    problems = ctx.messages.drain()  # after destroy(), so teardown is checked too
    for problem in problems:
        print(problem, file=sys.stderr)
    print(save_png(pixels, args.out))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
