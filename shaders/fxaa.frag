#version 450
// Deferred sample, pass "fxaa": fast approximate anti-aliasing (after Lottes' FXAA 3.11 quality
// path) over the tonemapped image, whose alpha holds its luma (written by tonemap.frag).
// Finds the local edge's orientation from a 3x3 luma neighbourhood, walks along the edge to both
// ends, and resamples across it by the distance to the nearer end; a subpixel term softens
// single-pixel features.
layout(set = 0, binding = 0) uniform sampler2D ldr;
layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

const float EDGE_THRESHOLD = 0.125;       // relative local contrast below which nothing happens
const float EDGE_THRESHOLD_MIN = 0.0312;  // absolute, for dark areas
const float SUBPIXEL = 0.75;
const int SEARCH_STEPS = 10;
const float STEP_SIZES[SEARCH_STEPS] = float[](1.0, 1.0, 1.0, 1.0, 1.5, 2.0, 2.0, 2.0, 4.0, 8.0);

float luma_at(vec2 p) { return textureLod(ldr, p, 0.0).a; }
#define luma_off(o) textureLodOffset(ldr, uv, 0.0, o).a

void main() {
    vec4 centre = textureLod(ldr, uv, 0.0);
    float m = centre.a;
    float n = luma_off(ivec2(0, -1)), s = luma_off(ivec2(0, 1));
    float e = luma_off(ivec2(1, 0)), w = luma_off(ivec2(-1, 0));
    float hi = max(m, max(max(n, s), max(e, w)));
    float lo = min(m, min(min(n, s), min(e, w)));
    float range = hi - lo;
    if (range < max(EDGE_THRESHOLD_MIN, hi * EDGE_THRESHOLD)) {
        color = vec4(centre.rgb, 1.0);
        return;
    }
    float nw = luma_off(ivec2(-1, -1)), ne = luma_off(ivec2(1, -1));
    float sw = luma_off(ivec2(-1, 1)), se = luma_off(ivec2(1, 1));

    float edge_h = abs(nw + ne - 2.0 * n) + 2.0 * abs(w + e - 2.0 * m) + abs(sw + se - 2.0 * s);
    float edge_v = abs(nw + sw - 2.0 * w) + 2.0 * abs(n + s - 2.0 * m) + abs(ne + se - 2.0 * e);
    bool horizontal = edge_h >= edge_v;

    vec2 texel = 1.0 / vec2(textureSize(ldr, 0));
    float across = horizontal ? texel.y : texel.x;
    float l1 = horizontal ? n : w;        // the neighbours across the edge
    float l2 = horizontal ? s : e;
    float g1 = abs(l1 - m), g2 = abs(l2 - m);
    float local_luma, gradient;
    if (g1 >= g2) {
        across = -across;
        local_luma = 0.5 * (l1 + m);
        gradient = 0.25 * g1;
    } else {
        local_luma = 0.5 * (l2 + m);
        gradient = 0.25 * g2;
    }

    // Walk along the edge (half a pixel towards the other side) until the luma leaves the edge's.
    vec2 start = uv + (horizontal ? vec2(0.0, 0.5 * across) : vec2(0.5 * across, 0.0));
    vec2 along = horizontal ? vec2(texel.x, 0.0) : vec2(0.0, texel.y);
    vec2 p1 = start - along, p2 = start + along;
    float d1 = luma_at(p1) - local_luma, d2 = luma_at(p2) - local_luma;
    bool done1 = abs(d1) >= gradient, done2 = abs(d2) >= gradient;
    for (int i = 1; i < SEARCH_STEPS && !(done1 && done2); ++i) {
        if (!done1) { p1 -= along * STEP_SIZES[i]; d1 = luma_at(p1) - local_luma; done1 = abs(d1) >= gradient; }
        if (!done2) { p2 += along * STEP_SIZES[i]; d2 = luma_at(p2) - local_luma; done2 = abs(d2) >= gradient; }
    }
    float dist1 = horizontal ? uv.x - p1.x : uv.y - p1.y;
    float dist2 = horizontal ? p2.x - uv.x : p2.y - uv.y;
    bool nearer1 = dist1 < dist2;
    float edge_length = dist1 + dist2;
    float offset = 0.5 - min(dist1, dist2) / edge_length;
    // Only move when the nearer end's luma changes the way the centre's does (the edge ends there).
    bool centre_darker = m < local_luma;
    bool ends_here = ((nearer1 ? d1 : d2) < 0.0) != centre_darker;
    offset = ends_here ? offset : 0.0;

    float average = (2.0 * (n + s + e + w) + nw + ne + sw + se) / 12.0;
    float sub = clamp(abs(average - m) / range, 0.0, 1.0);
    sub = (-2.0 * sub + 3.0) * sub * sub;
    offset = max(offset, sub * sub * SUBPIXEL);

    vec2 shifted = uv + (horizontal ? vec2(0.0, offset * across) : vec2(offset * across, 0.0));
    color = vec4(textureLod(ldr, shifted, 0.0).rgb, 1.0);
}
