#version 450
// Deferred sample, pass "lighting": full-screen over the G-buffer; the moon, shadowed by the
// screen-space shadow mask, with (blurred) ambient occlusion, and every point light of the storage
// buffer. Writes HDR radiance.
#define FRAME_BINDING 7
#include "scene.h"
layout(set = 0, binding = 0) uniform sampler2D albedo_tex;
layout(set = 0, binding = 1) uniform sampler2D normal_tex;
layout(set = 0, binding = 2) uniform sampler2D material_tex;
layout(set = 0, binding = 3) uniform sampler2D depth_tex;
layout(set = 0, binding = 4) uniform sampler2D ao_tex;
layout(set = 0, binding = 5) uniform sampler2D shadow_mask;
layout(std430, set = 0, binding = 6) readonly buffer Lights { PointLight lights[]; };

layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 radiance;

const float EMISSIVE_SCALE = 5.0;

void main() {
    ivec2 p = ivec2(gl_FragCoord.xy);
    vec4 mat = texelFetch(material_tex, p, 0);
    vec2 ndc = gl_FragCoord.xy / vec2(textureSize(depth_tex, 0)) * 2.0 - 1.0;
    if (mat.a < 0.5) {                                  // background: a night sky gradient
        vec3 dir = normalize(world_from_depth(ndc, 1.0) - frame.camera_pos.xyz);
        radiance = vec4(mix(vec3(0.010, 0.012, 0.02), vec3(0.02, 0.035, 0.08), clamp(dir.y * 2.0, 0.0, 1.0)), 1.0);
        return;
    }
    vec3 albedo = texelFetch(albedo_tex, p, 0).rgb;
    vec3 n = normalize(texelFetch(normal_tex, p, 0).xyz);
    vec3 world = world_from_depth(ndc, texelFetch(depth_tex, p, 0).r);
    vec3 v = normalize(frame.camera_pos.xyz - world);
    float roughness = mat.r;
    float shininess = mix(128.0, 4.0, roughness);
    float spec_strength = (1.0 - roughness) * 0.8;
    float ao = texelFetch(ao_tex, p, 0).r;

    vec3 l = normalize(frame.sun_dir.xyz);
    float ndl = max(dot(n, l), 0.0);
    float vis = texelFetch(shadow_mask, p, 0).r;
    vec3 sun = frame.sun_color.rgb * frame.sun_dir.w * ndl * vis;
    vec3 ambient = frame.sun_color.w * mix(vec3(0.05, 0.04, 0.04), vec3(0.05, 0.07, 0.12), n.y * 0.5 + 0.5) * ao;
    vec3 color = albedo * (ambient + sun)
               + sun * spec_strength * pow(max(dot(n, normalize(l + v)), 0.0), shininess);

    int count = int(frame.shadow.w);
    for (int i = 0; i < count; ++i) {
        PointLight light = lights[i];
        vec3 d = light.position.xyz - world;
        float dist2 = dot(d, d);
        float r = light.position.w;
        if (dist2 > r * r) continue;
        float dist = sqrt(dist2);
        vec3 ld = d / dist;
        float nl = max(dot(n, ld), 0.0);
        float window = clamp(1.0 - pow(dist / r, 4.0), 0.0, 1.0);
        float falloff = window * window / (dist2 + 0.6);
        float spec = spec_strength * pow(max(dot(n, normalize(ld + v)), 0.0), shininess);
        color += light.color.rgb * light.color.w * falloff * nl * (albedo + spec) * mix(0.5, 1.0, ao);
    }
    color += albedo * mat.b * EMISSIVE_SCALE;
    radiance = vec4(color, 1.0);
}
