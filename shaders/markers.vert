#version 450
// Deferred sample: one small emissive sphere per point light (instanced; the light is the instance).
#include "scene.h"
layout(std430, set = 0, binding = 0) readonly buffer Vertices { Vertex vertices[]; };
layout(std430, set = 0, binding = 3) readonly buffer Lights { PointLight lights[]; };
layout(push_constant) uniform Draw { float radius; } draw;

layout(location = 0) out vec3 world_pos;
layout(location = 1) out vec3 world_normal;
layout(location = 2) flat out vec4 albedo;
layout(location = 3) flat out vec4 material;

void main() {
    Vertex v = vertices[gl_VertexIndex];
    PointLight light = lights[gl_InstanceIndex];
    world_pos = light.position.xyz + v.position.xyz * draw.radius;
    world_normal = v.normal.xyz;
    albedo = vec4(light.color.rgb, 1.0);
    material = vec4(1.0, 0.0, 1.0, 0.0);
    gl_Position = frame.view_proj * vec4(world_pos, 1.0);
}
