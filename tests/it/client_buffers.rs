//! Clients' query and reply buffers against Debian's real Redis 7.0: CLIENT LIST's qbuf,
//! qbuf-free, argv-mem, multi-mem, rbs and rbp, the cron's resizing of idle clients' buffers,
//! DEBUG REPLYBUFFER and INFO's reply_buffer_shrinks/_expands. (tot-mem adds each server's own
//! structures, whose sizes differ.)

use std::collections::HashMap;
use std::time::Duration;

use crate::common::{wait_for, Client};
use crate::differential_support::*;

const OPTIONS: &[&str] = &["--enable-debug-command", "yes"];

/// The buffer fields of the client `id`'s CLIENT LIST line, as seen by `observer`.
fn buffers(observer: &mut Client, id: &str) -> HashMap<String, String> {
    let text = String::from_utf8_lossy(&observer.cmd(&["CLIENT", "LIST", "ID", id])).into_owned();
    let line = text.lines().find(|l| l.contains("id=")).unwrap_or_else(|| panic!("no CLIENT LIST line in {text:?}"));
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| {
            ["qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem"].contains(k)
        })
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn id_of(c: &mut Client) -> String {
    let reply = String::from_utf8_lossy(&c.cmd(&["CLIENT", "ID"])).into_owned();
    reply.trim_start_matches(':').trim().to_string()
}

#[test]
fn the_asking_client_sees_its_own_command_in_its_buffers() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    // CLIENT INFO and CLIENT LIST of the caller: the command is still in the query buffer, its
    // arguments in argv-mem, and the fresh reply buffer's peak is its size.
    fn fields<'a>(keys: &'a [&'a str]) -> impl Fn(&[u8]) -> Vec<u8> + 'a {
        move |b: &[u8]| {
            let text = String::from_utf8_lossy(b).into_owned();
            let kept: Vec<&str> =
                text.split_whitespace().filter(|kv| keys.iter().any(|k| kv.starts_with(&format!("{k}=")))).collect();
            kept.join(" ").into_bytes()
        }
    }
    let only_buffers = fields(&["qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem"]);
    p.check_with(&["CLIENT", "INFO"], &only_buffers);
    p.check_with(&["CLIENT", "LIST", "ID", "1", "2", "3", "4", "5", "6", "7", "8", "9"], &only_buffers);
    p.check(&["MULTI"]);
    p.check(&["SET", "key", "value"]);
    p.check(&["RPUSH", "list", "a", "b", "c"]);
    // Inside MULTI CLIENT INFO is queued too: EXEC's reply carries it, with the transaction's
    // flag, count and queued bytes. (Redis's obl there counts EXEC's replies so far, which ours
    // gathers apart until EXEC ends.)
    p.check(&["CLIENT", "INFO"]);
    p.check_with(&["EXEC"], fields(&["flags", "multi", "qbuf", "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp"]));
    p.assert_clean();
}

#[test]
fn an_idle_client_gives_its_query_buffer_back_and_its_reply_buffer_shrinks() {
    let duo = Duo::start(OPTIONS);
    for (name, server) in [("ours", &duo.ours), ("real", &duo.real)] {
        let mut idle = server.client();
        idle.cmd(&["PING"]);
        let id = id_of(&mut idle);
        let mut observer = server.client();
        let first = buffers(&mut observer, &id);
        // The read made Redis's room for 16 KB (an sds16 of 16390 bytes in a 20480-byte block).
        assert_eq!(first["qbuf"], "0", "{name}: {first:?}");
        assert_eq!(first["qbuf-free"], "20474", "{name}: {first:?}");
        // Idle for more than 2 s: the room goes; the reply buffer shrinks to its 1 KB minimum
        // once its peak has been reset (the cron's first look).
        wait_for(&format!("{name}: the idle client's buffers to shrink"), Duration::from_secs(20), || {
            let b = buffers(&mut observer, &id);
            b["qbuf-free"] == "0" && b["rbs"] == "1024" && b["rbp"] == "0"
        });
        // A command allocates the room again.
        idle.cmd(&["PING"]);
        let again = buffers(&mut observer, &id);
        assert_eq!(again["qbuf-free"], "20474", "{name}: {again:?}");
    }
}

