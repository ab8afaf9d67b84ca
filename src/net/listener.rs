//! Listening sockets: `bind` addresses (with the optional `-` prefix), `port`, `unixsocket`.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use nix::errno::Errno;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, UnixListener};

use crate::server::{Server, TcpConfig};
use crate::systemd::Inherited;

pub enum Listener {
    Tcp(TcpListener),
    /// A socket of the TLS port: connections do the TLS handshake first.
    Tls(TcpListener),
    Unix(UnixListener, String),
}

fn bind_tcp(addr: SocketAddr, backlog: i32) -> std::io::Result<TcpListener> {
    let domain = if addr.is_ipv6() { Domain::IPV6 } else { Domain::IPV4 };
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    if addr.is_ipv6() {
        // Like Redis: IPv6 sockets are v6-only, so `* -::*` binds both families on one port.
        s.set_only_v6(true)?;
    }
    s.set_reuse_address(true)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    s.listen(backlog)?;
    TcpListener::from_std(s.into())
}

fn parse_bind_addr(a: &str) -> Option<IpAddr> {
    match a {
        "*" => Some(IpAddr::from([0u8, 0, 0, 0])),
        "::*" => Some(IpAddr::from([0u16; 8])),
        _ => a.parse().ok(),
    }
}

/// Binds every TCP address of the plain port. Errors carry Redis's log text.
pub fn bind_tcp_all(tc: &TcpConfig) -> Result<Vec<Listener>, String> {
    Ok(bind_port(tc, tc.port, "TCP")?.into_iter().map(Listener::Tcp).collect())
}

/// Binds every TCP address of the TLS port.
pub fn bind_tls_all(tc: &TcpConfig, port: u16) -> Result<Vec<Listener>, String> {
    Ok(bind_port(tc, port, "TLS")?.into_iter().map(Listener::Tls).collect())
}

/// Binds `port` on every `bind` address; `kind` names the port in errors (TCP or TLS).
fn bind_port(tc: &TcpConfig, port: u16, kind: &str) -> Result<Vec<TcpListener>, String> {
    let mut out = Vec::new();
    if port == 0 {
        return Ok(out);
    }
    for b in &tc.binds {
        let (optional, addr) = match b.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, b.as_str()),
        };
        let Some(ip) = parse_bind_addr(addr) else {
            return Err(format!("Failed listening on port {port} ({kind}), aborting: invalid bind address '{addr}'"));
        };
        match bind_tcp(SocketAddr::new(ip, port), tc.backlog) {
            Ok(l) => out.push(l),
            Err(e) => {
                let unavailable = matches!(
                    e.raw_os_error().map(Errno::from_raw),
                    Some(Errno::EADDRNOTAVAIL | Errno::EAFNOSUPPORT | Errno::EPROTONOSUPPORT)
                );
                if optional && unavailable {
                    continue;
                }
                tracing::warn!(
                    "Warning: Could not create server TCP listening socket {addr}:{port}: bind: {e}",
                    e = crate::util::sys::error_text(&e)
                );
                return Err(format!("Failed listening on port {port} ({kind}), aborting."));
            }
        }
    }
    Ok(out)
}

/// Binds TCP and the unix socket at start-up.
/// Start-up listeners: the sockets systemd passed (socket activation), else what the config binds.
pub fn bind_all(server: &Arc<Server>, inherited: Vec<crate::systemd::Inherited>) -> Result<Vec<Listener>, String> {
    if !inherited.is_empty() {
        return adopt_inherited(server, inherited);
    }
    let (tc, tls_port, unixsocket, perm) = {
        let st = server.lock();
        (
            TcpConfig::from_config(&st.config),
            st.config.int(crate::ckey!("tls-port")) as u16,
            st.config.str(crate::ckey!("unixsocket")).to_string(),
            st.config.int(crate::ckey!("unixsocketperm")) as u32,
        )
    };
    let mut out = bind_tcp_all(&tc)?;
    out.extend(bind_tls_all(&tc, tls_port)?);
    if !unixsocket.is_empty() {
        let _ = std::fs::remove_file(&unixsocket);
        let l = UnixListener::bind(&unixsocket)
            .map_err(|e| format!("Failed opening Unix socket: {e}", e = crate::util::sys::error_text(&e)))?;
        if perm != 0 {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&unixsocket, std::fs::Permissions::from_mode(perm));
        }
        out.push(Listener::Unix(l, unixsocket.clone()));
    }
    if out.is_empty() {
        return Err("Configured to not listen anywhere, exiting.".into());
    }
    Ok(out)
}

