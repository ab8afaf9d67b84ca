//! Tokenizer and quoting helpers compatible with Redis's `sdssplitargs` and
//! `sdscatrepr` (src/sds.c, Redis 7.0).
//!
//! The same grammar is used for redis.conf lines, inline protocol commands
//! and redis-cli input, so it is ported byte for byte rather than
//! reimplemented with a "similar" shell-like splitter: any divergence would
//! make a config file or inline command mean something different here than
//! in Redis.

/// `isspace()` in the C locale: the set used to skip blanks between tokens
/// and to validate what follows a closing quote.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `isprint()` in the C locale.
fn is_c_print(b: u8) -> bool {
    (0x20..=0x7e).contains(&b)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Splits `line` into arguments exactly like Redis's `sdssplitargs`.
///
/// * Tokens are separated by whitespace.
/// * `"..."` supports `\n \r \t \b \a \\ \"` and `\xHH`; any other escaped
///   character stands for itself.
/// * `'...'` only supports `\'`.
/// * A closing quote must be followed by whitespace or the end of the line.
///
/// Returns `None` for unbalanced or unterminated quotes, `Some(vec![])` for
/// a blank line.
///
/// The C original works on NUL-terminated strings, so a NUL byte ends the
/// input there; the same is done here so an embedded NUL cannot make a line
/// parse differently than it would in Redis.
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let end = line.iter().position(|&b| b == 0).unwrap_or(line.len());
    let line = &line[..end];
    // `at(i)` mirrors dereferencing the C pointer: past the end reads NUL.
    let at = |i: usize| line.get(i).copied().unwrap_or(0);

    let mut args = Vec::new();
    let mut p = 0;
    loop {
        while p < line.len() && is_c_space(line[p]) {
            p += 1;
        }
        if p >= line.len() {
            return Some(args);
        }

        let mut current = Vec::new();
        let mut in_double = false;
        let mut in_single = false;
        loop {
            let c = at(p);
            if in_double {
                if c == b'\\' && at(p + 1) == b'x' {
                    if let (Some(hi), Some(lo)) = (hex_value(at(p + 2)), hex_value(at(p + 3))) {
                        current.push(hi * 16 + lo);
                        p += 4;
                        continue;
                    }
                }
                if c == b'\\' && at(p + 1) != 0 {
                    p += 1;
                    current.push(match at(p) {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    // The closing quote must end the token.
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None; // unterminated quotes
                } else {
                    current.push(c);
                }
            } else if in_single {
                if c == b'\\' && at(p + 1) == b'\'' {
                    p += 1;
                    current.push(b'\'');
                } else if c == b'\'' {
                    if at(p + 1) != 0 && !is_c_space(at(p + 1)) {
                        return None;
                    }
                    p += 1;
                    break;
                } else if c == 0 {
                    return None;
                } else {
                    current.push(c);
                }
            } else {
                // Unquoted tokens end only on these four bytes (not on \v or
                // \f, although those are skipped between tokens): that is
                // the C code's `switch`, kept as is.
                match c {
                    b' ' | b'\n' | b'\r' | b'\t' | 0 => {
                        if c != 0 {
                            p += 1;
                        }
                        break;
                    }
                    b'"' => in_double = true,
                    b'\'' => in_single = true,
                    _ => current.push(c),
                }
            }
            p += 1;
        }
        args.push(current);
    }
}

/// Quotes `arg` like Redis's `sdscatrepr`: double quotes around it, `\\`,
/// `\"`, `\n`, `\r`, `\t`, `\a`, `\b` escaped, other non-printable bytes as
/// `\xHH` (lowercase hex). The result always parses back to `arg` with
/// [`split_args`].
pub fn repr(arg: &[u8]) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('"');
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            _ if is_c_print(b) => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Returns `arg` as a bare word when [`split_args`] would read it back
/// unchanged as a single token, else `repr(arg)`. Used when writing config
/// files so ordinary values stay readable (`port 6379`, not `port "6379"`).
///
/// Besides Redis's `sdsneedsrepr` set (whitespace, backslash, double quote,
/// non-printables) a single quote also forces quoting, because a bare `'`
/// would open a single-quoted section when the file is read back.
pub fn quote_if_needed(arg: &[u8]) -> String {
    let bare =
        !arg.is_empty() && arg.iter().all(|&b| is_c_print(b) && !is_c_space(b) && !matches!(b, b'"' | b'\'' | b'\\'));
    if bare {
        // Only printable ASCII reaches here, so this is lossless.
        String::from_utf8_lossy(arg).into_owned()
    } else {
        repr(arg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Option<Vec<String>> {
        split_args(s.as_bytes()).map(|v| v.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect())
    }

    fn words(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn empty_and_blank_lines() {
        assert_eq!(split(""), words(&[]));
        assert_eq!(split("   \t \r\n"), words(&[]));
        assert_eq!(split("\x0b\x0c"), words(&[]));
    }

    #[test]
    fn plain_words() {
        assert_eq!(split("set foo bar"), words(&["set", "foo", "bar"]));
        assert_eq!(split("  a\t\tb  c \n"), words(&["a", "b", "c"]));
        // \v does not end an unquoted token (only skipped between tokens).
        assert_eq!(split("a\x0bb c"), words(&["a\x0bb", "c"]));
        // Backslashes outside quotes are literal.
        assert_eq!(split(r"a\nb"), words(&[r"a\nb"]));
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(split(r#""hello world""#), words(&["hello world"]));
        assert_eq!(split(r#""a\n\r\t\b\a\\\"z""#), words(&["a\n\r\t\x08\x07\\\"z"]));
        assert_eq!(split(r#""\q""#), words(&["q"]));
        assert_eq!(split(r#""""#), words(&[""]));
        assert_eq!(split(r#"x "" y"#), words(&["x", "", "y"]));
        // Quotes can start in the middle of a token.
        assert_eq!(split(r#"foo"bar baz""#), words(&["foobar baz"]));
    }

    #[test]
    fn hex_escapes() {
        assert_eq!(split_args(br#""\x41\xff\x00z""#), Some(vec![vec![b'A', 0xff, 0, b'z']]));
        assert_eq!(split(r#""\x4A""#), words(&["J"]));
        // Not two hex digits: `\x` is an ordinary escape of `x`.
        assert_eq!(split(r#""\x4g""#), words(&["x4g"]));
        assert_eq!(split(r#""\x""#), words(&["x"]));
    }

    #[test]
    fn single_quotes() {
        assert_eq!(split("'a b'"), words(&["a b"]));
        assert_eq!(split(r"'it\'s'"), words(&["it's"]));
        // Only \' is an escape inside single quotes.
        assert_eq!(split(r"'a\nb\\ c'"), words(&[r"a\nb\\ c"]));
        assert_eq!(split("'\"'"), words(&["\""]));
    }

    #[test]
    fn closing_quote_must_end_token() {
        assert_eq!(split(r#""foo"bar"#), None);
        assert_eq!(split("'foo'bar"), None);
        assert_eq!(split("\"foo\"\x0bbar"), words(&["foo", "bar"]));
        assert_eq!(split("'foo' bar"), words(&["foo", "bar"]));
    }

    #[test]
    fn unterminated_quotes() {
        assert_eq!(split(r#""foo"#), None);
        assert_eq!(split("'foo"), None);
        assert_eq!(split(r#""foo\"#), None);
        assert_eq!(split(r"'foo\'"), None);
        assert_eq!(split("it's"), None);
    }

    #[test]
    fn nul_ends_input_like_c() {
        assert_eq!(split_args(b"a b\0c d"), Some(vec![b"a".to_vec(), b"b".to_vec()]));
        assert_eq!(split_args(b"\"a\0\""), None);
    }

    #[test]
    fn repr_matches_sdscatrepr() {
        assert_eq!(repr(b"abc"), "\"abc\"");
        assert_eq!(repr(b""), "\"\"");
        assert_eq!(repr(b"a\\b\"c\n\r\t\x07\x08"), r#""a\\b\"c\n\r\t\a\b""#);
        assert_eq!(repr(&[0x00, 0x1f, 0x7f, 0xff, b'\'']), r#""\x00\x1f\x7f\xff'""#);
    }

    #[test]
    fn quote_if_needed_cases() {
        assert_eq!(quote_if_needed(b"6379"), "6379");
        assert_eq!(quote_if_needed(b"/var/lib/redis"), "/var/lib/redis");
        assert_eq!(quote_if_needed(b""), "\"\"");
        assert_eq!(quote_if_needed(b"a b"), "\"a b\"");
        assert_eq!(quote_if_needed(b"it's"), "\"it's\"");
        assert_eq!(quote_if_needed(b"a\"b"), "\"a\\\"b\"");
        assert_eq!(quote_if_needed(b"a\\b"), "\"a\\\\b\"");
        assert_eq!(quote_if_needed("é".as_bytes()), "\"\\xc3\\xa9\"");
    }

    #[test]
    fn repr_and_quote_round_trip() {
        let samples: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"plain".to_vec(),
            b"with space".to_vec(),
            b"q\"uo'te\\".to_vec(),
            (0u8..=255).collect(),
            b"\"".to_vec(),
            b"'".to_vec(),
        ];
        for s in samples {
            assert_eq!(split_args(repr(&s).as_bytes()), Some(vec![s.clone()]));
            assert_eq!(split_args(quote_if_needed(&s).as_bytes()), Some(vec![s.clone()]));
        }
    }
}
