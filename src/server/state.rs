//! Everything the keyspace lock protects: databases, clients, pub/sub, stats, config.

use std::collections::VecDeque;

use hashbrown::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{mpsc, Notify};

use crate::config::Config;
use crate::keyspace::Db;
use crate::protocol::Reply;
use crate::types::EncodingLimits;

pub type ClientId = u64;

/// What other tasks send to a connection: pub/sub messages, MONITOR lines.
#[derive(Debug, Clone)]
pub enum Push {
    Reply(Arc<Reply>),
}

/// A client as the rest of the server sees it (CLIENT LIST, KILL, PUBLISH, MONITOR).
pub struct ClientInfo {
    pub id: ClientId,
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub name: Option<Bytes>,
    pub db: usize,
    pub resp: u8,
    pub user: String,
    pub created_ms: u64,
    pub last_interaction_ms: u64,
    pub last_cmd: String,
    pub kind: ClientKind,
    pub multi: i64,
    pub watched: usize,
    pub subs: usize,
    pub psubs: usize,
    pub ssubs: usize,
    pub no_evict: bool,
    pub no_touch: bool,
    pub is_unix: bool,
    pub qbuf: usize,
    /// The query buffer's room (qbuf-free) and its allocation (sdsalloc; its block counts in
    /// tot-mem).
    pub qbuf_free: usize,
    pub qbuf_alloc: usize,
    /// The complete arguments of a command still arriving: their bytes (argv-mem) and the
    /// memory they count for with their handles, as the connection last published them.
    pub argv_pending: usize,
    pub argv_pending_mem: usize,
    /// The reply buffer's size and peak use (rbs, rbp), as the connection last published them.
    pub rbs: usize,
    pub rbp: usize,
    /// Bytes of the commands queued in MULTI (multi-mem: argv lengths and pointers, as Redis).
    pub multi_mem: usize,
    pub tx: mpsc::UnboundedSender<Push>,
    /// Bytes queued in `tx` and not yet written, for client-output-buffer-limit.
    pub pending: Arc<std::sync::atomic::AtomicUsize>,
    pub signals: Arc<super::signals::ClientSignals>,
    /// Since when the output has been over the soft limit (ms), if it is.
    pub soft_limit_since: Option<u64>,
    /// CLIENT TRACKING's options while tracking is on.
    pub tracking: Option<Box<super::tracking::ClientTracking>>,
    /// Bytes of replies and messages the connection holds that the socket has not taken yet
    /// (with `pending`, Redis's reply list: what the output buffer limits count).
    pub unwritten: Arc<std::sync::atomic::AtomicUsize>,
}

/// How a log line names a client (Redis's catClientInfoString): its CLIENT LIST line, which the
/// command layer formats and sets here at start-up, as the core cannot reach it. Until then (and
/// in unit tests) the id and address stand in.
pub static CLIENT_INFO: std::sync::OnceLock<fn(&ClientInfo, u64) -> String> = std::sync::OnceLock::new();

/// A client's CLIENT LIST line at `now_ms`, for log lines.
pub fn client_info_line(c: &ClientInfo, now_ms: u64) -> String {
    match CLIENT_INFO.get() {
        Some(describe) => describe(c, now_ms),
        None => format!("id={} addr={}", c.id, c.addr),
    }
}

/// reply_buffer_resizing_enabled and reply_buffer_peak_reset_time (DEBUG REPLYBUFFER).
#[derive(Debug, Clone, Copy)]
pub struct ReplyBufferResizing {
    pub resizing: bool,
    /// Milliseconds between resets of a reply buffer's peak; negative: never.
    pub peak_reset_ms: i64,
}

/// REPLY_BUFFER_DEFAULT_PEAK_RESET_TIME
pub const REPLY_BUFFER_PEAK_RESET_MS: i64 = 5000;

impl Default for ReplyBufferResizing {
    fn default() -> Self {
        ReplyBufferResizing { resizing: true, peak_reset_ms: REPLY_BUFFER_PEAK_RESET_MS }
    }
}

