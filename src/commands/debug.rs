//! DEBUG, a protected command, and its subcommands. Table rows, replies and error texts follow
//! Redis 7.0.15.

mod client_eviction;
mod crash_report;
mod mallctl;
mod restart;

use bytes::Bytes;

pub use crash_report::{enter as enter_command, install as install_crash_report};

use super::{errors, subcommand_syntax_error, Ctx};
use crate::cmd;
use crate::keyspace::digest;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[cmd!(
    "debug",
    -2,
    ADMIN | NOSCRIPT | LOADING | STALE | PROTECTED,
    (0, 0, 0),
    "server",
    "1.0.0",
    "A container for debugging commands",
    "Depends on subcommand.",
    debug
)];

/// C's strtod(s, NULL): the longest leading prefix that is a number, 0 when there is none.
fn strtod(b: &[u8]) -> f64 {
    // A longer number is no different to sleep on; the cap keeps the prefix search cheap.
    let s = String::from_utf8_lossy(&b[..b.len().min(64)]);
    let s = s.trim_start();
    let mut best = 0.0;
    for end in (1..=s.len()).rev() {
        if !s.is_char_boundary(end) {
            continue;
        }
        let p = &s[..end];
        // Rust accepts "inf"/"nan" words like strtod does; it rejects a bare exponent marker.
        if let Ok(v) = p.parse::<f64>() {
            best = v;
            break;
        }
    }
    best
}

/// Redis's islocalClient: a unix socket or a loopback peer.
fn is_local_client(ctx: &Ctx) -> bool {
    if ctx.state.clients.get(&ctx.session.id).is_some_and(|c| c.is_unix) {
        return true;
    }
    let ip = ctx.session.addr.rsplit_once(':').map(|(ip, _)| ip).unwrap_or("");
    let ip = ip.trim_start_matches('[').trim_end_matches(']');
    ip == "127.0.0.1" || ip == "::1"
}

/// DEBUG and MODULE are protected commands: their option (`enable-debug-command`,
/// `enable-module-command`) must allow them (yes, or local for a local client), as Redis checks
/// before running them (allowProtectedAction).
pub fn protected_allowed(ctx: &Ctx, option: crate::config::table::Key) -> bool {
    match ctx.state.config.str(option) {
        "yes" => true,
        "local" => is_local_client(ctx),
        _ => false,
    }
}

pub const DEBUG_NOT_ALLOWED: &str = "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.";

