//! What an INFO reply teaches (§3.5): run id and reboots, replicas discovered, role changes;
//! acting on it belongs to the failover.

use super::super::instance::{parse_info, replica_name, InstanceId, Kind};
use super::super::state::Record;
use super::Runtime;

impl Runtime {
    /// What an INFO reply teaches (§3.5), up to the role change; the acting half belongs to the
    /// failover.
    pub(super) fn refresh_from_info(&mut self, m: usize, id: InstanceId, text: String, now_ms: u64) {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentinel::instance::Reconf;
    use crate::sentinel::model::{KnownReplica, MasterConfig, SentinelConfig};
    use crate::sentinel::state::{FailoverState, Sentinel};

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
