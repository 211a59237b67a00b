#version 450
// HUD: text and bars. The font atlas is a long-lived resource in descriptor set 1 (written once),
// while set 0 stays the per-pass set (empty here).
layout(set = 1, binding = 0) uniform sampler2D font;
layout(location = 0) in vec2 uv;
layout(location = 1) in vec4 color;
layout(location = 0) out vec4 out_color;

void main() {
    float coverage = textureLod(font, uv, 0.0).r;
    out_color = vec4(color.rgb, color.a * coverage);
}
