//! `redisctl tls --cert FILE --key FILE --ca FILE [--port N] [--replication] [--sentinel]`: the
//! TLS directives written after their template comments in one edit of redis.conf (or
//! sentinel.conf), once the files are known to work: each one readable by the service user, the
//! certificate and CA parsed, the key the certificate's. --apply sends them in one CONFIG SET,
//! which reloads the certificates without dropping a client.
//!
//! The private key is parsed here but its contents never appear in output: errors name the file
//! and OpenSSL's reason only.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Uid, User};
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;

use super::apply::{ServerChange, Target};
use super::edit::{finish, Run};
use super::files::ConfSet;
use super::set::{apply_to_server, Live};
use super::{fail, usage, Result};

/// The user the packaged units run the server and Sentinel as (User= in systemd/*.service).
pub const SERVICE_USER: &str = "redis";

/// What `redisctl tls` was asked.
pub struct Request<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub ca: &'a Path,
    pub port: Option<&'a str>,
    pub replication: bool,
    pub sentinel: bool,
}

pub fn tls(cli: &Run, server: Option<&Target>, r: &Request) -> Result<()> {
    // The server opens relative paths from its working directory (the data dir), not ours.
    let absolute = |p: &Path| std::path::absolute(p).map_err(|e| fail(format!("{}: {e}", p.display())));
    let (cert, key, ca) = (absolute(r.cert)?, absolute(r.key)?, absolute(r.ca)?);
    let file = if r.sentinel { cli.sentinel_config.clone() } else { cli.config.clone() };
    let mut set = ConfSet::load(&file)?;
    check_readable(&[&cert, &key, &ca])?;
    let pass = set.find("tls-key-file-pass", &[]).and_then(|f| f.values.first().cloned()).unwrap_or_default();
    check_pair(&cert, &key, &pass)?;
    read_certificates(&ca, "CA certificate")?;

    if r.sentinel {
        if let Some(t) = super::apply::running_sentinel(&cli.sentinel_config)? {
            return Err(fail(format!(
                "a Sentinel is running at {} and rewrites {} itself; its TLS settings cannot change through it: stop it (systemctl stop redis-sentinel-rs), run this again, then start it",
                t.address(),
                file.display()
            )));
        }
    }
    let port = match r.port {
        Some(p) => super::validate::port(p)?.to_string(),
        None => match set.find("tls-port", &[]).and_then(|f| f.values.first().cloned()) {
            Some(p) if p != "0" => p,
            _ => {
                return Err(usage(format!(
                    "{} has no tls-port: give the port TLS clients connect to with --port N",
                    file.display()
                )))
            }
        },
    };
    let path = |p: &PathBuf| p.display().to_string();
    let mut lines: Vec<(&str, String)> = vec![
        ("tls-port", port),
        ("tls-cert-file", path(&cert)),
        ("tls-key-file", path(&key)),
        ("tls-ca-cert-file", path(&ca)),
    ];
    if r.replication {
        lines.push(("tls-replication", "yes".into()));
    }
    // One edit of one file: a directive an included file sets would stay in effect there.
    for (name, _) in &lines {
        if let Some(found) = set.find(name, &[]).filter(|f| f.file != file) {
            return Err(fail(format!(
                "{name} is set in {}, included by {}: edit it there",
                found.file.display(),
                file.display()
            )));
        }
    }
    let doc = set.doc_mut(&file).ok_or_else(|| fail(format!("{}: not loaded", file.display())))?;
    let before = doc.render();
    for (name, value) in &lines {
        doc.set(name, &[], &[vec![value.clone()]]);
    }
    if doc.render() == before {
        cli.say(&format!("{} already has these TLS settings; nothing changed", file.display()));
        cli.report.borrow_mut().file = file.display().to_string();
    } else {
        let shown: Vec<Vec<String>> = lines.iter().map(|(n, v)| vec![n.to_string(), v.clone()]).collect();
        finish(cli, &mut set, &file, &before, "tls", &shown, false)?;
    }
    if r.sentinel {
        super::sync_sentinel_socket_unit(cli)?;
        if cli.apply && !cli.dry_run {
            cli.applied("Sentinel reads its TLS settings only when it starts: start it to apply them".into());
        }
        return Ok(());
    }
    // Under socket activation the TLS socket unit holds tls-port: it follows the file, and
    // --apply then restarts the sockets and the server instead of a CONFIG SET.
    if super::sync_socket_unit(cli)? {
        return Ok(());
    }
    // Always sent, even when the running server has these paths: CONFIG SET reads the files
    // again, which is how a renewed certificate at the same path takes effect.
    let pairs = lines.into_iter().map(|(n, v)| (n.to_string(), v)).collect();
    apply_to_server(cli, server, ServerChange::ConfigSetMany(pairs), Live::Yes)
}

/// Every file can be opened for reading by the service user, or an error names those that cannot.
fn check_readable(paths: &[&Path]) -> Result<()> {
    let user = User::from_name(SERVICE_USER)
        .map_err(|e| fail(format!("looking up the user {SERVICE_USER}: {}", e.desc())))?
        .ok_or_else(|| {
            fail(format!("there is no user {SERVICE_USER} on this host (the packaged server runs as it)"))
        })?;
    let unreadable = unreadable_by(&user, paths)?;
    if unreadable.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = unreadable.iter().map(|p| p.display().to_string()).collect();
    Err(fail(format!(
        "the user {SERVICE_USER}, which the server runs as, cannot read {}: check the files' owner and mode and the directories above them (e.g. chgrp {SERVICE_USER} FILE; chmod g+r FILE); nothing was written",
        names.join(", ")
    )))
}

