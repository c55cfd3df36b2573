//! Wall materials: linear elastic, compressible neo-Hookean and nearly incompressible neo-Hookean,
//! each as a first Piola-Kirchhoff stress P(F) and its derivative ∂P/∂F, and regions of the wall
//! (by axial abscissa) with their own properties.

use super::axis::{AxisFrame, project_on};
use super::element::Rule;
use crate::error::{Error, Result};
use nalgebra::{Matrix3, Point3, SMatrix};
use serde::{Deserialize, Serialize};

/// ∂P_iJ/∂F_kL stored at (3i + J, 3k + L), Pa.
pub type Stiffness = SMatrix<f64, 9, 9>;

/// Constitutive model of the wall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Small-strain linear elasticity (Hooke), solved on the reference geometry.
    LinearElastic,
    /// Compressible neo-Hookean: W = μ/2 (I1 - 3) - μ ln J + λ/2 (ln J)^2; large deformation.
    NeoHookean,
    /// Nearly incompressible neo-Hookean: W = μ/2 (J^(-2/3) I1 - 3) + κ/2 (J - 1)^2, the volumetric
    /// part integrated at the element centroid (mean dilatation); large deformation.
    NearlyIncompressibleNeoHookean,
}

/// A wall material: model, Young's modulus (Pa) and Poisson's ratio; the small-strain moduli of
/// all three models agree.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// The constitutive model.
    pub model: Model,
    /// Young's modulus, Pa.
    pub youngs_modulus: f64,
    /// Poisson's ratio, dimensionless, in (-1, 0.5).
    pub poisson_ratio: f64,
}

/// Poisson's ratio above which the bulk term of linear elasticity is integrated at the element
/// centroid (mean dilatation) rather than at the four Gauss points, so the wall does not lock.
pub const MEAN_DILATATION_NU: f64 = 0.45;

/// Which energy part a stress evaluation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The whole energy (compressible neo-Hookean).
    Whole,
    /// The deviatoric (isochoric) part.
    Deviatoric,
    /// The volumetric part.
    Volumetric,
}

/// A material as the element sees it: energy parts with their quadrature, and P(F), ∂P/∂F per part.
pub trait Response {
    /// The parts of the strain energy and the rule each is integrated with.
    fn parts(&self) -> &'static [(Part, Rule)];
    /// First Piola-Kirchhoff stress (Pa) of `part` at displacement gradient `h` = ∂u/∂X and, when
    /// `tangent`, its derivative; `None` when J = det(I + h) <= 0.
    fn stress(
        &self,
        part: Part,
        h: &Matrix3<f64>,
        tangent: bool,
    ) -> Option<(Matrix3<f64>, Option<Stiffness>)>;
}

impl Material {
    /// Shear modulus μ = E / (2 (1 + ν)), Pa.
    pub fn shear_modulus(&self) -> f64 {
        self.youngs_modulus / (2.0 * (1.0 + self.poisson_ratio))
    }

    /// Bulk modulus κ = E / (3 (1 - 2ν)), Pa.
    pub fn bulk_modulus(&self) -> f64 {
        self.youngs_modulus / (3.0 * (1.0 - 2.0 * self.poisson_ratio))
    }

    /// Lamé's first parameter λ = κ - 2μ/3, Pa.
    pub fn lame_lambda(&self) -> f64 {
        self.bulk_modulus() - 2.0 * self.shear_modulus() / 3.0
    }

    /// True for the large-deformation models.
    pub fn is_nonlinear(&self) -> bool {
        self.model != Model::LinearElastic
    }

    /// Checks the moduli; `field` names the material in errors (e.g. `wall.material`).
    pub fn validate(&self, field: &str) -> Result<()> {
        let e = self.youngs_modulus;
        if !(e.is_finite() && e > 0.0) {
            return Err(Error::parameter(
                format!("{field}.youngs_modulus"),
                format!("must be positive and finite in Pa (arterial wall: about 1e6), got {e}"),
            ));
        }
        let nu = self.poisson_ratio;
        if !(nu.is_finite() && nu > -1.0 && nu < 0.5) {
            return Err(Error::parameter(
                format!("{field}.poisson_ratio"),
                format!(
                    "must be in (-1, 0.5) for the compressible and nearly incompressible models, got {nu}; \
                     for an incompressible wall use model = \"nearly-incompressible-neo-hookean\" with 0.49 \
                     to 0.499"
                ),
            ));
        }
        Ok(())
    }

    /// Cauchy stress (Pa) of `part` at displacement gradient `h`: P itself for linear elasticity,
    /// P F^T / J for the large-deformation models.
    pub fn cauchy(&self, part: Part, h: &Matrix3<f64>) -> Option<Matrix3<f64>> {
        let (p, _) = self.stress(part, h, false)?;
        if self.is_nonlinear() {
            let f = Matrix3::identity() + h;
            Some(p * f.transpose() / f.determinant())
        } else {
            Some(p)
        }
    }

