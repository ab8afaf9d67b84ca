//! What Redis checks and shows of the system at start-up, in its words: the logo with mode, port
//! and PID (redisAsciiArt), the warnings of linuxMemoryWarnings (memory overcommit, transparent huge
//! pages, which `disable-thp` turns off for the process instead) and of checkTcpBacklogSettings.
//! Tools and test harnesses read the logo's `PID:` line, and admins know these warnings by heart.

/// Redis 7.0's asciilogo.h, byte for byte (its trailing blanks included), as printed by
/// `redis-server --always-show-logo yes`.
fn ascii_logo(mode: &str, port: u16, pid: u32) -> String {
    format!(
        concat!(
            "                _._                                                  \n",
            "           _.-``__ ''-._                                             \n",
            "      _.-``    `.  `_.  ''-._           Redis {version} (00000000/0) 64 bit\n",
            "  .-`` .-```.  ```\\/    _.,_ ''-._                                  \n",
            " (    '      ,       .-`  | `,    )     Running in {mode} mode\n",
            " |`-._`-...-` __...-.``-._|'` _.-'|     Port: {port}\n",
            " |    `-._   `._    /     _.-'    |     PID: {pid}\n",
            "  `-._    `-._  `-./  _.-'    _.-'                                   \n",
            " |`-._`-._    `-.__.-'    _.-'_.-'|                                  \n",
            " |    `-._`-._        _.-'_.-'    |           https://redis.io       \n",
            "  `-._    `-._`-.__.-'_.-'    _.-'                                   \n",
            " |`-._`-._    `-.__.-'    _.-'_.-'|                                  \n",
            " |    `-._`-._        _.-'_.-'    |                                  \n",
            "  `-._    `-._`-.__.-'_.-'    _.-'                                   \n",
            "      `-._    `-.__.-'    _.-'                                       \n",
            "          `-._        _.-'                                           \n",
            "              `-.__.-'                                               \n",
            "\n",
        ),
        version = crate::REDIS_VERSION,
        mode = mode,
        port = port,
        pid = pid,
    )
}

/// The logo, or the line that stands for it (redisAsciiArt): under syslog (journald here) one line
/// with everything; else the art when `always-show-logo yes` or a person watches the terminal;
/// else "Running mode=..., port=...".
pub fn show_logo(mode: &str, port: u16, always: bool) {
    let pid = std::process::id();
    if crate::logging::to_journal() {
        tracing::info!(
            "Redis {} (00000000/0) 64 bit, {mode} mode, port {port}, pid {pid} ready to start.",
            crate::REDIS_VERSION
        );
    } else if always || crate::logging::stdout_is_terminal() {
        crate::logging::raw(&ascii_logo(mode, port, pid));
    } else {
        tracing::info!("Running mode={mode}, port={port}.");
    }
}

const OVERCOMMIT: &str = "Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition. Being disabled, it can can also cause failures without low memory condition, see https://github.com/jemalloc/jemalloc/issues/1328. To fix this issue add 'vm.overcommit_memory = 1' to /etc/sysctl.conf and then reboot or run the command 'sysctl vm.overcommit_memory=1' for this to take effect.";

const THP: &str = "You have Transparent Huge Pages (THP) support enabled in your kernel. This will create latency and memory usage issues with Redis. To fix this issue run the command 'echo madvise > /sys/kernel/mm/transparent_hugepage/enabled' as root, and add it to your /etc/rc.local in order to retain the setting after a reboot. Redis must be restarted after THP is disabled (set to 'madvise' or 'never').";

/// checkOvercommit: the text of /proc/sys/vm/overcommit_memory, which must be 1.
fn overcommit_warning(setting: &str) -> Option<&'static str> {
    (setting.trim() != "1").then_some(OVERCOMMIT)
}

/// checkTHPEnabled: the text of /sys/kernel/mm/transparent_hugepage/enabled; only `[always]` hurts.
fn thp_enabled(setting: &str) -> bool {
    setting.contains("[always]")
}

