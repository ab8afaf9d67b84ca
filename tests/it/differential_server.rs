//! Differential tests against Debian's real Redis 7.0: connection commands, CLIENT, unknown
//! commands and arity errors, and requirepass. Replies are compared byte for byte.

use crate::common::{encode, Client};
use crate::common::{show_bytes, Reply};
use crate::differential_support::*;

#[test]
fn ping_echo_select_auth_without_password() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["PING"]);
    p.check(&["ping", "hello world"]);
    p.check(&["PING", ""]);
    p.check(&["PING", "a", "b"]);
    p.check(&["ECHO", "x\r\ny"]);
    p.check(&["ECHO", ""]);
    p.check(&["ECHO"]);
    p.check(&["ECHO", "a", "b"]);
    for db in ["0", "15", "16", "-1", "abc", "1.5", "99999999999", "", " 1", "0x1"] {
        p.check(&["SELECT", db]);
    }
    p.check(&["SELECT"]);
    p.check(&["SELECT", "1", "2"]);
    p.check(&["AUTH", "foo"]);
    p.check(&["AUTH", "default", "anything"]);
    p.check(&["AUTH", "nobody", "anything"]);
    p.check(&["AUTH", "a", "b", "c"]);
    p.check(&["AUTH"]);
    p.check(&["RESET", "extra"]);
    // QUIT takes (and ignores) any arguments, answers +OK and closes.
    p.check(&["QUIT", "extra"]);
    assert!(p.ours.closed() && p.real.closed());
}

#[test]
fn hello_variants() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let hello = |b: &[u8]| mask_field(b, "id");
    p.check(&["HELLO", "4"]);
    p.check(&["HELLO", "1"]);
    p.check(&["HELLO", "abc"]);
    p.check(&["HELLO", "-1"]);
    p.check(&["HELLO", "3.0"]);
    p.check(&["HELLO", "2", "FOO"]);
    p.check(&["HELLO", "2", "AUTH", "default"]);
    p.check(&["HELLO", "2", "SETNAME"]);
    p.check(&["HELLO", "2", "SETNAME", "a b"]);
    p.check(&["HELLO", "2", "AUTH", "default", "wrong", "SETNAME", "a b"]);
    p.check(&["HELLO", "2", "AUTH", "nobody", "wrong"]);
    p.check_with(&["HELLO"], hello);
    p.check_with(&["HELLO", "2"], hello);
    p.check_with(&["HELLO", "2", "AUTH", "default", "whatever", "SETNAME", "conn-1"], hello);
    p.check(&["CLIENT", "GETNAME"]);
    p.check_with(&["HELLO", "3"], hello);
    p.check(&["PING"]);
    p.check(&["CLIENT", "GETNAME"]);
    p.check(&["HELLO", "4"]);
    p.check_with(&["hello", "3", "setname", ""], hello);
    p.check(&["CLIENT", "GETNAME"]);
    p.check(&["ECHO", "resp3"]);
    p.check(&["NOSUCHCOMMAND"]);
    p.check_with(&["HELLO", "2"], hello);
    p.check_with(&["HELLO"], hello);
}

#[test]
fn reset_restores_connection_defaults() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["CLIENT", "SETNAME", "before-reset"]);
    p.check(&["SELECT", "3"]);
    p.check(&["MULTI"]);
    p.check(&["PING"]);
    p.check(&["RESET"]);
    p.check(&["EXEC"]);
    p.check(&["CLIENT", "GETNAME"]);
    p.check_with(&["HELLO", "3"], |b| mask_field(b, "id"));
    p.check(&["SUBSCRIBE", "ch"]);
    p.check(&["RESET"]);
    // Back to RESP2, not subscribed, db 0.
    p.check(&["PING"]);
    p.check(&["CLIENT", "INFO", "x"]);
    let db = |c: &mut Client| {
        let info = String::from_utf8_lossy(&c.cmd(&["CLIENT", "INFO"])).into_owned();
        info.split(' ').find(|f| f.starts_with("db=") || f.starts_with("resp=")).map(str::to_string)
    };
    let (o, r) = (db(&mut p.ours), db(&mut p.real));
    p.compare("CLIENT INFO db= after RESET", o.unwrap_or_default().as_bytes(), r.unwrap_or_default().as_bytes());
}

