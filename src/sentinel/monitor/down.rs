//! Failure detection: SDOWN (§4.1), ODOWN (§4.3), and asking the other sentinels whether they
//! see the master down (§4.2), with their answers and votes.

use super::super::instance::{InstanceId, Kind};
use super::{Runtime, Tag};
use crate::client::Value;

impl Runtime {
    /// SDOWN for one instance of master `m` (§4.1).
    pub(super) fn check_sdown(&mut self, m: usize, id: InstanceId, now_ms: u64) {
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
    pub(super) fn check_odown(&mut self, m: usize, now_ms: u64) {
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
        let runid = if master.failover_state != super::super::state::FailoverState::None {
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
    pub(super) fn master_down_reply(&mut self, m: usize, id: InstanceId, value: Value, now_ms: u64) {
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
