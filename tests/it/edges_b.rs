//! Differential tests against Debian's real Redis 7.0 for edges of issue 19: CONFIG SET of several
//! parameters at once (checks, order, rollback), CONFIG GET and hidden configs, and the
//! redaction of secrets in MONITOR and SLOWLOG.

use std::net::TcpListener;

use crate::common::wait_for;
use crate::differential_support::*;

/// CONFIG GET answers in Redis's hash order: compared as a set of name/value pairs (in RESP3,
/// where the reply is a map, the pairs stay whole).
fn check_config_get(p: &mut Pair, args: &[&str]) {
    p.check_sorted(args);
}

#[test]
fn config_set_checks_every_name_before_any_value() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                // An odd count of arguments is a syntax error once the arity (-4) is met.
                &["CONFIG", "SET", "maxmemory", "1", "hz"],
                &["CONFIG", "SET", "maxmemory"],
                // Names first: the unknown one is reported although an earlier value is bad.
                &["CONFIG", "SET", "maxmemory", "x", "nosuch", "1"],
                &["CONFIG", "SET", "nosuch", "1", "daemonize", "yes"],
                &["CONFIG", "SET", "daemonize", "yes", "nosuch", "1"],
                // Errors about the name quote it as typed.
                &["CONFIG", "SET", "Daemonize", "yes"],
                &["CONFIG", "SET", "maxmemory", "3gb", "MAXMEMORY", "4gb"],
                &["CONFIG", "SET", "DIR", "/tmp"],
                &["CONFIG", "SET", "SLAVEOF", "no one"],
                // Errors about the value name the directive as Redis spells it.
                &["CONFIG", "SET", "MAXMEMORY", "x"],
                &["CONFIG", "SET", "HASH-MAX-ZIPLIST-ENTRIES", "x"],
                &["CONFIG", "SET", "hash-max-listpack-entries", "1kb"],
                &["CONFIG", "SET", "set-max-intset-entries", "1kb"],
                &["CONFIG", "SET", "zset-max-listpack-entries", "1kb"],
                &["CONFIG", "SET", "tracking-table-max-keys", "1kb"],
                &["CONFIG", "SET", "hash-max-listpack-value", "1kb"],
                &["CONFIG", "GET", "hash-max-listpack-value"],
                &["CONFIG", "SET", "hash-max-listpack-value", "64"],
                // memtoull refuses a sign: a memory config is never negative.
                &["CONFIG", "SET", "maxmemory", "-1"],
                &["CONFIG", "SET", "maxmemory", "-1mb"],
                &["CONFIG", "SET", "maxmemory", "-0"],
                &["CONFIG", "SET", "proto-max-bulk-len", "-1"],
                &["CONFIG", "SET", "client-output-buffer-limit", "normal -1 0 0"],
                &["CONFIG", "GET", "maxmemory"],
                // maxmemory-clients also takes a percentage.
                &["CONFIG", "SET", "maxmemory-clients", "50%"],
                &["CONFIG", "GET", "maxmemory-clients"],
                &["CONFIG", "SET", "maxmemory-clients", "101%"],
                &["CONFIG", "SET", "maxmemory-clients", "-1%"],
                &["CONFIG", "SET", "maxmemory-clients", "%"],
                &["CONFIG", "SET", "maxmemory-clients", "-1"],
                &["CONFIG", "SET", "maxmemory-clients", "1mb"],
                &["CONFIG", "GET", "maxmemory-clients"],
                &["CONFIG", "SET", "maxmemory-clients", "0"],
            ],
        );
    });
}

#[test]
fn config_set_of_several_parameters_is_all_or_nothing() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        check_all(
            p,
            &[
                &["CONFIG", "SET", "maxmemory", "1gb", "maxmemory-policy", "allkeys-lru", "hz", "20"],
                &["CONFIG", "GET", "maxmemory"],
                &["CONFIG", "GET", "maxmemory-policy"],
                &["CONFIG", "GET", "hz"],
                // A bad value later in the list: nothing changes.
                &["CONFIG", "SET", "maxmemory", "2gb", "hz", "30", "maxmemory-policy", "nosuch"],
                &["CONFIG", "GET", "maxmemory"],
                &["CONFIG", "GET", "hz"],
                &["CONFIG", "GET", "maxmemory-policy"],
                // A name and its alias are two entries: not duplicates, the later wins.
                &["CONFIG", "SET", "hash-max-listpack-entries", "10", "hash-max-ziplist-entries", "20"],
                &["CONFIG", "GET", "hash-max-listpack-entries"],
                &["CONFIG", "SET", "hash-max-ziplist-entries", "30", "hash-max-listpack-entries", "x"],
                &["CONFIG", "GET", "hash-max-listpack-entries"],
                &["CONFIG", "SET", "hash-max-listpack-entries", "512"],
                // Values accumulate in order within one call.
                &["CONFIG", "SET", "client-output-buffer-limit", "normal 1mb 2mb 3", "maxmemory", "5mb"],
                &["CONFIG", "GET", "client-output-buffer-limit"],
                &["CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2 3", "maxmemory", "bad"],
                &["CONFIG", "GET", "client-output-buffer-limit"],
                &["CONFIG", "GET", "maxmemory"],
                &["CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0 pubsub 32mb 8mb 60", "maxmemory", "0"],
                &["CONFIG", "SET", "maxmemory-policy", "noeviction", "hz", "10"],
            ],
        );
    });
}