/// Socket activation: the .socket unit decides the addresses, so the server serves exactly the
/// sockets it was given, in place of `bind`/`port`/`unixsocket` (a difference is logged).
fn adopt_inherited(server: &Arc<Server>, inherited: Vec<crate::systemd::Inherited>) -> Result<Vec<Listener>, String> {
    let (tc, tls_port, unixsocket) = {
        let st = server.lock();
        (
            TcpConfig::from_config(&st.config),
            st.config.int(crate::ckey!("tls-port")) as u16,
            st.config.str(crate::ckey!("unixsocket")).to_string(),
        )
    };
    let mut out = Vec::new();
    for Inherited { fd, name } in inherited {
        // Our socket units name their sockets `redis`, and those of the TLS port `redis-tls`
        // (FileDescriptorName=); systemd's default name is the unit's own. Sockets meant for
        // something else (a Sentinel's) are not served.
        let tls = name == "redis-tls";
        if !(tls || name == "redis" || name.starts_with("redis-server-rs") || name == "unknown") {
            tracing::warn!(
                "Ignoring the socket named '{name}' passed by systemd: redis-server-rs serves sockets named 'redis' and 'redis-tls'"
            );
            continue;
        }
        let sock = Socket::from(fd);
        let local = sock.local_addr().map_err(|e| format!("socket '{name}' from systemd: {e}"))?;
        sock.set_nonblocking(true).map_err(|e| format!("socket '{name}' from systemd: {e}"))?;
        if let Some(addr) = local.as_socket() {
            let l = TcpListener::from_std(std::net::TcpListener::from(sock))
                .map_err(|e| format!("socket '{name}' from systemd: {e}"))?;
            let (directive, configured) = if tls { ("tls-port", tls_port) } else { ("port", tc.port) };
            if addr.port() != configured {
                tracing::warn!(
                    "systemd passed {addr} ('{name}'), but the config says {directive} {configured}: serving the socket unit's address"
                );
            }
            tracing::info!("Serving {addr} from systemd socket activation ('{name}')");
            if tls {
                *server.tls_port.lock() = addr.port();
                out.push(Listener::Tls(l));
            } else {
                *server.tcp_port.lock() = addr.port();
                out.push(Listener::Tcp(l));
            }
        } else {
            let path = local.as_pathname().map(|p| p.display().to_string()).unwrap_or_default();
            if !unixsocket.is_empty() && unixsocket != path {
                tracing::warn!(
                    "systemd passed the unix socket {path} ('{name}'), but unixsocket is {unixsocket}: serving the socket unit's"
                );
            }
            let std_l = std::os::unix::net::UnixListener::from(std::os::fd::OwnedFd::from(sock));
            let l = UnixListener::from_std(std_l).map_err(|e| format!("socket '{name}' from systemd: {e}"))?;
            tracing::info!("Serving {path} from systemd socket activation ('{name}')");
            out.push(Listener::Unix(l, path));
        }
    }
    // The socket units stand for `bind`, `port` and `unixsocket`; the TLS port is theirs only when
    // one passes `redis-tls` sockets. Otherwise (a templated instance, whose unit holds only its
    // unix socket; a server whose TLS socket unit is not enabled) tls-port is bound here as Redis
    // binds it, rather than configured and silently never served.
    if tls_port != 0 && !out.iter().any(|l| matches!(l, Listener::Tls(_))) {
        out.extend(bind_tls_all(&tc, tls_port)?);
        tracing::info!("Serving tls-port {tls_port} itself: systemd passed no socket named 'redis-tls'");
    }
    if out.is_empty() {
        return Err("systemd passed no socket named 'redis' or 'redis-tls': nothing to serve".into());
    }
    server.socket_activated.store(true, std::sync::atomic::Ordering::Relaxed);
    Ok(out)
}

