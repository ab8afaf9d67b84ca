//! Script flags: the `#!lua flags=...` shebang of EVAL scripts (eval.c evalExtractShebangFlags),
//! also the flag names FUNCTION's register_function accepts.

use crate::util::splitargs::split_args;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScriptFlags {
    /// No shebang: the script runs in the pre-7.0 compatible mode (may write, no flag checks).
    pub eval_compat_mode: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

impl ScriptFlags {
    /// Sets the flag named as in Redis's scripts_flags_def; false for an unknown name.
    pub fn set_named(&mut self, name: &[u8]) -> bool {
        let flag = match name {
            b"no-writes" => &mut self.no_writes,
            b"allow-oom" => &mut self.allow_oom,
            b"allow-stale" => &mut self.allow_stale,
            b"no-cluster" => &mut self.no_cluster,
            b"allow-cross-slot-keys" => &mut self.allow_cross_slot_keys,
            _ => return false,
        };
        *flag = true;
        true
    }
}

/// The flags of a script body and the length of its shebang line (without its line feed, which
/// stays in the compiled code so line numbers are the user's). Errors are Redis's texts, without
/// the "ERR " a reply adds.
pub fn parse_shebang(body: &[u8]) -> Result<(ScriptFlags, usize), String> {
    if !body.starts_with(b"#!") {
        return Ok((ScriptFlags { eval_compat_mode: true, ..ScriptFlags::default() }, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err("Invalid script shebang".to_string());
    };
    // sdssplitargs fails on unbalanced quotes: Redis reports that as an invalid engine too.
    let parts = match split_args(&body[..end]) {
        Some(parts) if !parts.is_empty() => parts,
        _ => return Err("Invalid engine in script shebang".to_string()),
    };
    if parts[0] != b"#!lua" {
        return Err(format!("Unexpected engine in script shebang: {}", cstr_lossy(&parts[0])));
    }
    let mut flags = ScriptFlags::default();
    for part in &parts[1..] {
        let Some(list) = part.strip_prefix(b"flags=") else {
            return Err(format!("Unknown lua shebang option: {}", cstr_lossy(part)));
        };
        // sdssplitlen of an empty string yields no element.
        if list.is_empty() {
            continue;
        }
        for name in list.split(|&b| b == b',') {
            if !flags.set_named(name) {
                return Err(format!("Unexpected flag in script shebang: {}", cstr_lossy(name)));
            }
        }
    }
    Ok((flags, end))
}

/// The text as C's "%s" prints it: up to the first NUL.
fn cstr_lossy(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs() {
        let (f, n) = parse_shebang(b"return 1").unwrap();
        assert!(f.eval_compat_mode && n == 0);
        let (f, n) = parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap();
        assert!(f.no_writes && f.allow_oom && !f.eval_compat_mode);
        assert_eq!(n, "#!lua flags=no-writes,allow-oom".len());
        assert_eq!(parse_shebang(b"#!lua").unwrap_err(), "Invalid script shebang");
        assert_eq!(parse_shebang(b"#!py\n").unwrap_err(), "Unexpected engine in script shebang: #!py");
        assert_eq!(parse_shebang(b"#!lua x=1\n").unwrap_err(), "Unknown lua shebang option: x=1");
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,bad\n").unwrap_err(),
            "Unexpected flag in script shebang: bad"
        );
        assert!(parse_shebang(b"#!lua flags=\nreturn 1").is_ok());
    }
}
