//! The ACL file: ACL LOAD reads it all or nothing (ACLLoadFromFile), ACL SAVE replaces it
//! atomically (ACLSaveToFile, plus the fsyncs Redis 7.0 lacks), with Redis's error texts.

use std::collections::BTreeMap;
use std::io::Write;

use super::{has_spaces, lossy, user::merge_selector_args, Acl, User};

/// The users an ACL file defines, or the one-line description of every problem found
/// (nothing is loaded then). A file without `default` gets a fresh default user.
pub fn load(acl: &Acl, path: &str) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let text = std::fs::read(path)
        .map_err(|e| format!("Error loading ACLs, opening file '{path}': {}", crate::util::sys::error_text(&e)))?;
    parse(acl, &text, path)
}

fn trim(s: &[u8], set: &[u8]) -> Vec<u8> {
    let start = s.iter().position(|c| !set.contains(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !set.contains(c)).map_or(start, |e| e + 1);
    s[start..end.max(start)].to_vec()
}

/// ACLLoadFromFile on the file's text.
pub fn parse(acl: &Acl, text: &[u8], path: &str) -> Result<BTreeMap<Vec<u8>, User>, String> {
    let env = acl.env();
    let mut users: BTreeMap<Vec<u8>, User> = BTreeMap::new();
    let mut errors = String::new();
    // Redis reads the file with fgets into a C string: a NUL ends it.
    let text = &text[..text.iter().position(|&c| c == 0).unwrap_or(text.len())];
    for (i, raw) in text.split(|&c| c == b'\n').enumerate() {
        let linenum = i + 1;
        let line = trim(raw, b" \t\r\n");
        if line.is_empty() {
            continue;
        }
        let argv: Vec<&[u8]> = line.split(|&c| c == b' ').collect();
        if argv[0] != b"user" || argv.len() < 2 {
            errors.push_str(&format!("{path}:{linenum} should start with user keyword followed by the username. "));
            continue;
        }
        if has_spaces(argv[1]) {
            errors.push_str(&format!("'{path}:{linenum}: username '{}' contains invalid characters. ", lossy(argv[1])));
            continue;
        }
        if users.contains_key(argv[1]) {
            errors.push_str(&format!("WARNING: Duplicate user '{}' found on line {linenum}. ", lossy(argv[1])));
            continue;
        }
        let mut user = User::new(argv[1], env);
        let merged = match merge_selector_args(&argv[2..]) {
            Ok(m) => m,
            Err(_) => {
                errors.push_str(&format!("{path}:{linenum}: Unmatched parenthesis in selector definition."));
                users.insert(argv[1].to_vec(), user);
                continue;
            }
        };
        let mut syntax_error = false;
        for op in &merged {
            let op = trim(op, b"\t\r\n");
            if let Err(e) = user.apply(&op, env) {
                if e == super::RuleError::UnknownCommand {
                    errors.push_str(&format!(
                        "{path}:{linenum}: Error in applying operation '{}': {}. ",
                        lossy(&op),
                        e.message()
                    ));
                } else if !syntax_error {
                    errors.push_str(&format!("{path}:{linenum}: {}. ", e.message()));
                    syntax_error = true;
                }
            }
        }
        users.insert(argv[1].to_vec(), user);
    }
    if !errors.is_empty() {
        errors.push_str("WARNING: ACL errors detected, no change to the previously active ACL rules was performed");
        return Err(errors);
    }
    if !users.contains_key(&b"default"[..]) {
        users.insert(b"default".to_vec(), acl.default_user());
    }
    Ok(users)
}

/// Replaces `path` with `text`: a temp file beside it, written and fsynced, renamed over it,
/// and the directory fsynced, so a crash leaves the old file or the new one.
pub fn save(path: &str, text: &[u8]) -> Result<(), String> {
    let tmp = format!("{path}.tmp-{}-{}", std::process::id(), crate::util::time::unix_ms());
    let written = (|| -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(text)?;
        f.sync_all()?;
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Writing ACL file for ACL SAVE: {}", crate::util::sys::error_text(&e)));
    }
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("Renaming ACL file for ACL SAVE: {}", crate::util::sys::error_text(&e)));
    }
    let dir = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir.unwrap_or(std::path::Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
