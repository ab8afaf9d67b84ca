//! Pointing a master record at a new address (§5.7), after a failover or a newer configuration.

use super::super::instance::{replica_name, InstanceId, Kind};
use super::super::state::Record;
use super::Runtime;

impl Runtime {
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
            master.failover_state = super::super::state::FailoverState::None;
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
}
