//! notification-script and client-reconfig-script (§8), as Redis 7.0 runs them: a queue of jobs
//! (at most 256, the oldest waiting one dropped first), up to 16 running at once. Exit 0 is done;
//! exit 1 or a signal is retried, up to 10 runs, after `script-retry-delay` (30 s) doubled for
//! each further retry; any other exit, or a retryable end once the runs are used up, is
//! `-script-error <path> <signal> <exitcode>`. A script that cannot be executed counts as exit 2,
//! as in Redis, whose forked child `_exit(2)`s after a failed execve. A run longer than
//! `script-max-runtime` (60 s) gets `-script-timeout` and SIGKILL, and its end is then handled
//! like any other signal.

use std::collections::VecDeque;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::timing::Timings;

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
    /// While running: wakes the task that waits for the child so it sends SIGKILL. The task owns
    /// the child, so the signal can never reach another process that reused the pid.
    kill: Option<Arc<Notify>>,
    /// The current run was killed for running too long (one `-script-timeout` per run).
    timed_out: bool,
}

impl Job {
    /// The script's path (argv[0]), as the events name it.
    fn path(&self) -> &str {
        self.argv.first().map_or("", String::as_str)
    }
}

/// A run's end, as waitpid reports it.
#[derive(Debug)]
enum Finished {
    /// Exit code, or the signal that ended it.
    Exited { id: u64, code: Option<i32>, signal: Option<i32> },
    /// Waiting for the child failed: its end is unknown.
    Lost { id: u64 },
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
        self.jobs.push_back(Job {
            id,
            argv,
            retry_num: 0,
            start_at_ms: now_ms,
            running: None,
            pid: 0,
            kill: None,
            timed_out: false,
        });
    }

    pub fn running(&self) -> usize {
        self.jobs.iter().filter(|j| j.running.is_some()).count()
    }

    pub fn queued(&self) -> usize {
        self.jobs.len()
    }

    /// From each tick: collects finished runs, starts due ones, kills the ones running too long
    /// (Redis's sentinelTimer does the same three steps). Must run inside a tokio runtime.
    pub fn tick(&mut self, now_ms: u64, timings: &Timings) -> Announcements {
        let mut out = Vec::new();
        let finished: Vec<Finished> = std::mem::take(&mut *self.finished.lock());
        for f in finished {
            self.collect(f, now_ms, timings.script_retry_delay, &mut out);
        }
        self.start_due(now_ms, &mut out);
        self.kill_timed_out(now_ms, timings.script_max_runtime, &mut out);
        out
    }

    fn start_due(&mut self, now_ms: u64, out: &mut Announcements) {
        let mut running = self.running();
        for job in self.jobs.iter_mut() {
            if running >= MAX_RUNNING {
                break;
            }
            if job.running.is_some() || job.start_at_ms > now_ms {
                continue;
            }
            job.retry_num += 1;
            match spawn(job.id, &job.argv, self.finished.clone()) {
                Ok((pid, kill)) => {
                    running += 1;
                    job.running = Some(now_ms);
                    job.pid = pid;
                    job.kill = Some(kill);
                    job.timed_out = false;
                }
                // Redis's failed fork: reported, and the job tries again on the next tick.
                Err(SpawnError::NoProcess) => {
                    out.push(("-script-error", format!("{} 99 0", job.path())));
                }
                // The script itself cannot run: Redis's child exits 2 after execve fails.
                Err(SpawnError::CannotExec) => {
                    running += 1;
                    job.running = Some(now_ms);
                    self.finished.lock().push(Finished::Exited { id: job.id, code: Some(2), signal: None });
                }
            }
        }
    }

    /// sentinelKillTimedoutScripts: SIGKILL for a run longer than `max_runtime_ms`.
    fn kill_timed_out(&mut self, now_ms: u64, max_runtime_ms: u64, out: &mut Announcements) {
        for job in self.jobs.iter_mut() {
            let Some(since) = job.running else { continue };
            if job.timed_out || now_ms.saturating_sub(since) <= max_runtime_ms {
                continue;
            }
            out.push(("-script-timeout", format!("{} {}", job.path(), job.pid)));
            job.timed_out = true;
            if let Some(kill) = &job.kill {
                kill.notify_one();
            }
        }
    }

    /// sentinelCollectTerminatedScripts: a signal or exit 1 is retried while runs are left;
    /// otherwise the job goes, with `-script-error` unless it exited 0.
    fn collect(&mut self, f: Finished, now_ms: u64, retry_delay_ms: u64, out: &mut Announcements) {
        let id = match &f {
            Finished::Exited { id, .. } | Finished::Lost { id } => *id,
        };
        let Some(i) = self.jobs.iter().position(|j| j.id == id) else { return };
        let path = self.jobs[i].path().to_string();
        let (signal, code) = match f {
            Finished::Exited { code, signal, .. } => (signal.unwrap_or(0), code.unwrap_or(0)),
            Finished::Lost { .. } => {
                out.push(("-script-error", format!("{path} 99 0")));
                self.jobs.remove(i);
                return;
            }
        };
        let job = &mut self.jobs[i];
        if (signal != 0 || code == 1) && job.retry_num < MAX_RUNS {
            job.running = None;
            job.pid = 0;
            job.kill = None;
            job.start_at_ms = now_ms.saturating_add(retry_delay(retry_delay_ms, job.retry_num));
            return;
        }
        if signal != 0 || code != 0 {
            out.push(("-script-error", format!("{path} {signal} {code}")));
        }
        self.jobs.remove(i);
    }
}

