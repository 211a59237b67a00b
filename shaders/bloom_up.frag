#version 450
// Deferred sample, passes "bloom_up*": a 3x3 tent upsample of the smaller mip, blended over the
// downsampled contents of this mip (alpha = how much of the wider blur to take).
layout(set = 0, binding = 0) uniform sampler2D src;
layout(push_constant) uniform Params { vec2 texel; float weight; } params;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

vec3 tap(float x, float y) { return textureLod(src, uv + vec2(x, y) * params.texel, 0.0).rgb; }

void main() {
    vec3 sum = tap(0, 0) * 4.0 + (tap(-1, 0) + tap(1, 0) + tap(0, -1) + tap(0, 1)) * 2.0
             + tap(-1, -1) + tap(1, -1) + tap(-1, 1) + tap(1, 1);
    color = vec4(sum / 16.0, params.weight);
}
