//! The wall solver: boundary conditions, loads, and the solution loop (one linear solve for
//! linear elasticity; Newton-Raphson with load stepping, step cutting and a line search for the
//! neo-Hookean models), with PCG on the CPU or the GPU.

use super::assemble::{Assembly, Constraints, FaceStiffness, Pattern, assemble, pressure_forces};
use super::axis::Axis;
use super::gpu::FemGpu;
use super::material::{Material, MaterialMap};
use super::multigrid::Multigrid;
use super::pcg::{PcgReport, PcgSettings, Preconditioner, solve_cpu};
use super::stress::{NodalFields, recover};
use super::wall_mesh::WallMesh;
use crate::error::{Error, Result};
use crate::gpu::{BackendChoice, Resolved, resolve};
use nalgebra::{Point3, Vector3};
use nalgebra_sparse::CsrMatrix;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The pressure on the lumen side of the wall.
#[derive(Debug, Clone, PartialEq)]
pub enum Pressure {
    /// The same pressure everywhere, Pa.
    Uniform(f64),
    /// One pressure per lumen-surface vertex (e.g. mapped from the flow's wall.vtp), Pa.
    PerVertex(Vec<f64>),
}

/// How the wall is held at its end faces (the ports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndCondition {
    /// No axial motion (along the port normal), radial motion free; rigid-body modes are removed by
    /// holding the circumferential motion of three nodes of the first end.
    AxialFixed,
    /// No motion at all.
    Fixed,
}

/// Newton-Raphson settings (used by the large-deformation models).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NewtonSettings {
    /// Load steps (the pressure rises linearly over them).
    pub load_steps: usize,
    /// Iterations allowed per load step.
    pub max_iterations: usize,
    /// Convergence: |residual| <= tolerance |external force| (free components).
    pub tolerance: f64,
    /// Relative PCG tolerance of each Newton correction (inexact Newton; the PCG tolerance when
    /// that is larger).
    pub forcing: f64,
}

impl Default for NewtonSettings {
    fn default() -> Self {
        NewtonSettings { load_steps: 10, max_iterations: 30, tolerance: 1e-8, forcing: 1e-2 }
    }
}

/// The smallest relative residual asked of the f32 GPU PCG for a linear solve (Newton's
/// corrections ask for less: the forcing).
pub const GPU_MIN_TOLERANCE: f64 = 1e-5;

/// Everything but the mesh that defines a wall computation.
#[derive(Debug, Clone)]
pub struct WallProblem {
    /// Materials by region.
    pub materials: MaterialMap,
    /// Lumen pressure.
    pub pressure: Pressure,
    /// End conditions.
    pub ends: EndCondition,
    /// Linear solver settings.
    pub pcg: PcgSettings,
    /// Nonlinear solver settings.
    pub newton: NewtonSettings,
    /// Where the PCG runs.
    pub backend: BackendChoice,
    /// Accept negative lumen pressures (refused otherwise: usually a gauge or sign slip).
    pub allow_negative_pressure: bool,
}

/// Solves running longer than this report their progress, s.
const PROGRESS_AFTER_S: f64 = 2.0;
/// Seconds between two progress reports.
const PROGRESS_EVERY_S: f64 = 1.0;

/// A progress callback.
type ProgressFn<'a> = Box<dyn FnMut(&WallProgress) + 'a>;

/// Where a running wall solve stands, told to the callback of [`WallSolver::on_progress`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WallProgress {
    /// Degrees of freedom.
    pub dofs: usize,
    /// The fraction of the pressure being solved for (1: full load).
    pub load_fraction: f64,
    /// Newton iterations so far (all load steps).
    pub newton_iterations: usize,
    /// PCG iterations of the running linear solve.
    pub pcg_iterations: usize,
    /// Its relative residual.
    pub relative_residual: f64,
    /// Seconds since the solve started.
    pub elapsed_s: f64,
}