/// A change that cannot take effect (the port is taken) restores every value of the call and the
/// listener, with Redis's error text and log line.
#[test]
fn config_set_rolls_back_when_a_change_cannot_take_effect() {
    let duo = Duo::start(&[]);
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port to take");
    let port = taken.local_addr().expect("local addr").port().to_string();
    let mut p = duo.pair();
    check_all(
        &mut p,
        &[
            &["CONFIG", "SET", "maxmemory", "7mb", "port", &port, "hz", "33"],
            &["CONFIG", "GET", "maxmemory"],
            &["CONFIG", "GET", "hz"],
            // bind named first: its apply step runs first and names it.
            &["CONFIG", "SET", "bind", "127.0.0.1 -::1", "port", &port, "maxmemory", "8mb"],
            &["CONFIG", "GET", "bind"],
            &["CONFIG", "GET", "maxmemory"],
        ],
    );
    // Naming its current port with a bad bind: only the bind changed, so only it is applied and
    // named (each server is given its own port).
    let set = |port: u16| ["CONFIG", "SET", "port", &port.to_string(), "bind", "192.0.2.1"].map(String::from);
    let (o, r) = (set(duo.ours.port), set(duo.real.port));
    let (o, r) = (p.ours.cmd(&o.each_ref().map(String::as_str)), p.real.cmd(&r.each_ref().map(String::as_str)));
    p.compare("CONFIG SET port <its own> bind 192.0.2.1", &o, &r);
    p.check(&["CONFIG", "GET", "bind"]);
    p.assert_clean();
    drop(p);
    for (who, server) in [("ours", &duo.ours), ("real", &duo.real)] {
        let mut c = server.client();
        assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n", "{who} still listens on its port after the rollback");
        wait_for(&format!("{who} logs the rollback"), std::time::Duration::from_secs(10), || {
            server.log_text().contains(
                "Failed applying new configuration. Possibly related to new port setting. Restoring previous settings.",
            )
        });
    }
}

#[test]
fn config_get_hides_hidden_configs_from_patterns() {
    let duo = Duo::start(&[]);
    duo.in_both_protocols(|p| {
        for args in [
            &["CONFIG", "GET", "key-load-delay"][..],
            &["CONFIG", "GET", "KEY-LOAD-DELAY"],
            &["CONFIG", "GET", "*load-delay*"],
            &["CONFIG", "GET", "rdb-key-save-delay"],
            &["CONFIG", "GET", "*key-save*"],
            &["CONFIG", "GET", "watchdog-period"],
            &["CONFIG", "GET", "watchdog*"],
            &["CONFIG", "GET", "use-exit-on-panic"],
            &["CONFIG", "GET", "use-exit*"],
            // A name is answered as asked, once however often it is asked.
            &["CONFIG", "GET", "MAXMEMORY"],
            &["CONFIG", "GET", "maxmemory", "MAXMEMORY", "max*"],
            &["CONFIG", "GET", "max*", "MAXMEMORY"],
            &["CONFIG", "GET", "hash-max-*-entries"],
            &["CONFIG", "GET", "HASH-MAX-ZIPLIST-ENTRIES", "hash-max-listpack-entries"],
            &["CONFIG", "GET", "nosuch"],
            &["CONFIG", "GET", "slave*", "replica*"],
        ] {
            check_config_get(p, args);
        }
        check_all(
            p,
            &[
                &["CONFIG", "SET", "key-load-delay", "5"],
                &["CONFIG", "GET", "key-load-delay"],
                &["CONFIG", "SET", "key-load-delay", "0"],
                &["CONFIG", "SET", "use-exit-on-panic", "yes"],
                &["CONFIG", "GET", "use-exit-on-panic"],
                &["CONFIG", "SET", "use-exit-on-panic", "no"],
            ],
        );
    });
}
