//! The failover (§5): started on ODOWN at most every 2 × failover-timeout, led by the sentinel
//! that wins the vote, through the states wait_start → select_slave → send_slaveof_noone →
//! wait_promotion → reconf_slaves → update_config, and the reconfiguration of instances that
//! INFO shows in the wrong role (convert-to-slave, fix-slave-config).

use super::instance::{InstanceId, Kind, Reconf};
use super::monitor::{Runtime, Tag};
use super::state::FailoverState;

impl Runtime {
    /// Each tick, for each master, outside TILT: start a failover if due, and move it on.
    pub fn failover_tick(&mut self, m: usize, now_ms: u64) {
        if self.start_failover_if_needed(m, now_ms) {
            self.ask_others(m, now_ms, true);
        }
        self.failover_state_machine(m, now_ms);
    }

    fn start_failover_if_needed(&mut self, m: usize, now_ms: u64) -> bool {
        let master = &self.sentinel.masters[m];
        if !master.record.o_down || master.failover_in_progress {
            return false;
        }
        let timeout = master.settings.failover_timeout_ms;
        if now_ms.saturating_sub(master.failover_start_ms) < timeout * 2 {
            self.log_failover_delay(m);
            return false;
        }
        self.start_failover(m, now_ms);
        true
    }

    /// When the next failover may start, logged once per start time (§5.1), as Redis words it.
    fn log_failover_delay(&mut self, m: usize) {
        let master = &mut self.sentinel.masters[m];
        if master.failover_delay_logged == master.failover_start_ms {
            return;
        }
        master.failover_delay_logged = master.failover_start_ms;
        let not_before = master.failover_start_ms + master.settings.failover_timeout_ms * 2;
        tracing::warn!("Next failover delay: I will not start a failover before {}", ctime(not_before / 1000));
    }

    /// sentinelStartFailover: a new epoch, and the vote begins.
    pub fn start_failover(&mut self, m: usize, now_ms: u64) {
        self.sentinel.settings.current_epoch += 1;
        let epoch = self.sentinel.settings.current_epoch;
        let master = &mut self.sentinel.masters[m];
        master.failover_state = FailoverState::WaitStart;
        master.failover_in_progress = true;
        master.failover_epoch = epoch;
        master.failover_start_ms = now_ms + fastrand::u64(..1000);
        master.failover_state_change_ms = now_ms;
        self.sentinel.master_event("+new-epoch", true, m, None, epoch.to_string());
        self.sentinel.event("+try-failover", true, Some((m, None)), "");
    }

    fn set_state(&mut self, m: usize, state: FailoverState, now_ms: u64) {
        let master = &mut self.sentinel.masters[m];
        master.failover_state = state;
        master.failover_state_change_ms = now_ms;
    }

    fn failover_state_machine(&mut self, m: usize, now_ms: u64) {
        if !self.sentinel.masters[m].failover_in_progress {
            return;
        }
        match self.sentinel.masters[m].failover_state {
            FailoverState::WaitStart => self.wait_start(m, now_ms),
            FailoverState::SelectSlave => self.select_slave(m, now_ms),
            FailoverState::SendSlaveofNoOne => self.send_slaveof_noone(m, now_ms),
            FailoverState::WaitPromotion => self.wait_promotion(m, now_ms),
            FailoverState::ReconfSlaves => self.reconf_slaves(m, now_ms),
            // The timer pass switches at its end (Runtime::tick).
            FailoverState::UpdateConfig | FailoverState::None => {}
        }
    }

    fn wait_start(&mut self, m: usize, now_ms: u64) {
        let epoch = self.sentinel.masters[m].failover_epoch;
        let leader = self.sentinel.get_leader(m, epoch, now_ms);
        let master = &self.sentinel.masters[m];
        let elected = leader.is_some_and(|l| l.eq_ignore_ascii_case(&self.sentinel.myid));
        if !elected && !master.force_failover {
            let limit = master.settings.failover_timeout_ms.min(self.timings.election_timeout);
            if now_ms.saturating_sub(master.failover_start_ms) > limit {
                self.sentinel.event("-failover-abort-not-elected", true, Some((m, None)), "");
                self.abort_failover(m);
            }
            return;
        }
        self.sentinel.event("+elected-leader", true, Some((m, None)), "");
        if self.simulate_failure.crash_at(super::simulate::CRASH_AFTER_ELECTION) {
            return;
        }
        self.set_state(m, FailoverState::SelectSlave, now_ms);
        self.sentinel.event("+failover-state-select-slave", true, Some((m, None)), "");
    }

