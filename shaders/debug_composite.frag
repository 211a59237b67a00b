#version 450
// Deferred sample, pass "debug_composite": the debug view as an inset in the output's lower right.
layout(set = 0, binding = 0) uniform sampler2D debug_tex;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

const float INSET = 0.5;

void main() {
    vec2 local = (uv - (1.0 - INSET)) / INSET;
    if (any(lessThan(local, vec2(0.0)))) discard;
    color = vec4(textureLod(debug_tex, local, 0.0).rgb, 1.0);
}
