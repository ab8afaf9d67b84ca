//! Redis 7.0's ACL model (src/acl.c): users, their selectors and rules, the permission check and
//! the ACL log. A low layer: it knows commands only through the `Catalog` the server builds from
//! its command table, and checks a command line against the key positions and channels it is
//! given, so nothing here names the server.

mod check;
pub mod file;
mod log;
mod user;

use std::collections::BTreeMap;

use hashbrown::HashMap;

pub use check::{access_of, Denied, Request};
pub use log::{LogContext, LogEntry, LogReason};
pub use user::{RuleError, Selector, User};

/// Key permissions of a key pattern, and the access a command needs to a key.
pub const READ: u8 = 1;
pub const WRITE: u8 = 2;
pub const ALL: u8 = READ | WRITE;

/// Redis's category table, in its order (ACL CAT, the rules' description).
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// The bit of a category name (case-insensitive), as ACLGetCommandCategoryFlagByName.
pub fn category_bit(name: &[u8]) -> Option<u32> {
    CATEGORIES.iter().position(|c| c.as_bytes().eq_ignore_ascii_case(name)).map(|i| 1 << i)
}

/// One command or subcommand as ACL sees it. Its id is its index in the catalog.
pub struct CatalogCommand {
    /// `get`, `config|get`.
    pub fullname: String,
    /// Bit i set for CATEGORIES[i].
    pub categories: u32,
    pub parent: Option<usize>,
    pub subcommands: Vec<usize>,
}

/// The commands ACL rules name: Redis's original command table (rename-command does not change
/// what rules mean). Each top-level command is followed by its subcommands, the order in which
/// rules are described.
#[derive(Default)]
pub struct Catalog {
    pub commands: Vec<CatalogCommand>,
    by_name: HashMap<String, usize>,
    /// Ids by the caller's key for the command (the address of its table row).
    by_key: HashMap<usize, usize>,
}

/// Bits per selector: Redis's USER_COMMAND_BITS_COUNT. The last one stands for commands not in
/// the catalog ("future commands", set only by +@all).
pub const COMMAND_BITS: usize = 1024;
pub const FUTURE_BIT: usize = COMMAND_BITS - 1;

impl Catalog {
    /// Adds a command known to the caller as `key`; `parent` is the id of its container for a
    /// subcommand. Returns its id.
    pub fn add(&mut self, key: usize, fullname: &str, categories: u32, parent: Option<usize>) -> usize {
        let id = self.commands.len();
        assert!(id < FUTURE_BIT, "more commands than ACL command bits");
        self.commands.push(CatalogCommand {
            fullname: fullname.to_string(),
            categories,
            parent,
            subcommands: Vec::new(),
        });
        self.by_name.insert(fullname.to_ascii_lowercase(), id);
        self.by_key.insert(key, id);
        if let Some(p) = parent {
            self.commands[p].subcommands.push(id);
        }
        id
    }

    /// A command by name, `name|sub` for a subcommand (ACLLookupCommand): a name with a `|` is
    /// only found as a container's subcommand.
    pub fn lookup(&self, name: &[u8]) -> Option<usize> {
        let name = std::str::from_utf8(name).ok()?;
        self.by_name.get(&name.to_ascii_lowercase()).copied()
    }

    /// The id of the command the caller knows as `key`; FUTURE_BIT for one not in the catalog.
    pub fn id_by_key(&self, key: usize) -> usize {
        self.by_key.get(&key).copied().unwrap_or(FUTURE_BIT)
    }
}

/// What new selectors start with and how `reset` ends: acl-pubsub-default.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub catalog: &'a Catalog,
    /// acl-pubsub-default is allchannels.
    pub all_channels: bool,
}

/// The users and the log (Redis's Users rax, DefaultUser and ACLLog).
#[derive(Default)]
pub struct Acl {
    pub catalog: std::sync::Arc<Catalog>,
    /// By name in byte order, as Redis's radix tree lists them.
    users: BTreeMap<Vec<u8>, User>,
    /// Counts the changes to the users: a connection may remember that its user may run
    /// anything until the next change (every command's check, otherwise a lookup by name).
    generation: u64,
    /// Newest first.
    pub log: std::collections::VecDeque<LogEntry>,
    pub all_channels_default: bool,
}

impl Acl {
    /// The ACL state with only the `default` user (ACLInit).
    pub fn new(catalog: std::sync::Arc<Catalog>, all_channels_default: bool) -> Acl {
        let mut acl =
            Acl { catalog, users: BTreeMap::new(), generation: 0, log: Default::default(), all_channels_default };
        let default = acl.default_user();
        acl.users.insert(b"default".to_vec(), default);
        acl
    }

