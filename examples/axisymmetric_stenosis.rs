//! Independent check of the lattice's stenosis pressure drop (tests/stenosis.rs): steady
//! axisymmetric incompressible Navier-Stokes through the same 75% (area) cosine stenosis at Reynolds
//! number 100, by Taylor-Hood finite elements (biquadratic velocity, bilinear continuous pressure)
//! on the domain mapped to a rectangle (xi = z, eta = r / R(z), exact geometry at every quadrature
//! point), Newton iterations from the Stokes solution, and a banded LU with partial pivoting.
//! Shares no code with the lattice-Boltzmann solver: only the geometry and fluid figures of the test.
//!
//! Boundary conditions: Poiseuille inflow of the test's flow rate at z = 0, no slip on the wall,
//! symmetry on the axis (u_r = 0), and the "do-nothing" outflow (mu du/dn - p n = 0, which is
//! p = 0 for developed flow) at z = 40 mm. The pressure drop is measured exactly as
//! `stenosis_drop`: area-mean pressure at z = 4 mm minus that at z = 36 mm, minus the Poiseuille
//! drop of the unobstructed tube over 36 - 4 - 8 = 24 mm.
//!
//! Run with `cargo run --release --example axisymmetric_stenosis -- [N ...] [--re 100]
//! [--length-mm 40]`: N are the radial element counts of the grids (default 8 12 18 27; the axial
//! spacing is R0 / N everywhere), `--re` the Reynolds number on D0 and `--length-mm` the tube length
//! (to probe the outlet's influence). It first checks the straight tube on the
//! coarsest grid, then solves the stenosis on every grid and extrapolates every three in a row;
//! `--manufactured` instead verifies the discretization on the stenosed domain against a
//! manufactured solution.

mod common;

use clap::Parser;
use std::f64::consts::PI;
use std::process::ExitCode;
use std::time::Instant;

/// Blood density (kg/m^3), as tests/common/mod.rs.
const RHO: f64 = 1060.0;
/// Newtonian blood viscosity (Pa s), as tests/common/mod.rs.
const MU: f64 = 3.5e-3;
/// Unobstructed radius (m), as tests/stenosis.rs.
const R0: f64 = 2e-3;
/// Default tube length (m), as tests/stenosis.rs.
const LENGTH: f64 = 40e-3;
/// Axial length of the narrowing (m), as tests/stenosis.rs.
const LS: f64 = 8e-3;
/// Axial position of the throat (m), as tests/stenosis.rs.
const THROAT: f64 = 12e-3;
/// Fraction of the lumen area removed at the throat (dimensionless), as tests/stenosis.rs.
const AREA_REDUCTION: f64 = 0.75;
/// Default Reynolds number on D0 = 2 R0 and the mean velocity U0 (dimensionless).
const RE: f64 = 100.0;
/// Upstream measuring section (m): one diameter before the narrowing, as `stenosis_drop`.
const Z_UP: f64 = THROAT - LS / 2.0 - 2.0 * R0;
/// Downstream measuring section (m): five diameters after the narrowing, as `stenosis_drop`.
const Z_DOWN: f64 = THROAT + LS / 2.0 + 10.0 * R0;
/// Default radial element counts of the grid sequence (elements across the radius).
const DEFAULT_GRIDS: [usize; 4] = [8, 12, 18, 27];
/// Newton stops when the largest velocity correction falls below this (units of U0).
const NEWTON_TOL: f64 = 1e-10;
/// Newton gives up after this many iterations (count).
const NEWTON_MAX: usize = 30;

/// The vessel in units of R0: radius R(z) and its slope, throat radius 1 for a straight tube.
#[derive(Debug, Clone, Copy)]
struct Vessel {
    /// Throat radius (R0); 1 for the straight tube.
    throat: f64,
    /// z of the throat (R0).
    center: f64,
    /// Axial length of the narrowing (R0).
    stenosis_length: f64,
    /// Tube length (R0).
    length: f64,
}

impl Vessel {
    /// Radius (R0) at `z` (R0): the raised-cosine dip of `StenosisSpec::radius_at`.
    fn radius(&self, z: f64) -> f64 {
        let s = (z - self.center) / self.stenosis_length;
        if s.abs() < 0.5 { 1.0 - (1.0 - self.throat) * (1.0 + (2.0 * PI * s).cos()) / 2.0 } else { 1.0 }
    }

    /// dR/dz (dimensionless) at `z` (R0).
    fn slope(&self, z: f64) -> f64 {
        let s = (z - self.center) / self.stenosis_length;
        if s.abs() < 0.5 {
            (1.0 - self.throat) * PI * (2.0 * PI * s).sin() / self.stenosis_length
        } else {
            0.0
        }
    }
}

/// A banded matrix (row-major, room for the fill-in of partial pivoting) and its LU factors.
struct Band {
    /// Order of the matrix (count).
    n: usize,
    /// Lower bandwidth (count); the upper one is the same before pivoting.
    kl: usize,
    /// Stored entries per row (count): columns i - kl ..= i + 2 kl.
    width: usize,
    /// Entries, row i at i * width, column c at offset c + kl - i.
    data: Vec<f64>,
    /// Row exchanged with row k at step k of the factorization (index).
    pivots: Vec<usize>,
}

