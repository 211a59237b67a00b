#version 450
// Deferred sample, passes "shadow_project<c>": project one shadow cascade into the screen-space
// shadow mask (R8: the moon's visibility per pixel) right after the cascade is drawn, so the cascade's
// depth map dies here and the next cascade (or any later transient) can reuse its memory.
// A pixel belongs to the first cascade whose map covers it (as shaders/forward_shadow.frag). Pass 0
// writes every pixel (1 where no cascade covers it, and for the sky); pass c > 0 writes its own
// pixels and keeps the rest.
#define FRAME_BINDING 3
#include "scene.h"
layout(set = 0, binding = 0) uniform sampler2D depth_tex;
layout(set = 0, binding = 1) uniform sampler2D normal_tex;
layout(set = 0, binding = 2) uniform sampler2DShadow cascade_map;
layout(push_constant) uniform Params { int cascade; } params;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 visibility;

vec3 cascade_coords(int c, vec3 world, vec3 n) {
    vec4 ls = frame.light_view_proj[c] * vec4(world + n * (c == 0 ? frame.shadow.y : frame.shadow.z), 1.0);
    vec3 q = ls.xyz / ls.w;
    return vec3(q.xy * 0.5 + 0.5, q.z);
}

bool covers(vec3 s) {
    float margin = 2.0 * frame.shadow.x;
    return all(greaterThanEqual(s.xy, vec2(margin))) && all(lessThanEqual(s.xy, vec2(1.0 - margin))) && s.z <= 1.0;
}

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    float depth = texelFetch(depth_tex, p, 0).r;
    int owner = -1;
    vec3 s = vec3(0.0);
    if (depth < 1.0) {
        vec2 ndc = gl_FragCoord.xy / vec2(textureSize(depth_tex, 0)) * 2.0 - 1.0;
        vec3 world = world_from_depth(ndc, depth);
        vec3 n = normalize(texelFetch(normal_tex, p, 0).xyz);
        for (int c = 0; c <= params.cascade && owner < 0; ++c) {
            vec3 q = cascade_coords(c, world, n);
            if (covers(q)) { owner = c; s = q; }
        }
    }
    if (owner != params.cascade) {
        if (params.cascade > 0) discard;   // another cascade's pixel (or nobody's): pass 0 wrote it
        visibility = vec4(1.0);
        return;
    }
    float sum = 0.0;
    for (int y = -1; y <= 1; ++y)
        for (int x = -1; x <= 1; ++x)
            sum += texture(cascade_map, vec3(s.xy + vec2(x, y) * frame.shadow.x, s.z));
    visibility = vec4(sum / 9.0);
}