    /// The replica a failover of master `m` would promote now (sentinelSelectSlave), if any.
    pub fn replica_to_promote(&self, m: usize, now_ms: u64) -> Option<InstanceId> {
        let (info, ping) = (self.timings.info_period, self.timings.ping_period);
        self.sentinel.masters[m].select_replica(now_ms, info, ping, |id| self.link_status(id).connected)
    }

    fn select_slave(&mut self, m: usize, now_ms: u64) {
        let Some(id) = self.replica_to_promote(m, now_ms) else {
            self.sentinel.event("-failover-abort-no-good-slave", true, Some((m, None)), "");
            self.abort_failover(m);
            return;
        };
        if let Some(r) = self.sentinel.masters[m].find_mut(id) {
            r.promoted = true;
        }
        self.sentinel.event("+selected-slave", true, Some((m, Some(id))), "");
        self.set_state(m, FailoverState::SendSlaveofNoOne, now_ms);
        self.sentinel.event("+failover-state-send-slaveof-noone", false, Some((m, Some(id))), "");
    }

    fn promoted(&self, m: usize) -> Option<InstanceId> {
        self.sentinel.masters[m].replicas.iter().find(|r| r.promoted).map(|r| r.id)
    }

    fn send_slaveof_noone(&mut self, m: usize, now_ms: u64) {
        let Some(id) = self.promoted(m) else { return };
        if !self.link_status(id).connected {
            let master = &self.sentinel.masters[m];
            if now_ms.saturating_sub(master.failover_state_change_ms) > master.settings.failover_timeout_ms {
                self.sentinel.event("-failover-abort-slave-timeout", true, Some((m, None)), "");
                self.abort_failover(m);
            }
            return;
        }
        if !self.send_slaveof(m, id, None) {
            return;
        }
        self.sentinel.event("+failover-state-wait-promotion", false, Some((m, Some(id))), "");
        self.set_state(m, FailoverState::WaitPromotion, now_ms);
    }

    /// The promoted replica's INFO moves the failover on (`promotion_seen`); here only its time.
    fn wait_promotion(&mut self, m: usize, now_ms: u64) {
        let master = &self.sentinel.masters[m];
        if now_ms.saturating_sub(master.failover_state_change_ms) > master.settings.failover_timeout_ms {
            self.sentinel.event("-failover-abort-slave-timeout", true, Some((m, None)), "");
            self.abort_failover(m);
        }
    }

    /// The promoted replica reports itself a master (§3.5 step 2).
    pub fn promotion_seen(&mut self, m: usize, id: InstanceId, now_ms: u64) {
        let epoch = self.sentinel.masters[m].failover_epoch;
        self.sentinel.masters[m].settings.config_epoch = epoch;
        self.sentinel.flush_needed = true;
        // The new state first: it is what sentinel.conf keeps, even if a simulated crash follows.
        self.set_state(m, FailoverState::ReconfSlaves, now_ms);
        self.sentinel.event("+promoted-slave", true, Some((m, Some(id))), "");
        if self.simulate_failure.crash_at(super::simulate::CRASH_AFTER_PROMOTION) {
            return;
        }
        self.sentinel.event("+failover-state-reconf-slaves", true, Some((m, None)), "");
        let from = (self.sentinel.masters[m].settings.host.clone(), self.sentinel.masters[m].settings.port);
        if let Some((host, port)) = self.sentinel.masters[m].find(id).map(|r| (r.host.clone(), r.port)) {
            self.sentinel.client_reconfig(m, "leader", (&from.0, from.1), (&host, port));
        }
        self.force_hellos(m);
    }

    /// Hellos go out on the next tick: the other sentinels learn the new configuration at once.
    fn force_hellos(&mut self, m: usize) {
        let master = &mut self.sentinel.masters[m];
        master.record.last_pub_ms = 0;
        for r in master.replicas.iter_mut().chain(master.sentinels.iter_mut()) {
            r.last_pub_ms = 0;
        }
    }