fn debug(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let sub = args[1].to_ascii_lowercase();
    match (sub.as_slice(), args.len()) {
        (b"sleep", 3) => {
            // Like Redis: strtod, so a non-number sleeps 0 seconds.
            let secs = strtod(&args[2]);
            // Holding the keyspace while sleeping is the point: DEBUG SLEEP blocks the server.
            if secs > 0.0 {
                std::thread::sleep(std::time::Duration::from_secs_f64(secs.min(3600.0)));
            }
            Reply::OK
        }
        (b"set-active-expire", 3) => {
            // Like Redis: atoi, so a non-number disables active expiry.
            ctx.state.active_expire_enabled = crate::util::numbers::c_atoll(&args[2]) != 0;
            Reply::OK
        }
        (b"log", 3) => {
            tracing::warn!("DEBUG LOG: {}", String::from_utf8_lossy(&args[2]));
            Reply::OK
        }
        (b"object", 3) => {
            // Redis looks the key up in the dict directly: an expired key not yet deleted is shown.
            let db = ctx.session.db;
            let Some(e) = ctx.state.dbs[db].get_raw(&args[2]) else {
                return Reply::error(errors::NO_SUCH_KEY);
            };
            let shared = match e.value() {
                crate::keyspace::Value::Int(n) => (0..10_000).contains(n) && shared_integers_allowed(ctx),
                _ => false,
            };
            let refcount = if shared { i32::MAX as i64 } else { 1 };
            let compression = ctx.state.config.bool(crate::ckey!("rdbcompression"));
            let fill = ctx.state.hot.encoding.list_max_listpack_size;
            // A quicklist's shape as Redis adds it (the nodes it would hold for this list).
            let extra = match e.value() {
                crate::keyspace::Value::List(l) => {
                    let (nodes, bytes) = crate::persistence::rdb::quicklist_shape(l, fill);
                    format!(
                        " ql_nodes:{nodes} ql_avg_node:{:.2} ql_listpack_max:{} ql_compressed:{} ql_uncompressed_size:{bytes}",
                        l.len() as f64 / nodes as f64,
                        ctx.state.config.int(crate::ckey!("list-max-listpack-size")),
                        u8::from(ctx.state.config.int(crate::ckey!("list-compress-depth")) != 0),
                    )
                }
                _ => String::new(),
            };
            Reply::Status(
                format!(
                    "Value at:{:p} refcount:{refcount} encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}{extra}",
                    e as *const _,
                    e.value().encoding(),
                    crate::persistence::rdb::serialized_len(e.value(), compression, fill),
                    e.access() & 0xFFFFFF,
                    crate::keyspace::access::idle_secs(e.access())
                )
                .into(),
            )
        }
        (b"reload", _) => debug_reload(ctx, &args[2..]),
        (b"digest", 2) => Reply::Status(digest::hex(&digest::dataset_digest(&ctx.state.dbs)).into()),
        (b"digest-value", _) => {
            // The keys are looked up in the dict directly: an expired key not yet deleted counts.
            let db = &ctx.state.dbs[ctx.session.db];
            let digests = args[2..].iter().map(|k| {
                let d = db.get_raw(k).map(|e| digest::value_digest(e.value(), e.expire_at().is_some()));
                Reply::Status(digest::hex(&d.unwrap_or_default()).into())
            });
            Reply::Array(digests.collect())
        }
        (b"populate", 3..=5) => populate(ctx, args),
        (b"protocol", 3) => protocol(ctx, &args[2]),
        (b"error", 3) => {
            // Written as raw protocol, as Redis does (addReplySds): the text with newlines turned
            // into spaces, and not counted as an error reply (errorstats, failed_calls).
            let mut line = b"-".to_vec();
            line.extend(args[2].iter().map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b }));
            line.extend_from_slice(b"\r\n");
            Reply::Encoded(line)
        }
        (b"set-skip-checksum-validation", 3) => {
            ctx.state.skip_checksum_validation = crate::util::numbers::c_atoll(&args[2]) != 0;
            Reply::OK
        }
        (b"aof-flush-sleep", 3) => {
            // atoi: a non-number is 0; a negative one sleeps not at all.
            ctx.state.aof_flush_sleep_us = crate::util::numbers::c_atoll(&args[2]).clamp(0, i32::MAX as i64) as u64;
            Reply::OK
        }
        (b"replicate", 3..) => {
            // To the replicas only (the AOF does not get it), in the database their stream is in,
            // so no SELECT comes first: data that differs from ours, for tests.
            let db = ctx.state.repl.selected_db.unwrap_or(ctx.session.db);
            ctx.state.propagation.push_to_replicas(db, args[2..].to_vec());
            Reply::OK
        }
        (b"pause-cron", 3) => {
            ctx.state.pause_cron = crate::util::numbers::c_atoll(&args[2]) != 0;
            Reply::OK
        }
        (b"change-repl-id", 2) => {
            tracing::warn!("Changing replication IDs after receiving DEBUG change-repl-id");
            ctx.state.repl.new_history();
            Reply::OK
        }
        (b"stringmatch-test", 2) => {
            stringmatch_fuzz(STRINGMATCH_CYCLES);
            Reply::status("Apparently Redis did not crash: test passed")
        }
        (b"loadaof", _) => match crate::persistence::appendonly::reload_locked(ctx.server, ctx.state) {
            Ok(()) => Reply::OK,
            Err(e) => {
                tracing::warn!("DEBUG LOADAOF failed: {e}");
                Reply::error(format!("ERR DEBUG LOADAOF failed: {e}"))
            }
        },
        (b"listpack", 3) => listpack(ctx, &args[2]),
        (b"quicklist", 3 | 4) => quicklist(ctx, &args[2]),
        (b"config-rewrite-force-all", 2) => {
            // Redis hands a missing config file path to fopen, which fails with EFAULT.
            let result = match ctx.server.config_file.clone() {
                Some(path) => {
                    super::config_cmd::rewrite_file(ctx, &path, true).map_err(|e| crate::util::sys::error_text(&e))
                }
                None => Err("Bad address".to_string()),
            };
            match result {
                Ok(()) => Reply::OK,
                Err(e) => Reply::error(format!("ERR CONFIG-REWRITE-FORCE-ALL failed: {e}")),
            }
        }
        (b"quicklist-packed-threshold", 3) => {
            // memtoull, which takes an empty string for 0.
            let text = String::from_utf8_lossy(&args[2]);
            let size = if text.is_empty() { Some(0) } else { crate::config::units::parse_memory_u64(&text) };
            match size {
                Some(size) if crate::persistence::rdb::set_packed_threshold(size) => Reply::OK,
                _ => Reply::error("ERR argument must be a memory value bigger than 1 and smaller than 4gb"),
            }
        }
        (b"segfault", _) => crash_report::segfault(),
        (b"panic", _) => crash_report::panic(),
        (b"assert", _) => crash_report::assert(ctx, args),
        (b"oom", _) => crash_report::oom(),
        (b"restart" | b"crash-and-recover", _) => {
            let delay = match args.get(2) {
                Some(a) => match crate::util::numbers::parse_i64(a) {
                    Some(n) => n.max(0) as u64,
                    None => return Reply::error(errors::NOT_INTEGER),
                },
                None => 0,
            };
            restart::restart(ctx, sub == b"restart", delay)
        }
        (b"leak", 3) => {
            // On purpose: memory that is never freed, for leak detectors' tests.
            Box::leak(args[2].to_vec().into_boxed_slice());
            Reply::OK
        }
        (b"sdslen", 3) => sdslen(ctx, &args[2]),
        (b"replybuffer", 4) => replybuffer(ctx, args),
        (b"client-eviction", 2) => client_eviction::client_eviction(ctx),
        (b"mallctl", 3..) => mallctl::mallctl_int(&args[2..]),
        (b"mallctl-str", 3..) => mallctl::mallctl_string(&args[2..]),
        (b"help", 2) => super::help_reply(
            "DEBUG",
            &[
                "AOF-FLUSH-SLEEP <microsec>",
                "    Server will sleep before flushing the AOF, this is used for testing.",
                "ASSERT",
                "    Crash by assertion failed.",
                "CHANGE-REPL-ID",
                "    Change the replication IDs of the instance.",
                "    Dangerous: should be used only for testing the replication subsystem.",
                "CONFIG-REWRITE-FORCE-ALL",
                "    Like CONFIG REWRITE but writes all configuration options, including",
                "    keywords not listed in original configuration file or default values.",
                "CRASH-AND-RECOVER [<milliseconds>]",
                "    Hard crash and restart after a <milliseconds> delay (default 0).",
                "DIGEST",
                "    Output a hex signature representing the current DB content.",
                "DIGEST-VALUE <key> [<key> ...]",
                "    Output a hex signature of the values of all the specified keys.",
                "ERROR <string>",
                "    Return a Redis protocol error with <string> as message. Useful for clients",
                "    unit tests to simulate Redis errors.",
                "LEAK <string>",
                "    Create a memory leak of the input string.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "LOADAOF",
                "    Flush the AOF buffers on disk and reload the AOF in memory.",
                "REPLICATE <string>",
                "    Replicates the provided string to replicas, allowing data divergence.",
                "MALLCTL <key> [<val>]",
                "    Get or set a malloc tuning integer.",
                "MALLCTL-STR <key> [<val>]",
                "    Get or set a malloc tuning string.",
                "OBJECT <key>",
                "    Show low level info about `key` and associated value.",
                "OOM",
                "    Crash the server simulating an out-of-memory error.",
                "PANIC",
                "    Crash the server simulating a panic.",
                "POPULATE <count> [<prefix>] [<size>]",
                "    Create <count> string keys named key:<num>. If <prefix> is specified then",
                "    it is used instead of the 'key' prefix. These are not propagated to",
                "    replicas. Cluster slots are not respected so keys not belonging to the",
                "    current node can be created in cluster mode.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type. <type> can be: string,",
                "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
                "    true, false.",
                "RELOAD [option ...]",
                "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
                "    * MERGE: conflicting keys will be loaded from RDB.",
                "    * NOFLUSH: the existing database will not be removed before load, but",
                "      conflicting keys will generate an exception and kill the server.",
                "    * NOSAVE: the database will be loaded from an existing RDB file.",
                "    Examples:",
                "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
                "      the database.",
                "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
                "      existing RDB file.",
                "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
                "      file to the database.",
                "RESTART [<milliseconds>]",
                "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
                "SDSLEN <key>",
                "    Show low level SDS string info representing `key` and value.",
                "SEGFAULT",
                "    Crash the server with sigsegv.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background when they are not",
                "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
                "    default.",
                "QUICKLIST-PACKED-THRESHOLD <size>",
                "    Sets the threshold for elements to be inserted as plain vs packed nodes",
                "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
                "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
                "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "STRINGMATCH-TEST",
                "    Run a fuzz tester against the stringmatchlen() function.",
                "LISTPACK <key>",
                "    Show low level info about the listpack encoding of <key>.",
                "QUICKLIST <key> [<0|1>]",
                "    Show low level info about the quicklist encoding of <key>.",
                "    The optional argument (0 by default) sets the level of detail",
                "CLIENT-EVICTION",
                "    Show low level client eviction pools info (maxmemory-clients).",
                "PAUSE-CRON <0|1>",
                "    Stop periodic cron job processing.",
                "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
                "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
                "    In case NEVER is provided the last observed peak will never be reset",
                "    In case RESET is provided the peak reset time will be restored to the default value",
                "REPLYBUFFER RESIZING <0|1>",
                "    Enable or disable the reply buffer resize cron job",
            ],
        ),
        _ => subcommand_syntax_error(args),
    }
}

