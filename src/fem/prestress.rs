//! Prestress: a patient's wall is imaged under pressure, so the image is not the stress-free state.
//! The backward-displacement method (Bols et al. 2013) finds the zero-pressure geometry X whose
//! wall, loaded by the imaged pressure, deforms onto the image x: X_{k+1} = x - u(X_k), where
//! u(X_k) is the displacement of the wall built on X_k, until X_k + u(X_k) matches x. Solving on X
//! then gives the stresses at the imaged pressure on the imaged geometry. The update is relaxed
//! with Aitken's dynamic factor (Irons-Tuck): X_{k+1} = X_k + w_k r_k, r_k = x - X_k - u(X_k),
//! w_k = -w_{k-1} r_{k-1}.(r_k - r_{k-1}) / |r_k - r_{k-1}|^2, w_0 = 1 (the plain method).

use super::axis::Axis;
use super::element::scaled_jacobian;
use super::solver::{WallProblem, WallSolution, WallSolver};
use super::wall_mesh::WallMesh;
use crate::error::{Error, Result};
use nalgebra::Vector3;

/// When the backward-displacement iteration stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrestressSettings {
    /// Converged when the loaded zero-pressure wall misses the image by at most this fraction of
    /// the largest displacement (dimensionless).
    pub tolerance: f64,
    /// Iterations (forward solves) allowed.
    pub max_iterations: usize,
}

impl Default for PrestressSettings {
    fn default() -> Self {
        PrestressSettings { tolerance: 1e-3, max_iterations: 30 }
    }
}

/// The zero-pressure state of an imaged wall.
#[derive(Debug, Clone)]
pub struct ZeroPressure {
    /// The wall at zero pressure (the image's connectivity, nodes moved).
    pub mesh: WallMesh,
    /// The solution from it at the imaged pressure: stresses and displacements onto the image.
    pub solution: WallSolution,
    /// Forward solves done.
    pub iterations: usize,
    /// Largest distance between the loaded zero-pressure wall and the image, m.
    pub mismatch_m: f64,
}

/// Finds the zero-pressure geometry of `imaged` (the wall as imaged under `problem`'s pressure).
/// Errors when a forward solve fails or the iteration does not converge, naming the iteration.
pub fn zero_pressure_geometry(
    imaged: &WallMesh,
    axis: &Axis,
    problem: &WallProblem,
    settings: &PrestressSettings,
) -> Result<ZeroPressure> {
    let mut reference = imaged.clone();
    let mut last = f64::INFINITY;
    let (mut omega, mut previous): (f64, Option<Vec<Vector3<f64>>>) = (1.0, None);
    for k in 1..=settings.max_iterations {
        let (solution, u) = {
            let mut solver = WallSolver::new(&reference, axis, problem.clone())?;
            let solution = solver.solve().map_err(|e| {
                Error::Diverged(format!("prestress (backward displacement) iteration {k}: {e}"))
            })?;
            (solution, solver.displacement().to_vec())
        };
        let scale = u.iter().map(|d| d.norm()).fold(0.0, f64::max);
        let mismatch = reference
            .nodes
            .iter()
            .zip(&u)
            .zip(&imaged.nodes)
            .map(|((x, d), y)| (x + d - y).norm())
            .fold(0.0, f64::max);
        last = mismatch;
        if mismatch <= settings.tolerance * scale {
            return Ok(ZeroPressure { mesh: reference, solution, iterations: k, mismatch_m: mismatch });
        }
        let r: Vec<Vector3<f64>> =
            reference.nodes.iter().zip(&u).zip(&imaged.nodes).map(|((x, d), y)| y - x - d).collect();
        if let Some(prev) = &previous {
            let (mut num, mut den) = (0.0, 0.0);
            for (a, b) in prev.iter().zip(&r) {
                let dr = b - a;
                num += a.dot(&dr);
                den += dr.norm_squared();
            }
            if den > 0.0 {
                omega = (-omega * num / den).clamp(0.1, 2.0);
            }
        }
        for (x, d) in reference.nodes.iter_mut().zip(&r) {
            *x += d * omega;
        }
        previous = Some(r);
        reference.min_scaled_jacobian =
            (0..reference.elements.len()).map(|e| scaled_jacobian(reference.corners(e))).fold(1.0, f64::min);
        if reference.min_scaled_jacobian <= 0.0 {
            return Err(Error::Diverged(format!(
                "prestress iteration {k}: the zero-pressure wall inverts an element (the imaged pressure \
                 is too high for this material, or the image is not a loaded state of it)"
            )));
        }
    }
    Err(Error::Diverged(format!(
        "prestress did not converge in {} backward-displacement iterations (mismatch {last:.3e} m); \
         raise the iteration limit or check the material",
        settings.max_iterations
    )))
}
