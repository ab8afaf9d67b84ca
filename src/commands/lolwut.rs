//! LOLWUT [VERSION v] [...] (lolwut.c): computer art and the server's version. A 7.0 server
//! answers its version alone; VERSION 5 draws Georg Nees's Schotter, VERSION 6 a skyline, each
//! with its own optional arguments. Both draw with C's rand() (seeded from the time and pid in
//! Redis), so only what does not depend on it is reproducible: the canvas sizes, Schotter's first
//! two rows of squares (all of it with at most two rows), a one-row skyline.

mod canvas;
mod schotter;
mod skyline;

use bytes::Bytes;

use super::{int_arg, Ctx};
use crate::protocol::Reply;
use crate::server::command::{CommandSpec, FAST, READONLY};

pub static TABLE: &[CommandSpec] = &[crate::cmd!(
    "lolwut",
    -1,
    READONLY | FAST,
    (0, 0, 0),
    "server",
    "5.0.0",
    "Display some computer art and the Redis version",
    "",
    lolwut
)];

/// C's rand(): a number in 0..=RAND_MAX.
fn c_rand() -> i32 {
    fastrand::i32(0..=i32::MAX)
}

fn lolwut(_ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let mut rest = &args[1..];
    let mut version = crate::REDIS_VERSION.to_string();
    if args.len() >= 3 && args[1].eq_ignore_ascii_case(b"version") {
        let v = tri!(int_arg(&args[2]));
        // `%u` of the number cast to unsigned int, as Redis prints it.
        version = format!("{}.0.0", v as u32);
        rest = &args[3..];
    }
    let v = version.as_bytes();
    let text = if (v[0] == b'5' && v[1] == b'.' && v[2] != b'9') || v.starts_with(b"4.9") {
        tri!(schotter::render(rest))
    } else if (v[0] == b'6' && v[1] == b'.' && v[2] != b'9') || v.starts_with(b"5.9") {
        tri!(skyline::render(rest))
    } else {
        String::new()
    };
    let signed = format!("{text}Redis ver. {}\n", crate::REDIS_VERSION);
    Reply::Verbatim("txt", signed.into_bytes())
}

/// The optional numeric arguments: each read if present, as getLongFromObjectOrReply does.
fn numbers<const N: usize>(args: &[Bytes], defaults: [i64; N]) -> Result<[i64; N], Reply> {
    let mut out = defaults;
    for (slot, arg) in out.iter_mut().zip(args) {
        *slot = int_arg(arg)?;
    }
    Ok(out)
}