/// Peak values and solver statistics of a wall solution (written into summary.json).
#[derive(Debug, Clone, Serialize)]
pub struct WallSummary {
    /// Mesh nodes.
    pub nodes: usize,
    /// TET10 elements.
    pub elements: usize,
    /// Degrees of freedom (3 per node).
    pub dofs: usize,
    /// Smallest scaled Jacobian of the mesh.
    pub min_scaled_jacobian: f64,
    /// Largest displacement magnitude, m.
    pub max_displacement_m: f64,
    /// Largest von Mises stress, Pa.
    pub max_von_mises_pa: f64,
    /// Largest maximum principal stress, Pa.
    pub max_principal_pa: f64,
    /// Largest hoop stress, Pa.
    pub max_hoop_pa: f64,
    /// Load steps completed (calls of `advance_to` that converged).
    pub load_steps: usize,
    /// Newton iterations in all (1 for linear elasticity).
    pub newton_iterations: usize,
    /// PCG iterations in all.
    pub pcg_iterations: usize,
    /// The PCG tolerance (relative residual).
    pub pcg_tolerance: f64,
    /// Relative residual of the last PCG solve.
    pub pcg_relative_residual: f64,
    /// Where the PCG ran ("cpu" or the GPU adapter's name).
    pub backend: String,
    /// Why `auto` fell back to the CPU, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend_notice: Option<String>,
}

/// A solved wall: nodal fields and the summary.
#[derive(Debug, Clone)]
pub struct WallSolution {
    /// Displacement, stress and strain at the nodes.
    pub fields: NodalFields,
    /// Peak values and statistics.
    pub summary: WallSummary,
}

/// Solver state for one mesh and problem; keeps the last converged displacement when Newton fails.
pub struct WallSolver<'a> {
    mesh: &'a WallMesh,
    axis: &'a Axis,
    problem: WallProblem,
    pattern: Pattern,
    constraints: Constraints,
    materials: Vec<Material>,
    gpu: Option<FemGpu>,
    /// Why `auto` fell back to the CPU, if it did.
    backend_notice: Option<String>,
    u: Vec<Vector3<f64>>,
    converged_load: f64,
    newton_iterations: usize,
    load_steps: usize,
    last_pcg: PcgReport,
    pcg_iterations: usize,
    progress: Option<ProgressFn<'a>>,
    started: Instant,
}

/// Holds the end faces of `mesh` as `ends` asks.
fn end_constraints(mesh: &WallMesh, ends: EndCondition) -> Constraints {
    let mut c = Constraints::free(mesh.nodes.len());
    for (port, nodes) in mesh.ports.iter().zip(&mesh.end_nodes) {
        let dirs = match ends {
            EndCondition::AxialFixed => vec![port.normal],
            EndCondition::Fixed => vec![Vector3::x(), Vector3::y(), Vector3::z()],
        };
        for &n in nodes {
            c.fix_directions(n as usize, &dirs);
        }
    }
    if let (EndCondition::AxialFixed, Some(port), Some(nodes)) =
        (ends, mesh.ports.first(), mesh.end_nodes.first())
    {
        // Three nodes a quarter turn apart hold their circumferential motion: no rigid translation
        // across the axis or rotation about it remains, and an axisymmetric solution is untouched.
        let n = port.normal;
        let seed = if n.x.abs() < 0.9 { Vector3::x() } else { Vector3::y() };
        let d1 = (seed - n * seed.dot(&n)).normalize();
        let d2 = n.cross(&d1);
        for d in [d1, d2, -d1] {
            let best = nodes.iter().max_by(|&&a, &&b| {
                let pa = (mesh.nodes[a as usize] - port.center).dot(&d);
                let pb = (mesh.nodes[b as usize] - port.center).dot(&d);
                pa.total_cmp(&pb)
            });
            if let Some(&b) = best {
                let radial = mesh.nodes[b as usize] - port.center;
                let radial = radial - n * radial.dot(&n);
                if radial.norm() > 0.0 {
                    c.fix_directions(b as usize, &[n.cross(&radial.normalize())]);
                }
            }
        }
    }
    c
}