#[test]
fn client_subcommands_and_errors() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check_with(&["CLIENT", "ID"], mask_ints);
    let id = String::from_utf8(p.ours.cmd(&["CLIENT", "ID"])).unwrap();
    assert!(id.starts_with(':') && id[1..].trim_end().parse::<u64>().is_ok(), "{id}");
    p.check(&["CLIENT", "ID", "extra"]);
    p.check(&["CLIENT", "GETNAME"]);
    p.check(&["CLIENT", "SETNAME", "my name"]);
    p.check(&["CLIENT", "SETNAME", "a\nb"]);
    p.check(&["CLIENT", "SETNAME", "caf\u{e9}"]);
    p.check(&["CLIENT", "SETNAME", "good-name"]);
    p.check(&["CLIENT", "GETNAME"]);
    p.check(&["CLIENT", "SETNAME", ""]);
    p.check(&["CLIENT", "GETNAME"]);
    p.check(&["CLIENT", "SETNAME"]);
    p.check(&["CLIENT", "SETNAME", "a", "b"]);
    p.check(&["CLIENT", "GETNAME", "x"]);
    // KILL, old form and new form.
    p.check(&["CLIENT", "KILL", "1.2.3.4:5"]);
    p.check(&["CLIENT", "KILL", "nonsense"]);
    p.check(&["CLIENT", "KILL", "ADDR", "1.2.3.4:5"]);
    p.check(&["CLIENT", "KILL", "LADDR", "1.2.3.4:5"]);
    p.check(&["CLIENT", "KILL", "ID", "abc"]);
    p.check(&["CLIENT", "KILL", "ID", "0"]);
    p.check(&["CLIENT", "KILL", "ID", "-5"]);
    p.check(&["CLIENT", "KILL", "ID", "999999"]);
    p.check(&["CLIENT", "KILL", "ID", "999999", "SKIPME"]);
    p.check(&["CLIENT", "KILL", "TYPE", "foo"]);
    p.check(&["CLIENT", "KILL", "TYPE", "master"]);
    p.check(&["CLIENT", "KILL", "TYPE", "replica"]);
    p.check(&["CLIENT", "KILL", "TYPE", "slave"]);
    p.check(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    p.check(&["CLIENT", "KILL", "USER", "nobody"]);
    p.check(&["CLIENT", "KILL", "SKIPME", "maybe"]);
    p.check(&["CLIENT", "KILL", "SKIPME", "yes"]);
    p.check(&["CLIENT", "KILL", "MAXAGE", "10"]);
    p.check(&["CLIENT", "KILL", "FOO", "bar"]);
    p.check(&["CLIENT", "KILL", "ID", "1", "FOO"]);
    p.check(&["CLIENT", "KILL"]);
    // LIST errors and filters.
    p.check(&["CLIENT", "LIST", "TYPE", "foo"]);
    p.check(&["CLIENT", "LIST", "TYPE"]);
    p.check(&["CLIENT", "LIST", "TYPE", "normal", "extra"]);
    p.check(&["CLIENT", "LIST", "TYPE", "pubsub"]);
    p.check(&["CLIENT", "LIST", "TYPE", "master"]);
    p.check(&["CLIENT", "LIST", "ID", "abc"]);
    p.check(&["CLIENT", "LIST", "ID", "0"]);
    p.check(&["CLIENT", "LIST", "ID", "-3", "999999"]);
    p.check(&["CLIENT", "LIST", "ID"]);
    p.check(&["CLIENT", "LIST", "foo"]);
    p.check(&["CLIENT", "INFO", "extra"]);
    // PAUSE errors (valid pauses are not compared: they stop the servers).
    p.check(&["CLIENT", "PAUSE", "abc"]);
    p.check(&["CLIENT", "PAUSE", "-1"]);
    p.check(&["CLIENT", "PAUSE", "1.5"]);
    p.check(&["CLIENT", "PAUSE", "10", "foo"]);
    p.check(&["CLIENT", "PAUSE", "abc", "foo"]);
    p.check(&["CLIENT", "PAUSE", "10", "all", "extra"]);
    p.check(&["CLIENT", "PAUSE"]);
    p.check(&["CLIENT", "UNPAUSE"]);
    p.check(&["CLIENT", "UNPAUSE", "x"]);
    // REPLY and NO-EVICT errors.
    p.check(&["CLIENT", "REPLY", "maybe"]);
    p.check(&["CLIENT", "REPLY"]);
    p.check(&["CLIENT", "NO-EVICT", "maybe"]);
    p.check(&["CLIENT", "NO-EVICT", "on"]);
    p.check(&["CLIENT", "NO-EVICT", "OFF"]);
    // Subcommands and help.
    p.check(&["CLIENT"]);
    p.check(&["CLIENT", "FOO"]);
    p.check(&["CLIENT", "foo", "bar"]);
    // Our help also documents NO-TOUCH (a Redis 7.2 subcommand we carry); the rest is identical.
    p.check_with(&["CLIENT", "HELP"], |b| {
        let text = String::from_utf8_lossy(b)
            .replace("+NO-TOUCH (ON|OFF)\r\n+    Will not touch LRU/LFU stats when this mode is on.\r\n", "")
            .replace("*50\r\n", "*48\r\n");
        text.into_bytes()
    });
    p.check(&["client", "help", "extra"]);
    assert_eq!(p.ours.cmd(&["CLIENT", "NO-TOUCH", "on"]), b"+OK\r\n");
    assert!(String::from_utf8_lossy(&p.ours.cmd(&["CLIENT", "INFO"])).contains(" flags=T "));
    assert_eq!(p.ours.cmd(&["CLIENT", "NO-TOUCH", "maybe"]), b"-ERR syntax error\r\n");
    assert_eq!(p.ours.cmd(&["CLIENT", "NO-TOUCH", "off"]), b"+OK\r\n");
    p.check(&["CLIENT", "GETREDIR"]);
    p.check(&["CLIENT", "UNBLOCK", "999999"]);
    p.check(&["CLIENT", "UNBLOCK", "abc"]);
    p.check(&["CLIENT", "UNBLOCK", "999999", "error"]);
    p.check(&["CLIENT", "UNBLOCK", "999999", "foo"]);
    p.check(&["CLIENT", "CACHING", "yes"]);
    p.check(&["CLIENT", "TRACKINGINFO"]);
}