    pub fn env(&self) -> Env<'_> {
        Env { catalog: &self.catalog, all_channels: self.all_channels_default }
    }

    /// A fresh `default` user: +@all ~* &* on nopass (ACLCreateDefaultUser).
    pub fn default_user(&self) -> User {
        let env = self.env();
        let mut u = User::new(b"default", env);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            // These rules always apply.
            let _ = u.apply(op.as_bytes(), env);
        }
        u
    }

    pub fn user(&self, name: &[u8]) -> Option<&User> {
        self.users.get(name)
    }

    pub fn users(&self) -> &BTreeMap<Vec<u8>, User> {
        &self.users
    }

    /// The users, to change them: counted as a change.
    pub fn users_mut(&mut self) -> &mut BTreeMap<Vec<u8>, User> {
        self.generation += 1;
        &mut self.users
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// requirepass: the default user's password, or nopass when empty (ACLUpdateDefaultUserPassword).
    pub fn set_default_password(&mut self, password: Option<&[u8]>) {
        self.generation += 1;
        let env = Env { catalog: &self.catalog, all_channels: self.all_channels_default };
        if let Some(u) = self.users.get_mut(&b"default"[..]) {
            let _ = u.apply(b"resetpass", env);
            match password {
                Some(p) => {
                    let mut op = b">".to_vec();
                    op.extend_from_slice(p);
                    let _ = u.apply(&op, env);
                }
                None => {
                    let _ = u.apply(b"nopass", env);
                }
            }
        }
    }

    /// Whether a connection must authenticate before running commands (authRequired): the
    /// default user has a password or is off.
    pub fn auth_required(&self) -> bool {
        self.users.get(&b"default"[..]).is_none_or(|u| !u.nopass || !u.enabled)
    }

    /// Protected mode applies while the default user has no password (whether on or off).
    pub fn default_nopass(&self) -> bool {
        self.users.get(&b"default"[..]).is_none_or(|u| u.nopass)
    }

    /// The credentials check (ACLCheckUserCredentials): the user exists, is on, and is nopass or
    /// has this password.
    pub fn check_credentials(&self, name: &[u8], password: &[u8]) -> bool {
        self.users.get(name).is_some_and(|u| u.password_ok(password))
    }

    /// Creates or changes a user from rules, all or nothing (ACLStringSetUser). Returns the
    /// user as it was, when it existed, for the caller's disconnections.
    pub fn set_user(&mut self, name: &[u8], rules: &[&[u8]]) -> Result<Option<User>, String> {
        let env = Env { catalog: &self.catalog, all_channels: self.all_channels_default };
        let merged = user::merge_selector_args(rules)
            .map_err(|at| format!("Unmatched parenthesis in acl selector starting at '{}'.", lossy(rules[at])))?;
        self.generation += 1;
        let old = self.users.get(name).cloned();
        let mut staged = old.clone().unwrap_or_else(|| User::new(name, env));
        for op in &merged {
            if let Err(e) = staged.apply(op, env) {
                return Err(format!("Error in ACL SETUSER modifier '{}': {}", lossy(op), e.message()));
            }
        }
        self.users.insert(name.to_vec(), staged);
        Ok(old)
    }

    /// Creates the users of the config file's `user` lines (ACLLoadConfiguredUsers): a line
    /// for `default` resets it first. Err with Redis's log line for the first bad rule.
    pub fn load_configured(&mut self, lines: &[Vec<String>]) -> Result<(), String> {
        self.generation += 1;
        let env = Env { catalog: &self.catalog, all_channels: self.all_channels_default };
        for line in lines {
            let name = line[0].as_bytes();
            if has_spaces(name) {
                return Err("Spaces not allowed in ACL usernames".into());
            }
            let mut u = match self.users.remove(name) {
                Some(mut existing) => {
                    let _ = existing.apply(b"reset", env);
                    existing
                }
                None => User::new(name, env),
            };
            let rules: Vec<&[u8]> = line[1..].iter().map(|r| r.as_bytes()).collect();
            let merged = user::merge_selector_args(&rules)
                .map_err(|at| format!("Unmatched parenthesis in acl selector starting at '{}'.", lossy(rules[at])))?;
            for op in &merged {
                if let Err(e) = u.apply(op, env) {
                    return Err(format!(
                        "Error loading ACL rule '{}' for the user named '{}': {}",
                        lossy(op),
                        line[0],
                        e.message()
                    ));
                }
            }
            if !u.enabled {
                tracing::info!(
                    "The user '{}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.",
                    line[0]
                );
            }
            self.users.insert(name.to_vec(), u);
        }
        Ok(())
    }

    /// Every user as a config file's `user` line says it (name, then the rules ACL LIST shows),
    /// in ACL LIST's order: what CONFIG REWRITE and Sentinel's config flush write.
    pub fn config_lines(&self) -> Vec<Vec<String>> {
        let env = self.env();
        self.users
            .values()
            .map(|u| {
                let description = u.describe(env);
                let rules = description.split(' ').filter(|w| !w.is_empty()).map(str::to_string);
                std::iter::once(lossy(&u.name).into_owned()).chain(rules).collect()
            })
            .collect()
    }

    /// Adds an entry to the log, or counts it in a matching recent one (addACLLogEntry).
    pub fn log_add(&mut self, entry: LogEntry, max_len: usize) {
        log::add(&mut self.log, entry, max_len);
    }
}

pub(crate) fn lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// Redis's ACLStringHasSpaces: white space (C isspace) or NUL.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&c| matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0))
}