/// The out-of-balance force of a state.
struct Residual {
    /// External minus internal force per node (local frames, fixed components zeroed), N.
    r: Vec<Vector3<f64>>,
    /// Norm of the external force (the scale of convergence checks), N.
    reference: f64,
    /// The tangent stiffness when asked for.
    tangent: Option<CsrMatrix<f64>>,
}

/// Euclidean norm of node vectors.
fn norm(v: &[Vector3<f64>]) -> f64 {
    v.iter().map(|x| x.norm_squared()).sum::<f64>().sqrt()
}

impl<'a> WallSolver<'a> {
    /// Prepares the solver: checks the problem, assigns materials by abscissa, builds the sparsity
    /// and the constraints, and opens the GPU when the backend asks for it.
    pub fn new(mesh: &'a WallMesh, axis: &'a Axis, problem: WallProblem) -> Result<Self> {
        problem.materials.validate()?;
        match &problem.pressure {
            Pressure::Uniform(p) if !p.is_finite() => {
                return Err(Error::parameter("wall.pressure", format!("must be finite, in Pa, got {p}")));
            }
            Pressure::PerVertex(p) => {
                let needed =
                    mesh.inner_faces.iter().flat_map(|f| f.vertices).max().map_or(0, |m| m as usize + 1);
                if p.len() < needed || p.iter().any(|x| !x.is_finite()) {
                    return Err(Error::parameter(
                        "wall.pressure",
                        format!("needs {needed} finite values (one per lumen vertex), got {}", p.len()),
                    ));
                }
            }
            Pressure::Uniform(_) => {}
        }
        let lowest = match &problem.pressure {
            Pressure::Uniform(p) => *p,
            Pressure::PerVertex(p) => p.iter().copied().fold(f64::INFINITY, f64::min),
        };
        if lowest < 0.0 && !problem.allow_negative_pressure {
            return Err(Error::parameter(
                "wall.pressure",
                format!(
                    "the lumen pressure falls to {lowest:.4e} Pa, below zero: give the gauge pressure \
                     (relative to the surroundings) in Pa, or set wall.allow_negative_pressure = true"
                ),
            ));
        }
        if !(problem.pcg.tolerance > 0.0 && problem.pcg.max_iterations > 0) {
            return Err(Error::parameter(
                "wall.pcg",
                "the tolerance and the iteration limit must be positive",
            ));
        }
        if problem.newton.load_steps == 0 || problem.newton.max_iterations == 0 {
            return Err(Error::parameter("wall.newton", "load steps and iterations must be at least 1"));
        }
        let materials = (0..mesh.elements.len())
            .map(|e| {
                let centre = mesh.centre(e);
                *problem.materials.at_layer(&axis.frame(&centre), &centre, mesh.layer[e] as usize)
            })
            .collect();
        let (gpu, backend_notice) = match resolve(problem.backend, FemGpu::new)? {
            Resolved::Gpu(g) => (Some(g), None),
            Resolved::Cpu { reason } => (None, reason),
        };
        let nonlinear = problem.materials.default.is_nonlinear();
        if let Some(g) = &gpu
            && !nonlinear
            && problem.pcg.tolerance < GPU_MIN_TOLERANCE
        {
            return Err(Error::parameter(
                "wall.pcg_tolerance",
                format!(
                    "{:.0e} is below what f32 PCG on the GPU ({}) reaches (about 1e-6); use {GPU_MIN_TOLERANCE:.0e} \
                     or more, or --backend cpu (f64)",
                    problem.pcg.tolerance,
                    g.adapter().name
                ),
            ));
        }
        Ok(WallSolver {
            mesh,
            axis,
            pattern: Pattern::new(mesh),
            constraints: end_constraints(mesh, problem.ends),
            materials,
            gpu,
            backend_notice,
            u: vec![Vector3::zeros(); mesh.nodes.len()],
            converged_load: 0.0,
            newton_iterations: 0,
            load_steps: 0,
            last_pcg: PcgReport {
                iterations: 0,
                relative_residual: 0.0,
                converged: true,
                negative_curvature: false,
            },
            pcg_iterations: 0,
            progress: None,
            started: Instant::now(),
            problem,
        })
    }

