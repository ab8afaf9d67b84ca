//! Configuration: the directive table, parsing of redis.conf and the command line exactly like Redis
//! 7.0, typed values, and rendering for CONFIG GET and CONFIG REWRITE.

pub mod document;
pub mod preflight;
pub mod table;
pub mod units;
mod values;

use std::path::{Path, PathBuf};

pub use table::{Key, Kind, Spec, Special, TABLE};

/// The `Key` of a config directive, checked at compile time: `config.int(ckey!("maxmemory"))`.
#[macro_export]
macro_rules! ckey {
    ($name:literal) => {
        const { $crate::config::table::key($name) }
    };
}
pub use values::{ClientLimit, Val};

use crate::util::splitargs::split_args;

/// CONFIG SET's reply text (without `ERR `) when a value is refused; redisctl says the same words.
pub fn config_set_error(name: &str, why: &str) -> String {
    format!("CONFIG SET failed (possibly related to argument '{name}') - {why}")
}

/// The error block Redis prints before exiting when a config line is bad.
#[derive(Debug, Clone)]
pub struct FatalConfigError {
    pub line_no: usize,
    pub line: String,
    pub reason: String,
}

impl FatalConfigError {
    /// A config file (or an included one) that cannot be read. Redis reports this with one log
    /// line, not the block (see `is_unreadable_file`).
    fn cannot_open(path: &str, e: &std::io::Error) -> FatalConfigError {
        FatalConfigError {
            line_no: 0,
            line: String::new(),
            reason: format!("Fatal error, can't open config file '{path}': {}", crate::util::sys::error_text(e)),
        }
    }

    /// Whether the error is a file that could not be read rather than a bad line in one.
    pub fn is_unreadable_file(&self) -> bool {
        self.line_no == 0 && self.line.is_empty()
    }
}

impl std::fmt::Display for FatalConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "\n*** FATAL CONFIG FILE ERROR (Redis {}) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
            crate::REDIS_VERSION,
            self.line_no,
            self.line,
            self.reason
        )
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    vals: Vec<Val>,
    /// `rename-command old new` pairs, in file order (new may be "" to disable).
    pub renames: Vec<(String, String)>,
    /// Absolute path of the config file, if any (CONFIG REWRITE needs one).
    pub file: Option<PathBuf>,
    /// Directives whose feature is not built yet that the file or command line set.
    pub later_seen: Vec<&'static str>,
    /// Directives that have no meaning here and that the file or command line set.
    pub no_effect_seen: Vec<&'static str>,
    pub sentinel_lines: Vec<Vec<String>>,
    /// `user <name> <rules...>` lines in file order: the name, then the rules (applied at
    /// start-up by the ACL layer).
    pub users: Vec<Vec<String>>,
    /// Started as Redis Sentinel (`--sentinel`, or as redis-sentinel-rs).
    pub sentinel_mode: bool,
}

impl Default for Config {
    fn default() -> Self {
        let vals = TABLE
            .iter()
            .map(|s| {
                let args = split_args(s.default.as_bytes()).unwrap_or_default();
                let args: Vec<String> = args.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect();
                // Multi-word defaults (save, bind...) are one argument list; single-word ones one value.
                let args = if args.is_empty() { vec![String::new()] } else { args };
                values::parse(s, &args, None, true).unwrap_or_else(|e| panic!("bad default for {}: {e}", s.name))
            })
            .collect();
        Config {
            vals,
            renames: Vec::new(),
            file: None,
            later_seen: Vec::new(),
            no_effect_seen: Vec::new(),
            sentinel_lines: Vec::new(),
            users: Vec::new(),
            sentinel_mode: false,
        }
    }
}

/// Joins Redis-style command-line options into config text, exactly like Redis's main().
pub fn options_from_args(args: &[String]) -> String {
    let mut out = String::new();
    let mut handled_last = true;
    let mut j = 0;
    while j < args.len() {
        let a = &args[j];
        if handled_last && a.starts_with("--") {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&a[2..]);
            out.push(' ');
            let single = split_args(a.as_bytes()).map(|v| v.len() == 1).unwrap_or(false);
            if single {
                handled_last = false;
                let is_save = a.eq_ignore_ascii_case("--save");
                let next_is_opt = args.get(j + 1).is_some_and(|n| n.starts_with("--"));
                if is_save && (next_is_opt || j == args.len() - 1) {
                    out.push_str("\"\"");
                    handled_last = true;
                }
            } else {
                handled_last = true;
            }
        } else {
            out.push_str(&crate::util::splitargs::repr(a.as_bytes()));
            out.push(' ');
            handled_last = true;
        }
        j += 1;
    }
    out
}

impl Config {
    /// Loads the file (if any) followed by the command-line options, like loadServerConfig.
    pub fn load(file: Option<&Path>, options: &str) -> Result<Config, FatalConfigError> {
        Config::load_over(file, "", options)
    }