/// sentinelScriptRetryDelay: the delay after run `retry_num`, doubled for each run after the first.
fn retry_delay(first_ms: u64, retry_num: u32) -> u64 {
    (1..retry_num).fold(first_ms, |delay, _| delay.saturating_mul(2))
}

enum SpawnError {
    /// No process could be made (fork's EAGAIN): Redis's `-script-error <path> 99 0`.
    NoProcess,
    /// The process could not execute the script (missing, not executable, ...).
    CannotExec,
}

/// Starts the script; its end is reported in `finished`. Returns its pid and the handle that
/// kills it.
fn spawn(id: u64, argv: &[String], finished: Arc<Mutex<Vec<Finished>>>) -> Result<(u32, Arc<Notify>), SpawnError> {
    let Some(path) = argv.first() else { return Err(SpawnError::CannotExec) };
    let mut cmd = tokio::process::Command::new(path);
    cmd.args(&argv[1..]).stdin(std::process::Stdio::null()).kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|e| match e.raw_os_error() {
        Some(code) if code == nix::errno::Errno::EAGAIN as i32 => SpawnError::NoProcess,
        _ => SpawnError::CannotExec,
    })?;
    let pid = child.id().unwrap_or(0);
    let kill = Arc::new(Notify::new());
    let killed = kill.clone();
    tokio::spawn(async move {
        let status = tokio::select! {
            status = child.wait() => status,
            _ = killed.notified() => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let result = match status {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                Finished::Exited { id, code: status.code(), signal: status.signal() }
            }
            Err(_) => Finished::Lost { id },
        };
        finished.lock().push(result);
    });
    Ok((pid, kill))
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
        s.collect(Finished::Exited { id, code: Some(1), signal: None }, 1_000, 30_000, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.jobs[0].start_at_ms, 31_000, "retried after 30 s");
        s.collect(Finished::Exited { id, code: Some(2), signal: None }, 2_000, 30_000, &mut out);
        assert_eq!(out, vec![("-script-error", "/x 0 2".to_string())]);
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn a_signal_after_the_last_run_reports_the_signal() {
        let mut s = Scripts::default();
        s.schedule(vec!["/x".into()], 0);
        s.jobs[0].retry_num = MAX_RUNS;
        let id = s.jobs[0].id;
        let mut out = Vec::new();
        s.collect(Finished::Exited { id, code: None, signal: Some(9) }, 0, 30_000, &mut out);
        assert_eq!(out, vec![("-script-error", "/x 9 0".to_string())]);
        assert_eq!(s.queued(), 0);
    }

    #[test]
    fn the_retry_delay_doubles_after_the_first_retry() {
        assert_eq!([1, 2, 3, 10].map(|n| retry_delay(30_000, n)), [30_000, 60_000, 120_000, 15_360_000]);
        assert_eq!(retry_delay(u64::MAX / 2, 10), u64::MAX);
    }
}
