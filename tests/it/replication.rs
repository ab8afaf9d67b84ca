//! Replication acceptance tests (issue 7): master and replica roles, each played by our server or
//! by Debian's real Redis 7.0, in every pairing that matters — our master feeding a real replica
//! and the reverse, chains and promotions that mix the two, the failover walkthrough of the setup
//! guides, restarts with and without persistence, and the INFO replication / ROLE formats.
//!
//! Every scenario takes the implementation of each node as parameters; the all-real variants pin
//! down what Redis itself does (and validate the tests), the others hold ours to it. Datasets are
//! compared key by key over all databases (types, values, exact expire times), after waiting until
//! the replica's offset equals the master's; partial resyncs are told from full ones by the
//! master's `sync_partial_ok` / `sync_full` counters.

use crate::replication_support::*;
use Impl::{Ours, Real};

/// Keys per type and database in the preloaded datasets: 6 types x 4 databases x 200 = 4800 keys.
const PRELOAD: u32 = 200;
/// Write steps in a foreground burst.
const BURST: usize = 1500;
/// Minimum write steps of a background writer.
const BACKGROUND: u64 = 300;

// -------------------------------------------------------------------------------------------------
// 1 and 2: full sync of a preloaded dataset under writes, a write stream, and two link breaks (one
// from each side) healed by partial resyncs.
// -------------------------------------------------------------------------------------------------

/// A write bigger than the backlog, sent to a replica that keeps up: only about the backlog's
/// size of the stream stays on the master (Redis keeps it in blocks of at most a 16th of the
/// backlog, and frees those past its size once the replicas have them), not the whole write
/// until as much again has been written after it.
#[test]
fn a_write_bigger_than_the_backlog_leaves_only_the_backlog() {
    for imp in [Real, Ours] {
        // (The nodes' 64 MB backlog would hold the whole write.)
        let master = Node::start("master", imp, &["--repl-backlog-size", "1mb"]);
        let replica = start_replica("replica", imp, &master, &[]);
        wait_info(&replica, "master_link_status", "up");
        master.ok(&["SET", "big", &"x".repeat(20 << 20)]);
        wait_in_sync(&master, &replica);
        let histlen = std::cell::Cell::new(0);
        crate::common::wait_for_or(
            "the backlog to be trimmed to its size",
            std::time::Duration::from_secs(20),
            || {
                histlen.set(master.info("replication").num("repl_backlog_histlen"));
                histlen.get() < 2 << 20
            },
            || format!("{}: repl_backlog_histlen {}", imp.label(), histlen.get()),
        );
        assert!(histlen.get() >= 1 << 20, "{}: repl_backlog_histlen {}", imp.label(), histlen.get());
    }
}

fn full_then_partial_resync(master_imp: Impl, replica_imp: Impl, mode: SyncMode) {
    full_then_partial_resync_with(master_imp, replica_imp, mode, &[]);
}

fn full_then_partial_resync_with(master_imp: Impl, replica_imp: Impl, mode: SyncMode, replica_args: &[&str]) {
    let master = Node::start("master", master_imp, mode.master_args());
    preload(&master, 11, PRELOAD);
    let loaded = dataset(&master);
    assert!(loaded.len() >= 4000, "preload made only {} keys on {}", loaded.len(), master.name);

    // The replica connects while writes go on: they reach it after the RDB, from the buffer the
    // master kept during the transfer.
    let (replica, _) = with_writes(&master, 12, BACKGROUND, |_| {
        let replica = start_replica("replica", replica_imp, &master, replica_args);
        wait_info(&replica, "master_link_status", "up");
        replica
    });
    assert_eq!(sync_counts(&master), SyncCounts { full: 1, partial_ok: 0 }, "the first sync is a full one");
    wait_in_sync(&master, &replica);
    assert_nodes_same(&master, &replica);

    Writer::new(&master, 13).run(BURST);
    wait_in_sync(&master, &replica);
    assert_nodes_same(&master, &replica);

    // The replica drops its master link while writes go on; it reconnects and continues from
    // its offset.
    let before = sync_counts(&master);
    with_writes(&master, 14, BACKGROUND, |progress| {
        progress.wait_more(100);
        assert_eq!(replica.call(&["CLIENT", "KILL", "TYPE", "master"]).int(), 1, "killed on {}", replica.name);
        expect_partial_resync(&master, &replica, before);
        progress.wait_more(100);
    });
    wait_in_sync(&master, &replica);
    assert_nodes_same(&master, &replica);

    // The master drops its replica, and writes on before the replica can be back: those writes
    // reach it only from the backlog, in the partial resync.
    let before = sync_counts(&master);
    let killed = Writer::new(&master, 15).pipeline_after(&["CLIENT", "KILL", "TYPE", "replica"], 500);
    assert_eq!(killed, Reply::Int(1), "CLIENT KILL TYPE replica on {}", master.name);
    with_writes(&master, 16, BACKGROUND, |_| expect_partial_resync(&master, &replica, before));
    wait_in_sync(&master, &replica);
    assert_nodes_same(&master, &replica);

    assert_eq!(sync_counts(&master), SyncCounts { full: 1, partial_ok: 2 });
    let last = dataset(&master);
    assert!(last.len() >= 4000 && last.dbs().len() == WRITE_DBS as usize, "dataset shrank: {}", last.summary());
}