impl Band {
    /// A zero matrix of order `n` with lower and upper bandwidth `kl`.
    fn new(n: usize, kl: usize) -> Band {
        let width = 3 * kl + 1;
        Band { n, kl, width, data: vec![0.0; n * width], pivots: vec![0; n] }
    }

    /// Position of entry (`i`, `c`) in `data`; `c` within i - kl ..= i + 2 kl.
    fn at(&self, i: usize, c: usize) -> usize {
        i * self.width + c + self.kl - i
    }

    /// Adds `v` to entry (`i`, `c`), `c` within i - kl ..= i + kl.
    fn add(&mut self, i: usize, c: usize, v: f64) {
        let k = self.at(i, c);
        self.data[k] += v;
    }

    /// Zeroes every entry.
    fn clear(&mut self) {
        self.data.fill(0.0);
    }

    /// LU factorization in place with partial (row) pivoting, LAPACK gbtf2 style: the multipliers
    /// of step k stay in the rows they were computed in. Fails on an exactly singular pivot.
    fn factor(&mut self) -> Result<(), String> {
        let (n, kl, w) = (self.n, self.kl, self.width);
        for k in 0..n {
            let last = (k + kl).min(n - 1);
            let mut p = k;
            let mut best = self.data[self.at(k, k)].abs();
            for i in k + 1..=last {
                let v = self.data[self.at(i, k)].abs();
                if v > best {
                    best = v;
                    p = i;
                }
            }
            if best == 0.0 {
                return Err(format!("singular matrix at row {k}"));
            }
            self.pivots[k] = p;
            let end = (k + 2 * kl).min(n - 1);
            if p != k {
                for c in k..=end {
                    let (a, b) = (self.at(k, c), self.at(p, c));
                    self.data.swap(a, b);
                }
            }
            let (head, tail) = self.data.split_at_mut((k + 1) * w);
            let row_k = &head[k * w..];
            let pivot = row_k[kl];
            let pivot_row = &row_k[kl + 1..=end + kl - k];
            for i in k + 1..=last {
                let row_i = &mut tail[(i - k - 1) * w..(i - k) * w];
                let lk = k + kl - i;
                let l = row_i[lk] / pivot;
                row_i[lk] = l;
                if l != 0.0 {
                    for (a, &b) in row_i[lk + 1..=lk + end - k].iter_mut().zip(pivot_row) {
                        *a -= l * b;
                    }
                }
            }
        }
        Ok(())
    }

    /// Solves A x = b in place with the factors of [`Band::factor`].
    fn solve(&self, b: &mut [f64]) {
        let (n, kl) = (self.n, self.kl);
        for k in 0..n {
            b.swap(k, self.pivots[k]);
            let bk = b[k];
            if bk != 0.0 {
                let last = (k + kl).min(n - 1);
                for (i, x) in (k + 1..=last).zip(&mut b[k + 1..=last]) {
                    *x -= self.data[self.at(i, k)] * bk;
                }
            }
        }
        for k in (0..n).rev() {
            let end = (k + 2 * kl).min(n - 1);
            let row = &self.data[self.at(k, k)..=self.at(k, end)];
            let s: f64 = row[1..].iter().zip(&b[k + 1..=end]).map(|(a, x)| a * x).sum();
            b[k] = (b[k] - s) / row[0];
        }
    }
}

/// The structured grid on the computational rectangle and its degrees of freedom.
struct Mesh {
    /// Axial element edges xi (R0), from 0 to the tube length.
    xs: Vec<f64>,
    /// Radial element count (elements across eta in [0, 1]).
    ny: usize,
    /// Index of u_z at velocity node (i, j), i along xi, j along eta; u_r is the next index.
    velocity: Vec<usize>,
    /// Index of p at pressure node (i, j) (the even velocity nodes).
    pressure: Vec<usize>,
    /// Number of unknowns (count).
    dofs: usize,
    /// Lower and upper bandwidth of the Jacobian (count).
    band: usize,
}

impl Mesh {
    /// Grid with `ny` radial elements and axial spacing 1 / `ny` (R0), with element edges at
    /// every entry of `breaks` (R0, increasing from 0).
    fn new(breaks: &[f64], ny: usize) -> Mesh {
        let h = 1.0 / ny as f64;
        let mut xs = vec![breaks[0]];
        for piece in breaks.windows(2) {
            let count = ((piece[1] - piece[0]) / h - 1e-9).ceil().max(1.0) as usize;
            xs.extend((1..=count).map(|k| piece[0] + (piece[1] - piece[0]) * k as f64 / count as f64));
        }
        let nx = xs.len() - 1;
        let (columns, rows) = (2 * nx + 1, 2 * ny + 1);
        let mut velocity = vec![0; columns * rows];
        let mut pressure = vec![0; (nx + 1) * (ny + 1)];
        let mut next = 0;
        for i in 0..columns {
            for j in 0..rows {
                velocity[i * rows + j] = next;
                next += 2;
                if i.is_multiple_of(2) && j.is_multiple_of(2) {
                    pressure[(i / 2) * (ny + 1) + j / 2] = next;
                    next += 1;
                }
            }
        }
        let mut mesh = Mesh { xs, ny, velocity, pressure, dofs: next, band: 0 };
        mesh.band = (0..nx)
            .flat_map(|ex| (0..ny).map(move |ey| (ex, ey)))
            .map(|(ex, ey)| {
                let d = mesh.element_dofs(ex, ey);
                d.iter().max().unwrap_or(&0) - d.iter().min().unwrap_or(&0)
            })
            .max()
            .unwrap_or(0);
        mesh
    }