/// DEBUG REPLYBUFFER PEAK-RESET-TIME <NEVER|RESET|ms> and RESIZING <0|1>: the cron's resizing of
/// clients' reply buffers (clientsCronResizeOutputBuffer).
fn replybuffer(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let (what, value) = (&args[2], &args[3]);
    let settings = &mut ctx.state.reply_buffer;
    if what.eq_ignore_ascii_case(b"peak-reset-time") {
        if value.eq_ignore_ascii_case(b"never") {
            settings.peak_reset_ms = -1;
        } else if value.eq_ignore_ascii_case(b"reset") {
            settings.peak_reset_ms = crate::server::state::REPLY_BUFFER_PEAK_RESET_MS;
        } else {
            match crate::util::numbers::parse_i64(value) {
                Some(ms) => settings.peak_reset_ms = ms,
                None => return Reply::error("ERR value is not an integer or out of range"),
            }
        }
    } else if what.eq_ignore_ascii_case(b"resizing") {
        // atoi
        settings.resizing = crate::util::numbers::c_atoll(value) != 0;
    } else {
        return subcommand_syntax_error(args);
    }
    Reply::OK
}

/// DEBUG SDSLEN <key>: Redis's lengths and allocation sizes of the key's and the value's
/// strings, for what our strings are. They are not sds strings, so the figures mean:
/// - key: its length, no spare room (keys are stored exactly), and as its allocation the block
///   of the whole entry, which holds the key together with its value slot and header;
/// - value: its length; the spare room of its buffer (for a short string kept inline in the
///   entry, the room left inline); its allocation, jemalloc's size for the buffer with its
///   header, or 0 for an inline string, which has none of its own.
///
/// Integers are not strings of bytes here either, so Redis's error answers them as it does.
fn sdslen(ctx: &mut Ctx, key: &[u8]) -> Reply {
    // Looked up in the dict directly, as Redis does: an expired key not yet deleted is shown.
    let Some(e) = ctx.state.dbs[ctx.session.db].get_raw(key) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    let (len, avail, zmalloc) = match e.value() {
        crate::keyspace::Value::Small(s) => {
            (s.as_slice().len(), crate::keyspace::value::SMALL_MAX - s.as_slice().len(), 0)
        }
        crate::keyspace::Value::Str { bytes, .. } => {
            let alloc = if bytes.capacity() == 0 {
                0
            } else {
                // ThinVec's header (length and capacity) comes before the bytes, in one block.
                let size = 2 * std::mem::size_of::<usize>() + bytes.capacity();
                // SAFETY: nallocx only computes the size class of a request; it allocates nothing.
                unsafe { tikv_jemalloc_sys::nallocx(size, 0) }
            };
            (bytes.len(), bytes.capacity() - bytes.len(), alloc)
        }
        _ => return Reply::error("ERR Not an sds encoded string."),
    };
    let entry_alloc = {
        let size = e.allocation_size();
        // SAFETY: as above.
        unsafe { tikv_jemalloc_sys::nallocx(size, 0) }
    };
    Reply::Status(
        format!(
            "key_sds_len:{}, key_sds_avail:0, key_zmalloc: {entry_alloc}, val_sds_len:{len}, val_sds_avail:{avail}, val_zmalloc: {zmalloc}",
            key.len()
        )
        .into(),
    )
}