    /// Reports progress to `f` (about every second) during solves that run longer than 2 s.
    pub fn on_progress(&mut self, f: impl FnMut(&WallProgress) + 'a) {
        self.progress = Some(Box::new(f));
    }

    /// The last converged displacement (m, per node).
    pub fn displacement(&self) -> &[Vector3<f64>] {
        &self.u
    }

    /// Fraction of the pressure at which the last converged state was reached (1 when solved).
    pub fn converged_load_fraction(&self) -> f64 {
        self.converged_load
    }

    /// External force (N, global) at load fraction `lambda` with the nodes displaced by `u`, and
    /// with `tangent` the follower-load stiffness of the faces (large-deformation models only).
    fn external(
        &self,
        lambda: f64,
        u: &[Vector3<f64>],
        tangent: bool,
    ) -> (Vec<Vector3<f64>>, Vec<FaceStiffness>) {
        let nonlinear = self.materials.first().is_some_and(Material::is_nonlinear);
        let x: Vec<Point3<f64>> = if nonlinear {
            self.mesh.nodes.iter().zip(u).map(|(p, d)| p + d).collect()
        } else {
            self.mesh.nodes.clone()
        };
        let p = &self.problem.pressure;
        let at = |v: u32| {
            lambda
                * match p {
                    Pressure::Uniform(p) => *p,
                    Pressure::PerVertex(p) => p[v as usize],
                }
        };
        pressure_forces(self.mesh, &x, &at, tangent && nonlinear)
    }

    /// Residual (local frames, fixed components zeroed), reference force norm, and the tangent.
    fn residual(&self, lambda: f64, u: &[Vector3<f64>], tangent: bool) -> Result<Residual> {
        let (mut ext, faces) = self.external(lambda, u, tangent);
        let system = Assembly {
            mesh: self.mesh,
            pattern: &self.pattern,
            materials: &self.materials,
            constraints: &self.constraints,
        };
        let a = assemble(system, u, tangent, &faces)?;
        let mut r: Vec<Vector3<f64>> = ext.iter().zip(&a.forces).map(|(e, f)| e - f).collect();
        for v in [&mut r, &mut ext] {
            self.constraints.to_local(v);
            self.constraints.zero_fixed(v);
        }
        Ok(Residual { r, reference: norm(&ext), tangent: a.stiffness })
    }

    /// du · r with du in global and r in local components (the virtual work of r along du), J.
    fn slope(&self, du: &[Vector3<f64>], r: &[Vector3<f64>]) -> f64 {
        let mut r = r.to_vec();
        self.constraints.to_global(&mut r);
        du.iter().zip(&r).map(|(a, b)| a.dot(b)).sum()
    }

