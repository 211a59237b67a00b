#version 450
// Deferred sample, pass "ssao" (compute queue): ambient occlusion from depth and normals.
// Hemisphere samples around the normal, rotated per pixel by a 4x4 interleaved pattern that the
// ssao_blur pass's 4x4 box removes.
#define FRAME_BINDING 3
#include "scene.h"
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2D depth_tex;
layout(set = 0, binding = 1) uniform sampler2D normal_tex;
layout(set = 0, binding = 2, rgba8) uniform writeonly image2D ao;
layout(push_constant) uniform Params { float radius; float strength; } params;

const int SAMPLES = 12;
const float BAYER[16] = float[](0, 8, 2, 10, 12, 4, 14, 6, 3, 11, 1, 9, 15, 7, 13, 5);

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(ao);
    if (p.x >= size.x || p.y >= size.y) return;
    float depth = texelFetch(depth_tex, p, 0).r;
    if (depth >= 1.0) { imageStore(ao, p, vec4(1.0)); return; }
    vec2 uv = (vec2(p) + 0.5) / vec2(size);
    vec3 world = world_from_depth(uv * 2.0 - 1.0, depth);
    vec3 n = normalize(texelFetch(normal_tex, p, 0).xyz);
    float angle = BAYER[(p.y & 3) * 4 + (p.x & 3)] / 16.0 * 6.2831853;
    vec3 helper = abs(n.y) < 0.99 ? vec3(0, 1, 0) : vec3(1, 0, 0);
    vec3 t = normalize(cross(helper, n));
    vec3 b = cross(n, t);
    vec3 eye = frame.camera_pos.xyz;
    float occlusion = 0.0;
    for (int i = 0; i < SAMPLES; ++i) {
        // A spiral over the hemisphere, denser near the centre.
        float fi = (float(i) + 0.5) / float(SAMPLES);
        float phi = angle + float(i) * 2.39996;
        float r = sqrt(fi);
        vec3 h = vec3(cos(phi) * r, sin(phi) * r, sqrt(max(0.0, 1.0 - fi)));
        float scale = mix(0.2, 1.0, fi * fi);
        vec3 s = world + (t * h.x + b * h.y + n * h.z) * params.radius * scale;
        vec4 clip = frame.view_proj * vec4(s, 1.0);
        vec2 suv = clip.xy / clip.w * 0.5 + 0.5;
        if (any(lessThan(suv, vec2(0.0))) || any(greaterThan(suv, vec2(1.0)))) continue;
        float scene_depth = textureLod(depth_tex, suv, 0.0).r;
        vec3 scene = world_from_depth(suv * 2.0 - 1.0, scene_depth);
        float scene_dist = distance(scene, eye);
        float sample_dist = distance(s, eye);
        float range = smoothstep(0.0, 1.0, params.radius / max(abs(distance(world, eye) - scene_dist), 1e-4));
        occlusion += (scene_dist < sample_dist - 0.02 ? 1.0 : 0.0) * range;
    }
    float visibility = pow(clamp(1.0 - occlusion / float(SAMPLES), 0.0, 1.0), params.strength);
    imageStore(ao, p, vec4(visibility));
}