    /// Like `load`, over `defaults` applied first (Sentinel's port 26379 and protected-mode no,
    /// which its file may still change).
    pub fn load_over(file: Option<&Path>, defaults: &str, options: &str) -> Result<Config, FatalConfigError> {
        let mut cfg = Config::default();
        if !defaults.is_empty() {
            cfg.load_text(defaults, &mut LoadState::default(), 0)?;
        }
        let mut text = String::new();
        if let Some(path) = file {
            let content =
                std::fs::read(path).map_err(|e| FatalConfigError::cannot_open(&path.display().to_string(), &e))?;
            text.push_str(&String::from_utf8_lossy(&content));
            let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            cfg.file = Some(abs);
        }
        if !options.is_empty() {
            text.push('\n');
            text.push_str(options);
        }
        let mut state = LoadState::default();
        cfg.load_text(&text, &mut state, 0)?;
        Ok(cfg)
    }

    /// Parses config text exactly as start-up would, without applying anything (no chdir), for
    /// tools that check a file before and after editing it.
    pub fn validate(text: &str) -> Result<Config, FatalConfigError> {
        let mut cfg = Config::default();
        let mut state = LoadState { validate_only: true, ..LoadState::default() };
        cfg.load_text(text, &mut state, 0)?;
        Ok(cfg)
    }

    fn load_text(&mut self, text: &str, state: &mut LoadState, depth: usize) -> Result<(), FatalConfigError> {
        for (i, raw) in text.split('\n').enumerate() {
            let line = raw.trim_matches(|c| c == ' ' || c == '\t' || c == '\r' || c == '\n');
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fail = |reason: String| FatalConfigError { line_no: i + 1, line: line.to_string(), reason };
            let Some(argv) = split_args(line.as_bytes()) else {
                return Err(fail("Unbalanced quotes in configuration line".into()));
            };
            if argv.is_empty() {
                continue;
            }
            let argv: Vec<String> = argv.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect();
            let name = argv[0].to_ascii_lowercase();
            if name == "include" && argv.len() == 2 {
                if depth > 16 {
                    return Err(fail("include nesting too deep".into()));
                }
                // A file that cannot be read stops start-up like the main file does.
                let content = std::fs::read(&argv[1]).map_err(|e| FatalConfigError::cannot_open(&argv[1], &e))?;
                self.load_text(&String::from_utf8_lossy(&content), state, depth + 1)?;
                continue;
            }
            self.apply_line(&name, &argv[1..], state).map_err(fail)?;
        }
        Ok(())
    }

    fn apply_line(&mut self, name: &str, args: &[String], state: &mut LoadState) -> Result<(), String> {
        match name {
            "rename-command" if args.len() == 2 => {
                self.renames.push((args[0].to_ascii_lowercase(), args[1].clone()));
                return Ok(());
            }
            "sentinel" => {
                self.sentinel_lines.push(args.to_vec());
                return Ok(());
            }
            // Users are checked and created at start-up, once the command table is known
            // (ACLAppendUserForLoading); a name defined twice is refused here, as Redis does.
            "user" if !args.is_empty() => {
                if self.users.iter().any(|u| u[0] == args[0]) {
                    return Err(format!(
                        "Error in user declaration '{}': Duplicate user found. A user can only be defined once in config files",
                        args[0]
                    ));
                }
                self.users.push(args.to_vec());
                return Ok(());
            }
            // Redis aborts start-up when a module does not load; this server loads none.
            "loadmodule" => {
                let path = args.first().map(String::as_str).unwrap_or("");
                return Err(format!("Can't load module from {path}: server aborting (this server loads no modules)"));
            }
            _ => {}
        }
        let Some((idx, spec)) = table::lookup(name) else {
            return Err("Bad directive or wrong number of arguments".into());
        };
        let multi =
            matches!(spec.kind, Kind::Special(_)) && !matches!(spec.kind, Kind::Special(Special::Octal | Special::Dir));
        if args.is_empty() || (!multi && args.len() != 1) {
            return Err("wrong number of arguments".into());
        }
        // Like Redis's MULTI_ARG configs: one argument holding several words is split, so
        // `--client-output-buffer-limit "normal 1mb 0 0"` works on the command line.
        let split: Vec<String>;
        let args = if multi && args.len() == 1 && args[0].contains(' ') {
            split = args[0].split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
            &split[..]
        } else {
            args
        };
        let first_save = spec.name == "save" && !state.save_seen;
        if spec.name == "save" {
            state.save_seen = true;
        }
        let prev = if first_save { None } else { Some(&self.vals[idx]) };
        let v = values::parse(spec, args, prev, true)?;
        if spec.kind == Kind::Special(Special::Dir) && !state.validate_only {
            std::env::set_current_dir(&args[0])
                .map_err(|e| format!("Can't chdir to '{}': {e}", args[0], e = crate::util::sys::error_text(&e)))?;
        }
        self.vals[idx] = v;
        if spec.has(table::LATER) && !self.later_seen.contains(&spec.name) {
            self.later_seen.push(spec.name);
        }
        if spec.has(table::NO_EFFECT) && !self.no_effect_seen.contains(&spec.name) {
            self.no_effect_seen.push(spec.name);
        }
        Ok(())
    }

