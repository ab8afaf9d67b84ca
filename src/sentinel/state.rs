//! A running sentinel's state: the masters it watches with their replicas and fellow sentinels,
//! the epochs and votes, and the events it has to announce. The persisted part round-trips
//! through [`SentinelConfig`] (`from_config` at start-up, `to_config` for each flush).
//!
//! The algorithms here follow Redis 7.0's sentinel.c and are pure (no I/O, time passed in):
//! voting (§5.2 sentinelVoteLeader), counting a leader (sentinelGetLeader), choosing the replica
//! to promote (§5.4 sentinelSelectSlave), ODOWN (§4.3).

use super::instance::{event_subject, replica_name, InfoFields, InstanceId, Kind, Reconf};
use super::model::{KnownReplica, KnownSentinel, MasterConfig, SentinelConfig};

/// One watched instance (Redis's sentinelRedisInstance, without the links).
#[derive(Clone, Debug)]
pub struct Record {
    pub id: InstanceId,
    pub kind: Kind,
    /// Master name, `ip:port` of a replica, run id of a sentinel.
    pub name: String,
    pub host: String,
    pub port: u16,
    pub run_id: Option<String>,
    /// The oldest unanswered PING (0: none outstanding).
    pub act_ping_ms: u64,
    pub last_ping_ms: u64,
    pub last_avail_ms: u64,
    pub last_pong_ms: u64,
    pub last_pub_ms: u64,
    pub last_hello_ms: u64,
    pub s_down: bool,
    pub s_down_since: u64,
    pub o_down: bool,
    pub o_down_since: u64,
    /// A fellow sentinel's last answer: it sees the master down.
    pub peer_master_down: bool,
    pub last_master_down_reply_ms: u64,
    /// A fellow sentinel's vote: (leader run id, epoch).
    pub vote: Option<(String, u64)>,
    /// The last INFO (master, replica): when, and what it said.
    pub info_ms: u64,
    pub info_text: Option<String>,
    pub info: InfoFields,
    pub role_reported: Kind,
    pub role_reported_ms: u64,
    pub slave_conf_change_ms: u64,
    pub promoted: bool,
    pub reconf: Reconf,
    pub reconf_sent_ms: u64,
    pub script_kill_sent: bool,
    /// A master seen restarted (new run id) with master-reboot-down-after-period set, and no
    /// PONG since: when its INFO showed the restart.
    pub master_reboot_since: Option<u64>,
}

impl Record {
    pub fn new(id: InstanceId, kind: Kind, name: String, host: String, port: u16, now_ms: u64) -> Record {
        Record {
            id,
            kind,
            name,
            host,
            port,
            run_id: None,
            act_ping_ms: now_ms,
            last_ping_ms: 0,
            last_avail_ms: now_ms,
            last_pong_ms: now_ms,
            // As Redis's createSentinelRedisInstance: the first hello goes out one publish period
            // after the record is made, not at once.
            last_pub_ms: now_ms,
            last_hello_ms: now_ms,
            s_down: false,
            s_down_since: 0,
            o_down: false,
            o_down_since: 0,
            peer_master_down: false,
            last_master_down_reply_ms: now_ms,
            vote: None,
            info_ms: 0,
            info_text: None,
            info: InfoFields::default(),
            role_reported: kind,
            role_reported_ms: now_ms,
            slave_conf_change_ms: now_ms,
            promoted: false,
            reconf: Reconf::None,
            reconf_sent_ms: 0,
            script_kill_sent: false,
            master_reboot_since: None,
        }
    }

    /// replica-priority as INFO last said (100 until it did).
    pub fn priority(&self) -> i64 {
        self.info.slave_priority.unwrap_or(100)
    }
}

/// The failover of one master, when one is under way (§5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FailoverState {
    #[default]
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoOne,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
}

impl FailoverState {
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoOne => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
        }
    }
}