/// What identifies a new client's connection.
pub struct Peer {
    pub addr: String,
    pub laddr: String,
    pub fd: i32,
    pub is_unix: bool,
}

impl ClientInfo {
    /// A client as it connects: database 0, RESP2, the default user.
    pub fn new(
        id: ClientId,
        peer: Peer,
        kind: ClientKind,
        tx: mpsc::UnboundedSender<Push>,
        pending: Arc<std::sync::atomic::AtomicUsize>,
        signals: Arc<super::signals::ClientSignals>,
    ) -> ClientInfo {
        let now = crate::util::time::unix_ms();
        ClientInfo {
            id,
            addr: peer.addr,
            laddr: peer.laddr,
            fd: peer.fd,
            name: None,
            db: 0,
            resp: 2,
            user: "default".into(),
            created_ms: now,
            last_interaction_ms: now,
            last_cmd: "NULL".into(),
            kind,
            multi: -1,
            watched: 0,
            subs: 0,
            psubs: 0,
            ssubs: 0,
            no_evict: false,
            no_touch: false,
            is_unix: peer.is_unix,
            qbuf: 0,
            qbuf_free: 0,
            qbuf_alloc: 0,
            argv_pending: 0,
            argv_pending_mem: 0,
            rbs: crate::alloc::size_class(16 * 1024),
            rbp: crate::alloc::size_class(16 * 1024),
            multi_mem: 0,
            tx,
            pending,
            signals,
            soft_limit_since: None,
            tracking: None,
            unwritten: Arc::default(),
        }
    }

    /// Channels, patterns and shard channels: Redis's CLIENT_PUBSUB while above 0.
    pub fn subscriptions(&self) -> usize {
        self.subs + self.psubs + self.ssubs
    }

    /// Redis's checkClientOutputBufferLimits for `used` bytes of output not taken yet: the hard
    /// limit at once, the soft one once it has held for more than its seconds, for the client's
    /// class (pubsub once it subscribed, else normal; `limits` by class as in the config).
    pub fn output_limit_reached(&mut self, limits: &[(u64, u64, u64); 3], used: u64, now_ms: u64) -> bool {
        let class = match self.kind {
            ClientKind::Replica => 1,
            _ if self.kind == ClientKind::Pubsub || self.subscriptions() > 0 => 2,
            _ => 0,
        };
        let (hard, soft, soft_secs) = limits[class];
        let soft_expired = match (soft > 0 && used >= soft, self.soft_limit_since) {
            (false, _) => {
                self.soft_limit_since = None;
                false
            }
            (true, None) => {
                self.soft_limit_since = Some(now_ms);
                false
            }
            // Whole seconds, as Redis compares its unixtime.
            (true, Some(since)) => (now_ms / 1000).saturating_sub(since / 1000) > soft_secs,
        };
        (hard > 0 && used >= hard) || soft_expired
    }

    /// What the client holds in memory (getClientMemoryUsage, CLIENT LIST's tot-mem): its
    /// buffers, `argv` bytes of the command it runs (or waits in), its MULTI queue, and its own
    /// structures.
    pub fn memory(&self, argv: usize) -> usize {
        self.memory_with(argv, self.qbuf_alloc)
    }

    /// `memory`, with the query buffer's allocation as the client itself sees it mid-read.
    pub fn memory_with(&self, argv: usize, qbuf_alloc: usize) -> usize {
        const STRUCTURES: usize = std::mem::size_of::<ClientInfo>() + std::mem::size_of::<super::session::Session>();
        let qbuf_block = if qbuf_alloc == 0 { 0 } else { crate::alloc::size_class(qbuf_alloc) };
        self.output_pending() + qbuf_block + self.rbs + argv + self.multi_mem + self.links() + STRUCTURES
    }

