#version 450
// multipass sample, pass "sky": a vertical gradient behind everything.
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

void main() {
    color = vec4(mix(vec3(0.10, 0.15, 0.35), vec3(0.75, 0.55, 0.30), uv.y), 1.0);
}
