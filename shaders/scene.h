// Shared by the shadow-map and deferred samples (included, never compiled alone): the per-frame
// uniform block and the vertex layout that vertex shaders pull from a storage buffer.
// Must match samples/common.py (FRAME_UNIFORMS, VERTEX_FLOATS).
#ifndef FRAME_BINDING
#define FRAME_BINDING 1
#endif

layout(std140, set = 0, binding = FRAME_BINDING) uniform Frame {
    mat4 view_proj;
    mat4 inv_view_proj;
    mat4 light_view_proj[2];    // shadow cascades
    vec4 camera_pos;            // xyz; w: time in seconds
    vec4 sun_dir;               // xyz: towards the sun; w: intensity
    vec4 sun_color;             // rgb; w: ambient strength
    vec4 shadow;                // x: 1 / shadow map size; y, z: normal offset of cascade 0, 1; w: light count
} frame;

struct Vertex {
    vec4 position;              // xyz; w: u
    vec4 normal;                // xyz; w: v
};

struct PointLight {
    vec4 position;              // xyz; w: radius
    vec4 color;                 // rgb; w: intensity
};

// Reinhard-style filmic fit (Narkowicz's ACES approximation) then display gamma, for UNORM targets.
vec3 tonemap_aces(vec3 x) {
    x = clamp((x * (2.51 * x + 0.03)) / (x * (2.43 * x + 0.59) + 0.14), 0.0, 1.0);
    return pow(x, vec3(1.0 / 2.2));
}

vec3 world_from_depth(vec2 ndc, float depth) {
    vec4 w = frame.inv_view_proj * vec4(ndc, depth, 1.0);
    return w.xyz / w.w;
}
