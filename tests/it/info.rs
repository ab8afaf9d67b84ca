//! INFO against Debian's real Redis 7.0.15: the sections each form of INFO prints, their order,
//! their field names and order, and the exact format of the per-command, per-error, latency and
//! keyspace lines. Values differ between two servers; names and formats must not.

use std::collections::BTreeSet;

use crate::common::*;

/// INFO's text (a bulk string in RESP2, a `txt` verbatim string in RESP3).
fn info_text(reply: &[u8]) -> String {
    let text = String::from_utf8_lossy(reply).into_owned();
    let (head, body) = text.split_once("\r\n").unwrap_or_else(|| panic!("a reply: {text:?}"));
    if let Some(len) = head.strip_prefix('$') {
        let len: usize = len.parse().unwrap();
        assert_eq!(body.len(), len + 2, "bulk length");
        body[..len].to_string()
    } else if let Some(len) = head.strip_prefix('=') {
        let len: usize = len.parse().unwrap();
        assert_eq!(body.len(), len + 2, "verbatim length");
        body.strip_prefix("txt:").unwrap_or_else(|| panic!("a txt verbatim string: {text:?}"))[..len - 4].to_string()
    } else {
        panic!("INFO reply is not a string: {text:?}")
    }
}

/// Sections whose lines are one per command or error, in the server's hash order.
const UNORDERED: &[&str] = &["# Commandstats", "# Errorstats", "# Latencystats", "# Keyspace"];

/// The skeleton of an INFO text: each section header, then its field names (in order, or sorted
/// for the per-command sections). Also checks the line format Redis uses.
fn skeleton(text: &str) -> Vec<String> {
    assert!(text.is_empty() || text.ends_with("\r\n"), "INFO text ends with CRLF: {text:?}");
    let mut out = Vec::new();
    let mut section: Vec<String> = Vec::new();
    let mut header = String::new();
    let flush = |header: &str, section: &mut Vec<String>, out: &mut Vec<String>| {
        if UNORDERED.contains(&header) {
            section.sort();
        }
        out.append(section);
    };
    let lines: Vec<&str> = text.split("\r\n").collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with("# ") {
            flush(&header, &mut section, &mut out);
            header = line.to_string();
            out.push(line.to_string());
            // Sections are separated by one empty line.
            assert!(i == 0 || lines[i - 1].is_empty(), "no blank line before {line}");
        } else if line.is_empty() {
            continue;
        } else {
            let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("field line without ':': {line:?}"));
            assert!(!name.is_empty() && !value.contains('\r') && !value.contains('\n'), "{line:?}");
            section.push(format!("  {name}"));
        }
    }
    flush(&header, &mut section, &mut out);
    out
}

