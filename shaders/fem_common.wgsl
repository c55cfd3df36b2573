// Prepended to every FEM kernel (after WORKGROUP, from src/gpu/kernels.rs): the parameter block at
// binding 0. Keep in sync with `FemParams` in src/fem/gpu.rs (checked by tests/shader_layout.rs).
struct FemParams {
    n: u32,
    row_width: u32,
    a: f32,
    b: f32,
}

@group(0) @binding(0) var<uniform> params: FemParams;