    /// §5.6: the other replicas are pointed at the promoted one, parallel-syncs at a time.
    fn reconf_slaves(&mut self, m: usize, now_ms: u64) {
        let Some(promoted) = self.promoted(m) else { return };
        let (phost, pport) = match self.sentinel.masters[m].find(promoted) {
            Some(r) => (r.host.clone(), r.port),
            None => return,
        };
        let parallel = self.sentinel.masters[m].settings.parallel_syncs.max(1) as usize;
        let reconf_timeout = self.timings.slave_reconf_timeout;
        let mut in_progress =
            self.sentinel.masters[m].replicas.iter().filter(|r| r.reconf.sent() || r.reconf.in_progress()).count();
        let ids: Vec<InstanceId> = self.sentinel.masters[m]
            .replicas
            .iter()
            .filter(|r| !r.promoted && !r.reconf.done())
            .map(|r| r.id)
            .collect();
        for id in ids {
            if in_progress >= parallel {
                break;
            }
            let Some(r) = self.sentinel.masters[m].find_mut(id) else { continue };
            // Timed out: considered reconfigured (fix-slave-config will see to it later). As in
            // Redis, no `continue`: the same pass sends SLAVEOF again, and the replica, done and
            // sent, holds a parallel slot from then on.
            if r.reconf == Reconf::Sent && now_ms.saturating_sub(r.reconf_sent_ms) > reconf_timeout {
                r.reconf = Reconf::Done;
                self.sentinel.event("-slave-reconf-sent-timeout", false, Some((m, Some(id))), "");
            }
            let Some(r) = self.sentinel.masters[m].find(id) else { continue };
            if r.reconf.sent() || r.reconf.in_progress() || !self.link_status(id).connected {
                continue;
            }
            if self.send_slaveof(m, id, Some((phost.clone(), pport))) {
                if let Some(r) = self.sentinel.masters[m].find_mut(id) {
                    r.reconf = r.reconf.with_sent();
                    r.reconf_sent_ms = now_ms;
                }
                self.sentinel.event("+slave-reconf-sent", false, Some((m, Some(id))), "");
                in_progress += 1;
            }
        }
        self.detect_end(m, now_ms, &phost, pport);
    }

    fn detect_end(&mut self, m: usize, now_ms: u64, phost: &str, pport: u16) {
        let master = &self.sentinel.masters[m];
        let Some(promoted) = master.replicas.iter().find(|r| r.promoted) else { return };
        if promoted.s_down {
            return;
        }
        let mut remaining = master.replicas.iter().filter(|r| !r.promoted && !r.reconf.done() && !r.s_down).count();
        let timed_out = now_ms.saturating_sub(master.failover_state_change_ms) > master.settings.failover_timeout_ms;
        if timed_out {
            remaining = 0;
            self.sentinel.event("+failover-end-for-timeout", true, Some((m, None)), "");
        }
        if remaining == 0 {
            self.sentinel.event("+failover-end", true, Some((m, None)), "");
            self.set_state(m, FailoverState::UpdateConfig, now_ms);
        }
        if timed_out {
            self.send_best_effort_slaveof(m, phost, pport);
        }
    }

    /// The failover ended on timeout: SLAVEOF, best effort, to every replica not promoted,
    /// done or sent (those in progress included), as Redis does after `+failover-end`.
    fn send_best_effort_slaveof(&mut self, m: usize, phost: &str, pport: u16) {
        let ids: Vec<InstanceId> = self.sentinel.masters[m]
            .replicas
            .iter()
            .filter(|r| !r.promoted && !r.reconf.done() && !r.reconf.sent())
            .map(|r| r.id)
            .collect();
        for id in ids {
            if self.link_status(id).connected && self.send_slaveof(m, id, Some((phost.to_string(), pport))) {
                self.sentinel.event("+slave-reconf-sent-be", false, Some((m, Some(id))), "");
                if let Some(r) = self.sentinel.masters[m].find_mut(id) {
                    r.reconf = r.reconf.with_sent();
                }
            }
        }
    }

    /// update_config: the promoted replica is the master from now on (§5.7).
    pub(super) fn switch_to_promoted(&mut self, m: usize, now_ms: u64) {
        let Some(promoted) = self.promoted(m) else { return };
        let Some((host, port)) = self.sentinel.masters[m].find(promoted).map(|r| (r.host.clone(), r.port)) else {
            return;
        };
        let master = &self.sentinel.masters[m];
        let msg = format!("{} {} {} {host} {port}", master.settings.name, master.settings.host, master.settings.port);
        self.sentinel.master_event("+switch-master", true, m, Some((&host, port)), msg);
        self.switch_master(m, host, port, now_ms);
    }

    /// Aborts a failover that has not promoted anyone yet; the next try waits 2 × failover-timeout.
    pub fn abort_failover(&mut self, m: usize) {
        let master = &mut self.sentinel.masters[m];
        master.failover_in_progress = false;
        master.force_failover = false;
        master.failover_state = FailoverState::None;
        for r in &mut master.replicas {
            r.promoted = false;
            r.reconf = Reconf::None;
        }
    }

