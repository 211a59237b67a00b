#version 450
// multipass sample, pass "post": vignette and exposure from the scene to the output.
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(set = 0, binding = 0) uniform sampler2D scene;
layout(push_constant) uniform Push { float exposure; float vignette; } pc;

void main() {
    vec3 c = texture(scene, uv).rgb * pc.exposure;
    vec2 d = uv - 0.5;
    c *= 1.0 - pc.vignette * dot(d, d) * 2.0;
    color = vec4(clamp(c, 0.0, 1.0), 1.0);
}
