//! Sentinel and passwords: a Sentinel that lacks the master's password (or has a wrong one)
//! shows the master `disconnected` and connects again once it is given the right one or the
//! master drops it; Sentinels that kept an authenticated link keep it; Sentinels as ACL users of
//! the master (`auth-user`) and of each other (`sentinel-user`/`sentinel-pass`, with `user`
//! lines in sentinel.conf); and a Sentinel's command set. Each with Debian's redis-sentinel
//! 7.0.15 alongside ours, in the same quorum.

use std::time::{Duration, Instant};

use crate::common::reply::Reply;
use crate::common::Client;
use crate::replication_support::*;
use crate::sentinel::{master_field, one_at_a_time, SentinelProc, DEADLINE};

/// One command on a fresh connection to a server, after `AUTH auth...` when `auth` is not empty.
fn call_as(port: u16, auth: &[&str], args: &[&str]) -> Reply {
    let mut c = Client::connect(port);
    if !auth.is_empty() {
        let args: Vec<&str> = std::iter::once("AUTH").chain(auth.iter().copied()).collect();
        assert_eq!(c.cmd_str(&args), "+OK\r\n", "AUTH {auth:?}");
    }
    Reply::parse(&c.cmd(args))
}

fn flags(s: &SentinelProc) -> String {
    master_field(s, "flags").unwrap_or_default()
}

fn label(s: &SentinelProc) -> &'static str {
    if s.ours {
        "our sentinel"
    } else {
        "redis-sentinel"
    }
}

