#version 450
// Shadow-map and deferred samples: meshes drawn with indices; vertices pulled from a storage buffer.
#include "scene.h"
layout(std430, set = 0, binding = 0) readonly buffer Vertices { Vertex vertices[]; };
layout(push_constant) uniform Draw { mat4 model; vec4 albedo; vec4 material; } draw;

layout(location = 0) out vec3 world_pos;
layout(location = 1) out vec3 world_normal;
layout(location = 2) flat out vec4 albedo;
layout(location = 3) flat out vec4 material;     // roughness, metallic, emissive, checker pattern

void main() {
    Vertex v = vertices[gl_VertexIndex];
    vec4 p = draw.model * vec4(v.position.xyz, 1.0);
    world_pos = p.xyz;
    world_normal = transpose(inverse(mat3(draw.model))) * v.normal.xyz;
    albedo = draw.albedo;
    material = draw.material;
    gl_Position = frame.view_proj * p;
}