#[test]
fn a_reply_that_fills_the_buffer_grows_it_back_and_debug_replybuffer_controls_it() {
    let duo = Duo::start(OPTIONS);
    let mut p = duo.pair();
    p.check(&["SET", "big", &"x".repeat(5000)]);
    for (name, server) in [("ours", &duo.ours), ("real", &duo.real)] {
        let mut c = server.client();
        let id = id_of(&mut c);
        let mut observer = server.client();
        wait_for(&format!("{name}: the reply buffer to shrink"), Duration::from_secs(20), || {
            buffers(&mut observer, &id)["rbs"] == "1024"
        });
        let info = |o: &mut Client, field: &str| -> u64 {
            let text = String::from_utf8_lossy(&o.cmd(&["INFO", "stats"])).into_owned();
            let line = text.lines().find(|l| l.starts_with(field)).unwrap_or_else(|| panic!("{name}: no {field}"));
            line[field.len() + 1..].trim().parse().unwrap()
        };
        let expands = info(&mut observer, "reply_buffer_expands");
        assert!(info(&mut observer, "reply_buffer_shrinks") >= 1, "{name}");
        // A 5 KB reply fills the 1 KB buffer: the cron doubles it, up to 16 KB.
        c.cmd(&["GET", "big"]);
        wait_for(&format!("{name}: the reply buffer to grow"), Duration::from_secs(20), || {
            buffers(&mut observer, &id)["rbs"] == "2048"
        });
        assert!(info(&mut observer, "reply_buffer_expands") > expands, "{name}");
        // With resizing off nothing changes any more, whatever the peak.
        observer.cmd(&["DEBUG", "REPLYBUFFER", "RESIZING", "0"]);
        let before = buffers(&mut observer, &id)["rbs"].clone();
        c.cmd(&["GET", "big"]);
        // The cron's next look shows the full buffer's peak (ours publishes it then): the look
        // that would have grown the buffer has happened, and it did not.
        wait_for(&format!("{name}: the peak of the full buffer"), Duration::from_secs(20), || {
            buffers(&mut observer, &id)["rbp"] == before
        });
        assert_eq!(buffers(&mut observer, &id)["rbs"], before, "{name}: resized while resizing was off");
        observer.cmd(&["DEBUG", "REPLYBUFFER", "RESIZING", "1"]);
        // A buffer filled grows; with its peak reset at every look it shrinks back at once.
        c.cmd(&["GET", "big"]);
        wait_for(&format!("{name}: the reply buffer to grow again"), Duration::from_secs(20), || {
            buffers(&mut observer, &id)["rbs"] == "4096"
        });
        observer.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "0"]);
        wait_for(&format!("{name}: the reply buffer to shrink again"), Duration::from_secs(20), || {
            buffers(&mut observer, &id)["rbs"] == "1024"
        });
        observer.cmd(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "RESET"]);
    }
    p.check(&["DEBUG", "REPLYBUFFER", "PEAK-RESET-TIME", "abc"]);
    p.check(&["DEBUG", "REPLYBUFFER", "SIZE", "1"]);
    p.check(&["DEBUG", "REPLYBUFFER", "RESIZING"]);
    p.assert_clean();
}

/// A command with big arguments still arriving: the complete ones are the client's argv (argv-mem
/// and its memory, as Redis's argv_len_sum), what is read of the next is its query buffer. Seen by
/// another client, on both servers. (qbuf-free and tot-mem follow each allocator's size classes.)
#[test]
fn a_command_still_arriving_shows_its_complete_arguments_in_argv_mem() {
    const BIG: usize = 200_000;
    let servers = [crate::common::Server::start_real(OPTIONS), crate::common::Server::start(OPTIONS)];
    let mut seen = Vec::new();
    for server in &servers {
        let mut sender = server.client();
        let id = id_of(&mut sender);
        let mut observer = server.client();
        let mut at = |expect_qbuf: usize| {
            let mut last = HashMap::new();
            wait_for("the bytes read", Duration::from_secs(30), || {
                last = buffers(&mut observer, &id);
                last["qbuf"] == expect_qbuf.to_string()
            });
            last
        };
        let mut head = format!("*5\r\n$4\r\nMSET\r\n$1\r\na\r\n${BIG}\r\n").into_bytes();
        head.extend(std::iter::repeat_n(b'x', BIG / 2));
        sender.send_raw(&head);
        let first = at(BIG / 2);
        let mut rest = vec![b'x'; BIG - BIG / 2];
        rest.extend_from_slice(format!("\r\n$1\r\nb\r\n${BIG}\r\n").as_bytes());
        rest.extend(std::iter::repeat_n(b'y', 1000));
        sender.send_raw(&rest);
        let second = at(1000);
        let tot = |b: &HashMap<String, String>| b["tot-mem"].parse::<usize>().expect("tot-mem");
        // Both arguments' bytes and the second's buffer count in the client's memory.
        assert!(tot(&second) > 2 * BIG, "tot-mem {} with two big arguments held", tot(&second));
        seen.push([first["argv-mem"].clone(), second["argv-mem"].clone()]);
        sender.send_raw(&vec![b'y'; BIG - 1000]);
        sender.send_raw(b"\r\n");
        assert_eq!(sender.read_reply(), b"+OK\r\n");
    }
    assert_eq!(seen[0], ["5", &(BIG + 6).to_string()]);
    assert_eq!(seen[1], seen[0]);
}
