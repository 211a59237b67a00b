#version 450
// Benchmarks: read an image through a sampler (four bilinear taps around the texel's centre in
// the destination's uv space, so a half-size destination is a 2x downsample) and write the next.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2D src;
layout(set = 0, binding = 1, rgba16f) uniform writeonly image2D dst;
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
    vec2 d = 0.25 / vec2(size);
    vec4 x = 0.25 * (texture(src, uv + vec2(-d.x, -d.y)) + texture(src, uv + vec2(d.x, -d.y))
                     + texture(src, uv + vec2(-d.x, d.y)) + texture(src, uv + vec2(d.x, d.y)));
    imageStore(dst, p, work(x, pc.iterations));
}