/// checkTcpBacklogSettings: the backlog asked for against net.core.somaxconn.
fn tcp_backlog_warning(backlog: i64, somaxconn: &str) -> Option<String> {
    let max: i64 = somaxconn.trim().parse().ok()?;
    (max < backlog).then(|| {
        format!("WARNING: The TCP backlog setting of {backlog} cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of {max}.")
    })
}

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// checkTcpBacklogSettings, for the server and Sentinel alike.
pub fn check_tcp_backlog(backlog: i64) {
    if let Some(w) = read("/proc/sys/net/core/somaxconn").and_then(|s| tcp_backlog_warning(backlog, &s)) {
        tracing::warn!("{w}");
    }
}

/// linuxMemoryWarnings (the data server only): overcommit, and THP, which `disable-thp yes` turns
/// off for this process with prctl instead of warning; only when that fails is the warning logged.
pub fn memory_warnings(disable_thp: bool) {
    if let Some(w) = read("/proc/sys/vm/overcommit_memory").as_deref().and_then(overcommit_warning) {
        tracing::warn!("WARNING {w}");
    }
    if read("/sys/kernel/mm/transparent_hugepage/enabled").is_some_and(|s| thp_enabled(&s))
        && thp_still_enabled(disable_thp, crate::util::sys::disable_thp)
    {
        tracing::warn!("WARNING {THP}");
    }
}

/// Whether THP stays on for the process once `disable-thp` had its say (Redis's THPDisable).
fn thp_still_enabled(disable_thp: bool, disable: impl FnOnce() -> Result<(), String>) -> bool {
    !disable_thp || disable().is_err()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logo_is_redis_own() {
        let logo = ascii_logo("standalone", 7001, 7966);
        let lines: Vec<&str> = logo.split('\n').collect();
        assert_eq!(lines.len(), 19, "17 lines of art, a blank line, and the end");
        assert_eq!(lines[2], "      _.-``    `.  `_.  ''-._           Redis 7.0.15 (00000000/0) 64 bit");
        assert_eq!(lines[4], " (    '      ,       .-`  | `,    )     Running in standalone mode");
        assert_eq!(lines[5], " |`-._`-...-` __...-.``-._|'` _.-'|     Port: 7001");
        assert_eq!(lines[6], " |    `-._   `._    /     _.-'    |     PID: 7966");
        assert!(lines[0].ends_with("_._                                                  "));
        assert!(logo.ends_with("\n\n"));
    }

    #[test]
    fn overcommit_must_be_1() {
        assert_eq!(overcommit_warning("0\n"), Some(OVERCOMMIT));
        assert_eq!(overcommit_warning("2\n"), Some(OVERCOMMIT));
        assert_eq!(overcommit_warning("1\n"), None);
    }

    #[test]
    fn only_thp_always_hurts() {
        assert!(thp_enabled("[always] madvise never\n"));
        assert!(!thp_enabled("always [madvise] never\n"));
        assert!(!thp_enabled("always madvise [never]\n"));
    }

    #[test]
    fn disable_thp_replaces_the_warning() {
        assert!(!thp_still_enabled(true, || Ok(())));
        assert!(thp_still_enabled(true, || Err("Invalid argument".into())));
        let mut called = false;
        assert!(thp_still_enabled(false, || {
            called = true;
            Ok(())
        }));
        assert!(!called, "disable-thp no leaves THP alone");
    }

    #[test]
    fn backlog_above_somaxconn_warns_in_redis_words() {
        assert_eq!(
            tcp_backlog_warning(8000, "4096\n").as_deref(),
            Some("WARNING: The TCP backlog setting of 8000 cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of 4096.")
        );
        assert_eq!(tcp_backlog_warning(511, "4096\n"), None);
        assert_eq!(tcp_backlog_warning(511, "garbage"), None);
    }
}
