#version 450
// async_compute sample, pass "blur": a (2r+1)^2 box blur of the field (texture-bound).
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2D field;
layout(set = 0, binding = 1, rgba16f) uniform writeonly image2D blurred;
layout(push_constant) uniform Push { int radius; } pc;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(blurred);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 texel = 1.0 / vec2(size);
    vec2 uv = (vec2(p) + 0.5) * texel;
    vec4 sum = vec4(0.0);
    for (int y = -pc.radius; y <= pc.radius; ++y)
        for (int x = -pc.radius; x <= pc.radius; ++x)
            sum += textureLod(field, uv + vec2(x, y) * texel, 0.0);
    float n = float((2 * pc.radius + 1) * (2 * pc.radius + 1));
    imageStore(blurred, p, sum / n);
}
