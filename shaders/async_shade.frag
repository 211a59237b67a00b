#version 450
// async_compute sample, pass "shade": a fullscreen pass with heavy per-pixel arithmetic (a
// sphere-traced field of repeated spheres), independent of the compute passes.
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;
layout(push_constant) uniform Push { uint steps; float time; } pc;

float scene(vec3 p) {
    vec3 q = mod(p + 1.0, 2.0) - 1.0;
    return length(q) - 0.35 - 0.05 * sin(p.x * 3.0 + pc.time) * sin(p.y * 3.0) * sin(p.z * 3.0);
}

void main() {
    vec3 ro = vec3(0.0, 0.0, pc.time);
    vec3 rd = normalize(vec3(uv * 2.0 - 1.0, 1.5));
    float t = 0.0;
    uint i = 0u;
    for (; i < pc.steps; ++i) {
        float d = scene(ro + rd * t);
        t += max(abs(d) * 0.5, 0.002);      // small steps: the pass is long on purpose
        if (t > 40.0) break;
    }
    float fog = exp(-0.06 * t);
    color = vec4(vec3(0.6, 0.75, 1.0) * fog + vec3(float(i) / float(pc.steps)) * 0.2, 1.0);
}