/// A watched master: its settings (the `sentinel ...` lines about it), its record, what it knows
/// of its replicas and fellow sentinels, and its failover.
#[derive(Clone, Debug)]
pub struct Master {
    /// Name, address and settings; the known-replica/known-sentinel lists live in the records.
    pub settings: MasterConfig,
    pub record: Record,
    pub replicas: Vec<Record>,
    pub sentinels: Vec<Record>,
    /// This sentinel's vote for this master: run id (leader_epoch is in the settings).
    pub leader: Option<String>,
    pub failover_state: FailoverState,
    pub failover_epoch: u64,
    pub failover_start_ms: u64,
    /// The failover_start_ms whose "Next failover delay" line was logged (once per start time).
    pub failover_delay_logged: u64,
    pub failover_state_change_ms: u64,
    pub failover_in_progress: bool,
    pub force_failover: bool,
}

/// An event to announce: published on its channel, logged, and given to the notification script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: String,
    pub message: String,
    /// WARNING events (logged with `#`, and the only ones scripts get).
    pub warning: bool,
    /// The master the event is about: its name and address when it happened.
    pub master: Option<EventAddress>,
    /// The instance the event names (a replica, a sentinel, the master itself; for
    /// `+switch-master` the new master).
    pub instance: Option<EventAddress>,
}

/// Who an event is about, for the journal's fields (MASTER_NAME, INSTANCE_TYPE, ..._IP, ..._PORT).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventAddress {
    /// The master's name, or the instance's type word (`master`, `slave`, `sentinel`).
    pub name: String,
    pub ip: String,
    pub port: u16,
}

pub struct Sentinel {
    /// Global settings and epoch; its `masters` list is empty (the masters are below).
    pub settings: SentinelConfig,
    pub myid: String,
    pub masters: Vec<Master>,
    next_id: InstanceId,
    /// Events not yet announced.
    pub events: Vec<Event>,
    /// The state changed in a way sentinel.conf must record.
    pub flush_needed: bool,
    pub scripts: super::scripts::Scripts,
}

impl Sentinel {
    /// The running state from the file's. A missing myid is generated (and must be flushed).
    pub fn from_config(mut cfg: SentinelConfig, now_ms: u64) -> Sentinel {
        let generated = cfg.ensure_myid();
        let masters = std::mem::take(&mut cfg.masters);
        let myid = cfg.myid.clone().unwrap_or_default();
        let mut s = Sentinel {
            settings: cfg,
            myid,
            masters: Vec::new(),
            next_id: 1,
            events: Vec::new(),
            flush_needed: generated,
            scripts: Default::default(),
        };
        for m in masters {
            s.add_master(m, now_ms);
        }
        s
    }

    /// The address Sentinel keeps, shows and writes for `host` (Redis's createSentinelAddr with
    /// announceSentinelAddr): with announce-hostnames the host as given, else the IP it resolves
    /// to now (a name only with resolve-hostnames). A name that does not resolve is kept as given.
    pub fn kept_address(&self, host: &str) -> String {
        if self.settings.announce_hostnames {
            return host.to_string();
        }
        self.ip_of(host).unwrap_or_else(|| host.to_string())
    }

    /// The address a newly discovered instance (a replica in INFO, a sentinel in a hello) is kept
    /// under, or None if it cannot be used: a host name without resolve-hostnames, or one that
    /// does not resolve. Redis's createSentinelAddr then logs and creates nothing.
    pub fn discovered_address(&self, host: &str) -> Option<String> {
        let Some(ip) = self.ip_of(host) else {
            tracing::warn!("Failed to resolve hostname '{host}'");
            return None;
        };
        Some(if self.settings.announce_hostnames { host.to_string() } else { ip })
    }

