//! A mutation fuzzer for hemotwin's readers (STL, VTP, case TOML, waveform CSV): byte mutations of
//! seed files, each input read under `catch_unwind`; a panic is a failure, an error is the expected
//! answer to corrupt input. Shared by the smoke test (tests/fuzz_smoke.rs) and examples/fuzz.rs.
#![allow(dead_code, clippy::unwrap_used)] // each user takes a subset; the harness unwraps its own fixtures

use hemotwin::geometry::io_stl::{Units, read_stl};
use hemotwin::geometry::io_vtp::parse_vtp;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A reader under test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// Binary and ASCII STL through `read_stl` (from a file, as a run reads it).
    Stl,
    /// VTK XML PolyData through `parse_vtp`.
    Vtp,
    /// A case file through `Case::from_toml` (parse and validation).
    Case,
    /// A waveform CSV through `Waveform::from_csv`, then its mean and Fourier series.
    Waveform,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 4] = [Target::Stl, Target::Vtp, Target::Case, Target::Waveform];

    /// Lower-case name, as examples/fuzz.rs takes it.
    pub fn name(self) -> &'static str {
        match self {
            Target::Stl => "stl",
            Target::Vtp => "vtp",
            Target::Case => "case",
            Target::Waveform => "waveform",
        }
    }

    /// Seed inputs: small valid files of every kind the reader takes.
    pub fn seeds(self) -> Vec<Vec<u8>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let file = |p: &str| std::fs::read(root.join(p)).unwrap();
        match self {
            Target::Stl => {
                let (tube, _) = hemotwin::geometry::synth::tube(
                    &hemotwin::geometry::synth::TubeSpec { radius: 2e-3, length: 8e-3 },
                    8,
                )
                .unwrap();
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("seed.stl");
                hemotwin::geometry::io_stl::write_stl(&path, &tube, Units::Millimetre).unwrap();
                vec![std::fs::read(&path).unwrap(), file("tests/data/fuzz/seed_two_solids.stl")]
            }
            Target::Vtp => [
                "ascii",
                "binary_none_u32",
                "binary_zlib_u64",
                "binary_zlib_u32_bigendian",
                "appended_raw_none_u64",
                "appended_raw_zlib_u64",
                "appended_base64_zlib_u64",
                "appended_base64_none_u32",
                "appended_raw_lz4_u64",
                "binary_lzma_u64",
                "hemotwin_wall",
            ]
            .iter()
            .map(|n| file(&format!("tests/data/vtp/{n}.vtp")))
            .collect(),
            Target::Case => vec![
                file("meshes/demo_stenosis.toml"),
                file("meshes/stenosis75_stl.toml"),
                file("meshes/bifurcation.toml"),
                file("tests/data/fuzz/seed_case.toml"),
            ],
            Target::Waveform => vec![file("tests/data/fuzz/seed_waveform.csv")],
        }
    }

    /// Tokens the mutator splices in: the format's keywords and troublesome numbers.
    fn dictionary(self) -> &'static [&'static str] {
        match self {
            Target::Stl => {
                &["solid", "endsolid", "facet normal", "outer loop", "vertex", "endloop", "endfacet", "\n"]
            }
            Target::Vtp => &[
                "UInt32",
                "UInt64",
                "Int8",
                "Float32",
                "String",
                "binary",
                "appended",
                "ascii",
                "\"raw\"",
                "base64",
                "vtkZLibDataCompressor",
                "</DataArray>",
                "<DataArray type=\"Int64\" Name=\"offsets\" format=\"ascii\">",
                "NumberOfPoints=\"",
                "offset=\"",
                "<AppendedData encoding=\"raw\">_",
                "<FieldData>",
                "BigEndian",
                "====",
            ],
            Target::Case => &[
                "[geometry]",
                "[fluid]",
                "[inflow]",
                "[lattice]",
                "[run]",
                "[[outlets]]",
                "=",
                "\"auto\"",
                "[0, 0, 0]",
                "{ }",
                "\n",
                "\"",
            ],
            Target::Waveform => &["time_s,flow_m3_s\n", "time_s,flow_ml_s\n", ",", "\n", "#"],
        }
    }

    /// Reads `input` once; true when the reader accepted it. `scratch` is a file path the
    /// file-based readers may use.
    fn read(self, input: &[u8], scratch: &Path) -> bool {
        match self {
            Target::Stl => {
                std::fs::write(scratch, input).unwrap();
                read_stl(scratch, Units::Millimetre).is_ok()
            }
            Target::Vtp => parse_vtp(input, Units::Millimetre).is_ok(),
            Target::Case => {
                hemotwin::case::Case::from_toml(&String::from_utf8_lossy(input), Path::new("fuzz.toml"))
                    .is_ok()
            }
            Target::Waveform => {
                std::fs::write(scratch, input).unwrap();
                let mut accepted = false;
                for period in [None, Some(0.8)] {
                    if let Ok(w) = hemotwin::physiology::Waveform::from_csv(scratch, period) {
                        let _ = (w.mean(), w.peak(), w.fourier(8), w.at(0.3));
                        accepted = true;
                    }
                }
                accepted
            }
        }
    }
}

