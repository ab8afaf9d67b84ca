//! The SENTINEL command and INFO's `# Sentinel` section, answered from the loop's state (the
//! subcommands themselves are in `sentinel::commands`; FAILOVER and PENDING-SCRIPTS need the loop).

use super::super::commands::{self, LinkStatus};
use super::super::instance::InstanceId;
use super::{link_status_of, Runtime};

impl Runtime {
    /// What SENTINEL replies and INFO read of the loop: TILT, scripts, and the links' state.
    fn context<'a>(&self, now_ms: u64, links: &'a dyn Fn(InstanceId) -> LinkStatus) -> commands::Context<'a> {
        commands::Context {
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
        commands::info_sentinel_section(&self.sentinel, &ctx)
    }

    /// SENTINEL <subcommand> ...: the informational and configuration subcommands, and FAILOVER.
    pub fn command(&mut self, args: &[bytes::Bytes], now_ms: u64) -> crate::protocol::Reply {
        use commands::Dispatch;
        let (links, shared) = (&self.links, &self.shared);
        let status = |id: InstanceId| link_status_of(links, shared, id);
        let ctx = self.context(now_ms, &status);
        match commands::command(&mut self.sentinel, args, &ctx, &mut self.timings) {
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
}
