//! A connection's stream split into what reads and what writes, owned by one task.
//!
//! tokio's generic `io::split` guards both halves with a lock taken on every read and write; the
//! TCP and unix streams split without one (their halves share the socket, which the kernel
//! serialises), which saves that lock on every request.

use tokio::io::{AsyncRead, AsyncWrite};

pub trait IntoHalves {
    type Read: AsyncRead + Unpin + Send + 'static;
    type Write: AsyncWrite + ForgetWrite + WriteNow + Unpin + Send + 'static;
    fn into_halves(self) -> (Self::Read, Self::Write);
}

impl IntoHalves for tokio::net::TcpStream {
    type Read = tokio::net::tcp::OwnedReadHalf;
    type Write = tokio::net::tcp::OwnedWriteHalf;
    fn into_halves(self) -> (Self::Read, Self::Write) {
        self.into_split()
    }
}

impl IntoHalves for tokio::net::UnixStream {
    type Read = tokio::net::unix::OwnedReadHalf;
    type Write = tokio::net::unix::OwnedWriteHalf;
    fn into_halves(self) -> (Self::Read, Self::Write) {
        self.into_split()
    }
}

/// A TLS connection: OpenSSL's state is one object for both directions, so the halves share it
/// through tokio's split (a lock per read or write; the TLS work dwarfs it).
impl IntoHalves for crate::tls::TlsStream {
    type Read = tokio::io::ReadHalf<crate::tls::TlsStream>;
    type Write = tokio::io::WriteHalf<crate::tls::TlsStream>;
    fn into_halves(self) -> (Self::Read, Self::Write) {
        tokio::io::split(self)
    }
}

/// What lets the write half go without shutting the socket's write side down: a connection whose
/// socket a forked child goes on using (a debugging EVAL) must not send its FIN.
pub trait ForgetWrite {
    fn forget(self);
}

impl ForgetWrite for tokio::net::tcp::OwnedWriteHalf {
    fn forget(self) {
        tokio::net::tcp::OwnedWriteHalf::forget(self)
    }
}

impl ForgetWrite for tokio::net::unix::OwnedWriteHalf {
    fn forget(self) {
        tokio::net::unix::OwnedWriteHalf::forget(self)
    }
}

/// A forked child cannot go on with a TLS session (its state is in this process's memory): the
/// half is just dropped, which sends nothing (tokio's WriteHalf does not shut the stream down).
impl ForgetWrite for tokio::io::WriteHalf<crate::tls::TlsStream> {
    fn forget(self) {
        drop(self)
    }
}

/// One write that does not wait: the bytes the socket took, or None when it is full (nothing was
/// written). The socket is written directly: going through tokio's readiness machinery for the
/// usual case, where the reply fits, costs more than the system call. tokio's cached readiness
/// may then be stale, which costs at worst one more attempt when the socket is full.
pub trait WriteNow {
    fn write_now(&mut self, buf: &[u8]) -> Option<std::io::Result<usize>>;
}

fn send_now(fd: std::os::fd::RawFd, buf: &[u8]) -> Option<std::io::Result<usize>> {
    use nix::errno::Errno;
    loop {
        // MSG_NOSIGNAL: a client gone away is an error here, not a SIGPIPE.
        match nix::sys::socket::send(fd, buf, nix::sys::socket::MsgFlags::MSG_NOSIGNAL) {
            Ok(n) => return Some(Ok(n)),
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return None,
            Err(e) => return Some(Err(e.into())),
        }
    }
}

impl WriteNow for tokio::net::tcp::OwnedWriteHalf {
    fn write_now(&mut self, buf: &[u8]) -> Option<std::io::Result<usize>> {
        send_now(std::os::fd::AsRawFd::as_raw_fd(self.as_ref()), buf)
    }
}

impl WriteNow for tokio::net::unix::OwnedWriteHalf {
    fn write_now(&mut self, buf: &[u8]) -> Option<std::io::Result<usize>> {
        send_now(std::os::fd::AsRawFd::as_raw_fd(self.as_ref()), buf)
    }
}

/// TLS: one poll of the encrypting write with a waker that does nothing. Pending (the socket is
/// full, or the read half holds the shared state this instant) is None; the caller then waits on
/// a real write of the same bytes, which OpenSSL requires after a write that could not finish
/// (the context allows the buffer to have moved).
impl WriteNow for tokio::io::WriteHalf<crate::tls::TlsStream> {
    fn write_now(&mut self, buf: &[u8]) -> Option<std::io::Result<usize>> {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match AsyncWrite::poll_write(std::pin::Pin::new(self), &mut cx, buf) {
            std::task::Poll::Ready(r) => Some(r),
            std::task::Poll::Pending => None,
        }
    }
}
