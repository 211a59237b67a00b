#version 450
// Shadow-map sample, pass "scene": a sun with two shadow cascades (layers of one depth image),
// filtered with 3x3 taps of a comparison sampler (each a bilinear 2x2 PCF), plus sky ambient.
#include "scene.h"
layout(set = 0, binding = 2) uniform sampler2DArrayShadow shadow_map;

layout(location = 0) in vec3 world_pos;
layout(location = 1) in vec3 world_normal;
layout(location = 2) flat in vec4 albedo;
layout(location = 3) flat in vec4 material;
layout(location = 0) out vec4 color;

float checker(vec2 p) {
    vec2 c = floor(p);
    return mod(c.x + c.y, 2.0);
}

float sun_visibility(vec3 n) {
    for (int c = 0; c < 2; ++c) {
        vec3 p = world_pos + n * (c == 0 ? frame.shadow.y : frame.shadow.z);
        vec4 ls = frame.light_view_proj[c] * vec4(p, 1.0);
        vec3 q = ls.xyz / ls.w;
        vec2 uv = q.xy * 0.5 + 0.5;
        float margin = 2.0 * frame.shadow.x;
        if (any(lessThan(uv, vec2(margin))) || any(greaterThan(uv, vec2(1.0 - margin))) || q.z > 1.0)
            continue;                      // outside this cascade: try the wider one
        float sum = 0.0;
        for (int y = -1; y <= 1; ++y)
            for (int x = -1; x <= 1; ++x)
                sum += texture(shadow_map, vec4(uv + vec2(x, y) * frame.shadow.x, float(c), q.z));
        return sum / 9.0;
    }
    return 1.0;
}

void main() {
    vec3 n = normalize(world_normal);
    vec3 base = albedo.rgb;
    if (material.w > 0.5)
        base *= mix(0.65, 1.0, checker(world_pos.xz));
    vec3 l = normalize(frame.sun_dir.xyz);
    vec3 v = normalize(frame.camera_pos.xyz - world_pos);
    float ndl = max(dot(n, l), 0.0);
    float vis = ndl > 0.0 ? sun_visibility(n) : 0.0;
    float shininess = mix(96.0, 4.0, material.x);
    float spec = pow(max(dot(n, normalize(l + v)), 0.0), shininess) * (1.0 - material.x) * 0.6;
    vec3 sky = mix(vec3(0.30, 0.26, 0.22), vec3(0.35, 0.45, 0.65), n.y * 0.5 + 0.5) * frame.sun_color.w;
    vec3 sun = frame.sun_color.rgb * frame.sun_dir.w * vis * ndl;
    vec3 lit = base * (sky + sun) + sun * spec;
    color = vec4(tonemap_aces(lit), 1.0);
}