    /// Axial element count.
    fn nx(&self) -> usize {
        self.xs.len() - 1
    }

    /// Velocity nodes along eta (count).
    fn rows(&self) -> usize {
        2 * self.ny + 1
    }

    /// xi (R0) of velocity node column `i`.
    fn xi(&self, i: usize) -> f64 {
        if i.is_multiple_of(2) { self.xs[i / 2] } else { 0.5 * (self.xs[i / 2] + self.xs[i / 2 + 1]) }
    }

    /// eta (fraction of the local radius) of velocity node row `j`.
    fn eta(&self, j: usize) -> f64 {
        j as f64 / (2 * self.ny) as f64
    }

    /// Unknowns of element (`ex`, `ey`): 9 u_z, 9 u_r (node a = 3 li + lj), then 4 p (2 pi + pj).
    fn element_dofs(&self, ex: usize, ey: usize) -> [usize; 22] {
        let mut d = [0; 22];
        for li in 0..3 {
            for lj in 0..3 {
                let v = self.velocity[(2 * ex + li) * self.rows() + 2 * ey + lj];
                d[3 * li + lj] = v;
                d[9 + 3 * li + lj] = v + 1;
            }
        }
        for pi in 0..2 {
            for pj in 0..2 {
                d[18 + 2 * pi + pj] = self.pressure[(ex + pi) * (self.ny + 1) + ey + pj];
            }
        }
        d
    }

    /// Velocity node column of the axial element edge nearest `z` (R0).
    fn column_at(&self, z: f64) -> usize {
        let k = self
            .xs
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - z).abs().total_cmp(&(b.1 - z).abs()))
            .map_or(0, |(k, _)| k);
        2 * k
    }
}

/// Gauss-Legendre points on [-1, 1] (4 points, exact to degree 7).
const GAUSS_X: [f64; 4] =
    [-0.861_136_311_594_052_6, -0.339_981_043_584_856_3, 0.339_981_043_584_856_3, 0.861_136_311_594_052_6];
/// Gauss-Legendre weights matching [`GAUSS_X`].
const GAUSS_W: [f64; 4] =
    [0.347_854_845_137_453_9, 0.652_145_154_862_546_1, 0.652_145_154_862_546_1, 0.347_854_845_137_453_9];

/// Quadratic Lagrange basis on [-1, 0, 1] at `s`: values and derivatives.
fn quadratic(s: f64) -> ([f64; 3], [f64; 3]) {
    ([0.5 * s * (s - 1.0), 1.0 - s * s, 0.5 * s * (s + 1.0)], [s - 0.5, -2.0 * s, s + 0.5])
}

/// Linear Lagrange basis on [-1, 1] at `s`.
fn linear(s: f64) -> [f64; 2] {
    [0.5 * (1.0 - s), 0.5 * (1.0 + s)]
}

/// A manufactured solution (units of R0, U0, rho U0^2) for verifying the discretization on the
/// stenosed domain: a divergence-free axisymmetric velocity from the Stokes stream function
/// psi = r^2 / 2 (1 + sin(a z) cos(b r) / 2) and p = cos(c z) cos(d r), driven by the body force
/// that makes it an exact solution; its values are imposed on the inlet, wall and axis and its
/// traction on the outlet.
#[derive(Debug, Clone, Copy)]
struct Manufactured {
    /// Axial wavenumber of the stream function (1 / R0).
    a: f64,
    /// Radial wavenumber of the stream function (1 / R0).
    b: f64,
    /// Axial wavenumber of the pressure (1 / R0).
    c: f64,
    /// Radial wavenumber of the pressure (1 / R0).
    d: f64,
}

/// Velocity, pressure and their derivatives at a point of a [`Manufactured`] solution (units of
/// R0, U0 and rho U0^2).
struct Exact {
    /// Axial velocity u_z and its derivatives d/dz, d/dr, d2/dz2, d2/dr2.
    uz: [f64; 5],
    /// Radial velocity u_r and its derivatives d/dz, d/dr, d2/dz2, d2/dr2.
    ur: [f64; 5],
    /// Pressure p and its derivatives d/dz, d/dr.
    p: [f64; 3],
}

impl Manufactured {
    /// The exact fields at (`z`, `r`) (R0).
    fn at(&self, z: f64, r: f64) -> Exact {
        let (a, b, c, d) = (self.a, self.b, self.c, self.d);
        let (s, cz) = (a * z).sin_cos();
        let (sr, cr) = (b * r).sin_cos();
        let uz = [
            1.0 + 0.5 * s * cr - 0.25 * b * r * s * sr,
            0.5 * a * cz * cr - 0.25 * a * b * r * cz * sr,
            -0.75 * b * s * sr - 0.25 * b * b * r * s * cr,
            -0.5 * a * a * s * cr + 0.25 * a * a * b * r * s * sr,
            -b * b * s * cr + 0.25 * b.powi(3) * r * s * sr,
        ];
        let ur = [
            -0.25 * a * r * cz * cr,
            0.25 * a * a * r * s * cr,
            -0.25 * a * cz * cr + 0.25 * a * b * r * cz * sr,
            0.25 * a.powi(3) * r * cz * cr,
            0.5 * a * b * cz * sr + 0.25 * a * b * b * r * cz * cr,
        ];
        let (pz_sin, pz_cos) = (c * z).sin_cos();
        let (pr_sin, pr_cos) = (d * r).sin_cos();
        Exact { uz, ur, p: [pz_cos * pr_cos, -c * pz_sin * pr_cos, -d * pz_cos * pr_sin] }
    }