    /// `host` as an IP: itself if it is one, else what it resolves to now (only with
    /// resolve-hostnames).
    fn ip_of(&self, host: &str) -> Option<String> {
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Some(host.to_string());
        }
        super::config::resolve_address(host, self.settings.resolve_hostnames)
    }

    /// A master to watch, with the replicas and sentinels its config names.
    pub fn add_master(&mut self, mut settings: MasterConfig, now_ms: u64) {
        let replicas = std::mem::take(&mut settings.known_replicas);
        let sentinels = std::mem::take(&mut settings.known_sentinels);
        settings.host = self.kept_address(&settings.host);
        let id = self.new_id();
        let record = Record::new(id, Kind::Master, settings.name.clone(), settings.host.clone(), settings.port, now_ms);
        let mut master = Master {
            settings,
            record,
            replicas: Vec::new(),
            sentinels: Vec::new(),
            leader: None,
            failover_state: FailoverState::None,
            failover_epoch: 0,
            failover_start_ms: 0,
            failover_delay_logged: 0,
            failover_state_change_ms: 0,
            failover_in_progress: false,
            force_failover: false,
        };
        for mut r in replicas {
            r.host = self.kept_address(&r.host);
            let id = self.new_id();
            master.replicas.push(Record::new(id, Kind::Replica, replica_name(&r.host, r.port), r.host, r.port, now_ms));
        }
        for mut k in sentinels {
            k.host = self.kept_address(&k.host);
            let id = self.new_id();
            let mut rec = Record::new(id, Kind::Sentinel, k.run_id.clone(), k.host, k.port, now_ms);
            rec.run_id = Some(k.run_id);
            master.sentinels.push(rec);
        }
        self.masters.push(master);
    }

    pub fn new_id(&mut self) -> InstanceId {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// What sentinel.conf is to record now.
    pub fn to_config(&self) -> SentinelConfig {
        let mut cfg = self.settings.clone();
        cfg.myid = Some(self.myid.clone());
        cfg.masters = self.masters.iter().map(Master::to_config).collect();
        cfg
    }

    pub fn master_index(&self, name: &str) -> Option<usize> {
        self.masters.iter().position(|m| m.settings.name == name)
    }

    /// Records an event; `subject` renders as `%@` (§7).
    pub fn event(&mut self, kind: &str, warning: bool, subject: Option<(usize, Option<InstanceId>)>, rest: &str) {
        let mut message = String::new();
        if let Some((m, instance)) = subject {
            let master = &self.masters[m];
            // The master's own record is rendered as the master alone (`%@` has no `@` part).
            message = match instance.and_then(|id| master.find(id)).filter(|r| r.kind != Kind::Master) {
                Some(r) => event_subject(
                    r.kind,
                    &r.name,
                    &r.host,
                    r.port,
                    Some((&master.settings.name, &master.settings.host, master.settings.port)),
                ),
                None => event_subject(
                    Kind::Master,
                    &master.settings.name,
                    &master.settings.host,
                    master.settings.port,
                    None,
                ),
            };
            if !rest.is_empty() {
                message.push(' ');
            }
        }
        message.push_str(rest);
        let instance = subject.map(|(m, instance)| {
            let master = &self.masters[m];
            match instance.and_then(|id| master.find(id)) {
                Some(r) => EventAddress { name: r.kind.word().to_string(), ip: r.host.clone(), port: r.port },
                None => EventAddress {
                    name: Kind::Master.word().to_string(),
                    ip: master.settings.host.clone(),
                    port: master.settings.port,
                },
            }
        });
        self.push_event(kind, warning, subject.map(|(m, _)| m), instance, message);
    }

    /// An event about master `m` whose message names the master itself (Redis's `+switch-master`
    /// and `+new-epoch` have no `%@` subject): still logged with the master's name and address,
    /// and heard by its script. `new_master` is the address `+switch-master` moves to.
    pub fn master_event(
        &mut self,
        kind: &str,
        warning: bool,
        m: usize,
        new_master: Option<(&str, u16)>,
        message: String,
    ) {
        let instance = new_master.map(|(ip, port)| EventAddress {
            name: Kind::Master.word().to_string(),
            ip: ip.to_string(),
            port,
        });
        self.push_event(kind, warning, Some(m), instance, message);
    }

    fn push_event(
        &mut self,
        kind: &str,
        warning: bool,
        master: Option<usize>,
        instance: Option<EventAddress>,
        message: String,
    ) {
        // The notification script hears WARNING events about an instance.
        if let (true, Some(m)) = (warning, master) {
            if let Some(script) = self.masters[m].settings.notification_script.clone() {
                self.scripts.schedule(vec![script, kind.to_string(), message.clone()], crate::util::time::unix_ms());
            }
        }
        let master = master.map(|m| {
            let settings = &self.masters[m].settings;
            EventAddress { name: settings.name.clone(), ip: settings.host.clone(), port: settings.port }
        });
        self.events.push(Event { kind: kind.to_string(), message, warning, master, instance });
    }

    /// client-reconfig-script: `<master> <leader|observer> start <from-ip> <from-port> <to-ip> <to-port>`.
    pub fn client_reconfig(&mut self, m: usize, role: &str, from: (&str, u16), to: (&str, u16)) {
        let master = &self.masters[m];
        if let Some(script) = master.settings.client_reconfig_script.clone() {
            let argv = vec![
                script,
                master.settings.name.clone(),
                role.to_string(),
                "start".to_string(),
                from.0.to_string(),
                from.1.to_string(),
                to.0.to_string(),
                to.1.to_string(),
            ];
            self.scripts.schedule(argv, crate::util::time::unix_ms());
        }
    }

    /// sentinelVoteLeader: a vote asked for `candidate` in `epoch` about master `m`. Each
    /// sentinel votes once per epoch per master; the first request wins. Returns this sentinel's
    /// vote for the master (possibly an older one) and its epoch.
    pub fn vote(&mut self, m: usize, epoch: u64, candidate: &str, now_ms: u64) -> (Option<String>, u64) {
        if epoch > self.settings.current_epoch {
            self.settings.current_epoch = epoch;
            self.flush_needed = true;
            self.master_event("+new-epoch", true, m, None, epoch.to_string());
        }
        let current = self.settings.current_epoch;
        let master = &mut self.masters[m];
        if master.settings.leader_epoch < epoch && current <= epoch {
            master.leader = Some(candidate.to_string());
            master.settings.leader_epoch = current;
            self.flush_needed = true;
            // About the master (its script hears it), though the message does not name it.
            self.master_event("+vote-for-leader", true, m, None, format!("{candidate} {current}"));
            // Voting for another sentinel holds back our own attempts (§5.2). Run ids compare
            // ignoring case, as Redis's strcasecmp does.
            if !candidate.eq_ignore_ascii_case(&self.myid) {
                self.masters[m].failover_start_ms = now_ms + fastrand::u64(..1000);
            }
        }
        let master = &self.masters[m];
        (master.leader.clone(), master.settings.leader_epoch)
    }

    /// sentinelGetLeader: the sentinel that won the election for master `m` in `epoch`, if any
    /// won: most votes among fellow sentinels' votes in the current epoch plus our own, which
    /// goes to that sentinel (or to us if nobody voted yet); it needs a majority of every
    /// sentinel known and at least the quorum.
    pub fn get_leader(&mut self, m: usize, epoch: u64, now_ms: u64) -> Option<String> {
        let current = self.settings.current_epoch;
        let voters = self.masters[m].sentinels.len() as u64 + 1;
        let mut counts: Vec<(String, u64)> = Vec::new();
        for s in &self.masters[m].sentinels {
            if let Some((leader, leader_epoch)) = &s.vote {
                if *leader_epoch == current {
                    increment(&mut counts, leader);
                }
            }
        }
        let (mut winner, mut max_votes) = most_voted(&counts);
        let candidate = winner.clone().unwrap_or_else(|| self.myid.clone());
        let (my_vote, my_epoch) = self.vote(m, epoch, &candidate, now_ms);
        if let Some(v) = my_vote.filter(|_| my_epoch == epoch) {
            let votes = increment(&mut counts, &v);
            if votes > max_votes {
                max_votes = votes;
                winner = Some(v);
            }
        }
        let quorum = self.masters[m].settings.quorum as u64;
        let majority = voters / 2 + 1;
        winner.filter(|_| max_votes >= majority && max_votes >= quorum)
    }

    /// ODOWN (§4.3): SDOWN here and, with the sentinels that answered it is down, the quorum.
    pub fn odown_votes(&self, m: usize) -> (bool, u64) {
        let master = &self.masters[m];
        if !master.record.s_down {
            return (false, 0);
        }
        let votes = 1 + master.sentinels.iter().filter(|s| s.peer_master_down).count() as u64;
        (votes >= master.settings.quorum as u64, votes)
    }
}