/// DEBUG PROTOCOL <type>: a sample of each reply type, as Redis sends them in RESP2 and RESP3.
fn protocol(ctx: &Ctx, name: &[u8]) -> Reply {
    let resp3 = ctx.session.resp >= 3;
    match name.to_ascii_lowercase().as_slice() {
        b"string" => Reply::bulk("Hello World"),
        b"integer" => Reply::Int(12345),
        // Redis's sample value, not an approximation of pi.
        #[allow(clippy::approx_constant)]
        b"double" => Reply::Double(3.141),
        b"bignum" => Reply::BigNumber(b"1234567999999999999999999999999999999".to_vec()),
        b"null" => Reply::Nil,
        b"array" => Reply::Array((0..3).map(Reply::Int).collect()),
        b"set" => Reply::Set((0..3).map(Reply::Int).collect()),
        b"map" => Reply::Map((0..3).map(|j| (Reply::Int(j), Reply::Bool(j == 1))).collect()),
        b"attrib" => {
            let real = Reply::bulk("Some real reply following the attribute");
            if !resp3 {
                return real;
            }
            // An attribute is not a reply of its own: it goes out just before the one it annotates.
            let head = b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n".to_vec();
            Reply::Many(vec![Reply::Encoded(head), real])
        }
        b"push" => {
            if !resp3 {
                return Reply::error("ERR RESP2 is not supported by this command");
            }
            let push = Reply::Push(vec![Reply::bulk("server-cpu-usage"), Reply::Int(42)]);
            Reply::Many(vec![push, Reply::bulk("Some real reply following the push reply")])
        }
        b"true" => Reply::Bool(true),
        b"false" => Reply::Bool(false),
        b"verbatim" => Reply::Verbatim("txt", b"This is a verbatim\nstring".to_vec()),
        _ => Reply::error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"),
    }
}

