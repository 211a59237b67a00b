#version 450
// async_compute sample, pass "simulate": an escape-time field (a Julia set drifting with time),
// ALU-bound: `iterations` complex steps per texel at most.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0, rgba16f) uniform writeonly image2D field;
layout(push_constant) uniform Push { uint iterations; float time; } pc;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(field);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 z = ((vec2(p) + 0.5) / vec2(size) - 0.5) * 3.0;
    vec2 c = vec2(-0.745, 0.186) + 0.01 * vec2(cos(pc.time), sin(pc.time));
    uint n = 0u;
    float trap = 1e9;
    for (; n < pc.iterations && dot(z, z) < 64.0; ++n) {
        z = vec2(z.x * z.x - z.y * z.y, 2.0 * z.x * z.y) + c;
        trap = min(trap, abs(z.x * z.y));
    }
    float t = float(n) / float(pc.iterations);
    imageStore(field, p, vec4(t, sqrt(t), clamp(trap, 0.0, 1.0), 1.0));
}
