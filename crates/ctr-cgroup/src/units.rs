//! Friendly units: sizes such as `'5m'`, `'512k'`, `'1.5g'` and the word
//! `max` (unlimited), accepted wherever a byte count or limit is.

use crate::Code;
use ctr_common::Error;

/// Parse a byte size: a non-negative integer, or a number with a binary
/// suffix `k`, `m`, `g`, `t` (optionally followed by `b`/`ib`, any case).
/// `max`, `unlimited` and `-1` mean unlimited and return -1.
pub fn parse_size(text: &str, field: &str) -> Result<i64, Error> {
    let t = text.trim().to_ascii_lowercase();
    if t == "max" || t == "unlimited" || t == "-1" {
        return Ok(-1);
    }
    let bad = || {
        Error::new(
            Code::InvalidValue,
            format!("{field}: invalid size {text:?} (use bytes or a unit: 512k, 5m, 1.5g, max)"),
        )
        .with_field(field.to_string())
    };
    let t = t
        .strip_suffix("ib")
        .or_else(|| t.strip_suffix('b'))
        .unwrap_or(&t);
    let (num, mult): (&str, f64) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1024.0),
        Some('m') => (&t[..t.len() - 1], 1024.0 * 1024.0),
        Some('g') => (&t[..t.len() - 1], 1024.0 * 1024.0 * 1024.0),
        Some('t') => (&t[..t.len() - 1], 1024.0_f64.powi(4)),
        _ => (t, 1.0),
    };
    if num.is_empty() || !num.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(bad());
    }
    if mult == 1.0 {
        return num.parse::<i64>().map_err(|_| bad());
    }
    let v: f64 = num.parse().map_err(|_| bad())?;
    let bytes = (v * mult).round();
    if !bytes.is_finite() || bytes > i64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("5m", "f").unwrap(), 5 * 1024 * 1024);
        assert_eq!(parse_size("512k", "f").unwrap(), 512 * 1024);
        assert_eq!(parse_size("1.5g", "f").unwrap(), 1536 * 1024 * 1024);
        assert_eq!(parse_size("1.5GiB", "f").unwrap(), 1536 * 1024 * 1024);
        assert_eq!(parse_size("5000000", "f").unwrap(), 5_000_000);
        assert_eq!(parse_size("max", "f").unwrap(), -1);
        for bad in ["", "-5", "5x", "1.5", "m", "1..5m", "-5m"] {
            let e = parse_size(bad, "memory.max").unwrap_err();
            assert_eq!(e.code, Code::InvalidValue.as_str(), "{bad}");
            assert_eq!(e.path.as_deref(), Some("memory.max"));
        }
    }
}
