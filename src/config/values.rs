//! Typed directive values: parsing with Redis 7.0's error texts, and rendering for CONFIG GET and REWRITE.

use super::table::{Kind, Spec, Special};
use super::units::{format_memory, parse_bool, parse_memory};

#[derive(Debug, Clone, PartialEq)]
pub struct ClientLimit {
    pub hard: i64,
    pub soft: i64,
    pub soft_seconds: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Bool(bool),
    Int(i64),
    Str(String),
    Save(Vec<(i64, i64)>),
    List(Vec<String>),
    /// normal, replica, pubsub.
    ClientLimits([ClientLimit; 3]),
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    Replicaof(Option<(String, u16)>),
    /// notify-keyspace-events flags.
    Flags(u32),
}

pub const CLIENT_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Parses `args` for `spec`. `prev` is the current value, for directives that accumulate
/// (save lines after the first, client-output-buffer-limit classes). `from_file` selects config-file
/// rules where they differ from CONFIG SET.
pub fn parse(spec: &Spec, args: &[String], prev: Option<&Val>, from_file: bool) -> Result<Val, String> {
    let one = args.first().map(String::as_str).unwrap_or("");
    match spec.kind {
        Kind::Bool => parse_bool(one).map(Val::Bool).ok_or_else(|| "argument must be 'yes' or 'no'".into()),
        Kind::Int { min, max } => {
            let n = crate::util::numbers::parse_i64(one.as_bytes())
                .or_else(|| one.parse::<i64>().ok())
                .ok_or("argument couldn't be parsed into an integer")?;
            in_range(n, min, max)
        }
        Kind::Mem { min, max } if min < 0 => {
            // `numericParseString`: a memory value first, then `N%` stored as -N.
            let n = parse_memory(one)
                .or_else(|| {
                    let digits = one.strip_suffix('%').filter(|d| !d.is_empty())?;
                    crate::util::numbers::parse_i64(digits.as_bytes()).filter(|p| *p >= 0).map(|p| -p)
                })
                .ok_or("argument must be a memory or percent value")?;
            if n < min {
                return Err(format!("percentage argument must be less or equal to {}", -min));
            }
            in_range(n, min, max)
        }
        Kind::Mem { min, max } => {
            let n = parse_memory(one).ok_or("argument must be a memory value")?;
            in_range(n, min, max)
        }
        Kind::Enum(values) => {
            let v = values
                .iter()
                .find(|v| v.eq_ignore_ascii_case(one))
                .ok_or_else(|| format!("argument(s) must be one of the following: {}", values.join(", ")))?;
            Ok(Val::Str((*v).to_string()))
        }
        Kind::Str => Ok(Val::Str(one.to_string())),
        Kind::Special(sp) => parse_special(sp, args, prev, from_file),
    }
}

fn in_range(n: i64, min: i64, max: i64) -> Result<Val, String> {
    if n < min || n > max {
        return Err(format!("argument must be between {min} and {max} inclusive"));
    }
    Ok(Val::Int(n))
}

