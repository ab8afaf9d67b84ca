//! A fake RESP server for what real servers will not do on demand: a fellow sentinel that votes
//! as a test says, a master that takes PUBLISH and delivers nothing. It answers each command
//! with the test's function and keeps every command it got.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// How the fake answers one command: its whole RESP reply.
pub type Answer = dyn Fn(&[String]) -> String + Send + Sync;

/// Commands received, each with the number of the connection it came on.
type Received = Arc<Mutex<Vec<(usize, Vec<String>)>>>;

pub struct FakeServer {
    pub port: u16,
    got: Received,
}

impl FakeServer {
    /// Listens on a free loopback port; each connection is served on its own thread.
    pub fn start(answer: impl Fn(&[String]) -> String + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a fake server");
        let port = listener.local_addr().expect("local addr").port();
        let got: Received = Arc::new(Mutex::new(Vec::new()));
        let (log, answer): (Received, Arc<Answer>) = (got.clone(), Arc::new(answer));
        std::thread::spawn(move || {
            for (n, conn) in listener.incoming().flatten().enumerate() {
                let (log, answer) = (log.clone(), answer.clone());
                std::thread::spawn(move || serve(n, conn, answer.as_ref(), &log));
            }
        });
        FakeServer { port, got }
    }

    /// The commands received so far whose name is `name` (any case), with their connection.
    pub fn got(&self, name: &str) -> Vec<(usize, Vec<String>)> {
        let got = self.got.lock().unwrap_or_else(|e| e.into_inner());
        got.iter().filter(|(_, args)| args.first().is_some_and(|a| a.eq_ignore_ascii_case(name))).cloned().collect()
    }
}

fn serve(n: usize, conn: TcpStream, answer: &Answer, log: &Mutex<Vec<(usize, Vec<String>)>>) {
    let Ok(mut writer) = conn.try_clone() else { return };
    let mut reader = BufReader::new(conn);
    while let Some(args) = read_command(&mut reader) {
        let reply = answer(&args);
        log.lock().unwrap_or_else(|e| e.into_inner()).push((n, args));
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// One RESP multibulk command, or None once the connection ends.
fn read_command(r: &mut BufReader<TcpStream>) -> Option<Vec<String>> {
    let mut line = String::new();
    r.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let count: usize = line.trim_end().strip_prefix('*')?.parse().ok()?;
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        line.clear();
        r.read_line(&mut line).ok().filter(|n| *n > 0)?;
        let len: usize = line.trim_end().strip_prefix('$')?.parse().ok()?;
        let mut data = vec![0; len + 2];
        r.read_exact(&mut data).ok()?;
        data.truncate(len);
        args.push(String::from_utf8_lossy(&data).into_owned());
    }
    Some(args)
}

/// A fellow sentinel's answers: PING gets PONG, PUBLISH `:1`, SENTINEL IS-MASTER-DOWN-BY-ADDR
/// "down" with the leader and epoch `vote(requested epoch, requested run id)` gives, the rest `+OK`.
pub fn sentinel_peer(args: &[String], vote: impl Fn(u64, &str) -> (String, u64)) -> String {
    match args.first().map(|a| a.to_ascii_uppercase()).as_deref() {
        Some("PING") => "+PONG\r\n".to_string(),
        Some("PUBLISH") => ":1\r\n".to_string(),
        Some("SENTINEL") if args.len() == 6 => {
            let (leader, epoch) = vote(args[4].parse().unwrap_or(0), &args[5]);
            format!("*3\r\n:1\r\n${}\r\n{leader}\r\n:{epoch}\r\n", leader.len())
        }
        _ => "+OK\r\n".to_string(),
    }
}

/// The usual vote: for whoever asks with a run id, at the epoch asked; none for `*`.
pub fn vote_for_asker(epoch: u64, runid: &str) -> (String, u64) {
    if runid == "*" {
        ("*".to_string(), 0)
    } else {
        (runid.to_string(), epoch)
    }
}
