#version 450
// Deferred sample, pass "tonemap": HDR scene plus bloom, exposure, filmic curve, display gamma;
// alpha carries the result's luma for the fxaa pass.
#include "scene.h"
layout(set = 0, binding = 0) uniform sampler2D hdr;
layout(set = 0, binding = 2) uniform sampler2D bloom;
layout(push_constant) uniform Params { float exposure; float bloom_strength; } params;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

void main() {
    vec3 c = textureLod(hdr, uv, 0.0).rgb + textureLod(bloom, uv, 0.0).rgb * params.bloom_strength;
    vec3 mapped = tonemap_aces(c * params.exposure);
    color = vec4(mapped, dot(mapped, vec3(0.299, 0.587, 0.114)));
}