    /// What Redis counts for a client's WATCHes and subscriptions (multiStateMemOverhead's watched
    /// keys, pubsubMemOverhead), with its structures' sizes: a list node and a watchedKey per
    /// watched key, a list node per pattern, a dict entry per channel plus the dict's slots. These
    /// grow a client's usage towards maxmemory-clients as they do in Redis.
    fn links(&self) -> usize {
        const LIST_NODE: usize = 24;
        const WATCHED_KEY: usize = 32;
        const DICT_ENTRY: usize = 24;
        let dict = |n: usize| if n == 0 { 0 } else { n * DICT_ENTRY + n.next_power_of_two().max(4) * 8 };
        self.watched * (LIST_NODE + WATCHED_KEY) + self.psubs * LIST_NODE + dict(self.subs) + dict(self.ssubs)
    }

    /// The output the client has not taken yet: queued messages and unwritten replies.
    pub fn output_pending(&self) -> usize {
        use std::sync::atomic::Ordering::Relaxed;
        self.pending.load(Relaxed) + self.unwritten.load(Relaxed)
    }

    /// A client the server runs itself (the link to its master): nothing is pushed to it.
    pub fn internal(
        id: ClientId,
        addr: String,
        laddr: String,
        kind: ClientKind,
        signals: Arc<super::signals::ClientSignals>,
    ) -> ClientInfo {
        let peer = Peer { addr, laddr, fd: -1, is_unix: false };
        ClientInfo::new(id, peer, kind, mpsc::unbounded_channel().0, Arc::default(), signals)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientKind {
    Normal,
    Pubsub,
    Replica,
    Master,
}

impl ClientKind {
    pub fn name(self) -> &'static str {
        match self {
            ClientKind::Normal => "normal",
            ClientKind::Pubsub => "pubsub",
            ClientKind::Replica => "slave",
            ClientKind::Master => "master",
        }
    }
}

#[derive(Default, Clone)]
pub struct CommandStat {
    /// Full name (`config|get`), for INFO.
    pub name: String,
    pub calls: u64,
    pub usec: u64,
    pub rejected: u64,
    pub failed: u64,
    pub latency: crate::util::histogram::Histogram,
}

#[derive(Default)]
pub struct Stats {
    pub total_connections: u64,
    pub total_commands: u64,
    pub rejected_connections: u64,
    pub expired_keys: u64,
    pub expired_stale_perc: f64,
    pub expire_cycle_cpu_ms: u64,
    pub evicted_keys: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub pubsub_channels_msgs: u64,
    pub net_input_bytes: u64,
    pub net_output_bytes: u64,
    pub unexpected_error_replies: u64,
    pub total_error_replies: u64,
    pub dump_payload_sanitizations: u64,
    pub client_qbuf_limit_disconnections: u64,
    /// The cron's resizes of clients' reply buffers (INFO reply_buffer_shrinks / _expands).
    pub reply_buffer_shrinks: u64,
    pub reply_buffer_expands: u64,
    pub client_outbuf_limit_disconnections: u64,
    /// Clients freed by maxmemory-clients (INFO evicted_clients).
    pub evicted_clients: u64,
    /// Since when memory has been over maxmemory without eviction catching up, if it is.
    pub eviction_exceeded_since: Option<std::time::Instant>,
    /// Microseconds spent over maxmemory in earlier such periods.
    pub eviction_exceeded_total_us: u64,
    /// Keyed by the address of the command's table row, so the request path never builds a name.
    pub commands: HashMap<usize, CommandStat>,
    pub errors: HashMap<String, u64>,
    pub ops_samples: VecDeque<(u64, u64)>,
    pub net_in_samples: VecDeque<(u64, u64)>,
    pub net_out_samples: VecDeque<(u64, u64)>,
}

impl Stats {
    pub fn command(
        &mut self,
        spec: &'static crate::server::command::CommandSpec,
        name: super::command::CmdName,
    ) -> &mut CommandStat {
        self.commands
            .entry(spec as *const _ as usize)
            .or_insert_with(|| CommandStat { name: name.to_string(), ..Default::default() })
    }
}

pub struct SlowlogEntry {
    pub id: u64,
    pub time: i64,
    pub duration_us: u64,
    pub args: Vec<Bytes>,
    pub peer: String,
    pub name: String,
}

#[derive(Default)]
pub struct LatencyEvent {
    pub samples: VecDeque<(i64, u64)>,
    pub max: u64,
}

/// CLIENT PAUSE in force.
#[derive(Clone, Copy, Debug)]
pub struct Pause {
    pub until_ms: u64,
    /// WRITE pauses only block writes; ALL blocks everything.
    pub all: bool,
}

pub struct State {
    pub dbs: Vec<Db>,
    pub config: Config,
    pub clients: HashMap<ClientId, ClientInfo>,
    /// What clients use, for maxmemory-clients.
    pub client_mem: super::client_eviction::ClientMem,
    pub pubsub: super::pubsub::PubSub,
    pub tracking: super::tracking::Tracking,
    pub blocking: super::blocking::Blocking,
    pub evictor: crate::server::eviction::Evictor,
    pub snapshots: crate::persistence::state::Snapshots,
    /// Set while the dataset is being loaded at start-up.
    pub loading: Option<crate::persistence::state::Loading>,
    pub propagation: super::propagation::Propagation,
    /// The append-only file, when `appendonly` is on.
    pub aof: Option<crate::persistence::state::Appendonly>,
    pub repl: crate::replication::state::Replication,
    /// Sentinel mode: the monitoring state, and the file it is kept in.
    pub sentinel: Option<Box<crate::sentinel::monitor::Runtime>>,
    pub sentinel_config_file: Option<std::path::PathBuf>,
    pub stats: Stats,
    pub monitors: Vec<ClientId>,
    pub slowlog: VecDeque<SlowlogEntry>,
    pub slowlog_next_id: u64,
    pub latency: HashMap<&'static str, LatencyEvent>,
    /// Changes since the last save (rdb_changes_since_last_save).
    pub dirty: u64,
    pub lastsave: i64,
    pub pause: Option<Pause>,
    pub pause_notify: Arc<Notify>,
    /// DEBUG REPLYBUFFER's settings of the cron's reply buffer resizing.
    pub reply_buffer: ReplyBufferResizing,
    /// Clients held back by the pause, or released by its end and waiting for their turn.
    pub postponed: super::postpone::Postponed,
    pub active_expire_enabled: bool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION: RESTORE and FUNCTION RESTORE accept any checksum.
    pub skip_checksum_validation: bool,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds slept before each write to the AOF.
    pub aof_flush_sleep_us: u64,
    /// DEBUG PAUSE-CRON: the periodic work (serverCron) is skipped while set.
    pub pause_cron: bool,
    /// MIGRATE's connections to its targets.
    pub migrate_sockets: super::migrate_sockets::MigrateSockets,
    /// Set when SHUTDOWN or a signal asks the server to stop.
    pub shutdown_requested: bool,
    /// SHUTDOWN already did what a shutdown saves: the exit path must not save again.
    pub shutdown_saved: bool,
    /// A SHUTDOWN waiting for its replicas to catch up.
    pub pending_shutdown: Option<super::shutdown::PendingShutdown>,
    pub next_client_id: ClientId,
    pub hot: HotConfig,
    /// EVAL's scripts and the function libraries.
    pub scripts: super::scripts::Scripts,
    /// The command being run found memory over maxmemory before it started (Redis's
    /// pre_command_oom_state): a script may then not write.
    pub pre_command_oom: bool,
    /// ACL users and the ACL log.
    pub acl: crate::acl::Acl,
}

/// Config values read on every command or connection, kept typed so the request path never
/// looks a directive up by name. Refreshed after every config change.
#[derive(Clone, Debug)]
pub struct HotConfig {
    pub requirepass: Option<Bytes>,
    pub slowlog_threshold: i64,
    pub slowlog_max_len: usize,
    /// latency-tracking: whether commands feed their latency histograms.
    pub latency_tracking: bool,
    pub maxclients: usize,
    pub timeout_secs: u64,
    pub proto_max_bulk_len: i64,
    pub query_buffer_limit: usize,
    pub hz: u64,
    pub active_expire_effort: u64,
    pub protected_mode: bool,
    pub tcp_keepalive: u64,
    /// normal, replica, pubsub: (hard, soft, soft seconds).
    pub output_limits: [(u64, u64, u64); 3],
    pub databases: usize,
    /// notify-keyspace-events as Redis's NOTIFY_* bits.
    pub notify_flags: u32,
    pub encoding: EncodingLimits,
    /// maxmemory in bytes, 0 for no limit.
    pub maxmemory: u64,
    pub maxmemory_policy: crate::keyspace::evict::Policy,
    pub maxmemory_samples: usize,
    pub maxmemory_eviction_tenacity: u32,
    /// maxmemory-clients: bytes, or minus a percentage of maxmemory; 0 for none.
    pub maxmemory_clients: i64,
    /// min-replicas-to-write and min-replicas-max-lag (0: no check).
    pub min_replicas_to_write: u64,
    pub min_replicas_max_lag: u64,
    pub replica_read_only: bool,
}

impl HotConfig {
    pub fn from_config(c: &Config) -> HotConfig {
        let pass = c.str(crate::ckey!("requirepass"));
        let limits = match c.val(crate::ckey!("client-output-buffer-limit")) {
            crate::config::Val::ClientLimits(l) => {
                std::array::from_fn(|i| (l[i].hard as u64, l[i].soft as u64, l[i].soft_seconds as u64))
            }
            _ => [(0, 0, 0); 3],
        };
        HotConfig {
            requirepass: (!pass.is_empty()).then(|| Bytes::copy_from_slice(pass.as_bytes())),
            slowlog_threshold: c.int(crate::ckey!("slowlog-log-slower-than")),
            slowlog_max_len: c.int(crate::ckey!("slowlog-max-len")).max(0) as usize,
            latency_tracking: c.bool(crate::ckey!("latency-tracking")),
            maxclients: c.int(crate::ckey!("maxclients")).max(1) as usize,
            timeout_secs: c.int(crate::ckey!("timeout")).max(0) as u64,
            proto_max_bulk_len: c.int(crate::ckey!("proto-max-bulk-len")),
            query_buffer_limit: c.int(crate::ckey!("client-query-buffer-limit")).max(0) as usize,
            hz: c.int(crate::ckey!("hz")).clamp(1, 500) as u64,
            active_expire_effort: c.int(crate::ckey!("active-expire-effort")).clamp(1, 10) as u64,
            protected_mode: c.bool(crate::ckey!("protected-mode")),
            tcp_keepalive: c.int(crate::ckey!("tcp-keepalive")).max(0) as u64,
            output_limits: limits,
            databases: c.int(crate::ckey!("databases")).max(1) as usize,
            notify_flags: match c.val(crate::ckey!("notify-keyspace-events")) {
                crate::config::Val::Flags(f) => *f,
                _ => 0,
            },
            encoding: EncodingLimits {
                list_max_listpack_size: c.int(crate::ckey!("list-max-listpack-size")),
                hash_max_listpack_entries: c.int(crate::ckey!("hash-max-listpack-entries")).max(0) as usize,
                hash_max_listpack_value: c.int(crate::ckey!("hash-max-listpack-value")).max(0) as usize,
                set_max_intset_entries: c.int(crate::ckey!("set-max-intset-entries")).max(0) as usize,
                zset_max_listpack_entries: c.int(crate::ckey!("zset-max-listpack-entries")).max(0) as usize,
                zset_max_listpack_value: c.int(crate::ckey!("zset-max-listpack-value")).max(0) as usize,
                stream_node_max_bytes: c.int(crate::ckey!("stream-node-max-bytes")).max(0) as usize,
                stream_node_max_entries: c.int(crate::ckey!("stream-node-max-entries")).max(0) as usize,
            },
            maxmemory: c.int(crate::ckey!("maxmemory")).max(0) as u64,
            maxmemory_policy: crate::keyspace::evict::Policy::from_name(c.str(crate::ckey!("maxmemory-policy"))),
            maxmemory_samples: c.int(crate::ckey!("maxmemory-samples")).clamp(1, 64) as usize,
            maxmemory_eviction_tenacity: c.int(crate::ckey!("maxmemory-eviction-tenacity")).clamp(0, 100) as u32,
            maxmemory_clients: c.int(crate::ckey!("maxmemory-clients")),
            min_replicas_to_write: c.int(crate::ckey!("min-replicas-to-write")).max(0) as u64,
            min_replicas_max_lag: c.int(crate::ckey!("min-replicas-max-lag")).max(0) as u64,
            replica_read_only: c.bool(crate::ckey!("replica-read-only")),
        }
    }
}

/// [`State::rewrite_options`] from a configuration and ACL state that are not (yet) a State's.
pub fn rewrite_options<'a>(
    config: &'a Config,
    acl: &crate::acl::Acl,
) -> Vec<crate::config::document::RewriteOption<'a>> {
    let mut options = config.rewrite_options();
    let users = match config.str(crate::ckey!("aclfile")).is_empty() {
        true => acl.config_lines(),
        false => Vec::new(),
    };
    options.push(crate::config::document::RewriteOption {
        name: "user",
        aliases: &[],
        lines: users,
        is_default: false,
    });
    options
}