    pub fn val(&self, key: Key) -> &Val {
        &self.vals[key.0]
    }

    pub fn val_at(&self, idx: usize) -> &Val {
        &self.vals[idx]
    }

    pub fn bool(&self, key: Key) -> bool {
        matches!(self.val(key), Val::Bool(true))
    }

    pub fn int(&self, key: Key) -> i64 {
        match self.val(key) {
            Val::Int(n) => *n,
            _ => 0,
        }
    }

    pub fn str(&self, key: Key) -> &str {
        match self.val(key) {
            Val::Str(s) => s,
            _ => "",
        }
    }

    /// CONFIG GET's rendering of a directive.
    pub fn render(&self, idx: usize) -> String {
        values::render(&TABLE[idx], &self.vals[idx])
    }

    /// The lines CONFIG REWRITE writes for a directive (several for save and client-output-buffer-limit).
    pub fn rewrite_lines(&self, idx: usize) -> Vec<Vec<String>> {
        values::rewrite_lines(&TABLE[idx], &self.vals[idx])
    }

    /// Every directive as CONFIG REWRITE writes it (rewriteConfig): Sentinel's file rewrites use
    /// the same, so a port or pidfile given on its command line survives a restart there too.
    pub fn rewrite_options(&self) -> Vec<document::RewriteOption<'static>> {
        TABLE
            .iter()
            .enumerate()
            .map(|(idx, spec)| document::RewriteOption {
                name: spec.name,
                aliases: spec.aliases,
                lines: self.rewrite_lines(idx),
                is_default: self.is_default(idx),
            })
            .collect()
    }

    pub fn is_default(&self, idx: usize) -> bool {
        let d = Config::default();
        // `dir` is always written by Redis's rewrite; everything else only when it differs.
        TABLE[idx].name != "dir" && d.vals[idx] == self.vals[idx]
    }

    /// Parses a CONFIG SET value without applying it.
    pub fn parse_set(&self, idx: usize, value: &str) -> Result<Val, String> {
        let spec = &TABLE[idx];
        let args: Vec<String> = match spec.kind {
            Kind::Special(Special::Octal | Special::Dir)
            | Kind::Str
            | Kind::Bool
            | Kind::Int { .. }
            | Kind::Mem { .. }
            | Kind::Enum(_) => {
                vec![value.to_string()]
            }
            Kind::Special(_) => {
                let parts = split_args(value.as_bytes()).ok_or("Unbalanced quotes")?;
                let parts: Vec<String> = parts.into_iter().map(|a| String::from_utf8_lossy(&a).into_owned()).collect();
                if parts.is_empty() {
                    vec![String::new()]
                } else {
                    parts
                }
            }
        };
        values::parse(spec, &args, Some(&self.vals[idx]), false)
    }

    pub fn set_val(&mut self, idx: usize, v: Val) {
        self.vals[idx] = v;
    }
}

#[derive(Default)]
struct LoadState {
    save_seen: bool,
    /// Checking a file (redisctl check) must not change the process, e.g. chdir for `dir`.
    validate_only: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_options_join_like_redis() {
        let a: Vec<String> =
            ["--port", "6380", "--replicaof", "10.0.0.1", "6379", "--save"].iter().map(|s| s.to_string()).collect();
        assert_eq!(options_from_args(&a), "port \"6380\" \nreplicaof \"10.0.0.1\" \"6379\" \nsave \"\"");
    }

    #[test]
    fn fatal_errors_name_the_line() {
        let e = Config::load(None, "port 6379\nport abc").unwrap_err();
        // Like Redis, options are appended after a newline, so they start at line 2.
        assert_eq!(e.line_no, 3);
        assert_eq!(e.reason, "argument couldn't be parsed into an integer");
        let e = Config::load(None, "bogus 1").unwrap_err();
        assert_eq!(e.reason, "Bad directive or wrong number of arguments");
        let e = Config::load(None, "requirepass \"a").unwrap_err();
        assert_eq!(e.reason, "Unbalanced quotes in configuration line");
    }

    #[test]
    fn values_parse_and_render() {
        let c = Config::load(None, "maxmemory 1gb\nsave 10 1\nsave 20 2\nbind 127.0.0.1 -::1\nslaveof 10.0.0.1 6379")
            .unwrap();
        assert_eq!(c.int(crate::ckey!("maxmemory")), 1 << 30);
        let (i, _) = table::lookup("save").unwrap();
        assert_eq!(c.render(i), "10 1 20 2");
        let (i, _) = table::lookup("replicaof").unwrap();
        assert_eq!(c.render(i), "10.0.0.1 6379");
        let (i, _) = table::lookup("client-output-buffer-limit").unwrap();
        assert_eq!(c.render(i), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
    }
}
