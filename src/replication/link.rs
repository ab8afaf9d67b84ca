//! The socket of a replica's link to its master: plain TCP, or TLS with `tls-replication yes`.

/// The stream type is shared with Sentinel's links, so it lives with the TLS contexts.
pub use crate::tls::Stream as Link;

/// A blocking reader over a TLS link, for the RDB parser on a blocking thread
/// (repl-diskless-load): each read waits on the runtime, at most `timeout`.
pub struct BlockingTls {
    pub stream: Box<crate::tls::TlsStream>,
    pub handle: tokio::runtime::Handle,
    pub timeout: std::time::Duration,
}

impl std::io::Read for BlockingTls {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use tokio::io::AsyncReadExt;
        let (stream, timeout) = (&mut self.stream, self.timeout);
        match self.handle.block_on(tokio::time::timeout(timeout, stream.read(buf))) {
            Ok(r) => r,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "Timeout reading from MASTER")),
        }
    }
}
