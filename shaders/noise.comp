#version 450
// multipass sample, pass "noise": a procedural pattern into a storage image.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0, rgba8) uniform writeonly image2D noise;
layout(push_constant) uniform Push { float cells; } pc;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(noise);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 uv = (vec2(p) + 0.5) / vec2(size);
    ivec2 cell = ivec2(uv * pc.cells);
    float checker = float((cell.x + cell.y) & 1);
    imageStore(noise, p, vec4(uv.x, 1.0 - uv.y, checker, 1.0));
}
