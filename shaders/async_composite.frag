#version 450
// async_compute sample, pass "composite": the shaded scene with the blurred field over it.
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(set = 0, binding = 0) uniform sampler2D scene;
layout(set = 0, binding = 1) uniform sampler2D blurred;

void main() {
    vec4 s = texture(scene, uv);
    vec4 f = texture(blurred, uv);
    color = vec4(mix(s.rgb, f.rgb, 0.5 * f.a), 1.0);
}