impl State {
    /// What rewriting a config file writes (CONFIG REWRITE, Sentinel's config flush): the
    /// directives, and the users as `user` lines unless they live in an ACL file, in which case
    /// user lines are removed (rewriteConfigUserOption).
    pub fn rewrite_options(&self) -> Vec<crate::config::document::RewriteOption<'_>> {
        rewrite_options(&self.config, &self.acl)
    }

    pub fn new(config: Config) -> State {
        let n = config.int(crate::ckey!("databases")).max(1) as usize;
        let hot = HotConfig::from_config(&config);
        State {
            hot,
            dbs: (0..n).map(|_| Db::new()).collect(),
            config,
            clients: HashMap::new(),
            client_mem: Default::default(),
            pubsub: Default::default(),
            tracking: Default::default(),
            blocking: Default::default(),
            evictor: Default::default(),
            snapshots: Default::default(),
            loading: None,
            propagation: Default::default(),
            aof: None,
            repl: Default::default(),
            sentinel: None,
            sentinel_config_file: None,
            stats: Stats::default(),
            monitors: Vec::new(),
            slowlog: VecDeque::new(),
            slowlog_next_id: 0,
            latency: HashMap::new(),
            dirty: 0,
            lastsave: crate::util::time::unix_secs(),
            pause: None,
            pause_notify: Arc::new(Notify::new()),
            reply_buffer: ReplyBufferResizing::default(),
            postponed: Default::default(),
            active_expire_enabled: true,
            skip_checksum_validation: false,
            migrate_sockets: Default::default(),
            pause_cron: false,
            aof_flush_sleep_us: 0,
            shutdown_requested: false,
            shutdown_saved: false,
            pending_shutdown: None,
            next_client_id: 1,
            scripts: Default::default(),
            pre_command_oom: false,
            acl: Default::default(),
        }
    }

    /// Records an error reply in errorstats (keyed by its first word, like Redis).
    pub fn count_error(&mut self, text: &str) {
        let code = text.split(' ').next().unwrap_or("ERR");
        let code = if code.chars().all(|c| c.is_ascii_uppercase()) && !code.is_empty() { code } else { "ERR" };
        *self.stats.errors.entry(code.to_string()).or_insert(0) += 1;
        self.stats.total_error_replies += 1;
    }

    /// Adds a latency sample if it passes latency-monitor-threshold.
    pub fn latency_add(&mut self, event: &'static str, ms: u64) {
        let threshold = self.config.int(crate::ckey!("latency-monitor-threshold"));
        if threshold == 0 || (ms as i64) < threshold {
            return;
        }
        let now = crate::util::time::unix_secs();
        let e = self.latency.entry(event).or_default();
        if let Some(last) = e.samples.back_mut() {
            if last.0 == now {
                last.1 = last.1.max(ms);
                e.max = e.max.max(ms);
                return;
            }
        }
        e.samples.push_back((now, ms));
        if e.samples.len() > 160 {
            e.samples.pop_front();
        }
        e.max = e.max.max(ms);
    }
}
