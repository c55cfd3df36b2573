//! Shared helpers of the wall (finite-element) tests: a thick cylinder and its problem.
#![allow(dead_code, clippy::unwrap_used)] // each test binary uses a subset; tests unwrap their own fixtures

use hemotwin::fem::{
    Axis, EndCondition, Material, MaterialMap, NewtonSettings, Pressure, Thickness, WallMesh, WallProblem,
    WallSpec, extrude,
    pcg::{PcgSettings, Preconditioner},
};
use hemotwin::geometry::ports::tag_triangles;
use hemotwin::geometry::synth::{AneurysmSpec, BifurcationSpec, TubeSpec, aneurysm, bifurcation, tube};
use hemotwin::geometry::{Port, Surface};
use hemotwin::gpu::BackendChoice;

/// A thick-walled cylinder along z: inner radius `a`, wall `b - a`, `segments` around, `layers`
/// through the wall, `rings` element rings along the axis (the length follows from the segments).
pub fn cylinder(a: f64, b: f64, segments: usize, layers: usize, rings: usize) -> (WallMesh, Axis) {
    let side = 2.0 * a * (std::f64::consts::PI / segments as f64).sin() * 3f64.sqrt() / 2.0;
    let (surface, ports) = tube(&TubeSpec { radius: a, length: side * rings as f64 }, segments).unwrap();
    let axis = Axis::between_ports(&ports).unwrap();
    let mesh = extrude(
        &surface,
        &tag_triangles(&surface, &ports).unwrap(),
        &ports,
        &axis,
        &WallSpec { thickness: Thickness::Absolute(b - a), layers, beyond_radius: false },
    )
    .unwrap();
    (mesh, axis)
}

/// Uniform pressure `p` (Pa) on `material`, ends fixed axially, CPU PCG to 1e-10.
pub fn problem(material: Material, p: f64, backend: BackendChoice) -> WallProblem {
    WallProblem {
        materials: MaterialMap::uniform(material),
        pressure: Pressure::Uniform(p),
        ends: EndCondition::AxialFixed,
        pcg: PcgSettings {
            tolerance: 1e-10,
            max_iterations: 20_000,
            preconditioner: Preconditioner::Multigrid,
        },
        newton: NewtonSettings::default(),
        backend,
        allow_negative_pressure: false,
    }
}

/// Relative L2 error of `fe` against `exact`.
pub fn rel_l2(fe: &[f64], exact: &[f64]) -> f64 {
    let num: f64 = fe.iter().zip(exact).map(|(a, b)| (a - b).powi(2)).sum();
    let den: f64 = exact.iter().map(|b| b * b).sum();
    (num / den).sqrt()
}

/// The implicit generators' vessels with their centreline axes (m): a symmetric Y bifurcation of a
/// 2 mm artery (Murray daughters, 60 degrees) and a 3 mm sidewall aneurysm with a 3 mm neck.
pub fn generated_vessels() -> [(&'static str, Surface, Vec<Port>, Axis); 2] {
    let spec = BifurcationSpec {
        radius: 2e-3,
        length: 12e-3,
        daughter_radii: [2e-3 / 2f64.cbrt(); 2],
        angle: 60f64.to_radians(),
        daughter_length: 16e-3,
    };
    let (surface, ports) = bifurcation(&spec, 64).unwrap();
    let j = spec.junction();
    let axis = Axis::new(
        (0..2)
            .map(|k| vec![nalgebra::Point3::origin(), j, j + spec.daughter_axis(k) * spec.daughter_length])
            .collect(),
    )
    .unwrap();
    let bifurcation_vessel = ("bifurcation", surface, ports, axis);
    let spec = AneurysmSpec { radius: 2e-3, length: 30e-3, sphere_radius: 3e-3, neck: 3e-3, center: 15e-3 };
    let (surface, ports) = aneurysm(&spec, 64).unwrap();
    let axis = Axis::between_ports(&ports).unwrap();
    [bifurcation_vessel, ("aneurysm", surface, ports, axis)]
}

/// The element of `mesh` with the smallest scaled Jacobian.
pub fn worst_element(mesh: &WallMesh) -> usize {
    (0..mesh.elements.len())
        .min_by(|&a, &b| {
            hemotwin::fem::scaled_jacobian(mesh.corners(a))
                .total_cmp(&hemotwin::fem::scaled_jacobian(mesh.corners(b)))
        })
        .unwrap()
}
