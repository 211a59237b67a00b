#version 450
// Deferred sample, pass "lights": every point light at this frame's time, from its path (written
// once by samples/deferred.py light_paths). Coordinate i of light n is
//     sin(angle[i] + rate[i] * t) * scale[i] + offset[i]
// with t the Frame block's time, as deferred.light_data computes it on the host (the tests compare).
#define FRAME_BINDING 1
#include "scene.h"
layout(local_size_x = 64) in;

struct LightPath {
    vec4 angle;     // xyz: phase of each coordinate's sine; w: the light's radius
    vec4 rate;      // xyz: radians per second
    vec4 scale;     // xyz: amplitude
    vec4 offset;    // xyz: centre
    vec4 color;     // rgb; w: intensity
};
layout(std430, binding = 0) readonly buffer Paths { LightPath paths[]; };
layout(std430, binding = 2) writeonly buffer Lights { PointLight lights[]; };

void main() {
    uint n = gl_GlobalInvocationID.x;
    if (n >= uint(paths.length())) return;
    LightPath path = paths[n];
    vec3 position = sin(path.angle.xyz + path.rate.xyz * frame.camera_pos.w) * path.scale.xyz + path.offset.xyz;
    lights[n] = PointLight(vec4(position, path.angle.w), path.color);
}