/// For `window`, every sample of each sentinel's master flags lacks `disconnected` (the link
/// must stay up, not merely come back): a negative check has to look for a while.
fn stays_connected(sentinels: &[&SentinelProc], window: Duration, why: &str) {
    let end = Instant::now() + window;
    while Instant::now() < end {
        for s in sentinels {
            let f = flags(s);
            assert!(!f.contains("disconnected"), "{}: {why}: flags {f}", label(s));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The bug of issue 20: a Sentinel without the master's password, one started after the master
/// set requirepass, shows the master `disconnected` as redis-sentinel does (its pub/sub link is
/// refused with -NOAUTH), connects as soon as SENTINEL SET gives it the password, and finds the
/// other Sentinel through the hellos after that. A password change on the master leaves the
/// authenticated links up; a Sentinel restarted without the password is disconnected again while
/// the other keeps its link, and connects once the master drops its password.
#[test]
fn a_sentinel_without_the_masters_password_shows_it_disconnected_until_it_has_it() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &["--requirepass", "first"]);
    let real = SentinelProc::start(false, master.port, 2);
    let ours = SentinelProc::start(true, master.port, 2);
    for s in [&real, &ours] {
        crate::common::wait_for(&format!("{} to show the master disconnected", label(s)), DEADLINE, || {
            flags(s).contains("disconnected")
        });
        assert_eq!(s.count("SENTINELS"), 0, "{}: no hellos without the password", label(s));
    }
    // Ours stays disconnected: its pub/sub link is refused every time it is reopened.
    let end = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < end {
        assert!(flags(&ours).contains("disconnected"), "our sentinel: flags {}", flags(&ours));
        std::thread::sleep(Duration::from_millis(100));
    }

    for s in [&real, &ours] {
        assert_eq!(s.call(&["SENTINEL", "SET", "mymaster", "auth-pass", "first"]), Some(Reply::Status("OK".into())));
    }
    for s in [&real, &ours] {
        crate::common::wait_for(&format!("{} to connect and find the other sentinel", label(s)), DEADLINE, || {
            !flags(s).contains("disconnected") && s.count("SENTINELS") == 1
        });
    }

    // The master's password changes: links already authenticated stay up.
    assert_eq!(
        call_as(master.port, &["first"], &["CONFIG", "SET", "requirepass", "second"]),
        Reply::Status("OK".into())
    );
    stays_connected(&[&real, &ours], Duration::from_secs(3), "an authenticated link survives a password change");

    // Our sentinel restarted with the old password: disconnected; the real one keeps its link.
    drop(ours);
    let ours = SentinelProc::start_with(true, master.port, 2, "sentinel auth-pass mymaster first\n");
    crate::common::wait_for("our restarted sentinel to show the master disconnected", DEADLINE, || {
        flags(&ours).contains("disconnected")
    });
    stays_connected(&[&real], Duration::from_secs(2), "the other sentinel keeps its link");

    // The master drops its password: ours connects (its AUTH is refused, nothing else is).
    assert_eq!(call_as(master.port, &["second"], &["CONFIG", "SET", "requirepass", ""]), Reply::Status("OK".into()));
    crate::common::wait_for("our sentinel to connect and find the other one", DEADLINE, || {
        !flags(&ours).contains("disconnected") && ours.count("SENTINELS") == 1
    });
    crate::common::wait_for("our sentinel to see the master up", DEADLINE, || !flags(&ours).contains("s_down"));
}

/// The ACL user Redis's documentation gives Sentinel on the monitored instances.
const SENTINEL_USER_RULES: &[&str] = &[
    "on",
    ">sentinel-pw",
    "allchannels",
    "+multi",
    "+slaveof",
    "+ping",
    "+exec",
    "+subscribe",
    "+config|rewrite",
    "+role",
    "+publish",
    "+info",
    "+client|setname",
    "+client|kill",
    "+script|kill",
];

/// Sentinels as an ACL user of the master and its replica (`sentinel auth-user` + `auth-pass`),
/// the default user disabled: both Sentinels connect, find the replica and each other; then the
/// user loses +subscribe and a Sentinel given a wrong password shows the master disconnected.
#[test]
fn sentinels_authenticate_as_an_acl_user_of_the_master() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let replica = start_replica("replica", Impl::Real, &master, &[]);
    for node in [&master, &replica] {
        node.ok(&["ACL", "SETUSER", "admin", "on", ">admin-pw", "~*", "&*", "+@all"]);
        let mut args = vec!["ACL", "SETUSER", "sentinel-user"];
        args.extend_from_slice(SENTINEL_USER_RULES);
        node.ok(&args);
    }
    crate::common::wait_for("the replica to sync", DEADLINE, || {
        replica.info("replication").get("master_link_status") == Some("up")
    });
    for node in [&master, &replica] {
        node.ok(&["ACL", "SETUSER", "default", "off"]);
    }
    let extra = "sentinel auth-user mymaster sentinel-user\nsentinel auth-pass mymaster sentinel-pw\n";
    let real = SentinelProc::start_with(false, master.port, 2, extra);
    let ours = SentinelProc::start_with(true, master.port, 2, extra);
    for s in [&real, &ours] {
        crate::common::wait_for(&format!("{} to find the replica and the other sentinel", label(s)), DEADLINE, || {
            flags(s) == "master" && s.count("REPLICAS") == 1 && s.count("SENTINELS") == 1
        });
        crate::common::wait_for(&format!("{}: the replica up", label(s)), DEADLINE, || {
            s.replica_field(replica.port, "flags").is_some_and(|f| f == "slave")
        });
    }
    let config = ours.config();
    assert!(config.contains("sentinel auth-user mymaster sentinel-user"), "{config}");

    // A wrong password for the user: -NOAUTH on the pub/sub link, the master disconnected.
    for s in [&real, &ours] {
        assert_eq!(s.call(&["SENTINEL", "SET", "mymaster", "auth-pass", "wrong"]), Some(Reply::Status("OK".into())));
        crate::common::wait_for(&format!("{} to show the master disconnected", label(s)), DEADLINE, || {
            flags(s).contains("disconnected")
        });
        crate::common::wait_for(&format!("{} to show the replica disconnected", label(s)), DEADLINE, || {
            s.replica_field(replica.port, "flags").is_some_and(|f| f.contains("disconnected"))
        });
    }
    // A user without +subscribe: -NOPERM on the pub/sub link, disconnected too.
    let as_user = ["sentinel-user", "sentinel-pw"];
    assert_eq!(call_as(master.port, &as_user, &["PING"]), Reply::Status("PONG".into()));
    let admin = ["admin", "admin-pw"];
    let ok = Reply::Status("OK".into());
    assert_eq!(call_as(master.port, &admin, &["ACL", "SETUSER", "sentinel-user", "-subscribe"]), ok);
    for s in [&real, &ours] {
        assert_eq!(
            s.call(&["SENTINEL", "SET", "mymaster", "auth-pass", "sentinel-pw"]),
            Some(Reply::Status("OK".into()))
        );
    }
    for s in [&real, &ours] {
        crate::common::wait_for(&format!("{}: disconnected without +subscribe", label(s)), DEADLINE, || {
            flags(s).contains("disconnected")
        });
    }
    // Given back: both connect again.
    assert_eq!(call_as(master.port, &admin, &["ACL", "SETUSER", "sentinel-user", "+subscribe"]), ok);
    for s in [&real, &ours] {
        crate::common::wait_for(&format!("{} to connect again", label(s)), DEADLINE, || {
            !flags(s).contains("disconnected")
        });
    }
}

