//! Stability of a running flow: the check after every batch, and the error of a divergence with
//! where, when and what to change.

use crate::case::{Case, CellsAcross};
use crate::error::Error;
use crate::geometry::vessel::Vessel;
use crate::lattice::Lattice;
use crate::units::{AUTO_MACH, CELL_REYNOLDS_REGULARIZED, LatticeUnits, MACH_MAX};
use nalgebra::Point3;

/// Relative L2 change of the velocity field between two moment snapshots.
pub fn relative_change(a: &[[f32; 4]], b: &[[f32; 4]]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (x, y) in a.iter().zip(b) {
        for c in 1..4 {
            diff += (x[c] as f64 - y[c] as f64).powi(2);
            norm += (y[c] as f64).powi(2);
        }
    }
    (diff / norm.max(1e-300)).sqrt()
}

/// Most steps a run goes between two stability checks.
pub const DIVERGENCE_CHECK_STEPS: u64 = 100;

/// Where and when a run diverged.
#[derive(Debug, Clone, Copy)]
pub struct Divergence {
    /// Time of the check that found it (s).
    pub time: f64,
    /// Step of the check that found it.
    pub step: u64,
    /// Where (m).
    pub at: Point3<f64>,
    /// The Mach number there (infinite when a value is not finite).
    pub mach: f64,
}

impl Divergence {
    /// The error of this divergence for `case` on `vessel`: where, the nearest port, when, what
    /// `kept` says of the outputs (when the run wrote any), and advice that the set-up accepts
    /// when followed.
    pub fn to_error(&self, case: &Case, vessel: &Vessel, units: &LatticeUnits, kept: Option<&str>) -> Error {
        let Divergence { time, step, at, mach } = *self;
        let nearest = vessel
            .ports
            .iter()
            .min_by(|a, b| (a.center - at).norm().total_cmp(&(b.center - at).norm()))
            .map(|p| format!(", {:.1} mm from port `{}`", (p.center - at).norm() * 1e3, p.name))
            .unwrap_or_default();
        let what = if mach < 100.0 {
            format!("the flow reached Mach {mach:.3} (limit {MACH_MAX})")
        } else if mach.is_finite() {
            format!("the flow reached Mach {mach:.2e} (limit {MACH_MAX})")
        } else {
            "a value became infinite or NaN".to_string()
        };
        let kept = kept.map(|k| format!("; {k}")).unwrap_or_default();
        Error::Diverged(format!(
            "at t = {time:.4e} s (step {step}) {what} at ({:.2}, {:.2}, {:.2}) mm{nearest}{kept}. {}",
            at.x * 1e3,
            at.y * 1e3,
            at.z * 1e3,
            divergence_advice(case, units, mach)
        ))
    }
}

/// What to change after a divergence of `case` run at `units`, chosen so that the set-up accepts it:
/// the regularized collision for TRT; LES or enough cells to bring the cell Reynolds number to
/// `CELL_REYNOLDS_REGULARIZED` when LES was off; else a smaller time step when the flow passed the
/// Mach limit and tau stays at its limit, else 1.5x the cells across the inlet.
fn divergence_advice(case: &Case, units: &LatticeUnits, mach: f64) -> String {
    use crate::stencil::Collision;
    let cells = |factor: f64| match case.lattice.cells_across_inlet {
        Some(CellsAcross::Count(n)) => format!("cells_across_inlet = {}", (factor * n).ceil()),
        _ => format!("lattice.dx = {:.3e} (m)", units.dx_m / factor),
    };
    if units.collision == Collision::Trt {
        return format!(
            "Use the regularized collision (lattice.collision = \"regularized\"), which holds where TRT \
             diverges, or a finer lattice ({})",
            cells(1.5)
        );
    }
    if !units.les {
        let cell_reynolds = units.cell_reynolds();
        return format!(
            "The lattice resolves the flow too coarsely for its speed (cell Reynolds number {cell_reynolds:.0}; \
             the regularized collision holds to about {CELL_REYNOLDS_REGULARIZED:.0} without LES). Use LES for \
             the unresolved scales (fluid.les = true) or a finer lattice ({})",
            cells((cell_reynolds / CELL_REYNOLDS_REGULARIZED).max(1.5))
        );
    }
    // A smaller step: Mach 0.1 where it peaked (the same dx), accepted when tau stays at its limit.
    let smaller = if mach.is_finite() { AUTO_MACH / mach } else { 0.5 };
    let tau_then = 0.5 + (units.tau - 0.5) * smaller;
    if smaller < 1.0 && tau_then >= crate::units::TAU_MIN_LES {
        format!(
            "Use a smaller time step (lattice.dt = {:.3e} s, or lattice.mach = {:.3e}) or a finer lattice ({})",
            units.dt_s * smaller,
            units.mach_inlet * smaller,
            cells(1.5)
        )
    } else {
        format!("Use a finer lattice ({}), keeping the time step automatic", cells(1.5))
    }
}

/// Highest Mach number of the field, or the divergence: a value that is not finite, or a Mach
/// number above the limit.
pub fn check_stability(
    lattice: &Lattice,
    moments: &[[f32; 4]],
    units: &LatticeUnits,
    step: u64,
) -> std::result::Result<f64, Divergence> {
    let mut worst = (0.0f64, 0usize);
    for (cell, m) in moments.iter().enumerate() {
        let u2 = (m[1] as f64).powi(2) + (m[2] as f64).powi(2) + (m[3] as f64).powi(2);
        if !u2.is_finite() || !(m[0] as f64).is_finite() {
            worst = (f64::INFINITY, cell);
            break;
        }
        if u2 > worst.0 {
            worst = (u2, cell);
        }
    }
    let mach = units.mach(worst.0.sqrt());
    if mach > MACH_MAX || !mach.is_finite() {
        return Err(Divergence { time: step as f64 * units.dt_s, step, at: lattice.point(worst.1), mach });
    }
    Ok(mach)
}
