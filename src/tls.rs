//! TLS as Redis 7.0 has it (its src/tls.c): the server context every TLS connection accepted on
//! `tls-port` uses, and the client context of outgoing links (a replica to its master), both
//! built from the tls-* directives by `configure`, which is Redis's `tlsConfigure`: it fails
//! without changing anything, with the log line Redis writes, so CONFIG SET can keep the old
//! contexts. OpenSSL itself, as Redis links it: tls-ciphers are OpenSSL cipher strings,
//! tls-ciphersuites its TLS 1.3 suite names, tls-dh-params-file PEM DH parameters.

use std::ffi::{c_char, c_int, c_long, c_void, CString};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslFiletype, SslMethod, SslMode, SslOptions, SslSessionCacheMode, SslVerifyMode,
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_openssl::SslStream;

use crate::config::Config;

/// A TLS connection over TCP, accepted or made.
pub type TlsStream = SslStream<TcpStream>;

/// An outgoing link's socket (a replica's to its master, a Sentinel's to an instance): plain TCP,
/// or TLS when `tls-replication` is on.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// What the tls-* directives say, read from the config.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    cert_file: String,
    key_file: String,
    key_file_pass: String,
    client_cert_file: String,
    client_key_file: String,
    client_key_file_pass: String,
    dh_params_file: String,
    ca_cert_file: String,
    ca_cert_dir: String,
    protocols: String,
    ciphers: String,
    ciphersuites: String,
    prefer_server_ciphers: bool,
    session_caching: bool,
    session_cache_size: i64,
    session_cache_timeout: i64,
    /// tls-auth-clients is not no, or tls-replication or tls-cluster is on: peers' certificates
    /// are checked, which needs a CA.
    needs_ca: bool,
}

impl Settings {
    pub fn from_config(c: &Config) -> Settings {
        let s = |k| c.str(k).to_string();
        Settings {
            cert_file: s(crate::ckey!("tls-cert-file")),
            key_file: s(crate::ckey!("tls-key-file")),
            key_file_pass: s(crate::ckey!("tls-key-file-pass")),
            client_cert_file: s(crate::ckey!("tls-client-cert-file")),
            client_key_file: s(crate::ckey!("tls-client-key-file")),
            client_key_file_pass: s(crate::ckey!("tls-client-key-file-pass")),
            dh_params_file: s(crate::ckey!("tls-dh-params-file")),
            ca_cert_file: s(crate::ckey!("tls-ca-cert-file")),
            ca_cert_dir: s(crate::ckey!("tls-ca-cert-dir")),
            protocols: s(crate::ckey!("tls-protocols")),
            ciphers: s(crate::ckey!("tls-ciphers")),
            ciphersuites: s(crate::ckey!("tls-ciphersuites")),
            prefer_server_ciphers: c.bool(crate::ckey!("tls-prefer-server-ciphers")),
            session_caching: c.bool(crate::ckey!("tls-session-caching")),
            session_cache_size: c.int(crate::ckey!("tls-session-cache-size")),
            session_cache_timeout: c.int(crate::ckey!("tls-session-cache-timeout")),
            needs_ca: c.str(crate::ckey!("tls-auth-clients")) != "no"
                || c.bool(crate::ckey!("tls-replication"))
                || c.bool(crate::ckey!("tls-cluster")),
        }
    }
}

/// TLS is in use: a TLS port, or TLS links to a master (Redis configures it at start-up then).
pub fn wanted(c: &Config) -> bool {
    c.int(crate::ckey!("tls-port")) != 0
        || c.bool(crate::ckey!("tls-replication"))
        || c.bool(crate::ckey!("tls-cluster"))
}

/// tls-auth-clients: whether a client must, may or need not show a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthClients {
    No,
    Optional,
    Yes,
}

impl AuthClients {
    pub fn from_config(c: &Config) -> AuthClients {
        match c.str(crate::ckey!("tls-auth-clients")) {
            "no" => AuthClients::No,
            "optional" => AuthClients::Optional,
            _ => AuthClients::Yes,
        }
    }
}

/// The contexts in use: `server` for accepted connections; `client` for links this server makes,
/// which is the server's own when no tls-client-cert-file is set (as in Redis).
pub struct Contexts {
    server: SslContext,
    client: SslContext,
}

