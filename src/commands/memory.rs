//! MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE. Table rows, replies and error texts follow
//! Redis 7.0.15.

use bytes::Bytes;

use super::{errors, Ctx};
use crate::protocol::Reply;
use crate::server::command::*;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("memory", "server", "4.0.0", "A container for memory diagnostics commands", MEMORY_SUBS)];

static MEMORY_SUBS: &[CommandSpec] = &[
    CommandSpec {
        name: "usage",
        arity: -3,
        flags: READONLY,
        keys: (2, 2, 1),
        group: "server",
        since: "4.0.0",
        summary: "Estimate the memory usage of a key",
        complexity: "O(N) where N is the number of samples.",
        acl: &[],
        write_keys: None,
        keys_fn: None,
        handler: Some(memory_usage),
        subcommands: &[],
        id: CmdId::Other,
    },
    subcmd!("doctor", 2, 0, (0, 0, 0), "server", "4.0.0", "Outputs memory problems report", "O(1)", memory_doctor),
    subcmd!(
        "malloc-stats",
        2,
        0,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Show allocator internal stats",
        "Depends on how much memory is allocated, could be slow",
        memory_malloc_stats
    ),
    subcmd!(
        "purge",
        2,
        0,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Ask the allocator to release memory",
        "Depends on how much memory is allocated, could be slow",
        memory_purge
    ),
    subcmd!("stats", 2, 0, (0, 0, 0), "server", "4.0.0", "Show memory usage details", "O(1)", memory_stats),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "4.0.0",
        "Show helpful text about the different subcommands",
        "O(1)",
        memory_help
    ),
];

/// Bytes a key costs: the entry in its table slot plus key and value allocations.
/// What a key costs: its allocation (header, value, key), what the value owns beyond it, and its
/// 8-byte slot plus control byte in the table.
pub fn entry_memory(e: &crate::keyspace::Entry) -> usize {
    e.allocation_size() + e.value().heap_size() + std::mem::size_of::<crate::keyspace::Entry>() + 1
}

fn memory_usage(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut i = 3;
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"samples") && i + 1 < args.len() {
            let n = tri!(super::int_arg(&args[i + 1]));
            if n < 0 {
                return Reply::error(errors::SYNTAX);
            }
            i += 2;
        } else {
            return Reply::error(errors::SYNTAX);
        }
    }
    let db = ctx.session.db;
    ctx.expire_if_needed(db, &args[2]);
    match ctx.state.dbs[db].get_raw(&args[2]) {
        Some(e) => Reply::Int(entry_memory(e) as i64),
        None => Reply::Nil,
    }
}

fn memory_doctor(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let used = crate::alloc::allocated();
    let text = if used < 5 * 1024 * 1024 {
        "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
    } else {
        "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
    };
    Reply::Verbatim("txt", text.as_bytes().to_vec())
}

fn memory_malloc_stats(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::Verbatim("txt", crate::alloc::stats_text().into_bytes())
}

fn memory_purge(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    Reply::OK
}

fn memory_stats(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let used = crate::alloc::allocated() as i64;
    let peak = (crate::alloc::peak() as i64).max(used);
    let startup = crate::alloc::startup() as i64;
    let rss = crate::util::sys::rss_bytes() as i64;
    let clients_normal = super::info::clients_memory(ctx.state) as i64;
    let keys: i64 = ctx.state.dbs.iter().map(|d| d.len() as i64).sum();
    // The same figure as INFO's used_memory_overhead.
    let overhead = super::info::memory_overhead(ctx.state) as i64;
    let dataset = (used - overhead).max(0);
    // Redis computes these ratios in single precision and prints them with %.17g.
    let ratio = |a: i64, b: i64| Reply::Double(if b > 0 { (a as f32 / b as f32) as f64 } else { 0.0 });
    let pct = |a: i64, b: i64| Reply::Double(if b > 0 { (a as f32 * 100.0 / b as f32) as f64 } else { 0.0 });
    let mut f: Vec<(Reply, Reply)> = vec![
        (Reply::bulk("peak.allocated"), Reply::Int(peak)),
        (Reply::bulk("total.allocated"), Reply::Int(used)),
        (Reply::bulk("startup.allocated"), Reply::Int(startup)),
        (Reply::bulk("replication.backlog"), Reply::Int(0)),
        (Reply::bulk("clients.slaves"), Reply::Int(0)),
        (Reply::bulk("clients.normal"), Reply::Int(clients_normal)),
        (Reply::bulk("cluster.links"), Reply::Int(0)),
        (Reply::bulk("aof.buffer"), Reply::Int(0)),
        (Reply::bulk("lua.caches"), Reply::Int(ctx.state.scripts.cache_bytes as i64)),
        (Reply::bulk("functions.caches"), Reply::Int(ctx.state.scripts.functions_overhead() as i64)),
    ];
    for (i, db) in ctx.state.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        // The keyspace's structure is one table here, expiries living in the entries: the
        // expiry fields are what the expires table costs in Redis.
        let expires = db.volatile_len() as i64 * 8;
        f.push((
            Reply::bulk(format!("db.{i}")),
            Reply::Map(vec![
                (Reply::bulk("overhead.hashtable.main"), Reply::Int(db.overhead() as i64 - expires)),
                (Reply::bulk("overhead.hashtable.expires"), Reply::Int(expires)),
                (Reply::bulk("overhead.hashtable.slot-to-keys"), Reply::Int(0)),
            ]),
        ));
    }
    f.extend([
        (Reply::bulk("overhead.total"), Reply::Int(overhead)),
        (Reply::bulk("keys.count"), Reply::Int(keys)),
        (Reply::bulk("keys.bytes-per-key"), Reply::Int(if keys > 0 { (used - startup) / keys } else { 0 })),
        (Reply::bulk("dataset.bytes"), Reply::Int(dataset)),
        (Reply::bulk("dataset.percentage"), pct(dataset, used - startup)),
        (Reply::bulk("peak.percentage"), pct(used, peak)),
        (Reply::bulk("allocator.allocated"), Reply::Int(used)),
        (Reply::bulk("allocator.active"), Reply::Int(used)),
        (Reply::bulk("allocator.resident"), Reply::Int(rss)),
        (Reply::bulk("allocator-fragmentation.ratio"), ratio(1, 1)),
        (Reply::bulk("allocator-fragmentation.bytes"), Reply::Int(0)),
        (Reply::bulk("allocator-rss.ratio"), ratio(rss, used)),
        (Reply::bulk("allocator-rss.bytes"), Reply::Int(rss - used)),
        (Reply::bulk("rss-overhead.ratio"), ratio(1, 1)),
        (Reply::bulk("rss-overhead.bytes"), Reply::Int(0)),
        (Reply::bulk("fragmentation"), ratio(rss, used)),
        (Reply::bulk("fragmentation.bytes"), Reply::Int(rss - used)),
    ]);
    Reply::Map(f)
}

fn memory_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "MEMORY",
        &[
            "DOCTOR",
            "    Return memory problems reports.",
            "MALLOC-STATS",
            "    Return internal statistics report from the memory allocator.",
            "PURGE",
            "    Attempt to purge dirty pages for reclamation by the allocator.",
            "STATS",
            "    Return information about the memory usage of the server.",
            "USAGE <key> [SAMPLES <count>]",
            "    Return memory in bytes used by <key> and its value. Nested values are",
            "    sampled up to <count> times (default: 5, 0 means sample all).",
        ],
    )
}
