//! Differential tests of SORT and SORT_RO against Debian's real Redis 7.0: numeric and ALPHA
//! sorting, DESC, LIMIT, BY (keys and hash fields, constant patterns), GET (#, keys, hash fields),
//! STORE, errors, in RESP2 and RESP3.

use crate::differential_support::*;

fn fill(p: &mut Pair) {
    p.check(&["RPUSH", "nums", "3", "1", "10", "2", "-5", "1.5", "2"]);
    p.check(&["RPUSH", "words", "pear", "apple", "fig", "banana", "Apple", ""]);
    p.check(&["SADD", "iset", "5", "3", "9", "1"]);
    p.check(&["SADD", "wset", "b", "a", "c"]);
    p.check(&["ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb"]);
    for (id, w, name) in [("1", "30", "one"), ("2", "10", "two"), ("3", "20", "three"), ("10", "5", "ten")] {
        p.check(&["SET", &format!("weight_{id}"), w]);
        p.check(&["SET", &format!("name_{id}"), name]);
        p.check(&["HSET", &format!("obj_{id}"), "w", w, "name", name]);
    }
    p.check(&["RPUSH", "ids", "1", "2", "3", "10", "4"]);
}

fn sort_checks(p: &mut Pair) {
    fill(p);
    for args in [
        vec!["SORT", "nums"],
        vec!["SORT", "nums", "DESC"],
        vec!["SORT", "nums", "ASC"],
        vec!["SORT", "nums", "LIMIT", "0", "3"],
        vec!["SORT", "nums", "LIMIT", "2", "100"],
        vec!["SORT", "nums", "LIMIT", "-5", "2"],
        vec!["SORT", "nums", "LIMIT", "1", "-1"],
        vec!["SORT", "nums", "LIMIT", "100", "2"],
        vec!["SORT", "nums", "LIMIT", "0", "0"],
        vec!["SORT", "words"],
        vec!["SORT", "words", "ALPHA"],
        vec!["SORT", "words", "ALPHA", "DESC", "LIMIT", "1", "2"],
        vec!["SORT", "iset"],
        vec!["SORT", "iset", "DESC"],
        vec!["SORT", "wset", "ALPHA"],
        vec!["SORT", "z"],
        vec!["SORT", "z", "ALPHA"],
        vec!["SORT", "z", "BY", "nosort"],
        vec!["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"],
        vec!["SORT", "nums", "BY", "nosort"],
        vec!["SORT", "nums", "BY", "nosort", "DESC"],
        vec!["SORT", "nums", "BY", "nosort", "LIMIT", "2", "3"],
        vec!["SORT", "nums", "BY", "nosort", "DESC", "LIMIT", "2", "3"],
        vec!["SORT", "iset", "BY", "nosort"],
        vec!["SORT", "ids", "BY", "weight_*"],
        vec!["SORT", "ids", "BY", "weight_*", "DESC"],
        vec!["SORT", "ids", "BY", "weight_*", "LIMIT", "1", "2"],
        vec!["SORT", "ids", "BY", "name_*", "ALPHA"],
        vec!["SORT", "ids", "BY", "obj_*->w"],
        vec!["SORT", "ids", "BY", "obj_*->name", "ALPHA", "DESC"],
        vec!["SORT", "ids", "BY", "obj_*->"],
        vec!["SORT", "ids", "GET", "#"],
        vec!["SORT", "ids", "GET", "name_*"],
        vec!["SORT", "ids", "GET", "#", "GET", "name_*", "GET", "obj_*->w", "GET", "missing_*"],
        vec!["SORT", "ids", "BY", "weight_*", "GET", "obj_*->name", "GET", "#"],
        vec!["SORT", "ids", "GET", "nostar"],
        vec!["SORT", "ids", "GET", "obj_*->nofield"],
        vec!["SORT", "ids", "GET", "nums*"],
        vec!["SORT", "missing"],
        vec!["SORT", "missing", "GET", "#", "LIMIT", "0", "10"],
        vec!["SORT_RO", "nums"],
        vec!["SORT_RO", "ids", "BY", "weight_*", "GET", "name_*"],
    ] {
        p.check(&args);
    }
    // Errors, in the order Redis checks them.
    for args in [
        vec!["SORT", "words"],
        vec!["SORT", "nums", "LIMIT", "x", "1"],
        vec!["SORT", "nums", "LIMIT", "0"],
        vec!["SORT", "nums", "BOGUS"],
        vec!["SORT", "nums", "STORE"],
        vec!["SORT_RO", "nums", "STORE", "dst"],
        vec!["SORT", "weight_1"],
        vec!["SORT", "weight_1", "BOGUS"],
        vec!["SORT", "obj_1"],
        vec!["SORT", "ids", "BY", "name_*"],
    ] {
        p.check(&args);
    }
}

#[test]
fn sort_and_sort_ro_resp2() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    sort_checks(&mut p);
}

#[test]
fn sort_and_sort_ro_resp3() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check_with(&["HELLO", "3"], |_| Vec::new());
    sort_checks(&mut p);
}

#[test]
fn sort_store() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    fill(&mut p);
    p.check(&["SORT", "nums", "STORE", "out"]);
    p.check(&["LRANGE", "out", "0", "-1"]);
    p.check(&["OBJECT", "ENCODING", "out"]);
    p.check(&["SORT", "wset", "STORE", "out"]);
    p.check(&["LRANGE", "out", "0", "-1"]);
    // A set stored without sorting is sorted ALPHA anyway, so the result does not depend on order.
    p.check(&["SORT", "wset", "BY", "nosort", "STORE", "out"]);
    p.check(&["LRANGE", "out", "0", "-1"]);
    p.check(&["SORT", "ids", "BY", "weight_*", "GET", "name_*", "GET", "missing_*", "STORE", "out"]);
    p.check(&["LRANGE", "out", "0", "-1"]);
    p.check(&["SET", "str", "x"]);
    p.check(&["EXPIRE", "str", "100"]);
    p.check(&["SORT", "nums", "LIMIT", "0", "2", "STORE", "str"]);
    p.check(&["TYPE", "str"]);
    p.check(&["TTL", "str"]);
    p.check(&["SORT", "missing", "STORE", "out"]);
    p.check(&["EXISTS", "out"]);
    p.check(&["SORT", "missing", "STORE", "out"]);
    p.check(&["SORT", "nums", "STORE", "a", "STORE", "b"]);
    p.check(&["EXISTS", "a", "b"]);
    p.check(&["SORT", "words", "STORE", "w"]);
    p.check(&["EXISTS", "w"]);
    p.check(&["WATCH", "watched"]);
    p.check(&["SORT", "nums", "STORE", "watched"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["EXEC"]);
    p.check(&["COMMAND", "GETKEYS", "SORT", "k", "LIMIT", "0", "1", "STORE", "d", "GET", "x"]);
    p.check(&["COMMAND", "GETKEYS", "SORT_RO", "k", "BY", "x"]);
    p.check(&["COMMAND", "INFO", "SORT", "SORT_RO"]);
}