/// The contexts now in use, replaced whole by a successful reconfiguration; connections keep the
/// context they were made with.
#[derive(Default)]
pub struct Current(parking_lot::RwLock<Option<Arc<Contexts>>>);

impl Current {
    pub fn get(&self) -> Option<Arc<Contexts>> {
        self.0.read().clone()
    }
    pub fn set(&self, contexts: Contexts) {
        *self.0.write() = Some(Arc::new(contexts));
    }
    pub fn is_configured(&self) -> bool {
        self.0.read().is_some()
    }
}

const PROTO_TLS1: u8 = 1;
const PROTO_TLS1_1: u8 = 2;
const PROTO_TLS1_2: u8 = 4;
const PROTO_TLS1_3: u8 = 8;

/// tls-protocols: space-separated names, any case; empty means TLSv1.2 and TLSv1.3.
fn parse_protocols(s: &str) -> Result<u8, String> {
    if s.is_empty() {
        return Ok(PROTO_TLS1_2 | PROTO_TLS1_3);
    }
    let mut protocols = 0;
    // Like sdssplitlen on one space: two spaces in a row make an empty, invalid, name.
    for token in s.split(' ') {
        protocols |= match token.to_ascii_lowercase().as_str() {
            "tlsv1" => PROTO_TLS1,
            "tlsv1.1" => PROTO_TLS1_1,
            "tlsv1.2" => PROTO_TLS1_2,
            "tlsv1.3" => PROTO_TLS1_3,
            _ => return Err(
                "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."
                    .into(),
            ),
        };
    }
    Ok(protocols)
}

