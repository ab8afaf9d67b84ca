//! A busy script's side of `server::busy`: the commands other clients handed over run here,
//! inside the script's hook, with the lock the script holds (Redis's processEventsWhileBlocked).
//! Dispatch answers -BUSY to all but the commands Redis allows meanwhile.

use crate::commands::{process, Ctx};
use crate::protocol::Reply;
use crate::server::busy::{BusyDone, BusyJob};

/// Runs the commands handed over since the last look and sends their replies back.
pub fn serve_waiting(ctx: &mut Ctx) {
    for job in ctx.server.busy.take_jobs() {
        match job {
            BusyJob::Command { mut session, args, done } => {
                let reply = {
                    let mut jctx = Ctx {
                        server: ctx.server,
                        state: &mut *ctx.state,
                        session: &mut session,
                        now_ms: crate::util::time::unix_ms(),
                        clock: std::time::Instant::now(),
                    };
                    process(&mut jctx, &args)
                };
                let _ = done.send(BusyDone { session, args, reply: Some(reply) });
            }
            BusyJob::Task(task) => task(ctx.state),
        }
    }
}

/// The script has ended: what was handed over and not taken runs as usual.
pub fn end(ctx: &mut Ctx) {
    for job in ctx.server.busy.end() {
        match job {
            BusyJob::Command { session, args, done } => {
                let _ = done.send(BusyDone { session, args, reply: None });
            }
            BusyJob::Task(task) => task(ctx.state),
        }
    }
}

/// The -BUSY reply for a command refused while a script runs (shared.slowevalerr and
/// shared.slowscripterr).
pub fn busy_error(eval: bool) -> Reply {
    Reply::error(if eval {
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
    } else {
        "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
    })
}
