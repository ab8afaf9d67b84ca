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