/// stringmatchlen_fuzz_test's cycles.
const STRINGMATCH_CYCLES: usize = 10_000_000;

/// stringmatchlen_fuzz_test: the glob matcher run on random patterns and strings (up to 31
/// bytes of 7-bit characters), for it not to crash or hang; returns how many matched.
fn stringmatch_fuzz(cycles: usize) -> u64 {
    let mut matches = 0;
    let random = |buf: &mut Vec<u8>| {
        buf.clear();
        let len = fastrand::usize(..32);
        buf.extend((0..len).map(|_| fastrand::u8(..128)));
    };
    let (mut pattern, mut string) = (Vec::with_capacity(32), Vec::with_capacity(32));
    for _ in 0..cycles {
        random(&mut string);
        random(&mut pattern);
        matches += u64::from(crate::util::glob::string_match(&pattern, &string, false));
    }
    matches
}

/// DEBUG LISTPACK <key>: the entries of a listpack-encoded value printed on standard output
/// (lpRepr's place), for a look at the encoding; any other encoding is refused.
fn listpack(ctx: &mut Ctx, key: &[u8]) -> Reply {
    let Some(e) = ctx.lookup_key(key, super::keys::lookup::NOTOUCH | super::keys::lookup::NONOTIFY) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    let entries: Vec<Vec<u8>> = match e.value() {
        crate::keyspace::Value::Hash(h) if h.is_listpack() => {
            h.iter().flat_map(|(f, v)| [f.to_vec(), v.to_vec()]).collect()
        }
        crate::keyspace::Value::ZSet(z) if z.is_listpack() => {
            z.iter().flat_map(|(m, s)| [m.to_vec(), crate::util::numbers::d2string(s).into_bytes()]).collect()
        }
        _ => return Reply::error("ERR Not a listpack encoded object."),
    };
    let mut out = format!("{{num entries {}}}\n{{\n", entries.len());
    for (i, entry) in entries.iter().enumerate() {
        out.push_str(&format!("\tindex: {i:2},\n\tvalue: {}\n", String::from_utf8_lossy(entry)));
    }
    out.push_str("}\n{end}\n\n");
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    // Standard output may be closed (a daemon): the reply says where it went, as in Redis.
    let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
    Reply::status("Listpack structure printed on stdout")
}

