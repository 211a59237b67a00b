#version 450
// Deferred sample, pass "tonemap": HDR scene plus bloom, exposure, filmic curve, display gamma.
#include "scene.h"
layout(set = 0, binding = 0) uniform sampler2D hdr;
layout(set = 0, binding = 2) uniform sampler2D bloom;
layout(push_constant) uniform Params { float exposure; float bloom_strength; } params;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

void main() {
    vec3 c = textureLod(hdr, uv, 0.0).rgb + textureLod(bloom, uv, 0.0).rgb * params.bloom_strength;
    color = vec4(tonemap_aces(c * params.exposure), 1.0);
}