    /// Body force (rho U0^2 / R0) that makes the fields an exact solution with viscosity `nu`.
    fn force(&self, z: f64, r: f64, nu: f64) -> [f64; 2] {
        let Exact { uz, ur, p } = self.at(z, r);
        [
            uz[0] * uz[1] + ur[0] * uz[2] + p[1] - nu * (uz[3] + uz[4] + uz[2] / r),
            uz[0] * ur[1] + ur[0] * ur[2] + p[2] - nu * (ur[3] + ur[4] + ur[2] / r - ur[0] / (r * r)),
        ]
    }

    /// Area-mean pressure difference (rho U0^2) between sections `z1` and `z2` of unit radius.
    fn mean_pressure_difference(&self, z1: f64, z2: f64) -> f64 {
        let d = self.d;
        let integral = d.sin() / d + (d.cos() - 1.0) / (d * d);
        2.0 * integral * ((self.c * z1).cos() - (self.c * z2).cos())
    }
}

/// A steady flow problem in units of R0 (length), U0 (velocity) and rho U0^2 (pressure).
struct Problem {
    /// The vessel.
    vessel: Vessel,
    /// The grid.
    mesh: Mesh,
    /// Kinematic viscosity in R0 U0 (2 / Re on D0).
    nu: f64,
    /// Whether each unknown is a Dirichlet value (inlet, wall, axis u_r).
    fixed: Vec<bool>,
    /// The manufactured solution to verify against, or None for the physical problem.
    exact: Option<Manufactured>,
}

impl Problem {
    /// The problem on `vessel` with `ny` radial elements at Reynolds number `re` on D0, with
    /// element edges at the measuring sections and the ends of the narrowing.
    fn new(vessel: Vessel, ny: usize, re: f64, sections: [f64; 2], exact: Option<Manufactured>) -> Problem {
        let from = vessel.center - vessel.stenosis_length / 2.0;
        let to = vessel.center + vessel.stenosis_length / 2.0;
        let mut breaks = vec![0.0, sections[0], from, to, sections[1], vessel.length];
        breaks.sort_by(f64::total_cmp);
        breaks.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
        let mesh = Mesh::new(&breaks, ny);
        let mut fixed = vec![false; mesh.dofs];
        let rows = mesh.rows();
        for i in 0..2 * mesh.nx() + 1 {
            for j in 0..rows {
                let v = mesh.velocity[i * rows + j];
                if i == 0 || j == rows - 1 {
                    fixed[v] = true;
                    fixed[v + 1] = true;
                } else if j == 0 {
                    fixed[v + 1] = true;
                }
            }
        }
        Problem { vessel, mesh, nu: 2.0 / re, fixed, exact }
    }

    /// Initial state: the Poiseuille profile of the local radius (unit flow) everywhere, p = 0;
    /// it meets every Dirichlet condition. For a manufactured solution: its values on the
    /// Dirichlet unknowns, zero elsewhere.
    fn initial(&self) -> Vec<f64> {
        let mesh = &self.mesh;
        let mut u = vec![0.0; mesh.dofs];
        for i in 0..2 * mesh.nx() + 1 {
            let (z, radius) = (mesh.xi(i), self.vessel.radius(mesh.xi(i)));
            for j in 0..mesh.rows() {
                let eta = mesh.eta(j);
                let v = mesh.velocity[i * mesh.rows() + j];
                match self.exact {
                    None => u[v] = 2.0 * (1.0 - eta * eta) / (radius * radius),
                    Some(m) => {
                        let e = m.at(z, eta * radius);
                        for (k, value) in [e.uz[0], e.ur[0]].into_iter().enumerate() {
                            if self.fixed[v + k] {
                                u[v + k] = value;
                            }
                        }
                    }
                }
            }
        }
        u
    }

