#version 450
// Backend tests: add one step (1/255) to every texel of a history image, frame after frame.
layout(local_size_x = 8, local_size_y = 8) in;
layout(set = 0, binding = 0, rgba8) uniform image2D history;

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    if (any(greaterThanEqual(p, imageSize(history)))) return;
    imageStore(history, p, imageLoad(history, p) + vec4(1.0 / 255.0));
}
