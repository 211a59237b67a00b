#version 450
// Deferred sample, pass "ssao_blur" (compute queue): a 4x4 box over the raw ambient occlusion
// (four bilinear taps on texel corners), which removes ssao.comp's 4x4 rotation pattern.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2D ao_raw;
layout(set = 0, binding = 1, rgba8) uniform writeonly image2D ao;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(ao);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 texel = 1.0 / vec2(size);
    vec2 base = vec2(p) * texel;
    float v = 0.25 * (textureLod(ao_raw, base + vec2(-1.0, -1.0) * texel, 0.0).r
                    + textureLod(ao_raw, base + vec2(1.0, -1.0) * texel, 0.0).r
                    + textureLod(ao_raw, base + vec2(-1.0, 1.0) * texel, 0.0).r
                    + textureLod(ao_raw, base + vec2(1.0, 1.0) * texel, 0.0).r);
    imageStore(ao, p, vec4(v));
}