    /// Newton residual and Jacobian at state `u`, convection scaled by `inertia` (0: Stokes).
    fn assemble(&self, u: &[f64], inertia: f64, jac: &mut Band, res: &mut [f64]) {
        let mesh = &self.mesh;
        jac.clear();
        res.fill(0.0);
        let hy = 1.0 / mesh.ny as f64;
        let nu = self.nu;
        for ex in 0..mesh.nx() {
            let (x0, hx) = (mesh.xs[ex], mesh.xs[ex + 1] - mesh.xs[ex]);
            for ey in 0..mesh.ny {
                let y0 = ey as f64 * hy;
                let dofs = mesh.element_dofs(ex, ey);
                let local: Vec<f64> = dofs.iter().map(|&d| u[d]).collect();
                let mut f = [0.0; 22];
                let mut k = [[0.0; 22]; 22];
                for (&s, &ws) in GAUSS_X.iter().zip(&GAUSS_W) {
                    let xi = x0 + 0.5 * hx * (1.0 + s);
                    let (radius, slope) = (self.vessel.radius(xi), self.vessel.slope(xi));
                    let (ls, dls) = quadratic(s);
                    let ms = linear(s);
                    for (&t, &wt) in GAUSS_X.iter().zip(&GAUSS_W) {
                        let eta = y0 + 0.5 * hy * (1.0 + t);
                        let r = eta * radius;
                        let weight = ws * wt * 0.25 * hx * hy * radius * r;
                        let (lt, dlt) = quadratic(t);
                        let mt = linear(t);
                        // Basis values and physical derivatives d/dz, d/dr.
                        let mut n = [0.0; 9];
                        let mut nz = [0.0; 9];
                        let mut nr = [0.0; 9];
                        for li in 0..3 {
                            for lj in 0..3 {
                                let a = 3 * li + lj;
                                let dxi = dls[li] * lt[lj] * 2.0 / hx;
                                let deta = ls[li] * dlt[lj] * 2.0 / hy;
                                n[a] = ls[li] * lt[lj];
                                nz[a] = dxi - eta * slope / radius * deta;
                                nr[a] = deta / radius;
                            }
                        }
                        let m = [ms[0] * mt[0], ms[0] * mt[1], ms[1] * mt[0], ms[1] * mt[1]];
                        let mut q = [0.0; 7]; // uz, ur, p, duz/dz, duz/dr, dur/dz, dur/dr
                        for a in 0..9 {
                            let (uz, ur) = (local[a], local[9 + a]);
                            q[0] += uz * n[a];
                            q[1] += ur * n[a];
                            q[3] += uz * nz[a];
                            q[4] += uz * nr[a];
                            q[5] += ur * nz[a];
                            q[6] += ur * nr[a];
                        }
                        q[2] = (0..4).map(|b| local[18 + b] * m[b]).sum();
                        let [uz, ur, p, uzz, uzr, urz, urr] = q;
                        let conv_z = inertia * (uz * uzz + ur * uzr);
                        let conv_r = inertia * (uz * urz + ur * urr);
                        let div = uzz + urr + ur / r;
                        let [fz, fr] = self.exact.map_or([0.0; 2], |m| m.force(xi, r, nu));
                        for a in 0..9 {
                            f[a] += weight
                                * ((conv_z - fz) * n[a] + nu * (uzz * nz[a] + uzr * nr[a]) - p * nz[a]);
                            f[9 + a] += weight
                                * ((conv_r - fr) * n[a]
                                    + nu * (urz * nz[a] + urr * nr[a] + ur * n[a] / (r * r))
                                    - p * (nr[a] + n[a] / r));
                        }
                        for b in 0..4 {
                            f[18 + b] -= weight * m[b] * div;
                        }
                        for a in 0..9 {
                            let wa = weight * n[a];
                            for c in 0..9 {
                                let advect = inertia * (uz * nz[c] + ur * nr[c]);
                                let diffuse = nu * (nz[c] * nz[a] + nr[c] * nr[a]);
                                k[a][c] += wa * (advect + inertia * n[c] * uzz) + weight * diffuse;
                                k[a][9 + c] += wa * inertia * n[c] * uzr;
                                k[9 + a][c] += wa * inertia * n[c] * urz;
                                k[9 + a][9 + c] += wa * (advect + inertia * n[c] * urr)
                                    + weight * (diffuse + nu * n[c] * n[a] / (r * r));
                            }
                            for b in 0..4 {
                                let gz = weight * m[b] * nz[a];
                                let gr = weight * m[b] * (nr[a] + n[a] / r);
                                k[a][18 + b] -= gz;
                                k[9 + a][18 + b] -= gr;
                                k[18 + b][a] -= gz;
                                k[18 + b][9 + a] -= gr;
                            }
                        }
                    }
                }
                if let (Some(m), true) = (self.exact, ex + 1 == mesh.nx()) {
                    // Outlet traction nu du/dz - p e_z of the manufactured solution, on xi = L.
                    let z = mesh.xs[ex + 1];
                    let radius = self.vessel.radius(z);
                    for (&t, &wt) in GAUSS_X.iter().zip(&GAUSS_W) {
                        let r = (y0 + 0.5 * hy * (1.0 + t)) * radius;
                        let weight = wt * 0.5 * hy * radius * r;
                        let (lt, _) = quadratic(t);
                        let e = m.at(z, r);
                        for lj in 0..3 {
                            f[6 + lj] -= weight * (nu * e.uz[1] - e.p[0]) * lt[lj];
                            f[15 + lj] -= weight * nu * e.ur[1] * lt[lj];
                        }
                    }
                }
                for (row, &g) in dofs.iter().enumerate() {
                    if self.fixed[g] {
                        continue;
                    }
                    res[g] += f[row];
                    for (col, &h) in dofs.iter().enumerate() {
                        if !self.fixed[h] && k[row][col] != 0.0 {
                            jac.add(g, h, k[row][col]);
                        }
                    }
                }
            }
        }
        for (g, _) in self.fixed.iter().enumerate().filter(|(_, f)| **f) {
            jac.add(g, g, 1.0);
        }
    }

