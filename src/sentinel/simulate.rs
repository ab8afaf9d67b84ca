//! SENTINEL SIMULATE-FAILURE (Redis's `sentinel.simfailure_flags`): a sentinel told to crash
//! after winning a failover election, or after the replica it chose reports itself promoted,
//! exits with status 99 at that point (sentinelSimFailureCrash), which lets tests watch the
//! other sentinels finish a half-done failover.
//!
//! The failover marks the crash point ([`SimulateFailure::crash_at`]) and stops there; the
//! runner exits ([`exit_if_crashed`]) once the events up to that point are logged and the
//! state is saved, as Redis has done both by the time it calls exit(99).

use crate::protocol::Reply;

/// SENTINEL_SIMFAILURE_CRASH_AFTER_ELECTION.
pub const CRASH_AFTER_ELECTION: u32 = 1 << 0;
/// SENTINEL_SIMFAILURE_CRASH_AFTER_PROMOTION.
pub const CRASH_AFTER_PROMOTION: u32 = 1 << 1;

/// The flag names, in the order `SENTINEL SIMULATE-FAILURE HELP` lists them.
const FLAGS: [(&str, u32, &str); 2] = [
    (
        "crash-after-election",
        CRASH_AFTER_ELECTION,
        "Failure simulation: this Sentinel will crash after being successfully elected as failover leader",
    ),
    (
        "crash-after-promotion",
        CRASH_AFTER_PROMOTION,
        "Failure simulation: this Sentinel will crash after promoting the selected replica to master",
    ),
];

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SimulateFailure {
    /// What the last SENTINEL SIMULATE-FAILURE set (INFO's `sentinel_simulate_failure_flags`).
    pub flags: u32,
    /// A crash point was reached: the process is to exit with 99.
    pub crashed: bool,
}

impl SimulateFailure {
    /// `SENTINEL SIMULATE-FAILURE <flag> ...` (the arity is checked by the caller). Like Redis,
    /// the flags start over and are taken in order: HELP answers the names and an unknown flag
    /// the error, and either keeps the flags taken before it.
    pub fn command<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.flags = 0;
        for arg in args {
            let arg = arg.as_ref();
            if let Some((_, flag, warning)) =
                FLAGS.iter().find(|(name, _, _)| arg.eq_ignore_ascii_case(name.as_bytes()))
            {
                self.flags |= flag;
                tracing::warn!("{warning}");
            } else if arg.eq_ignore_ascii_case(b"help") {
                return Reply::Array(FLAGS.iter().map(|(name, _, _)| Reply::bulk(name.as_bytes())).collect());
            } else {
                return Reply::error("ERR Unknown failure simulation specified");
            }
        }
        Reply::OK
    }

    /// A crash point of the failover: whether this sentinel is to crash here (then the failover
    /// must not go on; the runner ends the process).
    pub fn crash_at(&mut self, flag: u32) -> bool {
        if self.flags & flag != 0 {
            self.crashed = true;
        }
        self.crashed
    }
}

/// Ends the process with status 99 if a crash point was reached (sentinelSimFailureCrash).
pub fn exit_if_crashed(simulate: &SimulateFailure) {
    if simulate.crashed {
        tracing::warn!("Sentinel CRASH because of SENTINEL simulate-failure");
        std::process::exit(99);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_start_over_and_stop_at_help_or_an_unknown_flag() {
        let mut s = SimulateFailure::default();
        assert_eq!(s.command(&["CRASH-after-Election", "crash-after-promotion"]), Reply::OK);
        assert_eq!(s.flags, 3);
        assert!(s.command(&["crash-after-promotion", "nope", "crash-after-election"]).is_error());
        assert_eq!(s.flags, CRASH_AFTER_PROMOTION);
        assert!(
            matches!(s.command(&["crash-after-election", "help", "nope"]), Reply::Array(names) if names.len() == 2)
        );
        assert_eq!(s.flags, CRASH_AFTER_ELECTION);
        assert!(!s.crash_at(CRASH_AFTER_PROMOTION) && !s.crashed);
        assert!(s.crash_at(CRASH_AFTER_ELECTION) && s.crashed);
    }
}