    /// Solves K du = r with PCG on the chosen backend to relative residual `tolerance`; du in
    /// global components. With `truncated`, a solve stopped by negative curvature is accepted
    /// (Newton on an indefinite tangent); otherwise it is an error.
    fn linear_solve(
        &mut self,
        k: &CsrMatrix<f64>,
        r: &[Vector3<f64>],
        tolerance: f64,
        truncated: bool,
        load_fraction: f64,
    ) -> Result<Vec<Vector3<f64>>> {
        let b: Vec<f64> = r.iter().flat_map(|v| [v.x, v.y, v.z]).collect();
        let settings = PcgSettings { tolerance, ..self.problem.pcg };
        let multigrid = (settings.preconditioner == Preconditioner::Multigrid)
            .then(|| Multigrid::new(k, self.mesh, &self.constraints));
        let mut listener = self.progress.take();
        let (started, mut last) = (self.started, 0.0);
        let (dofs, newton_iterations) = (b.len(), self.newton_iterations);
        let mut tell = |pcg_iterations: usize, relative_residual: f64| {
            let elapsed_s = started.elapsed().as_secs_f64();
            if let Some(f) = listener.as_mut()
                && elapsed_s >= PROGRESS_AFTER_S
                && elapsed_s - last >= PROGRESS_EVERY_S
            {
                last = elapsed_s;
                f(&WallProgress {
                    dofs,
                    load_fraction,
                    newton_iterations,
                    pcg_iterations,
                    relative_residual,
                    elapsed_s,
                });
            }
        };
        let solved = match &self.gpu {
            Some(gpu) => gpu.solve(k, &b, &settings, multigrid.as_ref(), &mut tell),
            None => Ok(solve_cpu(k, &b, &settings, multigrid.as_ref(), &mut tell)),
        };
        self.progress = listener;
        let (x, report) = solved?;
        self.last_pcg = report;
        self.pcg_iterations += report.iterations;
        if report.negative_curvature && !truncated {
            return Err(Error::Diverged(format!(
                "PCG met negative curvature after {} iterations: the stiffness is not positive definite; \
                 check that the ends hold every rigid motion (wall.ends)",
                report.iterations
            )));
        }
        if !(report.converged || truncated && report.negative_curvature) {
            return Err(Error::Diverged(format!(
                "PCG stopped at its iteration limit (wall.pcg_max_iterations = {}) with relative residual \
                 {:.2e}, short of {:.1e}; raise wall.pcg_max_iterations, use preconditioner = \"multigrid\", \
                 or check that the ends are held",
                settings.max_iterations, report.relative_residual, tolerance
            )));
        }
        let mut du: Vec<Vector3<f64>> = x.chunks(3).map(|c| Vector3::new(c[0], c[1], c[2])).collect();
        self.constraints.to_global(&mut du);
        Ok(du)
    }

    /// Solves the problem:
    /// 1. linear elasticity: one assembly and one PCG solve on the reference geometry;
    /// 2. neo-Hookean: for each load step, Newton iterations on the follower pressure, each with a
    ///    PCG solve of the tangent (truncated on negative curvature) and a line search on the slope
    ///    du · r (Crisfield); a failed step is retried in halves.
    ///
    /// On failure the error names the load step and residual, and [`WallSolver::displacement`]
    /// keeps the last converged state.
    pub fn solve(&mut self) -> Result<WallSolution> {
        self.started = Instant::now();
        let nonlinear = self.materials.first().is_some_and(Material::is_nonlinear);
        let steps = if nonlinear { self.problem.newton.load_steps } else { 1 };
        for step in 1..=steps {
            self.advance_to(step as f64 / steps as f64).map_err(|e| match e {
                Error::Diverged(m) => Error::Diverged(format!("load step {step}/{steps}: {m}")),
                e => e,
            })?;
        }
        Ok(self.solution())
    }

    /// Fields and summary of the current (last converged) state.
    pub fn solution(&self) -> WallSolution {
        let fields = recover(self.mesh, &self.materials, self.axis, &self.u);
        let peak = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let summary = WallSummary {
            nodes: self.mesh.nodes.len(),
            elements: self.mesh.elements.len(),
            dofs: 3 * self.mesh.nodes.len(),
            min_scaled_jacobian: self.mesh.min_scaled_jacobian,
            max_displacement_m: self.u.iter().map(|d| d.norm()).fold(0.0, f64::max),
            max_von_mises_pa: peak(&fields.von_mises),
            max_principal_pa: peak(&fields.max_principal),
            max_hoop_pa: peak(&fields.hoop),
            load_steps: self.load_steps,
            newton_iterations: self.newton_iterations,
            pcg_iterations: self.pcg_iterations,
            pcg_tolerance: self.problem.pcg.tolerance,
            pcg_relative_residual: self.last_pcg.relative_residual,
            backend: self.gpu.as_ref().map_or_else(|| "cpu".to_string(), |g| g.adapter().name.clone()),
            backend_notice: self.backend_notice.clone(),
        };
        WallSolution { fields, summary }
    }