/// Sentinels with ACL users of their own (`user` lines and requirepass in sentinel.conf) reach
/// each other as `sentinel-user`/`sentinel-pass`: each answers the other's PINGs (the peer is
/// neither down nor late), and ACL commands work on both alike.
#[test]
fn sentinels_authenticate_to_each_other_as_acl_users() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &[]);
    let extra = "requirepass admin-pw\nuser peer on >peer-pw allchannels +@all\n\
                 sentinel sentinel-user peer\nsentinel sentinel-pass peer-pw\n";
    let real = SentinelProc::start_with(false, master.port, 2, extra);
    let ours = SentinelProc::start_with(true, master.port, 2, extra);
    for s in [&real, &ours] {
        crate::common::wait_for(&format!("{} to find and reach the other sentinel", label(s)), DEADLINE, || {
            s.count("SENTINELS") == 1 && s.peer_field("mymaster", "flags").is_some_and(|f| f == "sentinel")
        });
    }
    // For longer than down-after-milliseconds (2 s), the peer answers PING with PONG: never
    // down (a -NOAUTH reply would leave it down after 2 s).
    let end = Instant::now() + Duration::from_secs(3);
    while Instant::now() < end {
        for s in [&real, &ours] {
            let flags = s.peer_field("mymaster", "flags").unwrap_or_default();
            assert_eq!(flags, "sentinel", "{}: the peer answers PING as its user", label(s));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    for s in [&real, &ours] {
        let ok_ping: u64 =
            s.peer_field("mymaster", "last-ok-ping-reply").and_then(|v| v.parse().ok()).unwrap_or(u64::MAX);
        assert!(ok_ping < 2000, "{}: last-ok-ping-reply {ok_ping}", label(s));
    }
    // The users, as each sentinel lists them.
    let users = |s: &SentinelProc| s.call(&["ACL", "LIST"]).map(|r| r.texts()).unwrap_or_default();
    assert_eq!(users(&ours), users(&real));
    let mut c = Client::connect(ours.port);
    assert!(c.cmd_str(&["PING"]).starts_with("-NOAUTH"), "the default user has a password");
    assert_eq!(c.cmd_str(&["AUTH", "peer", "peer-pw"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["ACL", "WHOAMI"]), "$4\r\npeer\r\n");
}

/// A Sentinel's commands (COMMAND LIST and COUNT) are redis-sentinel 7.0.15's: this project's
/// extensions (CLIENT NO-TOUCH) are the server's only, in the list, CLIENT HELP and ACL rules.
#[test]
fn a_sentinel_has_the_commands_of_redis_sentinel() {
    let master = Node::start("master", Impl::Real, &[]);
    let real = SentinelProc::start(false, master.port, 1);
    let ours = SentinelProc::start(true, master.port, 1);
    let sorted = |s: &SentinelProc, args: &[&str]| {
        let mut v = s.call(args).map(|r| r.texts()).unwrap_or_default();
        v.sort();
        v
    };
    let list = sorted(&real, &["COMMAND", "LIST"]);
    assert!(list.contains(&"sentinel|masters".to_string()) && list.contains(&"client|kill".to_string()), "{list:?}");
    assert_eq!(sorted(&ours, &["COMMAND", "LIST"]), list);
    assert_eq!(ours.call(&["COMMAND", "COUNT"]), real.call(&["COMMAND", "COUNT"]));
    assert_eq!(sorted(&ours, &["ACL", "CAT", "connection"]), sorted(&real, &["ACL", "CAT", "connection"]));
    for args in [
        &["CLIENT", "HELP"][..],
        &["CLIENT", "NO-TOUCH", "ON"],
        &["ACL", "SETUSER", "x", "+client|no-touch"],
        &["COMMAND", "INFO", "client|no-touch"],
    ] {
        assert_eq!(ours.call(args), real.call(args), "{args:?}");
    }
}

/// A mixed quorum (two of ours, one real) as the ACL user Redis documents for Sentinel fails the
/// master over: every command the Sentinels send the servers (monitoring, hellos, the failover's
/// transaction) fits that user, so the servers' ACL LOG has no refusal for it.
#[test]
fn a_mixed_quorum_of_acl_user_sentinels_fails_over() {
    let _turn = one_at_a_time();
    let master = Node::start("master", Impl::Real, &["--requirepass", "admin-pw"]);
    let replica =
        start_replica("replica", Impl::Real, &master, &["--requirepass", "admin-pw", "--masterauth", "admin-pw"]);
    for node in [&master, &replica] {
        let mut args = vec!["ACL", "SETUSER", "sentinel-user"];
        args.extend_from_slice(SENTINEL_USER_RULES);
        node.ok(&args);
    }
    wait_in_sync(&master, &replica);
    let extra = "sentinel auth-user mymaster sentinel-user\nsentinel auth-pass mymaster sentinel-pw\n";
    // The real one sees the master down late, so one of ours leads the failover (the real one
    // votes for the first that asks).
    let late = format!("{extra}sentinel down-after-milliseconds mymaster 15000\n");
    let sentinels = [
        SentinelProc::start_with(true, master.port, 2, extra),
        SentinelProc::start_with(true, master.port, 2, extra),
        SentinelProc::start_with(false, master.port, 2, &late),
    ];
    for s in &sentinels {
        crate::common::wait_for(
            &format!("{} to know the replica and both other sentinels", label(s)),
            DEADLINE,
            || flags(s) == "master" && s.count("REPLICAS") == 1 && s.count("SENTINELS") == 2,
        );
    }
    master.kill();
    for s in &sentinels {
        crate::common::wait_for(&format!("{} to answer the promoted replica", label(s)), DEADLINE, || {
            s.master_port() == Some(replica.port)
        });
    }
    crate::common::wait_for("the replica to be a master", DEADLINE, || {
        replica.info("replication").get("role") == Some("master")
    });
    for s in &sentinels {
        crate::common::wait_for(&format!("{}: the new master connected", label(s)), DEADLINE, || flags(s) == "master");
    }
    let led = sentinels[..2].iter().any(|s| s.process.file("sentinel.log").contains("+elected-leader"));
    assert!(led, "one of our sentinels led the failover");
    let log = replica.call(&["ACL", "LOG"]).to_string();
    assert!(!log.contains("sentinel-user"), "a Sentinel sent a command its user may not run: {log}");
}

/// A Sentinel's users are kept in sentinel.conf when it saves it (at start-up with a new ID, and
/// at each flush, so after ACL SETUSER), as `user` lines like redis-sentinel's (every user,
/// hashed passwords), and a restarted Sentinel has them.
#[test]
fn a_sentinels_acl_users_are_saved_in_its_config() {
    let master = Node::start("master", Impl::Real, &[]);
    let extra = "user alice on >alice-pw ~* +@all\n";
    let real = SentinelProc::start_with(false, master.port, 1, extra);
    let ours = SentinelProc::start_with(true, master.port, 1, extra);
    let user_lines = |s: &SentinelProc| -> Vec<String> {
        s.config().lines().filter(|l| l.starts_with("user ")).map(str::to_string).collect()
    };
    // Saved at start-up with the new ID: the configured users and the default one.
    assert_eq!(user_lines(&real).len(), 2, "{:?}", user_lines(&real));
    assert_eq!(user_lines(&ours), user_lines(&real));
    for s in [&real, &ours] {
        assert_eq!(s.call(&["ACL", "SETUSER", "bob", "on", ">bob-pw", "+ping"]), Some(Reply::Status("OK".into())));
        assert_eq!(s.call(&["SENTINEL", "FLUSHCONFIG"]), Some(Reply::Status("OK".into())));
    }
    let lines = user_lines(&real);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(user_lines(&ours), lines);

    // Restarted on its saved file, ours knows bob.
    let conf = ours.config();
    drop(ours);
    // The saved file in a new directory, on a new port.
    let restarted = crate::common::SentinelProcess::start(crate::common::OUR_SENTINEL, |port, dir| {
        // Our SentinelProc's scripts were in the old directory.
        let kept =
            conf.lines().filter(|l| !l.starts_with("port ") && !l.starts_with("dir ") && !l.contains("-script "));
        let text = format!("port {port}\ndir {}\n", dir.display()) + &kept.collect::<Vec<_>>().join("\n") + "\n";
        (text, Vec::new())
    });
    let mut c = Client::connect(restarted.port);
    assert_eq!(c.cmd_str(&["AUTH", "bob", "bob-pw"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["PING"]), "+PONG\r\n");
}
