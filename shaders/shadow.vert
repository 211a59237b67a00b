#version 450
// Depth-only shadow pass: one cascade (a layer of the shadow map) per pass.
#include "scene.h"
layout(std430, set = 0, binding = 0) readonly buffer Vertices { Vertex vertices[]; };
layout(push_constant) uniform Draw { mat4 model; uint cascade; } draw;

void main() {
    gl_Position = frame.light_view_proj[draw.cascade] * draw.model * vec4(vertices[gl_VertexIndex].position.xyz, 1.0);
}
