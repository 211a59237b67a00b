#version 450
// Arena sample: one small emissive sphere per live point light. Two vertex buffers: the sphere's
// vertices (per vertex) and the lights the compute pass wrote (per instance, scene.h PointLight).
#include "scene.h"
layout(location = 0) in vec4 in_position;
layout(location = 1) in vec4 in_normal;
layout(location = 2) in vec4 light_position;    // xyz; w: radius of influence
layout(location = 3) in vec4 light_color;       // rgb; w: intensity (0: dead projectile)
layout(push_constant) uniform Draw { float radius; } draw;

layout(location = 0) out vec3 world_pos;
layout(location = 1) out vec3 world_normal;
layout(location = 2) flat out vec4 albedo;
layout(location = 3) flat out vec4 material;

void main() {
    float size = light_color.w > 0.0 ? draw.radius : 0.0;     // a dead light collapses to a point
    world_pos = light_position.xyz + in_position.xyz * size;
    world_normal = in_normal.xyz;
    albedo = vec4(light_color.rgb, 1.0);
    material = vec4(1.0, 0.0, 1.0, 0.0);
    gl_Position = frame.view_proj * vec4(world_pos, 1.0);
}
