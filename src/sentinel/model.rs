//! The persistent state of a Sentinel: exactly what `sentinel.conf` holds, as plain data.
//!
//! Runtime state (links, timers, flags such as SDOWN, the failover state machine, the run id of
//! the leader a vote went to) does not belong here: Redis 7.0 does not persist it either. In
//! particular the leader a sentinel voted for is not written to the file, only the epoch of that
//! vote (`leader-epoch`).
//!
//! Numbers keep the types Redis gives them when it reads the file, so that any file Redis
//! accepts is represented exactly and written back the same (e.g. `parallel-syncs` and
//! `announce-port` are read with `atoi` and never range-checked, so they may be negative).

/// Default of `sentinel down-after-milliseconds`.
pub const DEFAULT_DOWN_AFTER_MS: u64 = 30_000;
/// Default of `sentinel failover-timeout`.
pub const DEFAULT_FAILOVER_TIMEOUT_MS: u64 = 180_000;
/// Default of `sentinel parallel-syncs`.
pub const DEFAULT_PARALLEL_SYNCS: i32 = 1;
/// Default of `sentinel master-reboot-down-after-period` (0 = off).
pub const DEFAULT_MASTER_REBOOT_DOWN_AFTER_PERIOD_MS: u64 = 0;
/// Default of `sentinel deny-scripts-reconfig`.
pub const DEFAULT_DENY_SCRIPTS_RECONFIG: bool = true;
/// Default of `sentinel resolve-hostnames`.
pub const DEFAULT_RESOLVE_HOSTNAMES: bool = false;
/// Default of `sentinel announce-hostnames`.
pub const DEFAULT_ANNOUNCE_HOSTNAMES: bool = false;
/// Length of a Sentinel id (`sentinel myid`) and of the run ids of known sentinels.
pub const MYID_LEN: usize = 40;

/// Everything a `sentinel.conf` says about Sentinel (its regular options such as `port` or `dir`
/// belong to the server's config table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentinelConfig {
    /// `sentinel myid`: this sentinel's 40-character id. `None` until one is read or generated
    /// ([`SentinelConfig::ensure_myid`]); Redis generates it at start-up and flushes at once.
    pub myid: Option<String>,
    /// `sentinel current-epoch`: the largest epoch this sentinel has seen.
    pub current_epoch: u64,
    /// `sentinel deny-scripts-reconfig`: whether SENTINEL SET may not change script paths.
    pub deny_scripts_reconfig: bool,
    /// `sentinel resolve-hostnames`: whether instance addresses may be host names.
    pub resolve_hostnames: bool,
    /// `sentinel announce-hostnames`: whether host names rather than IPs are shown and written.
    pub announce_hostnames: bool,
    /// `sentinel announce-ip`: the address put in hello messages (an empty value means unset).
    pub announce_ip: Option<String>,
    /// `sentinel announce-port`: the port put in hello messages; 0 = unset. Read with `atoi` and
    /// not range-checked by Redis, hence signed.
    pub announce_port: i32,
    /// `sentinel sentinel-user`: the user this sentinel authenticates as towards other sentinels.
    pub sentinel_user: Option<String>,
    /// `sentinel sentinel-pass`: the password used towards other sentinels.
    pub sentinel_pass: Option<String>,
    /// The monitored masters, in the order of their `sentinel monitor` lines (then the order
    /// they were added).
    pub masters: Vec<MasterConfig>,
}

impl Default for SentinelConfig {
    fn default() -> Self {
        SentinelConfig {
            myid: None,
            current_epoch: 0,
            deny_scripts_reconfig: DEFAULT_DENY_SCRIPTS_RECONFIG,
            resolve_hostnames: DEFAULT_RESOLVE_HOSTNAMES,
            announce_hostnames: DEFAULT_ANNOUNCE_HOSTNAMES,
            announce_ip: None,
            announce_port: 0,
            sentinel_user: None,
            sentinel_pass: None,
            masters: Vec::new(),
        }
    }
}

impl SentinelConfig {
    /// The master called `name` (names are case-sensitive, as in Redis).
    pub fn master(&self, name: &str) -> Option<&MasterConfig> {
        self.masters.iter().find(|m| m.name == name)
    }

    /// The master called `name`, to change it.
    pub fn master_mut(&mut self, name: &str) -> Option<&mut MasterConfig> {
        self.masters.iter_mut().find(|m| m.name == name)
    }

    /// Gives this sentinel an id if it has none, like Redis at start-up: 40 random lowercase
    /// hex characters. Returns whether one was generated (Redis then flushes the config).
    pub fn ensure_myid(&mut self) -> bool {
        if self.myid.is_some() {
            return false;
        }
        let id: String = (0..MYID_LEN).map(|_| char::from(b"0123456789abcdef"[fastrand::usize(..16)])).collect();
        self.myid = Some(id);
        true
    }
}

