//! What the examples share: argument parsers for clap's `value_parser`.

/// A finite number above zero.
pub fn positive(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(x) => Err(format!("{x} is not a positive number")),
        Err(e) => Err(e.to_string()),
    }
}
