"""SPIR-V reflection: the descriptor bindings and push-constant size a shader declares, so that
pipeline layouts are derived from the shaders and sample authors never write them by hand.

Covers what GLSL compiled by glslc emits for set/binding resources: sampled and storage images,
combined image samplers, samplers, texel buffers, uniform and storage buffers, arrays of them.
Each binding also says whether the shader may read and write it (`readonly`/`writeonly` become
NonWritable/NonReadable decorations), so a pass's declared accesses can be checked against it.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

import vulkan as vk

# Opcodes and enums from the SPIR-V specification.
_OP_NAME, _OP_ENTRY_POINT, _OP_EXECUTION_MODE, _OP_DECORATE, _OP_MEMBER_DECORATE = 5, 15, 16, 71, 72
_OP_EXECUTION_MODE_ID, _MODE_LOCAL_SIZE, _MODE_LOCAL_SIZE_ID = 331, 17, 38
_OP_TYPE_INT, _OP_TYPE_FLOAT, _OP_TYPE_VECTOR, _OP_TYPE_MATRIX = 21, 22, 23, 24
_OP_TYPE_IMAGE, _OP_TYPE_SAMPLER, _OP_TYPE_SAMPLED_IMAGE = 25, 26, 27
_OP_TYPE_ARRAY, _OP_TYPE_RUNTIME_ARRAY, _OP_TYPE_STRUCT, _OP_TYPE_POINTER = 28, 29, 30, 32
_OP_CONSTANT, _OP_VARIABLE = 43, 59
_DEC_BLOCK, _DEC_BUFFER_BLOCK, _DEC_ARRAY_STRIDE, _DEC_MATRIX_STRIDE = 2, 3, 6, 7
_DEC_BINDING, _DEC_SET, _DEC_OFFSET = 33, 34, 35
_DEC_NON_WRITABLE, _DEC_NON_READABLE = 24, 25
_SC_UNIFORM_CONSTANT, _SC_UNIFORM, _SC_PUSH_CONSTANT, _SC_STORAGE_BUFFER = 0, 2, 9, 12
_DIM_BUFFER = 5

_STAGES = {0: vk.VK_SHADER_STAGE_VERTEX_BIT, 4: vk.VK_SHADER_STAGE_FRAGMENT_BIT,
           5: vk.VK_SHADER_STAGE_COMPUTE_BIT, 3: vk.VK_SHADER_STAGE_GEOMETRY_BIT,
           1: vk.VK_SHADER_STAGE_TESSELLATION_CONTROL_BIT, 2: vk.VK_SHADER_STAGE_TESSELLATION_EVALUATION_BIT}


@dataclass(frozen=True)
class Binding:
    set: int
    binding: int
    type: int        # VkDescriptorType
    count: int
    stages: int      # VkShaderStageFlags
    # What the shader may do through it (storage images/buffers only write). Not part of equality:
    # pipeline layouts are keyed by bindings, and access qualifiers do not change a layout.
    readable: bool = field(default=True, compare=False)
    writable: bool = field(default=False, compare=False)
    name: str = field(default="", compare=False)       # the GLSL variable (or block) name


@dataclass(frozen=True)
class ShaderInfo:
    stage: int                       # VkShaderStageFlagBits
    bindings: tuple[Binding, ...]
    push_constant_size: int
    local_size: tuple[int, int, int] | None = None


def reflect(code: bytes) -> ShaderInfo:
    words = struct.unpack(f"<{len(code) // 4}I", code)
    if words[0] != 0x07230203:
        raise ValueError("not SPIR-V")
    decorations: dict[int, dict[int, int]] = {}
    member_flags: dict[int, dict[int, set]] = {}      # struct -> member -> {NonWritable, NonReadable}
    names: dict[int, str] = {}
    member_offsets: dict[int, dict[int, int]] = {}
    types: dict[int, tuple] = {}
    constants: dict[int, int] = {}
    variables: list[tuple[int, int, int]] = []   # (pointer type, id, storage class)
    stage = None
    local_size = None
    local_size_ids = False
    i = 5
    while i < len(words):
        count, op = words[i] >> 16, words[i] & 0xFFFF
        ops = words[i + 1:i + count]
        if op == _OP_NAME:
            names[ops[0]] = bytes(struct.pack(f"<{len(ops) - 1}I", *ops[1:])).split(b"\0", 1)[0].decode()
        elif op == _OP_ENTRY_POINT and stage is None:
            stage = _STAGES.get(ops[0])
        elif op == _OP_EXECUTION_MODE and ops[1] == _MODE_LOCAL_SIZE:
            local_size = tuple(ops[2:5])
        elif op == _OP_EXECUTION_MODE_ID and ops[1] == _MODE_LOCAL_SIZE_ID:
            local_size = tuple(ops[2:5])     # constant ids, resolved below
            local_size_ids = True
        elif op == _OP_DECORATE:
            decorations.setdefault(ops[0], {})[ops[1]] = ops[2] if len(ops) > 2 else 1
        elif op == _OP_MEMBER_DECORATE and ops[2] == _DEC_OFFSET:
            member_offsets.setdefault(ops[0], {})[ops[1]] = ops[3]
        elif op == _OP_MEMBER_DECORATE and ops[2] in (_DEC_NON_WRITABLE, _DEC_NON_READABLE):
            member_flags.setdefault(ops[0], {}).setdefault(ops[1], set()).add(ops[2])
        elif op in (_OP_TYPE_INT, _OP_TYPE_FLOAT):
            types[ops[0]] = ("scalar", ops[1] // 8)
        elif op == _OP_TYPE_VECTOR:
            types[ops[0]] = ("vector", ops[1], ops[2])
        elif op == _OP_TYPE_MATRIX:
            types[ops[0]] = ("matrix", ops[1], ops[2])
        elif op == _OP_TYPE_IMAGE:
            types[ops[0]] = ("image", ops[2], ops[6])      # dim, sampled (1: sampled, 2: storage)
        elif op == _OP_TYPE_SAMPLER:
            types[ops[0]] = ("sampler",)
        elif op == _OP_TYPE_SAMPLED_IMAGE:
            types[ops[0]] = ("sampled_image", ops[1])
        elif op == _OP_TYPE_ARRAY:
            types[ops[0]] = ("array", ops[1], ops[2])
        elif op == _OP_TYPE_RUNTIME_ARRAY:
            types[ops[0]] = ("runtime_array", ops[1])
        elif op == _OP_TYPE_STRUCT:
            types[ops[0]] = ("struct", tuple(ops[1:]))
        elif op == _OP_TYPE_POINTER:
            types[ops[0]] = ("pointer", ops[1], ops[2])
        elif op == _OP_CONSTANT:
            constants[ops[1]] = ops[2]
        elif op == _OP_VARIABLE:
            variables.append((ops[0], ops[1], ops[2]))
        i += count
    if stage is None:
        raise ValueError("SPIR-V module has no entry point")
    if local_size_ids:
        local_size = tuple(constants[c] for c in local_size)

    def size_of(t: int) -> int:
        kind = types[t]
        if kind[0] == "scalar":
            return kind[1]
        if kind[0] == "vector":
            return size_of(kind[1]) * kind[2]
        if kind[0] == "matrix":
            return decorations.get(t, {}).get(_DEC_MATRIX_STRIDE, size_of(kind[1])) * kind[2]
        if kind[0] == "array":
            stride = decorations.get(t, {}).get(_DEC_ARRAY_STRIDE, size_of(kind[1]))
            return stride * constants[kind[2]]
        if kind[0] == "struct":
            offsets = member_offsets.get(t, {})
            return max((offsets.get(m, 0) + size_of(mt) for m, mt in enumerate(kind[1])), default=0)
        return 0

    bindings = []
    push_size = 0
    for ptr_type, var, storage in variables:
        pointee = types[ptr_type][2]
        if storage == _SC_PUSH_CONSTANT:
            push_size = max(push_size, size_of(pointee))
            continue
        if storage not in (_SC_UNIFORM_CONSTANT, _SC_UNIFORM, _SC_STORAGE_BUFFER):
            continue
        deco = decorations.get(var, {})
        if _DEC_BINDING not in deco:
            continue
        count = 1
        while types[pointee][0] in ("array", "runtime_array"):
            if types[pointee][0] == "array":
                count *= constants[types[pointee][2]]
            pointee = types[pointee][1]
        kind = types[pointee]
        if storage == _SC_STORAGE_BUFFER:
            dtype = vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER
        elif storage == _SC_UNIFORM:
            buffer_block = _DEC_BUFFER_BLOCK in decorations.get(pointee, {})
            dtype = vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER if buffer_block else vk.VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER
        elif kind[0] == "sampled_image":
            dtype = vk.VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER
        elif kind[0] == "sampler":
            dtype = vk.VK_DESCRIPTOR_TYPE_SAMPLER
        elif kind[0] == "image":
            texel = kind[1] == _DIM_BUFFER
            if kind[2] == 2:
                dtype = vk.VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER if texel else vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE
            else:
                dtype = vk.VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER if texel else vk.VK_DESCRIPTOR_TYPE_SAMPLED_IMAGE
        else:
            continue
        readable, writable = _access(dtype, deco, pointee, types, member_flags)
        name = names.get(var) or names.get(pointee, "")
        bindings.append(Binding(deco.get(_DEC_SET, 0), deco[_DEC_BINDING], dtype, count, stage,
                                readable=readable, writable=writable, name=name))
    return ShaderInfo(stage=stage, bindings=tuple(sorted(bindings, key=lambda b: (b.set, b.binding))),
                      push_constant_size=push_size, local_size=local_size)


_STORAGE = (vk.VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, vk.VK_DESCRIPTOR_TYPE_STORAGE_IMAGE,
            vk.VK_DESCRIPTOR_TYPE_STORAGE_TEXEL_BUFFER)


def _access(dtype: int, deco: dict, block: int, types: dict, member_flags: dict) -> tuple[bool, bool]:
    """(readable, writable) of a binding: only storage descriptors write; `readonly`/`writeonly`
    decorate the variable (images) or every member of the block (buffers)."""
    if dtype not in _STORAGE:
        return True, False
    flags = set(k for k in deco if k in (_DEC_NON_WRITABLE, _DEC_NON_READABLE))
    kind = types.get(block, ())
    if kind and kind[0] == "struct" and kind[1]:
        per_member = [member_flags.get(block, {}).get(m, set()) for m in range(len(kind[1]))]
        flags |= set.intersection(*per_member) if per_member else set()
    return _DEC_NON_READABLE not in flags, _DEC_NON_WRITABLE not in flags


def merge_bindings(infos) -> tuple[Binding, ...]:
    """One binding list for a pipeline: stages OR-ed where shaders share a binding; a binding whose
    type or count differs between stages is an error."""
    merged: dict[tuple[int, int], Binding] = {}
    for info in infos:
        for b in info.bindings:
            key = (b.set, b.binding)
            old = merged.get(key)
            if old is None:
                merged[key] = b
            elif (old.type, old.count) != (b.type, b.count):
                raise ValueError(f"set {b.set} binding {b.binding} has different types in different stages")
            else:
                merged[key] = Binding(b.set, b.binding, b.type, b.count, old.stages | b.stages,
                                      readable=old.readable or b.readable, writable=old.writable or b.writable,
                                      name=old.name or b.name)
    return tuple(merged[k] for k in sorted(merged))