#[test]
fn partial_resync_real_master_real_replica_diskless() {
    full_then_partial_resync(Real, Real, SyncMode::Diskless);
}

#[test]
fn partial_resync_real_master_real_replica_disk() {
    full_then_partial_resync(Real, Real, SyncMode::Disk);
}

#[test]
fn partial_resync_our_master_real_replica() {
    full_then_partial_resync(Ours, Real, SyncMode::Diskless);
}

#[test]
fn partial_resync_real_master_our_replica_diskless() {
    full_then_partial_resync(Real, Ours, SyncMode::Diskless);
}

#[test]
fn partial_resync_real_master_our_replica_disk() {
    full_then_partial_resync(Real, Ours, SyncMode::Disk);
}

/// repl-diskless-load: the replica loads straight from the socket, both payload framings.
#[test]
fn partial_resync_real_master_our_replica_loading_from_the_socket() {
    full_then_partial_resync_with(Real, Ours, SyncMode::Disk, &["--repl-diskless-load", "on-empty-db"]);
    full_then_partial_resync_with(Real, Ours, SyncMode::Diskless, &["--repl-diskless-load", "swapdb"]);
}

#[test]
fn partial_resync_our_master_real_replica_loading_from_the_socket() {
    full_then_partial_resync_with(Ours, Real, SyncMode::Diskless, &["--repl-diskless-load", "swapdb"]);
}

#[test]
fn partial_resync_our_master_our_replica() {
    full_then_partial_resync(Ours, Ours, SyncMode::Diskless);
}

// -------------------------------------------------------------------------------------------------
// 3: a chain master -> middle -> sub-replica, then the middle promoted; and the guides' promotion of
// one of two replicas, the other following it with a partial resync.
// -------------------------------------------------------------------------------------------------

fn chain(master_imp: Impl, middle_imp: Impl, sub_imp: Impl) {
    let master = Node::start("master", master_imp, &[]);
    preload(&master, 21, PRELOAD / 2);
    let ((middle, sub), _) = with_writes(&master, 22, BACKGROUND, |_| {
        let middle = start_replica("middle", middle_imp, &master, &[]);
        let sub = start_replica("sub-replica", sub_imp, &middle, &[]);
        wait_info(&middle, "master_link_status", "up");
        wait_info(&sub, "master_link_status", "up");
        (middle, sub)
    });
    // The middle node passes the master's stream on unchanged: one offset along the chain.
    wait_in_sync(&master, &middle);
    wait_in_sync(&middle, &sub);
    let top = dataset(&master);
    assert!(top.len() >= 2000, "preload made only {} keys", top.len());
    assert_same_dataset(&top, &dataset(&middle));
    assert_same_dataset(&top, &dataset(&sub));

    // Promoted, the middle node drops its sub-replica (to hand it the new replication id), which
    // reconnects and continues from its offset: the old id is kept as replid2, so a PARTIAL resync.
    let before = sync_counts(&middle);
    assert_eq!(before, SyncCounts { full: 1, partial_ok: 0 }, "{} served the sub-replica's first sync", middle.name);
    middle.ok(&["REPLICAOF", "NO", "ONE"]);
    let after = wait_next_resync(&middle, &sub, before);
    assert_eq!(after, SyncCounts { full: 1, partial_ok: 1 }, "the sub-replica re-attaches with a PARTIAL resync");
    Writer::new(&middle, 23).run(BURST);
    wait_in_sync(&middle, &sub);
    assert_nodes_same(&middle, &sub);
    crate::common::wait_for("the old master to drop its replica", SYNC_DEADLINE, || {
        master.info("replication").num("connected_slaves") == 0
    });
}

