//! Failover edge cases, each run against our redis-sentinel-rs and Debian's redis-sentinel 7.0
//! on the same scenario (the data servers are Debian's redis-server in both runs), comparing
//! what the sentinel log, the notification script and the replies show: votes for our own run
//! id in another case, the "Next failover delay" log, `+vote-for-leader` reaching the script,
//! the SLAVEOF sent again after `-slave-reconf-sent-timeout`, the end of a failover on timeout,
//! and replicas whose link is down left out of the choice of the replica to promote.

use std::sync::Mutex;
use std::time::Duration;

use crate::common::fake_server::{self, FakeServer};
use crate::replication_support::*;

const DEADLINE: Duration = Duration::from_secs(30);
/// This sentinel's run id: lower case, with letters, so that its upper-case form differs.
const MYID: &str = "abcdef0123456789abcdef0123456789abcdef01";
const PEER_ID: &str = "fedcba9876543210fedcba9876543210fedcba98";
const OTHER_ID: &str = "0123456789aaaaaaaaaabbbbbbbbbbcccccccccc";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    Ours,
    Real,
}

impl Which {
    fn bin(self) -> &'static str {
        match self {
            Which::Ours => crate::common::OUR_SENTINEL,
            Which::Real => crate::common::REAL_SENTINEL,
        }
    }
}

/// One scenario at a time: a loaded 2-core machine can stall a sentinel's timer into TILT.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// A sentinel with id MYID monitoring `mymaster` on `master_port`, logging to sentinel.log, with
/// a notification script that appends its arguments to notify.log; `extra` ends the config.
fn start_sentinel(which: Which, master_port: u16, quorum: u32, extra: &str) -> crate::common::SentinelProcess {
    crate::common::SentinelProcess::start(which.bin(), |port, dir| {
        let script = dir.join("notify.sh");
        let log = dir.join("notify.log");
        std::fs::write(&script, format!("#!/bin/sh\necho \"$@\" >> {}\n", log.display())).expect("script");
        std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        let text = format!(
            "port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile sentinel.log\nsentinel myid {MYID}\n\
             sentinel monitor mymaster 127.0.0.1 {master_port} {quorum}\n\
             sentinel notification-script mymaster {script}\n{extra}",
            dir = dir.display(),
            script = script.display(),
        );
        (text, Vec::new())
    })
}

/// The messages of the sentinel log (what follows the level mark), in order.
fn log_messages(s: &crate::common::SentinelProcess) -> Vec<String> {
    s.file("sentinel.log").lines().filter_map(|l| l.splitn(7, ' ').nth(6).map(str::to_string)).collect()
}

/// The log messages that are events of these kinds, ports and ids replaced by their labels.
fn events(s: &crate::common::SentinelProcess, kinds: &[&str], labels: &[(String, &str)]) -> Vec<String> {
    log_messages(s)
        .into_iter()
        .filter(|m| kinds.iter().any(|k| m.split(' ').next() == Some(*k)))
        .map(|m| relabel(&m, labels))
        .collect()
}

/// Each space-separated word (or its `:port` ending) that is a labelled value becomes the label.
fn relabel(text: &str, labels: &[(String, &str)]) -> String {
    let word = |w: &str| -> String {
        for (value, label) in labels {
            if w == value {
                return label.to_string();
            }
            if let Some(host) = w.strip_suffix(value.as_str()).and_then(|h| h.strip_suffix(':')) {
                return format!("{host}:{label}");
            }
        }
        w.to_string()
    };
    text.split(' ').map(word).collect::<Vec<_>>().join(" ")
}

/// Waits for `cond`; on timeout the panic shows the sentinel's log.
fn wait_logged(s: &crate::common::SentinelProcess, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + DEADLINE;
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}; log:\n{}", s.file("sentinel.log"));
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn has_event(s: &crate::common::SentinelProcess, kind: &str) -> bool {
    log_messages(s).iter().any(|m| m.split(' ').next() == Some(kind))
}

