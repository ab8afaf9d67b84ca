// Shared by the targets that need a server (included with `include!`): one built in-process from
// config text, with no sockets, cron or disk, as the command families' unit-test harness builds it.

/// `save ""`: FLUSHALL and SHUTDOWN would write an RDB with save points configured.
const SERVER_CONFIG: &str = "save \"\"\nappendonly no\nproto-max-bulk-len 1mb\nlatency-tracking no\n";

fn new_server() -> std::sync::Arc<redis_rs::server::Server> {
    let Ok(config) = redis_rs::config::Config::validate(SERVER_CONFIG) else { panic!("the fuzzer's config is refused") };
    let server = match redis_rs::server::Server::new(config, redis_rs::commands::DISPATCH) {
        Ok(s) => s,
        Err(e) => panic!("Server::new: {e}"),
    };
    redis_rs::commands::refresh_config(&mut server.lock());
    server
}
