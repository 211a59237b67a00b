#version 450
// multipass sample, pass "raster": one triangle, its uv spanning the sampled texture.
layout(location = 0) out vec2 uv;

const vec2 POSITIONS[3] = vec2[](vec2(0.0, -0.75), vec2(0.75, 0.6), vec2(-0.75, 0.6));
const vec2 UVS[3] = vec2[](vec2(0.5, 0.0), vec2(1.0, 1.0), vec2(0.0, 1.0));

void main() {
    uv = UVS[gl_VertexIndex];
    gl_Position = vec4(POSITIONS[gl_VertexIndex], 0.0, 1.0);
}
