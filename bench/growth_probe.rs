//! Keyspace growth stall probe (part of bench/run.sh): while writers fill a server with N new keys
//! as fast as they can, a probe connection sends PING every millisecond and records the round
//! trips. A table that rehashes all at once shows up as a long round trip.
//!
//! Usage: growth_probe PORT KEYS   → prints `keys=N secs=S probes=P p99_ms=.. p999_ms=.. max_ms=..`

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: u64 = 4;
const BATCH: u64 = 1000;

fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Reads `n` simple replies (`+OK`) without parsing further.
fn read_lines(r: &mut BufReader<TcpStream>, n: u64) {
    let mut line = Vec::new();
    for _ in 0..n {
        line.clear();
        r.read_until(b'\n', &mut line).expect("read reply");
        assert!(line.starts_with(b"+"), "unexpected reply {:?}", String::from_utf8_lossy(&line));
    }
}

fn writer(port: u16, id: u64, keys: u64) {
    let mut w = connect(port);
    let mut r = BufReader::new(w.try_clone().expect("clone"));
    let mut i = id;
    let mut buf = Vec::new();
    while i < keys {
        buf.clear();
        let mut n = 0;
        while n < BATCH && i < keys {
            let key = format!("key:{i:012}");
            buf.extend_from_slice(format!("*3\r\n$3\r\nSET\r\n${}\r\n{}\r\n$3\r\nxxx\r\n", key.len(), key).as_bytes());
            i += WRITERS;
            n += 1;
        }
        w.write_all(&buf).expect("write");
        read_lines(&mut r, n);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args.get(1).and_then(|p| p.parse().ok()).expect("usage: growth_probe PORT KEYS");
    let keys: u64 = args.get(2).and_then(|k| k.parse().ok()).expect("usage: growth_probe PORT KEYS");
    let done = Arc::new(AtomicBool::new(false));
    let probe_done = done.clone();
    let probe = std::thread::spawn(move || {
        let mut s = connect(port);
        let mut rtts = Vec::new();
        let mut buf = [0u8; 7];
        while !probe_done.load(Ordering::Relaxed) {
            let t = Instant::now();
            s.write_all(b"PING\r\n").expect("ping");
            s.read_exact(&mut buf).expect("pong");
            rtts.push(t.elapsed());
            std::thread::sleep(Duration::from_millis(1));
        }
        rtts
    });
    let start = Instant::now();
    let writers: Vec<_> = (0..WRITERS).map(|id| std::thread::spawn(move || writer(port, id, keys))).collect();
    for w in writers {
        w.join().expect("writer");
    }
    let secs = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    let mut rtts = probe.join().expect("probe");
    rtts.sort();
    let pct = |p: f64| rtts.get(((rtts.len() as f64 * p) as usize).min(rtts.len().saturating_sub(1))).copied();
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    println!(
        "keys={keys} secs={secs:.1} probes={} p99_ms={:.2} p999_ms={:.2} max_ms={:.2}",
        rtts.len(),
        ms(pct(0.99)),
        ms(pct(0.999)),
        ms(rtts.last().copied())
    );
}
