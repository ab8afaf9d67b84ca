//! ldbReplParseCommand: the debugger reads the client's RESP itself, with its own forgiving
//! parser, limits and single error text, and Redis works on the buffer as a C string (an
//! argument never spans a NUL byte), so this port walks the bytes the same way.

use crate::util::numbers::c_atoll;

/// Redis caps both the argument count and each argument's length at this.
const MAX_ARGS_AND_LEN: i32 = 1024;

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    Command(Vec<Vec<u8>>),
    /// The buffer holds the start of a command (or nothing): read more.
    NeedMore,
    /// "protocol error": the script is aborted with it.
    ProtocolError,
}

/// `atoi` on the text from `from` to `to`: what C reads after the '\r' was overwritten by NUL.
fn atoi(buf: &[u8], from: usize, to: usize) -> i32 {
    // (int)strtol: the saturated long cut to 32 bits, as x86-64 converts it.
    c_atoll(&buf[from..to]) as i32
}

/// strstr / strchr within the C string starting at `from` (`pat` has no NUL): the scan stops
/// at the first match or NUL, never walking the rest of a large buffer.
fn c_find(buf: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    let mut i = from;
    while i + pat.len() <= buf.len() {
        if buf[i..].starts_with(pat) {
            return Some(i);
        }
        if buf[i] == 0 {
            return None;
        }
        i += 1;
    }
    None
}

/// Parses one command from the start of `cbuf` as Redis 7.0.15 does.
pub(crate) fn parse_command(cbuf: &[u8]) -> Parsed {
    if cbuf.is_empty() {
        return Parsed::NeedMore;
    }
    // "Seek and parse *<count>\r\n": whatever precedes the first '*' is skipped.
    let Some(star) = c_find(cbuf, 0, b"*") else { return Parsed::ProtocolError };
    let Some(crlf) = c_find(cbuf, star, b"\r\n") else { return Parsed::NeedMore };
    let argc = atoi(cbuf, star + 1, crlf);
    if argc <= 0 || argc > MAX_ARGS_AND_LEN {
        return Parsed::ProtocolError;
    }
    let mut p = crlf + 2;
    let mut argv = Vec::with_capacity(argc as usize);
    while argv.len() < argc as usize {
        // At the end of the C string: more data is needed.
        match cbuf.get(p) {
            None | Some(0) => return Parsed::NeedMore,
            Some(b'$') => {}
            Some(_) => return Parsed::ProtocolError,
        }
        let Some(crlf) = c_find(cbuf, p, b"\r\n") else { return Parsed::NeedMore };
        let len = atoi(cbuf, p + 1, crlf);
        p = crlf + 2;
        if len <= 0 || len > MAX_ARGS_AND_LEN {
            return Parsed::ProtocolError;
        }
        let len = len as usize;
        if p + len + 2 > cbuf.len() {
            return Parsed::NeedMore;
        }
        argv.push(cbuf[p..p + len].to_vec());
        p += len;
        if &cbuf[p..p + 2] != b"\r\n" {
            return Parsed::ProtocolError;
        }
        p += 2;
    }
    Parsed::Command(argv)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Parsed {
        Parsed::Command(args.iter().map(|a| a.as_bytes().to_vec()).collect())
    }

    #[test]
    fn commands_and_partial_input() {
        assert_eq!(parse_command(b""), Parsed::NeedMore);
        assert_eq!(parse_command(b"*1\r\n$1\r\ns\r\n"), cmd(&["s"]));
        assert_eq!(parse_command(b"*2\r\n$1\r\np\r\n$4\r\nKEYS\r\n"), cmd(&["p", "KEYS"]));
        // Garbage before the '*' is skipped, a second command after the first ignored.
        assert_eq!(parse_command(b"xx*1\r\n$1\r\nc\r\n*1\r\n$1\r\ns\r\n"), cmd(&["c"]));
        for partial in [&b"*"[..], b"*1", b"*1\r\n", b"*1\r\n$1", b"*1\r\n$1\r\n", b"*1\r\n$1\r\ns", b"*1\r\n$1\r\ns\r"]
        {
            assert_eq!(parse_command(partial), Parsed::NeedMore, "{partial:?}");
        }
        // A NUL where an argument should start reads as the end of the data.
        assert_eq!(parse_command(b"*1\r\n\0$1\r\ns\r\n"), Parsed::NeedMore);
        // Arguments are binary: a NUL inside one is kept.
        assert_eq!(parse_command(b"*1\r\n$3\r\na\0b\r\n"), Parsed::Command(vec![b"a\0b".to_vec()]));
    }

    #[test]
    fn protocol_errors() {
        for bad in [
            &b"PING\r\n"[..],
            b"*0\r\n",
            b"*-1\r\n",
            b"*1025\r\n",
            b"*1\r\n$0\r\n\r\n",
            b"*1\r\n$1025\r\n",
            b"*1\r\n+s\r\n",
            b"*1\r\n$1\r\nsx\r\n",
            b"\0*1\r\n$1\r\ns\r\n",
        ] {
            assert_eq!(parse_command(bad), Parsed::ProtocolError, "{bad:?}");
        }
        assert_eq!(parse_command(b"*1024\r\n"), Parsed::NeedMore);
    }
}