    /// Solves for the steady state with Newton's method from the Stokes solution; returns the
    /// state and the Newton iterations taken (count).
    fn solve(&self) -> Result<(Vec<f64>, usize), String> {
        let mut u = self.initial();
        let mut jac = Band::new(self.mesh.dofs, self.mesh.band);
        let mut res = vec![0.0; self.mesh.dofs];
        // Stokes (linear: one step), then Navier-Stokes.
        self.assemble(&u, 0.0, &mut jac, &mut res);
        jac.factor()?;
        res.iter_mut().for_each(|x| *x = -*x);
        jac.solve(&mut res);
        u.iter_mut().zip(&res).for_each(|(a, d)| *a += d);
        for iteration in 1..=NEWTON_MAX {
            self.assemble(&u, 1.0, &mut jac, &mut res);
            jac.factor()?;
            res.iter_mut().for_each(|x| *x = -*x);
            jac.solve(&mut res);
            let mut largest: f64 = 0.0;
            for (a, d) in u.iter_mut().zip(&res) {
                *a += d;
                largest = largest.max(d.abs());
            }
            if !largest.is_finite() || largest > 1e3 {
                return Err(format!("Newton diverged at iteration {iteration} (correction {largest:.1e})"));
            }
            if largest < NEWTON_TOL {
                return Ok((u, iteration));
            }
        }
        Err(format!("Newton did not converge in {NEWTON_MAX} iterations"))
    }

    /// Area-mean pressure (rho U0^2) over the cross-section at velocity node column `i` (even):
    /// 2 * integral of p eta d eta, exact for the piecewise-linear pressure.
    fn mean_pressure(&self, u: &[f64], i: usize) -> f64 {
        let ny = self.mesh.ny;
        let h = 1.0 / ny as f64;
        let p = |m: usize| u[self.mesh.pressure[(i / 2) * (ny + 1) + m]];
        2.0 * (0..ny)
            .map(|m| {
                let (e0, e1) = (m as f64 * h, (m + 1) as f64 * h);
                h * (p(m) * (2.0 * e0 + e1) + p(m + 1) * (e0 + 2.0 * e1)) / 6.0
            })
            .sum::<f64>()
    }

    /// Flow rate (pi R0^2 U0) through velocity node column `i`: 2 R^2 * integral of u_z eta d eta
    /// (Simpson's rule per element, exact for the quadratic profile times eta).
    fn flow(&self, u: &[f64], i: usize) -> f64 {
        let mesh = &self.mesh;
        let radius = self.vessel.radius(mesh.xi(i));
        let g = |j: usize| u[mesh.velocity[i * mesh.rows() + j]] * mesh.eta(j);
        let h = 1.0 / mesh.ny as f64;
        2.0 * radius
            * radius
            * (0..mesh.ny).map(|e| h / 6.0 * (g(2 * e) + 4.0 * g(2 * e + 1) + g(2 * e + 2))).sum::<f64>()
    }

    /// Largest deviation of u_z at node column `i` from the Poiseuille profile of unit flow (U0).
    fn poiseuille_error(&self, u: &[f64], i: usize) -> f64 {
        let mesh = &self.mesh;
        (0..mesh.rows())
            .map(|j| {
                let eta = mesh.eta(j);
                (u[mesh.velocity[i * mesh.rows() + j]] - 2.0 * (1.0 - eta * eta)).abs()
            })
            .fold(0.0, f64::max)
    }

    /// Axial range (R0) where u_z is negative on the node row next to the wall (reversed flow),
    /// if any.
    fn reversed_flow(&self, u: &[f64]) -> Option<(f64, f64)> {
        let mesh = &self.mesh;
        let j = mesh.rows() - 2;
        let reversed: Vec<f64> = (0..2 * mesh.nx() + 1)
            .filter(|&i| u[mesh.velocity[i * mesh.rows() + j]] < 0.0)
            .map(|i| mesh.xi(i))
            .collect();
        Some((*reversed.first()?, *reversed.last()?))
    }
}

/// Steady axisymmetric Navier-Stokes through the 75% cosine stenosis of tests/stenosis.rs (Taylor-Hood
/// finite elements): the pressure drop on a grid sequence and its Richardson extrapolation.
#[derive(Parser)]
#[command(allow_negative_numbers = true)]
struct Args {
    /// Radial element counts of the grids, 2 to 40 each (40 takes about 3 GB).
    #[arg(default_values_t = DEFAULT_GRIDS, value_parser = grid_count)]
    grids: Vec<usize>,
    /// Reynolds number on the unobstructed diameter D0 and the mean velocity U0, at most 1000.
    #[arg(long, default_value_t = RE, value_parser = at_most_1000)]
    re: f64,
    /// Tube length (mm, at most 1000); it must reach past the downstream section.
    #[arg(long, default_value_t = LENGTH * 1e3, value_parser = tube_length_mm)]
    length_mm: f64,
    /// Verify the discretization on the stenosed domain against a manufactured solution instead.
    #[arg(long)]
    manufactured: bool,
}

