//! Sentinel's time parameters (Redis 7.0's `sentinel_*_period` globals): fixed in production,
//! changeable with `SENTINEL DEBUG <param> <ms>` so tests can run a failover quickly. The
//! monitoring loop reads them from here rather than from constants.

/// Every time parameter SENTINEL DEBUG shows, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timings {
    /// INFO to masters and replicas (a replica of a failing master: every 1000 ms regardless).
    pub info_period: u64,
    /// PING: the most a PING period may be (it is min(down_after, this)).
    pub ping_period: u64,
    /// SENTINEL is-master-down-by-addr to fellow sentinels while the master is SDOWN.
    pub ask_period: u64,
    /// Hello messages.
    pub publish_period: u64,
    /// down-after-milliseconds of a newly monitored master.
    pub default_down_after: u64,
    /// failover-timeout of a newly monitored master.
    pub default_failover_timeout: u64,
    /// A tick later than this after the previous one enters TILT.
    pub tilt_trigger: u64,
    /// How long TILT lasts.
    pub tilt_period: u64,
    /// A replica sent SLAVEOF during a failover counts as done after this.
    pub slave_reconf_timeout: u64,
    /// A link is not closed as stale before it has been up this long.
    pub min_link_reconnect_period: u64,
    /// The longest a failover waits to be elected (it is min(failover-timeout, this)).
    pub election_timeout: u64,
    /// A script running longer is killed.
    pub script_max_runtime: u64,
    /// The first delay before a failed script is retried (doubled for each further retry).
    pub script_retry_delay: u64,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            info_period: 10_000,
            ping_period: 1_000,
            ask_period: 1_000,
            publish_period: 2_000,
            default_down_after: 30_000,
            default_failover_timeout: 180_000,
            tilt_trigger: 2_000,
            tilt_period: 30_000,
            slave_reconf_timeout: 10_000,
            min_link_reconnect_period: 15_000,
            election_timeout: 10_000,
            script_max_runtime: 60_000,
            script_retry_delay: 30_000,
        }
    }
}

impl Timings {
    /// The parameters with the names SENTINEL DEBUG shows them under, in its order.
    pub fn named(&self) -> [(&'static str, u64); 13] {
        [
            ("INFO-PERIOD", self.info_period),
            ("PING-PERIOD", self.ping_period),
            ("ASK-PERIOD", self.ask_period),
            ("PUBLISH-PERIOD", self.publish_period),
            ("DEFAULT-DOWN-AFTER", self.default_down_after),
            ("DEFAULT-FAILOVER-TIMEOUT", self.default_failover_timeout),
            ("TILT-TRIGGER", self.tilt_trigger),
            ("TILT-PERIOD", self.tilt_period),
            ("SLAVE-RECONF-TIMEOUT", self.slave_reconf_timeout),
            ("MIN-LINK-RECONNECT-PERIOD", self.min_link_reconnect_period),
            ("ELECTION-TIMEOUT", self.election_timeout),
            ("SCRIPT-MAX-RUNTIME", self.script_max_runtime),
            ("SCRIPT-RETRY-DELAY", self.script_retry_delay),
        ]
    }

    /// The parameter SENTINEL DEBUG sets under `name` (its shown name, any case).
    pub fn by_name(&mut self, name: &str) -> Option<&mut u64> {
        let field = match name.to_ascii_lowercase().as_str() {
            "info-period" => &mut self.info_period,
            "ping-period" => &mut self.ping_period,
            "ask-period" => &mut self.ask_period,
            "publish-period" => &mut self.publish_period,
            "default-down-after" => &mut self.default_down_after,
            "default-failover-timeout" => &mut self.default_failover_timeout,
            "tilt-trigger" => &mut self.tilt_trigger,
            "tilt-period" => &mut self.tilt_period,
            "slave-reconf-timeout" => &mut self.slave_reconf_timeout,
            "min-link-reconnect-period" => &mut self.min_link_reconnect_period,
            "election-timeout" => &mut self.election_timeout,
            "script-max-runtime" => &mut self.script_max_runtime,
            "script-retry-delay" => &mut self.script_retry_delay,
            _ => return None,
        };
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shown_name_can_be_set() {
        let mut t = Timings::default();
        for (name, _) in Timings::default().named() {
            *t.by_name(&name.to_ascii_lowercase()).expect(name) = 7;
        }
        assert!(t.named().iter().all(|&(_, v)| v == 7));
        assert!(t.by_name("nope").is_none());
    }
}
