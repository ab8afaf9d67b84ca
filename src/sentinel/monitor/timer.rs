//! One timer pass (sentinelTimer): TILT, then for every instance its links reopened when missing
//! or stale, and PING, INFO and hello sent when due.

use std::time::Duration;

use super::super::instance::{InstanceId, Kind};
use super::super::link::{Link, LinkConfig};
use super::{link_id, Links, Runtime, Tag, HELLO_CHANNEL};

impl Runtime {
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
            if self.sentinel.masters[m].failover_state == super::super::state::FailoverState::UpdateConfig {
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
        let links = self.links.entry(key).or_insert_with(|| Links::new(kind != Kind::Sentinel));
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
            tls: self.tls.clone(),
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
    pub(super) fn pinged(&mut self, key: InstanceId, now_ms: u64) {
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
    pub(super) fn open_cmd_link(&self, id: InstanceId, kind: Kind) -> Option<&Link<Tag>> {
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
}
