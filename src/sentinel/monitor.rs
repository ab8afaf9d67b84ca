//! The monitoring loop (Redis's sentinelTimer and reply callbacks): links to every instance,
//! the periodic PING, INFO and hello, what their replies teach, and failure detection (SDOWN,
//! ODOWN, asking the other sentinels). The failover state machine builds on this.
//!
//! Everything runs on one task that owns the [`Runtime`]: ticks every 50–100 ms (the jitter
//! keeps sentinels from acting in lock-step) and link events as they come.

use std::time::Duration;

use hashbrown::HashMap;
use tokio::sync::mpsc::UnboundedSender;

use super::instance::{parse_info, replica_name, Hello, InstanceId, Kind};
use super::link::{Link, LinkConfig, LinkEvent};
use super::state::{Record, Sentinel};
use crate::client::Value;

pub use super::timing::Timings;

pub const HELLO_CHANNEL: &str = "__sentinel__:hello";

/// What a command sent on a link was, for its reply. A link to a sentinel may be shared by its
/// records under several masters, so the replies that belong to one record name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Ping,
    Info,
    Publish(InstanceId),
    IsMasterDown(InstanceId),
    /// Replies Sentinel does not look at (the SLAVEOF transaction's).
    Ignored,
}

/// The two connections Sentinel keeps to a master or replica (only `cmd` to a sentinel).
pub(super) struct Links {
    pub(super) cmd: Option<Link<Tag>>,
    pub(super) pubsub: Option<Link<Tag>>,
    last_attempt_ms: u64,
    /// How many records use these links (Redis's link-refcount): a peer sentinel that watches
    /// several of the same masters has one record per master and one link.
    refcount: usize,
}

impl Links {
    fn new() -> Links {
        Links { cmd: None, pubsub: None, last_attempt_ms: 0, refcount: 1 }
    }
}

/// Link ids: the instance id, and which of its two links.
fn link_id(instance: InstanceId, pubsub: bool) -> u64 {
    (instance << 1) | u64::from(pubsub)
}

fn instance_of(link: u64) -> (InstanceId, bool) {
    (link >> 1, link & 1 == 1)
}

pub struct Runtime {
    pub sentinel: Sentinel,
    pub timings: Timings,
    pub(super) links: HashMap<InstanceId, Links>,
    /// Records that use another record's links (sentinelTryConnectionSharing): record -> the
    /// key of the links in `links`.
    shared: HashMap<InstanceId, InstanceId>,
    events: UnboundedSender<LinkEvent<Tag>>,
    /// The port hellos announce when `announce-port` is not set.
    pub port: u16,
    pub tilt: bool,
    pub tilt_start_ms: u64,
    previous_tick_ms: u64,
    pub simulate_failure: super::simulate::SimulateFailure,
    /// This server's requirepass (kept current by the runner): what other sentinels are sent as
    /// AUTH when sentinel-pass is not set.
    pub requirepass: Option<bytes::Bytes>,
}

pub use super::commands::LinkStatus;

impl Runtime {
    pub fn new(sentinel: Sentinel, port: u16, events: UnboundedSender<LinkEvent<Tag>>, now_ms: u64) -> Runtime {
        Runtime {
            sentinel,
            timings: Timings::default(),
            links: HashMap::new(),
            shared: HashMap::new(),
            events,
            port,
            tilt: false,
            tilt_start_ms: 0,
            previous_tick_ms: now_ms,
            simulate_failure: Default::default(),
            requirepass: None,
        }
    }

    pub fn link_status(&self, id: InstanceId) -> LinkStatus {
        link_status_of(&self.links, &self.shared, id)
    }

    /// The key of the links record `id` uses (its own id unless it shares another's).
    fn link_key(&self, id: InstanceId) -> InstanceId {
        self.shared.get(&id).copied().unwrap_or(id)
    }

    /// A sentinel record about to open links uses the links of the same sentinel (run id and
    /// address) under another master instead, if there are some (sentinelTryConnectionSharing).
    fn share_sentinel_link(&mut self, m: usize, id: InstanceId) -> Option<InstanceId> {
        let record = self.sentinel.masters[m].find(id)?;
        let run_id = record.run_id.as_deref()?;
        let key = self
            .sentinel
            .masters
            .iter()
            .enumerate()
            .filter(|(other, _)| *other != m)
            .flat_map(|(_, master)| &master.sentinels)
            .filter(|s| s.run_id.as_deref() == Some(run_id) && s.host == record.host && s.port == record.port)
            .map(|s| self.link_key(s.id))
            .find(|key| self.links.contains_key(key))?;
        self.shared.insert(id, key);
        if let Some(links) = self.links.get_mut(&key) {
            links.refcount += 1;
        }
        Some(key)
    }

    /// The records (master index, record id) that use the links under `key`.
    fn records_on_link(&self, key: InstanceId) -> Vec<(usize, InstanceId)> {
        let mut out = Vec::new();
        for (m, master) in self.sentinel.masters.iter().enumerate() {
            for id in master.instance_ids() {
                if self.link_key(id) == key {
                    out.push((m, id));
                }
            }
        }
        out
    }