    /// Strain at displacement gradient `h`: small strain for linear elasticity, Green-Lagrange
    /// E = (F^T F - I)/2 for the large-deformation models; dimensionless.
    pub fn strain(&self, h: &Matrix3<f64>) -> Matrix3<f64> {
        let small = (h + h.transpose()) / 2.0;
        if self.is_nonlinear() { small + h.transpose() * h / 2.0 } else { small }
    }
}

/// Adds c * δik δJL (c times ∂F_iJ/∂F_kL) to the stiffness.
fn add_identity(s: &mut Stiffness, c: f64) {
    for m in 0..9 {
        s[(m, m)] += c;
    }
}

/// Adds c * (a_iJ b_kL) to the stiffness.
fn add_outer(s: &mut Stiffness, c: f64, a: &Matrix3<f64>, b: &Matrix3<f64>) {
    for i in 0..3 {
        for jj in 0..3 {
            for k in 0..3 {
                for l in 0..3 {
                    s[(3 * i + jj, 3 * k + l)] += c * a[(i, jj)] * b[(k, l)];
                }
            }
        }
    }
}

/// Adds c * (a_iL b_kJ) to the stiffness (the "crossed" product; a = b = F^-T gives ∂F^-T/∂F).
fn add_crossed(s: &mut Stiffness, c: f64, a: &Matrix3<f64>, b: &Matrix3<f64>) {
    for i in 0..3 {
        for jj in 0..3 {
            for k in 0..3 {
                for l in 0..3 {
                    s[(3 * i + jj, 3 * k + l)] += c * a[(i, l)] * b[(k, jj)];
                }
            }
        }
    }
}

impl Response for Material {
    fn parts(&self) -> &'static [(Part, Rule)] {
        match self.model {
            Model::LinearElastic if self.poisson_ratio > MEAN_DILATATION_NU => {
                &[(Part::Deviatoric, Rule::Gauss4), (Part::Volumetric, Rule::Centroid)]
            }
            Model::LinearElastic => &[(Part::Deviatoric, Rule::Gauss4), (Part::Volumetric, Rule::Gauss4)],
            Model::NeoHookean => &[(Part::Whole, Rule::Gauss4)],
            Model::NearlyIncompressibleNeoHookean => {
                &[(Part::Deviatoric, Rule::Gauss4), (Part::Volumetric, Rule::Centroid)]
            }
        }
    }

    fn stress(
        &self,
        part: Part,
        h: &Matrix3<f64>,
        tangent: bool,
    ) -> Option<(Matrix3<f64>, Option<Stiffness>)> {
        let (mu, kappa, lambda) = (self.shear_modulus(), self.bulk_modulus(), self.lame_lambda());
        let id = Matrix3::identity();
        let mut a = tangent.then(Stiffness::zeros);
        if self.model == Model::LinearElastic {
            let eps = (h + h.transpose()) / 2.0;
            let tr = eps.trace();
            let p = match part {
                Part::Volumetric => {
                    if let Some(a) = a.as_mut() {
                        add_outer(a, kappa, &id, &id);
                    }
                    id * (kappa * tr)
                }
                _ => {
                    if let Some(a) = a.as_mut() {
                        add_identity(a, mu);
                        add_crossed(a, mu, &id, &id);
                        add_outer(a, -2.0 * mu / 3.0, &id, &id);
                    }
                    (eps - id * (tr / 3.0)) * (2.0 * mu)
                }
            };
            return Some((p, a));
        }
        let f = id + h;
        let j = f.determinant();
        if j.is_nan() || j <= 0.0 {
            return None;
        }
        let f_inv_t = f.try_inverse()?.transpose();
        let p = match part {
            Part::Whole => {
                let ln_j = j.ln();
                if let Some(a) = a.as_mut() {
                    add_identity(a, mu);
                    add_crossed(a, mu - lambda * ln_j, &f_inv_t, &f_inv_t);
                    add_outer(a, lambda, &f_inv_t, &f_inv_t);
                }
                (f - f_inv_t) * mu + f_inv_t * (lambda * ln_j)
            }
            Part::Deviatoric => {
                let c = j.powf(-2.0 / 3.0);
                let i1 = f.norm_squared();
                if let Some(a) = a.as_mut() {
                    let dev = f - f_inv_t * (i1 / 3.0);
                    add_outer(a, -2.0 / 3.0 * mu * c, &dev, &f_inv_t);
                    add_identity(a, mu * c);
                    add_outer(a, -2.0 / 3.0 * mu * c, &f_inv_t, &f);
                    add_crossed(a, mu * c * i1 / 3.0, &f_inv_t, &f_inv_t);
                }
                (f - f_inv_t * (i1 / 3.0)) * (mu * c)
            }
            Part::Volumetric => {
                if let Some(a) = a.as_mut() {
                    add_outer(a, kappa * (2.0 * j - 1.0) * j, &f_inv_t, &f_inv_t);
                    add_crossed(a, -kappa * (j - 1.0) * j, &f_inv_t, &f_inv_t);
                }
                f_inv_t * (kappa * (j - 1.0) * j)
            }
        };
        Some((p, a))
    }
}

