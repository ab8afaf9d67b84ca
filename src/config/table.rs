//! The one table of every redis.conf directive: name, aliases, type, default, flags. It drives
//! parsing of redis.conf and the command line, CONFIG GET/SET/REWRITE, and INFO.

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Bool,
    /// A plain integer.
    Int {
        min: i64,
        max: i64,
    },
    /// An integer that also accepts memory units (1gb, 100mb). A negative `min` also allows a
    /// percentage (Redis's PERCENT_CONFIG), stored negated as Redis stores it: `-min` is the
    /// largest percentage.
    Mem {
        min: i64,
        max: i64,
    },
    Enum(&'static [&'static str]),
    Str,
    /// Directives with their own syntax.
    Special(Special),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Special {
    Save,
    Bind,
    ClientOutputBufferLimit,
    OomScoreAdjValues,
    NotifyKeyspaceEvents,
    Replicaof,
    LatencyPercentiles,
    /// Octal file mode.
    Octal,
    /// `dir`: changes the working directory.
    Dir,
}

pub const IMMUTABLE: u16 = 1;
/// CONFIG SET refused while enable-protected-configs is no.
pub const PROTECTED: u16 = 2;
/// Accepted and kept, but the feature it configures is not built yet: logged once at WARNING.
pub const LATER: u16 = 4;
/// Accepted for compatibility; has no meaning for this implementation (threads, jemalloc, THP...).
pub const NO_EFFECT: u16 = 8;
/// Its value is a secret: never logged.
pub const SENSITIVE: u16 = 16;
/// Left out of CONFIG GET's pattern matches (Redis's HIDDEN_CONFIG: test and debug knobs); only
/// its exact name finds it.
pub const HIDDEN: u16 = 32;
/// Names a file whose contents may change under the same name (Redis's VOLATILE_CONFIG: the TLS
/// certificates and keys): CONFIG SET applies it even when the value is the one already set, so
/// a renewed certificate at the same path is read again.
pub const VOLATILE: u16 = 64;

#[derive(Debug, Clone, Copy)]
pub struct Spec {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub kind: Kind,
    /// The default in redis.conf syntax, parsed by the same code as a file.
    pub default: &'static str,
    pub flags: u16,
}

impl Spec {
    pub fn has(&self, flag: u16) -> bool {
        self.flags & flag != 0
    }
    pub fn matches(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name) || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }
}