/// A radial element count within 2..=40.
fn grid_count(text: &str) -> Result<usize, String> {
    let n: usize = text.parse().map_err(|e| format!("expected a radial element count ({e})"))?;
    if (2..=40).contains(&n) {
        Ok(n)
    } else {
        Err("radial element count must be within 2..=40 (40 takes about 3 GB)".into())
    }
}

/// A positive number of at most 1000.
fn at_most_1000(text: &str) -> Result<f64, String> {
    let x = common::positive(text)?;
    if x <= 1000.0 { Ok(x) } else { Err("must be at most 1000".into()) }
}

/// A tube length (mm) of at most 1000 that reaches past the downstream measuring section.
fn tube_length_mm(text: &str) -> Result<f64, String> {
    let x = at_most_1000(text)?;
    if x * 1e-3 >= Z_DOWN + 1e-4 {
        Ok(x)
    } else {
        Err(format!("the tube must reach past the downstream section at {:.1} mm", Z_DOWN * 1e3))
    }
}

/// One solved grid: the pressure drop (Pa) and what it took.
struct Run {
    /// Radial element count.
    ny: usize,
    /// Pressure drop minus the straight-tube Poiseuille drop (Pa), as `stenosis_drop`.
    drop_pa: f64,
    /// Raw section-mean pressure difference (Pa).
    raw_pa: f64,
}

/// Solves `vessel` on `ny` radial elements at Reynolds number `re` and prints the figures.
fn run(vessel: Vessel, ny: usize, re: f64, label: &str) -> Result<Run, String> {
    let start = Instant::now();
    let sections = [Z_UP / R0, Z_DOWN / R0];
    let problem = Problem::new(vessel, ny, re, sections, None);
    let (u, iterations) = problem.solve()?;
    let seconds = start.elapsed().as_secs_f64();
    let mesh = &problem.mesh;
    let (up, down) = (mesh.column_at(sections[0]), mesh.column_at(sections[1]));
    let u0 = re * MU / (RHO * 2.0 * R0);
    let q = u0 * PI * R0 * R0;
    let scale = RHO * u0 * u0;
    let raw_pa = (problem.mean_pressure(&u, up) - problem.mean_pressure(&u, down)) * scale;
    let poiseuille = 8.0 * MU * q / (PI * R0.powi(4)) * (Z_DOWN - Z_UP - vessel.stenosis_length * R0);
    let flow_error = (0..2 * mesh.nx() + 1).map(|i| (problem.flow(&u, i) - 1.0).abs()).fold(0.0, f64::max);
    let throat = mesh.column_at(vessel.center);
    let reversed = problem
        .reversed_flow(&u)
        .map_or("none".to_string(), |(a, b)| format!("z = {:.2} to {:.2} mm", a * R0 * 1e3, b * R0 * 1e3));
    println!(
        "{label}: {ny} x {} elements, {} unknowns, band {}, {iterations} Newton steps, {seconds:.1} s\n  \
         section-mean pressure difference {raw_pa:.4} Pa, minus Poiseuille {poiseuille:.4} Pa = {:.4} Pa\n  \
         largest flow-rate error {flow_error:.1e}, throat centreline velocity {:.4} U0, reversed flow at the wall: {reversed}",
        mesh.nx(),
        mesh.dofs,
        mesh.band,
        raw_pa - poiseuille,
        u[mesh.velocity[throat * mesh.rows()]],
    );
    if vessel.throat == 1.0 {
        let middle = mesh.column_at(vessel.length / 2.0);
        println!(
            "  straight tube: drop over {:.0} mm {raw_pa:.6} Pa, Poiseuille {:.6} Pa ({:+.2e} relative); \
             largest profile deviation at mid-length {:.1e} U0",
            (Z_DOWN - Z_UP) * 1e3,
            8.0 * MU * q / (PI * R0.powi(4)) * (Z_DOWN - Z_UP),
            raw_pa / (8.0 * MU * q / (PI * R0.powi(4)) * (Z_DOWN - Z_UP)) - 1.0,
            problem.poiseuille_error(&u, middle)
        );
    }
    Ok(Run { ny, drop_pa: raw_pa - poiseuille, raw_pa })
}

/// Solves the manufactured solution on the stenosed `vessel` with `ny` radial elements at Reynolds
/// number `re`; prints and returns the largest nodal velocity error (U0) and the error of the
/// section-mean pressure difference between the measuring sections (rho U0^2).
fn verify(vessel: Vessel, ny: usize, re: f64) -> Result<[f64; 2], String> {
    let start = Instant::now();
    let sections = [Z_UP / R0, Z_DOWN / R0];
    let m = Manufactured { a: 0.7, b: 1.1, c: 0.3, d: 0.8 };
    let problem = Problem::new(vessel, ny, re, sections, Some(m));
    let (u, iterations) = problem.solve()?;
    let mesh = &problem.mesh;
    let mut velocity_error: f64 = 0.0;
    for i in 0..2 * mesh.nx() + 1 {
        let (z, radius) = (mesh.xi(i), vessel.radius(mesh.xi(i)));
        for j in 0..mesh.rows() {
            let e = m.at(z, mesh.eta(j) * radius);
            let v = mesh.velocity[i * mesh.rows() + j];
            velocity_error = velocity_error.max((u[v] - e.uz[0]).abs()).max((u[v + 1] - e.ur[0]).abs());
        }
    }
    let (up, down) = (mesh.column_at(sections[0]), mesh.column_at(sections[1]));
    let difference = problem.mean_pressure(&u, up) - problem.mean_pressure(&u, down);
    let pressure_error = difference - m.mean_pressure_difference(sections[0], sections[1]);
    println!(
        "manufactured solution, {ny} x {} elements: {iterations} Newton steps, {:.1} s; largest velocity \
         error {velocity_error:.3e} U0, section-mean pressure difference error {pressure_error:+.3e} rho U0^2",
        mesh.nx(),
        start.elapsed().as_secs_f64()
    );
    Ok([velocity_error, pressure_error])
}