#[test]
fn chain_real_real_real() {
    chain(Real, Real, Real);
}

#[test]
fn chain_real_ours_real() {
    chain(Real, Ours, Real);
}

#[test]
fn chain_ours_real_ours() {
    chain(Ours, Real, Ours);
}

/// The guides' failover: master M with replicas A and B; M fails; A is promoted with REPLICAOF
/// NO ONE and B pointed at A, which it follows with a PARTIAL resync (A knows M's history as its
/// replid2), losing nothing.
fn promotion(master_imp: Impl, a_imp: Impl, b_imp: Impl) {
    let master = Node::start("master", master_imp, &[]);
    preload(&master, 31, PRELOAD / 2);
    let a = start_replica("replica-A", a_imp, &master, &[]);
    let b = start_replica("replica-B", b_imp, &master, &[]);
    Writer::new(&master, 32).run(BURST);
    wait_in_sync(&master, &a);
    wait_in_sync(&master, &b);
    let before_failure = dataset(&master);
    assert_same_dataset(&before_failure, &dataset(&a));
    assert_same_dataset(&before_failure, &dataset(&b));

    master.kill();
    a.ok(&["REPLICAOF", "NO", "ONE"]);
    assert_eq!(a.info("replication").get("role"), Some("master"));
    let before = sync_counts(&a);
    b.replicaof(&a);
    expect_partial_resync(&a, &b, before);
    wait_in_sync(&a, &b);
    assert_same_dataset(&before_failure, &dataset(&a));
    assert_nodes_same(&a, &b);

    Writer::new(&a, 33).run(BURST);
    wait_in_sync(&a, &b);
    assert_nodes_same(&a, &b);
}

#[test]
fn promotion_real_real_real() {
    promotion(Real, Real, Real);
}

#[test]
fn promotion_real_master_our_new_master_real_follower() {
    promotion(Real, Ours, Real);
}

#[test]
fn promotion_our_master_real_new_master_our_follower() {
    promotion(Ours, Real, Ours);
}

// -------------------------------------------------------------------------------------------------
// 4: the setup guides' walkthrough: three nodes with requirepass, replicas configured by `slaveof`
// and `masterauth` in their config files; read-only replicas; a manual failover and the old master
// rejoining as a replica.
// -------------------------------------------------------------------------------------------------

const PASSWORD: &str = "guide-s3cret";
const READONLY: &[u8] = b"-READONLY You can't write against a read only replica.\r\n";

fn guides_walkthrough(master_imp: Impl, r1_imp: Impl, r2_imp: Impl) {
    let mut master = Node::start_with_config("master", master_imp, &format!("requirepass {PASSWORD}\n"), &[]);
    let replica_config = format!("slaveof 127.0.0.1 {}\nmasterauth {PASSWORD}\nrequirepass {PASSWORD}\n", master.port);
    let r1 = Node::start_with_config("replica1", r1_imp, &replica_config, &[]);
    let r2 = Node::start_with_config("replica2", r2_imp, &replica_config, &[]);

    let mut c = master.client();
    for i in 0..10 {
        assert_eq!(c.cmd_str(&["SET", &format!("name{i}"), &format!("value{i}")]), "+OK\r\n");
    }
    wait_in_sync(&master, &r1);
    wait_in_sync(&master, &r2);
    let keys = sorted_keys(&master);
    assert_eq!(keys.len(), 10);
    assert_eq!(sorted_keys(&r1), keys, "KEYS * on {}", r1.name);
    assert_eq!(sorted_keys(&r2), keys, "KEYS * on {}", r2.name);
    assert_eq!(master.info("replication").num("connected_slaves"), 2);
    for r in [&r1, &r2] {
        assert_eq!(r.client().cmd(&["SET", "name0", "changed"]), READONLY, "a write on {}", r.name);
    }

    Writer::new(&master, 41).run(BURST);
    wait_in_sync(&master, &r1);
    wait_in_sync(&master, &r2);
    assert_nodes_same(&master, &r1);
    assert_nodes_same(&master, &r2);

    // Manual failover: the master goes away, replica1 takes over, replica2 follows it.
    master.shutdown(&["SHUTDOWN", "NOSAVE"]);
    r1.ok(&["REPLICAOF", "NO", "ONE"]);
    r2.replicaof(&r1);
    wait_in_sync(&r1, &r2);
    Writer::new(&r1, 42).run(BURST / 2);
    wait_in_sync(&r1, &r2);
    assert_nodes_same(&r1, &r2);

    // The old master comes back as a replica of the new one, and catches up.
    master.restart_with_config(&format!(
        "requirepass {PASSWORD}\nreplicaof 127.0.0.1 {}\nmasterauth {PASSWORD}\n",
        r1.port
    ));
    wait_in_sync(&r1, &master);
    let role = master.call(&["ROLE"]);
    let role = role.array();
    assert_eq!(role[0].text(), "slave", "ROLE of the old master: {role:?}");
    assert_eq!(role[2], Reply::Int(r1.port as i64), "ROLE of the old master: {role:?}");
    assert_eq!(role[3].text(), "connected", "ROLE of the old master: {role:?}");
    assert_eq!(master.client().cmd(&["SET", "name0", "changed"]), READONLY);
    let new_master = dataset(&r1);
    assert!(new_master.len() > 100, "too few keys to compare: {}", new_master.summary());
    assert_same_dataset(&new_master, &dataset(&master));
    assert_same_dataset(&new_master, &dataset(&r2));
}

