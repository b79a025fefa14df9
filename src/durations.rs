//! Durations as the flags and the control plane take them: `0s`, `250ms`, `1.5s`, `2m`, `1h`,
//! `7d`. Kept by hand rather than `humantime`, which refuses the fractions (`1.5s`) that the
//! README and `/_local/config` document.

/// Parses `0s`, `250ms`, `1.5s`, `2m`, `1h`, `7d` (or a bare number of seconds).
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else if let Some(n) = t.strip_suffix('d') {
        (n, 86400.0)
    } else {
        (t, 1.0)
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v * scale),
        _ => Err(format!(
            "'{text}' is not a duration such as 0s, 250ms, 1.5s or 2m"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("0s"), Ok(0.0));
        assert_eq!(parse_duration("250ms"), Ok(0.25));
        assert_eq!(parse_duration("2m"), Ok(120.0));
        assert_eq!(parse_duration("7d"), Ok(604800.0));
        assert_eq!(parse_duration("1.5"), Ok(1.5));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
