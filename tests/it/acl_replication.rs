//! Replication as an ACL user (`masteruser` + `masterauth`): a replica authenticates as a user
//! that has only the permissions Redis documents for it (+psync +replconf +ping), ours with a
//! real master and a real replica with ours; wrong credentials and missing permissions are
//! reported in the replica's log and INFO as Redis reports them.

use crate::replication_support::*;

const REPL_USER: &[&str] = &["ACL", "SETUSER", "repl", "on", ">repl-pw", "+psync", "+replconf", "+ping"];

/// A master whose default user has a password (so only the user can replicate) and the
/// replication user.
fn master(imp: Impl) -> Node {
    let master = Node::start("master", imp, &["--requirepass", "admin-pw"]);
    master.ok(REPL_USER);
    master
}

fn replica_as(imp: Impl, master: &Node, user: &str, password: &str) -> Node {
    start_replica("replica", imp, master, &["--masteruser", user, "--masterauth", password])
}

#[test]
fn a_replica_syncs_as_a_user_with_only_the_replication_permissions() {
    for (master_imp, replica_imp) in [(Impl::Real, Impl::Ours), (Impl::Ours, Impl::Real), (Impl::Ours, Impl::Ours)] {
        let what = format!("{} master, {} replica", master_imp.label(), replica_imp.label());
        let master = master(master_imp);
        master.ok(&["SET", "before", "1"]);
        let replica = replica_as(replica_imp, &master, "repl", "repl-pw");
        wait_in_sync(&master, &replica);
        master.ok(&["SET", "after", "2"]);
        wait_in_sync(&master, &replica);
        assert_eq!(replica.call(&["MGET", "before", "after"]).texts(), ["1", "2"], "{what}");
        // The master sees its replica as the user.
        let clients = master.call(&["CLIENT", "LIST", "TYPE", "replica"]).text();
        assert!(clients.contains("user=repl ") && clients.contains("flags=S"), "{what}: {clients}");
    }
}

/// The lines a replica logs for its failed attempts, as Redis 7.0.15's replica logs them.
fn wait_logged(replica: &Node, line: &str, what: &str) {
    crate::common::wait_for_or(
        &format!("{what}: the replica to log {line:?}"),
        SYNC_DEADLINE,
        || replica.logged(line),
        || replica.log_tail(20),
    );
}

#[test]
fn wrong_credentials_and_missing_permissions_are_reported_as_redis_reports_them() {
    for (master_imp, replica_imp) in
        [(Impl::Real, Impl::Real), (Impl::Real, Impl::Ours), (Impl::Ours, Impl::Real), (Impl::Ours, Impl::Ours)]
    {
        let what = format!("{} master, {} replica", master_imp.label(), replica_imp.label());
        let master = master(master_imp);
        master.ok(&["ACL", "SETUSER", "no-psync", "on", ">pw", "+replconf", "+ping"]);

        let replica = replica_as(replica_imp, &master, "repl", "wrong");
        wait_logged(
            &replica,
            "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled.",
            &what,
        );
        assert_eq!(replica.info("replication").get("master_link_status"), Some("down"), "{what}");
        drop(replica);

        let replica = replica_as(replica_imp, &master, "no-psync", "pw");
        for line in [
            "Unexpected reply to PSYNC from master: -NOPERM this user has no permissions to run the 'psync' command",
            "Retrying with SYNC...",
            "MASTER aborted replication with an error: NOPERM this user has no permissions to run the 'sync' command",
        ] {
            wait_logged(&replica, line, &what);
        }
        assert_eq!(replica.info("replication").get("master_link_status"), Some("down"), "{what}");
        // The master's ACL LOG has the refusals.
        let log = master.call(&["ACL", "LOG"]).to_string();
        assert!(log.contains("no-psync") && log.contains("\"sync\"") && log.contains("\"psync\""), "{what}: {log}");
    }
}
