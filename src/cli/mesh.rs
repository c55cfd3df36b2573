//! `hemotwin mesh`: check and repair surfaces, generate synthetic vessels.

use anyhow::{Result, bail};
use clap::Subcommand;
use hemotwin::case::{Case, GenerateSpec};
use hemotwin::geometry::io_stl::{Units, neutral_header, stl_header, write_stl, write_stl_with_header};
use hemotwin::geometry::synth::FDA_PIPE_DIAMETER;
use hemotwin::geometry::vessel::{generate, guess_units};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum MeshCommand {
    /// Report a surface's size, topology and defects and the ports a run uses (a surface file:
    /// without [[geometry.ports]]; a case file: its own); exits with status 2 when `run` would refuse it.
    Check {
        /// The surface (.stl or .vtp), or a case file (.toml): its surface with its ports, units and
        /// flow extensions, as `run` prepares them.
        file: PathBuf,
        /// Length unit of the file: mm, cm, m, or auto (guessed from its size, as in a case file).
        #[arg(long, default_value = "mm")]
        units: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The inlet's centre x,y,z in --units (the case file's `geometry.inlet`): chooses the inlet
        /// among caps of equal radius.
        #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
        inlet: Option<Vec<f64>>,
        /// Make the safe repairs (merge duplicate vertices, drop degenerate triangles, orient
        /// consistently outward), report them, and write the result to --output.
        #[arg(long, requires = "output")]
        repair: bool,
        /// Where --repair writes the repaired surface (binary STL, in --units).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Copy the input's STL header (which may name the patient) into --output instead of a
        /// neutral "hemotwin" header.
        #[arg(long, requires = "output")]
        keep_metadata: bool,
    },
    /// Write a closed synthetic vessel as binary STL (along +z from z = 0).
    Generate {
        /// tube, stenosis, fda-nozzle (the FDA benchmark: 12 mm pipe, 4 mm throat; --length is then
        /// the pipe length after the expansion, with 2 pipe diameters before the cone), bifurcation
        /// (--length is the parent's) or aneurysm (a sidewall sphere on the +x side).
        #[arg(value_parser = ["tube", "stenosis", "fda-nozzle", "bifurcation", "aneurysm"])]
        shape: String,
        /// Radius (of the parent vessel), in --units.
        #[arg(long, default_value_t = 2.0)]
        radius: f64,
        /// Length (of the parent vessel), in --units.
        #[arg(long, default_value_t = 32.0)]
        length: f64,
        /// Stenosis area reduction (percent).
        #[arg(long, default_value_t = 75.0)]
        area_reduction: f64,
        /// Stenosis length, in --units.
        #[arg(long, default_value_t = 8.0)]
        stenosis_length: f64,
        /// Axial position of the stenosis throat or the aneurysm's centre, in --units (default:
        /// mid-length).
        #[arg(long)]
        center: Option<f64>,
        /// Stenosis eccentricity: 0 axisymmetric, 1 all the narrowing from one side.
        #[arg(long, default_value_t = 0.0)]
        eccentricity: f64,
        /// Bifurcation daughter radii, in --units, comma separated (default: Murray's law,
        /// symmetric; one value gives the other by Murray's law).
        #[arg(long, value_delimiter = ',')]
        daughter_radii: Vec<f64>,
        /// Total angle between the bifurcation's daughters (degrees).
        #[arg(long, default_value_t = 60.0)]
        angle: f64,
        /// Length of each daughter, in --units.
        #[arg(long, default_value_t = 16.0)]
        daughter_length: f64,
        /// Aneurysm sphere radius, in --units.
        #[arg(long, default_value_t = 3.0)]
        sphere_radius: f64,
        /// Aneurysm neck width, in --units.
        #[arg(long, default_value_t = 3.0)]
        neck: f64,
        /// Facets around the circumference.
        #[arg(long, default_value_t = 64)]
        segments: usize,
        /// Length unit of the numbers above and of the file: mm, cm or m.
        #[arg(long, default_value = "mm")]
        units: String,
        /// Output STL file.
        #[arg(short, long)]
        output: PathBuf,
    },
}