    /// The reconfiguration transaction (§5.5): SLAVEOF towards `target` (NO ONE without one),
    /// CONFIG REWRITE, and the clients dropped so they ask Sentinel again. Then, unlike Redis, an
    /// INFO: its reply shows the instance as the transaction left it, so the failover goes on
    /// when the instance has changed role (promotion seen, replica reconfiguring) instead of at
    /// the next 1 s INFO, about 0.7 s later on average. Nothing else changes: an instance that
    /// did not take the change looks the same as in Redis's next INFO.
    pub fn send_slaveof(&mut self, m: usize, id: InstanceId, target: Option<(String, u16)>) -> bool {
        let Some(cmd) = self.links.get(&id).and_then(|l| l.cmd.as_ref()).filter(|l| l.is_connected()) else {
            return false;
        };
        let master = &self.sentinel.masters[m];
        let name = |command| master.command_name(command);
        let slaveof = match &target {
            Some((host, port)) => vec![name("slaveof"), host.as_bytes().to_vec(), port.to_string().into_bytes()],
            None => vec![name("slaveof"), b"NO".to_vec(), b"ONE".to_vec()],
        };
        let batch = vec![
            (vec![name("multi")], Tag::Ignored),
            (slaveof, Tag::Ignored),
            (vec![name("config"), b"REWRITE".to_vec()], Tag::Ignored),
            (vec![name("client"), b"KILL".to_vec(), b"TYPE".to_vec(), b"normal".to_vec()], Tag::Ignored),
            (vec![name("client"), b"KILL".to_vec(), b"TYPE".to_vec(), b"pubsub".to_vec()], Tag::Ignored),
            (vec![name("exec")], Tag::Ignored),
            (vec![name("info")], Tag::Info),
        ];
        cmd.send_batch(batch)
    }

    /// The acting half of an INFO reply (§3.5 steps 2–5), outside TILT.
    pub fn act_on_info(&mut self, m: usize, id: InstanceId, now_ms: u64) {
        let publish = self.timings.publish_period;
        let master = &self.sentinel.masters[m];
        let Some(r) = master.find(id) else { return };
        if r.kind != Kind::Replica {
            return;
        }
        let (mhost, mport) = (master.settings.host.clone(), master.settings.port);
        let looks_sane = master.record.role_reported == Kind::Master
            && !master.record.s_down
            && !master.record.o_down
            && now_ms.saturating_sub(master.record.info_ms) < self.timings.info_period * 2;
        if r.role_reported == Kind::Master {
            if r.promoted && master.failover_in_progress && master.failover_state == FailoverState::WaitPromotion {
                self.promotion_seen(m, id, now_ms);
                return;
            }
            let quiet = now_ms.saturating_sub(r.s_down_since.max(r.o_down_since)) > publish * 4;
            let settled = now_ms.saturating_sub(r.role_reported_ms) > publish * 4;
            if !r.promoted && looks_sane && quiet && settled && self.send_slaveof(m, id, Some((mhost, mport))) {
                self.sentinel.event("+convert-to-slave", false, Some((m, Some(id))), "");
            }
            return;
        }
        // A replica of another master (§3.5 step 4).
        let points_elsewhere =
            r.info.master_host.as_deref() != Some(mhost.as_str()) || r.info.master_port != Some(mport);
        let timeout = master.settings.failover_timeout_ms;
        let calm = now_ms.saturating_sub(r.s_down_since.max(r.o_down_since)) > timeout
            && now_ms.saturating_sub(r.slave_conf_change_ms) > timeout;
        if points_elsewhere
            && !r.promoted
            && r.reconf == Reconf::None
            && looks_sane
            && calm
            && self.send_slaveof(m, id, Some((mhost, mport)))
        {
            self.sentinel.event("+fix-slave-config", false, Some((m, Some(id))), "");
            return;
        }
        // Replicas being reconfigured by our failover (§3.5 step 5).
        let Some(promoted) =
            self.promoted(m).and_then(|p| self.sentinel.masters[m].find(p)).map(|p| (p.host.clone(), p.port))
        else {
            return;
        };
        let Some(r) = self.sentinel.masters[m].find_mut(id) else { return };
        let follows_promoted =
            r.info.master_host.as_deref() == Some(promoted.0.as_str()) && r.info.master_port == Some(promoted.1);
        if r.reconf.sent() && follows_promoted {
            r.reconf = r.reconf.to_in_progress();
            self.sentinel.event("+slave-reconf-inprog", false, Some((m, Some(id))), "");
        }
        // Not `else`: as in Redis, one INFO that shows the replica already synced with the
        // promoted one takes it through both steps.
        let Some(r) = self.sentinel.masters[m].find_mut(id) else { return };
        if r.reconf.in_progress() && r.info.master_link_up {
            r.reconf = Reconf::Done;
            self.sentinel.event("+slave-reconf-done", false, Some((m, Some(id))), "");
        }
    }
}

/// `secs` as C's ctime() prints it in local time, without its newline: `Thu Jan  1 00:00:00 1970`.
fn ctime(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    crate::util::sys::local_strftime(secs, c"%a %b %e %H:%M:%S %Y").unwrap_or_else(|| secs.to_string())
}
