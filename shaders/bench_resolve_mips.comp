#version 450
// Benchmarks: the mean of every mip level of an image into the output image (a bloom-style
// composite of a downsample chain).
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2D src;
layout(set = 0, binding = 1, rgba8) uniform writeonly image2D dst;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(dst);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 uv = (vec2(p) + 0.5) / vec2(size);
    int levels = textureQueryLevels(src);
    vec4 sum = vec4(0.0);
    for (int m = 0; m < levels; ++m)
        sum += textureLod(src, uv, float(m));
    imageStore(dst, p, vec4(sum.rgb / float(levels), 1.0));
}