/// Exit status of a run that diverged (README: exit codes).
pub fn mesh(action: MeshCommand) -> Result<()> {
    match action {
        MeshCommand::Check { file, units, json, inlet, repair, output, keep_metadata } => {
            let inlet = match inlet.as_deref() {
                None => None,
                Some(&[x, y, z]) => Some([x, y, z]),
                Some(other) => bail!("--inlet takes x,y,z (3 numbers), got {} numbers", other.len()),
            };
            mesh_check(&file, &units, inlet, json, output.filter(|_| repair).as_deref(), keep_metadata)
        }
        MeshCommand::Generate {
            shape,
            radius,
            length,
            area_reduction,
            stenosis_length,
            center,
            eccentricity,
            daughter_radii,
            angle,
            daughter_length,
            sphere_radius,
            neck,
            segments,
            units,
            output,
        } => {
            let units: Units = units.parse()?;
            let s = units.scale();
            let center = center.unwrap_or(length / 2.0);
            let spec = match shape.as_str() {
                "tube" => GenerateSpec::Tube { radius, length },
                "fda-nozzle" => GenerateSpec::FdaNozzle {
                    inlet_length: 2.0 * FDA_PIPE_DIAMETER / s,
                    outlet_length: length,
                },
                "bifurcation" => GenerateSpec::Bifurcation {
                    radius,
                    length,
                    daughter_radii,
                    angle_degrees: angle,
                    daughter_length,
                },
                "aneurysm" => GenerateSpec::Aneurysm { radius, length, sphere_radius, neck, center },
                _ => GenerateSpec::Stenosis {
                    radius,
                    length,
                    area_reduction_percent: area_reduction,
                    stenosis_length,
                    center,
                    eccentricity,
                },
            };
            let (surface, ports) = generate(&spec, s, segments)?;
            write_stl(&output, &surface, units)?;
            println!(
                "wrote {} ({} triangles, {})",
                output.display(),
                surface.triangles.len(),
                units.symbol()
            );
            for p in &ports {
                let (c, n) = (p.center / s, p.normal.map(|e| e + 0.0));
                println!(
                    "  port {}: centre ({:.4}, {:.4}, {:.4}), normal ({:.4}, {:.4}, {:.4}), radius {:.4} {}",
                    p.name,
                    c.x,
                    c.y,
                    c.z,
                    n.x,
                    n.y,
                    n.z,
                    p.radius / s,
                    units.symbol()
                );
            }
            Ok(())
        }
    }
}

