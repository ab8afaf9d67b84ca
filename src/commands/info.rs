//! INFO, with Redis 7.0's sections and field names. Fields whose feature does not exist yet report
//! the value an idle Redis reports.

use std::fmt::Write;

use bytes::Bytes;

use super::Ctx;
use crate::cmd;
use crate::protocol::Reply;
use crate::server::command::*;

pub static TABLE: &[CommandSpec] = &[CommandSpec {
    acl: &["dangerous"],
    ..cmd!(
        "info",
        -1,
        LOADING | STALE | SENTINEL,
        (0, 0, 0),
        "server",
        "1.0.0",
        "Get information and statistics about the server",
        "O(1)",
        info
    )
}];

/// Every section, in the order Redis prints them whatever order they were asked in.
const ORDER: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];
/// The sections only `all` and `everything` include; the rest make up `default`.
const ALL_EXTRA: &[&str] = &["commandstats", "latencystats"];

fn default_sections() -> impl Iterator<Item = String> {
    ORDER.iter().filter(|s| !ALL_EXTRA.contains(s)).map(|s| s.to_string())
}

fn info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if ctx.server.sentinel_mode {
        return sentinel_info(ctx, args);
    }
    let mut sections: Vec<String> = Vec::new();
    let requested: Vec<String> = args[1..].iter().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).collect();
    if requested.is_empty() {
        sections.extend(default_sections());
    }
    for r in &requested {
        match r.as_str() {
            "default" => sections.extend(default_sections()),
            "all" | "everything" => {
                sections.extend(ORDER.iter().map(|s| s.to_string()));
            }
            s => sections.push(s.to_string()),
        }
    }
    let mut out = String::new();
    for &name in ORDER {
        if !sections.iter().any(|s| s == name) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        render_section(ctx, name, &mut out);
    }
    Reply::Verbatim("txt", out.into_bytes())
}

/// A sentinel's INFO: five sections, a plain bulk string even under RESP3.
fn sentinel_info(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    const SENTINEL_ORDER: &[&str] = &["server", "clients", "cpu", "stats", "sentinel"];
    let requested: Vec<String> = args[1..].iter().map(|a| String::from_utf8_lossy(a).to_ascii_lowercase()).collect();
    let everything =
        requested.is_empty() || requested.iter().any(|r| matches!(r.as_str(), "default" | "all" | "everything"));
    let mut out = String::new();
    for &name in SENTINEL_ORDER {
        if !everything && !requested.iter().any(|r| r == name) {
            continue;
        }
        if !out.is_empty() {
            out.push_str("\r\n");
        }
        if name == "sentinel" {
            out.push_str(&crate::server::sentinel_events::info_section(ctx.state));
        } else {
            render_section(ctx, name, &mut out);
        }
    }
    Reply::Bulk(out.into_bytes())
}

fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if b < 1024.0 {
        format!("{bytes}B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.2}K", b / 1024.0)
    } else if b < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2}M", b / (1024.0 * 1024.0))
    } else if b < 1024.0f64.powi(4) {
        format!("{:.2}G", b / 1024.0f64.powi(3))
    } else {
        format!("{:.2}T", b / 1024.0f64.powi(4))
    }
}

/// `uname -s -r -m`, as Redis reports `os`.
fn os_name() -> String {
    crate::util::sys::os_name().unwrap_or_else(|| format!("{} {}", std::env::consts::OS, std::env::consts::ARCH))
}

fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}

/// What clients use (Redis's mem_clients_normal): each one's buffers as CLIENT LIST's tot-mem
/// counts them.
pub(crate) fn clients_memory(st: &crate::server::state::State) -> u64 {
    st.clients.values().map(|c| c.memory(c.argv_pending_mem) as u64).sum()
}

/// used_memory_overhead and MEMORY STATS' overhead.total: start-up memory, clients' buffers and
/// the keyspace's own structure.
pub(crate) fn memory_overhead(st: &crate::server::state::State) -> u64 {
    crate::alloc::startup() as u64 + clients_memory(st) + st.dbs.iter().map(|d| d.overhead() as u64).sum::<u64>()
}

/// Rate per second over the sampled window of a counter, as Redis's instantaneous metrics.
fn rate(samples: &std::collections::VecDeque<(u64, u64)>) -> f64 {
    match (samples.front(), samples.back()) {
        (Some(a), Some(b)) if b.0 > a.0 => (b.1 - a.1) as f64 * 1000.0 / (b.0 - a.0) as f64,
        _ => 0.0,
    }
}

