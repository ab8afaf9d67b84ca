//! A sentinel's view of one instance it watches (a master, one of its replicas, or another
//! sentinel watching it): what it last learned from INFO, hellos and PING replies, and when.
//! Times are unix milliseconds, 0 for never.

/// What an instance is to this sentinel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Master,
    Replica,
    Sentinel,
}

impl Kind {
    /// The word events and SENTINEL replies use (`%@`, `flags`).
    pub fn word(self) -> &'static str {
        match self {
            Kind::Master => "master",
            Kind::Replica => "slave",
            Kind::Sentinel => "sentinel",
        }
    }
}

/// Identifies an instance record for the life of the process (links report with it); a record
/// re-created after a reset gets a new one, so a late reply for the old one is recognised.
pub type InstanceId = u64;

/// Where a replica being reconfigured by a failover stands (§5.6): Redis's RECONF_SENT,
/// RECONF_INPROG and RECONF_DONE flags. They are flags there, and two pairs occur: a replica
/// whose SLAVEOF timed out is marked done and sent SLAVEOF again in the same pass (done and
/// sent), which its INFO may then move on to done and in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Reconf {
    #[default]
    None,
    Sent,
    InProgress,
    Done,
    DoneSent,
    DoneInProgress,
}

impl Reconf {
    /// RECONF_SENT is set.
    pub fn sent(self) -> bool {
        matches!(self, Reconf::Sent | Reconf::DoneSent)
    }

    /// RECONF_INPROG is set.
    pub fn in_progress(self) -> bool {
        matches!(self, Reconf::InProgress | Reconf::DoneInProgress)
    }

    /// RECONF_DONE is set.
    pub fn done(self) -> bool {
        matches!(self, Reconf::Done | Reconf::DoneSent | Reconf::DoneInProgress)
    }

    /// SENT → INPROG (the replica follows the promoted one), keeping DONE.
    pub fn to_in_progress(self) -> Reconf {
        if self.done() {
            Reconf::DoneInProgress
        } else {
            Reconf::InProgress
        }
    }

    /// SENT set (a SLAVEOF went out), keeping DONE.
    pub fn with_sent(self) -> Reconf {
        if self.done() {
            Reconf::DoneSent
        } else {
            Reconf::Sent
        }
    }
}

/// The fields INFO gave (§3.5); replica fields only from a `role:slave` reply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InfoFields {
    pub run_id: Option<String>,
    pub role: Option<Kind>,
    /// `slaveN:` lines of a master: (ip, port).
    pub replicas: Vec<(String, u16)>,
    /// master_link_down_since_seconds × 1000 (0 when absent).
    pub master_link_down_ms: i64,
    pub master_host: Option<String>,
    pub master_port: Option<u16>,
    pub master_link_up: bool,
    pub slave_priority: Option<i64>,
    pub slave_repl_offset: Option<u64>,
    pub replica_announced: Option<bool>,
}

/// Parses an INFO reply the way Sentinel reads it (sentinelRefreshInstanceInfo): lines by prefix,
/// case-sensitive, replica fields only after `role:slave`.
pub fn parse_info(text: &str) -> InfoFields {
    let mut f = InfoFields { replica_announced: None, ..Default::default() };
    let mut is_replica = false;
    for line in text.split("\r\n") {
        if line.len() >= 47 && line.starts_with("run_id:") {
            f.run_id.get_or_insert_with(|| line[7..47].to_string());
        } else if let Some(rest) = line.strip_prefix("slave").filter(|r| r.starts_with(|c: char| c.is_ascii_digit())) {
            if let Some(addr) = replica_line(rest) {
                f.replicas.push(addr);
            }
        } else if let Some(v) = line.strip_prefix("master_link_down_since_seconds:") {
            f.master_link_down_ms = v.trim().parse::<i64>().unwrap_or(0).saturating_mul(1000);
        } else if line == "role:master" {
            f.role = Some(Kind::Master);
        } else if line == "role:slave" {
            f.role = Some(Kind::Replica);
            is_replica = true;
        } else if is_replica {
            if let Some(v) = line.strip_prefix("master_host:") {
                f.master_host = Some(v.to_string());
            } else if let Some(v) = line.strip_prefix("master_port:") {
                f.master_port = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("master_link_status:") {
                f.master_link_up = v == "up";
            } else if let Some(v) = line.strip_prefix("slave_priority:") {
                f.slave_priority = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("slave_repl_offset:") {
                f.slave_repl_offset = v.parse().ok();
            } else if let Some(v) = line.strip_prefix("replica_announced:") {
                f.replica_announced = Some(v != "0");
            }
        }
    }
    f
}

/// `N:ip=<ip>,port=<port>,...` (7.0) or the old `N:<ip>,<port>,<state>`.
fn replica_line(rest: &str) -> Option<(String, u16)> {
    let (_, fields) = rest.split_once(':')?;
    if let Some(after_ip) = fields.strip_prefix("ip=").or_else(|| fields.split_once(",ip=").map(|(_, r)| r)) {
        let ip = after_ip.split(',').next()?;
        let port = fields.split(',').find_map(|kv| kv.strip_prefix("port="))?;
        return Some((ip.to_string(), port.parse().ok()?));
    }
    let mut parts = fields.split(',');
    let ip = parts.next()?;
    let port = parts.next()?.parse().ok()?;
    Some((ip.to_string(), port))
}

/// The eight fields of a `__sentinel__:hello` message (§3.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    pub sentinel_ip: String,
    pub sentinel_port: u16,
    pub sentinel_run_id: String,
    pub current_epoch: u64,
    pub master_name: String,
    pub master_ip: String,
    pub master_port: u16,
    pub master_config_epoch: u64,
}

impl Hello {
    /// Exactly eight comma-separated tokens, or nothing.
    pub fn parse(payload: &[u8]) -> Option<Hello> {
        let text = std::str::from_utf8(payload).ok()?;
        let t: Vec<&str> = text.split(',').collect();
        if t.len() != 8 {
            return None;
        }
        Some(Hello {
            sentinel_ip: t[0].to_string(),
            sentinel_port: t[1].parse().ok()?,
            sentinel_run_id: t[2].to_string(),
            current_epoch: t[3].parse().ok()?,
            master_name: t[4].to_string(),
            master_ip: t[5].to_string(),
            master_port: t[6].parse().ok()?,
            master_config_epoch: t[7].parse().ok()?,
        })
    }

    pub fn payload(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{}",
            self.sentinel_ip,
            self.sentinel_port,
            self.sentinel_run_id,
            self.current_epoch,
            self.master_name,
            self.master_ip,
            self.master_port,
            self.master_config_epoch
        )
    }
}

