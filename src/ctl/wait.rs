//! `replicaof HOST PORT --apply --wait`: follow the replica's sync until its link to the master
//! is up, as a progress bar on a terminal or a line per step otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use super::apply::{self, Target};
use super::edit::Run;
use super::{fail, Result};

/// Where the replica is in its sync, from INFO replication.
#[derive(PartialEq, Debug)]
enum Step {
    Connecting,
    Transfer { total: i64, read: i64 },
    Loading,
    Up,
}

impl Step {
    fn of(info: &str) -> Step {
        let field = |k: &str| info.lines().find_map(|l| l.trim_end_matches('\r').strip_prefix(k)).map(str::to_string);
        let num = |k: &str| field(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        if field("master_link_status:").as_deref() == Some("up") {
            Step::Up
        } else if num("master_sync_in_progress:") == 1 {
            let (total, read) = (num("master_sync_total_bytes:"), num("master_sync_read_bytes:"));
            if total > 0 && read >= total {
                Step::Loading
            } else {
                Step::Transfer { total, read }
            }
        } else {
            Step::Connecting
        }
    }

    fn line(&self) -> String {
        match self {
            Step::Connecting => "connecting to the master".into(),
            Step::Transfer { total, read } if *total > 0 => {
                format!("receiving the master's data: {read} of {total} bytes ({}%)", read * 100 / total)
            }
            Step::Transfer { read, .. } => format!("receiving the master's data: {read} bytes"),
            Step::Loading => "loading the master's data".into(),
            Step::Up => "master_link_status:up: in sync".into(),
        }
    }

    fn bar(&self) -> String {
        let (done, width) = match self {
            Step::Transfer { total, read } if *total > 0 => ((*read * 30 / *total) as usize, 30),
            Step::Loading | Step::Up => (30, 30),
            _ => (0, 30),
        };
        format!("[{}{}] {}", "#".repeat(done.min(width)), " ".repeat(width - done.min(width)), self.line())
    }
}

pub fn until_in_sync(cli: &Run, target: &Target, timeout: Duration) -> Result<()> {
    let rt = apply::runtime().map_err(fail)?;
    let deadline = Instant::now() + timeout;
    let on_terminal = std::io::stdout().is_terminal() && !cli.json && !cli.quiet;
    let mut last: Option<Step> = None;
    loop {
        let info = rt.block_on(async {
            let mut c = apply::connect(target).await?;
            c.command(&["INFO", "replication"]).await
        });
        let step = match info {
            Ok(v) => Step::of(&v.text().unwrap_or_default()),
            Err(e) => {
                let why = super::files::plain(&e);
                return Err(fail(format!("the server at {} stopped answering: {why}", target.address())));
            }
        };
        if last.as_ref() != Some(&step) {
            if on_terminal {
                print!("\r\x1b[2K{}", step.bar());
                let _ = std::io::stdout().flush();
            } else if !matches!((&last, &step), (Some(Step::Transfer { .. }), Step::Transfer { .. })) {
                // Without a terminal, one line per step: the transfer's progress is not repeated.
                cli.say(&step.line());
            }
        }
        if step == Step::Up {
            if on_terminal {
                println!();
            }
            cli.report.borrow_mut().applied.get_or_insert_with(String::new).push_str("; master_link_status:up");
            return Ok(());
        }
        if Instant::now() >= deadline {
            if on_terminal {
                println!();
            }
            return Err(fail(format!(
                "the replica at {} is not in sync after {}s (last: {}); it keeps trying in the background",
                target.address(),
                timeout.as_secs(),
                step.line()
            )));
        }
        last = Some(step);
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_of_a_sync_from_info_replication() {
        assert_eq!(
            Step::of("role:slave\r\nmaster_link_status:down\r\nmaster_sync_in_progress:0\r\n"),
            Step::Connecting
        );
        let transfer = "role:slave\r\nmaster_link_status:down\r\nmaster_sync_in_progress:1\r\n\
                        master_sync_total_bytes:1000\r\nmaster_sync_read_bytes:250\r\n";
        assert_eq!(Step::of(transfer), Step::Transfer { total: 1000, read: 250 });
        assert_eq!(Step::of(transfer).line(), "receiving the master's data: 250 of 1000 bytes (25%)");
        assert!(Step::of(transfer).bar().starts_with(&format!("[{}{}]", "#".repeat(7), " ".repeat(23))));
        // The size is not known yet with a diskless sync (-1).
        let diskless = "master_sync_in_progress:1\r\nmaster_sync_total_bytes:-1\r\nmaster_sync_read_bytes:10\r\n";
        assert_eq!(Step::of(diskless).line(), "receiving the master's data: 10 bytes");
        let loading = "master_sync_in_progress:1\r\nmaster_sync_total_bytes:10\r\nmaster_sync_read_bytes:10\r\n";
        assert_eq!(Step::of(loading), Step::Loading);
        assert_eq!(Step::of("master_link_status:up\r\n"), Step::Up);
    }
}
