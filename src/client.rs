//! The one small RESP client: connect, AUTH, send a command, read its reply. Used by `redisctl
//! --apply`, and meant for the replica side of replication and for Sentinel's links.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// A reply as the client sees it (RESP2, plus RESP3's null).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Array(Vec<Value>),
    Nil,
}

impl Value {
    /// The text of a status or bulk reply.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Status(s) => Some(s.clone()),
            Value::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

pub struct Client {
    stream: BufReader<TcpStream>,
    timeout: Duration,
}

fn protocol_error(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("protocol error: {what}"))
}

impl Client {
    pub async fn connect(host: &str, port: u16, timeout: Duration) -> std::io::Result<Client> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect((host, port)))
            .await
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        Ok(Client { stream: BufReader::new(stream), timeout })
    }

    /// AUTH with a password (and a user, for ACL users); an error reply becomes an error.
    pub async fn auth(&mut self, user: Option<&str>, password: &str) -> std::io::Result<()> {
        let reply = match user {
            Some(u) => self.command(&["AUTH", u, password]).await?,
            None => self.command(&["AUTH", password]).await?,
        };
        match reply {
            Value::Error(e) => Err(std::io::Error::new(std::io::ErrorKind::PermissionDenied, e)),
            _ => Ok(()),
        }
    }

    pub async fn command(&mut self, args: &[&str]) -> std::io::Result<Value> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        let t = self.timeout;
        tokio::time::timeout(t, async {
            self.stream.get_mut().write_all(&out).await?;
            self.read_value().await
        })
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply in time"))?
    }

    async fn read_line(&mut self) -> std::io::Result<String> {
        let mut line = Vec::new();
        self.stream.read_until(b'\n', &mut line).await?;
        if !line.ends_with(b"\r\n") {
            return Err(protocol_error("connection closed mid-reply"));
        }
        line.truncate(line.len() - 2);
        Ok(String::from_utf8_lossy(&line).into_owned())
    }

    fn read_value(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Value>> + Send + '_>> {
        Box::pin(async move {
            let line = self.read_line().await?;
            let (kind, rest) = line.split_at(line.len().min(1));
            let len = || rest.parse::<i64>().map_err(|_| protocol_error("bad length"));
            Ok(match kind {
                "+" => Value::Status(rest.to_string()),
                "-" => Value::Error(rest.to_string()),
                ":" => Value::Int(len()?),
                "_" => Value::Nil,
                "$" => {
                    let n = len()?;
                    if n < 0 {
                        return Ok(Value::Nil);
                    }
                    let mut data = vec![0u8; n as usize + 2];
                    self.stream.read_exact(&mut data).await?;
                    data.truncate(n as usize);
                    Value::Bulk(data)
                }
                "*" => {
                    let n = len()?;
                    if n < 0 {
                        return Ok(Value::Nil);
                    }
                    let mut items = Vec::with_capacity(n.min(1024) as usize);
                    for _ in 0..n {
                        items.push(self.read_value().await?);
                    }
                    Value::Array(items)
                }
                _ => return Err(protocol_error("unexpected reply type")),
            })
        })
    }
}