/// Troublesome numbers spliced in as text.
const NUMBERS: [&str; 10] =
    ["0", "-1", "nan", "inf", "-inf", "1e308", "4294967295", "18446744073709551615", "1e-320", "9999999999"];

/// A small deterministic generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (any value).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in 0..n (0 when n is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

/// One to four random mutations of `seed`: bit flips, byte changes, deletions, duplications,
/// insertions of dictionary tokens or numbers, truncation, or a splice of `other`.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8], dictionary: &[&str]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(b.len() + 1);
        match rng.below(9) {
            0 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] ^= 1 << rng.below(8);
            }
            1 if !b.is_empty() => {
                let i = rng.below(b.len());
                b[i] =
                    [0u8, 0xff, b'0', b'9', b'<', b'>', b'"', b'=', b'-', b'.', b' ', b'\n'][rng.below(12)];
            }
            2 => {
                let n = 1 + rng.below(16.min(b.len().saturating_sub(at)).max(1));
                b.drain(at..(at + n).min(b.len()));
            }
            3 => {
                let n = rng.below(64.min(b.len().saturating_sub(at)) + 1);
                let piece = b[at..at + n].to_vec();
                b.splice(at..at, piece);
            }
            4 => {
                let t = dictionary[rng.below(dictionary.len())].as_bytes();
                b.splice(at..at, t.iter().copied());
            }
            5 => {
                let t = NUMBERS[rng.below(NUMBERS.len())].as_bytes();
                // Replace the number (if any) at `at` with a troublesome one.
                let end = at
                    + b[at..].iter().take_while(|c| c.is_ascii_digit() || **c == b'.' || **c == b'-').count();
                b.splice(at..end, t.iter().copied());
            }
            6 => b.truncate(at),
            7 if !other.is_empty() => {
                let from = rng.below(other.len());
                let n = rng.below((other.len() - from).min(256)) + 1;
                b.splice(at..at, other[from..from + n].iter().copied());
            }
            _ => {
                let n = 1 + rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.below(256) as u8).collect();
                b.splice(at..at, bytes);
            }
        }
    }
    b
}

/// What a fuzz run found.
#[derive(Debug, Default)]
pub struct Report {
    /// Inputs read.
    pub executions: u64,
    /// Inputs the reader accepted (the rest were refused with an error, or panicked).
    pub accepted: u64,
    /// Inputs that panicked.
    pub panicked: u64,
    /// The first panicking inputs, with the panic message.
    pub panics: Vec<(Vec<u8>, String)>,
    /// Wall time (s).
    pub seconds: f64,
    /// The longest single read (s): a hang or a blow-up shows here (or a stall of a loaded machine).
    pub slowest: f64,
    /// The input of the longest read.
    pub slowest_input: Vec<u8>,
}

/// Reads `input` under `catch_unwind`: whether the reader accepted it, or the panic message.
pub fn read_catching(target: Target, input: &[u8], scratch: &Path) -> Result<bool, String> {
    catch_unwind(AssertUnwindSafe(|| target.read(input, scratch))).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "panic".into())
    })
}

/// The shortest of `repeats` reads of `input` (s): the cost of an input without machine stalls.
pub fn time_read(target: Target, input: &[u8], repeats: usize) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let scratch = dir.path().join(format!("input.{}", target.name()));
    (0..repeats)
        .map(|_| {
            let started = Instant::now();
            let _ = read_catching(target, input, &scratch);
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Runs `executions` mutants of `target`'s seeds from generator seed `seed`, keeping at most
/// `keep` panicking inputs. The panic hook is silenced while it runs.
pub fn fuzz(target: Target, executions: u64, seed: u64, keep: usize) -> Report {
    let seeds = target.seeds();
    // A memory file system where there is one: the file-based readers write every input.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap();
    let scratch: PathBuf = dir.path().join(format!("input.{}", target.name()));
    let mut rng = Rng::new(seed);
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let start = Instant::now();
    let mut report = Report::default();
    for _ in 0..executions {
        let s = &seeds[rng.below(seeds.len())];
        let o = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, s, o, target.dictionary());
        let started = Instant::now();
        let outcome = read_catching(target, &input, &scratch);
        let took = started.elapsed().as_secs_f64();
        if took > report.slowest {
            report.slowest = took;
            report.slowest_input = input.clone();
        }
        match outcome {
            Ok(accepted) => report.accepted += u64::from(accepted),
            Err(message) => {
                report.panicked += 1;
                if report.panics.len() < keep {
                    report.panics.push((input, message));
                }
            }
        }
        report.executions += 1;
    }
    report.seconds = start.elapsed().as_secs_f64();
    std::panic::set_hook(hook);
    report
}