fn parse_special(sp: Special, args: &[String], prev: Option<&Val>, from_file: bool) -> Result<Val, String> {
    match sp {
        Special::Save => {
            if args.len() == 1 && args[0].is_empty() {
                return Ok(Val::Save(Vec::new()));
            }
            if args.len() % 2 != 0 {
                return Err("Invalid save parameters".into());
            }
            let mut points = match (from_file, prev) {
                (true, Some(Val::Save(p))) => p.clone(),
                _ => Vec::new(),
            };
            for pair in args.chunks(2) {
                let secs = pair[0].parse::<i64>().map_err(|_| "Invalid save parameters")?;
                let changes = pair[1].parse::<i64>().map_err(|_| "Invalid save parameters")?;
                if secs < 1 || changes < 0 {
                    return Err("Invalid save parameters".into());
                }
                points.push((secs, changes));
            }
            Ok(Val::Save(points))
        }
        Special::Bind => {
            let addrs: Vec<String> = args.iter().filter(|a| !a.is_empty()).cloned().collect();
            if addrs.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            Ok(Val::List(addrs))
        }
        Special::ClientOutputBufferLimit => {
            if args.len() % 4 != 0 {
                return Err("Wrong number of arguments in buffer limit configuration.".into());
            }
            let mut limits = match prev {
                Some(Val::ClientLimits(l)) => l.clone(),
                _ => std::array::from_fn(|_| ClientLimit { hard: 0, soft: 0, soft_seconds: 0 }),
            };
            for chunk in args.chunks(4) {
                let class = match chunk[0].to_ascii_lowercase().as_str() {
                    "normal" => 0,
                    "replica" | "slave" => 1,
                    "pubsub" => 2,
                    _ => return Err("Invalid client class specified in buffer limit configuration.".into()),
                };
                let bad = || "Error in hard, soft or soft_seconds setting in buffer limit configuration.".to_string();
                let hard = parse_memory(&chunk[1]).filter(|v| *v >= 0).ok_or_else(bad)?;
                let soft = parse_memory(&chunk[2]).filter(|v| *v >= 0).ok_or_else(bad)?;
                let soft_seconds = chunk[3].parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(bad)?;
                limits[class] = ClientLimit { hard, soft, soft_seconds };
            }
            Ok(Val::ClientLimits(limits))
        }
        Special::OomScoreAdjValues => {
            if args.len() != 3 {
                return Err("wrong number of arguments".into());
            }
            let mut v = Vec::new();
            for a in args {
                let n = a.parse::<i64>().map_err(|_| "Invalid oom-score-adj-values")?;
                if !(-2000..=2000).contains(&n) {
                    return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into());
                }
                v.push(n);
            }
            Ok(Val::Ints(v))
        }
        Special::LatencyPercentiles => {
            let mut v = Vec::new();
            for a in args.iter().filter(|a| !a.is_empty()) {
                let f = a.parse::<f64>().map_err(|_| "Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&f) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                v.push(f);
            }
            Ok(Val::Floats(v))
        }
        Special::NotifyKeyspaceEvents => {
            let flags = keyspace_events_from_str(args.first().map(String::as_str).unwrap_or(""))
                .ok_or("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")?;
            Ok(Val::Flags(flags))
        }
        Special::Replicaof => {
            if args.len() == 1 && args[0].is_empty() {
                return Ok(Val::Replicaof(None));
            }
            if args.len() != 2 {
                return Err("wrong number of arguments".into());
            }
            if args[0].eq_ignore_ascii_case("no") && args[1].eq_ignore_ascii_case("one") {
                return Ok(Val::Replicaof(None));
            }
            let port = args[1].parse::<u16>().map_err(|_| "Invalid master port")?;
            Ok(Val::Replicaof(Some((args[0].clone(), port))))
        }
        Special::Octal => {
            let s = args.first().map(String::as_str).unwrap_or("");
            let n = i64::from_str_radix(s, 8).ok().filter(|n| (0..=0o777).contains(n));
            n.map(Val::Int).ok_or_else(|| "Invalid socket file permissions".into())
        }
        Special::Dir => Ok(Val::Str(args.first().cloned().unwrap_or_default())),
    }
}

/// CONFIG GET's text for a value.
pub fn render(spec: &Spec, v: &Val) -> String {
    match v {
        Val::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Val::Int(n) => match spec.kind {
            Kind::Special(Special::Octal) => format!("{n:o}"),
            Kind::Mem { min, .. } if min < 0 && *n < 0 => format!("{}%", -n),
            _ => n.to_string(),
        },
        Val::Str(s) => {
            if spec.kind == Kind::Special(Special::Dir) {
                std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_else(|_| s.clone())
            } else {
                s.clone()
            }
        }
        Val::Save(points) => points.iter().map(|(s, c)| format!("{s} {c}")).collect::<Vec<_>>().join(" "),
        Val::List(l) => l.join(" "),
        Val::ClientLimits(l) => CLIENT_CLASSES
            .iter()
            .zip(l.iter())
            .map(|(c, l)| format!("{c} {} {} {}", l.hard, l.soft, l.soft_seconds))
            .collect::<Vec<_>>()
            .join(" "),
        Val::Ints(v) => v.iter().map(|n| n.to_string()).collect::<Vec<_>>().join(" "),
        Val::Floats(v) => v.iter().map(|f| format_percentile(*f)).collect::<Vec<_>>().join(" "),
        Val::Replicaof(r) => r.as_ref().map(|(h, p)| format!("{h} {p}")).unwrap_or_default(),
        Val::Flags(f) => keyspace_events_to_string(*f),
    }
}