fn increment(counts: &mut Vec<(String, u64)>, who: &str) -> u64 {
    match counts.iter_mut().find(|(k, _)| k == who) {
        Some((_, n)) => {
            *n += 1;
            *n
        }
        None => {
            counts.push((who.to_string(), 1));
            1
        }
    }
}

/// The most voted (the first of equals), and its votes.
fn most_voted(counts: &[(String, u64)]) -> (Option<String>, u64) {
    let mut best: (Option<String>, u64) = (None, 0);
    for (who, n) in counts {
        if *n > best.1 {
            best = (Some(who.clone()), *n);
        }
    }
    best
}

impl Master {
    /// The master's record, then its replicas', then its sentinels'.
    pub fn instance_ids(&self) -> Vec<InstanceId> {
        std::iter::once(self.record.id)
            .chain(self.replicas.iter().map(|r| r.id))
            .chain(self.sentinels.iter().map(|r| r.id))
            .collect()
    }

    pub fn find(&self, id: InstanceId) -> Option<&Record> {
        if self.record.id == id {
            return Some(&self.record);
        }
        self.replicas.iter().chain(self.sentinels.iter()).find(|r| r.id == id)
    }

    pub fn find_mut(&mut self, id: InstanceId) -> Option<&mut Record> {
        if self.record.id == id {
            return Some(&mut self.record);
        }
        self.replicas.iter_mut().chain(self.sentinels.iter_mut()).find(|r| r.id == id)
    }

