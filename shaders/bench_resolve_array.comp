#version 450
// Benchmarks: the mean of every layer of an array image into the output image.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0) uniform sampler2DArray src;
layout(set = 0, binding = 1, rgba8) uniform writeonly image2D dst;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = imageSize(dst);
    if (p.x >= size.x || p.y >= size.y) return;
    vec2 uv = (vec2(p) + 0.5) / vec2(size);
    int layers = textureSize(src, 0).z;
    vec4 sum = vec4(0.0);
    for (int l = 0; l < layers; ++l)
        sum += textureLod(src, vec3(uv, float(l)), 0.0);
    imageStore(dst, p, vec4(sum.rgb / float(layers), 1.0));
}