fn sorted_keys(node: &Node) -> Vec<String> {
    let reply = node.call(&["KEYS", "*"]);
    let mut keys: Vec<String> = reply.array().iter().map(Reply::text).collect();
    keys.sort();
    keys
}

#[test]
fn guides_walkthrough_all_real() {
    guides_walkthrough(Real, Real, Real);
}

#[test]
fn guides_walkthrough_all_ours() {
    guides_walkthrough(Ours, Ours, Ours);
}

#[test]
fn guides_walkthrough_real_master_our_replicas() {
    guides_walkthrough(Real, Ours, Ours);
}

#[test]
fn guides_walkthrough_our_master_mixed_replicas() {
    guides_walkthrough(Ours, Real, Ours);
}

// -------------------------------------------------------------------------------------------------
// 5: a master restarting. With persistence it comes back with its data and the replica continues
// (a full or a partial resync are both fine; losing data is not. Real Redis 7.0 resyncs PARTIALLY
// after an RDB restart, whose file carries the replication id and offset, and FULLY after an
// AOF-only one). Without persistence it comes
// back EMPTY, and its replica, resyncing, becomes empty too: the hazard the Redis docs warn about
// ("Safety of replication when master has persistence turned off"), which real Redis exhibits and
// a drop-in must reproduce rather than "protect" the replica.
// -------------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Persistence {
    /// appendonly yes; a plain SHUTDOWN (which fsyncs the AOF; `save ""`, so no RDB).
    Aof,
    /// No AOF; SHUTDOWN SAVE writes the RDB the restart loads.
    Rdb,
}

fn master_restart_keeps_replica(master_imp: Impl, replica_imp: Impl, persistence: Persistence) {
    let (args, shutdown): (&[&str], &[&str]) = match persistence {
        Persistence::Aof => (&["--appendonly", "yes"], &["SHUTDOWN"]),
        Persistence::Rdb => (&[], &["SHUTDOWN", "SAVE"]),
    };
    let master = Node::start("master", master_imp, args);
    preload(&master, 51, PRELOAD / 2);
    let replica = start_replica("replica", replica_imp, &master, &[]);
    Writer::new(&master, 52).run(BURST);
    wait_in_sync(&master, &replica);
    let before = dataset(&master);
    assert!(before.len() >= 2000, "too few keys: {}", before.summary());
    assert_same_dataset(&before, &dataset(&replica));

    master.shutdown(shutdown);
    master.restart();
    assert_same_dataset(&before, &dataset(&master));
    wait_next_resync(&master, &replica, SyncCounts { full: 0, partial_ok: 0 });
    wait_in_sync(&master, &replica);
    assert_same_dataset(&before, &dataset(&replica));

    Writer::new(&master, 53).run(BURST / 2);
    wait_in_sync(&master, &replica);
    assert_nodes_same(&master, &replica);
}