    /// `command` as sent to this master, its replicas and its sentinels: renamed if the
    /// master's rename table says so.
    pub fn command_name(&self, command: &str) -> Vec<u8> {
        super::model::command_name(&self.settings.rename_commands, command).as_bytes().to_vec()
    }

    /// The address clients are to use: the promoted replica's once the failover reached
    /// reconf_slaves (sentinelGetCurrentMasterAddress).
    pub fn current_address(&self) -> (&str, u16) {
        if self.failover_in_progress && self.failover_state as u8 >= FailoverState::ReconfSlaves as u8 {
            if let Some(p) = self.replicas.iter().find(|r| r.promoted) {
                return (&p.host, p.port);
            }
        }
        (&self.settings.host, self.settings.port)
    }

    fn to_config(&self) -> MasterConfig {
        let mut cfg = self.settings.clone();
        let (host, port) = self.current_address();
        let (host, port) = (host.to_string(), port);
        // Mid-failover the promoted replica is the master line; the old master is a replica.
        let mut replicas: Vec<KnownReplica> = Vec::new();
        for r in &self.replicas {
            let (h, p) = if r.host == host && r.port == port {
                (self.settings.host.clone(), self.settings.port)
            } else {
                (r.host.clone(), r.port)
            };
            replicas.push(KnownReplica { host: h, port: p });
        }
        cfg.host = host;
        cfg.port = port;
        cfg.known_replicas = replicas;
        cfg.known_sentinels = self
            .sentinels
            .iter()
            .filter_map(|s| s.run_id.clone().map(|id| KnownSentinel { host: s.host.clone(), port: s.port, run_id: id }))
            .collect();
        cfg
    }

