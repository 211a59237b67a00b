#version 450
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(set = 0, binding = 0) uniform sampler2D tex;

void main() {
    color = vec4(texture(tex, uv).rgb, 1.0);
}