fn fields(text: &str) -> Vec<(String, String)> {
    text.split("\r\n")
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (k, v) = l.split_once(':').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn field(text: &str, name: &str) -> Option<String> {
    fields(text).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// The same commands on both servers, so that the per-command sections name the same commands.
fn same_workload(c: &mut Client) {
    for args in [
        &["CONFIG", "RESETSTAT"][..],
        &["SET", "a", "1"],
        &["GET", "a"],
        &["GET", "a"],
        &["INCR", "a"],
        &["SET", "t", "x", "EX", "1000"],
        &["SELECT", "3"],
        &["SET", "b", "2"],
        &["SELECT", "0"],
        &["GET"],
        &["NOSUCHCOMMAND"],
        &["INCR", "t"],
        &["SELECT", "99"],
        &["CONFIG", "GET", "maxmemory"],
        &["CLIENT", "GETNAME"],
    ] {
        c.cmd(args);
    }
}

#[test]
fn sections_and_field_names_match_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let (mut o, mut r) = (ours.client(), real.client());
    same_workload(&mut o);
    same_workload(&mut r);
    let mut mismatches = Vec::new();
    let forms: &[&[&str]] = &[
        &[],
        &["default"],
        &["all"],
        &["everything"],
        &["ALL"],
        &["server", "clients"],
        &["clients", "server"],
        &["SERVER"],
        &["server", "server"],
        &["memory"],
        &["persistence"],
        &["stats"],
        &["replication"],
        &["cpu", "keyspace"],
        &["modules"],
        &["commandstats"],
        &["errorstats"],
        &["latencystats"],
        &["cluster"],
        &["keyspace"],
        &["default", "commandstats"],
        &["all", "foo"],
        &["everything", "default"],
        &["foo"],
        &["foo", "bar"],
    ];
    for resp in ["2", "3"] {
        o.cmd(&["HELLO", resp]);
        r.cmd(&["HELLO", resp]);
        for form in forms {
            let args = [&["INFO"][..], form].concat();
            let (ot, rt) = (o.cmd(&args), r.cmd(&args));
            let (os, rs) = (skeleton(&info_text(&ot)), skeleton(&info_text(&rt)));
            if os != rs {
                let extra: Vec<_> = os.iter().filter(|l| !rs.contains(l)).collect();
                let missing: Vec<_> = rs.iter().filter(|l| !os.contains(l)).collect();
                mismatches.push(format!(
                    "RESP{resp} {args:?}:\n    real: {rs:?}\n    ours: {os:?}\n    ours has extra {extra:?}, misses {missing:?}"
                ));
            }
            // The reply's type is the protocol's string type.
            if ot[0] != rt[0] {
                mismatches.push(format!("RESP{resp} {args:?}: reply type {} vs {}", ot[0] as char, rt[0] as char));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn unknown_section_is_an_empty_string() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let (mut o, mut r) = (ours.client(), real.client());
    for args in [&["INFO", "foo"][..], &["INFO", "foo", "bar"]] {
        assert_eq!(o.cmd(args), b"$0\r\n\r\n");
        assert_eq!(r.cmd(args), b"$0\r\n\r\n");
    }
    o.cmd(&["HELLO", "3"]);
    r.cmd(&["HELLO", "3"]);
    assert_eq!(o.cmd(&["INFO", "foo"]), r.cmd(&["INFO", "foo"]));
    assert_eq!(o.cmd(&["INFO", "foo"]), b"=4\r\ntxt:\r\n");
    let modules = o.cmd(&["INFO", "modules"]);
    assert_eq!(modules, r.cmd(&["INFO", "modules"]));
    assert_eq!(modules, b"=15\r\ntxt:# Modules\r\n\r\n");
}

/// Fields whose values are the same on two idle servers with the same configuration.
#[test]
fn deterministic_values_match_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let (mut o, mut r) = (ours.client(), real.client());
    same_workload(&mut o);
    same_workload(&mut r);
    let (ot, rt) = (info_text(&o.cmd(&["INFO", "everything"])), info_text(&r.cmd(&["INFO", "everything"])));
    let mut mismatches = Vec::new();
    for name in [
        "redis_version",
        "redis_git_sha1",
        "redis_git_dirty",
        "redis_mode",
        "os",
        "arch_bits",
        "monotonic_clock",
        "multiplexing_api",
        "atomicvar_api",
        "process_supervised",
        "hz",
        "configured_hz",
        "io_threads_active",
        "connected_clients",
        "cluster_connections",
        "maxclients",
        "blocked_clients",
        "tracking_clients",
        "clients_in_timeout_table",
        "maxmemory",
        "maxmemory_human",
        "maxmemory_policy",
        "number_of_cached_scripts",
        "mem_not_counted_for_evict",
        "mem_replication_backlog",
        "mem_clients_slaves",
        "mem_cluster_links",
        "mem_aof_buffer",
        "loading",
        "async_loading",
        "rdb_bgsave_in_progress",
        "rdb_last_bgsave_status",
        "rdb_saves",
        "aof_enabled",
        "aof_rewrite_in_progress",
        "aof_last_write_status",
        "total_connections_received",
        "rejected_connections",
        "expired_keys",
        "evicted_keys",
        "keyspace_hits",
        "keyspace_misses",
        "pubsub_channels",
        "pubsub_patterns",
        "total_error_replies",
        "unexpected_error_replies",
        "role",
        "connected_slaves",
        "master_failover_state",
        "master_repl_offset",
        "second_repl_offset",
        "repl_backlog_active",
        "repl_backlog_size",
        "cluster_enabled",
    ] {
        let (ov, rv) = (field(&ot, name), field(&rt, name));
        if ov != rv {
            mismatches.push(format!("{name}: real {rv:?}, ours {ov:?}"));
        }
    }
    // The number of keys per database and how many have a TTL.
    for db in ["db0", "db3"] {
        let counts = |t: &str| field(t, db).map(|v| v.split(",avg_ttl=").next().unwrap_or_default().to_string());
        if counts(&ot) != counts(&rt) {
            mismatches.push(format!("{db}: real {:?}, ours {:?}", field(&rt, db), field(&ot, db)));
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// `cmdstat_<name>:calls=N,usec=N,usec_per_call=N.NN,rejected_calls=N,failed_calls=N`, with the
/// timing masked.
fn cmdstat_counts(text: &str) -> BTreeSet<String> {
    fields(text)
        .into_iter()
        .filter(|(k, _)| k.starts_with("cmdstat_"))
        .map(|(k, v)| {
            let parts: Vec<&str> = v.split(',').collect();
            assert_eq!(parts.len(), 5, "{k}:{v}");
            let get = |i: usize, name: &str| {
                let (n, val) = parts[i].split_once('=').unwrap_or_else(|| panic!("{k}:{v}"));
                assert_eq!(n, name, "{k}:{v}");
                val.to_string()
            };
            let calls: u64 = get(0, "calls").parse().unwrap();
            let usec: u64 = get(1, "usec").parse().unwrap();
            let per = get(2, "usec_per_call");
            let (whole, frac) = per.split_once('.').unwrap_or_else(|| panic!("usec_per_call {per}"));
            assert!(whole.parse::<u64>().is_ok() && frac.len() == 2, "usec_per_call {per}");
            if calls > 0 {
                let expect = usec as f64 / calls as f64;
                assert!((per.parse::<f64>().unwrap() - expect).abs() < 0.01, "{k}: {per} vs {expect}");
            }
            format!(
                "{k}:calls={calls},rejected_calls={},failed_calls={}",
                get(3, "rejected_calls"),
                get(4, "failed_calls")
            )
        })
        .collect()
}

#[test]
fn commandstats_and_errorstats_count_like_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let (mut o, mut r) = (ours.client(), real.client());
    same_workload(&mut o);
    same_workload(&mut r);
    for c in [&mut o, &mut r] {
        // A failed command inside a transaction, a queuing error, and a rejected EXEC.
        c.cmd(&["MULTI"]);
        c.cmd(&["INCR", "t"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["MULTI"]);
        c.cmd(&["GET"]);
        c.cmd(&["EXEC"]);
        c.cmd(&["AUTH", "nopass"]);
    }
    let (ot, rt) = (info_text(&o.cmd(&["INFO", "commandstats"])), info_text(&r.cmd(&["INFO", "commandstats"])));
    assert_eq!(cmdstat_counts(&ot), cmdstat_counts(&rt));
    assert!(ot.contains("\r\ncmdstat_get:calls=2,usec="), "{ot}");
    let (ot, rt) = (o.cmd(&["INFO", "errorstats"]), r.cmd(&["INFO", "errorstats"]));
    let sorted = |b: &[u8]| {
        let mut l: Vec<String> = info_text(b).split("\r\n").map(str::to_string).collect();
        l.sort();
        l
    };
    assert_eq!(sorted(&ot), sorted(&rt), "errorstats");
    assert!(info_text(&ot).contains("\r\nerrorstat_ERR:count="), "{}", info_text(&ot));
    let (ot, rt) = (info_text(&o.cmd(&["INFO", "stats"])), info_text(&r.cmd(&["INFO", "stats"])));
    assert_eq!(field(&ot, "total_error_replies"), field(&rt, "total_error_replies"));
    // CONFIG RESETSTAT empties them (and is then counted itself).
    let after_reset = |c: &mut Client| {
        assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), b"+OK\r\n");
        info_text(&c.cmd(&["INFO", "commandstats", "errorstats"]))
    };
    let (ot, rt) = (after_reset(&mut o), after_reset(&mut r));
    assert_eq!(cmdstat_counts(&ot), cmdstat_counts(&rt));
    assert_eq!(skeleton(&ot), skeleton(&rt));
    assert!(ot.ends_with("\r\n\r\n# Errorstats\r\n"), "{ot}");
}

#[test]
fn latencystats_lines_have_redis_format() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    let (mut o, mut r) = (ours.client(), real.client());
    same_workload(&mut o);
    same_workload(&mut r);
    let names = |t: &str, labels: &[&str]| -> BTreeSet<String> {
        fields(t)
            .into_iter()
            .map(|(k, v)| {
                let name = k.strip_prefix("latency_percentiles_usec_").unwrap_or_else(|| panic!("{k}"));
                let parts: Vec<&str> = v.split(',').collect();
                assert_eq!(parts.len(), labels.len(), "{k}:{v}");
                for (p, label) in parts.iter().zip(labels) {
                    let (l, val) = p.split_once('=').unwrap_or_else(|| panic!("{k}:{v}"));
                    assert_eq!(l, *label, "{k}:{v}");
                    let (whole, frac) = val.split_once('.').unwrap_or_else(|| panic!("{k}:{v}"));
                    assert!(whole.parse::<u64>().is_ok() && frac.len() == 3, "{k}:{v}");
                }
                name.to_string()
            })
            .collect()
    };
    let labels = ["p50", "p99", "p99.9"];
    let (ot, rt) = (info_text(&o.cmd(&["INFO", "latencystats"])), info_text(&r.cmd(&["INFO", "latencystats"])));
    assert_eq!(names(&ot, &labels), names(&rt, &labels));
    assert!(names(&ot, &labels).contains("get"), "{ot}");
    // Other percentiles, and tracking off.
    for c in [&mut o, &mut r] {
        assert_eq!(c.cmd(&["CONFIG", "SET", "latency-tracking-info-percentiles", "0 50 99.99 100"]), b"+OK\r\n");
    }
    let labels = ["p0", "p50", "p99.99", "p100"];
    let (ot, rt) = (info_text(&o.cmd(&["INFO", "latencystats"])), info_text(&r.cmd(&["INFO", "latencystats"])));
    assert_eq!(names(&ot, &labels), names(&rt, &labels));
    for c in [&mut o, &mut r] {
        assert_eq!(c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]), b"+OK\r\n");
        assert_eq!(info_text(&c.cmd(&["INFO", "latencystats"])), "# Latencystats\r\n");
    }
}

#[test]
fn keyspace_lines_have_redis_format() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    for s in [&ours, &real] {
        let mut c = s.client();
        assert_eq!(info_text(&c.cmd(&["INFO", "keyspace"])), "# Keyspace\r\n");
        c.cmd(&["SET", "a", "1"]);
        assert_eq!(info_text(&c.cmd(&["INFO", "keyspace"])), "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n");
        c.cmd(&["SELECT", "15"]);
        c.cmd(&["SET", "b", "1", "EX", "1000"]);
        c.cmd(&["SET", "c", "1"]);
        let t = info_text(&c.cmd(&["INFO", "keyspace"]));
        let lines: Vec<&str> = t.split("\r\n").collect();
        assert_eq!(lines[..2], ["# Keyspace", "db0:keys=1,expires=0,avg_ttl=0"], "{t}");
        let avg = lines[2].strip_prefix("db15:keys=2,expires=1,avg_ttl=").unwrap_or_else(|| panic!("{t}"));
        let avg: u64 = avg.parse().unwrap();
        assert!(avg <= 1_000_000, "{avg}");
        assert_eq!(lines[3..], [""]);
        c.cmd(&["FLUSHALL"]);
        assert_eq!(info_text(&c.cmd(&["INFO", "keyspace"])), "# Keyspace\r\n");
    }
}

#[test]
fn server_section_reports_this_process() {
    let s = Server::start(&[]);
    let mut c = s.client();
    let t = info_text(&c.cmd(&["INFO", "server"]));
    assert_eq!(field(&t, "process_id"), Some(s.pid().to_string()));
    assert_eq!(field(&t, "tcp_port"), Some(s.port.to_string()));
    let run_id = field(&t, "run_id").unwrap();
    assert!(run_id.len() == 40 && run_id.chars().all(|c| c.is_ascii_hexdigit()), "{run_id}");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_micros() as u64;
    let t_us: u64 = field(&t, "server_time_usec").unwrap().parse().unwrap();
    assert!(t_us.abs_diff(now) < 5_000_000, "{t_us} vs {now}");
    assert_eq!(field(&t, "executable").as_deref(), Some(OURS));
}
