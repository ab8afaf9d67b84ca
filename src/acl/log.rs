//! The ACL log (addACLLogEntry): denied commands, keys, channels and failed logins, newest
//! first, with repeats within a minute counted in one entry.

use std::collections::VecDeque;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogReason {
    Command,
    Key,
    Auth,
    Channel,
}

impl LogReason {
    pub fn name(self) -> &'static str {
        match self {
            LogReason::Command => "command",
            LogReason::Key => "key",
            LogReason::Auth => "auth",
            LogReason::Channel => "channel",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogContext {
    Toplevel,
    Multi,
    Lua,
}

impl LogContext {
    pub fn name(self) -> &'static str {
        match self {
            LogContext::Toplevel => "toplevel",
            LogContext::Multi => "multi",
            LogContext::Lua => "lua",
        }
    }
}

#[derive(Debug, Clone)]
pub struct LogEntry {
    pub count: u64,
    pub reason: LogReason,
    pub context: LogContext,
    pub object: Vec<u8>,
    pub username: Vec<u8>,
    /// Unix ms of the last occurrence.
    pub ctime_ms: u64,
    /// The client's CLIENT LIST line at the last occurrence.
    pub client_info: String,
}

/// Entries this close in time (ms) are one (ACL_LOG_GROUPING_MAX_TIME_DELTA).
const GROUPING_MS: u64 = 60_000;

fn same(a: &LogEntry, b: &LogEntry) -> bool {
    a.reason == b.reason
        && a.context == b.context
        && a.ctime_ms.abs_diff(b.ctime_ms) <= GROUPING_MS
        && a.object == b.object
        && a.username == b.username
}

pub fn add(log: &mut VecDeque<LogEntry>, entry: LogEntry, max_len: usize) {
    // Only the 10 newest entries are looked at for a match, as Redis does.
    if let Some(i) = log.iter().take(10).position(|e| same(e, &entry)) {
        if let Some(mut m) = log.remove(i) {
            m.client_info = entry.client_info;
            m.ctime_ms = entry.ctime_ms;
            m.count += 1;
            log.push_front(m);
        }
        return;
    }
    log.push_front(entry);
    while log.len() > max_len {
        log.pop_back();
    }
}