/// A port as `mesh check` reports it: name, role, centre and radius (file units), normal, planarity.
type PortRow = (String, &'static str, [f64; 3], [f64; 3], f64, f64);

fn mesh_check(
    file: &Path,
    units_text: &str,
    inlet: Option<[f64; 3]>,
    json: bool,
    repair_to: Option<&Path>,
    keep_metadata: bool,
) -> Result<()> {
    use hemotwin::geometry::repair::{
        duplicate_tolerance, duplicate_vertices, inconsistent_edges, repair, self_intersections,
    };
    // The vessel exactly as `run` prepares it: from a case file's [geometry], or from this surface
    // file without [[geometry.ports]].
    let is_case = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    let spec = if is_case {
        let case = Case::load(file)?;
        if case.geometry.surface.is_none() {
            bail!(
                "{}: the case generates its vessel; mesh check takes a surface file or a case that reads one",
                file.display()
            );
        }
        case.geometry
    } else {
        hemotwin::case::GeometrySpec {
            surface: Some(file.to_path_buf()),
            units: units_text.to_string(),
            generate: None,
            axis: None,
            flow_extensions: None,
            ports: Vec::new(),
            inlet,
            offset: None,
        }
    };
    let (file, units_text) = match &spec.surface {
        Some(surface) => (surface.as_path(), spec.units.as_str()),
        None => (file, units_text),
    };
    let prepared = hemotwin::geometry::vessel::prepare_vessel(&spec, 24.0);
    let units = match (&prepared, units_text.trim()) {
        (Ok(v), _) => v.units,
        (Err(_), "auto") => {
            let raw = hemotwin::geometry::vessel::read_surface(file, Units::Metre)?.surface;
            guess_units(&raw)
        }
        (Err(_), u) => u.parse()?,
    };
    let mut surface = hemotwin::geometry::vessel::read_surface(file, units)?.surface;
    let tol = duplicate_tolerance(&surface);
    let repaired = repair_to.map(|_| repair(&mut surface, tol));
    let r = hemotwin::geometry::check::inspect(&surface);
    let duplicates = duplicate_vertices(&surface, tol);
    let (flipped, _) = inconsistent_edges(&surface);
    let (crossings, where_) = self_intersections(&surface, 5);
    let closed =
        r.boundary_edges == 0 && r.nonmanifold_edges == 0 && r.volume > 0.0 && flipped == 0 && crossings == 0;
    let port_rows: Vec<PortRow> = match &prepared {
        Ok(v) => v
            .ports
            .iter()
            .zip(&v.roles)
            .zip(&v.planarity)
            .map(|((p, r), f)| {
                let role = if *r == hemotwin::lattice::PortRole::Velocity { "inlet" } else { "outlet" };
                let c = p.center / units.scale();
                (
                    p.name.clone(),
                    role,
                    [c.x, c.y, c.z],
                    [p.normal.x, p.normal.y, p.normal.z],
                    p.radius / units.scale(),
                    *f,
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let s = units.scale();
    let to_units = |p: &nalgebra::Point3<f64>| [p.x / s, p.y / s, p.z / s];
    let guess = guess_units(&hemotwin::geometry::Surface {
        vertices: surface.vertices.iter().map(|p| p / s).collect(),
        triangles: Vec::new(),
    });
    if json {
        let holes: Vec<_> = r
            .holes
            .iter()
            .map(|h| serde_json::json!({ "edges": h.edges, "center": to_units(&h.center) }))
            .collect();
        let report = serde_json::json!({
            "file": file.display().to_string(),
            "units": units.symbol(),
            "units_guess": guess.symbol(),
            "triangles": r.triangles,
            "vertices": r.vertices,
            "bbox_min": to_units(&r.bbox_min),
            "bbox_max": to_units(&r.bbox_max),
            "area_m2": r.area,
            "volume_m3": r.volume,
            "duplicate_vertices": duplicates,
            "degenerate_triangles": r.degenerate_triangles,
            "boundary_edges": r.boundary_edges,
            "holes": holes,
            "nonmanifold_edges": r.nonmanifold_edges,
            "inconsistently_oriented_edges": flipped,
            "self_intersections": crossings,
            "self_intersection_examples": where_.iter().map(to_units).collect::<Vec<_>>(),
            "repaired": repaired.as_ref().map(|l| serde_json::json!({
                "merged_vertices": l.merged_vertices,
                "dropped_triangles": l.dropped_triangles,
                "flipped_triangles": l.flipped_triangles,
            })),
            "closed_and_outward": closed,
            "ports": port_rows.iter().map(|(name, role, c, n, radius, f)| serde_json::json!({
                "name": name, "role": role, "center": c, "normal": n, "radius": radius, "planarity": f,
            })).collect::<Vec<_>>(),
            "run_notes": prepared.as_ref().map(|v| v.notes.clone()).unwrap_or_default(),
            "ready_to_run": prepared.is_ok(),
            "run_error": prepared.as_ref().err().map(ToString::to_string),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let (lo, hi) = (to_units(&r.bbox_min), to_units(&r.bbox_max));
        let u = units.symbol();
        println!("{}: {} triangles, {} vertices", file.display(), r.triangles, r.vertices);
        println!(
            "  bounding box ({:.3}, {:.3}, {:.3}) to ({:.3}, {:.3}, {:.3}) {u}; its size suggests {}",
            lo[0],
            lo[1],
            lo[2],
            hi[0],
            hi[1],
            hi[2],
            guess.symbol()
        );
        println!("  area {:.4e} m^2, enclosed volume {:.4e} m^3", r.area, r.volume);
        println!(
            "  duplicate vertices {duplicates} (within {:.1e} m), degenerate triangles {}, inconsistently oriented edges {flipped}",
            tol, r.degenerate_triangles
        );
        println!(
            "  open edges {} in {} holes, non-manifold edges {}, self-intersections {crossings}",
            r.boundary_edges,
            r.holes.len(),
            r.nonmanifold_edges
        );
        for h in r.holes.iter().take(10) {
            let c = to_units(&h.center);
            println!("    hole of {} edges around ({:.3}, {:.3}, {:.3}) {u}", h.edges, c[0], c[1], c[2]);
        }
        for p in &where_ {
            let c = to_units(p);
            println!("    triangles cross at ({:.3}, {:.3}, {:.3}) {u}", c[0], c[1], c[2]);
        }
        if let Some(l) = &repaired {
            println!(
                "  repaired: merged {} vertices, dropped {} degenerate triangles, flipped {} triangles",
                l.merged_vertices, l.dropped_triangles, l.flipped_triangles
            );
        }
        if !port_rows.is_empty() {
            println!("  ports the run uses (planarity: largest distance from the plane / radius):");
        }
        for (name, role, c, n, radius, f) in &port_rows {
            println!(
                "    {name} ({role}): centre ({:.3}, {:.3}, {:.3}) {u}, normal ({:.3}, {:.3}, {:.3}), radius {radius:.3} {u}, \
                 planarity {:.2}%",
                c[0],
                c[1],
                c[2],
                n[0] + 0.0,
                n[1] + 0.0,
                n[2] + 0.0,
                100.0 * f
            );
        }
        match &prepared {
            Ok(v) => {
                for note in &v.notes {
                    println!("  run: {note}");
                }
                println!("  ready for the flow solver (`run` prepares it as above)");
            }
            Err(e) => println!("  not ready: `run` refuses it: {e}"),
        }
    }
    if let (Some(out), Some(_)) = (repair_to, &repaired) {
        let header = if keep_metadata { stl_header(file)? } else { neutral_header() };
        write_stl_with_header(out, &surface, units, &header)?;
        if !json {
            println!(
                "wrote the repaired surface to {} (binary STL, {}, {})",
                out.display(),
                units.symbol(),
                if keep_metadata { "the input's header" } else { "neutral header" }
            );
        }
    }
    if prepared.is_err() {
        std::process::exit(2);
    }
    Ok(())
}