fn render_section(ctx: &mut Ctx, name: &str, out: &mut String) {
    let st = &*ctx.state;
    let server = ctx.server;
    macro_rules! field {
        ($($arg:tt)*) => {{ let _ = write!(out, $($arg)*); out.push_str("\r\n"); }};
    }
    match name {
        "server" => {
            let uptime = server.started.elapsed().as_secs();
            out.push_str("# Server\r\n");
            field!("redis_version:{}", crate::REDIS_VERSION);
            field!("redis_git_sha1:00000000");
            field!("redis_git_dirty:0");
            field!("redis_build_id:0");
            field!("redis_mode:{}", if server.sentinel_mode { "sentinel" } else { "standalone" });
            field!("os:{}", os_name());
            field!("arch_bits:64");
            field!("monotonic_clock:POSIX clock_gettime");
            field!("multiplexing_api:epoll");
            field!("atomicvar_api:c11-builtin");
            field!("gcc_version:0.0.0");
            field!("process_id:{}", server.pid);
            field!("process_supervised:{}", if crate::systemd::supervised() { "systemd" } else { "no" });
            field!("run_id:{}", server.run_id);
            // Redis reports the TLS port when there is no plain one.
            field!("tcp_port:{}", {
                let port = *server.tcp_port.lock();
                if port != 0 {
                    port
                } else {
                    *server.tls_port.lock()
                }
            });
            field!("server_time_usec:{}", crate::util::time::unix_us());
            field!("uptime_in_seconds:{uptime}");
            field!("uptime_in_days:{}", uptime / 86400);
            field!("hz:{}", st.hot.hz);
            field!("configured_hz:{}", st.hot.hz);
            field!("lru_clock:{}", crate::keyspace::access::lru_clock());
            field!("executable:{}", server.executable);
            field!("config_file:{}", server.config_file.as_ref().map(|p| p.display().to_string()).unwrap_or_default());
            field!("io_threads_active:0");
        }
        "clients" => {
            out.push_str("# Clients\r\n");
            field!("connected_clients:{}", st.clients.len());
            field!("cluster_connections:0");
            field!("maxclients:{}", st.hot.maxclients);
            field!(
                "client_recent_max_input_buffer:{}",
                st.clients.values().map(|c| crate::alloc::size_class(c.qbuf_alloc)).max().unwrap_or(0)
            );
            field!(
                "client_recent_max_output_buffer:{}",
                st.clients.values().map(|c| c.output_pending()).max().unwrap_or(0)
            );
            field!("blocked_clients:{}", st.blocking.count() + st.postponed.count());
            field!("tracking_clients:{}", st.tracking.clients);
            field!("clients_in_timeout_table:{}", st.blocking.count_with_deadline());
        }
        "memory" => {
            let used = crate::alloc::allocated() as u64;
            let rss = crate::util::sys::rss_bytes();
            let peak = crate::alloc::peak() as u64;
            let startup = crate::alloc::startup() as u64;
            let clients = clients_memory(st);
            let overhead = memory_overhead(st);
            let dataset = used.saturating_sub(overhead);
            // Like Redis: the dataset's share of what was allocated after start-up.
            let net = if used > startup { used - startup } else { 1 };
            let maxmemory = st.hot.maxmemory;
            let sys = total_system_memory();
            let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
            let diff = |a: u64, b: u64| a as i64 - b as i64;
            out.push_str("# Memory\r\n");
            field!("used_memory:{used}");
            field!("used_memory_human:{}", human(used));
            field!("used_memory_rss:{rss}");
            field!("used_memory_rss_human:{}", human(rss));
            field!("used_memory_peak:{peak}");
            field!("used_memory_peak_human:{}", human(peak));
            field!("used_memory_peak_perc:{:.2}%", ratio(used, peak) * 100.0);
            field!("used_memory_overhead:{overhead}");
            field!("used_memory_startup:{startup}");
            field!("used_memory_dataset:{dataset}");
            field!("used_memory_dataset_perc:{:.2}%", ratio(dataset, net) * 100.0);
            // jemalloc's own view, as Redis reports it; were jemalloc to fail to report, its
            // figures are taken from our count and the RSS, as Redis does with libc malloc.
            let je = crate::alloc::allocator_info();
            let (je_allocated, je_active, je_resident) =
                je.map_or((used, rss, rss), |j| (j.allocated as u64, j.active as u64, j.resident as u64));
            field!("allocator_allocated:{je_allocated}");
            field!("allocator_active:{je_active}");
            field!("allocator_resident:{je_resident}");
            field!("total_system_memory:{sys}");
            field!("total_system_memory_human:{}", human(sys));
            let scripts = &st.scripts;
            let (vm_eval, vm_functions) = (scripts.eval_vm_memory(), scripts.function_vm_memory());
            let (scripts_eval, functions) = (scripts.cache_bytes, scripts.functions_overhead());
            field!("used_memory_lua:{vm_eval}");
            field!("used_memory_vm_eval:{vm_eval}");
            field!("used_memory_lua_human:{}", human(vm_eval));
            field!("used_memory_scripts_eval:{scripts_eval}");
            field!("number_of_cached_scripts:{}", scripts.cached_count());
            field!("number_of_functions:{}", scripts.libraries.function_count());
            field!("number_of_libraries:{}", scripts.libraries.libraries.len());
            field!("used_memory_vm_functions:{vm_functions}");
            field!("used_memory_vm_total:{}", vm_eval + vm_functions);
            field!("used_memory_vm_total_human:{}", human(vm_eval + vm_functions));
            field!("used_memory_functions:{functions}");
            field!("used_memory_scripts:{}", scripts_eval + functions);
            field!("used_memory_scripts_human:{}", human(scripts_eval + functions));
            field!("maxmemory:{maxmemory}");
            field!("maxmemory_human:{}", human(maxmemory));
            field!("maxmemory_policy:{}", st.config.str(crate::ckey!("maxmemory-policy")));
            field!("allocator_frag_ratio:{:.2}", ratio(je_active, je_allocated));
            field!("allocator_frag_bytes:{}", diff(je_active, je_allocated));
            field!("allocator_rss_ratio:{:.2}", ratio(je_resident, je_active));
            field!("allocator_rss_bytes:{}", diff(je_resident, je_active));
            field!("rss_overhead_ratio:{:.2}", ratio(rss, je_resident));
            field!("rss_overhead_bytes:{}", diff(rss, je_resident));
            field!("mem_fragmentation_ratio:{:.2}", ratio(rss, used));
            field!("mem_fragmentation_bytes:{}", diff(rss, used));
            // What Redis leaves out of eviction's count is replica and AOF buffers; there are none.
            field!("mem_not_counted_for_evict:0");
            field!("mem_replication_backlog:0");
            field!("mem_total_replication_buffers:0");
            field!("mem_clients_slaves:0");
            field!("mem_clients_normal:{clients}");
            field!("mem_cluster_links:0");
            field!("mem_aof_buffer:0");
            field!("mem_allocator:{}", crate::alloc::name());
            field!("active_defrag_running:0");
            field!("lazyfree_pending_objects:{}", crate::server::lazyfree::pending_objects());
            field!("lazyfreed_objects:{}", crate::server::lazyfree::freed_objects());
        }
        "persistence" => {
            out.push_str("# Persistence\r\n");
            field!("loading:{}", u8::from(st.loading.is_some()));
            for f in [
                "async_loading:0",
                "current_cow_peak:0",
                "current_cow_size:0",
                "current_cow_size_age:0",
                "current_fork_perc:0.00",
                "current_save_keys_processed:0",
                "current_save_keys_total:0",
            ] {
                field!("{f}");
            }
            field!("rdb_changes_since_last_save:{}", st.dirty);
            field!("rdb_bgsave_in_progress:{}", u8::from(st.snapshots.child.is_some()));
            field!("rdb_last_save_time:{}", st.lastsave);
            field!("rdb_last_bgsave_status:{}", if st.snapshots.last_bgsave_failed { "err" } else { "ok" });
            field!("rdb_last_bgsave_time_sec:{}", st.snapshots.last_bgsave_secs);
            field!("rdb_current_bgsave_time_sec:{}", crate::persistence::snapshot::current_secs(st));
            field!("rdb_saves:{}", st.snapshots.saves);
            field!("rdb_last_cow_size:0");
            field!("rdb_last_load_keys_expired:{}", st.snapshots.last_load.1);
            field!("rdb_last_load_keys_loaded:{}", st.snapshots.last_load.0);
            let aof = st.aof.as_ref();
            let rewrite = aof.and_then(|a| a.rewrite.as_ref());
            field!("aof_enabled:{}", u8::from(aof.is_some()));
            field!("aof_rewrite_in_progress:{}", u8::from(rewrite.is_some()));
            field!("aof_rewrite_scheduled:{}", u8::from(aof.is_some_and(|a| a.rewrite_scheduled)));
            field!("aof_last_rewrite_time_sec:-1");
            field!("aof_current_rewrite_time_sec:{}", rewrite.map_or(-1, |c| c.started.elapsed().as_secs() as i64));
            field!(
                "aof_last_bgrewrite_status:{}",
                if aof.is_some_and(|a| a.last_rewrite_failed) { "err" } else { "ok" }
            );
            field!("aof_rewrites:{}", aof.map_or(0, |a| a.rewrites));
            field!("aof_rewrites_consecutive_failures:0");
            field!("aof_last_write_status:{}", if aof.is_some_and(|a| a.write_error.is_some()) { "err" } else { "ok" });
            for f in ["aof_last_cow_size:0", "module_fork_in_progress:0", "module_fork_last_cow_size:0"] {
                field!("{f}");
            }
            if let Some(aof) = &st.aof {
                field!("aof_current_size:{}", aof.current_size);
                field!("aof_base_size:{}", aof.base_size);
                field!("aof_pending_rewrite:{}", u8::from(aof.rewrite_scheduled));
                field!("aof_buffer_length:0");
                field!("aof_pending_bio_fsync:0");
                field!("aof_delayed_fsync:0");
            }
            if let Some(l) = &st.loading {
                let now = crate::util::time::unix_secs();
                let read = l.read_bytes.load(std::sync::atomic::Ordering::Relaxed);
                let elapsed = (now - l.started).max(0) as f64;
                let eta = if read == 0 {
                    1
                } else {
                    (elapsed * (l.total_bytes.saturating_sub(read)) as f64 / read as f64) as i64
                };
                field!("loading_start_time:{}", l.started);
                field!("loading_total_bytes:{}", l.total_bytes);
                field!("loading_rdb_used_mem:0");
                field!("loading_loaded_bytes:{read}");
                field!("loading_loaded_perc:{:.2}", l.percent());
                field!("loading_eta_seconds:{eta}");
            }
        }
        "stats" => {
            let s = &st.stats;
            out.push_str("# Stats\r\n");
            field!("total_connections_received:{}", s.total_connections);
            field!("total_commands_processed:{}", s.total_commands);
            field!("instantaneous_ops_per_sec:{}", rate(&s.ops_samples) as u64);
            field!("total_net_input_bytes:{}", s.net_input_bytes);
            field!("total_net_output_bytes:{}", s.net_output_bytes);
            field!("total_net_repl_input_bytes:{}", st.repl.stats.net_repl_input_bytes);
            field!("total_net_repl_output_bytes:{}", st.repl.stats.net_repl_output_bytes);
            field!("instantaneous_input_kbps:{:.2}", rate(&s.net_in_samples) / 1024.0);
            field!("instantaneous_output_kbps:{:.2}", rate(&s.net_out_samples) / 1024.0);
            field!("instantaneous_input_repl_kbps:{:.2}", rate(&st.repl.stats.in_samples) / 1024.0);
            field!("instantaneous_output_repl_kbps:{:.2}", rate(&st.repl.stats.out_samples) / 1024.0);
            field!("rejected_connections:{}", s.rejected_connections);
            field!("sync_full:{}", st.repl.stats.sync_full);
            field!("sync_partial_ok:{}", st.repl.stats.sync_partial_ok);
            field!("sync_partial_err:{}", st.repl.stats.sync_partial_err);
            field!("expired_keys:{}", s.expired_keys);
            field!("expired_stale_perc:{:.2}", s.expired_stale_perc);
            field!("expired_time_cap_reached_count:0");
            field!("expire_cycle_cpu_milliseconds:{}", s.expire_cycle_cpu_ms);
            field!("evicted_keys:{}", s.evicted_keys);
            field!("evicted_clients:{}", st.stats.evicted_clients);
            let current_us = s.eviction_exceeded_since.map_or(0, |t| t.elapsed().as_micros() as u64);
            field!("total_eviction_exceeded_time:{}", (s.eviction_exceeded_total_us + current_us) / 1000);
            field!("current_eviction_exceeded_time:{}", current_us / 1000);
            field!("keyspace_hits:{}", s.keyspace_hits);
            field!("keyspace_misses:{}", s.keyspace_misses);
            field!("pubsub_channels:{}", st.pubsub.channels.len());
            field!("pubsub_patterns:{}", st.pubsub.patterns.len());
            field!("pubsubshard_channels:{}", st.pubsub.shard_channels.len());
            field!("latest_fork_usec:{}", st.snapshots.latest_fork_usec);
            field!("total_forks:{}", st.snapshots.total_forks);
            field!("migrate_cached_sockets:{}", st.migrate_sockets.len());
            for f in [
                "slave_expires_tracked_keys:0",
                "active_defrag_hits:0",
                "active_defrag_misses:0",
                "active_defrag_key_hits:0",
                "active_defrag_key_misses:0",
                "total_active_defrag_time:0",
                "current_active_defrag_time:0",
            ] {
                field!("{f}");
            }
            field!("tracking_total_keys:{}", st.tracking.total_keys());
            field!("tracking_total_items:{}", st.tracking.total_items());
            field!("tracking_total_prefixes:{}", st.tracking.total_prefixes());
            field!("unexpected_error_replies:{}", s.unexpected_error_replies);
            field!("total_error_replies:{}", s.total_error_replies);
            field!("dump_payload_sanitizations:0");
            field!("total_reads_processed:{}", s.total_commands);
            field!("total_writes_processed:{}", s.total_commands);
            field!("io_threaded_reads_processed:0");
            field!("io_threaded_writes_processed:0");
            field!("reply_buffer_shrinks:{}", s.reply_buffer_shrinks);
            field!("reply_buffer_expands:{}", s.reply_buffer_expands);
        }
        "replication" => crate::replication::info::section(st, out),
        "cpu" => {
            let (sys, user) = crate::util::sys::cpu_times(false).unwrap_or((0.0, 0.0));
            let (csys, cuser) = crate::util::sys::cpu_times(true).unwrap_or((0.0, 0.0));
            out.push_str("# CPU\r\n");
            field!("used_cpu_sys:{sys:.6}");
            field!("used_cpu_user:{user:.6}");
            field!("used_cpu_sys_children:{csys:.6}");
            field!("used_cpu_user_children:{cuser:.6}");
            field!("used_cpu_sys_main_thread:{sys:.6}");
            field!("used_cpu_user_main_thread:{user:.6}");
        }
        "modules" => out.push_str("# Modules\r\n"),
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            let mut stats: Vec<&crate::server::state::CommandStat> = st.stats.commands.values().collect();
            stats.sort_by(|a, b| a.name.cmp(&b.name));
            for c in stats {
                let n = &c.name;
                if c.calls == 0 && c.rejected == 0 && c.failed == 0 {
                    continue;
                }
                let per = if c.calls > 0 { c.usec as f64 / c.calls as f64 } else { 0.0 };
                field!(
                    "cmdstat_{n}:calls={},usec={},usec_per_call={per:.2},rejected_calls={},failed_calls={}",
                    c.calls,
                    c.usec,
                    c.rejected,
                    c.failed
                );
            }
        }
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            let mut names: Vec<&String> = st.stats.errors.keys().collect();
            names.sort();
            for n in names {
                field!("errorstat_{n}:count={}", st.stats.errors[n]);
            }
        }
        "latencystats" => {
            out.push_str("# Latencystats\r\n");
            let percentiles = match st.config.val(crate::ckey!("latency-tracking-info-percentiles")) {
                crate::config::Val::Floats(v) => v.clone(),
                _ => vec![],
            };
            if st.config.bool(crate::ckey!("latency-tracking")) {
                let mut stats: Vec<&crate::server::state::CommandStat> = st.stats.commands.values().collect();
                stats.sort_by(|a, b| a.name.cmp(&b.name));
                for c in stats {
                    let n = &c.name;
                    if c.latency.total() == 0 {
                        continue;
                    }
                    let parts: Vec<String> = percentiles
                        .iter()
                        .map(|p| {
                            let label = format!("{p:.6}");
                            let label = label.trim_end_matches('0').trim_end_matches('.');
                            format!("p{label}={:.3}", c.latency.value_at_percentile(*p) as f64 / 1000.0)
                        })
                        .collect();
                    field!("latency_percentiles_usec_{n}:{}", parts.join(","));
                }
            }
        }
        "cluster" => {
            out.push_str("# Cluster\r\n");
            field!("cluster_enabled:0");
        }
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for (i, db) in st.dbs.iter().enumerate() {
                if db.is_empty() {
                    continue;
                }
                field!("db{i}:keys={},expires={},avg_ttl={}", db.len(), db.volatile_len(), db.avg_ttl);
            }
        }
        _ => {}
    }
}