    /// sentinelSelectSlave (§5.4): the replica to promote, if one is fit; `connected` tells
    /// whether a replica's links are up (one whose link is down is not).
    pub fn select_replica(
        &self,
        now_ms: u64,
        info_period_ms: u64,
        ping_period_ms: u64,
        connected: impl Fn(InstanceId) -> bool,
    ) -> Option<InstanceId> {
        let down_after = self.settings.down_after_ms;
        let mut max_link_down = down_after * 10;
        if self.record.s_down {
            max_link_down += now_ms.saturating_sub(self.record.s_down_since);
        }
        let fit = |r: &&Record| {
            let info_limit = if self.record.s_down { ping_period_ms * 5 } else { info_period_ms * 3 };
            !r.s_down
                && !r.o_down
                && connected(r.id)
                && r.info_ms != 0
                && now_ms.saturating_sub(r.last_avail_ms) <= ping_period_ms * 5
                && r.priority() != 0
                && now_ms.saturating_sub(r.info_ms) <= info_limit
                && r.info.master_link_down_ms <= max_link_down as i64
        };
        let mut candidates: Vec<&Record> = self.replicas.iter().filter(fit).collect();
        candidates.sort_by(|a, b| {
            a.priority()
                .cmp(&b.priority())
                .then(b.info.slave_repl_offset.unwrap_or(0).cmp(&a.info.slave_repl_offset.unwrap_or(0)))
                .then_with(|| match (&a.run_id, &b.run_id) {
                    (Some(x), Some(y)) => x.to_ascii_lowercase().cmp(&y.to_ascii_lowercase()),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
        });
        candidates.first().map(|r| r.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: &str = "0000000000000000000000000000000000000000";

    fn sentinel(peers: usize) -> Sentinel {
        let mut cfg = SentinelConfig { myid: Some(ME.into()), ..Default::default() };
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 2);
        for i in 0..peers {
            let run_id = format!("{:040x}", i + 1);
            m.known_sentinels.push(KnownSentinel { host: "127.0.0.1".into(), port: 26380 + i as u16, run_id });
        }
        m.known_replicas.push(KnownReplica { host: "127.0.0.1".into(), port: 6380 });
        cfg.masters.push(m);
        Sentinel::from_config(cfg, 1_000)
    }

    #[test]
    fn the_master_record_as_subject_is_the_master_alone() {
        let mut s = sentinel(0);
        let (master_id, replica_id) = (s.masters[0].record.id, s.masters[0].replicas[0].id);
        s.event("+sdown", true, Some((0, Some(master_id))), "");
        s.event("+sdown", true, Some((0, Some(replica_id))), "");
        let messages: Vec<&str> = s.events.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            ["master mymaster 127.0.0.1 6379", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"]
        );
    }

    #[test]
    fn one_vote_per_epoch_first_request_wins() {
        let mut s = sentinel(2);
        let (leader, epoch) = s.vote(0, 1, "a", 1_000);
        assert_eq!((leader.as_deref(), epoch), (Some("a"), 1));
        let (leader, epoch) = s.vote(0, 1, "b", 1_000);
        assert_eq!((leader.as_deref(), epoch), (Some("a"), 1), "the second request of the epoch gets the first vote");
        let (leader, epoch) = s.vote(0, 2, "b", 1_000);
        assert_eq!((leader.as_deref(), epoch), (Some("b"), 2));
        assert_eq!(s.settings.current_epoch, 2);
        let kinds: Vec<&str> = s.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["+new-epoch", "+vote-for-leader", "+new-epoch", "+vote-for-leader"]);
        assert_eq!(s.events[1].message, "a 1");
        assert!(s.flush_needed);
    }

    #[test]
    fn a_leader_needs_a_majority_of_all_known_sentinels_and_the_quorum() {
        // Three sentinels known besides us: four voters, three votes needed.
        let mut s = sentinel(3);
        s.settings.current_epoch = 5;
        assert_eq!(s.get_leader(0, 5, 1_000), None, "our own vote alone");
        s.masters[0].sentinels[0].vote = Some((ME.into(), 5));
        assert_eq!(s.get_leader(0, 5, 1_000), None, "two of four");
        s.masters[0].sentinels[1].vote = Some((ME.into(), 5));
        assert_eq!(s.get_leader(0, 5, 1_000).as_deref(), Some(ME));
        // Votes of an older epoch do not count.
        let mut s = sentinel(1);
        s.settings.current_epoch = 3;
        s.masters[0].sentinels[0].vote = Some((ME.into(), 2));
        assert_eq!(s.get_leader(0, 3, 1_000), None);
    }

    #[test]
    fn we_vote_for_the_sentinel_others_voted_for() {
        let mut s = sentinel(2);
        s.settings.current_epoch = 7;
        let other = s.masters[0].sentinels[0].run_id.clone().expect("run id");
        s.masters[0].sentinels[0].vote = Some((other.clone(), 7));
        s.masters[0].sentinels[1].vote = Some((other.clone(), 7));
        assert_eq!(s.get_leader(0, 7, 1_000), Some(other.clone()));
        assert_eq!(s.masters[0].leader, Some(other));
    }

    #[test]
    fn replica_selection_prefers_low_priority_then_high_offset_then_small_run_id() {
        let mut s = sentinel(0);
        let now = 100_000;
        let mut add = |port: u16, prio: i64, offset: u64, run: &str| {
            let id = s.new_id();
            let mut r = Record::new(id, Kind::Replica, replica_name("10.0.0.1", port), "10.0.0.1".into(), port, now);
            r.info_ms = now;
            r.last_avail_ms = now;
            r.info.slave_priority = Some(prio);
            r.info.slave_repl_offset = Some(offset);
            r.run_id = Some(run.into());
            s.masters[0].replicas.push(r);
            id
        };
        let _never = add(1, 0, 999, "a");
        let low_offset = add(2, 10, 5, "a");
        let high_offset = add(3, 10, 50, "c");
        let same_offset_smaller_id = add(4, 10, 50, "B");
        let _worse_priority = add(5, 20, 500, "a");
        let m = &s.masters[0];
        let _ = low_offset;
        assert_eq!(m.select_replica(now, 10_000, 1_000, |_| true), Some(same_offset_smaller_id));
        let linked = |id| id != same_offset_smaller_id;
        assert_eq!(m.select_replica(now, 10_000, 1_000, linked), Some(high_offset), "a link down rules it out");
    }

    #[test]
    fn config_round_trip_keeps_what_the_file_holds() {
        let s = sentinel(2);
        let cfg = s.to_config();
        assert_eq!(cfg.myid.as_deref(), Some(ME));
        assert_eq!(cfg.masters[0].known_sentinels.len(), 2);
        assert_eq!(cfg.masters[0].known_replicas, vec![KnownReplica { host: "127.0.0.1".into(), port: 6380 }]);
        assert_eq!(Sentinel::from_config(cfg.clone(), 0).to_config(), cfg);
    }

    #[test]
    fn events_name_their_subject() {
        let mut s = sentinel(0);
        let replica = s.masters[0].replicas[0].id;
        s.event("+sdown", true, Some((0, None)), "");
        s.event("+slave", false, Some((0, Some(replica))), "");
        s.event("+odown", true, Some((0, None)), "#quorum 2/2");
        assert_eq!(s.events[0].message, "master mymaster 127.0.0.1 6379");
        assert_eq!(s.events[1].message, "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379");
        assert_eq!(s.events[2].message, "master mymaster 127.0.0.1 6379 #quorum 2/2");
    }

    #[test]
    fn a_switch_master_names_its_master_for_the_journal_and_the_script() {
        let mut s = sentinel(0);
        s.masters[0].settings.notification_script = Some("/bin/true".into());
        s.master_event(
            "+switch-master",
            true,
            0,
            Some(("127.0.0.1", 6380)),
            "mymaster 127.0.0.1 6379 127.0.0.1 6380".into(),
        );
        assert_eq!(s.events[0].message, "mymaster 127.0.0.1 6379 127.0.0.1 6380");
        let address = |name: &str, port| EventAddress { name: name.into(), ip: "127.0.0.1".into(), port };
        assert_eq!(s.events[0].master, Some(address("mymaster", 6379)));
        assert_eq!(s.events[0].instance, Some(address("master", 6380)), "the new master");
        assert_eq!(s.scripts.queued(), 1, "Redis runs the notification script for +switch-master");
    }
}
