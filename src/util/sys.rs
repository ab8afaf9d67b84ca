//! What the operating system tells about itself and this process: the page size, the resident set,
//! the C library's text for an error, and transparent huge pages. Through nix where it has the call.

use nix::unistd::{sysconf, SysconfVar};

/// The memory page size, from sysconf(_SC_PAGESIZE): 4 KiB on x86-64, but 16 or 64 KiB on some
/// arm64 and ppc64 kernels, which would make RSS figures four to sixteen times too small.
pub fn page_size() -> u64 {
    match sysconf(SysconfVar::PAGE_SIZE) {
        Ok(Some(n)) if n > 0 => n as u64,
        _ => 4096,
    }
}

/// This process's resident set size in bytes (the second field of /proc/self/statm, in pages).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()))
        .map_or(0, |pages| pages * page_size())
}

/// The C library's text for an I/O error (strerror), as Redis prints it in logs and replies:
/// Rust's own text adds " (os error N)", which no Redis message has.
pub fn error_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

/// prctl(PR_SET_THP_DISABLE): transparent huge pages off for this process and its children (the
/// snapshot child included), whatever the system setting; Redis's `disable-thp yes`.
pub fn disable_thp() -> Result<(), String> {
    nix::sys::prctl::set_thp_disable(true).map_err(|e| e.desc().to_string())
}

/// Whether THP is disabled for this process (PR_GET_THP_DISABLE).
pub fn thp_disabled() -> bool {
    nix::sys::prctl::get_thp_disable().unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_size_is_the_systems() {
        let p = page_size();
        assert!(p >= 4096 && p.is_power_of_two(), "{p}");
    }

    #[test]
    fn error_text_has_no_rust_suffix() {
        let e = std::io::Error::from_raw_os_error(2);
        assert_eq!(error_text(&e), "No such file or directory");
        let e = std::io::Error::from_raw_os_error(28);
        assert_eq!(error_text(&e), "No space left on device");
    }

    #[test]
    fn rss_is_counted_in_real_pages() {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        // Read again: the RSS may move a little between the two reads, never by a page-size factor.
        let rss = rss_bytes();
        assert!(rss >= pages * page_size() / 2 && rss <= pages * page_size() * 2, "{rss} vs {pages} pages");
    }
}
