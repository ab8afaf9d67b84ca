//! notification-script and client-reconfig-script (§8): a queue of jobs (at most 256, the
//! oldest waiting one dropped first), up to 16 running at once. Exit 0 is done; exit 1 or a
//! signal is retried, up to 10 runs, after 30 s doubled for each retry; anything else, or no
//! more retries, is `-script-error`. A run longer than 60 s is killed (`-script-timeout`) and
//! retried.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

const MAX_QUEUE: usize = 256;
const MAX_RUNNING: usize = 16;
const MAX_RUNS: u32 = 10;

/// One script run to do.
#[derive(Clone, Debug)]
pub struct Job {
    id: u64,
    pub argv: Vec<String>,
    /// Runs made so far.
    pub retry_num: u32,
    /// When it may start (unix ms).
    pub start_at_ms: u64,
    /// While running: since when.
    pub running: Option<u64>,
    pub pid: u32,
}

/// What a finished run reports.
enum Finished {
    /// Exit code, or the signal that ended it.
    Exited {
        id: u64,
        code: Option<i32>,
        signal: Option<i32>,
    },
    TimedOut {
        id: u64,
        pid: u32,
    },
    CannotStart {
        id: u64,
    },
}

pub struct Scripts {
    pub jobs: VecDeque<Job>,
    next_id: u64,
    finished: Arc<Mutex<Vec<Finished>>>,
}

impl Default for Scripts {
    fn default() -> Scripts {
        Scripts { jobs: VecDeque::new(), next_id: 1, finished: Arc::default() }
    }
}

/// What the scripts' progress asks Sentinel to announce: (event, message).
pub type Announcements = Vec<(&'static str, String)>;

impl Scripts {
    /// Queues a run of `argv` (the script's path first), to start at once.
    pub fn schedule(&mut self, argv: Vec<String>, now_ms: u64) {
        if self.jobs.len() >= MAX_QUEUE {
            // The oldest job that is not running goes.
            if let Some(i) = self.jobs.iter().position(|j| j.running.is_none()) {
                self.jobs.remove(i);
            } else {
                return;
            }
        }
        let id = self.next_id;
        self.next_id += 1;
        self.jobs.push_back(Job { id, argv, retry_num: 0, start_at_ms: now_ms, running: None, pid: 0 });
    }

    pub fn running(&self) -> usize {
        self.jobs.iter().filter(|j| j.running.is_some()).count()
    }

    pub fn queued(&self) -> usize {
        self.jobs.len()
    }

    /// From each tick: collects finished runs, starts due ones. Must run inside a tokio runtime.
    pub fn tick(&mut self, now_ms: u64) -> Announcements {
        let mut out = Vec::new();
        let finished: Vec<Finished> = std::mem::take(&mut *self.finished.lock());
        for f in finished {
            self.collect(f, now_ms, &mut out);
        }
        let mut running = self.running();
        for job in self.jobs.iter_mut() {
            if running >= MAX_RUNNING {
                break;
            }
            if job.running.is_some() || job.start_at_ms > now_ms {
                continue;
            }
            job.retry_num += 1;
            job.running = Some(now_ms);
            running += 1;
            job.pid = spawn(job.id, job.argv.clone(), self.finished.clone());
        }
        out
    }

    fn collect(&mut self, f: Finished, now_ms: u64, out: &mut Announcements) {
        let id = match &f {
            Finished::Exited { id, .. } | Finished::TimedOut { id, .. } | Finished::CannotStart { id } => *id,
        };
        let Some(i) = self.jobs.iter().position(|j| j.id == id) else { return };
        let path = self.jobs[i].argv.first().cloned().unwrap_or_default();
        let retry = match f {
            Finished::Exited { code: Some(0), .. } => false,
            Finished::Exited { code: Some(1), .. } | Finished::Exited { code: None, .. } => {
                if self.jobs[i].retry_num >= MAX_RUNS {
                    out.push(("-script-error", format!("{path} 0 1")));
                    false
                } else {
                    true
                }
            }
            Finished::Exited { code, signal, .. } => {
                out.push(("-script-error", format!("{path} {} {}", signal.unwrap_or(0), code.unwrap_or(0))));
                false
            }
            Finished::TimedOut { pid, .. } => {
                out.push(("-script-timeout", format!("{path} {pid}")));
                self.jobs[i].retry_num < MAX_RUNS
            }
            Finished::CannotStart { .. } => {
                out.push(("-script-error", format!("{path} 99 0")));
                false
            }
        };
        if retry {
            let job = &mut self.jobs[i];
            job.running = None;
            // 30 s, doubled for each retry after the first.
            job.start_at_ms = now_ms + (30_000u64 << job.retry_num.saturating_sub(1).min(10));
        } else {
            self.jobs.remove(i);
        }
    }
}

/// Starts the script, with a 60 s limit; its end is reported in `finished`. Returns its pid.
fn spawn(id: u64, argv: Vec<String>, finished: Arc<Mutex<Vec<Finished>>>) -> u32 {
    let mut cmd = tokio::process::Command::new(&argv[0]);
    cmd.args(&argv[1..]).stdin(std::process::Stdio::null()).kill_on_drop(true);
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(_) => {
            finished.lock().push(Finished::CannotStart { id });
            return 0;
        }
    };
    let pid = child.id().unwrap_or(0);
    tokio::spawn(async move {
        let result = match tokio::time::timeout(Duration::from_secs(60), child.wait()).await {
            Ok(Ok(status)) => {
                use std::os::unix::process::ExitStatusExt;
                Finished::Exited { id, code: status.code(), signal: status.signal() }
            }
            Ok(Err(_)) => Finished::CannotStart { id },
            Err(_) => {
                let _ = child.kill().await;
                Finished::TimedOut { id, pid }
            }
        };
        finished.lock().push(result);
    });
    pid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_its_oldest_waiting_job() {
        let mut s = Scripts::default();
        for i in 0..MAX_QUEUE + 3 {
            s.schedule(vec![format!("/bin/{i}")], 0);
        }
        assert_eq!(s.queued(), MAX_QUEUE);
        assert_eq!(s.jobs.front().map(|j| j.argv[0].as_str()), Some("/bin/3"));
    }

    #[test]
    fn exits_decide_retries_and_errors() {
        let mut s = Scripts::default();
        s.schedule(vec!["/x".into()], 0);
        s.jobs[0].retry_num = 1;
        let id = s.jobs[0].id;
        let mut out = Vec::new();
        s.collect(Finished::Exited { id, code: Some(1), signal: None }, 1_000, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.jobs[0].start_at_ms, 31_000, "retried after 30 s");
        s.collect(Finished::Exited { id, code: Some(2), signal: None }, 2_000, &mut out);
        assert_eq!(out, vec![("-script-error", "/x 0 2".to_string())]);
        assert_eq!(s.queued(), 0);
    }
}