fn master_restart_without_data_empties_replica(master_imp: Impl, replica_imp: Impl) {
    let master = Node::start("master", master_imp, &[]);
    preload(&master, 61, PRELOAD / 4);
    let replica = start_replica("replica", replica_imp, &master, &[]);
    wait_in_sync(&master, &replica);
    let synced = dataset(&replica);
    assert!(synced.len() >= 1000, "too few keys: {}", synced.summary());

    // A crash, and a restart with nothing on disk: a new replication id, so the replica's PSYNC
    // cannot continue; the full resync replaces its dataset with the master's empty one.
    master.kill();
    master.restart();
    assert_eq!(wait_next_resync(&master, &replica, SyncCounts { full: 0, partial_ok: 0 }).full, 1);
    wait_in_sync(&master, &replica);
    let after = dataset(&replica);
    assert!(after.is_empty(), "{} should be empty like its restarted master, has {}", replica.name, after.summary());
    if replica_imp == Ours {
        // Ours says what happened (Redis says nothing).
        let log = replica.log_tail(200);
        assert!(log.contains("the master's dataset is empty"), "{} did not log the wipe:\n{log}", replica.name);
    }
}

#[test]
fn master_restart_with_aof_real_real() {
    master_restart_keeps_replica(Real, Real, Persistence::Aof);
}

#[test]
fn master_restart_with_rdb_real_real() {
    master_restart_keeps_replica(Real, Real, Persistence::Rdb);
}

#[test]
fn master_restart_with_aof_our_master_real_replica() {
    master_restart_keeps_replica(Ours, Real, Persistence::Aof);
}

#[test]
fn master_restart_with_aof_real_master_our_replica() {
    master_restart_keeps_replica(Real, Ours, Persistence::Aof);
}

#[test]
fn master_restart_with_rdb_our_master_our_replica() {
    master_restart_keeps_replica(Ours, Ours, Persistence::Rdb);
}

#[test]
fn master_restart_without_data_real_real() {
    master_restart_without_data_empties_replica(Real, Real);
}

#[test]
fn master_restart_without_data_our_master_real_replica() {
    master_restart_without_data_empties_replica(Ours, Real);
}

#[test]
fn master_restart_without_data_real_master_our_replica() {
    master_restart_without_data_empties_replica(Real, Ours);
}

// -------------------------------------------------------------------------------------------------
// 6: INFO replication field names (in order) and ROLE reply shapes, for a lone master, a master
// with a replica, that replica, and the replica after its master died.
// -------------------------------------------------------------------------------------------------

/// What one implementation shows in each state: INFO replication field names in order (slaveN
/// lines as their inner keys), fixed values, and ROLE shapes.
#[derive(Debug, PartialEq)]
struct Formats {
    lone_master: Vec<String>,
    master: Vec<String>,
    replica: Vec<String>,
    replica_link_down: Vec<String>,
    master_role: String,
    replica_role: String,
    replica_link_down_role: String,
}

fn formats(imp: Impl) -> Formats {
    let master = Node::start("master", imp, &[]);
    let lone_master = field_names(&master);
    let replica = start_replica("replica", imp, &master, &[]);
    assert_eq!(master.call(&["SET", "k", "v"]), Reply::Status("OK".into()));
    // In sync includes "online" in the master's view, the state in which ROLE lists a replica
    // (after a diskless transfer, only once the replica's first REPLCONF ACK came in).
    wait_in_sync(&master, &replica);
    let formats = Formats {
        lone_master,
        master: field_names(&master),
        replica: field_names(&replica),
        replica_link_down: Vec::new(),
        master_role: role_summary(&master),
        replica_role: role_summary(&replica),
        replica_link_down_role: String::new(),
    };
    master.kill();
    wait_info(&replica, "master_link_status", "down");
    Formats { replica_link_down: field_names(&replica), replica_link_down_role: link_down_role(&replica), ..formats }
}