    /// What SENTINEL replies and INFO read of the loop: TILT, scripts, and the links' state.
    fn context<'a>(&self, now_ms: u64, links: &'a dyn Fn(InstanceId) -> LinkStatus) -> super::commands::Context<'a> {
        super::commands::Context {
            now_ms,
            links,
            tilt_since_ms: self.tilt.then_some(self.tilt_start_ms),
            running_scripts: self.sentinel.scripts.running(),
            queued_scripts: self.sentinel.scripts.queued(),
            simulate_failure_flags: self.simulate_failure.flags,
        }
    }

    /// INFO's `# Sentinel` section.
    pub fn info_section(&self, now_ms: u64) -> String {
        let (links, shared) = (&self.links, &self.shared);
        let status = |id: InstanceId| link_status_of(links, shared, id);
        let ctx = self.context(now_ms, &status);
        super::commands::info_sentinel_section(&self.sentinel, &ctx)
    }

    /// SENTINEL <subcommand> ...: the informational and configuration subcommands, and FAILOVER.
    pub fn command(&mut self, args: &[bytes::Bytes], now_ms: u64) -> crate::protocol::Reply {
        use super::commands::Dispatch;
        let (links, shared) = (&self.links, &self.shared);
        let status = |id: InstanceId| link_status_of(links, shared, id);
        let ctx = self.context(now_ms, &status);
        match super::commands::command(&mut self.sentinel, args, &ctx, &mut self.timings) {
            Dispatch::Done(outcome) => {
                for id in outcome.drop_links {
                    self.forget_links(id);
                }
                outcome.reply
            }
            Dispatch::NotHere => self.not_here(args, now_ms),
        }
    }

    /// SENTINEL FAILOVER, PENDING-SCRIPTS and SIMULATE-FAILURE.
    fn not_here(&mut self, args: &[bytes::Bytes], now_ms: u64) -> crate::protocol::Reply {
        use crate::protocol::Reply;
        let sub = String::from_utf8_lossy(&args[1]).into_owned();
        if sub.eq_ignore_ascii_case("pending-scripts") {
            return self.pending_scripts(now_ms);
        }
        if sub.eq_ignore_ascii_case("simulate-failure") {
            return self.simulate_failure.command(&args[2..]);
        }
        if !sub.eq_ignore_ascii_case("failover") {
            return Reply::error(format!("ERR unknown subcommand '{sub}'. Try SENTINEL HELP."));
        }
        let name = String::from_utf8_lossy(&args[2]).into_owned();
        let Some(m) = self.sentinel.master_index(&name) else {
            return Reply::error("ERR No such master with that name");
        };
        if self.sentinel.masters[m].failover_in_progress {
            return Reply::error("INPROG Failover already in progress");
        }
        if self.replica_to_promote(m, now_ms).is_none() {
            return Reply::error("NOGOODSLAVE No suitable replica to promote");
        }
        tracing::warn!("Executing user requested FAILOVER of '{name}'");
        self.start_failover(m, now_ms);
        self.sentinel.masters[m].force_failover = true;
        Reply::OK
    }

    /// SENTINEL PENDING-SCRIPTS: each queued or running script run.
    fn pending_scripts(&self, now_ms: u64) -> crate::protocol::Reply {
        use crate::protocol::Reply;
        let jobs = self.sentinel.scripts.jobs.iter().map(|j| {
            let mut fields = vec![
                (Reply::bulk("argv"), Reply::Array(j.argv.iter().map(Reply::bulk).collect())),
                (Reply::bulk("flags"), Reply::bulk(if j.running.is_some() { "running" } else { "scheduled" })),
                (Reply::bulk("pid"), Reply::bulk(j.pid.to_string())),
            ];
            match j.running {
                Some(since) => {
                    fields.push((Reply::bulk("run-time"), Reply::bulk(now_ms.saturating_sub(since).to_string())))
                }
                None => fields
                    .push((Reply::bulk("run-delay"), Reply::bulk(j.start_at_ms.saturating_sub(now_ms).to_string()))),
            }
            fields.push((Reply::bulk("retry-num"), Reply::bulk(j.retry_num.to_string())));
            Reply::Map(fields)
        });
        Reply::Array(jobs.collect())
    }

    /// A record removed (or reset) lets go of its links; they close when no record uses them.
    pub fn forget_links(&mut self, id: InstanceId) {
        let key = self.shared.remove(&id).unwrap_or(id);
        if let Some(links) = self.links.get_mut(&key) {
            links.refcount = links.refcount.saturating_sub(1);
            if links.refcount == 0 {
                self.links.remove(&key);
            }
        }
    }

    /// One timer pass (sentinelTimer): TILT, then every master with its replicas and sentinels,
    /// in Redis's order (sentinelHandleDictOfRedisInstances): the master is handled first, its
    /// failover included, then its replicas and sentinels, so what the master's pass decided
    /// (ODOWN makes replicas' INFO due every second) applies to them in the same pass; a failover
    /// that reached update_config switches at the end of the pass.
    pub fn tick(&mut self, now_ms: u64) {
        self.check_tilt(now_ms);
        for (kind, message) in self.sentinel.scripts.tick(now_ms, &self.timings) {
            self.sentinel.event(kind, true, None, &message);
        }
        let mut switch_to_promoted = None;
        for m in 0..self.sentinel.masters.len() {
            let ids = self.sentinel.masters[m].instance_ids();
            for id in ids {
                self.handle_instance(m, id, now_ms);
                if self.tilt {
                    continue;
                }
                self.check_sdown(m, id, now_ms);
                if id == self.sentinel.masters[m].record.id {
                    self.check_odown(m, now_ms);
                    self.failover_tick(m, now_ms);
                    self.ask_others(m, now_ms, false);
                }
            }
            if self.sentinel.masters[m].failover_state == super::state::FailoverState::UpdateConfig {
                switch_to_promoted = Some(m);
            }
        }
        if let Some(m) = switch_to_promoted {
            self.switch_to_promoted(m, now_ms);
        }
    }

    fn check_tilt(&mut self, now_ms: u64) {
        let delta = now_ms as i64 - self.previous_tick_ms as i64;
        self.previous_tick_ms = now_ms;
        if delta < 0 || delta as u64 > self.timings.tilt_trigger {
            self.tilt = true;
            self.tilt_start_ms = now_ms;
            self.sentinel.event("+tilt", true, None, "#tilt mode entered");
        } else if self.tilt && now_ms - self.tilt_start_ms > self.timings.tilt_period {
            self.tilt = false;
            self.sentinel.event("-tilt", true, None, "#tilt mode exited");
        }
    }

    fn handle_instance(&mut self, m: usize, id: InstanceId, now_ms: u64) {
        self.reconnect(m, id, now_ms);
        self.send_periodic(m, id, now_ms);
    }

    /// Opens the missing links, at most once per ping period; closes links that went stale.
    fn reconnect(&mut self, m: usize, id: InstanceId, now_ms: u64) {
        let master = &self.sentinel.masters[m];
        let Some(record) = master.find(id) else { return };
        if record.port == 0 {
            return;
        }
        let kind = record.kind;
        let down_after = master.settings.down_after_ms;
        let mut key = self.link_key(id);
        if kind == Kind::Sentinel && key == id && !self.links.contains_key(&id) {
            key = self.share_sentinel_link(m, id).unwrap_or(id);
        }
        let master = &self.sentinel.masters[m];
        let Some(record) = master.find(id) else { return };
        let links = self.links.entry(key).or_insert_with(Links::new);
        // Stale links (§3.1).
        if let Some(cmd) = &links.cmd {
            let old = cmd
                .connected_at()
                .is_some_and(|t| t.elapsed().as_millis() as u64 > self.timings.min_link_reconnect_period);
            if old
                && record.act_ping_ms != 0
                && now_ms.saturating_sub(record.act_ping_ms) > down_after / 2
                && now_ms.saturating_sub(record.last_pong_ms) > down_after / 2
            {
                links.cmd = None;
            }
        }
        if let Some(pubsub) = &links.pubsub {
            let old = pubsub
                .connected_at()
                .is_some_and(|t| t.elapsed().as_millis() as u64 > self.timings.min_link_reconnect_period);
            // Only traffic on this link counts (messages, the own hellos echoed back included):
            // a server that takes PUBLISH but delivers nothing gets its pub/sub link cycled.
            if old && now_ms.saturating_sub(record.last_hello_ms) > self.timings.publish_period * 3 {
                links.pubsub = None;
            }
        }
        let wants_pubsub = kind != Kind::Sentinel;
        let missing = links.cmd.is_none() || (wants_pubsub && links.pubsub.is_none());
        if !missing || now_ms.saturating_sub(links.last_attempt_ms) < self.timings.ping_period {
            return;
        }
        links.last_attempt_ms = now_ms;
        let auth = match kind {
            // Without sentinel-pass, the sentinels of older configs share one requirepass: it
            // is used both ways (sentinelSendAuthIfNeeded).
            Kind::Sentinel => match &self.sentinel.settings.sentinel_pass {
                Some(p) => Some((self.sentinel.settings.sentinel_user.clone(), p.clone())),
                None => self.requirepass.as_ref().map(|p| (None, String::from_utf8_lossy(p).into_owned())),
            },
            _ => master.settings.auth_pass.clone().map(|p| (master.settings.auth_user.clone(), p)),
        };
        let short_id: String = self.sentinel.myid.chars().take(8).collect();
        let base = LinkConfig {
            host: record.host.clone(),
            port: record.port,
            auth,
            client_name: format!("sentinel-{short_id}-cmd"),
            subscribe: None,
            renames: master.settings.rename_commands.clone(),
            connect_timeout: Duration::from_millis(self.timings.ping_period.max(1000)),
        };
        if links.cmd.is_none() {
            let link = Link::start(link_id(key, false), base.clone(), self.events.clone());
            // The handshake's PING: its reply tells the instance is alive (§3.1).
            link.send(vec![self.sentinel.masters[m].command_name("PING")], Tag::Ping);
            links.cmd = Some(link);
        }
        if wants_pubsub && links.pubsub.is_none() {
            let cfg = LinkConfig {
                client_name: format!("sentinel-{short_id}-pubsub"),
                subscribe: Some(HELLO_CHANNEL.to_string()),
                ..base
            };
            links.pubsub = Some(Link::start(link_id(key, true), cfg, self.events.clone()));
        }
        self.pinged(key, now_ms);
    }

    /// A PING went out on the links under `key`: every record on them waits for its reply
    /// (Redis keeps these times in the shared link).
    fn pinged(&mut self, key: InstanceId, now_ms: u64) {
        for (m, id) in self.records_on_link(key) {
            if let Some(r) = self.sentinel.masters[m].find_mut(id) {
                if r.act_ping_ms == 0 {
                    r.act_ping_ms = now_ms;
                }
                r.last_ping_ms = now_ms;
            }
        }
    }

    /// The cmd link to send on, if the instance's links are open. As in Redis, where an
    /// instance's `disconnected` flag clears as soon as its connections are started: commands
    /// go out on a link still connecting (written once it is up), but not while one of the two
    /// links of a master or replica is missing.
    fn open_cmd_link(&self, id: InstanceId, kind: Kind) -> Option<&Link<Tag>> {
        self.open_links(id, kind)?.cmd.as_ref()
    }

    /// The instance's links, if its cmd link can take commands (see `open_cmd_link`).
    fn open_links(&self, id: InstanceId, kind: Kind) -> Option<&Links> {
        let links = self.links.get(&self.link_key(id))?;
        let pubsub_ok = kind == Kind::Sentinel || links.pubsub.as_ref().is_some_and(Link::is_open);
        links.cmd.as_ref().is_some_and(|cmd| cmd.is_open() && pubsub_ok).then_some(links)
    }

    /// INFO, PING and hello when they are due (§3.2).
    fn send_periodic(&mut self, m: usize, id: InstanceId, now_ms: u64) {
        let master = &self.sentinel.masters[m];
        let Some(record) = master.find(id) else { return };
        let Some(links) = self.open_links(id, record.kind) else { return };
        let Some(cmd) = links.cmd.as_ref() else { return };
        // 100 per record on the link: a shared link carries the commands of each.
        if cmd.pending() >= 100 * links.refcount {
            return;
        }
        let fast_info = record.kind == Kind::Replica
            && (master.record.o_down || master.failover_in_progress || record.info.master_link_down_ms != 0);
        let info_period = if fast_info { 1_000 } else { self.timings.info_period };
        let ping_period = master.settings.down_after_ms.min(self.timings.ping_period);
        let (info_due, ping_due, hello_due) = (
            record.kind != Kind::Sentinel && (record.info_ms == 0 || now_ms - record.info_ms > info_period),
            now_ms.saturating_sub(record.last_pong_ms) > ping_period
                && now_ms.saturating_sub(record.last_ping_ms) > ping_period / 2,
            now_ms.saturating_sub(record.last_pub_ms) > self.timings.publish_period,
        );
        if info_due {
            cmd.send(vec![master.command_name("INFO")], Tag::Info);
        }
        if ping_due && cmd.send(vec![master.command_name("PING")], Tag::Ping) {
            self.pinged(self.link_key(id), now_ms);
        }
        if hello_due {
            self.send_hello(m, id);
        }
    }

    /// PUBLISH __sentinel__:hello with this sentinel's address and its view of the master (§3.4).
    fn send_hello(&mut self, m: usize, id: InstanceId) {
        let Some(cmd) = self.links.get(&self.link_key(id)).and_then(|l| l.cmd.as_ref()) else { return };
        let settings = &self.sentinel.settings;
        let ip = match &settings.announce_ip {
            Some(ip) if !ip.is_empty() => ip.clone(),
            _ => match cmd.local_addr() {
                Some(a) => a.ip().to_string(),
                None => return,
            },
        };
        let port = if settings.announce_port > 0 { settings.announce_port as u16 } else { self.port };
        let master = &self.sentinel.masters[m];
        let (mip, mport) = master.current_address();
        let hello = Hello {
            sentinel_ip: ip,
            sentinel_port: port,
            sentinel_run_id: self.sentinel.myid.clone(),
            current_epoch: settings.current_epoch,
            master_name: master.settings.name.clone(),
            master_ip: mip.to_string(),
            master_port: mport,
            master_config_epoch: master.settings.config_epoch,
        };
        let args =
            vec![master.command_name("PUBLISH"), HELLO_CHANNEL.as_bytes().to_vec(), hello.payload().into_bytes()];
        cmd.send(args, Tag::Publish(id));
    }

    /// A link's report.
    pub fn handle_event(&mut self, event: LinkEvent<Tag>, now_ms: u64) {
        match event {
            LinkEvent::Connected { .. } => {}
            LinkEvent::Closed { id, .. } => {
                let (instance, pubsub) = instance_of(id);
                if let Some(l) = self.links.get_mut(&instance) {
                    // Only if it is still that link (a newer one, still connecting, may have
                    // replaced it).
                    let slot = if pubsub { &mut l.pubsub } else { &mut l.cmd };
                    if slot.as_ref().is_some_and(|link| !link.is_open()) {
                        *slot = None;
                    }
                }
            }
            LinkEvent::Reply { id, tag, value } => self.handle_reply(instance_of(id).0, tag, value, now_ms),
            LinkEvent::Message { id, payload, .. } => {
                let instance = instance_of(id).0;
                if let Some(r) = self.find_mut(instance) {
                    r.last_hello_ms = now_ms;
                }
                self.process_hello(&payload, now_ms);
            }
        }
    }

    fn find_mut(&mut self, id: InstanceId) -> Option<&mut Record> {
        self.sentinel.masters.iter_mut().find_map(|m| m.find_mut(id))
    }

    fn locate(&self, id: InstanceId) -> Option<usize> {
        self.sentinel.masters.iter().position(|m| m.find(id).is_some())
    }

    /// A reply on the links under `key`.
    fn handle_reply(&mut self, key: InstanceId, tag: Tag, value: Value, now_ms: u64) {
        match tag {
            Tag::Ping => {
                let available = matches!(&value, Value::Status(text) | Value::Error(text)
                    if text.starts_with("PONG") || text.starts_with("LOADING") || text.starts_with("MASTERDOWN"));
                let busy = matches!(&value, Value::Error(text) if text.starts_with("BUSY"));
                let pong = matches!(&value, Value::Status(text) if text.starts_with("PONG"));
                for (m, id) in self.records_on_link(key) {
                    let Some(r) = self.sentinel.masters[m].find_mut(id) else { continue };
                    if available {
                        r.last_avail_ms = now_ms;
                        r.act_ping_ms = 0;
                    }
                    // Only a real PONG says a restarted master serves again (not LOADING).
                    if pong {
                        r.master_reboot_since = None;
                    }
                    r.last_pong_ms = now_ms;
                    // Down only because a script runs too long: kill it, once per SDOWN.
                    if busy && r.s_down && !r.script_kill_sent {
                        r.script_kill_sent = true;
                        let script = self.sentinel.masters[m].command_name("SCRIPT");
                        if let Some(cmd) = self.links.get(&key).and_then(|l| l.cmd.as_ref()) {
                            cmd.send(vec![script, b"KILL".to_vec()], Tag::Ignored);
                        }
                    }
                }
            }
            Tag::Info => {
                let Some(m) = self.locate(key) else { return };
                if let Value::Bulk(b) = value {
                    self.refresh_from_info(m, key, String::from_utf8_lossy(&b).into_owned(), now_ms);
                }
            }
            Tag::Publish(id) => {
                let Some(m) = self.locate(id) else { return };
                if !matches!(value, Value::Error(_)) {
                    if let Some(r) = self.sentinel.masters[m].find_mut(id) {
                        r.last_pub_ms = now_ms;
                    }
                }
            }
            Tag::IsMasterDown(id) => {
                let Some(m) = self.locate(id) else { return };
                self.master_down_reply(m, id, value, now_ms);
            }
            Tag::Ignored => {}
        }
    }

    /// What an INFO reply teaches (§3.5), up to the role change; the acting half belongs to the
    /// failover.
    fn refresh_from_info(&mut self, m: usize, id: InstanceId, text: String, now_ms: u64) {
        let mut fields = parse_info(&text);
        // Addresses as Sentinel keeps them (a replica may announce a host name; without
        // resolve-hostnames, or if it does not resolve, that replica is left out).
        let replicas = std::mem::take(&mut fields.replicas);
        fields.replicas = replicas
            .into_iter()
            .filter_map(|(host, port)| Some((self.sentinel.discovered_address(&host)?, port)))
            .collect();
        if let Some(host) = &mut fields.master_host {
            *host = self.sentinel.kept_address(host);
        }
        let is_master_record = self.sentinel.masters[m].record.id == id;
        let reboot_down_after = self.sentinel.masters[m].settings.master_reboot_down_after_period_ms;
        let mut discovered = Vec::new();
        let mut rebooted = false;
        let mut role_change = None;
        {
            let master = &mut self.sentinel.masters[m];
            let known: Vec<(String, u16)> = master.replicas.iter().map(|r| (r.host.clone(), r.port)).collect();
            let Some(r) = master.find_mut(id) else { return };
            r.info_ms = now_ms;
            if let Some(run_id) = &fields.run_id {
                if r.run_id.as_ref().is_some_and(|old| old != run_id) {
                    rebooted = true;
                    if is_master_record && reboot_down_after != 0 {
                        r.master_reboot_since = Some(now_ms);
                    }
                }
                r.run_id = Some(run_id.clone());
            }
            if is_master_record {
                for addr in &fields.replicas {
                    if !known.contains(addr) && !discovered.contains(addr) {
                        discovered.push(addr.clone());
                    }
                }
            }
            if let Some(role) = fields.role {
                if role != r.role_reported {
                    r.role_reported = role;
                    r.role_reported_ms = now_ms;
                    role_change = Some((role == r.kind, role));
                }
            }
            if fields.master_host != r.info.master_host || fields.master_port != r.info.master_port {
                r.slave_conf_change_ms = now_ms;
            }
            r.info = fields;
            r.info_text = Some(text);
        }
        if rebooted {
            self.sentinel.event("+reboot", false, Some((m, Some(id))), "");
        }
        for (host, port) in discovered {
            let rid = self.sentinel.new_id();
            let record = Record::new(rid, Kind::Replica, replica_name(&host, port), host, port, now_ms);
            self.sentinel.masters[m].replicas.push(record);
            self.sentinel.event("+slave", false, Some((m, Some(rid))), "");
            self.sentinel.flush_needed = true;
        }
        if let Some((matches, role)) = role_change {
            let word = if role == Kind::Master { "master" } else { "slave" };
            let kind = if matches { "+role-change" } else { "-role-change" };
            self.sentinel.event(kind, false, Some((m, Some(id))), &format!("new reported role is {word}"));
        }
        if !self.tilt {
            self.act_on_info(m, id, now_ms);
        }
    }

    /// A hello (§3.4): a fellow sentinel discovered or moved, a newer epoch, a newer configuration.
    pub fn process_hello(&mut self, payload: &[u8], now_ms: u64) {
        let Some(mut h) = Hello::parse(payload) else { return };
        // A sentinel at an address that cannot be used is not added (its other news still count).
        let usable = self.sentinel.discovered_address(&h.sentinel_ip);
        h.sentinel_ip = usable.clone().unwrap_or(h.sentinel_ip);
        h.master_ip = self.sentinel.kept_address(&h.master_ip);
        if h.sentinel_run_id == self.sentinel.myid {
            return;
        }
        let Some(m) = self.sentinel.master_index(&h.master_name) else { return };
        let known = self.sentinel.masters[m].sentinels.iter().any(|s| {
            s.host == h.sentinel_ip && s.port == h.sentinel_port && s.run_id.as_deref() == Some(&*h.sentinel_run_id)
        });
        if !known && usable.is_some() {
            self.add_sentinel(m, &h, now_ms);
        }
        if h.current_epoch > self.sentinel.settings.current_epoch {
            self.sentinel.settings.current_epoch = h.current_epoch;
            self.sentinel.flush_needed = true;
            self.sentinel.master_event("+new-epoch", true, m, None, h.current_epoch.to_string());
        }
        if h.master_config_epoch > self.sentinel.masters[m].settings.config_epoch {
            self.sentinel.masters[m].settings.config_epoch = h.master_config_epoch;
            // The master's own address, even mid-failover (sentinelProcessHelloMessage).
            let (ip, port) = (self.sentinel.masters[m].settings.host.clone(), self.sentinel.masters[m].settings.port);
            if ip != h.master_ip || port != h.master_port {
                let sid = self.sentinel.masters[m]
                    .sentinels
                    .iter()
                    .find(|s| s.run_id.as_deref() == Some(&*h.sentinel_run_id))
                    .map(|s| s.id);
                self.sentinel.event("+config-update-from", true, Some((m, sid)), "");
                let name = self.sentinel.masters[m].settings.name.clone();
                let msg = format!("{name} {ip} {port} {} {}", h.master_ip, h.master_port);
                self.sentinel.master_event("+switch-master", true, m, Some((&h.master_ip, h.master_port)), msg);
                self.sentinel.client_reconfig(m, "observer", (&ip, port), (&h.master_ip, h.master_port));
                self.switch_master(m, h.master_ip.clone(), h.master_port, now_ms);
            }
        }
        if let Some(s) =
            self.sentinel.masters[m].sentinels.iter_mut().find(|s| s.run_id.as_deref() == Some(&*h.sentinel_run_id))
        {
            s.last_hello_ms = now_ms;
        }
    }

    /// A sentinel not known at this address with this run id (§3.4): an address switch if its
    /// run id was known elsewhere, a stale record dropped if another run id had this address.
    fn add_sentinel(&mut self, m: usize, h: &Hello, now_ms: u64) {
        let same_id =
            self.sentinel.masters[m].sentinels.iter().position(|s| s.run_id.as_deref() == Some(&*h.sentinel_run_id));
        let switched = same_id.is_some();
        if let Some(i) = same_id {
            let old = self.sentinel.masters[m].sentinels.remove(i);
            self.forget_links(old.id);
            self.sentinel.event(
                "+sentinel-address-switch",
                false,
                Some((m, None)),
                &format!("ip {} port {} for {}", h.sentinel_ip, h.sentinel_port, h.sentinel_run_id),
            );
        } else if let Some(i) =
            self.sentinel.masters[m].sentinels.iter().position(|s| s.host == h.sentinel_ip && s.port == h.sentinel_port)
        {
            let stale = self.sentinel.masters[m].sentinels[i].id;
            self.sentinel.event("+sentinel-invalid-addr", false, Some((m, Some(stale))), "");
            let stale_run_id = self.sentinel.masters[m].sentinels[i].run_id.clone();
            // The stale record is among them: its run id is stale_run_id.
            let mut removed = Vec::new();
            for master in &mut self.sentinel.masters {
                removed.extend(master.sentinels.iter().filter(|s| s.run_id == stale_run_id).map(|s| s.id));
                master.sentinels.retain(|s| s.run_id != stale_run_id);
            }
            for id in removed {
                self.forget_links(id);
            }
        }
        let id = self.sentinel.new_id();
        let mut record =
            Record::new(id, Kind::Sentinel, h.sentinel_run_id.clone(), h.sentinel_ip.clone(), h.sentinel_port, now_ms);
        record.run_id = Some(h.sentinel_run_id.clone());
        self.sentinel.masters[m].sentinels.push(record);
        if !switched {
            self.sentinel.event("+sentinel", false, Some((m, Some(id))), "");
        } else {
            self.update_sentinel_address_elsewhere(m, id, h);
        }
        self.sentinel.flush_needed = true;
    }

    /// A sentinel that moved (address switch under master `m`, new record `id`) is at its new
    /// address under the other masters too, with new links (sentinelUpdateSentinelAddressInAllMasters).
    fn update_sentinel_address_elsewhere(&mut self, m: usize, id: InstanceId, h: &Hello) {
        let mut moved = Vec::new();
        for (other, master) in self.sentinel.masters.iter_mut().enumerate() {
            if other == m {
                continue;
            }
            for s in master.sentinels.iter_mut().filter(|s| s.run_id.as_deref() == Some(&*h.sentinel_run_id)) {
                s.host = h.sentinel_ip.clone();
                s.port = h.sentinel_port;
                moved.push(s.id);
            }
        }
        for other in &moved {
            self.forget_links(*other);
        }
        if !moved.is_empty() {
            let n = moved.len();
            self.sentinel.event(
                "+sentinel-address-update",
                false,
                Some((m, Some(id))),
                &format!("{n} additional matching instances"),
            );
        }
    }

    /// Points the master record at a new address (§5.7): its replicas become those of the new
    /// master (the old master among them), its sentinels stay, its failover is over.
    pub fn switch_master(&mut self, m: usize, host: String, port: u16, now_ms: u64) {
        let (old_host, old_port) = {
            let s = &self.sentinel.masters[m].settings;
            (s.host.clone(), s.port)
        };
        let mut addresses: Vec<(String, u16)> = self.sentinel.masters[m]
            .replicas
            .iter()
            .filter(|r| !(r.host == host && r.port == port))
            .map(|r| (r.host.clone(), r.port))
            .collect();
        if !(old_host == host && old_port == port) {
            addresses.push((old_host, old_port));
        }
        let old_ids: Vec<InstanceId> = {
            let master = &self.sentinel.masters[m];
            std::iter::once(master.record.id).chain(master.replicas.iter().map(|r| r.id)).collect()
        };
        for id in old_ids {
            self.forget_links(id);
        }
        let new_id = self.sentinel.new_id();
        {
            let master = &mut self.sentinel.masters[m];
            master.settings.host = host.clone();
            master.settings.port = port;
            // Redis resets the master record in place (sentinelResetMaster): the hello schedule
            // goes on, so a hello that failed against the old address goes to the new one at once.
            let last_pub_ms = master.record.last_pub_ms;
            master.record = Record::new(new_id, Kind::Master, master.settings.name.clone(), host, port, now_ms);
            master.record.last_pub_ms = last_pub_ms;
            master.replicas.clear();
            master.leader = None;
            master.failover_state = super::state::FailoverState::None;
            master.failover_in_progress = false;
            master.force_failover = false;
            master.failover_start_ms = 0;
        }
        for (h, p) in addresses {
            let rid = self.sentinel.new_id();
            let record = Record::new(rid, Kind::Replica, replica_name(&h, p), h, p, now_ms);
            self.sentinel.masters[m].replicas.push(record);
            self.sentinel.event("+slave", false, Some((m, Some(rid))), "");
        }
        self.sentinel.flush_needed = true;
    }

    /// SDOWN for one instance of master `m` (§4.1).
    fn check_sdown(&mut self, m: usize, id: InstanceId, now_ms: u64) {
        let down_after = self.sentinel.masters[m].settings.down_after_ms;
        let reboot_down_after = self.sentinel.masters[m].settings.master_reboot_down_after_period_ms;
        let info_period = self.timings.info_period;
        let connected = self.link_status(id).connected;
        let Some(r) = self.sentinel.masters[m].find_mut(id) else { return };
        let elapsed = if r.act_ping_ms != 0 {
            now_ms.saturating_sub(r.act_ping_ms)
        } else if !connected {
            now_ms.saturating_sub(r.last_avail_ms)
        } else {
            0
        };
        let wrong_role = r.kind == Kind::Master
            && r.role_reported == Kind::Replica
            && now_ms.saturating_sub(r.role_reported_ms) > down_after + info_period * 2;
        // A restarted master that has not answered PONG for master-reboot-down-after-period.
        let not_back = r.master_reboot_since.is_some_and(|since| now_ms.saturating_sub(since) > reboot_down_after);
        let down = elapsed > down_after || wrong_role || not_back;
        if down && !r.s_down {
            r.s_down = true;
            r.s_down_since = now_ms;
            self.sentinel.event("+sdown", true, Some((m, Some(id))), "");
        } else if !down && r.s_down {
            r.s_down = false;
            r.script_kill_sent = false;
            self.sentinel.event("-sdown", true, Some((m, Some(id))), "");
        }
    }

    /// ODOWN for master `m` (§4.3).
    fn check_odown(&mut self, m: usize, now_ms: u64) {
        let (odown, votes) = self.sentinel.odown_votes(m);
        let quorum = self.sentinel.masters[m].settings.quorum;
        let record = &mut self.sentinel.masters[m].record;
        if odown && !record.o_down {
            record.o_down = true;
            record.o_down_since = now_ms;
            self.sentinel.event("+odown", true, Some((m, None)), &format!("#quorum {votes}/{quorum}"));
        } else if !odown && record.o_down {
            record.o_down = false;
            self.sentinel.event("-odown", true, Some((m, None)), "");
        }
    }

    /// SENTINEL is-master-down-by-addr to the other sentinels while we see the master down
    /// (§4.2); `force` right after a failover starts. Stale answers are forgotten.
    pub fn ask_others(&mut self, m: usize, now_ms: u64, force: bool) {
        let ask_period = self.timings.ask_period;
        for s in &mut self.sentinel.masters[m].sentinels {
            if now_ms.saturating_sub(s.last_master_down_reply_ms) > ask_period * 5 {
                s.peer_master_down = false;
                s.vote = None;
            }
        }
        let master = &self.sentinel.masters[m];
        if !master.record.s_down {
            return;
        }
        // About the master's own address, even once a failover has promoted a replica
        // (sentinelAskMasterStateToOtherSentinels).
        let (ip, port) = (master.settings.host.clone(), master.settings.port);
        let epoch = self.sentinel.settings.current_epoch.to_string();
        let runid = if master.failover_state != super::state::FailoverState::None {
            self.sentinel.myid.clone()
        } else {
            "*".to_string()
        };
        let sentinel_command = master.command_name("SENTINEL");
        let peers: Vec<(InstanceId, u64)> =
            master.sentinels.iter().map(|s| (s.id, s.last_master_down_reply_ms)).collect();
        for (id, last) in peers {
            if !force && now_ms.saturating_sub(last) < ask_period {
                continue;
            }
            let Some(cmd) = self.open_cmd_link(id, Kind::Sentinel) else { continue };
            let args = [
                sentinel_command.as_slice(),
                b"is-master-down-by-addr",
                ip.as_bytes(),
                port.to_string().as_bytes(),
                epoch.as_bytes(),
                runid.as_bytes(),
            ]
            .iter()
            .map(|a| a.to_vec())
            .collect();
            cmd.send(args, Tag::IsMasterDown(id));
        }
    }

    /// A fellow sentinel's answer: does it see the master down, and whom it voted for.
    fn master_down_reply(&mut self, m: usize, id: InstanceId, value: Value, now_ms: u64) {
        let Value::Array(items) = value else { return };
        let [Value::Int(down), Value::Bulk(leader), Value::Int(epoch)] = items.as_slice() else { return };
        let Some(s) = self.sentinel.masters[m].sentinels.iter_mut().find(|s| s.id == id) else { return };
        s.last_master_down_reply_ms = now_ms;
        s.peer_master_down = *down == 1;
        let leader = String::from_utf8_lossy(leader).into_owned();
        if leader != "*" {
            let epoch = (*epoch).max(0) as u64;
            if s.vote.as_ref().is_none_or(|(_, e)| *e != epoch) {
                tracing::warn!("{} voted for {leader} {epoch}", s.name);
            }
            s.vote = Some((leader, epoch));
        }
    }
}

