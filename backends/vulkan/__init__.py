"""The Vulkan backend: importing it loads libvulkan (the pure compiler in framegraph/ never does).

Everything a caller needs is re-exported here; the submodules say what each decides.
"""
from .context import VulkanContext
from .device import DeviceSelectionError, PhysicalDeviceInfo, Queue, QueueFamily
from .memory import Buffer, Image, create_buffer, create_image_2d, find_memory_type, read_buffer
from .commands import one_time_commands
from .shaders import ShaderError, ShaderLibrary, ShaderNotFound, create_shader_module, load_spirv, shader_dir
from .validation import MESSAGES, Message, MessageLog
from .resources import Allocator, PhysicalBuffer, PhysicalImage, ResourceCache
from .pipelines import Pipeline, Pipelines, check_declared_access
from .data import FrameData, PersistentBuffer, PersistentImage, Readback
from .recorder import PassContext, Program, dynamic, static
from .frames import FrameInfo, Renderer, device_profile
from .targets import OffscreenTarget, WindowTarget, make_target, save_png

__all__ = [
    "VulkanContext", "DeviceSelectionError", "PhysicalDeviceInfo", "Queue", "QueueFamily",
    "Buffer", "Image", "create_buffer", "create_image_2d", "find_memory_type", "read_buffer",
    "one_time_commands", "create_shader_module", "load_spirv", "shader_dir", "ShaderError", "ShaderLibrary",
    "ShaderNotFound", "check_declared_access", "FrameData", "PersistentBuffer", "PersistentImage", "Readback",
    "MESSAGES", "Message", "MessageLog",
    "Allocator", "PhysicalBuffer", "PhysicalImage", "ResourceCache", "Pipeline", "Pipelines", "PassContext",
    "Program", "static", "dynamic", "FrameInfo", "Renderer", "device_profile", "OffscreenTarget", "WindowTarget",
    "make_target", "save_png",
]
