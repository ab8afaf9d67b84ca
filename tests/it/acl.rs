//! ACL with the `default` user: AUTH user pass, WHOAMI, USERS, CAT, GENPASS, compared with Redis.

use crate::common::*;

#[test]
fn acl_basics_match_redis() {
    let ours = Server::start(&[]);
    let real = Server::start_real(&[]);
    for args in [
        vec!["ACL", "WHOAMI"],
        vec!["ACL", "USERS"],
        vec!["ACL", "CAT"],
        vec!["ACL", "CAT", "nosuch"],
        vec!["ACL", "GENPASS", "0"],
        vec!["ACL", "GENPASS", "abc"],
        vec!["ACL", "GENPASS", "5000"],
        vec!["ACL", "HELP"],
        vec!["ACL"],
        vec!["AUTH", "default", "x"],
        vec!["AUTH", "nobody", "x"],
    ] {
        assert_eq!(ours.client().cmd_str(&args), real.client().cmd_str(&args), "{args:?}");
    }
    let pass = ours.client().cmd_str(&["ACL", "GENPASS", "5"]);
    assert_eq!(pass.len(), "$2\r\nab\r\n".len(), "{pass}");
    let pass = ours.client().cmd_str(&["ACL", "GENPASS"]);
    assert!(pass.starts_with("$64\r\n"), "{pass}");
    // Every command Redis files under @string is in ours too, and nothing more.
    let sorted = |r: Vec<u8>| {
        let mut v = Reply::parse(&r).texts();
        v.sort();
        v
    };
    assert_eq!(
        sorted(ours.client().cmd(&["ACL", "CAT", "string"])),
        sorted(real.client().cmd(&["ACL", "CAT", "string"]))
    );
}

#[test]
fn auth_with_user_and_password() {
    let s = Server::start(&["--requirepass", "secret"]);
    let mut c = s.client();
    assert_eq!(c.cmd_str(&["ACL", "WHOAMI"]), "-NOAUTH Authentication required.\r\n");
    assert_eq!(
        c.cmd_str(&["AUTH", "default", "wrong"]),
        "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
    );
    assert_eq!(c.cmd_str(&["AUTH", "default", "secret"]), "+OK\r\n");
    assert_eq!(c.cmd_str(&["ACL", "WHOAMI"]), "$7\r\ndefault\r\n");
}