/// How an instance is named in events: `%@` (§7).
pub fn event_subject(kind: Kind, name: &str, ip: &str, port: u16, master: Option<(&str, &str, u16)>) -> String {
    match master {
        None => format!("{} {name} {ip} {port}", kind.word()),
        Some((mname, mip, mport)) => format!("{} {name} {ip} {port} @ {mname} {mip} {mport}", kind.word()),
    }
}

/// A replica's record name: `ip:port`, `[ip]:port` for IPv6.
pub fn replica_name(ip: &str, port: u16) -> String {
    if ip.contains(':') {
        format!("[{ip}]:{port}")
    } else {
        format!("{ip}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_of_a_master_lists_its_replicas() {
        let text = "# Server\r\nrun_id:0123456789abcdef0123456789abcdef01234567\r\n# Replication\r\nrole:master\r\n\
                    connected_slaves:2\r\nslave0:ip=10.0.0.2,port=6380,state=online,offset=5,lag=0\r\n\
                    slave1:ip=::1,port=6381,state=wait_bgsave,offset=0,lag=1\r\nmaster_repl_offset:5\r\n";
        let f = parse_info(text);
        assert_eq!(f.run_id.as_deref(), Some("0123456789abcdef0123456789abcdef01234567"));
        assert_eq!(f.role, Some(Kind::Master));
        assert_eq!(f.replicas, vec![("10.0.0.2".to_string(), 6380), ("::1".to_string(), 6381)]);
        assert_eq!(f.master_host, None);
    }

    #[test]
    fn info_of_a_replica_counts_fields_only_after_its_role() {
        let text = "master_host:ignored\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_port:6379\r\n\
                    master_link_status:down\r\nmaster_link_down_since_seconds:-1\r\nslave_priority:0\r\n\
                    slave_repl_offset:42\r\nreplica_announced:0\r\n";
        let f = parse_info(text);
        assert_eq!(f.role, Some(Kind::Replica));
        assert_eq!(f.master_host.as_deref(), Some("10.0.0.1"));
        assert_eq!(f.master_port, Some(6379));
        assert!(!f.master_link_up);
        assert_eq!(f.master_link_down_ms, -1000);
        assert_eq!(f.slave_priority, Some(0));
        assert_eq!(f.slave_repl_offset, Some(42));
        assert_eq!(f.replica_announced, Some(false));
    }

    #[test]
    fn old_replica_lines_and_short_run_ids() {
        let f = parse_info("run_id:short\r\nrole:master\r\nslave0:127.0.0.1,6380,online\r\n");
        assert_eq!(f.run_id, None);
        assert_eq!(f.replicas, vec![("127.0.0.1".to_string(), 6380)]);
        assert_eq!(parse_info("role:replica\r\n").role, None, "only master and slave are roles");
    }

    #[test]
    fn hello_round_trip_and_rejects() {
        let p = b"127.0.0.1,26381,63329de1aba3143671cb886325b4a52e7bf808bd,1,mymaster,127.0.0.1,16381,1";
        let h = Hello::parse(p).expect("a hello");
        assert_eq!(h.sentinel_port, 26381);
        assert_eq!(h.master_name, "mymaster");
        assert_eq!(h.payload().as_bytes(), p);
        assert!(Hello::parse(b"1,2,3").is_none());
        assert!(Hello::parse(b"127.0.0.1,x,id,1,m,127.0.0.1,1,1").is_none());
    }

    #[test]
    fn event_subjects() {
        assert_eq!(event_subject(Kind::Master, "mymaster", "127.0.0.1", 6379, None), "master mymaster 127.0.0.1 6379");
        assert_eq!(
            event_subject(Kind::Replica, "127.0.0.1:6380", "127.0.0.1", 6380, Some(("mymaster", "127.0.0.1", 6379))),
            "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
        );
        assert_eq!(replica_name("::1", 6380), "[::1]:6380");
    }
}
