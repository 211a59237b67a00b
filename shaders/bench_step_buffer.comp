#version 450
// Benchmarks: one link of a buffer chain, reading the previous link's buffer (two elements, so the
// dependency is not only element-wise) and writing the next.
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) readonly buffer Src { vec4 src[]; };
layout(set = 0, binding = 1) writeonly buffer Dst { vec4 dst[]; };
layout(push_constant) uniform Push { uint count; uint iterations; float seed; } pc;

vec4 work(vec4 x, uint n) {
    for (uint k = 0u; k < n; ++k)
        x = fract(x * 1.618034 + sin(x.yzwx * 3.7 + pc.seed) * 0.5);
    return x;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.count) return;
    vec4 x = src[i] * 0.75 + src[(i * 7u + 1u) % pc.count] * 0.25;
    dst[i] = work(x, pc.iterations);
}
