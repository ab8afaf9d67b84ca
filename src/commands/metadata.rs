//! Redis 7.0.15's own command metadata, captured once from the real server by
//! scripts/capture-command-metadata.sh: the raw RESP3 replies to COMMAND DOCS and COMMAND INFO.
//! SENTINEL exists only in Sentinel mode, so its entries come from Debian's redis-sentinel
//! 7.0.15 (`port N` and one `sentinel monitor` line in a throw-away config), captured the same
//! way: the raw RESP3 replies to COMMAND DOCS SENTINEL and COMMAND INFO SENTINEL on a fresh
//! connection after HELLO 3. (The other fourteen commands a sentinel has carry the same
//! metadata as in a standalone server.)
//! They are parsed on first use into reply trees, by full command name (`get`, `config|get`).
//! COMMAND DOCS answers Redis's doc entries (summary, since, group, complexity, doc_flags,
//! deprecated_since, replaced_by, history, arguments) and COMMAND INFO its tips and key specs; the
//! command table still decides which commands exist, their arity, flags, key positions and ACL
//! categories.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use crate::protocol::Reply;

static DOCS_RESP: &[u8] = include_bytes!("redis-7.0.15-command-docs.resp");
static INFO_RESP: &[u8] = include_bytes!("redis-7.0.15-command-info.resp");
static SENTINEL_DOCS_RESP: &[u8] = include_bytes!("redis-7.0.15-sentinel-command-docs.resp");
static SENTINEL_INFO_RESP: &[u8] = include_bytes!("redis-7.0.15-sentinel-command-info.resp");

pub struct Metadata {
    /// COMMAND DOCS entry fields by full name, in Redis's order; a container's `subcommands` field
    /// still lists all of Redis's subcommands (each also has its own entry here).
    docs: HashMap<String, Vec<(Reply, Reply)>>,
    /// COMMAND INFO entries (10 fields) by full name, subcommands included.
    info: HashMap<String, Vec<Reply>>,
}

/// The parsed metadata; the embedded files are parsed once, on first use.
pub fn get() -> &'static Metadata {
    static META: OnceLock<Metadata> = OnceLock::new();
    META.get_or_init(|| {
        let mut meta = Metadata { docs: HashMap::new(), info: HashMap::new() };
        meta.add_capture(DOCS_RESP, INFO_RESP);
        meta.add_capture(SENTINEL_DOCS_RESP, SENTINEL_INFO_RESP);
        meta
    })
}

impl Metadata {
    /// Adds the entries of one pair of captures (COMMAND DOCS's map, COMMAND INFO's array).
    fn add_capture(&mut self, docs_resp: &[u8], info_resp: &[u8]) {
        let Reply::Map(docs) = parse_all(docs_resp) else { panic!("COMMAND DOCS capture is not a map") };
        for (name, entry) in docs {
            self.add_doc(name, entry);
        }
        let Reply::Array(info) = parse_all(info_resp) else { panic!("COMMAND INFO capture is not an array") };
        for entry in info {
            self.add_info(entry);
        }
    }

    fn add_doc(&mut self, name: Reply, entry: Reply) {
        let Reply::Map(fields) = entry else { panic!("COMMAND DOCS entry is not a map: {entry:?}") };
        for (k, v) in &fields {
            if text(k) == "subcommands" {
                let Reply::Map(subs) = v else { panic!("COMMAND DOCS subcommands is not a map: {v:?}") };
                for (sub_name, sub_entry) in subs {
                    self.add_doc(sub_name.clone(), sub_entry.clone());
                }
            }
        }
        self.docs.insert(text(&name).to_ascii_lowercase(), fields);
    }

    fn add_info(&mut self, entry: Reply) {
        let Reply::Array(fields) = entry else { panic!("COMMAND INFO entry is not an array: {entry:?}") };
        assert_eq!(fields.len(), 10, "COMMAND INFO entry has 10 fields: {fields:?}");
        if let Reply::Array(subs) = &fields[9] {
            for sub in subs {
                self.add_info(sub.clone());
            }
        }
        self.info.insert(text(&fields[0]).to_ascii_lowercase(), fields);
    }

    /// Redis's COMMAND DOCS fields for `fullname`, in its order.
    pub fn doc(&self, fullname: &str) -> Option<&[(Reply, Reply)]> {
        self.docs.get(fullname).map(Vec::as_slice)
    }

    /// Redis's tips (COMMAND INFO's 8th field) for `fullname`.
    pub fn tips(&self, fullname: &str) -> Option<&Reply> {
        self.info.get(fullname).map(|f| &f[7])
    }

    /// Redis's key specs (COMMAND INFO's 9th field) for `fullname`.
    pub fn key_specs(&self, fullname: &str) -> Option<&Reply> {
        self.info.get(fullname).map(|f| &f[8])
    }
}

/// The text of a string reply.
pub fn text(r: &Reply) -> &str {
    match r {
        Reply::Status(s) => s,
        Reply::Bulk(b) => std::str::from_utf8(b).expect("UTF-8 command metadata"),
        other => panic!("not a string in command metadata: {other:?}"),
    }
}

