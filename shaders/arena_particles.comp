#version 450
// Arena sample, pass "particles" (async compute): projectiles fly, fall and bounce for a fixed
// number of simulation steps, new ones are spawned into their ring slots, and every light of the
// frame is written: the player's light first, then one per projectile (intensity 0 when dead).
layout(local_size_x = 64) in;

struct Particle {
    vec4 position;      // xyz; w: age in seconds (< 0: dead)
    vec4 velocity;      // xyz; w: hue
};
struct PointLight {
    vec4 position;      // xyz; w: radius
    vec4 color;         // rgb; w: intensity
};
#define MAX_SPAWNS 4
layout(std140, binding = 0) uniform Arena {
    vec4 player_light_position;     // xyz; w: radius
    vec4 player_light_color;        // rgb; w: intensity
    vec4 step;                      // x: dt of one step, y: steps this frame, z: spawns, w: particle count
    vec4 spawn_slot[MAX_SPAWNS];    // x: ring slot
    vec4 spawn_position[MAX_SPAWNS];
    vec4 spawn_velocity[MAX_SPAWNS]; // xyz; w: hue
} arena;
layout(std430, binding = 1) buffer Particles { Particle particles[]; };
layout(std430, binding = 2) writeonly buffer Lights { PointLight lights[]; };

const float LIFETIME = 4.0;
const float GRAVITY = 9.0;
const float FLOOR = 0.15;
const float WALL = 13.0;

vec3 hue(float h) {
    return clamp(abs(mod(h * 6.0 + vec3(0.0, 4.0, 2.0), 6.0) - 3.0) - 1.0, 0.0, 1.0);
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    uint count = uint(arena.step.w);
    if (i == 0u) {
        lights[0] = PointLight(arena.player_light_position, arena.player_light_color);
    }
    if (i >= count) return;
    Particle p = particles[i];
    for (int s = 0; s < int(arena.step.z); ++s) {
        if (uint(arena.spawn_slot[s].x) == i) {
            p.position = vec4(arena.spawn_position[s].xyz, 0.0);
            p.velocity = arena.spawn_velocity[s];
        }
    }
    float dt = arena.step.x;
    for (int k = 0; k < int(arena.step.y) && p.position.w >= 0.0; ++k) {
        p.velocity.y -= GRAVITY * dt;
        p.position.xyz += p.velocity.xyz * dt;
        if (p.position.y < FLOOR) {          // bounce, losing energy
            p.position.y = FLOOR;
            p.velocity.xyz *= vec3(0.8, -0.6, 0.8);
        }
        for (int axis = 0; axis < 3; axis += 2) {
            if (abs(p.position[axis]) > WALL) {
                p.position[axis] = sign(p.position[axis]) * WALL;
                p.velocity[axis] = -p.velocity[axis];
            }
        }
        p.position.w += dt;
        if (p.position.w > LIFETIME) p.position.w = -1.0;
    }
    particles[i] = p;
    float alive = p.position.w >= 0.0 ? 1.0 : 0.0;
    float fade = alive * (1.0 - smoothstep(LIFETIME - 1.0, LIFETIME, p.position.w));
    lights[i + 1u] = PointLight(vec4(p.position.xyz, 2.2), vec4(hue(p.velocity.w), 4.0 * fade));
}