#[test]
fn client_reply_off_on_skip() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    // OFF: nothing until ON, whose +OK is the next bytes on the wire.
    p.send_cmds(&[
        &["CLIENT", "REPLY", "OFF"][..],
        &["PING"],
        &["ECHO", "hidden"],
        &["CLIENT", "REPLY", "ON"],
        &["ECHO", "shown"],
    ]);
    p.check_read("reply to CLIENT REPLY ON after OFF");
    p.check_read("ECHO after CLIENT REPLY ON");
    // SKIP: the next command's reply only.
    p.send_cmds(&[&["CLIENT", "REPLY", "SKIP"][..], &["ECHO", "skipped"], &["ECHO", "after-skip"]]);
    p.check_read("ECHO after the skipped one");
    // SKIP then SKIP again, and SKIP then OFF.
    p.send_cmds(&[
        &["CLIENT", "REPLY", "SKIP"][..],
        &["CLIENT", "REPLY", "SKIP"],
        &["ECHO", "a"],
        &["ECHO", "b"],
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "OFF"],
        &["ECHO", "c"],
        &["CLIENT", "REPLY", "ON"],
        &["CLIENT", "REPLY", "SKIP"],
        &["CLIENT", "REPLY", "ON"],
        &["ECHO", "d"],
    ]);
    p.check_read("reply after nested SKIPs (1)");
    p.check_read("reply after nested SKIPs (2)");
    p.check_read("reply after nested SKIPs (3)");
    p.check_read("reply after nested SKIPs (4)");
    p.check(&["ECHO", "end"]);
    // A syntax error while skipped stays silent; QUIT while OFF closes without a reply.
    p.send_cmds(&[&["CLIENT", "REPLY", "SKIP"], &["CLIENT", "REPLY", "bogus"], &["ECHO", "e"]]);
    p.check_read("ECHO after a skipped syntax error");
    // QUIT while OFF sends nothing. Redis 7.0 then leaves the connection open (nothing is ever
    // written, so its close-after-reply never fires); we close it.
    p.ours.send_raw(&encode(&[b"CLIENT", b"REPLY", b"OFF"]));
    p.ours.send_raw(&encode(&[b"QUIT"]));
    let got = p.ours.try_read_reply();
    assert!(got.is_err(), "QUIT while CLIENT REPLY OFF answered {:?}", got.map(|b| show_bytes(&b, usize::MAX)));
}

#[test]
fn unknown_commands_and_subcommands() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    p.check(&["NOSUCH"]);
    p.check(&["nosuch", "a", "b c", ""]);
    let long = "x".repeat(200);
    p.check(&["NOSUCH", &long, "y"]);
    p.check(&[&long]);
    let many: Vec<String> = (0..40).map(|i| format!("arg{i}")).collect();
    let mut args = vec!["NOSUCH"];
    args.extend(many.iter().map(String::as_str));
    p.check(&args);
    p.check(&["", "a"]);
    for c in ["OBJECT", "CLIENT", "PUBSUB", "CONFIG", "COMMAND", "MEMORY", "SLOWLOG", "LATENCY"] {
        p.check(&[c, "nosuchsub"]);
        p.check(&[c, "NoSuchSub", "arg"]);
    }
    // DEBUG refused (the default enable-debug-command no) before its subcommand is looked at; the
    // pair's `check` would take this refusal for a forgotten option.
    for args in [&["DEBUG", "nosuchsub"][..], &["DEBUG", "NoSuchSub", "arg"]] {
        let (o, r) = (p.ours.cmd(args), p.real.cmd(args));
        assert!(r.starts_with(b"-ERR DEBUG command not allowed"), "{}", show_bytes(&r, usize::MAX));
        p.compare(&format!("{args:?}"), &o, &r);
    }
    p.check(&["OBJECT"]);
    p.check(&["PUBSUB"]);
    p.check(&["CLIENT"]);
    p.check(&["CONFIG"]);
}