/// One monitored master and everything persisted about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    /// The name it is monitored under (`sentinel monitor <name> ...`), case-sensitive.
    pub name: String,
    /// Its address as written in the file: an IP literal, or a host name with resolve-hostnames.
    pub host: String,
    pub port: u16,
    /// How many sentinels must agree that it is down before a failover (ODOWN).
    pub quorum: u32,
    /// `down-after-milliseconds`: how long it may not answer before it is SDOWN.
    pub down_after_ms: u64,
    /// `failover-timeout`.
    pub failover_timeout_ms: u64,
    /// `parallel-syncs`: how many replicas are re-pointed at once after a failover. Read with
    /// `atoi` and not validated in the file by Redis, hence signed.
    pub parallel_syncs: i32,
    /// `notification-script`: path of the script run on warning events.
    pub notification_script: Option<String>,
    /// `client-reconfig-script`: path of the script run when the master address changes.
    pub client_reconfig_script: Option<String>,
    /// `auth-pass`: password for the master and its replicas.
    pub auth_pass: Option<String>,
    /// `auth-user`: user for the master and its replicas (with `auth-pass`).
    pub auth_user: Option<String>,
    /// `master-reboot-down-after-period`: 0 = off.
    pub master_reboot_down_after_period_ms: u64,
    /// `config-epoch`: the epoch of the configuration (the failover) that made it the master.
    pub config_epoch: u64,
    /// `leader-epoch`: the epoch of this sentinel's last vote for a failover leader of this master.
    pub leader_epoch: u64,
    /// `rename-command`: commands renamed on the master and its replicas, in file order.
    pub rename_commands: Vec<CommandRename>,
    /// `known-replica`: the replicas discovered so far, in file order.
    pub known_replicas: Vec<KnownReplica>,
    /// `known-sentinel`: the other sentinels monitoring this master, in file order.
    pub known_sentinels: Vec<KnownSentinel>,
}

impl MasterConfig {
    /// A newly monitored master, every other setting at its default.
    pub fn new(name: impl Into<String>, host: impl Into<String>, port: u16, quorum: u32) -> MasterConfig {
        MasterConfig {
            name: name.into(),
            host: host.into(),
            port,
            quorum,
            down_after_ms: DEFAULT_DOWN_AFTER_MS,
            failover_timeout_ms: DEFAULT_FAILOVER_TIMEOUT_MS,
            parallel_syncs: DEFAULT_PARALLEL_SYNCS,
            notification_script: None,
            client_reconfig_script: None,
            auth_pass: None,
            auth_user: None,
            master_reboot_down_after_period_ms: DEFAULT_MASTER_REBOOT_DOWN_AFTER_PERIOD_MS,
            config_epoch: 0,
            leader_epoch: 0,
            rename_commands: Vec::new(),
            known_replicas: Vec::new(),
            known_sentinels: Vec::new(),
        }
    }
}

/// `sentinel rename-command <master> <command> <renamed>`: `command` is sent as `renamed` to the
/// master, its replicas and the other sentinels watching it (Redis's sentinelInstanceMapCommand
/// maps through the master of any instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRename {
    /// The command's real name (unique per master, compared case-insensitively).
    pub command: String,
    /// The name the instances know it by.
    pub renamed: String,
}

/// The name `command` is sent under, given a master's rename table.
pub fn command_name<'a>(renames: &'a [CommandRename], command: &'a str) -> &'a str {
    renames.iter().find(|r| r.command.eq_ignore_ascii_case(command)).map_or(command, |r| r.renamed.as_str())
}

/// `sentinel known-replica <master> <host> <port>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownReplica {
    /// Address as written: an IP, or a host name with resolve-hostnames/announce-hostnames.
    pub host: String,
    pub port: u16,
}

/// `sentinel known-sentinel <master> <host> <port> <runid>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownSentinel {
    /// Address as written, as for replicas.
    pub host: String,
    pub port: u16,
    /// Its Sentinel id (`myid`), which identifies it; Redis does not check its length here.
    pub run_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_redis_defaults() {
        let c = SentinelConfig::default();
        assert!(c.deny_scripts_reconfig && !c.resolve_hostnames && !c.announce_hostnames);
        let m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 2);
        assert_eq!((m.down_after_ms, m.failover_timeout_ms, m.parallel_syncs), (30_000, 180_000, 1));
        assert_eq!(m.master_reboot_down_after_period_ms, 0);
    }

    #[test]
    fn ensure_myid_generates_once() {
        let mut c = SentinelConfig::default();
        assert!(c.ensure_myid());
        let id = c.myid.clone().expect("id");
        assert_eq!(id.len(), MYID_LEN);
        assert!(id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{id}");
        assert!(!c.ensure_myid());
        assert_eq!(c.myid.as_deref(), Some(id.as_str()));
    }

    #[test]
    fn masters_are_found_by_exact_name() {
        let mut c = SentinelConfig::default();
        c.masters.push(MasterConfig::new("m", "10.0.0.1", 6379, 1));
        c.masters.push(MasterConfig::new("M", "10.0.0.2", 6379, 1));
        assert_eq!(c.master("M").map(|m| m.host.as_str()), Some("10.0.0.2"));
        assert!(c.master("mm").is_none());
        c.master_mut("m").expect("m").quorum = 3;
        assert_eq!(c.masters[0].quorum, 3);
    }
}