/// CONFIG SET port/bind: closes the TCP listeners, binds the new ones, and restores the old ones
/// if that fails. Called with the state lock held; the accept loops never need it to stop.
pub fn rebind_tcp(server: &Server, config: &crate::config::Config) -> Result<(), String> {
    if server.socket_activated.load(std::sync::atomic::Ordering::Relaxed) {
        return Err("the listening sockets come from systemd socket activation: change the .socket unit instead".into());
    }
    let new = TcpConfig::from_config(config);
    let old = server.tcp_config.lock().take();
    close_listeners(&server.tcp_generation, &server.tcp_open);
    let (result, used) = match bind_tcp_all(&new) {
        Ok(ls) => (Ok(ls), new),
        Err(_) => {
            let why = if config.val(crate::ckey!("port"))
                != &crate::config::Val::Int(old.as_ref().map(|o| o.port as i64).unwrap_or(0))
            {
                "Unable to listen on this port. Check server logs.".to_string()
            } else {
                "Failed to bind to specified addresses.".to_string()
            };
            let Some(old) = old else { return Err(why) };
            match bind_tcp_all(&old) {
                Ok(ls) => (Err((why, ls)), old),
                Err(e) => return Err(e),
            }
        }
    };
    let (ls, err) = match result {
        Ok(ls) => (ls, None),
        Err((why, ls)) => (ls, Some(why)),
    };
    *server.tcp_port.lock() = used.port;
    *server.tcp_config.lock() = Some(used);
    for l in ls {
        if let Some(s) = server.me() {
            tokio::spawn(l.accept_loop(s));
        }
    }
    match err {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// Makes the accept loops of one kind close their sockets, and waits until they have.
fn close_listeners(generation: &tokio::sync::watch::Sender<u64>, open: &std::sync::atomic::AtomicUsize) {
    generation.send_modify(|g| *g += 1);
    // The accept loops must run to close their sockets; with one worker thread they can only do
    // that if this thread hands its tasks over while it waits.
    let wait = || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while open.load(std::sync::atomic::Ordering::Acquire) > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(wait),
        _ => wait(),
    }
}

/// CONFIG SET tls-port or bind: the TLS listeners closed and bound again on the port and
/// addresses now configured (Redis's changeListenPort for tlsfd), the old port kept if the new
/// one cannot be bound. Called with the state lock held.
pub fn rebind_tls(server: &Server, config: &crate::config::Config) -> Result<(), String> {
    if server.socket_activated.load(std::sync::atomic::Ordering::Relaxed) {
        return Err("the listening sockets come from systemd socket activation: change the .socket unit instead".into());
    }
    let tc = TcpConfig::from_config(config);
    let new_port = config.int(crate::ckey!("tls-port")) as u16;
    let old_port = *server.tls_port.lock();
    close_listeners(&server.tls_generation, &server.tls_open);
    let (ls, port, err) = match bind_tls_all(&tc, new_port) {
        Ok(ls) => (ls, new_port, None),
        Err(e) => {
            tracing::warn!("{e}");
            let old = bind_tls_all(&tc, old_port).unwrap_or_default();
            (old, old_port, Some("Unable to listen on this port. Check server logs.".to_string()))
        }
    };
    *server.tls_port.lock() = port;
    for l in ls {
        if let Some(s) = server.me() {
            tokio::spawn(l.accept_loop(s));
        }
    }
    err.map_or(Ok(()), Err)
}

impl Listener {
    pub async fn accept_loop(self, server: Arc<Server>) {
        match self {
            Listener::Tcp(l) => accept_tcp(server, l, false).await,
            Listener::Tls(l) => accept_tcp(server, l, true).await,
            Listener::Unix(l, path) => loop {
                match l.accept().await {
                    Ok((stream, _)) => {
                        let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
                        let s = server.clone();
                        let local = path.clone();
                        tokio::spawn(super::conn::serve(s, stream, format!("{local}:0"), local, fd, true, true));
                    }
                    Err(e) => {
                        tracing::warn!("Accepting client connection: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            },
        }
    }
}

/// Accepts on a TCP socket of the plain port or of the TLS port until its generation changes
/// (CONFIG SET port/tls-port/bind).
async fn accept_tcp(server: Arc<Server>, l: TcpListener, tls: bool) {
    let (open, generation) =
        if tls { (&server.tls_open, &server.tls_generation) } else { (&server.tcp_open, &server.tcp_generation) };
    open.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    let mut generation = generation.subscribe();
    generation.mark_unchanged();
    loop {
        let accepted = tokio::select! {
            _ = generation.changed() => break,
            r = l.accept() => r,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                let (keepalive, auth) = crate::server::busy::with_state(&server.state, &server.busy, move |st| {
                    (st.hot.tcp_keepalive, tls.then(|| crate::tls::AuthClients::from_config(&st.config)))
                })
                .await;
                if keepalive > 0 {
                    let sock = socket2::SockRef::from(&stream);
                    let ka = socket2::TcpKeepalive::new().with_time(std::time::Duration::from_secs(keepalive));
                    let _ = sock.set_tcp_keepalive(&ka);
                }
                let local = stream.local_addr().map(|a| fmt_addr(&a)).unwrap_or_default();
                // Redis 7.0 treats exactly 127.0.0.1 and ::1 as local, not all of 127/8.
                let peer_ip = peer.ip();
                let is_local =
                    peer_ip == IpAddr::from([127u8, 0, 0, 1]) || peer_ip == IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]);
                let fd = std::os::fd::AsRawFd::as_raw_fd(&stream);
                let s = server.clone();
                let peer = fmt_addr(&peer);
                match auth {
                    None => {
                        tokio::spawn(super::conn::serve(s, stream, peer, local, fd, is_local, false));
                    }
                    Some(auth) => {
                        tokio::spawn(async move {
                            if let Some(stream) = tls_handshake(&s, auth, stream, &peer).await {
                                super::conn::serve(s, stream, peer, local, fd, is_local, false).await;
                            }
                        });
                    }
                }
            }
            Err(e) => {
                tracing::warn!("Accepting client connection: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
    drop(l);
    open.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
}

/// The TLS handshake of an accepted connection, in the connection's own task. A failure is
/// logged at verbose, as Redis does, and counted nowhere else; so is a handshake that does not
/// finish within a generous deadline (a peer that connects and sends nothing).
async fn tls_handshake(
    server: &Server,
    auth: crate::tls::AuthClients,
    stream: tokio::net::TcpStream,
    peer: &str,
) -> Option<crate::tls::TlsStream> {
    let Some(contexts) = server.tls.get() else {
        tracing::warn!("Dropping a connection to the TLS port from {peer}: TLS is not configured");
        return None;
    };
    let timeout = std::time::Duration::from_secs(30);
    match tokio::time::timeout(timeout, crate::tls::accept(&contexts, auth, stream)).await {
        Ok(Ok(s)) => Some(s),
        Ok(Err(e)) => {
            tracing::debug!("Error accepting a client connection: {e} (conn: {peer})");
            None
        }
        Err(_) => {
            tracing::debug!("Error accepting a client connection: TLS handshake timed out (conn: {peer})");
            None
        }
    }
}

/// `ip:port` as Redis prints it (IPv6 without brackets).
pub fn fmt_addr(a: &SocketAddr) -> String {
    format!("{}:{}", a.ip(), a.port())
}