/// The first error OpenSSL queued, as ERR_error_string_n writes it (what Redis logs; for system
/// errors OpenSSL 3 adds strerror's text, which the crate's reason() does not give).
fn openssl_error(stack: &openssl::error::ErrorStack) -> String {
    let Some(e) = stack.errors().first() else { return "unknown error".into() };
    let mut buf = [0u8; 256];
    // SAFETY: ERR_error_string_n writes at most buf.len() bytes, NUL included, into buf.
    unsafe { ERR_error_string_n(e.code() as std::ffi::c_ulong, buf.as_mut_ptr() as *mut c_char, buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

// OpenSSL functions the openssl crate does not wrap; libssl is linked through it.
extern "C" {
    fn SSL_CTX_set_default_passwd_cb(
        ctx: *mut openssl_sys::SSL_CTX,
        cb: Option<unsafe extern "C" fn(*mut c_char, c_int, c_int, *mut c_void) -> c_int>,
    );
    fn SSL_CTX_set_default_passwd_cb_userdata(ctx: *mut openssl_sys::SSL_CTX, u: *mut c_void);
    fn SSL_CTX_set_timeout(ctx: *mut openssl_sys::SSL_CTX, t: c_long) -> c_long;
    fn ERR_error_string_n(e: std::ffi::c_ulong, buf: *mut c_char, len: usize);
}

/// Hands OpenSSL the key's passphrase (Redis's tlsPasswordCallback). With no passphrase it
/// refuses, so an encrypted key fails to load instead of OpenSSL asking on the terminal.
///
/// # Safety
/// Called by OpenSSL with `buf` writable for `size` bytes and `u` the userdata set beside it:
/// null, or a NUL-terminated passphrase alive for the duration of the key's loading.
unsafe extern "C" fn password_callback(buf: *mut c_char, size: c_int, _rwflag: c_int, u: *mut c_void) -> c_int {
    if u.is_null() || buf.is_null() {
        return -1;
    }
    // SAFETY: `u` is the CString's pointer `load_key` set, alive while the key loads.
    let pass = unsafe { std::ffi::CStr::from_ptr(u as *const c_char) }.to_bytes();
    let Ok(size) = usize::try_from(size) else { return -1 };
    if pass.len() > size {
        return -1;
    }
    // SAFETY: OpenSSL gives `size` writable bytes at `buf`, and pass.len() <= size.
    unsafe { std::ptr::copy_nonoverlapping(pass.as_ptr() as *const c_char, buf, pass.len()) };
    pass.len() as c_int
}

/// SSL_CTX_use_PrivateKey_file with the passphrase given through Redis's callback.
fn load_key(b: &mut SslContextBuilder, file: &str, pass: &str) -> Result<(), openssl::error::ErrorStack> {
    let pass = CString::new(pass).unwrap_or_default();
    let ctx = b.as_ptr();
    // SAFETY: `ctx` is the builder's live SSL_CTX. The userdata points into `pass`, which outlives
    // the loading below, and is cleared before `pass` is dropped, so OpenSSL never keeps it.
    unsafe {
        SSL_CTX_set_default_passwd_cb(ctx, Some(password_callback));
        let u = if pass.as_bytes().is_empty() { std::ptr::null_mut() } else { pass.as_ptr() as *mut c_void };
        SSL_CTX_set_default_passwd_cb_userdata(ctx, u);
    }
    let r = b.set_private_key_file(file, SslFiletype::PEM);
    // SAFETY: as above; null userdata makes the callback refuse.
    unsafe { SSL_CTX_set_default_passwd_cb_userdata(ctx, std::ptr::null_mut()) };
    r
}

/// Redis's createSSLContext: what server and client contexts share.
fn base_context(s: &Settings, protocols: u8, client: bool) -> Result<SslContextBuilder, String> {
    let (cert, key, pass) = if client {
        (&s.client_cert_file, &s.client_key_file, &s.client_key_file_pass)
    } else {
        (&s.cert_file, &s.key_file, &s.key_file_pass)
    };
    let mut b = SslContext::builder(SslMethod::tls()).map_err(|e| openssl_error(&e))?;
    let mut opts = SslOptions::NO_SSLV2 | SslOptions::NO_SSLV3 | SslOptions::DONT_INSERT_EMPTY_FRAGMENTS;
    for (bit, no) in [
        (PROTO_TLS1, SslOptions::NO_TLSV1),
        (PROTO_TLS1_1, SslOptions::NO_TLSV1_1),
        (PROTO_TLS1_2, SslOptions::NO_TLSV1_2),
        (PROTO_TLS1_3, SslOptions::NO_TLSV1_3),
    ] {
        if protocols & bit == 0 {
            opts |= no;
        }
    }
    opts |= SslOptions::NO_COMPRESSION;
    b.set_options(opts);
    // A write that did not fit is retried with the same bytes at another address (the reply
    // buffer grows): OpenSSL must accept that, and report partial writes.
    b.set_mode(SslMode::ENABLE_PARTIAL_WRITE | SslMode::ACCEPT_MOVING_WRITE_BUFFER);
    b.set_verify(SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT);
    if let Err(e) = b.set_certificate_chain_file(cert) {
        return Err(format!("Failed to load certificate: {cert}: {}", openssl_error(&e)));
    }
    if let Err(e) = load_key(&mut b, key, pass) {
        return Err(format!("Failed to load private key: {key}: {}", openssl_error(&e)));
    }
    if !s.ca_cert_file.is_empty() || !s.ca_cert_dir.is_empty() {
        let file = (!s.ca_cert_file.is_empty()).then_some(std::path::Path::new(&s.ca_cert_file));
        let dir = (!s.ca_cert_dir.is_empty()).then_some(std::path::Path::new(&s.ca_cert_dir));
        if let Err(e) = b.load_verify_locations(file, dir) {
            return Err(format!("Failed to configure CA certificate(s) file/directory: {}", openssl_error(&e)));
        }
    }
    if !s.ciphers.is_empty() && b.set_cipher_list(&s.ciphers).is_err() {
        return Err(format!("Failed to configure ciphers: {}", s.ciphers));
    }
    if !s.ciphersuites.is_empty() && b.set_ciphersuites(&s.ciphersuites).is_err() {
        return Err(format!("Failed to configure ciphersuites: {}", s.ciphersuites));
    }
    Ok(b)
}

/// Redis's tlsConfigure: new contexts from the settings, or the line Redis logs for the first
/// thing that is wrong.
pub fn configure(s: &Settings) -> Result<Contexts, String> {
    if s.cert_file.is_empty() {
        return Err("No tls-cert-file configured!".into());
    }
    if s.key_file.is_empty() {
        return Err("No tls-key-file configured!".into());
    }
    if s.needs_ca && s.ca_cert_file.is_empty() && s.ca_cert_dir.is_empty() {
        return Err("Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!".into());
    }
    let protocols = parse_protocols(&s.protocols)?;
    let mut b = base_context(s, protocols, false)?;
    if s.session_caching {
        b.set_session_cache_mode(SslSessionCacheMode::SERVER);
        b.set_session_cache_size(s.session_cache_size.clamp(0, i32::MAX as i64) as i32);
        // SAFETY: the builder's live SSL_CTX; a plain setter.
        unsafe { SSL_CTX_set_timeout(b.as_ptr(), s.session_cache_timeout as c_long) };
        b.set_session_id_context(b"redis").map_err(|e| openssl_error(&e))?;
    } else {
        b.set_session_cache_mode(SslSessionCacheMode::OFF);
    }
    let mut opts = SslOptions::SINGLE_DH_USE;
    if s.prefer_server_ciphers {
        opts |= SslOptions::CIPHER_SERVER_PREFERENCE;
    }
    b.set_options(opts);
    if s.dh_params_file.is_empty() {
        // SAFETY: the builder's live SSL_CTX; SSL_CTX_set_dh_auto is a plain setter.
        unsafe { openssl_sys::SSL_CTX_set_dh_auto(b.as_ptr(), 1) };
    } else {
        let pem = std::fs::read(&s.dh_params_file)
            .map_err(|e| format!("Failed to load {}: {}", s.dh_params_file, crate::util::sys::error_text(&e)))?;
        let dh = openssl::dh::Dh::params_from_pem(&pem)
            .map_err(|_| format!("{}: failed to read DH params.", s.dh_params_file))?;
        if let Err(e) = b.set_tmp_dh(&dh) {
            return Err(format!("Failed to load DH params file: {}: {}", s.dh_params_file, openssl_error(&e)));
        }
    }
    let server = b.build();
    let client = if !s.client_cert_file.is_empty() && !s.client_key_file.is_empty() {
        base_context(s, protocols, true)?.build()
    } else {
        server.clone()
    };
    Ok(Contexts { server, client })
}

/// The TLS handshake of a connection accepted on the TLS port, checking the client's certificate
/// as tls-auth-clients says.
pub async fn accept(contexts: &Contexts, auth: AuthClients, tcp: TcpStream) -> Result<TlsStream, String> {
    let mut ssl = Ssl::new(&contexts.server).map_err(|e| openssl_error(&e))?;
    match auth {
        AuthClients::No => ssl.set_verify(SslVerifyMode::NONE),
        AuthClients::Optional => ssl.set_verify(SslVerifyMode::PEER),
        AuthClients::Yes => {}
    }
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| openssl_error(&e))?;
    Pin::new(&mut stream).accept().await.map_err(|e| handshake_error(&e))?;
    Ok(stream)
}

/// The TLS handshake of a link this server makes (a replica to its master): the client context,
/// the peer's certificate checked against the CA (no host name check, as in Redis 7.0).
pub async fn connect(contexts: &Contexts, tcp: TcpStream) -> Result<TlsStream, String> {
    let ssl = Ssl::new(&contexts.client).map_err(|e| openssl_error(&e))?;
    let mut stream = SslStream::new(ssl, tcp).map_err(|e| openssl_error(&e))?;
    Pin::new(&mut stream).connect().await.map_err(|e| handshake_error(&e))?;
    Ok(stream)
}

fn handshake_error(e: &openssl::ssl::Error) -> String {
    match e.ssl_error() {
        Some(stack) => openssl_error(stack),
        None => match e.io_error() {
            Some(io) => crate::util::sys::error_text(io),
            None => e.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_as_redis_parses_them() {
        assert_eq!(parse_protocols(""), Ok(PROTO_TLS1_2 | PROTO_TLS1_3));
        assert_eq!(parse_protocols("TLSv1.2"), Ok(PROTO_TLS1_2));
        assert_eq!(parse_protocols("tlsv1 TLSV1.1"), Ok(PROTO_TLS1 | PROTO_TLS1_1));
        assert!(parse_protocols("TLSv1.2  TLSv1.3").is_err());
        assert!(parse_protocols("SSLv3").is_err());
    }
}
