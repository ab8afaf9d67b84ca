//! Parsing and formatting of config values with Redis's unit conventions
//! (`memtoull`, `yesnotoi` and `rewriteConfigFormatMemory` in Redis 7.0).

const KB: i64 = 1024;
const MB: i64 = 1024 * 1024;
const GB: i64 = 1024 * 1024 * 1024;

/// Multiplier for a memory unit suffix, matched case-insensitively like
/// `strcasecmp` in `memtoull`. An empty suffix means bytes.
fn unit_multiplier(unit: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 8] = [
        ("", 1),
        ("b", 1),
        ("k", 1000),
        ("kb", 1024),
        ("m", 1000 * 1000),
        ("mb", 1024 * 1024),
        ("g", 1000 * 1000 * 1000),
        ("gb", 1024 * 1024 * 1024),
    ];
    UNITS.iter().find(|(name, _)| name.eq_ignore_ascii_case(unit)).map(|&(_, mul)| mul)
}

/// Parses an unsigned memory amount: decimal digits followed by an optional
/// unit (`b`, `k`, `kb`, `m`, `mb`, `g`, `gb`, any case). Rejects signs,
/// spaces, missing digits, unknown units and overflow of `u64`.
///
/// Redis's `memtoull` happens to accept an empty string (as 0) because
/// `strtoull("")` does not flag an error; that accident is not reproduced,
/// since a config directive without a number is always a user mistake.
pub fn parse_memory_u64(s: &str) -> Option<u64> {
    let digits_end = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(digits_end);
    if digits.is_empty() {
        return None;
    }
    let mul = unit_multiplier(unit)?;
    // Digits only, so the sole possible parse error is overflow.
    let value: u64 = digits.parse().ok()?;
    value.checked_mul(mul)
}

/// Parses a memory amount as a signed value, for the memory configs Redis stores as signed
/// `long long`. Like Redis's `memtoull`, a leading `-` is refused: no memory config takes a
/// negative amount. The result must fit in `i64`.
pub fn parse_memory(s: &str) -> Option<i64> {
    i64::try_from(parse_memory_u64(s)?).ok()
}

/// Parses a Redis boolean: `yes` or `no`, case-insensitively.
pub fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("yes") {
        Some(true)
    } else if s.eq_ignore_ascii_case("no") {
        Some(false)
    } else {
        None
    }
}

/// Formats a byte count the way CONFIG REWRITE writes it
/// (`rewriteConfigFormatMemory`): the largest of `gb`, `mb`, `kb` that
/// divides it exactly, else the plain number. A non-negative result parses back with
/// [`parse_memory`].
pub fn format_memory(v: i64) -> String {
    if v != 0 && v % GB == 0 {
        format!("{}gb", v / GB)
    } else if v != 0 && v % MB == 0 {
        format!("{}mb", v / MB)
    } else if v != 0 && v % KB == 0 {
        format!("{}kb", v / KB)
    } else {
        v.to_string()
    }
}

/// Formats a boolean as Redis writes it in config files.
pub fn format_bool(v: bool) -> &'static str {
    if v {
        "yes"
    } else {
        "no"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory("0"), Some(0));
        assert_eq!(parse_memory("12345"), Some(12345));
        assert_eq!(parse_memory("007"), Some(7));
        assert_eq!(parse_memory("5b"), Some(5));
        assert_eq!(parse_memory("1k"), Some(1000));
        assert_eq!(parse_memory("1kb"), Some(1024));
        assert_eq!(parse_memory("2m"), Some(2_000_000));
        assert_eq!(parse_memory("2mb"), Some(2 * 1024 * 1024));
        assert_eq!(parse_memory("3g"), Some(3_000_000_000));
        assert_eq!(parse_memory("3gb"), Some(3 * 1024 * 1024 * 1024));
    }

    #[test]
    fn memory_units_are_case_insensitive() {
        assert_eq!(parse_memory("1KB"), Some(1024));
        assert_eq!(parse_memory("1Mb"), Some(1024 * 1024));
        assert_eq!(parse_memory("1G"), Some(1_000_000_000));
        assert_eq!(parse_memory("7B"), Some(7));
    }

    #[test]
    fn memory_rejects_garbage() {
        for bad in
            ["", "-", "kb", "mb", "1x", "1kbb", "1 kb", " 1", "1 ", "+1", "1.5mb", "0x10", "1t", "--1", "-+1", "1-"]
        {
            assert_eq!(parse_memory(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn memory_refuses_a_sign_like_memtoull() {
        assert_eq!(parse_memory("-1"), None);
        assert_eq!(parse_memory("-2mb"), None);
        assert_eq!(parse_memory("-0"), None);
        assert_eq!(parse_memory_u64("-1"), None);
    }

    #[test]
    fn memory_overflow() {
        assert_eq!(parse_memory("9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_memory("9223372036854775808"), None);
        assert_eq!(parse_memory_u64("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_memory_u64("18446744073709551616"), None);
        assert_eq!(parse_memory_u64("18446744073709551615b"), Some(u64::MAX));
        assert_eq!(parse_memory_u64("18446744073709551615k"), None);
        assert_eq!(parse_memory_u64("17179869184gb"), None);
        assert_eq!(parse_memory_u64("17179869183gb"), Some(17179869183 * 1024 * 1024 * 1024));
        assert_eq!(parse_memory("8589934592gb"), None);
        assert_eq!(parse_memory(&"9".repeat(200)), None);
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("yes"), Some(true));
        assert_eq!(parse_bool("YES"), Some(true));
        assert_eq!(parse_bool("No"), Some(false));
        for bad in ["", "y", "n", "true", "1", "yes ", "nope"] {
            assert_eq!(parse_bool(bad), None, "{bad:?}");
        }
        assert_eq!(format_bool(true), "yes");
        assert_eq!(format_bool(false), "no");
    }

    #[test]
    fn memory_formatting() {
        assert_eq!(format_memory(0), "0");
        assert_eq!(format_memory(1), "1");
        assert_eq!(format_memory(1000), "1000");
        assert_eq!(format_memory(1024), "1kb");
        assert_eq!(format_memory(1536), "1536");
        assert_eq!(format_memory(3 * 1024 * 1024), "3mb");
        assert_eq!(format_memory(1024 * 1024 + 1024), "1025kb");
        assert_eq!(format_memory(4 * 1024 * 1024 * 1024), "4gb");
        assert_eq!(format_memory(-1024), "-1kb");
        assert_eq!(format_memory(-5), "-5");
        assert_eq!(format_memory(i64::MAX), i64::MAX.to_string());
    }

    #[test]
    fn format_then_parse_round_trips() {
        // Memory values are never negative (parse_memory refuses a sign, as memtoull does).
        for v in [0, 1, 1023, 1024, 5 << 20, 7 << 30, i64::MAX] {
            assert_eq!(parse_memory(&format_memory(v)), Some(v), "{v}");
        }
    }
}
