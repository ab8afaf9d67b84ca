//! The permission check of a command line against a user's selectors (ACLSelectorCheckCmd and
//! ACLCheckAllUserCommandPerm): commands, first arguments, keys with their access, channels.

use bytes::Bytes;

use super::{Selector, User, READ, WRITE};

/// What a check refused, with the argument position of the key or channel. Ordered as Redis's
/// ACL_DENIED_* values, which decide the error reported when every selector refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Command,
    Key(usize),
    Channel(usize),
}

impl Denied {
    fn rank(self) -> (u8, usize) {
        match self {
            Denied::Command => (1, 0),
            Denied::Key(i) => (2, i),
            Denied::Channel(i) => (4, i),
        }
    }
}

/// A command line to check.
pub struct Request<'a> {
    /// The catalog id of the command (FUTURE_BIT for one the catalog lacks).
    pub cmd: usize,
    /// no-auth commands (AUTH, HELLO, QUIT, RESET) need no command permission.
    pub no_auth: bool,
    pub args: &'a [Bytes],
    /// Where the first argument is: 2 for a subcommand, else 1.
    pub first_arg_at: usize,
    /// doesCommandHaveKeys.
    pub has_keys: bool,
    /// The channels it publishes or subscribes to: position and whether it is a pattern
    /// (PSUBSCRIBE's, matched literally).
    pub channels: &'a [(usize, bool)],
}

/// The keys of the command line and the access each needs (READ, WRITE, both or neither),
/// computed once and only when a selector restricts keys.
pub type KeysFn<'a> = &'a mut dyn FnMut() -> Vec<(usize, u8)>;

fn key_allowed(s: &Selector, key: &[u8], access: u8) -> bool {
    s.all_keys
        || s.patterns
            .iter()
            .any(|p| p.flags & access == access && crate::util::glob::string_match(&p.pattern, key, false))
}

fn channel_allowed(list: &[Vec<u8>], channel: &[u8], is_pattern: bool) -> bool {
    list.iter().any(|p| if is_pattern { p == channel } else { crate::util::glob::string_match(p, channel, false) })
}

fn check_selector(
    s: &Selector,
    req: &Request,
    keys: &mut Option<Vec<(usize, u8)>>,
    find_keys: KeysFn,
) -> Result<(), Denied> {
    if !s.all_commands && !req.no_auth && !s.bit(req.cmd) {
        let arg = req.args.get(req.first_arg_at).filter(|_| req.args.len() >= 2);
        let allowed = match (arg, s.first_args.get(&req.cmd)) {
            (Some(arg), Some(list)) => list.iter().any(|a| a.eq_ignore_ascii_case(arg)),
            _ => false,
        };
        if !allowed {
            return Err(Denied::Command);
        }
    }
    if !s.all_keys && req.has_keys {
        let found = keys.get_or_insert_with(&mut *find_keys);
        for &(pos, access) in found.iter() {
            if !key_allowed(s, &req.args[pos], access) {
                return Err(Denied::Key(pos));
            }
        }
    }
    if !s.all_channels {
        for &(pos, is_pattern) in req.channels {
            if !channel_allowed(&s.channels, &req.args[pos], is_pattern) {
                return Err(Denied::Channel(pos));
            }
        }
    }
    Ok(())
}

impl User {
    /// Whether any selector allows the command line; if none does, the refusal Redis reports:
    /// a command refusal unless some selector got further, then the last key or channel.
    pub fn check(&self, req: &Request, find_keys: KeysFn) -> Result<(), Denied> {
        let mut keys = None;
        let mut relevant = Denied::Command;
        for s in &self.selectors {
            match check_selector(s, req, &mut keys, find_keys) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    let (r, i) = d.rank();
                    let (br, bi) = relevant.rank();
                    if r > br || (r == br && i > bi) {
                        relevant = d;
                    }
                }
            }
        }
        Err(relevant)
    }

    /// Whether the user may use this channel (ACLUserCheckChannelPerm).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors.iter().any(|s| s.all_channels || channel_allowed(&s.channels, channel, is_pattern))
    }

    /// Whether the user may access this key as `access` says (ACLUserCheckKeyPerm).
    pub fn key_allowed(&self, key: &[u8], access: u8) -> bool {
        self.selectors.iter().any(|s| key_allowed(s, key, access))
    }

    /// Whether every selector allows all channels: nothing to check for pub/sub.
    pub fn all_channels(&self) -> bool {
        self.selectors.iter().any(|s| s.all_channels)
    }

    /// The user may run anything: the check can be skipped (the default user's usual case).
    pub fn unrestricted(&self) -> bool {
        let r = &self.selectors[0];
        r.all_commands && r.all_keys && r.all_channels
    }
}

/// The access a key spec's flags ask for (ACLSelectorCheckKey): ACCESS reads, INSERT, DELETE
/// and UPDATE write.
pub fn access_of(flags: &[String]) -> u8 {
    let mut access = 0;
    for f in flags {
        match f.as_str() {
            "access" => access |= READ,
            "insert" | "delete" | "update" => access |= WRITE,
            _ => {}
        }
    }
    access
}
