//! view.py: the ParaView script that opens the scenarios side by side (the script itself is
//! `view.py` next to this file; only its scenario list is filled in here).

use crate::atomic::write_bytes_atomic;
use crate::error::{Error, Result};
use std::path::Path;

/// The script, with an empty scenario list.
const TEMPLATE: &str = include_str!("view.py");
/// The template's line that the scenario list replaces.
const PLACEHOLDER: &str = "SCENARIOS = []  # filled in by hemotwin";

/// Writes the ParaView script to `path`, atomically, for `scenario_dirs` (name, output folder
/// relative to the script's folder; the baseline first). `paraview --script=view.py` opens each
/// scenario's wall.vtp (coloured by `tawss_pa`) and a velocity slice of the last frame of its
/// fluid.pvd in linked side-by-side views; `pvpython view.py --screenshot DIR` writes DIR/NAME.png
/// per scenario and exits.
pub fn write_view_py(path: &Path, scenario_dirs: &[(String, String)]) -> Result<()> {
    if scenario_dirs.is_empty() {
        return Err(Error::parameter("view.scenarios", "is empty; give at least the baseline's folder"));
    }
    write_bytes_atomic(path, script(scenario_dirs).as_bytes())
}

/// The script for `scenario_dirs`: each (name, folder) as a JSON pair, which Python reads as a
/// list of two strings with the same escapes.
fn script(scenario_dirs: &[(String, String)]) -> String {
    let mut list = String::from("SCENARIOS = [\n");
    for (name, dir) in scenario_dirs {
        list.push_str(&format!("    {},\n", serde_json::json!([name, dir])));
    }
    list.push(']');
    TEMPLATE.replacen(PLACEHOLDER, &list, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scenario list replaces the placeholder, quotes and backslashes escaped.
    #[test]
    fn report_view_script_lists_the_scenarios() {
        let text = script(&[("baseline".into(), "baseline".into()), ("st\"ent".into(), "a\\b".into())]);
        let line = text.lines().find(|l| l.starts_with("    [\"st")).unwrap_or_default();
        println!("scenario line: {line}");
        assert!(!text.contains(PLACEHOLDER));
        assert!(text.contains("    [\"baseline\",\"baseline\"],\n"));
        assert_eq!(line, "    [\"st\\\"ent\",\"a\\\\b\"],");
    }
}
