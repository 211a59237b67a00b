#version 450
// Arena sample: meshes drawn with vertex input (interleaved Vertex of scene.h in a vertex buffer)
// instead of pulling vertices from a storage buffer; otherwise as scene.vert.
#include "scene.h"
layout(location = 0) in vec4 in_position;       // xyz; w: u
layout(location = 1) in vec4 in_normal;         // xyz; w: v
layout(push_constant) uniform Draw { mat4 model; vec4 albedo; vec4 material; } draw;

layout(location = 0) out vec3 world_pos;
layout(location = 1) out vec3 world_normal;
layout(location = 2) flat out vec4 albedo;
layout(location = 3) flat out vec4 material;

void main() {
    vec4 p = draw.model * vec4(in_position.xyz, 1.0);
    world_pos = p.xyz;
    world_normal = transpose(inverse(mat3(draw.model))) * in_normal.xyz;
    albedo = draw.albedo;
    material = draw.material;
    gl_Position = frame.view_proj * p;
}