/// Parses exactly one RESP3 value.
fn parse_all(b: &[u8]) -> Reply {
    let (v, rest) = parse_one(b);
    assert!(rest.is_empty(), "{} bytes after the reply in a command metadata file", rest.len());
    v
}

/// Parses `count` RESP3 values.
fn parse_n(count: i64, mut rest: &[u8]) -> (Vec<Reply>, &[u8]) {
    let mut v = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let (item, r) = parse_one(rest);
        v.push(item);
        rest = r;
    }
    (v, rest)
}

/// Parses one RESP3 value (the types Redis uses for command metadata) into a reply tree.
fn parse_one(b: &[u8]) -> (Reply, &[u8]) {
    let end = b.windows(2).position(|w| w == b"\r\n").expect("a complete line in command metadata");
    let line = std::str::from_utf8(&b[1..end]).expect("an ASCII line in command metadata");
    let rest = &b[end + 2..];
    let n = || line.parse::<i64>().unwrap_or_else(|_| panic!("not a number in command metadata: {line:?}"));
    match b[0] {
        b'+' => (Reply::Status(Cow::Owned(line.to_string())), rest),
        b':' => (Reply::Int(n()), rest),
        b'_' => (Reply::Nil, rest),
        b'#' => (Reply::Bool(line == "t"), rest),
        b'$' => {
            let len = n() as usize;
            assert_eq!(&rest[len..len + 2], b"\r\n", "a bulk string ends with CRLF");
            (Reply::Bulk(rest[..len].to_vec()), &rest[len + 2..])
        }
        b'*' => {
            let (v, rest) = parse_n(n(), rest);
            (Reply::Array(v), rest)
        }
        b'~' => {
            let (v, rest) = parse_n(n(), rest);
            (Reply::Set(v), rest)
        }
        b'%' => {
            let (v, rest) = parse_n(2 * n(), rest);
            let mut it = v.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            (Reply::Map(pairs), rest)
        }
        other => panic!("unexpected RESP3 type {:?} in command metadata", other as char),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(r: &Reply, v: u8) -> Vec<u8> {
        let mut out = Vec::new();
        r.encode(v, &mut out);
        out
    }

    #[test]
    fn captures_round_trip_in_resp3() {
        assert_eq!(enc(&parse_all(DOCS_RESP), 3), DOCS_RESP);
        assert_eq!(enc(&parse_all(INFO_RESP), 3), INFO_RESP);
        assert_eq!(enc(&parse_all(SENTINEL_DOCS_RESP), 3), SENTINEL_DOCS_RESP);
        assert_eq!(enc(&parse_all(SENTINEL_INFO_RESP), 3), SENTINEL_INFO_RESP);
    }

    /// Every command in our table but our extension (CLIENT NO-TOUCH, Redis 7.2) has Redis's
    /// metadata, and the table's own doc fields (used only for the extension) agree with it.
    #[test]
    fn every_table_command_has_metadata() {
        fn check(spec: &crate::server::command::CommandSpec, fullname: &str) {
            let m = get();
            if fullname == "client|no-touch" {
                assert!(m.doc(fullname).is_none() && m.tips(fullname).is_none());
                return;
            }
            let doc = m.doc(fullname).unwrap_or_else(|| panic!("no COMMAND DOCS for {fullname}"));
            assert!(m.key_specs(fullname).is_some(), "no COMMAND INFO for {fullname}");
            let field = |name: &str| doc.iter().find(|(k, _)| text(k) == name).map(|(_, v)| text(v)).unwrap_or("");
            assert_eq!(field("summary"), spec.summary, "{fullname}");
            assert_eq!(field("since"), spec.since, "{fullname}");
            assert_eq!(field("group"), spec.group, "{fullname}");
            assert_eq!(field("complexity"), spec.complexity, "{fullname}");
            for sub in spec.subcommands {
                check(sub, &format!("{fullname}|{}", sub.name));
            }
        }
        for spec in crate::commands::all_commands() {
            check(spec, spec.name);
        }
    }

    #[test]
    fn entries_by_full_name() {
        let m = get();
        let set = m.doc("set").unwrap();
        assert_eq!(text(&set[0].0), "summary");
        assert!(set.iter().any(|(k, _)| text(k) == "arguments"));
        assert!(m.doc("config|get").is_some());
        assert!(m.doc("client|no-touch").is_none());
        assert_eq!(
            m.tips("dbsize"),
            Some(&Reply::Set(vec![Reply::bulk("request_policy:all_shards"), Reply::bulk("response_policy:agg_sum")]))
        );
        assert!(matches!(m.key_specs("memory|usage"), Some(Reply::Set(s)) if s.len() == 1));
        assert!(m.doc("sentinel").is_some() && m.doc("sentinel|simulate-failure").is_some());
        assert_eq!(m.tips("sentinel|masters"), Some(&Reply::Set(vec![])));
    }
}
