"""The built-in shaders (GLSL sources and their committed SPIR-V), installed as framegraph.shaders.

No Python here: the package exists so the wheel carries these files next to the backend, which
finds them through backends/vulkan/shaders.py's search path (always after the user's folders).
"""
