//! FUNCTION DUMP and FUNCTION RESTORE (functionDumpCommand, functionRestoreCommand): the
//! libraries as a payload of RDB records, and back.

use bytes::Bytes;

use crate::commands::{subcommand_syntax_error, Ctx};
use crate::persistence::rdb;
use crate::protocol::Reply;
use crate::server::scripts::Libraries;

/// FUNCTION DUMP: every library's code as the RDB file holds it, with the RDB version and a
/// checksum.
pub fn function_dump(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let compression = ctx.state.config.bool(crate::ckey!("rdbcompression"));
    let codes = ctx.state.scripts.libraries.libraries.values().map(|lib| &lib.code[..]);
    match rdb::functions_payload(codes, compression) {
        Ok(payload) => Reply::Bulk(payload),
        Err(e) => Reply::error(format!("ERR {e}")),
    }
}

/// How a restore treats the libraries there are.
#[derive(Clone, Copy, PartialEq)]
enum Policy {
    /// The restored libraries join the current ones; a library name already there aborts.
    Append,
    /// As APPEND, but a restored library replaces the current one of its name.
    Replace,
    /// The restored libraries are all there is afterwards.
    Flush,
}

/// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: the payload's libraries are compiled into a
/// set of their own, which then joins the current libraries, or replaces them, or nothing
/// changes.
pub fn function_restore(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() > 4 {
        return subcommand_syntax_error(args);
    }
    let policy = match args.get(3).map(|p| p.to_ascii_lowercase()) {
        None => Policy::Append,
        Some(p) if p == b"append" => Policy::Append,
        Some(p) if p == b"replace" => Policy::Replace,
        Some(p) if p == b"flush" => Policy::Flush,
        Some(_) => {
            return Reply::error("ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.")
        }
    };
    let payload = &args[2];
    if rdb::verify_payload(payload, ctx.state.skip_checksum_validation).is_none() {
        return Reply::error("ERR DUMP payload version or checksum are wrong");
    }
    let scripts = &mut ctx.state.scripts;
    let mut set = Libraries::default();
    for record in rdb::FunctionRecords::new(payload) {
        let loaded = match record {
            Ok(code) => scripts.load_into(&mut set, &Bytes::from(code), false).map(drop),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = loaded {
            scripts.free_set(set);
            return Reply::error(format!("ERR {e}"));
        }
    }
    let joined = match policy {
        Policy::Flush => {
            scripts.flush_functions();
            scripts.join(set, false)
        }
        Policy::Append | Policy::Replace => scripts.join(set, policy == Policy::Replace),
    };
    if let Err(e) = joined {
        return Reply::error(format!("ERR {e}"));
    }
    ctx.dirty(1);
    Reply::OK
}
