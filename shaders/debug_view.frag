#version 450
// Deferred sample, pass "debug_view": the G-buffer in four tiles (albedo, normals, ambient
// occlusion, the moon's screen-space shadow mask). Culled unless a later pass shows it.
layout(set = 0, binding = 0) uniform sampler2D albedo_tex;
layout(set = 0, binding = 1) uniform sampler2D normal_tex;
layout(set = 0, binding = 2) uniform sampler2D ao_tex;
layout(set = 0, binding = 3) uniform sampler2D shadow_mask;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

void main() {
    vec2 tile = fract(uv * 2.0);
    int which = int(uv.x >= 0.5) + 2 * int(uv.y >= 0.5);
    vec3 c;
    if (which == 0) c = textureLod(albedo_tex, tile, 0.0).rgb;
    else if (which == 1) c = textureLod(normal_tex, tile, 0.0).xyz * 0.5 + 0.5;
    else if (which == 2) c = vec3(textureLod(ao_tex, tile, 0.0).r);
    else c = vec3(textureLod(shadow_mask, tile, 0.0).r);
    color = vec4(c, 1.0);
}