/// DEBUG QUICKLIST <key> [<0|1>]: the quicklist Redis would hold for a list (its nodes, as DUMP
/// writes them) printed on standard output (quicklistRepr's place).
fn quicklist(ctx: &mut Ctx, key: &[u8]) -> Reply {
    let fill = ctx.state.hot.encoding.list_max_listpack_size;
    let Some(e) = ctx.lookup_key(key, super::keys::lookup::NOTOUCH | super::keys::lookup::NONOTIFY) else {
        return Reply::error(errors::NO_SUCH_KEY);
    };
    let crate::keyspace::Value::List(l) = e.value() else {
        return Reply::error("ERR Not a quicklist encoded object.");
    };
    let (nodes, bytes) = crate::persistence::rdb::quicklist_shape(l, fill);
    let out =
        format!("{{count : {}}}\n{{len : {nodes}}}\n{{fill : {fill}}}\n{{uncompressed size : {bytes}}}\n", l.len());
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.as_bytes()).and_then(|()| stdout.flush());
    Reply::status("Quicklist structure printed on stdout")
}

/// getPositiveLongFromObjectOrReply: a count or size, its error Redis's for either failure.
fn positive_arg(arg: &[u8]) -> Result<u64, Reply> {
    match crate::util::numbers::parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n as u64),
        _ => Err(Reply::error("ERR value is out of range, must be positive")),
    }
}

/// DEBUG POPULATE count [prefix] [size]: string keys `<prefix>:<n>` (prefix `key`) holding
/// `value:<n>`, cut or padded with zero bytes to `size` when given; existing keys are left alone.
/// Neither counted as changes nor propagated, as in Redis.
fn populate(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let count = tri!(positive_arg(&args[2]));
    let size = match args.get(4) {
        Some(a) => tri!(positive_arg(a)) as usize,
        None => 0,
    };
    // The prefix is a C string, and the key is printed into 128 bytes.
    let prefix: &[u8] = args.get(3).map_or(b"key", |p| p.split(|&b| b == 0).next().unwrap_or_default());
    let db = ctx.session.db;
    ctx.state.dbs[db].reserve(count.min(1 << 24) as usize);
    for n in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{n}").as_bytes());
        key.truncate(127);
        if ctx.lookup_write(&key).is_some() {
            continue;
        }
        let mut value = format!("value:{n}").into_bytes();
        if size > 0 {
            value.resize(size, 0);
        }
        ctx.state.dbs[db].set(&key, crate::keyspace::Value::string(value), crate::keyspace::Ttl::Clear);
        ctx.key_modified_in(db, &key);
    }
    Reply::OK
}

/// DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty the keyspace, load the file back.
fn debug_reload(ctx: &mut Ctx, opts: &[Bytes]) -> Reply {
    let (mut merge, mut flush, mut save) = (false, true, true);
    for o in opts {
        match o.to_ascii_lowercase().as_slice() {
            b"merge" => merge = true,
            b"noflush" => flush = false,
            b"nosave" => save = false,
            _ => return Reply::error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."),
        }
    }
    if save && crate::persistence::snapshot::save(ctx.state).is_err() {
        return Reply::error("ERR");
    }
    if flush {
        ctx.state.empty_dataset();
        // emptyData: the function libraries go too, and come back from the file.
        ctx.state.scripts.flush_functions();
    }
    let path = crate::persistence::snapshot::rdb_path(ctx.state);
    if let Err(e) = crate::persistence::load::load_locked(ctx.state, &path, merge) {
        tracing::warn!("Error trying to load the RDB dump: {e}");
        return Reply::error("ERR Error trying to load the RDB dump, check server logs.");
    }
    tracing::info!("DB reloaded by DEBUG RELOAD");
    Reply::OK
}

/// Redis shares the integers 0..9999 unless maxmemory evicts by LRU/LFU.
fn shared_integers_allowed(ctx: &Ctx) -> bool {
    let policy = ctx.state.config.str(crate::ckey!("maxmemory-policy"));
    ctx.state.config.int(crate::ckey!("maxmemory")) == 0 || !(policy.contains("lru") || policy.contains("lfu"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stringmatch_fuzz_runs_and_sometimes_matches() {
        // Empty patterns match empty strings, among others: some of 20000 random pairs match.
        let matched = stringmatch_fuzz(20_000);
        assert!(matched > 0 && matched < 20_000, "{matched}");
    }

    #[test]
    fn strtod_takes_the_longest_number_prefix() {
        assert_eq!(strtod(b"1.5x"), 1.5);
        assert_eq!(strtod(b"abc"), 0.0);
    }
}
