#version 450
// Deferred sample, passes "bloom_down*": the 13-tap downsample (Jimenez, SIGGRAPH 2014) from one
// mip to the next. The first one reads the HDR scene and keeps only what is brighter than a
// soft threshold.
layout(set = 0, binding = 0) uniform sampler2D src;
layout(push_constant) uniform Params { vec2 texel; float threshold; float knee; } params;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

vec3 tap(float x, float y) { return textureLod(src, uv + vec2(x, y) * params.texel, 0.0).rgb; }

void main() {
    vec3 a = tap(-2, -2), b = tap(0, -2), c = tap(2, -2);
    vec3 d = tap(-1, -1), e = tap(1, -1);
    vec3 f = tap(-2, 0), g = tap(0, 0), h = tap(2, 0);
    vec3 i = tap(-1, 1), j = tap(1, 1);
    vec3 k = tap(-2, 2), l = tap(0, 2), m = tap(2, 2);
    vec3 sum = (d + e + i + j) * 0.125 + g * 0.125 + (a + c + k + m) * 0.03125 + (b + f + h + l) * 0.0625;
    if (params.threshold > 0.0) {
        float bright = max(sum.r, max(sum.g, sum.b));
        float soft = clamp(bright - params.threshold + params.knee, 0.0, 2.0 * params.knee);
        soft = soft * soft / (4.0 * params.knee + 1e-4);
        sum *= max(soft, bright - params.threshold) / max(bright, 1e-4);
    }
    color = vec4(sum, 1.0);
}
