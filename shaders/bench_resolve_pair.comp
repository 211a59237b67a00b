#version 450
// Benchmarks: an image and a buffer (elements wrap row by row) blended into the output image.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2D image;
layout(set = 0, binding = 1) readonly buffer Src { vec4 src[]; };
layout(set = 0, binding = 2, rgba8) uniform writeonly image2D dst;
layout(push_constant) uniform Push { uint count; } pc;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(dst);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 uv = (vec2(p) + 0.5) / vec2(size);
    uint i = uint(p.y * size.x + p.x) % pc.count;
    imageStore(dst, p, vec4(mix(textureLod(image, uv, 0.0).rgb, src[i].rgb, 0.5), 1.0));
}
