// Per-workgroup partial sums of a . b by a tree reduction in workgroup memory; the host adds the
// partials in f64. CPU twin: src/fem/cpu.rs, fn fem_dot. WORKGROUP and fem_common.wgsl are prepended.

@group(0) @binding(1) var<storage, read> va: array<f32>;
@group(0) @binding(2) var<storage, read> vb: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

var<workgroup> shared_sum: array<f32, WORKGROUP>;

@compute @workgroup_size(WORKGROUP)
fn fem_dot(
    @builtin(local_invocation_index) li: u32,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(num_workgroups) groups: vec3<u32>,
) {
    let group = wid.x + wid.y * groups.x;
    let i = group * WORKGROUP + li;
    var v = 0.0;
    if i < params.n {
        v = va[i] * vb[i];
    }
    shared_sum[li] = v;
    workgroupBarrier();
    for (var stride = WORKGROUP / 2u; stride > 0u; stride = stride / 2u) {
        if li < stride {
            shared_sum[li] += shared_sum[li + stride];
        }
        workgroupBarrier();
    }
    if li == 0u && group < arrayLength(&partials) {
        partials[group] = shared_sum[0];
    }
}
