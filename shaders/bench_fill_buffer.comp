#version 450
// Benchmarks: the first pass of a buffer chain. `iterations` rounds of dependent arithmetic per
// element, so a dispatch of a few thousand invocations is small but does real work.
layout(local_size_x = 64) in;
layout(set = 0, binding = 0) writeonly buffer Dst { vec4 dst[]; };
layout(push_constant) uniform Push { uint count; uint iterations; float seed; } pc;

vec4 work(vec4 x, uint n) {
    for (uint k = 0u; k < n; ++k)
        x = fract(x * 1.618034 + sin(x.yzwx * 3.7 + pc.seed) * 0.5);
    return x;
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.count) return;
    dst[i] = work(vec4(float(i) / float(pc.count), pc.seed, 0.25, 0.75), pc.iterations);
}