fn link_status_of(
    links: &HashMap<InstanceId, Links>,
    shared: &HashMap<InstanceId, InstanceId>,
    id: InstanceId,
) -> LinkStatus {
    match links.get(shared.get(&id).unwrap_or(&id)) {
        Some(l) => LinkStatus {
            connected: l.cmd.as_ref().is_some_and(Link::is_connected)
                && l.pubsub.as_ref().is_none_or(Link::is_connected),
            pending: l.cmd.as_ref().map_or(0, Link::pending),
            refcount: l.refcount,
        },
        None => LinkStatus { connected: false, pending: 0, refcount: 1 },
    }
}

#[cfg(test)]
mod tests {
    use super::super::instance::Reconf;
    use super::super::model::{KnownReplica, MasterConfig, SentinelConfig};
    use super::super::state::FailoverState;
    use super::*;

    /// A failover of mymaster in reconf_slaves: 6380 promoted, 6381 sent SLAVEOF towards it.
    fn reconfiguring() -> (Runtime, InstanceId) {
        let mut cfg = SentinelConfig::default();
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 6379, 2);
        for port in [6380, 6381] {
            m.known_replicas.push(KnownReplica { host: "127.0.0.1".into(), port });
        }
        cfg.masters.push(m);
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let mut rt = Runtime::new(Sentinel::from_config(cfg, 1_000), 26379, tx, 1_000);
        let master = &mut rt.sentinel.masters[0];
        master.failover_in_progress = true;
        master.failover_state = FailoverState::ReconfSlaves;
        master.replicas[0].promoted = true;
        master.replicas[1].reconf = Reconf::Sent;
        let id = master.replicas[1].id;
        (rt, id)
    }

    #[test]
    fn one_info_takes_a_synced_replica_through_inprog_and_done() {
        let (mut rt, id) = reconfiguring();
        let info =
            "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6380\r\nmaster_link_status:up\r\n";
        rt.refresh_from_info(0, id, info.to_string(), 5_000);
        let kinds: Vec<&str> =
            rt.sentinel.events.iter().map(|e| e.kind.as_str()).filter(|k| k.starts_with("+slave-reconf")).collect();
        assert_eq!(kinds, ["+slave-reconf-inprog", "+slave-reconf-done"]);
        assert!(rt.sentinel.masters[0].find(id).is_some_and(|r| r.reconf == Reconf::Done));
    }

    #[test]
    fn a_replica_still_syncing_is_only_in_progress() {
        let (mut rt, id) = reconfiguring();
        let info =
            "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6380\r\nmaster_link_status:down\r\n";
        rt.refresh_from_info(0, id, info.to_string(), 5_000);
        assert!(rt.sentinel.masters[0].find(id).is_some_and(|r| r.reconf == Reconf::InProgress));
    }
}