    /// Brings the wall to load fraction `lambda` of the pressure (1 = full): one linear solve for
    /// linear elasticity; Newton-Raphson from the last converged state for the neo-Hookean models,
    /// a failed increment being retried as two halves, down to 1/8 of it. On failure the state
    /// stays at the last converged load.
    pub fn advance_to(&mut self, lambda: f64) -> Result<()> {
        if !self.materials.first().is_some_and(Material::is_nonlinear) {
            return self.newton_to(lambda);
        }
        let mut cuts = 0;
        loop {
            let span = (lambda - self.converged_load) / f64::from(1u32 << cuts);
            let last = cuts == 0;
            match self.newton_to(if last { lambda } else { self.converged_load + span }) {
                Ok(()) if last => return Ok(()),
                Ok(()) => cuts -= 1,
                Err(Error::Diverged(_)) if cuts < 3 => cuts += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// One increment to load fraction `lambda` (see [`WallSolver::advance_to`]).
    fn newton_to(&mut self, lambda: f64) -> Result<()> {
        if !self.materials.first().is_some_and(Material::is_nonlinear) {
            let zero = vec![Vector3::zeros(); self.mesh.nodes.len()];
            let res = self.residual(lambda, &zero, true)?;
            let k = res.tangent.unwrap_or_else(|| unreachable!("a tangent was asked for"));
            self.u = self.linear_solve(&k, &res.r, self.problem.pcg.tolerance, false, lambda)?;
            self.newton_iterations += 1;
            self.load_steps += 1;
            self.converged_load = lambda;
            return Ok(());
        }
        let settings = self.problem.newton;
        let mut u = self.u.clone();
        let from = self.converged_load;
        let fail = |what: String, residual: f64| {
            Error::Diverged(format!(
                "Newton failed going from pressure fraction {from:.3} to {lambda:.3}: {what}, relative \
                 residual {residual:.2e}; the state at fraction {from:.3} is kept (use more load steps)"
            ))
        };
        let mut state = self.residual(lambda, &u, true).map_err(|e| fail(e.to_string(), 1.0))?;
        for _ in 0..settings.max_iterations {
            let (res, reference) = (norm(&state.r), state.reference);
            if res <= settings.tolerance * reference {
                self.u = u;
                self.converged_load = lambda;
                self.load_steps += 1;
                return Ok(());
            }
            let tangent = state.tangent.take().unwrap_or_else(|| unreachable!("a tangent was asked for"));
            let tol = settings.forcing.max(self.problem.pcg.tolerance);
            let du = self
                .linear_solve(&tangent, &state.r, tol, true, lambda)
                .map_err(|e| fail(e.to_string(), res / reference))?;
            self.newton_iterations += 1;
            // Line search on the slope s(η) = du · r(u + η du) (Crisfield): keep η = 1 unless it
            // overshoots (s < -0.8 s(0)) or inverts an element; then step back by secant or halving.
            let s0 = self.slope(&du, &state.r);
            let mut eta = 1.0;
            let accepted = loop {
                let trial: Vec<Vector3<f64>> = u.iter().zip(&du).map(|(a, d)| a + d * eta).collect();
                let next = match self.residual(lambda, &trial, false) {
                    Ok(t) => {
                        let s = self.slope(&du, &t.r);
                        if s >= -0.8 * s0 || norm(&t.r) < res {
                            break Some(trial);
                        }
                        (eta * s0 / (s0 - s)).max(eta / 10.0)
                    }
                    Err(_) => eta / 2.0,
                };
                eta = next;
                if eta < 1e-3 {
                    break None;
                }
            };
            let Some(trial) = accepted else {
                return Err(fail("the line search found no acceptable step".into(), res / reference));
            };
            u = trial;
            state = self.residual(lambda, &u, true).map_err(|e| fail(e.to_string(), res / reference))?;
        }
        Err(fail(
            format!("no convergence in {} iterations", settings.max_iterations),
            norm(&state.r) / state.reference,
        ))
    }
}