#[test]
fn wrong_arity_errors() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for c in [
        "GET",
        "SET",
        "DEL",
        "UNLINK",
        "EXISTS",
        "TYPE",
        "KEYS",
        "SCAN",
        "RANDOMKEY x",
        "RENAME",
        "RENAME a",
        "RENAMENX",
        "MOVE",
        "MOVE a",
        "COPY a",
        "TOUCH",
        "EXPIRE a",
        "PEXPIRE",
        "EXPIREAT a",
        "PEXPIREAT",
        "EXPIRETIME",
        "PEXPIRETIME a b",
        "TTL",
        "TTL a b",
        "PTTL",
        "PERSIST",
        "PERSIST a b",
        "OBJECT ENCODING",
        "OBJECT ENCODING a b",
        "OBJECT FREQ",
        "OBJECT IDLETIME",
        "OBJECT REFCOUNT",
        "OBJECT HELP x",
        "SELECT",
        "SWAPDB 1",
        "FLUSHDB a b",
        "FLUSHALL a b",
        "DBSIZE x",
        "MULTI x",
        "EXEC x",
        "DISCARD x",
        "WATCH",
        "UNWATCH x",
        "SUBSCRIBE",
        "PSUBSCRIBE",
        "PUBLISH",
        "PUBLISH a",
        "PUBLISH a b c",
        "PUBSUB NUMPAT x",
        "PUBSUB HELP x",
        "ECHO",
        "HELLO 3 AUTH",
        "CLIENT SETNAME",
        "CLIENT KILL",
        "CLIENT REPLY",
        "CLIENT ID x",
        "INCR",
        "MGET",
        "MSET a",
        "APPEND a",
        "STRLEN",
    ] {
        let args: Vec<&str> = c.split(' ').collect();
        p.check(&args);
    }
}

#[test]
fn requirepass_behaviour() {
    // The harness's readiness check is an unauthenticated PING, so the password is set once up.
    let duo = Duo::start(&[]);
    duo.pair().check(&["CONFIG", "SET", "requirepass", "secret"]);
    let mut p = duo.pair();
    p.check(&["PING"]);
    p.check(&["GET", "x"]);
    p.check(&["NOSUCH", "x"]);
    p.check(&["GET"]);
    p.check(&["CLIENT", "ID"]);
    p.check(&["SELECT", "1"]);
    p.check(&["MULTI"]);
    p.check(&["EXEC"]);
    p.check(&["HELLO"]);
    p.check(&["HELLO", "3"]);
    p.check(&["HELLO", "3", "AUTH", "default", "wrong"]);
    p.check(&["HELLO", "3", "AUTH", "nobody", "secret"]);
    p.check(&["AUTH", "wrong"]);
    p.check(&["AUTH", "default", "wrong"]);
    p.check(&["AUTH", "nobody", "secret"]);
    p.check(&["AUTH", "a", "b", "c"]);
    p.check(&["RESET"]);
    p.check(&["PING"]);
    // Authenticated with the password alone, and with user and password.
    p.check(&["AUTH", "secret"]);
    p.check(&["PING"]);
    p.check(&["GET", "x"]);
    p.check(&["RESET"]);
    p.check(&["PING"]);
    p.check(&["AUTH", "default", "secret"]);
    p.check(&["ECHO", "in"]);
    // A failed AUTH does not log an authenticated client out (Redis keeps the old user).
    p.check(&["AUTH", "wrong"]);
    p.check(&["ECHO", "still in"]);

    // HELLO 3 AUTH authenticates and switches protocol in one step.
    let mut q = duo.pair();
    q.check_with(&["HELLO", "3", "AUTH", "default", "secret"], |b| mask_field(b, "id"));
    q.check(&["GET", "x"]);
    q.check_with(&["HELLO", "2", "AUTH", "default", "secret", "SETNAME", "n1"], |b| mask_field(b, "id"));
    q.check(&["CLIENT", "GETNAME"]);

    // MULTI queued before AUTH: the NOAUTH error flags the transaction.
    let mut r = duo.pair();
    r.check(&["MULTI"]);
    r.check(&["AUTH", "secret"]);
    r.check(&["MULTI"]);
    r.check(&["PING"]);
    r.check(&["EXEC"]);

    // In RESP3 (after HELLO AUTH) the NOAUTH error and the pushes look the same; an unauthenticated
    // subscriber is refused.
    let mut s = duo.pair();
    s.check(&["SUBSCRIBE", "ch"]);
    s.check(&["PUBLISH", "ch", "m"]);
    s.check(&["CLIENT", "SETNAME", "x"]);
}

