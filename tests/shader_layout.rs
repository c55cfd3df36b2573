//! Every struct that Rust uploads with bytemuck and WGSL reads has the same size, member names and
//! member offsets and sizes on both sides: naga's layouter over the shaders as compiled, against
//! `size_of` and `offset_of!`. No GPU needed.
//!
//! A field added on one side only fails here: on the WGSL side the member lists differ; on the Rust
//! side the exhaustive pattern in `rust_layout!` stops compiling until the field is listed.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

use hemotwin::fem::FemParams;
use hemotwin::gpu::TriadParams;
use hemotwin::lattice::BoundaryLink;
use hemotwin::lbm::{FluxEntry, StepParams};
use naga::proc::Layouter;
use naga::{AddressSpace, Module, TypeInner};

/// Size and (name, offset, size) of every field, in declaration order, bytes.
#[derive(Debug, PartialEq)]
struct Layout {
    size: usize,
    fields: Vec<(String, usize, usize)>,
}

/// The size of the field that `field` borrows.
fn field_size<S, T>(_field: impl Fn(&S) -> &T) -> usize {
    size_of::<T>()
}

/// The layout of Rust struct `$ty` with the fields listed, which must be all of them: the
/// exhaustive pattern stops compiling when the struct gains a field the list lacks.
macro_rules! rust_layout {
    ($ty:ident { $($field:ident),+ $(,)? }) => {{
        let _every_field_listed = |v: $ty| {
            let $ty { $($field: _),+ } = v;
        };
        (
            stringify!($ty),
            Layout {
                size: size_of::<$ty>(),
                fields: vec![$((
                    stringify!($field).to_string(),
                    std::mem::offset_of!($ty, $field),
                    field_size(|v: &$ty| &v.$field),
                )),+],
            },
        )
    }};
}

/// The Rust side of every shared struct.
fn rust_layouts() -> Vec<(&'static str, Layout)> {
    vec![
        rust_layout!(StepParams {
            n_cells,
            row_width,
            omega_plus,
            omega_minus,
            inflow_scale,
            collision,
            pad,
            profile,
            port_rho,
            rheology,
            smagorinsky,
            tau_min,
            tau_max,
            nu_zero,
            nu_inf,
            lambda,
            power_a,
            power_n,
            yield_stress,
            regularisation,
            magic,
        }),
        rust_layout!(BoundaryLink { q, kind, u, radial, port, pad }),
        rust_layout!(FluxEntry { cell, weight, normal, port, pad }),
        rust_layout!(FemParams { n, row_width, a, b }),
        rust_layout!(TriadParams { n, row_width, s, pad }),
    ]
}

/// Every shader as compiled: (entry point, source).
fn shaders() -> Vec<(&'static str, String)> {
    let mut all: Vec<(&'static str, String)> = hemotwin::lbm::shader_sources().into();
    all.extend(hemotwin::fem::shader_sources());
    all.push(("triad", hemotwin::gpu::triad_shader_source()));
    all
}

fn parse(entry: &str, source: &str) -> Module {
    naga::front::wgsl::parse_str(source).unwrap_or_else(|e| panic!("{entry}: {}", e.emit_to_string(source)))
}

/// The layout naga gives struct `name` in `module`, if the module declares it.
fn wgsl_layout(module: &Module, name: &str) -> Option<Layout> {
    let mut layouter = Layouter::default();
    layouter.update(module.to_ctx()).unwrap();
    let (handle, ty) = module.types.iter().find(|(_, t)| t.name.as_deref() == Some(name))?;
    let TypeInner::Struct { members, .. } = &ty.inner else { panic!("{name} is not a struct") };
    let fields = members
        .iter()
        .map(|m| (m.name.clone().unwrap_or_default(), m.offset as usize, layouter[m.ty].size as usize))
        .collect();
    Some(Layout { size: layouter[handle].size as usize, fields })
}

/// The names of the structs that `module` binds as uniform or storage buffers (directly or as
/// the element of a runtime-sized array).
fn buffer_structs(module: &Module) -> Vec<String> {
    module
        .global_variables
        .iter()
        .filter(|(_, g)| matches!(g.space, AddressSpace::Uniform | AddressSpace::Storage { .. }))
        .filter_map(|(_, g)| {
            let ty = &module.types[g.ty];
            let ty = match ty.inner {
                TypeInner::Array { base, .. } => &module.types[base],
                _ => ty,
            };
            matches!(ty.inner, TypeInner::Struct { .. }).then(|| ty.name.clone().unwrap_or_default())
        })
        .collect()
}

#[test]
fn shared_structs_have_the_same_layout_in_rust_and_wgsl() {
    let rust = rust_layouts();
    let modules: Vec<(&str, Module)> =
        shaders().iter().map(|(entry, code)| (*entry, parse(entry, code))).collect();
    for (name, layout) in &rust {
        let mut checked = Vec::new();
        for (entry, module) in &modules {
            if let Some(wgsl) = wgsl_layout(module, name) {
                assert_eq!(
                    &wgsl, layout,
                    "{name}: WGSL (left, as compiled for {entry}) against Rust (right)"
                );
                checked.push(*entry);
            }
        }
        assert!(!checked.is_empty(), "no shader declares struct {name}");
        println!(
            "{name}: {} bytes, {} fields, equal in {}",
            layout.size,
            layout.fields.len(),
            checked.join(", ")
        );
    }
}

#[test]
fn every_struct_bound_as_a_buffer_is_checked() {
    let rust = rust_layouts();
    for (entry, code) in shaders() {
        for name in buffer_structs(&parse(entry, &code)) {
            assert!(
                rust.iter().any(|(n, _)| *n == name),
                "{entry} binds struct {name}, which has no Rust twin in rust_layouts()"
            );
        }
    }
}
