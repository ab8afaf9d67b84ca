//! A user and its selectors, the rules that change them (ACLSetUser, ACLSetSelector) and their
//! description in rule form (ACLDescribeUser), exactly as Redis 7.0 words and orders them.

use hashbrown::HashMap;

use super::{category_bit, has_spaces, Env, ALL, CATEGORIES, COMMAND_BITS, FUTURE_BIT, READ, WRITE};

/// Why a rule was refused (the errno of ACLSetUser), with Redis's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT
    UnknownCommand,
    /// EINVAL
    Syntax,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    SubcommandFirstArg,
    /// EALREADY
    Duplicate,
}

impl RuleError {
    /// ACLSetUserStringError.
    pub fn message(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
            RuleError::Duplicate => "Duplicate user found. A user can only be defined once in config files",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    /// READ, WRITE or both.
    pub flags: u8,
    pub pattern: Vec<u8>,
}

/// A set of permissions: the user's root one, or one of its "(...)" selectors.
#[derive(Clone, Debug)]
pub struct Selector {
    pub root: bool,
    pub all_keys: bool,
    pub all_channels: bool,
    pub all_commands: bool,
    pub bits: [u64; COMMAND_BITS / 64],
    /// Allowed first arguments of commands otherwise denied (`+select|0`), by command id.
    pub first_args: HashMap<usize, Vec<Vec<u8>>>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

impl Selector {
    /// No permissions, but the channels acl-pubsub-default gives (ACLCreateSelector).
    pub fn new(root: bool, env: Env) -> Selector {
        Selector {
            root,
            all_keys: false,
            all_channels: env.all_channels,
            all_commands: false,
            bits: [0; COMMAND_BITS / 64],
            first_args: HashMap::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    pub fn bit(&self, id: usize) -> bool {
        id < COMMAND_BITS && self.bits[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if id >= COMMAND_BITS {
            return;
        }
        if on {
            self.bits[id / 64] |= 1 << (id % 64);
        } else {
            self.bits[id / 64] &= !(1 << (id % 64));
            self.all_commands = false;
        }
    }

    /// ACLChangeSelectorPerm: a command and, for a container, its subcommands.
    fn change_perm(&mut self, env: Env, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.first_args.remove(&id);
        for &sub in &env.catalog.commands[id].subcommands {
            self.set_bit(sub, allow);
        }
    }

    fn set_category(&mut self, env: Env, bit: u32, allow: bool) {
        for id in 0..env.catalog.commands.len() {
            if env.catalog.commands[id].categories & bit != 0 {
                self.change_perm(env, id, allow);
            }
        }
    }

    /// ACLSetSelector: one rule that selectors take.
    pub fn apply(&mut self, op: &[u8], env: Env) -> Result<(), RuleError> {
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("allkeys") || is("~*") {
            self.all_keys = true;
            self.patterns.clear();
        } else if is("resetkeys") {
            self.all_keys = false;
            self.patterns.clear();
        } else if is("allchannels") || is("&*") {
            self.all_channels = true;
            self.channels.clear();
        } else if is("resetchannels") {
            self.all_channels = false;
            self.channels.clear();
        } else if is("allcommands") || is("+@all") {
            self.bits = [u64::MAX; COMMAND_BITS / 64];
            self.all_commands = true;
            self.first_args.clear();
        } else if is("nocommands") || is("-@all") {
            self.bits = [0; COMMAND_BITS / 64];
            self.all_commands = false;
            self.first_args.clear();
        } else if op.first() == Some(&b'~') || op.first() == Some(&b'%') {
            if self.all_keys {
                return Err(RuleError::KeyAfterAll);
            }
            let (flags, offset) = if op[0] == b'%' {
                let mut flags = 0;
                let mut offset = 1;
                let mut ok = true;
                while offset < op.len() {
                    let c = op[offset].to_ascii_uppercase();
                    if c == b'R' && flags & READ == 0 {
                        flags |= READ;
                    } else if c == b'W' && flags & WRITE == 0 {
                        flags |= WRITE;
                    } else if op[offset] == b'~' {
                        offset += 1;
                        break;
                    } else {
                        ok = false;
                        break;
                    }
                    offset += 1;
                }
                if flags == 0 || !ok {
                    return Err(RuleError::Syntax);
                }
                (flags, offset)
            } else {
                (ALL, 1)
            };
            let pattern = &op[offset.min(op.len())..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|p| p.pattern == pattern) {
                Some(p) => p.flags |= flags,
                None => self.patterns.push(KeyPattern { flags, pattern: pattern.to_vec() }),
            }
            self.all_keys = false;
        } else if op.first() == Some(&b'&') {
            if self.all_channels {
                return Err(RuleError::ChannelAfterAll);
            }
            let pattern = &op[1..];
            if has_spaces(pattern) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pattern) {
                self.channels.push(pattern.to_vec());
            }
            self.all_channels = false;
        } else if op.first() == Some(&b'+') && op.get(1) != Some(&b'@') {
            let name = &op[1..];
            match name.iter().rposition(|&c| c == b'|') {
                None => {
                    let id = env.catalog.lookup(name).ok_or(RuleError::UnknownCommand)?;
                    self.change_perm(env, id, true);
                }
                Some(bar) => {
                    let id = env.catalog.lookup(&name[..bar]).ok_or(RuleError::UnknownCommand)?;
                    let cmd = &env.catalog.commands[id];
                    if cmd.parent.is_some() {
                        return Err(RuleError::SubcommandFirstArg);
                    }
                    let sub = &name[bar + 1..];
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !cmd.subcommands.is_empty() {
                        let sub_id = env.catalog.lookup(name).ok_or(RuleError::UnknownCommand)?;
                        self.change_perm(env, sub_id, true);
                    } else {
                        // SELECT|0, DEBUG|OBJECT: a first argument of a command without
                        // subcommands, which Redis allows (with a deprecation warning).
                        tracing::warn!(
                            "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                            String::from_utf8_lossy(name)
                        );
                        let list = self.first_args.entry(id).or_default();
                        if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
                            list.push(sub.to_vec());
                        }
                    }
                }
            }
        } else if op.first() == Some(&b'-') && op.get(1) != Some(&b'@') {
            let id = env.catalog.lookup(&op[1..]).ok_or(RuleError::UnknownCommand)?;
            self.change_perm(env, id, false);
        } else if matches!(op.first(), Some(b'+') | Some(b'-')) && op.get(1) == Some(&b'@') {
            let bit = category_bit(&op[2..]).ok_or(RuleError::UnknownCommand)?;
            self.set_category(env, bit, op[0] == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn count_category(&self, env: Env, bit: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for (id, c) in env.catalog.commands.iter().enumerate() {
            if c.categories & bit != 0 {
                if self.bit(id) {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// ACLDescribeSelectorCommandRules: +@all or -@all, the categories that fit best, then the
    /// single commands (and first arguments) that make the bits exact.
    pub fn describe_commands(&self, env: Env) -> String {
        let mut rules = String::new();
        let additive = !self.bit(FUTURE_BIT);
        let mut fake = Selector::new(false, env);
        if additive {
            rules.push_str("-@all ");
        } else {
            rules.push_str("+@all ");
            let _ = fake.apply(b"+@all", env);
        }
        let mut temp = Selector::new(false, env);
        temp.bits = self.bits;
        let mut applied = [false; CATEGORIES.len()];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (i32::MAX as usize, 0);
            for (j, _) in CATEGORIES.iter().enumerate() {
                if applied[j] {
                    continue;
                }
                let (on, off) = temp.count_category(env, 1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            fake.set_category(env, 1 << j, additive);
            temp.set_category(env, 1 << j, !additive);
            rules.push_str(if additive { "+@" } else { "-@" });
            rules.push_str(CATEGORIES[j]);
            rules.push(' ');
            applied[j] = true;
        }
        for (id, cmd) in env.catalog.commands.iter().enumerate() {
            let user_bit = self.bit(id);
            if user_bit != fake.bit(id) {
                rules.push(if user_bit { '+' } else { '-' });
                rules.push_str(&cmd.fullname);
                rules.push(' ');
                fake.change_perm(env, id, user_bit);
            }
            if !user_bit {
                for arg in self.first_args.get(&id).into_iter().flatten() {
                    rules.push('+');
                    rules.push_str(&cmd.fullname);
                    rules.push('|');
                    rules.push_str(&String::from_utf8_lossy(arg));
                    rules.push(' ');
                }
            }
        }
        rules.pop();
        rules
    }

    /// The key patterns as GETUSER's `keys` field shows them.
    pub fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        let parts: Vec<String> = self.patterns.iter().map(pattern_string).collect();
        parts.join(" ")
    }

    /// The channel patterns as GETUSER's `channels` field shows them.
    pub fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        let parts: Vec<String> = self.channels.iter().map(|c| format!("&{}", String::from_utf8_lossy(c))).collect();
        parts.join(" ")
    }

    /// ACLDescribeSelector: keys, channels, commands in rule form.
    pub fn describe(&self, env: Env) -> String {
        let mut res = String::new();
        if self.all_keys {
            res.push_str("~* ");
        } else {
            for p in &self.patterns {
                res.push_str(&pattern_string(p));
                res.push(' ');
            }
        }
        if self.all_channels {
            res.push_str("&* ");
        } else {
            res.push_str("resetchannels ");
            for c in &self.channels {
                res.push('&');
                res.push_str(&String::from_utf8_lossy(c));
                res.push(' ');
            }
        }
        res.push_str(&self.describe_commands(env));
        res
    }
}

fn pattern_string(p: &KeyPattern) -> String {
    let prefix = match p.flags {
        READ => "%R~",
        WRITE => "%W~",
        _ => "~",
    };
    format!("{prefix}{}", String::from_utf8_lossy(&p.pattern))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sanitize {
    Skip,
    Sanitize,
}

#[derive(Clone, Debug)]
pub struct User {
    pub name: Vec<u8>,
    pub enabled: bool,
    pub nopass: bool,
    pub sanitize: Option<Sanitize>,
    /// SHA-256 hex of each password, in the order added.
    pub passwords: Vec<String>,
    /// The root selector first.
    pub selectors: Vec<Selector>,
}

fn valid_hash(h: &[u8]) -> bool {
    h.len() == 64 && h.iter().all(|c| matches!(c, b'a'..=b'f' | b'0'..=b'9'))
}

impl User {
    /// A new user: off, no password, no permissions (ACLCreateUser).
    pub fn new(name: &[u8], env: Env) -> User {
        User {
            name: name.to_vec(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(true, env)],
        }
    }

    pub fn root(&mut self) -> &mut Selector {
        &mut self.selectors[0]
    }

    /// ACLSetUser: one rule.
    pub fn apply(&mut self, op: &[u8], env: Env) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
        if is("on") {
            self.enabled = true;
        } else if is("off") {
            self.enabled = false;
        } else if is("skip-sanitize-payload") {
            self.sanitize = Some(Sanitize::Skip);
        } else if is("sanitize-payload") {
            self.sanitize = Some(Sanitize::Sanitize);
        } else if is("nopass") {
            self.nopass = true;
            self.passwords.clear();
        } else if is("resetpass") {
            self.nopass = false;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let hash = if op[0] == b'>' {
                crate::util::sha256::hex(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            if !self.passwords.contains(&hash) {
                self.passwords.push(hash);
            }
            self.nopass = false;
        } else if op[0] == b'<' || op[0] == b'!' {
            let hash = if op[0] == b'<' {
                crate::util::sha256::hex(&op[1..])
            } else {
                if !valid_hash(&op[1..]) {
                    return Err(RuleError::BadHash);
                }
                String::from_utf8_lossy(&op[1..]).into_owned()
            };
            match self.passwords.iter().position(|p| *p == hash) {
                Some(i) => {
                    self.passwords.remove(i);
                }
                None => return Err(RuleError::NoSuchPassword),
            }
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let inner = &op[1..op.len() - 1];
            let mut selector = Selector::new(false, env);
            // The selector's rules are split as sdssplitargs does (quotes allowed).
            let args = crate::util::splitargs::split_args(inner).ok_or(RuleError::Syntax)?;
            for a in &args {
                selector.apply(a, env)?;
            }
            self.selectors.push(selector);
        } else if is("clearselectors") {
            self.selectors.truncate(1);
        } else if is("reset") {
            self.nopass = false;
            self.passwords.clear();
            let root = self.root();
            root.all_keys = false;
            root.patterns.clear();
            root.all_channels = false;
            root.channels.clear();
            if env.all_channels {
                root.all_channels = true;
            }
            self.enabled = false;
            self.sanitize = Some(Sanitize::Sanitize);
            self.selectors.truncate(1);
            let _ = self.root().apply(b"-@all", env);
        } else {
            self.root().apply(op, env)?;
        }
        Ok(())
    }

    /// The flags GETUSER lists, in Redis's order.
    pub fn flag_names(&self) -> Vec<&'static str> {
        let mut out = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            out.push("nopass");
        }
        match self.sanitize {
            Some(Sanitize::Skip) => out.push("skip-sanitize-payload"),
            Some(Sanitize::Sanitize) => out.push("sanitize-payload"),
            None => {}
        }
        out
    }

    /// ACLDescribeUser: the user's rules as ACL LIST and the ACL file show them.
    pub fn describe(&self, env: Env) -> String {
        let mut res = String::new();
        for f in self.flag_names() {
            res.push_str(f);
            res.push(' ');
        }
        for p in &self.passwords {
            res.push('#');
            res.push_str(p);
            res.push(' ');
        }
        for s in &self.selectors {
            let d = s.describe(env);
            if s.root {
                res.push_str(&d);
            } else {
                res.push_str(" (");
                res.push_str(&d);
                res.push(')');
            }
        }
        res
    }

    /// Whether this password logs in: the user is on, and nopass or one of its hashes matches,
    /// compared in constant time.
    pub fn password_ok(&self, password: &[u8]) -> bool {
        if !self.enabled {
            return false;
        }
        if self.nopass {
            return true;
        }
        let hashed = crate::util::sha256::hex(password);
        self.passwords.iter().any(|p| {
            p.len() == hashed.len() && p.bytes().zip(hashed.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
        })
    }
}

/// ACLMergeSelectorArguments: a selector spread over several arguments ("(~x" "+get)") joined
/// with spaces; Err(index) of an unmatched opening parenthesis.
pub fn merge_selector_args(args: &[&[u8]]) -> Result<Vec<Vec<u8>>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<u8>)> = None;
    for (j, op) in args.iter().enumerate() {
        if op.first() == Some(&b'(') && op.last() != Some(&b')') {
            // A second opening while one is open starts over, as Redis's loop does.
            open = Some((j, op.to_vec()));
            continue;
        }
        if let Some((_, sel)) = open.as_mut() {
            sel.push(b' ');
            sel.extend_from_slice(op);
            if op.last() == Some(&b')') {
                out.push(open.take().map(|(_, s)| s).unwrap_or_default());
            }
            continue;
        }
        out.push(op.to_vec());
    }
    match open {
        Some((j, _)) => Err(j),
        None => Ok(out),
    }
}