/// Masks the CLIENT LIST/INFO fields whose values depend on the process (ids, addresses, fds, ages,
/// buffer sizes); the field names, their order and every other value must match.
fn client_fields(b: &[u8]) -> Vec<u8> {
    const MASKED: &[&str] = &[
        "id",
        "addr",
        "laddr",
        "fd",
        "age",
        "idle",
        "qbuf",
        "qbuf-free",
        "argv-mem",
        "multi-mem",
        "rbs",
        "rbp",
        "obl",
        "oll",
        "omem",
        "tot-mem",
    ];
    // RESP3 sends a verbatim string (`txt:` and the text), RESP2 a bulk string.
    let text = match Reply::parse(b) {
        Reply::Bulk(t) | Reply::Verbatim(_, t) => String::from_utf8_lossy(&t).into_owned(),
        _ => return b.to_vec(),
    };
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| {
            line.split(' ')
                .map(|f| match f.split_once('=') {
                    Some((k, _)) if MASKED.contains(&k) => format!("{k}=*"),
                    _ => f.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    lines.sort();
    lines.join("\n").into_bytes()
}

#[test]
fn client_list_and_info_fields() {
    let duo = Duo::start(&[]);
    let mut a = duo.pair_named("a");
    let mut b = duo.pair_named("b");
    let id_of = |c: &mut Client| String::from_utf8(c.cmd(&["CLIENT", "ID"])).unwrap()[1..].trim().to_string();
    let (ida, idb) = (id_of(&mut a.ours), id_of(&mut a.real));
    let list_a = |b: &mut Pair, what: &str| {
        let (o, r) = (b.ours.cmd(&["CLIENT", "LIST", "ID", &ida]), b.real.cmd(&["CLIENT", "LIST", "ID", &idb]));
        let (o, r) = (client_fields(&o), client_fields(&r));
        b.compare(&format!("CLIENT LIST ID <a> {what}"), &o, &r);
    };
    a.check_with(&["CLIENT", "INFO"], client_fields);
    a.check_with(&["CLIENT", "LIST"], client_fields);
    a.check(&["CLIENT", "SETNAME", "conn-a"]);
    a.check(&["SELECT", "5"]);
    a.check_with(&["CLIENT", "INFO"], client_fields);
    a.check(&["CLIENT", "NO-EVICT", "on"]);
    a.check_with(&["CLIENT", "INFO"], client_fields);
    a.check(&["CLIENT", "NO-EVICT", "off"]);
    list_a(&mut b, "after SETNAME/SELECT");
    a.check(&["WATCH", "w"]);
    list_a(&mut b, "watching");
    b.check(&["SELECT", "5"]);
    b.check(&["SET", "w", "x"]);
    list_a(&mut b, "watching a modified key");
    a.check(&["MULTI"]);
    a.check(&["PING"]);
    a.check(&["ECHO", "x"]);
    list_a(&mut b, "in MULTI with 2 queued");
    a.check(&["EXEC"]);
    a.check(&["NOSUCHCOMMAND"]);
    list_a(&mut b, "after an unknown command");
    a.check(&["GET"]);
    list_a(&mut b, "after a wrong-arity command");
    a.check_n(&["SUBSCRIBE", "c1", "c2"], 2);
    a.check_n(&["PSUBSCRIBE", "p*"], 1);
    list_a(&mut b, "subscribed");
    b.check_with(&["CLIENT", "LIST", "TYPE", "pubsub"], client_fields);
    b.check_with(&["CLIENT", "LIST", "TYPE", "normal"], client_fields);
    a.check(&["RESET"]);
    a.check_with(&["HELLO", "3"], |r| mask_field(r, "id"));
    a.check_with(&["CLIENT", "INFO"], client_fields);
    a.check(&["MONITOR"]);
    list_a(&mut b, "monitoring");
    b.check_with(&["CLIENT", "LIST", "TYPE", "replica"], client_fields);
    b.check_with(&["CLIENT", "LIST", "TYPE", "normal"], client_fields);
}

#[test]
fn client_kill_closes_connections() {
    let duo = Duo::start(&[]);
    let mut killer = duo.pair_named("killer");
    let addr_of = |c: &mut Client| {
        let info = String::from_utf8_lossy(&c.cmd(&["CLIENT", "INFO"])).into_owned();
        info.split(' ').find_map(|f| f.strip_prefix("addr=")).unwrap().to_string()
    };
    // Old form: by address, answers +OK.
    let mut v = duo.pair_named("victim 1");
    let (ao, ar) = (addr_of(&mut v.ours), addr_of(&mut v.real));
    let (o, r) = (killer.ours.cmd(&["CLIENT", "KILL", &ao]), killer.real.cmd(&["CLIENT", "KILL", &ar]));
    killer.compare("CLIENT KILL <addr>", &o, &r);
    assert!(v.ours.closed() && v.real.closed());
    let (o, r) = (killer.ours.cmd(&["CLIENT", "KILL", &ao]), killer.real.cmd(&["CLIENT", "KILL", &ar]));
    killer.compare("CLIENT KILL <addr> again", &o, &r);
    // New form: by address, counts.
    let mut v = duo.pair_named("victim 2");
    let (ao, ar) = (addr_of(&mut v.ours), addr_of(&mut v.real));
    let (o, r) = (killer.ours.cmd(&["CLIENT", "KILL", "ADDR", &ao]), killer.real.cmd(&["CLIENT", "KILL", "ADDR", &ar]));
    killer.compare("CLIENT KILL ADDR <addr>", &o, &r);
    assert!(v.ours.closed() && v.real.closed());
    // By type, then the killed client is gone from CLIENT LIST at once.
    let mut v = duo.pair_named("victim 3");
    v.check_n(&["SUBSCRIBE", "ch"], 1);
    killer.check(&["CLIENT", "KILL", "TYPE", "pubsub"]);
    killer.check(&["PUBSUB", "NUMSUB", "ch"]);
    killer.check_with(&["CLIENT", "LIST"], client_fields);
    assert!(v.ours.closed() && v.real.closed());
    // Killing oneself: SKIPME yes by default, then SKIPME no closes after the reply.
    let mut me = duo.pair_named("self");
    let (ao, ar) = (addr_of(&mut me.ours), addr_of(&mut me.real));
    let (o, r) = (me.ours.cmd(&["CLIENT", "KILL", "ADDR", &ao]), me.real.cmd(&["CLIENT", "KILL", "ADDR", &ar]));
    me.compare("CLIENT KILL ADDR <own addr>", &o, &r);
    let (o, r) = (
        me.ours.cmd(&["CLIENT", "KILL", "ADDR", &ao, "SKIPME", "no"]),
        me.real.cmd(&["CLIENT", "KILL", "ADDR", &ar, "SKIPME", "no"]),
    );
    me.compare("CLIENT KILL ADDR <own addr> SKIPME no", &o, &r);
    assert!(me.ours.closed() && me.real.closed());
    let mut me = duo.pair_named("self, old form");
    let (ao, ar) = (addr_of(&mut me.ours), addr_of(&mut me.real));
    let (o, r) = (me.ours.cmd(&["CLIENT", "KILL", &ao]), me.real.cmd(&["CLIENT", "KILL", &ar]));
    me.compare("CLIENT KILL <own addr>", &o, &r);
    assert!(me.ours.closed() && me.real.closed());
    killer.check(&["CLIENT", "KILL", "USER", "default"]);
    killer.check_with(&["CLIENT", "LIST"], client_fields);
}

/// Left out of the comparison: CLIENT TRACKING (not implemented here) and CLIENT NO-TOUCH (Redis 7.2,
/// which this project carries on purpose; checked on our side in client_subcommands_and_errors).
const NOT_IMPLEMENTED: &[&[u8]] = &[b"client|tracking", b"client|no-touch"];

fn implemented(name: &Reply) -> bool {
    !matches!(name, Reply::Bulk(n) if NOT_IMPLEMENTED.contains(&n.as_slice()))
}

/// COMMAND INFO in full, with the subcommands both servers have sorted by name (Redis lists them in
/// hash order).
fn info_core(b: &[u8]) -> Vec<u8> {
    fn core(v: &Reply) -> Reply {
        let Reply::Array(items) = v else { return v.clone() };
        let mut out = items.clone();
        if let Some(Reply::Array(subs)) = items.get(9) {
            let mut subs: Vec<Reply> =
                subs.iter().filter(|s| matches!(s, Reply::Array(f) if implemented(&f[0]))).map(core).collect();
            subs.sort();
            out[9] = Reply::Array(subs);
        }
        Reply::Array(out)
    }
    let Reply::Array(items) = Reply::parse(b) else { return b.to_vec() };
    Reply::Array(items.iter().map(core).collect()).encode()
}

/// The pairs of a RESP3 map or of RESP2's flat key/value array.
fn pairs_of(v: &Reply) -> Option<Vec<(Reply, Reply)>> {
    match v {
        Reply::Map(kv) => Some(kv.clone()),
        Reply::Array(items) if items.len() % 2 == 0 => {
            Some(items.chunks(2).map(|p| (p[0].clone(), p[1].clone())).collect())
        }
        _ => None,
    }
}

/// `pairs` in the form `like` has: a map, or a flat array.
fn pairs_like(like: &Reply, pairs: Vec<(Reply, Reply)>) -> Reply {
    match like {
        Reply::Map(_) => Reply::Map(pairs),
        _ => Reply::Array(pairs.into_iter().flat_map(|(k, v)| [k, v]).collect()),
    }
}

/// COMMAND DOCS in full, with the subcommands both servers have sorted by name.
fn docs_core(b: &[u8]) -> Vec<u8> {
    fn core(v: &Reply) -> Reply {
        let Some(fields) = pairs_of(v) else { return v.clone() };
        let fields = fields
            .into_iter()
            .map(|(k, val)| match pairs_of(&val) {
                Some(subs) if k == Reply::bulk_of("subcommands") => {
                    let mut subs: Vec<(Reply, Reply)> =
                        subs.into_iter().filter(|(n, _)| implemented(n)).map(|(n, d)| (n, core(&d))).collect();
                    subs.sort();
                    (k, pairs_like(&val, subs))
                }
                _ => (k, val),
            })
            .collect();
        pairs_like(v, fields)
    }
    let parsed = Reply::parse(b);
    let Some(entries) = pairs_of(&parsed) else { return b.to_vec() };
    pairs_like(&parsed, entries.into_iter().map(|(name, doc)| (name, core(&doc))).collect()).encode()
}

#[test]
fn command_info_and_docs_of_keyspace_connection_pubsub_commands() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    for c in [
        "del",
        "unlink",
        "exists",
        "type",
        "keys",
        "scan",
        "randomkey",
        "rename",
        "renamenx",
        "touch",
        "move",
        "copy",
        "expire",
        "pexpire",
        "expireat",
        "pexpireat",
        "expiretime",
        "pexpiretime",
        "ttl",
        "pttl",
        "persist",
        "object",
        "ping",
        "echo",
        "quit",
        "reset",
        "select",
        "auth",
        "hello",
        "multi",
        "exec",
        "discard",
        "watch",
        "unwatch",
        "subscribe",
        "unsubscribe",
        "psubscribe",
        "punsubscribe",
        "publish",
        "pubsub",
        "client",
    ] {
        for resp in ["2", "3"] {
            p.both(&["HELLO", resp]);
            p.check_with(&["COMMAND", "INFO", c], info_core);
            p.check_with(&["COMMAND", "DOCS", c], docs_core);
        }
    }
}

/// COMMAND GETKEYS and GETKEYSANDFLAGS find the keys and their access flags through Redis's key
/// specs, for every kind of spec (index, keyword, range, keynum) and for commands that fall back
/// to their own key finder (SORT).
#[test]
fn command_getkeys_and_flags_follow_the_key_specs() {
    let duo = Duo::start(&[]);
    let mut p = duo.pair();
    let lines: &[&[&str]] = &[
        &["GET", "k"],
        &["SET", "k", "v"],
        &["SET", "k", "v", "GET"],
        &["SET", "k", "v", "EX", "10", "get"],
        &["BITFIELD", "k", "GET", "u8", "0"],
        &["BITFIELD", "k", "GET", "u8", "0", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1"],
        &["BITFIELD", "k", "BOGUS"],
        &["BITFIELD_RO", "k", "GET", "u8", "0"],
        &["MSET", "a", "1", "b", "2"],
        &["DEL", "a", "b", "c"],
        &["RENAME", "a", "b"],
        &["COPY", "a", "b", "DB", "1"],
        &["LMOVE", "a", "b", "LEFT", "RIGHT"],
        &["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"],
        &["BLPOP", "a", "b", "0"],
        &["LMPOP", "2", "a", "b", "LEFT"],
        &["BLMPOP", "0", "2", "a", "b", "LEFT"],
        &["SINTERCARD", "2", "a", "b"],
        &["SINTERSTORE", "d", "a", "b"],
        &["SMOVE", "a", "b", "m"],
        &["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"],
        &["ZUNION", "2", "a", "b"],
        &["ZRANGESTORE", "d", "s", "0", "-1"],
        &["ZMPOP", "1", "z", "MIN"],
        &["BZPOPMIN", "a", "b", "0"],
        &["SORT", "k", "BY", "x", "STORE", "d"],
        &["SORT", "k"],
        &["SORT_RO", "k", "GET", "x"],
        &["BITOP", "AND", "d", "a", "b"],
        &["LCS", "a", "b"],
        &["OBJECT", "ENCODING", "k"],
        &["MEMORY", "USAGE", "k"],
        &["EXPIRE", "k", "10"],
        &["HSET", "h", "f", "v"],
        &["GETEX", "k", "PERSIST"],
        &["ZUNION", "0", "a"],
        &["PING"],
    ];
    for line in lines {
        let mut getkeys = vec!["COMMAND", "GETKEYS"];
        getkeys.extend_from_slice(line);
        p.check(&getkeys);
        let mut withflags = vec!["COMMAND", "GETKEYSANDFLAGS"];
        withflags.extend_from_slice(line);
        p.check(&withflags);
    }
}

/// DEBUG OBJECT's serializedlength is the value's size in an RDB file, for every type and
/// encoding (the rest of the line holds addresses and clocks, which differ).
#[test]
fn debug_object_serialized_length() {
    let duo = Duo::start(&["--enable-debug-command", "yes"]);
    let mut p = duo.pair();
    let big: Vec<String> = (0..600).map(|i| format!("member:{i}")).collect();
    let long = "abcdefghij".repeat(30);
    let mut setup: Vec<Vec<String>> = vec![
        vec!["SET".into(), "int".into(), "1234567".into()],
        vec!["SET".into(), "str".into(), "hello".into()],
        vec!["SET".into(), "long".into(), long.clone()],
        vec!["RPUSH".into(), "list".into(), "a".into(), "1".into(), long.clone()],
        vec!["HSET".into(), "hash".into(), "f".into(), "v".into()],
        vec!["SADD".into(), "intset".into(), "1".into(), "70000".into()],
        vec!["SADD".into(), "set".into(), "x".into()],
        vec!["ZADD".into(), "zset".into(), "1.5".into(), "a".into()],
    ];
    let mut bighash = vec!["HSET".to_string(), "bighash".into()];
    let mut bigset = vec!["SADD".to_string(), "bigset".into()];
    let mut bigzset = vec!["ZADD".to_string(), "bigzset".into()];
    for (i, m) in big.iter().enumerate() {
        bighash.extend([m.clone(), "v".into()]);
        bigset.push(m.clone());
        bigzset.extend([i.to_string(), m.clone()]);
    }
    setup.extend([bighash, bigset, bigzset]);
    for cmd in &setup {
        let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
        p.check(&args);
    }
    let field = |b: &[u8]| -> Vec<u8> {
        let s = String::from_utf8_lossy(b);
        let f = s.split(' ').find(|w| w.starts_with("serializedlength:"));
        f.unwrap_or_else(|| panic!("no serializedlength in {s}")).as_bytes().to_vec()
    };
    for key in ["int", "str", "long", "list", "hash", "intset", "set", "zset", "bighash", "bigset", "bigzset"] {
        p.check_with(&["DEBUG", "OBJECT", key], field);
    }
}

/// MODULE as Redis answers it when no module loads: refused unless enable-module-command allows
/// it, then HELP, an empty LIST, LOAD and LOADEX failing with Redis's one error, UNLOAD finding
/// nothing, and the argument errors.
#[test]
fn module_command_as_a_redis_that_loads_no_module() {
    let refused = Duo::start(&[]);
    let mut p = refused.pair();
    for args in [&["MODULE", "LOADEX", "/x.so"][..], &["MODULE", "LOAD", "/nonexistent.so"], &["MODULE", "UNLOAD", "x"]]
    {
        let (o, r) = (p.ours.cmd(args), p.real.cmd(args));
        assert!(r.starts_with(b"-ERR MODULE command not allowed"), "{}", show_bytes(&r, usize::MAX));
        p.compare(&format!("{args:?}"), &o, &r);
    }
    p.check(&["MODULE", "HELP"]);
    p.check(&["MODULE", "LIST"]);
    p.check(&["MODULE"]);
    p.check(&["MODULE", "nosuch"]);
    p.assert_clean();

    let allowed = Duo::start(&["--enable-module-command", "yes"]);
    allowed.in_both_protocols(|p| {
        check_all(
            p,
            &[
                &["MODULE", "HELP"],
                &["MODULE", "LIST"],
                &["MODULE", "LOAD", "/nonexistent/module.so"],
                &["MODULE", "LOAD", "/nonexistent/module.so", "arg1", "arg2"],
                &["MODULE", "LOADEX", "/nonexistent/module.so", "CONFIG", "name", "value", "ARGS", "a"],
                &["MODULE", "LOAD"],
                &["MODULE", "UNLOAD", "nosuch"],
                &["MODULE", "UNLOAD"],
                &["MODULE", "UNLOAD", "a", "b"],
                &["MODULE", "LIST", "extra"],
            ],
        );
    });
}
