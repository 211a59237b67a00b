#version 450
// HUD: one screen-space quad per instance (vertex input at instance rate), six vertices each.
layout(location = 0) in vec4 rect;       // x, y, width, height in pixels (origin top left)
layout(location = 1) in vec4 uv_rect;    // u0, v0, u1, v1 in the font atlas
layout(location = 2) in vec4 in_color;
layout(push_constant) uniform Screen { vec2 size; } screen;
layout(location = 0) out vec2 uv;
layout(location = 1) out vec4 color;

void main() {
    const vec2 corners[6] = vec2[](vec2(0, 0), vec2(1, 0), vec2(1, 1), vec2(0, 0), vec2(1, 1), vec2(0, 1));
    vec2 c = corners[gl_VertexIndex];
    vec2 pixel = rect.xy + c * rect.zw;
    uv = mix(uv_rect.xy, uv_rect.zw, c);
    color = in_color;
    gl_Position = vec4(pixel / screen.size * 2.0 - 1.0, 0.0, 1.0);
}
