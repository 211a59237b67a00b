#version 450
// Deferred sample, pass "gbuffer": albedo, world normal and material (roughness, metallic,
// emissive, 1 = geometry) into three colour attachments; depth from the attachment.
layout(location = 0) in vec3 world_pos;
layout(location = 1) in vec3 world_normal;
layout(location = 2) flat in vec4 albedo;
layout(location = 3) flat in vec4 material;
layout(location = 0) out vec4 out_albedo;
layout(location = 1) out vec4 out_normal;
layout(location = 2) out vec4 out_material;

void main() {
    vec3 base = albedo.rgb;
    if (material.w > 0.5) {
        vec2 c = floor(world_pos.xz);
        base *= mix(0.65, 1.0, mod(c.x + c.y, 2.0));
    }
    out_albedo = vec4(base, 1.0);
    out_normal = vec4(normalize(world_normal), 1.0);
    out_material = vec4(material.xyz, 1.0);
}