/// Young & Tsai's pressure drop (Pa) at Reynolds number `re`, as `young_tsai` in tests/stenosis.rs.
fn young_tsai(re: f64) -> f64 {
    let (d0, d1) = (2.0 * R0, 2.0 * R0 * (1.0 - AREA_REDUCTION).sqrt());
    let area_ratio = 1.0 / (1.0 - AREA_REDUCTION);
    let u0 = re * MU / (RHO * d0);
    let kv = 32.0 * (0.83 * LS + 1.64 * d1) / d0 * area_ratio * area_ratio;
    kv * MU * u0 / d0 + 0.76 * RHO * (area_ratio - 1.0).powi(2) * u0 * u0
}

/// Richardson extrapolation of values `f` on grids of spacing `h` (decreasing): the limit and
/// the observed order, from f = f_inf + C h^p through the three points.
fn richardson(h: [f64; 3], f: [f64; 3]) -> Option<(f64, f64)> {
    let ratio = (f[0] - f[1]) / (f[1] - f[2]);
    let g = |p: f64| (h[0].powf(p) - h[1].powf(p)) / (h[1].powf(p) - h[2].powf(p)) - ratio;
    let (mut lo, mut hi) = (0.1, 10.0);
    if !ratio.is_finite() || g(lo).signum() == g(hi).signum() {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if g(mid).signum() == g(lo).signum() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let p = 0.5 * (lo + hi);
    let c = (f[1] - f[2]) / (h[1].powf(p) - h[2].powf(p));
    Some((f[2] - c * h[2].powf(p), p))
}

/// Runs the tube check and the stenosis grid sequence.
fn main() -> ExitCode {
    let options = Args::parse();
    let length = options.length_mm * 1e-3;
    let stenosis = Vessel {
        throat: (1.0 - AREA_REDUCTION).sqrt(),
        center: THROAT / R0,
        stenosis_length: LS / R0,
        length: length / R0,
    };
    let tube = Vessel { throat: 1.0, ..stenosis };
    if options.manufactured {
        let mut errors = Vec::new();
        for &ny in &options.grids {
            match verify(stenosis, ny, options.re) {
                Ok(e) => errors.push((ny, e)),
                Err(e) => {
                    eprintln!("error: manufactured solution on {ny} radial elements: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        for pair in errors.windows(2) {
            let [(n0, e0), (n1, e1)] = [pair[0], pair[1]];
            let order = |a: f64, b: f64| (a.abs() / b.abs()).ln() / (n1 as f64 / n0 as f64).ln();
            println!(
                "observed order {n0} -> {n1}: velocity {:.2}, pressure difference {:.2}",
                order(e0[0], e1[0]),
                order(e0[1], e1[1])
            );
        }
        return ExitCode::SUCCESS;
    }
    println!(
        "Re {} on D0 = {} mm, U0 = {:.5} m/s, rho {RHO} kg/m^3, mu {MU} Pa s; tube {} mm long",
        options.re,
        2.0 * R0 * 1e3,
        options.re * MU / (RHO * 2.0 * R0),
        options.length_mm
    );
    let coarsest = *options.grids.iter().min().unwrap_or(&DEFAULT_GRIDS[0]);
    if let Err(e) = run(tube, coarsest, options.re, "straight tube") {
        eprintln!("error: straight tube: {e}");
        return ExitCode::FAILURE;
    }
    let mut runs = Vec::new();
    for &ny in &options.grids {
        match run(stenosis, ny, options.re, "stenosis") {
            Ok(r) => runs.push(r),
            Err(e) => {
                eprintln!("error: stenosis on {ny} radial elements: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("\nradial elements | dP (Pa) | raw section difference (Pa)");
    for r in &runs {
        println!("{:>15} | {:.4} | {:.4}", r.ny, r.drop_pa, r.raw_pa);
    }
    for triple in runs.windows(3) {
        let [a, b, c] = [&triple[0], &triple[1], &triple[2]];
        let h = [a, b, c].map(|r| 1.0 / r.ny as f64);
        match richardson(h, [a.drop_pa, b.drop_pa, c.drop_pa]) {
            Some((limit, order)) => println!(
                "Richardson from {}, {}, {}: dP -> {limit:.4} Pa, observed order {order:.2}",
                a.ny, b.ny, c.ny
            ),
            None => println!("Richardson from {}, {}, {}: not monotonic", a.ny, b.ny, c.ny),
        }
    }
    println!("Young & Tsai (as tests/stenosis.rs): {:.2} Pa", young_tsai(options.re));
    ExitCode::SUCCESS
}