/// Material of one stretch of the wall: elements whose centroid lies at axial abscissa `from` to
/// `to` (m from the first port along the axis) get `material`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Region {
    /// Start of the stretch, m of axial abscissa.
    pub from: f64,
    /// End of the stretch, m of axial abscissa.
    pub to: f64,
    /// Its material.
    pub material: Material,
}

/// A stent in the wall: its stretch of the vessel and the stiffness of the inner layers it
/// occupies (a homogenised stent-tissue layer; the outer layers stay tissue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stent {
    /// Start of the stented stretch, m of axial abscissa (along `branch` when given).
    pub from: f64,
    /// End of the stented stretch, m of axial abscissa (along `branch` when given).
    pub to: f64,
    /// The stented branch's centreline from the inlet (m): only the wall around it is stented, not
    /// a sister branch at the same abscissa; absent, every branch at `from`..`to` is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<Vec<Point3<f64>>>,
    /// Element layers from the lumen that the stent occupies (default 1).
    #[serde(default = "one_layer")]
    pub layers: usize,
    /// The stented layers' material (same model as the wall's).
    pub material: Material,
}

fn one_layer() -> usize {
    1
}

/// How much farther than the wall's axis a stent's branch centreline may lie from a point it
/// covers, in local radii: the slack between two tracings of one centreline, far below the
/// distance to a sister branch's.
const BRANCH_SLACK: f64 = 0.5;

impl Stent {
    /// Whether the stent covers the point `p` (m) whose place about the wall's axis is `frame`.
    pub fn covers(&self, frame: &AxisFrame, p: &Point3<f64>) -> bool {
        on_stretch(self.from, self.to, self.branch.as_deref(), frame, p)
    }
}

/// Whether the point `p` (m; `frame`, its place about the wall's axis) lies on the stretch of
/// abscissae `from`..`to` (m): along `branch` (a centreline from the inlet, m) and around it rather
/// than a sister branch, or along the axis when no branch is given.
pub fn on_stretch(
    from: f64,
    to: f64,
    branch: Option<&[Point3<f64>]>,
    frame: &AxisFrame,
    p: &Point3<f64>,
) -> bool {
    match branch {
        None => from <= frame.abscissa && frame.abscissa <= to,
        Some(line) => project_on(line, p)
            .is_some_and(|(s, d)| from <= s && s <= to && d <= (1.0 + BRANCH_SLACK) * frame.radius),
    }
}

/// Materials of the whole wall: a default, regions that override it (the last match wins), and
/// stents that override the inner layers of their stretch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaterialMap {
    /// Material outside every region.
    pub default: Material,
    /// Stretches with other properties.
    pub regions: Vec<Region>,
    /// Stents (`[[wall.stents]]`).
    #[serde(default)]
    pub stents: Vec<Stent>,
}

impl MaterialMap {
    /// One material everywhere.
    pub fn uniform(material: Material) -> Self {
        MaterialMap { default: material, regions: Vec::new(), stents: Vec::new() }
    }

    /// The material at axial abscissa `s` (m).
    pub fn at(&self, s: f64) -> &Material {
        self.regions.iter().rev().find(|r| r.from <= s && s <= r.to).map_or(&self.default, |r| &r.material)
    }

    /// The material of the element centred at `centre` (m; `frame`, its place about the wall's
    /// axis) in element layer `layer` (0 at the lumen): a stent's where one covers it, else
    /// [`MaterialMap::at`].
    pub fn at_layer(&self, frame: &AxisFrame, centre: &Point3<f64>, layer: usize) -> &Material {
        self.stents
            .iter()
            .rev()
            .find(|t| layer < t.layers && t.covers(frame, centre))
            .map_or_else(|| self.at(frame.abscissa), |t| &t.material)
    }

