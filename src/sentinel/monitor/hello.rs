//! The hello messages on `__sentinel__:hello` (§3.4): this sentinel's, published; the others',
//! which make fellow sentinels known or moved, and carry newer epochs and configurations.

use super::super::instance::{Hello, InstanceId, Kind};
use super::super::state::Record;
use super::{Runtime, Tag, HELLO_CHANNEL};

impl Runtime {
    /// PUBLISH __sentinel__:hello with this sentinel's address and its view of the master (§3.4).
    pub(super) fn send_hello(&mut self, m: usize, id: InstanceId) {
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
}