fn format_percentile(f: f64) -> String {
    let s = format!("{f:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The directive lines CONFIG REWRITE writes (arguments after the name).
pub fn rewrite_lines(spec: &Spec, v: &Val) -> Vec<Vec<String>> {
    match v {
        Val::Int(n) if *n < 0 && matches!(spec.kind, Kind::Mem { min, .. } if min < 0) => {
            vec![vec![format!("{}%", -n)]]
        }
        Val::Int(n) if matches!(spec.kind, Kind::Mem { .. }) => vec![vec![format_memory(*n)]],
        Val::Save(points) if points.is_empty() => vec![vec![String::new()]],
        Val::Save(points) => points.iter().map(|(s, c)| vec![s.to_string(), c.to_string()]).collect(),
        Val::List(l) if l.is_empty() => vec![vec![String::new()]],
        Val::List(l) => vec![l.clone()],
        Val::ClientLimits(l) => CLIENT_CLASSES
            .iter()
            .zip(l.iter())
            .map(|(c, l)| vec![c.to_string(), format_memory(l.hard), format_memory(l.soft), l.soft_seconds.to_string()])
            .collect(),
        Val::Ints(v) => vec![v.iter().map(|n| n.to_string()).collect()],
        Val::Floats(v) => vec![v.iter().map(|f| format_percentile(*f)).collect()],
        Val::Replicaof(None) => Vec::new(),
        Val::Replicaof(Some((h, p))) => vec![vec![h.clone(), p.to_string()]],
        other => vec![vec![render(spec, other)]],
    }
}

pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;
const NOTIFY_CLASSES: &[(char, u32)] = &[
    ('g', 1 << 2),
    ('$', 1 << 3),
    ('l', 1 << 4),
    ('s', 1 << 5),
    ('h', 1 << 6),
    ('z', 1 << 7),
    ('x', 1 << 8),
    ('e', 1 << 9),
    ('t', 1 << 10),
    ('d', 1 << 12),
    ('n', 1 << 13),
];
const NOTIFY_KEY_MISS: u32 = 1 << 11;
/// 'A': every class but key-miss and new-key.
const NOTIFY_ALL: u32 =
    (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 12);

fn keyspace_events_from_str(s: &str) -> Option<u32> {
    let mut flags = 0;
    for c in s.chars() {
        flags |= match c {
            'A' => NOTIFY_ALL,
            'K' => NOTIFY_KEYSPACE,
            'E' => NOTIFY_KEYEVENT,
            'm' => NOTIFY_KEY_MISS,
            c => NOTIFY_CLASSES.iter().find(|(ch, _)| *ch == c)?.1,
        };
    }
    Some(flags)
}

fn keyspace_events_to_string(flags: u32) -> String {
    let mut s = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        s.push('A');
        if flags & (1 << 13) != 0 {
            s.push('n');
        }
    } else {
        for (c, bit) in NOTIFY_CLASSES {
            if flags & bit != 0 {
                s.push(*c);
            }
        }
    }
    if flags & NOTIFY_KEYSPACE != 0 {
        s.push('K');
    }
    if flags & NOTIFY_KEYEVENT != 0 {
        s.push('E');
    }
    if flags & NOTIFY_KEY_MISS != 0 {
        s.push('m');
    }
    s
}