/// The paths `user` cannot open for reading. Asked of the kernel as that user (access(2) after
/// setuid in a forked child), so directories' search permission, supplementary groups and POSIX
/// ACLs count exactly as they will for the server; permission bits alone would miss the last.
/// Switching users needs root; a non-root redisctl can check only if it is that user already.
fn unreadable_by(user: &User, paths: &[&Path]) -> Result<Vec<PathBuf>> {
    let readable = |p: &Path| nix::unistd::access(p, nix::unistd::AccessFlags::R_OK).is_ok();
    if Uid::effective() == user.uid {
        return Ok(paths.iter().filter(|p| !readable(p)).map(|p| p.to_path_buf()).collect());
    }
    if !Uid::effective().is_root() {
        return Err(fail(format!(
            "checking that the user {SERVICE_USER} can read the files needs root (or running as {SERVICE_USER})"
        )));
    }
    // One bit of the child's exit code per path, below SWITCH_FAILED.
    if paths.len() > 7 {
        return Err(fail("too many files to check"));
    }
    // Everything the child needs is made before the fork: it then only makes system calls.
    let name = CString::new(user.name.as_str()).map_err(|_| fail("a user name with a NUL byte"))?;
    let groups: Vec<Gid> = nix::unistd::getgrouplist(&name, user.gid)
        .map_err(|e| fail(format!("the groups of {SERVICE_USER}: {}", e.desc())))?;
    let cpaths: Vec<CString> = paths
        .iter()
        .map(|p| CString::new(p.as_os_str().as_encoded_bytes()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| fail("a path with a NUL byte"))?;
    // SAFETY: the child makes only async-signal-safe system calls (setgroups, setgid, setuid,
    // access, _exit) on memory prepared before the fork, so it is sound even if another thread
    // held a lock at the fork; it never returns into Rust code.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let code = child_check(&groups, user.gid, user.uid, &cpaths);
            // SAFETY: ends the child at once, running no destructors or atexit handlers of the
            // parent's state.
            unsafe { libc::_exit(code) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            let status = nix::sys::wait::waitpid(child, None)
                .map_err(|e| fail(format!("checking the files as {SERVICE_USER}: {}", e.desc())))?;
            match status {
                nix::sys::wait::WaitStatus::Exited(_, code) if code != SWITCH_FAILED => Ok(paths
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| code & (1 << i) != 0)
                    .map(|(_, p)| p.to_path_buf())
                    .collect()),
                _ => Err(fail(format!("could not switch to the user {SERVICE_USER} to check the files"))),
            }
        }
        Err(e) => Err(fail(format!("checking the files as {SERVICE_USER}: fork: {}", e.desc()))),
    }
}

/// The child's exit code when it could not become the service user.
const SWITCH_FAILED: i32 = 255;

/// In the forked child: become the user (groups first, then the gid, the uid last, which drops
/// the right to change the others), then one bit per path it cannot read.
fn child_check(groups: &[Gid], gid: Gid, uid: Uid, paths: &[CString]) -> i32 {
    if nix::unistd::setgroups(groups).is_err() || nix::unistd::setgid(gid).is_err() || nix::unistd::setuid(uid).is_err()
    {
        return SWITCH_FAILED;
    }
    let mut bits = 0;
    for (i, p) in paths.iter().enumerate() {
        // SAFETY: `p` is a NUL-terminated path made before the fork; access only reads it.
        if unsafe { libc::access(p.as_ptr(), libc::R_OK) } != 0 {
            bits |= 1 << i;
        }
    }
    bits
}

/// The PEM certificates of a file (a chain, or a CA bundle): at least one.
fn read_certificates(path: &Path, what: &str) -> Result<Vec<X509>> {
    let pem = std::fs::read(path).map_err(|e| fail(super::files::io_error(path, &e, false)))?;
    let certs = X509::stack_from_pem(&pem)
        .map_err(|e| fail(format!("{}: not a PEM {what}: {}", path.display(), openssl_reason(&e))))?;
    if certs.is_empty() {
        return Err(fail(format!("{}: no PEM {what} in it", path.display())));
    }
    Ok(certs)
}

/// The certificate (the first of its chain, as OpenSSL uses it) and the key that goes with it.
fn check_pair(cert_path: &Path, key_path: &Path, pass: &str) -> Result<()> {
    let cert = read_certificates(cert_path, "certificate")?.swap_remove(0);
    let key = read_key(key_path, pass)?;
    let public = cert
        .public_key()
        .map_err(|e| fail(format!("{}: its public key: {}", cert_path.display(), openssl_reason(&e))))?;
    if !public.public_eq(&key) {
        return Err(fail(format!(
            "the private key in {} does not match the certificate in {}; nothing was written",
            key_path.display(),
            cert_path.display()
        )));
    }
    Ok(())
}

/// The key, opened with the configuration's tls-key-file-pass as the server opens it. Without
/// one, the empty passphrase makes an encrypted key fail here instead of OpenSSL asking on the
/// terminal.
fn read_key(path: &Path, pass: &str) -> Result<PKey<Private>> {
    let pem = std::fs::read(path).map_err(|e| fail(super::files::io_error(path, &e, false)))?;
    PKey::private_key_from_pem_passphrase(&pem, pass.as_bytes()).map_err(|e| {
        fail(format!(
            "{}: not a PEM private key that opens ({}); an encrypted key needs its passphrase first: 'redisctl set tls-key-file-pass --stdin'",
            path.display(),
            openssl_reason(&e)
        ))
    })
}

/// OpenSSL's reason for the first error: never the data it was parsing.
fn openssl_reason(e: &openssl::error::ErrorStack) -> String {
    e.errors().first().and_then(|e| e.reason()).unwrap_or("unknown error").to_string()
}
