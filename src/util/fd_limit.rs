//! Redis's adjustOpenFilesLimit (server.c): `maxclients` needs as many file descriptors plus 32
//! for the server's own files, so at start-up the server raises its NOFILE limit to that, or as
//! near as the OS allows, and lowers `maxclients` to what it got, logging it in Redis's words.
//! Without this a server started with the usual soft limit of 1024 would accept connections until
//! accept(2) fails with EMFILE instead of refusing the excess client with Redis's error.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Redis's CONFIG_MIN_RESERVED_FDS: descriptors kept for files, listeners, pipes.
pub const RESERVED_FDS: u64 = 32;

impl Adjusted {
    /// Logs what adjusting did, at Redis's levels.
    pub fn log(&self) {
        for (warning, line) in &self.log {
            if *warning {
                tracing::warn!("{line}");
            } else {
                tracing::info!("{line}");
            }
        }
    }
}

/// What adjusting did: the `maxclients` to use and the lines to log (level is_warning, text).
#[derive(Debug, PartialEq, Eq)]
pub struct Adjusted {
    pub maxclients: u64,
    pub log: Vec<(bool, String)>,
    /// Set when even the limit in force leaves no room for one client: Redis exits.
    pub fatal: bool,
}

/// Adjusts the process's NOFILE limit for `maxclients` clients.
pub fn adjust(maxclients: u64) -> Adjusted {
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) => plan(maxclients, soft, |n| setrlimit(Resource::RLIMIT_NOFILE, n, n).map_err(|e| e.desc())),
        Err(e) => Adjusted {
            maxclients: 1024 - RESERVED_FDS,
            log: vec![(
                true,
                format!(
                    "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration accordingly.",
                    e.desc()
                ),
            )],
            fatal: false,
        },
    }
}

/// The algorithm, with setrlimit given (it sets soft and hard to the value), so it can be tested
/// without changing the process: try the limit wanted, then 16 fewer at a time down to the limit
/// in force.
fn plan(maxclients: u64, old: u64, mut set: impl FnMut(u64) -> Result<(), &'static str>) -> Adjusted {
    let wanted = maxclients + RESERVED_FDS;
    let mut out = Adjusted { maxclients, log: Vec::new(), fatal: false };
    if old >= wanted {
        return out;
    }
    let mut best = wanted;
    let mut error = "";
    while best > old {
        match set(best) {
            Ok(()) => break,
            Err(e) => error = e,
        }
        if best < 16 {
            best = old;
            break;
        }
        best -= 16;
    }
    best = best.max(old);
    if best >= wanted {
        out.log.push((
            false,
            format!("Increased maximum number of open files to {wanted} (it was originally set to {old})."),
        ));
        return out;
    }
    if best <= RESERVED_FDS {
        out.log.push((true, format!("Your current 'ulimit -n' of {old} is not enough for the server to start. Please increase your open file limit to at least {wanted}. Exiting.")));
        out.fatal = true;
        return out;
    }
    out.maxclients = best - RESERVED_FDS;
    out.log.push((
        true,
        format!("You requested maxclients of {maxclients} requiring at least {wanted} max file descriptors."),
    ));
    out.log.push((true, format!("Server can't set maximum open files to {wanted} because of OS error: {error}.")));
    out.log.push((true, format!("Current maximum open files is {best}. maxclients has been reduced to {} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.", out.maxclients)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_already_changes_nothing() {
        let a = plan(10_000, 20_000, |_| panic!("no setrlimit needed"));
        assert_eq!(a, Adjusted { maxclients: 10_000, log: vec![], fatal: false });
    }

    #[test]
    fn raised_when_the_os_allows() {
        let a = plan(10_000, 1024, |_| Ok(()));
        assert_eq!(a.maxclients, 10_000);
        assert_eq!(
            a.log,
            vec![(false, "Increased maximum number of open files to 10032 (it was originally set to 1024).".into())]
        );
    }

    #[test]
    fn lowered_to_the_hard_limit_in_steps_of_16() {
        let a = plan(10_000, 1024, |n| if n <= 4000 { Ok(()) } else { Err("Operation not permitted") });
        assert_eq!(a.maxclients, 3968);
        assert_eq!(
            a.log[1].1,
            "Server can't set maximum open files to 10032 because of OS error: Operation not permitted."
        );
        assert!(a.log[2].1.starts_with("Current maximum open files is 4000. maxclients has been reduced to 3968 "));
        // Nothing can be raised: the limit in force decides.
        let a = plan(10_000, 1024, |_| Err("Operation not permitted"));
        assert_eq!(a.maxclients, 992);
        let a = plan(10_000, 20, |_| Err("Operation not permitted"));
        assert!(a.fatal);
    }
}