fn call(s: &crate::common::SentinelProcess, args: &[&str]) -> Reply {
    Reply::parse(&s.call(args).expect("the sentinel answers"))
}

/// SENTINEL REPLICAS as (port, flags, info-refresh) for each replica.
fn replicas(s: &crate::common::SentinelProcess) -> Vec<(u16, String, i64)> {
    call(s, &["SENTINEL", "REPLICAS", "mymaster"])
        .array()
        .iter()
        .map(|r| {
            let fields: Vec<String> = r.array().iter().map(Reply::text).collect();
            let get =
                |name: &str| fields.chunks(2).find(|kv| kv[0] == name).map(|kv| kv[1].clone()).unwrap_or_default();
            (get("port").parse().unwrap_or(0), get("flags"), get("info-refresh").parse().unwrap_or(i64::MAX))
        })
        .collect()
}

/// Waits until the sentinel knows `ports` as replicas with a fresh INFO and connected links.
fn wait_replicas_known(s: &crate::common::SentinelProcess, ports: &[u16]) {
    crate::common::wait_for("the sentinel to know every replica", DEADLINE, || {
        let known = replicas(s);
        ports
            .iter()
            .all(|p| known.iter().any(|(port, flags, refresh)| port == p && flags == "slave" && *refresh < 5_000))
    });
}

// ---------------------------------------------------------------------------------------------
// A fake fellow sentinel: answers what a sentinel sends its peers and records the commands
// ---------------------------------------------------------------------------------------------

/// A fellow sentinel that votes as `vote(requested epoch, requested run id)` says.
fn fake_peer(vote: impl Fn(u64, &str) -> (String, u64) + Send + Sync + 'static) -> FakeServer {
    FakeServer::start(move |args| fake_server::sentinel_peer(args, &vote))
}