/// ROLE of a replica whose master is gone, between two reconnection attempts: its state is
/// "connect", but "connecting" for the instant of an attempt, which is skipped.
fn link_down_role(replica: &Node) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let summary = role_summary(replica);
        if !summary.ends_with(" connecting") || std::time::Instant::now() > deadline {
            return summary;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// INFO replication's field names in order; a `slaveN:` line contributes "slaveN{k1,k2,...}:state"
/// with its inner keys, and fields whose values are fixed words (role, states) contribute "name=value".
fn field_names(node: &Node) -> Vec<String> {
    let info = node.info("replication");
    info.fields
        .iter()
        .map(|(name, value)| {
            if name.starts_with("slave") && value.contains("ip=") {
                let inner: Vec<&str> = value.split(',').map(|kv| kv.split('=').next().unwrap_or("")).collect();
                let state = value.split(',').find_map(|kv| kv.strip_prefix("state=")).unwrap_or("?");
                format!("{name}{{{}}}:{state}", inner.join(","))
            } else if ["role", "master_link_status", "master_failover_state"].contains(&name.as_str()) {
                format!("{name}={value}")
            } else {
                name.clone()
            }
        })
        .collect()
}

/// ROLE's shape plus its fixed words: the role, and a replica's link state.
fn role_summary(node: &Node) -> String {
    let role = node.call(&["ROLE"]);
    let items = role.array();
    let kind = items[0].text();
    let state = if kind == "slave" { format!(" {}", items[3].text()) } else { String::new() };
    format!("{} {kind}{state}", role.shape())
}

#[test]
fn info_and_role_formats_of_real_redis() {
    // Captured from Debian's redis-server 7.0.15; the names ours must print, in this order.
    let master_tail =
        "master_failover_state=no-failover master_replid master_replid2 master_repl_offset second_repl_offset \
         repl_backlog_active repl_backlog_size repl_backlog_first_byte_offset repl_backlog_histlen";
    let replica_head = "role=slave master_host master_port master_link_status=up master_last_io_seconds_ago \
         master_sync_in_progress slave_read_repl_offset slave_repl_offset";
    let replica_tail = "slave_priority slave_read_only replica_announced connected_slaves";
    let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    let expected = Formats {
        lone_master: words(&format!("role=master connected_slaves {master_tail}")),
        master: words(&format!("role=master connected_slaves slave0{{ip,port,state,offset,lag}}:online {master_tail}")),
        replica: words(&format!("{replica_head} {replica_tail} {master_tail}")),
        replica_link_down: words(&format!(
            "{} master_link_down_since_seconds {replica_tail} {master_tail}",
            replica_head.replace("master_link_status=up", "master_link_status=down")
        )),
        master_role: "[bulk, int, [[bulk, bulk, bulk]]] master".into(),
        replica_role: "[bulk, bulk, int, bulk, int] slave connected".into(),
        replica_link_down_role: "[bulk, bulk, int, bulk, int] slave connect".into(),
    };
    assert_formats_equal(&formats(Real), &expected, "real Redis", "the 7.0.15 reference");
}

#[test]
fn info_and_role_formats_ours_match_real() {
    assert_formats_equal(&formats(Ours), &formats(Real), "ours", "real Redis");
}

fn assert_formats_equal(got: &Formats, want: &Formats, got_name: &str, want_name: &str) {
    let pairs = [
        ("INFO replication of a master without replicas", &got.lone_master, &want.lone_master),
        ("INFO replication of a master with a replica", &got.master, &want.master),
        ("INFO replication of a connected replica", &got.replica, &want.replica),
        ("INFO replication of a replica whose master is down", &got.replica_link_down, &want.replica_link_down),
    ];
    let mut problems = Vec::new();
    for (what, g, w) in pairs {
        if g != w {
            problems.push(format!("{what}:\n  {got_name}: {g:?}\n  {want_name}: {w:?}"));
        }
    }
    for (what, g, w) in [
        ("ROLE of a master", &got.master_role, &want.master_role),
        ("ROLE of a replica", &got.replica_role, &want.replica_role),
        ("ROLE of a replica whose master is down", &got.replica_link_down_role, &want.replica_link_down_role),
    ] {
        if g != w {
            problems.push(format!("{what}:\n  {got_name}: {g}\n  {want_name}: {w}"));
        }
    }
    assert!(problems.is_empty(), "formats differ:\n{}", problems.join("\n"));
}

/// With 7.0's default repl-diskless-sync-delay (5 s) the master sends newlines while the replica
/// waits, even before its +FULLRESYNC: the replica must take them as keepalives.
#[test]
fn full_sync_after_the_default_diskless_delay() {
    for (master_imp, replica_imp) in [(Ours, Ours), (Real, Ours)] {
        let master = Node::start("master", master_imp, &["--repl-diskless-sync-delay", "5"]);
        master.ok(&["SET", "k", "v"]);
        let replica = start_replica("replica", replica_imp, &master, &[]);
        wait_in_sync(&master, &replica);
        assert_nodes_same(&master, &replica);
    }
}
