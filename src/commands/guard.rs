//! A command that panics. A bug in one command must take neither its connection nor the server
//! down, and must leave nothing half-recorded: what the command (or the transaction it ran in)
//! had recorded for the replicas and the AOF is dropped, its per-command session state reset,
//! and the command logged at WARNING (arguments redacted as SLOWLOG and MONITOR redact them).

use bytes::Bytes;

use super::{process, slowlog, Ctx};
use crate::protocol::Reply;

/// Runs one command line as `process` does, catching a panic.
pub fn process_caught(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    // While it runs, a crash report names this command as the current client; a panic is
    // caught here, so the crash reporter leaves it to this guard.
    let _current = super::debug::enter_command(ctx, args);
    match crate::crash::guarded(|| process(ctx, args)) {
        Ok(reply) => reply,
        Err(_) => {
            // The propagation unit began when the command (or its EXEC) started: nothing of it
            // may reach the stream, or replicas and the AOF would replay half a command.
            ctx.state.propagation.abandon_unit();
            let s = &mut *ctx.session;
            s.propagate_as = None;
            s.force_propagation = false;
            s.block = None;
            s.postponed = None;
            s.rerun_deadline = None;
            if s.in_exec {
                s.in_exec = false;
                s.multi = None;
                s.multi_error = false;
            }
            tracing::warn!(
                "Internal error (a panic) while executing the command {} for client {}",
                loggable(args),
                s.addr
            );
            Reply::error("ERR internal error while executing the command")
        }
    }
}

/// The command line as MONITOR shows it, secrets redacted, long lines cut.
fn loggable(args: &[Bytes]) -> String {
    let redacted = slowlog::redacted_positions(args);
    let mut line = String::new();
    for (i, a) in args.iter().enumerate().take(32) {
        if i > 0 {
            line.push(' ');
        }
        if redacted.contains(&i) {
            line.push_str("\"(redacted)\"");
        } else {
            line.push_str(&crate::util::splitargs::repr(&a[..a.len().min(128)]));
        }
    }
    if args.len() > 32 {
        line.push_str(&format!(" ... ({} more arguments)", args.len() - 32));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::command::{CommandSpec, FAST, WRITE};
    use crate::server::session::Session;
    use crate::server::{Dispatch, Server};

    /// Records a write for the stream the way a lazily expired key does, then fails half-way.
    fn write_then_panic(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
        let db = ctx.session.db;
        ctx.state.propagation.push(db, vec![Bytes::from_static(b"DEL"), args[1].clone()]);
        panic!("a bug half-way through a command");
    }

    static PANICS: &[CommandSpec] =
        &[crate::cmd!("panicwrite", 2, WRITE | FAST, (1, 1, 1), "generic", "7.0.0", "test", "O(1)", write_then_panic)];
    static TABLE: &[&[CommandSpec]] = &[PANICS, crate::commands::strings::TABLE, crate::commands::transactions::TABLE];

    fn server() -> std::sync::Arc<Server> {
        let dispatch = Dispatch { table: TABLE, ..crate::commands::DISPATCH };
        Server::new(crate::config::Config::default(), dispatch).expect("server")
    }

    fn run(server: &Server, session: &mut Session, line: &[&str]) -> Reply {
        let args: Vec<Bytes> = line.iter().map(|a| Bytes::copy_from_slice(a.as_bytes())).collect();
        let mut st = server.lock();
        let mut ctx = Ctx {
            server,
            state: &mut st,
            session,
            now_ms: crate::util::time::unix_ms(),
            clock: std::time::Instant::now(),
        };
        process_caught(&mut ctx, &args)
    }

    fn stream(server: &Server) -> Vec<String> {
        let st = server.lock();
        st.propagation.ops.iter().map(|op| String::from_utf8_lossy(&op.argv.join(&b' ')).into_owned()).collect()
    }

    #[test]
    fn a_panic_drops_what_the_command_recorded_and_the_server_goes_on() {
        let server = server();
        server.lock().propagation.enabled = true;
        let mut s = Session::new(1, "test".into());
        assert_eq!(run(&server, &mut s, &["SET", "a", "1"]), Reply::OK);
        let reply = run(&server, &mut s, &["PANICWRITE", "a"]);
        assert_eq!(reply, Reply::error("ERR internal error while executing the command"));
        // SET's write stays; the panicking command's DEL is gone.
        assert_eq!(stream(&server), vec!["SET a 1"]);
        assert_eq!(run(&server, &mut s, &["SET", "b", "2"]), Reply::OK);
        assert_eq!(stream(&server), vec!["SET a 1", "SET b 2"]);
    }

    #[test]
    fn a_panic_inside_exec_drops_the_whole_transaction_from_the_stream() {
        let server = server();
        server.lock().propagation.enabled = true;
        let mut s = Session::new(1, "test".into());
        assert_eq!(run(&server, &mut s, &["MULTI"]), Reply::OK);
        assert_eq!(run(&server, &mut s, &["SET", "a", "1"]), Reply::status("QUEUED"));
        assert_eq!(run(&server, &mut s, &["PANICWRITE", "a"]), Reply::status("QUEUED"));
        assert_eq!(run(&server, &mut s, &["SET", "b", "2"]), Reply::status("QUEUED"));
        let reply = run(&server, &mut s, &["EXEC"]);
        assert_eq!(reply, Reply::error("ERR internal error while executing the command"));
        // No MULTI without its EXEC, no half of the transaction: nothing at all.
        assert_eq!(stream(&server), Vec::<String>::new());
        assert!(!s.in_exec && s.multi.is_none());
        // The client is out of the transaction and can run commands again.
        assert_eq!(run(&server, &mut s, &["SET", "c", "3"]), Reply::OK);
        assert_eq!(stream(&server), vec!["SET c 3"]);
    }
}
