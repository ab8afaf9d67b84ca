//! The layer rule of src/lib.rs, read from the code's own text: every `crate::...` path in a file
//! of `src/` must name a module of its own layer or one below. An import that points up fails this
//! test with its file and line. Today's upward imports are listed in `KNOWN_UPWARD` (issue 16
//! removes them); the list may only shrink: an entry that no longer occurs fails the test too, so
//! it is struck from the list when its import goes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The layers, lowest first: a file's layer is the one of the longest prefix of its path (relative
/// to src/, without `.rs`) found here. Mirrors the table in src/lib.rs.
const LAYERS: &[(&str, &[&str])] = &[
    ("util", &["util", "alloc", "logging", "crash", "systemd", "capabilities", "lib"]),
    ("protocol and config", &["protocol", "config", "client", "tls"]),
    ("types", &["types"]),
    ("keyspace", &["keyspace"]),
    ("codecs and engines", &["acl", "persistence/rdb", "persistence/aof", "sentinel", "scripting"]),
    ("core", &["server", "replication/state", "replication/backlog", "persistence/state"]),
    ("runtimes", &["persistence", "replication"]),
    ("commands", &["commands"]),
    ("network runtime", &["net"]),
    ("programs", &["startup", "ctl", "bin"]),
];

/// Upward imports that exist today, as "file -> module": issue 16 breaks each of them.
const KNOWN_UPWARD: &[&str] = &[];

/// Crate-root items that are not modules: where they are defined.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("cmd", "server/command"),
    ("subcmd", "server/command"),
    ("container", "server/command"),
    ("REDIS_VERSION", "lib"),
];

fn layer_of(module: &str) -> usize {
    let mut best: Option<(usize, usize)> = None;
    for (i, (_, prefixes)) in LAYERS.iter().enumerate() {
        for p in prefixes.iter() {
            let matches = module == *p || module.starts_with(&format!("{p}/"));
            if matches && best.is_none_or(|(len, _)| p.len() > len) {
                best = Some((p.len(), i));
            }
        }
    }
    best.unwrap_or_else(|| panic!("src/{module} is in no layer: add it to LAYERS and to src/lib.rs")).1
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The module a file is (`server/state`, `commands/zsets/pop`; `mod.rs` stands for its folder).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let rel = rel.to_string_lossy().into_owned();
    rel.strip_suffix("/mod").map(str::to_string).unwrap_or(rel)
}

/// The module a `crate::a::b::c` path names: the longest prefix that is a file or folder of src/.
fn target_of(src: &Path, words: &[&str]) -> String {
    if let Some((_, m)) = ROOT_ITEMS.iter().find(|(item, _)| *item == words[0]) {
        return m.to_string();
    }
    let mut module = String::new();
    for w in words {
        let candidate = if module.is_empty() { w.to_string() } else { format!("{module}/{w}") };
        if src.join(format!("{candidate}.rs")).exists() || src.join(&candidate).is_dir() {
            module = candidate;
        } else {
            break;
        }
    }
    module
}

/// Every `crate::` path in a line of code (not in comments), as its words; a `crate::{a, b}` group
/// gives each of its members.
fn crate_paths(line: &str) -> Vec<Vec<String>> {
    let code = line.split("//").next().unwrap_or("");
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for member in inner.split(',') {
                let words: Vec<String> = member.trim().split("::").map(|w| w.trim().to_string()).collect();
                if !words[0].is_empty() {
                    out.push(words);
                }
            }
        } else {
            let path: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
            out.push(path.split("::").filter(|w| !w.is_empty()).map(str::to_string).collect());
        }
        rest = after;
    }
    out
}

/// Upward imports in src/ as (file:line, "file -> module", layers).
fn upward_imports() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in &files {
        let module = module_of(&src, file);
        let layer = layer_of(&module);
        let text = std::fs::read_to_string(file).unwrap();
        // Unit tests may reach anywhere: only the code itself keeps the rule.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            for words in crate_paths(line) {
                let words: Vec<&str> = words.iter().map(String::as_str).collect();
                let target = target_of(&src, &words);
                if target.is_empty() || target == module {
                    continue;
                }
                let target_layer = layer_of(&target);
                if target_layer > layer {
                    found.push((
                        format!("src/{}:{}", file.strip_prefix(&src).unwrap().display(), n + 1),
                        format!("{module} -> {target}"),
                        format!("{} -> {}", LAYERS[layer].0, LAYERS[target_layer].0),
                    ));
                }
            }
        }
    }
    found
}

#[test]
fn imports_point_down_the_layers() {
    let found = upward_imports();
    let known: BTreeSet<&str> = KNOWN_UPWARD.iter().copied().collect();
    let new: Vec<String> = found
        .iter()
        .filter(|(_, edge, _)| !known.contains(edge.as_str()))
        .map(|(at, edge, layers)| format!("{at}: {edge} ({layers})"))
        .collect();
    assert!(
        new.is_empty(),
        "imports that point up a layer (take a function or emit an event instead; see src/lib.rs):\n{}",
        new.join("\n")
    );
    let seen: BTreeSet<&str> = found.iter().map(|(_, edge, _)| edge.as_str()).collect();
    let gone: Vec<&&str> = known.iter().filter(|k| !seen.contains(**k)).collect();
    assert!(gone.is_empty(), "no longer upward: strike these from KNOWN_UPWARD: {gone:?}");
}

#[test]
fn the_checker_sees_an_upward_import() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let paths = crate_paths("use crate::{commands::notify, util::glob}; // crate::server in a comment");
    assert_eq!(paths, vec![vec!["commands".to_string(), "notify".into()], vec!["util".into(), "glob".into()]]);
    assert_eq!(target_of(&src, &["commands", "pubsub", "publish_cmd"]), "commands/pubsub");
    assert_eq!(target_of(&src, &["server", "Server"]), "server");
    assert_eq!(target_of(&src, &["cmd"]), "server/command");
    assert!(layer_of("commands/notify") > layer_of("keyspace/evict"), "keyspace naming commands points up");
    assert!(layer_of("net/conn") > layer_of("server/state"));
    assert!(layer_of("replication/master") > layer_of("server"));
    assert_eq!(layer_of("persistence/rdb/read"), layer_of("persistence/aof"));
    assert!(layer_of("persistence/snapshot") > layer_of("persistence/rdb"));
}