const fn spec(name: &'static str, kind: Kind, default: &'static str, flags: u16) -> Spec {
    Spec { name, aliases: &[], kind, default, flags }
}
const fn alias(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: Kind,
    default: &'static str,
    flags: u16,
) -> Spec {
    Spec { name, aliases, kind, default, flags }
}
const fn b(name: &'static str, default: &'static str, flags: u16) -> Spec {
    spec(name, Kind::Bool, default, flags)
}
const fn int(name: &'static str, min: i64, max: i64, default: &'static str, flags: u16) -> Spec {
    spec(name, Kind::Int { min, max }, default, flags)
}
const fn mem(name: &'static str, min: i64, max: i64, default: &'static str, flags: u16) -> Spec {
    spec(name, Kind::Mem { min, max }, default, flags)
}
const fn s(name: &'static str, default: &'static str, flags: u16) -> Spec {
    spec(name, Kind::Str, default, flags)
}
const fn e(name: &'static str, values: &'static [&'static str], default: &'static str, flags: u16) -> Spec {
    spec(name, Kind::Enum(values), default, flags)
}

const INT_MAX: i64 = i32::MAX as i64;
const LONG_MAX: i64 = i64::MAX;
const UINT_MAX: i64 = u32::MAX as i64;
const YES_NO_LOCAL: &[&str] = &["no", "yes", "local"];

pub const LOGLEVELS: &[&str] = &["debug", "verbose", "notice", "warning"];
pub const MAXMEMORY_POLICIES: &[&str] = &[
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "noeviction",
];

pub static TABLE: &[Spec] = SPECS;

/// A directive's place in `TABLE`, found at compile time (`crate::ckey!("maxmemory")`): reading a
/// value on the request path is an index, and a misspelled name does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key(pub usize);

/// Byte equality of two names, usable at compile time.
pub const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The key of a directive by its name or an alias, for `ckey!` (evaluated at compile time).
pub const fn key(name: &str) -> Key {
    let mut i = 0;
    while i < SPECS.len() {
        if same(SPECS[i].name, name) {
            return Key(i);
        }
        let mut j = 0;
        while j < SPECS[i].aliases.len() {
            if same(SPECS[i].aliases[j], name) {
                return Key(i);
            }
            j += 1;
        }
        i += 1;
    }
    panic!("no such config directive")
}

const SPECS: &[Spec] = &[
    // Network and clients.
    spec("bind", Kind::Special(Special::Bind), "* -::*", 0),
    b("protected-mode", "yes", 0),
    int("port", 0, 65535, "6379", 0),
    int("tcp-backlog", 0, INT_MAX, "511", IMMUTABLE),
    s("unixsocket", "", IMMUTABLE),
    spec("unixsocketperm", Kind::Special(Special::Octal), "0", IMMUTABLE),
    int("timeout", 0, INT_MAX, "0", 0),
    int("tcp-keepalive", 0, INT_MAX, "300", 0),
    int("maxclients", 1, UINT_MAX, "10000", 0),
    s("bind-source-addr", "", LATER),
    int("socket-mark-id", 0, UINT_MAX, "0", NO_EFFECT),
    mem("proto-max-bulk-len", 1024 * 1024, LONG_MAX, "512mb", 0),
    mem("client-query-buffer-limit", 1024 * 1024, LONG_MAX, "1gb", 0),
    spec(
        "client-output-buffer-limit",
        Kind::Special(Special::ClientOutputBufferLimit),
        "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60",
        0,
    ),
    mem("maxmemory-clients", -100, LONG_MAX, "0", 0),
    b("enable-protected-configs", "no", IMMUTABLE),
    e("enable-debug-command", YES_NO_LOCAL, "no", IMMUTABLE),
    e("enable-module-command", YES_NO_LOCAL, "no", IMMUTABLE | LATER),
    // General.
    b("daemonize", "no", IMMUTABLE),
    e("supervised", &["upstart", "systemd", "auto", "no"], "no", IMMUTABLE),
    s("pidfile", "", IMMUTABLE),
    e("loglevel", LOGLEVELS, "notice", 0),
    s("logfile", "", IMMUTABLE),
    b("syslog-enabled", "no", IMMUTABLE | LATER),
    s("syslog-ident", "redis", IMMUTABLE | LATER),
    e(
        "syslog-facility",
        &["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"],
        "local0",
        IMMUTABLE | LATER,
    ),
    b("crash-log-enabled", "yes", 0),
    b("crash-memcheck-enabled", "yes", NO_EFFECT),
    int("databases", 1, INT_MAX, "16", IMMUTABLE),
    b("always-show-logo", "no", IMMUTABLE),
    b("set-proc-title", "yes", IMMUTABLE | NO_EFFECT),
    s("proc-title-template", "{title} {listen-addr} {server-mode}", NO_EFFECT),
    e("shutdown-on-sigint", &["default", "save", "nosave", "now", "force"], "default", 0),
    e("shutdown-on-sigterm", &["default", "save", "nosave", "now", "force"], "default", 0),
    int("shutdown-timeout", 0, INT_MAX, "10", 0),
    s("ignore-warnings", "", NO_EFFECT),
    int("hz", 0, INT_MAX, "10", 0),
    b("dynamic-hz", "yes", 0),
    b("use-exit-on-panic", "no", HIDDEN),
    b("disable-thp", "yes", IMMUTABLE),
    b("jemalloc-bg-thread", "yes", NO_EFFECT),
    e("oom-score-adj", &["no", "yes", "relative", "absolute"], "no", LATER),
    spec("oom-score-adj-values", Kind::Special(Special::OomScoreAdjValues), "0 200 800", LATER),
    int("io-threads", 1, 128, "1", IMMUTABLE),
    b("io-threads-do-reads", "no", IMMUTABLE | NO_EFFECT),
    s("server_cpulist", "", IMMUTABLE | NO_EFFECT),
    s("bio_cpulist", "", IMMUTABLE | NO_EFFECT),
    s("aof_rewrite_cpulist", "", IMMUTABLE | NO_EFFECT),
    s("bgsave_cpulist", "", IMMUTABLE | NO_EFFECT),
    // Security.
    spec("requirepass", Kind::Str, "", SENSITIVE),
    s("aclfile", "", IMMUTABLE | LATER),
    int("acllog-max-len", 0, LONG_MAX, "128", 0),
    e("acl-pubsub-default", &["allchannels", "resetchannels"], "resetchannels", 0),
    // Persistence.
    spec("save", Kind::Special(Special::Save), "3600 1 300 100 60 10000", 0),
    spec("dir", Kind::Special(Special::Dir), "", PROTECTED),
    s("dbfilename", "dump.rdb", PROTECTED),
    b("stop-writes-on-bgsave-error", "yes", 0),
    b("rdbcompression", "yes", 0),
    b("rdbchecksum", "yes", 0),
    b("rdb-del-sync-files", "no", 0),
    b("rdb-save-incremental-fsync", "yes", LATER),
    int("rdb-key-save-delay", i32::MIN as i64, INT_MAX, "0", HIDDEN),
    int("key-load-delay", i32::MIN as i64, INT_MAX, "0", HIDDEN),
    e("sanitize-dump-payload", &["no", "yes", "clients"], "no", LATER),
    b("appendonly", "no", 0),
    s("appendfilename", "appendonly.aof", IMMUTABLE),
    s("appenddirname", "appendonlydir", IMMUTABLE),
    e("appendfsync", &["everysec", "always", "no"], "everysec", 0),
    b("no-appendfsync-on-rewrite", "no", LATER),
    int("auto-aof-rewrite-percentage", 0, INT_MAX, "100", 0),
    mem("auto-aof-rewrite-min-size", 0, LONG_MAX, "64mb", 0),
    b("aof-load-truncated", "yes", 0),
    b("aof-use-rdb-preamble", "yes", 0),
    b("aof-timestamp-enabled", "no", 0),
    b("aof-rewrite-incremental-fsync", "yes", LATER),
    b("aof-disable-auto-gc", "no", LATER),
    // Replication.
    alias("replicaof", &["slaveof"], Kind::Special(Special::Replicaof), "", 0),
    s("masterauth", "", SENSITIVE),
    s("masteruser", "", SENSITIVE),
    alias("replica-serve-stale-data", &["slave-serve-stale-data"], Kind::Bool, "yes", 0),
    alias("replica-read-only", &["slave-read-only"], Kind::Bool, "yes", 0),
    b("repl-diskless-sync", "yes", 0),
    int("repl-diskless-sync-delay", 0, INT_MAX, "5", 0),
    int("repl-diskless-sync-max-replicas", 0, INT_MAX, "0", 0),
    e("repl-diskless-load", &["disabled", "on-empty-db", "swapdb"], "disabled", 0),
    alias("repl-ping-replica-period", &["repl-ping-slave-period"], Kind::Int { min: 1, max: INT_MAX }, "10", 0),
    int("repl-timeout", 1, INT_MAX, "60", 0),
    b("repl-disable-tcp-nodelay", "no", 0),
    mem("repl-backlog-size", 1, LONG_MAX, "1mb", 0),
    int("repl-backlog-ttl", 0, INT_MAX, "3600", 0),
    alias("replica-priority", &["slave-priority"], Kind::Int { min: 0, max: INT_MAX }, "100", 0),
    b("replica-announced", "yes", 0),
    alias("min-replicas-to-write", &["min-slaves-to-write"], Kind::Int { min: 0, max: INT_MAX }, "0", 0),
    alias("min-replicas-max-lag", &["min-slaves-max-lag"], Kind::Int { min: 0, max: INT_MAX }, "10", 0),
    alias("replica-announce-ip", &["slave-announce-ip"], Kind::Str, "", 0),
    alias("replica-announce-port", &["slave-announce-port"], Kind::Int { min: 0, max: 65535 }, "0", 0),
    alias("replica-lazy-flush", &["slave-lazy-flush"], Kind::Bool, "no", 0),
    alias("replica-ignore-maxmemory", &["slave-ignore-maxmemory"], Kind::Bool, "yes", 0),
    b("replica-ignore-disk-write-errors", "no", LATER),
    e("propagation-error-behavior", &["ignore", "panic", "panic-on-replicas"], "ignore", LATER),
    // Memory and eviction.
    mem("maxmemory", 0, LONG_MAX, "0", 0),
    e("maxmemory-policy", MAXMEMORY_POLICIES, "noeviction", 0),
    int("maxmemory-samples", 1, 64, "5", 0),
    int("maxmemory-eviction-tenacity", 0, 100, "10", 0),
    int("lfu-log-factor", 0, INT_MAX, "10", 0),
    int("lfu-decay-time", 0, INT_MAX, "1", 0),
    b("lazyfree-lazy-eviction", "no", 0),
    b("lazyfree-lazy-expire", "no", 0),
    b("lazyfree-lazy-server-del", "no", 0),
    b("lazyfree-lazy-user-del", "no", 0),
    b("lazyfree-lazy-user-flush", "no", 0),
    b("activerehashing", "yes", NO_EFFECT),
    int("active-expire-effort", 1, 10, "1", 0),
    b("activedefrag", "no", NO_EFFECT),
    mem("active-defrag-ignore-bytes", 1, LONG_MAX, "100mb", NO_EFFECT),
    int("active-defrag-threshold-lower", 0, 1000, "10", NO_EFFECT),
    int("active-defrag-threshold-upper", 0, 1000, "100", NO_EFFECT),
    int("active-defrag-cycle-min", 1, 99, "1", NO_EFFECT),
    int("active-defrag-cycle-max", 1, 99, "25", NO_EFFECT),
    int("active-defrag-max-scan-fields", 1, LONG_MAX, "1000", NO_EFFECT),
    // Data structure encodings.
    alias("hash-max-listpack-entries", &["hash-max-ziplist-entries"], Kind::Int { min: 0, max: LONG_MAX }, "512", 0),
    alias("hash-max-listpack-value", &["hash-max-ziplist-value"], Kind::Mem { min: 0, max: LONG_MAX }, "64", 0),
    alias(
        "list-max-listpack-size",
        &["list-max-ziplist-size"],
        Kind::Int { min: i32::MIN as i64, max: INT_MAX },
        "-2",
        0,
    ),
    int("list-compress-depth", 0, INT_MAX, "0", LATER),
    int("set-max-intset-entries", 0, LONG_MAX, "512", 0),
    alias("zset-max-listpack-entries", &["zset-max-ziplist-entries"], Kind::Int { min: 0, max: LONG_MAX }, "128", 0),
    alias("zset-max-listpack-value", &["zset-max-ziplist-value"], Kind::Mem { min: 0, max: LONG_MAX }, "64", 0),
    mem("hll-sparse-max-bytes", 0, LONG_MAX, "3000", 0),
    mem("stream-node-max-bytes", 0, LONG_MAX, "4096", 0),
    int("stream-node-max-entries", 0, LONG_MAX, "100", 0),
    // Monitoring.
    int("slowlog-log-slower-than", -1, LONG_MAX, "10000", 0),
    int("slowlog-max-len", 0, LONG_MAX, "128", 0),
    int("latency-monitor-threshold", 0, LONG_MAX, "0", 0),
    b("latency-tracking", "yes", 0),
    spec("latency-tracking-info-percentiles", Kind::Special(Special::LatencyPercentiles), "50 99 99.9", 0),
    spec("notify-keyspace-events", Kind::Special(Special::NotifyKeyspaceEvents), "", 0),
    int("tracking-table-max-keys", 0, LONG_MAX, "1000000", 0),
    alias("busy-reply-threshold", &["lua-time-limit"], Kind::Int { min: 0, max: LONG_MAX }, "5000", 0),
    int("watchdog-period", 0, INT_MAX, "0", NO_EFFECT | HIDDEN),
    // Cluster (not supported: cluster-enabled yes is refused at start-up).
    b("cluster-enabled", "no", IMMUTABLE),
    s("cluster-config-file", "nodes.conf", IMMUTABLE | LATER),
    int("cluster-node-timeout", 0, LONG_MAX, "15000", LATER),
    int("cluster-port", 0, 65535, "0", IMMUTABLE | LATER),
    alias(
        "cluster-replica-validity-factor",
        &["cluster-slave-validity-factor"],
        Kind::Int { min: 0, max: INT_MAX },
        "10",
        LATER,
    ),
    int("cluster-migration-barrier", 0, INT_MAX, "1", LATER),
    b("cluster-require-full-coverage", "yes", LATER),
    alias("cluster-replica-no-failover", &["cluster-slave-no-failover"], Kind::Bool, "no", LATER),
    b("cluster-allow-reads-when-down", "no", LATER),
    b("cluster-allow-pubsubshard-when-down", "yes", LATER),
    b("cluster-allow-replica-migration", "yes", LATER),
    s("cluster-announce-ip", "", LATER),
    s("cluster-announce-hostname", "", LATER),
    int("cluster-announce-port", 0, 65535, "0", LATER),
    int("cluster-announce-bus-port", 0, 65535, "0", LATER),
    int("cluster-announce-tls-port", 0, 65535, "0", LATER),
    e("cluster-preferred-endpoint-type", &["ip", "hostname", "unknown-endpoint"], "ip", LATER),
    mem("cluster-link-sendbuf-limit", 0, LONG_MAX, "0", LATER),
    // TLS (src/tls.rs): every tls-* change rebuilds the contexts, as Redis's applyTlsCfg does.
    int("tls-port", 0, 65535, "0", 0),
    s("tls-cert-file", "", VOLATILE),
    s("tls-key-file", "", VOLATILE),
    s("tls-key-file-pass", "", SENSITIVE),
    s("tls-client-cert-file", "", VOLATILE),
    s("tls-client-key-file", "", VOLATILE),
    s("tls-client-key-file-pass", "", SENSITIVE),
    s("tls-dh-params-file", "", VOLATILE),
    s("tls-ca-cert-file", "", VOLATILE),
    s("tls-ca-cert-dir", "", VOLATILE),
    e("tls-auth-clients", &["no", "yes", "optional"], "yes", 0),
    b("tls-replication", "no", 0),
    b("tls-cluster", "no", LATER),
    s("tls-protocols", "", 0),
    s("tls-ciphers", "", 0),
    s("tls-ciphersuites", "", 0),
    b("tls-prefer-server-ciphers", "no", 0),
    b("tls-session-caching", "yes", 0),
    int("tls-session-cache-size", 0, INT_MAX, "20480", 0),
    int("tls-session-cache-timeout", 0, INT_MAX, "300", 0),
];

/// Directives handled outside the table (they add to a list rather than set one value).
pub const LIST_DIRECTIVES: &[&str] = &["include", "rename-command", "user", "loadmodule", "sentinel"];

pub fn lookup(name: &str) -> Option<(usize, &'static Spec)> {
    TABLE.iter().enumerate().find(|(_, s)| s.matches(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_lower_case() {
        let mut seen = std::collections::HashSet::new();
        for s in TABLE {
            for n in std::iter::once(&s.name).chain(s.aliases) {
                assert_eq!(*n, n.to_ascii_lowercase());
                assert!(seen.insert(*n), "duplicate {n}");
            }
        }
    }
}