/// The IS-MASTER-DOWN-BY-ADDR requests `peer` received so far: their epoch arguments.
fn asked_epochs(peer: &FakeServer) -> Vec<u64> {
    let asked = peer.got("SENTINEL");
    asked
        .iter()
        .filter(|(_, c)| c.len() == 6 && c[1].eq_ignore_ascii_case("is-master-down-by-addr"))
        .filter_map(|(_, c)| c[4].parse().ok())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Time as the log prints it
// ---------------------------------------------------------------------------------------------

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Seconds since 1970 of a local civil time (both texts are local time: only differences count).
fn civil_secs(year: i64, month: &str, day: i64, hms: &str) -> Option<i64> {
    let m = MONTHS.iter().position(|x| *x == month)? as i64 + 1;
    let mut t = hms.split(':').map(|v| v.parse::<i64>().ok());
    let (h, mi, s) = (t.next()??, t.next()??, t.next()??);
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// `Thu Jan  1 00:00:00 1970` (ctime without its newline) as seconds; None if not that shape.
fn parse_ctime(text: &str) -> Option<i64> {
    let days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    if text.len() != 24 || !days.contains(&&text[0..3]) || &text[3..4] != " " || &text[7..8] != " " {
        return None;
    }
    let day: i64 = text[8..10].trim_start().parse().ok()?;
    civil_secs(text[20..24].parse().ok()?, &text[4..7], day, &text[11..19])
}

/// The time of a sentinel log line, `12 Jan 2024 10:00:00.123`, in whole seconds.
fn log_line_secs(line: &str) -> Option<i64> {
    let mut w = line.split(' ').skip(1);
    let (day, month, year, time) = (w.next()?, w.next()?, w.next()?, w.next()?);
    civil_secs(year.parse().ok()?, month, day.parse().ok()?, time.split('.').next()?)
}

// ---------------------------------------------------------------------------------------------
// Votes, the failover delay log and +vote-for-leader in the notification script
// ---------------------------------------------------------------------------------------------

const DELAY_LOG: &str = "Next failover delay: I will not start a failover before ";

struct VoteRun {
    /// Selected log messages, ids relabelled, `Next failover delay` lines without their time.
    log: Vec<String>,
    /// The notification script's `+vote-for-leader` runs.
    script: Vec<String>,
}

/// A master with no replica dies; the sentinel (quorum 1, a fake peer that votes for whoever
/// asks) is elected and aborts for want of a replica, so it waits 2 × failover-timeout. Then a
/// client asks it to vote for MYID in upper case (its own id: Redis compares ids ignoring case
/// and keeps its failover start time), a tick passes, and it is asked to vote for another id
/// (which holds back its own failovers: a new start time, logged once).
fn votes_and_delay(which: Which) -> VoteRun {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let peer = fake_peer(fake_server::vote_for_asker);
    let extra = format!(
        "sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 60000\n\
         sentinel known-sentinel mymaster 127.0.0.1 {} {PEER_ID}\n",
        peer.port
    );
    let s = start_sentinel(which, master.port, 1, &extra);
    let labels = [
        (MYID.to_string(), "ME"),
        (MYID.to_uppercase(), "ME_UPPER"),
        (OTHER_ID.to_string(), "OTHER"),
        (master.port.to_string(), "M"),
    ];
    master.kill();
    let delay_lines = || log_messages(&s).iter().filter(|m| m.starts_with(DELAY_LOG)).count();
    wait_logged(&s, "the failover to abort and the delay to be logged", || {
        has_event(&s, "-failover-abort-no-good-slave") && delay_lines() == 1
    });

    let ask = |epoch: &str, runid: &str| {
        let port = master.port.to_string();
        let reply = call(&s, &["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", &port, epoch, runid]);
        assert_eq!(reply.array().len(), 3, "{reply:?}");
        assert_eq!(reply.array()[1].text(), runid, "the vote goes to the first who asks in an epoch");
    };
    ask("2", &MYID.to_uppercase());
    // The sentinel asks the peer about the master each second with its current epoch: once it
    // asks with epoch 2, a timer pass has run since the vote.
    wait_logged(&s, "a timer pass after the vote", || asked_epochs(&peer).contains(&2));
    ask("3", OTHER_ID);
    wait_logged(&s, "a timer pass after the second vote", || asked_epochs(&peer).contains(&3));
    wait_logged(&s, "the notification script to hear the three votes", || {
        s.file("notify.log").lines().filter(|l| l.starts_with("+vote-for-leader")).count() == 3
    });

    // The logged time is the failover start (plus up to 1 s of jitter) + 2 × failover-timeout.
    let lines: Vec<String> = s.file("sentinel.log").lines().map(str::to_string).collect();
    let tried = lines.iter().find(|l| l.contains(" +try-failover ")).and_then(|l| log_line_secs(l));
    let first_delay = lines.iter().find_map(|l| l.split_once(DELAY_LOG)).map(|(_, when)| when.to_string());
    let delay = first_delay.as_deref().and_then(parse_ctime);
    match (tried, delay) {
        (Some(t), Some(d)) => assert!((t + 120..=t + 122).contains(&d), "{which:?}: tried at {t}, delay until {d}"),
        _ => panic!("{which:?}: no +try-failover time or no ctime in {first_delay:?}"),
    }

    let wanted =
        ["+new-epoch", "+try-failover", "+vote-for-leader", "+elected-leader", "-failover-abort-no-good-slave"];
    let log = log_messages(&s)
        .into_iter()
        .filter(|m| m.starts_with(DELAY_LOG) || wanted.iter().any(|k| m.split(' ').next() == Some(*k)))
        .map(|m| if m.starts_with(DELAY_LOG) { DELAY_LOG.trim_end().to_string() } else { relabel(&m, &labels) })
        .collect();
    let mut script: Vec<String> = s
        .file("notify.log")
        .lines()
        .filter(|l| l.starts_with("+vote-for-leader"))
        .map(|l| relabel(l, &labels))
        .collect();
    // Scripts run side by side (up to 16 at once): the order they append in is not the events'.
    script.sort();
    VoteRun { log, script }
}

/// Items 5 and 16: `+vote-for-leader` has its master as subject (so the script hears it), a
/// vote for our own id in upper case does not hold back our failovers, and the delay before the
/// next failover is logged once per start time, with its time as ctime() prints it.
#[test]
fn votes_reach_the_script_and_the_failover_delay_is_logged_once_per_start_time() {
    let real = votes_and_delay(Which::Real);
    let ours = votes_and_delay(Which::Ours);
    assert_eq!(ours.log, real.log, "log (ours, then real)");
    assert_eq!(ours.script, real.script, "notification script runs (ours, then real)");
    // What the real one does, so that the comparison above cannot pass on two empty lists.
    assert_eq!(real.script, ["+vote-for-leader ME 1", "+vote-for-leader ME_UPPER 2", "+vote-for-leader OTHER 3"]);
    let delays = real.log.iter().filter(|l| l.starts_with("Next failover delay")).count();
    assert_eq!(delays, 2, "{:?}", real.log);
}

/// A fake peer that says the master is down and, in the coming epoch, voted for this sentinel
/// under its id in upper case: counted with our own vote (cast for that same string), the
/// leader is this sentinel, as Redis compares the leader with its id ignoring case.
fn leader_in_other_case(which: Which) -> Vec<String> {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let replica = start_replica("replica", Impl::Real, &master, &[]);
    wait_in_sync(&master, &replica);
    let peer = fake_peer(|epoch, runid| {
        let next = if runid == "*" { epoch + 1 } else { epoch };
        (MYID.to_uppercase(), next)
    });
    let extra = format!(
        "sentinel down-after-milliseconds mymaster 1000\nsentinel failover-timeout mymaster 5000\n\
         sentinel known-sentinel mymaster 127.0.0.1 {} {PEER_ID}\n",
        peer.port
    );
    let s = start_sentinel(which, master.port, 2, &extra);
    wait_replicas_known(&s, &[replica.port]);
    master.kill();
    wait_logged(&s, "the election to end", || {
        has_event(&s, "+elected-leader") || has_event(&s, "-failover-abort-not-elected")
    });
    let labels = [(MYID.to_uppercase(), "ME_UPPER"), (MYID.to_string(), "ME"), (master.port.to_string(), "M")];
    let kinds =
        ["+odown", "+new-epoch", "+try-failover", "+vote-for-leader", "+elected-leader", "-failover-abort-not-elected"];
    events(&s, &kinds, &labels)
}

/// Item 16: the leader check in wait_start ignores the case of run ids.
#[test]
fn a_leader_named_in_another_case_is_this_sentinel() {
    let real = leader_in_other_case(Which::Real);
    let ours = leader_in_other_case(Which::Ours);
    assert_eq!(ours, real, "events (ours, then real)");
    assert!(real.iter().any(|e| e.starts_with("+elected-leader")), "{real:?}");
}

// ---------------------------------------------------------------------------------------------
// reconf_slaves: the SLAVEOF timeout and the end of the failover on timeout
// ---------------------------------------------------------------------------------------------

/// A replica that ignores the reconfiguration: its SLAVEOF is renamed away, so the sentinel's
/// MULTI ... EXEC aborts and it keeps replicating the old master.
const NO_SLAVEOF: &str = "rename-command SLAVEOF \"\"\n";

/// The events of a SENTINEL FAILOVER from the reconf_slaves state to the switch, with the
/// replicas' ports relabelled.
fn forced_failover_events(s: &crate::common::SentinelProcess, labels: &[(String, &str)]) -> Vec<String> {
    // Both sentinels answer -NOGOODSLAVE until their links to the replicas are up and their
    // INFO is fresh, which takes longer under load: asked again until one is accepted.
    wait_logged(s, "SENTINEL FAILOVER to be accepted", || {
        s.call(&["SENTINEL", "FAILOVER", "mymaster"]).is_some_and(|r| r.starts_with(b"+OK"))
    });
    wait_logged(s, "the failover to end with +switch-master", || has_event(s, "+switch-master"));
    let kinds = [
        "+failover-state-reconf-slaves",
        "+slave-reconf-sent",
        "-slave-reconf-sent-timeout",
        "+slave-reconf-inprog",
        "+slave-reconf-done",
        "+failover-end-for-timeout",
        "+failover-end",
        "+slave-reconf-sent-be",
        "+switch-master",
    ];
    events(s, &kinds, labels)
}

/// A replica that ignores SLAVEOF besides the promoted one; parallel-syncs 5 (the timeout is
/// only checked while a parallel slot is free), slave-reconf-timeout 2 s, failover-timeout 10 s.
/// At the timeout the replica is marked done and, in the same pass, sent SLAVEOF again; being
/// done, it lets the failover end.
fn reconf_timeout(which: Which) -> Vec<String> {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let good = start_replica("good", Impl::Real, &master, &["--replica-priority", "10"]);
    let args = [master.replicaof_args().to_vec(), vec!["--replica-priority".into(), "100".into()]].concat();
    let stuck = Node::start_with_config("stuck", Impl::Real, NO_SLAVEOF, &strs(&args));
    wait_in_sync(&master, &good);
    wait_in_sync(&master, &stuck);
    let extra = "sentinel failover-timeout mymaster 10000\nsentinel parallel-syncs mymaster 5\n";
    let s = start_sentinel(which, master.port, 1, extra);
    wait_replicas_known(&s, &[good.port, stuck.port]);
    assert_eq!(call(&s, &["SENTINEL", "DEBUG", "slave-reconf-timeout", "2000"]), Reply::Status("OK".into()));
    let labels = [(master.port.to_string(), "M"), (good.port.to_string(), "GOOD"), (stuck.port.to_string(), "STUCK")];
    forced_failover_events(&s, &labels)
}

/// Item 8: after `-slave-reconf-sent-timeout`, SLAVEOF again in the same pass.
#[test]
fn a_replica_timed_out_in_reconfiguration_is_sent_slaveof_again() {
    let real = reconf_timeout(Which::Real);
    let ours = reconf_timeout(Which::Ours);
    assert_eq!(ours, real, "events (ours, then real)");
    let timeout = real.iter().position(|e| e.starts_with("-slave-reconf-sent-timeout")).expect("a reconf timeout");
    assert!(real[timeout + 1].starts_with("+slave-reconf-sent slave"), "{real:?}");
}

/// parallel-syncs 5, failover-timeout 5 s; besides the promoted replica (which refuses PSYNC and
/// SYNC once promoted), one replica takes the new master but never syncs (in progress for
/// good) and one ignores SLAVEOF (sent for good). At the timeout Redis ends the failover, then
/// sends the best-effort SLAVEOF to the replica in progress (not to the one already sent).
fn end_for_timeout(which: Which) -> Vec<String> {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let no_sync = "rename-command PSYNC \"\"\nrename-command SYNC \"\"\n";
    let replica_args = |priority: &str| {
        [master.replicaof_args().to_vec(), vec!["--replica-priority".into(), priority.into()]].concat()
    };
    let promoted = Node::start_with_config("promoted", Impl::Real, no_sync, &strs(&replica_args("10")));
    let syncing = Node::start("syncing", Impl::Real, &strs(&replica_args("100")));
    let stuck = Node::start_with_config("stuck", Impl::Real, NO_SLAVEOF, &strs(&replica_args("100")));
    for r in [&promoted, &syncing, &stuck] {
        wait_in_sync(&master, r);
    }
    let extra = "sentinel failover-timeout mymaster 5000\nsentinel parallel-syncs mymaster 5\n";
    let s = start_sentinel(which, master.port, 1, extra);
    wait_replicas_known(&s, &[promoted.port, syncing.port, stuck.port]);
    let labels = [
        (master.port.to_string(), "M"),
        (promoted.port.to_string(), "PROMOTED"),
        (syncing.port.to_string(), "SYNCING"),
        (stuck.port.to_string(), "STUCK"),
    ];
    let mut events = forced_failover_events(&s, &labels);
    // The two first SLAVEOFs go out in the sentinel's own order of its replicas.
    events[1..3].sort();
    events
}

/// Item 13: `+failover-end-for-timeout`, `+failover-end`, then `+slave-reconf-sent-be`, sent to
/// every replica neither promoted, done nor sent (one in progress included).
#[test]
fn a_failover_timing_out_ends_then_sends_best_effort_slaveof() {
    let real = end_for_timeout(Which::Real);
    let ours = end_for_timeout(Which::Ours);
    assert_eq!(ours, real, "events (ours, then real)");
    assert!(real.iter().any(|e| e.starts_with("+slave-reconf-sent-be slave 127.0.0.1:SYNCING")), "{real:?}");
}

// ---------------------------------------------------------------------------------------------
// Replica selection and links
// ---------------------------------------------------------------------------------------------

/// The replicas with the given priorities (all of them with a connected link at first); the
/// first is killed and, once the sentinel's link to it is down (and well before it would be
/// SDOWN or stale), SENTINEL FAILOVER is asked. Returns the reply and the `+selected-slave`
/// event (or "" if the failover did not start).
fn failover_without_the_best_replica(which: Which, priorities: &[&str]) -> (String, String) {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let nodes: Vec<Node> = priorities
        .iter()
        .enumerate()
        .map(|(i, p)| start_replica(&format!("replica-{i}"), Impl::Real, &master, &["--replica-priority", p]))
        .collect();
    for r in &nodes {
        wait_in_sync(&master, r);
    }
    let extra = "sentinel down-after-milliseconds mymaster 20000\n";
    let s = start_sentinel(which, master.port, 1, extra);
    let ports: Vec<u16> = nodes.iter().map(|r| r.port).collect();
    wait_replicas_known(&s, &ports);
    // A replica is fit only if it answered a PING within 5 ping periods: 20 s from here on, so
    // that only its link rules the killed one out, however slow the machine.
    assert_eq!(call(&s, &["SENTINEL", "DEBUG", "ping-period", "4000"]), Reply::Status("OK".into()));
    nodes[0].kill();
    crate::common::wait_for("the sentinel's link to the killed replica to be down", DEADLINE, || {
        replicas(&s).iter().any(|(port, flags, _)| *port == ports[0] && flags.contains("disconnected"))
    });
    let reply = call(&s, &["SENTINEL", "FAILOVER", "mymaster"]);
    let reply = match reply {
        Reply::Status(t) => String::from_utf8_lossy(&t).into_owned(),
        Reply::Error(t) => format!("-{}", String::from_utf8_lossy(&t)),
        other => format!("{other:?}"),
    };
    if reply != "OK" {
        return (reply, String::new());
    }
    wait_logged(&s, "a replica to be selected", || {
        has_event(&s, "+selected-slave") || has_event(&s, "-failover-abort-no-good-slave")
    });
    let mut labels: Vec<(String, &str)> = vec![(master.port.to_string(), "M")];
    let names = ["R0", "R1", "R2"];
    labels.extend(ports.iter().zip(names).map(|(p, n)| (p.to_string(), n)));
    let selected = events(&s, &["+selected-slave", "-failover-abort-no-good-slave"], &labels);
    (reply, selected.join("\n"))
}

/// Item 12: the best replica by priority, whose link just dropped, is not the one promoted.
#[test]
fn a_replica_whose_link_is_down_is_not_selected() {
    let real = failover_without_the_best_replica(Which::Real, &["10", "50"]);
    let ours = failover_without_the_best_replica(Which::Ours, &["10", "50"]);
    assert_eq!(ours, real, "(reply, selection) of ours, then real");
    assert_eq!(real.1, "+selected-slave slave 127.0.0.1:R1 127.0.0.1 R1 @ mymaster 127.0.0.1 M");
}

/// Item 12: SENTINEL FAILOVER answers NOGOODSLAVE when the only replica's link is down.
#[test]
fn failover_with_the_only_replica_disconnected_is_nogoodslave() {
    let real = failover_without_the_best_replica(Which::Real, &["10"]);
    let ours = failover_without_the_best_replica(Which::Ours, &["10"]);
    assert_eq!(ours, real, "(reply, selection) of ours, then real");
    assert_eq!(real.0, "-NOGOODSLAVE No suitable replica to promote");
}
