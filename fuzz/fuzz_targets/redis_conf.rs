//! The redis.conf document (the engine of CONFIG REWRITE, Sentinel's config flush and redisctl's
//! in-place edits) and the server's config loader, on arbitrary config text.
//!
//! Input: a key selector byte, a line-count byte, then UTF-8 text whose first line holds the
//! values to set and whose rest is the file. Properties:
//! - parsing and rendering without an edit gives back every byte;
//! - `set` (what redisctl's edits do): the file read again says exactly the new values for the
//!   key, and every line that is not a line of the key is still there, in order, byte for byte;
//! - CONFIG REWRITE: a file the loader accepts, rewritten with what the loader read, is accepted
//!   again with the same meaning, and the lines of directives it does not own are kept as they are.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use redis_rs::config::document::{ConfigDocument, RewriteOption, REWRITE_SIGNATURE};
use redis_rs::config::Config;
use redis_rs::util::splitargs::split_args;

include!("common_alloc.rs");

/// Keys redisctl and CONFIG REWRITE edit, with their aliases: single and multi-word keys, and
/// directives written on several lines.
const KEYS: &[(&str, &[&str])] = &[
    ("port", &[]),
    ("save", &[]),
    ("requirepass", &[]),
    ("replicaof", &["slaveof"]),
    ("bind", &[]),
    ("client-output-buffer-limit", &[]),
    ("sentinel monitor", &[]),
    ("sentinel known-replica", &["sentinel known-slave"]),
    ("rename-command", &[]),
    ("user", &[]),
    ("dir", &[]),
    ("maxmemory", &[]),
];

fuzz_target!(|data: &[u8]| {
    let [selector, copies, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let (values_line, file) = text.split_once('\n').unwrap_or((text, ""));

    let doc = ConfigDocument::parse("redis.conf", file);
    assert_eq!(doc.render(), file, "parse + render is not lossless");

    let (name, aliases) = KEYS[usize::from(*selector) % KEYS.len()];
    if let Some(values) = split_args(values_line.as_bytes()) {
        let values: Vec<String> = values.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect();
        let lines = vec![values; usize::from(*copies % 3)];
        check_set(&doc, name, aliases, &lines);
    }

    // An include reads another file: the loader is fuzzed on this text alone.
    if doc.directives().any(|(_, n, _)| n == "include") {
        return;
    }
    if let Ok(cfg) = Config::validate(file) {
        check_rewrite(&doc, &cfg);
    }
});

fn check_set(doc: &ConfigDocument, name: &str, aliases: &[&str], lines: &[Vec<String>]) {
    let mut edited = doc.clone();
    edited.set(name, aliases, lines);
    let again = ConfigDocument::parse("redis.conf", &edited.render());
    let got: Vec<Vec<String>> = again.get_all(name, aliases).into_iter().map(|(_, v)| v).collect();
    assert_eq!(got, lines, "the file does not say what was set for {name}");
    assert_eq!(
        others(doc, &[(name, aliases)]),
        others(&again, &[(name, aliases)]),
        "setting {name} changed other lines"
    );
}

fn check_rewrite(doc: &ConfigDocument, cfg: &Config) {
    let options = cfg.rewrite_options();
    let mut rewritten = doc.clone();
    rewritten.rewrite(&options);
    let text = rewritten.render();
    let cfg2 = match Config::validate(&text) {
        Ok(c) => c,
        Err(e) => panic!("a rewritten file is refused: {e}\n---\n{text}"),
    };
    assert_eq!(meaning(&options), meaning(&cfg2.rewrite_options()), "CONFIG REWRITE changed the meaning");
    let keys: Vec<(&str, &[&str])> = options.iter().map(|o| (o.name, o.aliases)).collect();
    assert_eq!(others(doc, &keys), others(&rewritten, &keys), "CONFIG REWRITE changed lines it does not own");
}

/// What a config says: each directive's lines as CONFIG REWRITE would write them.
fn meaning(options: &[RewriteOption<'static>]) -> Vec<(&'static str, Vec<Vec<String>>)> {
    options.iter().map(|o| (o.name, o.lines.clone())).collect()
}

/// The lines that are not active lines of `keys`, as text, in order (but the line CONFIG REWRITE
/// puts above what it appends). Single-word keys are looked up by name in one pass (CONFIG
/// REWRITE has some 200 of them), multi-word ones through the document's own matching.
fn others<'a>(doc: &'a ConfigDocument, keys: &[(&str, &[&str])]) -> Vec<&'a str> {
    let all = keys.iter().flat_map(|(name, aliases)| std::iter::once(*name).chain(aliases.iter().copied()));
    let (single, multi): (Vec<&str>, Vec<&str>) = all.partition(|k| !k.contains(' '));
    let single: HashSet<String> = single.iter().map(|k| k.to_ascii_lowercase()).collect();
    let mut owned: Vec<bool> =
        doc.lines().iter().map(|l| l.directive().is_some_and(|(name, _)| single.contains(name))).collect();
    for key in multi {
        for (line_no, _) in doc.get_all(key, &[]) {
            owned[line_no - 1] = true;
        }
    }
    doc.lines()
        .iter()
        .zip(owned)
        .filter(|(l, o)| !o && l.text.trim_end_matches('\r') != REWRITE_SIGNATURE)
        .map(|(l, _)| l.text.as_str())
        .collect()
}