    /// Checks every material and region; all must share one model (linear or not for the whole wall).
    pub fn validate(&self) -> Result<()> {
        self.default.validate("wall.material")?;
        for (k, t) in self.stents.iter().enumerate() {
            let field = format!("wall.stents[{k}]");
            t.material.validate(&format!("{field}.material"))?;
            if !(t.from.is_finite() && t.to.is_finite() && t.from < t.to) {
                return Err(Error::parameter(
                    format!("{field}.from"),
                    format!("from ({}) must be below to ({}), both finite, in m of abscissa", t.from, t.to),
                ));
            }
            if t.layers == 0 {
                return Err(Error::parameter(format!("{field}.layers"), "a stent occupies at least 1 layer"));
            }
            if t.material.model != self.default.model {
                return Err(Error::parameter(
                    format!("{field}.material.model"),
                    "must be the wall's model (give the stented layer's effective moduli in it)",
                ));
            }
        }
        for (k, r) in self.regions.iter().enumerate() {
            let field = format!("wall.regions[{k}]");
            r.material.validate(&format!("{field}.material"))?;
            if !(r.from.is_finite() && r.to.is_finite() && r.from < r.to) {
                return Err(Error::parameter(
                    format!("{field}.from"),
                    format!("from ({}) must be below to ({}), both finite, in m of abscissa", r.from, r.to),
                ));
            }
            if r.material.model != self.default.model {
                return Err(Error::parameter(
                    format!("{field}.material.model"),
                    "every region must use the default material's model; change the moduli only",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ∂P/∂F of every model and part matches central finite differences of P.
    #[test]
    fn tangents_match_finite_differences() {
        let h = Matrix3::new(0.10, 0.03, -0.02, 0.01, -0.05, 0.04, 0.02, 0.06, 0.08);
        for model in [Model::LinearElastic, Model::NeoHookean, Model::NearlyIncompressibleNeoHookean] {
            let m = Material { model, youngs_modulus: 3.0, poisson_ratio: 0.45 };
            for part in [Part::Whole, Part::Deviatoric, Part::Volumetric] {
                let (_, a) = m.stress(part, &h, true).unwrap();
                let a = a.unwrap();
                let d = 1e-6;
                for k in 0..3 {
                    for l in 0..3 {
                        let mut e = Matrix3::zeros();
                        e[(k, l)] = d;
                        let (pp, _) = m.stress(part, &(h + e), false).unwrap();
                        let (pm, _) = m.stress(part, &(h - e), false).unwrap();
                        let fd = (pp - pm) / (2.0 * d);
                        for i in 0..3 {
                            for jj in 0..3 {
                                let err = (fd[(i, jj)] - a[(3 * i + jj, 3 * k + l)]).abs();
                                assert!(err < 1e-6, "{model:?} {part:?} ({i}{jj},{k}{l}): {err}");
                            }
                        }
                    }
                }
            }
        }
    }

    /// A Y: a trunk along z to 10, branches to (+-5, 0, 20); a stent on the +x branch from 12 to 18
    /// (abscissa) covers that branch's wall, not the sister's at the same abscissa; one given no
    /// branch covers both.
    #[test]
    fn a_stent_on_a_branch_leaves_the_sister_branch_alone() {
        let p = |x: f64, z: f64| Point3::new(x, 0.0, z);
        let plus = vec![p(0.0, 0.0), p(0.0, 10.0), p(5.0, 20.0)];
        let minus = vec![p(0.0, 0.0), p(0.0, 10.0), p(-5.0, 20.0)];
        let axis = super::super::Axis::new(vec![plus.clone(), minus]).unwrap();
        let tissue = Material { model: Model::LinearElastic, youngs_modulus: 1.0, poisson_ratio: 0.3 };
        let stent = |branch| Stent { from: 12.0, to: 18.0, branch, layers: 1, material: tissue };
        // A wall point 1 away from a branch halfway up it (abscissa 10 + 5.59 on its line).
        let on = |s: &Stent, x: f64| {
            let c = Point3::new(x + x.signum(), 0.0, 15.0);
            s.covers(&axis.frame(&c), &c)
        };
        assert!(on(&stent(Some(plus.clone())), 2.5), "the stented branch's wall");
        assert!(!on(&stent(Some(plus)), -2.5), "the sister branch's wall");
        assert!(on(&stent(None), 2.5) && on(&stent(None), -2.5), "no branch given: both");
    }

    #[test]
    fn poisson_ratio_of_one_half_is_refused_naming_the_field() {
        let m = Material { model: Model::NeoHookean, youngs_modulus: 1e6, poisson_ratio: 0.5 };
        let e = m.validate("wall.material").unwrap_err().to_string();
        assert!(e.contains("wall.material.poisson_ratio"), "{e}");
        let m = Material { model: Model::LinearElastic, youngs_modulus: -1.0, poisson_ratio: 0.3 };
        assert!(m.validate("wall.material").unwrap_err().to_string().contains("youngs_modulus"));
    }
}
