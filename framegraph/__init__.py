"""framegraph: declare passes and the resources they touch; get a correct, minimal Vulkan
synchronization plan, verified by an independent simulator. Pure Python: never imports `vulkan`."""
from .access import ACCESS_TABLE, lookup
from .cache import PlanCache
from .compiler import CompileOptions, compile
from .errors import FrameGraphError
from .graph import BufferDesc, FrameGraph, Graph, Handle, ImageDesc, structural_key
from .graph_json import dump_graph, load_graph
from .plan import Plan
from .profiles import DeviceProfile, resolve_profile

__all__ = ["ACCESS_TABLE", "lookup", "CompileOptions", "compile", "FrameGraphError", "BufferDesc", "FrameGraph",
           "Graph", "Handle", "ImageDesc", "dump_graph", "load_graph", "Plan", "DeviceProfile", "resolve_profile",
           "PlanCache", "structural_key"]
