#version 450
// Benchmarks: a procedural image (a producer, a chain's first link, a mip chain's base level).
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0, rgba16f) uniform writeonly image2D dst;
layout(push_constant) uniform Push { uint iterations; float seed; } pc;

vec4 work(vec4 x, uint n) {
    for (uint k = 0u; k < n; ++k)
        x = fract(x * 1.618034 + sin(x.yzwx * 3.7 + pc.seed) * 0.5);
    return x;
}

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(dst);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 uv = (vec2(p) + 0.5) / vec2(size);
    imageStore(dst, p, work(vec4(uv, pc.seed, 0.5), pc.iterations));
}
