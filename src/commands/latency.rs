//! LATENCY: the latency monitor's events, history, doctor, graph, and the per-command histograms.
//! Table rows, replies and error texts follow Redis 7.0.15.

use bytes::Bytes;

use super::command_cmd::lookup_fullname;
use super::Ctx;
use crate::protocol::Reply;
use crate::server::command::*;
use crate::{container, subcmd};

pub static TABLE: &[CommandSpec] =
    &[container!("latency", "server", "2.8.13", "A container for latency diagnostics commands", LATENCY_SUBS)];

static LATENCY_SUBS: &[CommandSpec] = &[
    subcmd!(
        "latest",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return the latest latency samples for all events.",
        "O(1)",
        latency_latest
    ),
    subcmd!(
        "history",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return timestamp-latency samples for the event.",
        "O(1)",
        latency_history
    ),
    subcmd!(
        "reset",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Reset latency data for one or more events.",
        "O(1)",
        latency_reset
    ),
    subcmd!(
        "doctor",
        2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return a human readable latency analysis report.",
        "O(1)",
        latency_doctor
    ),
    subcmd!(
        "graph",
        3,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Return a latency graph for the event.",
        "O(1)",
        latency_graph
    ),
    subcmd!(
        "histogram",
        -2,
        ADMIN | NOSCRIPT | LOADING | STALE,
        (0, 0, 0),
        "server",
        "7.0.0",
        "Return the cumulative distribution of latencies of a subset of commands or all.",
        "O(N) where N is the number of commands with latency information being retrieved.",
        latency_histogram
    ),
    subcmd!(
        "help",
        2,
        LOADING | STALE,
        (0, 0, 0),
        "server",
        "2.8.13",
        "Show helpful text about the different subcommands.",
        "O(1)",
        latency_help
    ),
];

fn latency_latest(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let items = ctx
        .state
        .latency
        .iter()
        .filter_map(|(name, ev)| {
            let (t, ms) = *ev.samples.back()?;
            Some(Reply::Array(vec![
                Reply::bulk(*name),
                Reply::Int(t),
                Reply::Int(ms as i64),
                Reply::Int(ev.max as i64),
            ]))
        })
        .collect();
    Reply::Array(items)
}

fn latency_event<'a>(ctx: &'a Ctx, name: &[u8]) -> Option<&'a crate::server::state::LatencyEvent> {
    ctx.state.latency.iter().find(|(n, _)| n.as_bytes() == name).map(|(_, ev)| ev)
}

fn latency_history(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let items = latency_event(ctx, &args[2])
        .map(|ev| ev.samples.iter().map(|(t, ms)| Reply::Array(vec![Reply::Int(*t), Reply::Int(*ms as i64)])).collect())
        .unwrap_or_default();
    Reply::Array(items)
}

fn latency_reset(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    if args.len() == 2 {
        let n = ctx.state.latency.len();
        ctx.state.latency.clear();
        return Reply::Int(n as i64);
    }
    let mut n = 0;
    for a in &args[2..] {
        let key = ctx.state.latency.keys().find(|k| k.as_bytes() == &a[..]).copied();
        if let Some(k) = key {
            ctx.state.latency.remove(k);
            n += 1;
        }
    }
    Reply::Int(n)
}

fn latency_doctor(ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    let threshold = ctx.state.config.int(crate::ckey!("latency-monitor-threshold"));
    let text = if threshold == 0 && ctx.state.latency.is_empty() {
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n".to_string()
    } else if ctx.state.latency.is_empty() {
        "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n".to_string()
    } else {
        let mut names: Vec<&&str> = ctx.state.latency.keys().collect();
        names.sort();
        let mut s = String::from("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n");
        for (i, name) in names.into_iter().enumerate() {
            let ev = &ctx.state.latency[*name];
            let n = ev.samples.len().max(1) as u64;
            let avg = ev.samples.iter().map(|(_, ms)| ms).sum::<u64>() / n;
            s.push_str(&format!(
                "{}. {name}: {} latency spikes (average {avg}ms, mean deviation 0ms, period 0 sec). Worst all time event {}ms.\n",
                i + 1,
                ev.samples.len(),
                ev.max
            ));
        }
        s.push_str("\nI have a few advices for you:\n\n- Check your system for other processes that may be using CPU or performing I/O.\n");
        s
    };
    Reply::Verbatim("txt", text.into_bytes())
}

/// Redis's sparkline.c with SPARKLINE_FILL: `rows` rows of `_o#|` scaled between the smallest
/// and largest sample, a blank line, then each sample's label written vertically.
fn sparkline(samples: &[(u64, String)], columns: usize, rows: usize) -> String {
    const FILL: &[u8] = b"_o#";
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0) as f64;
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0) as f64;
    let relmax = if max - min == 0.0 { 1.0 } else { max - min };
    let steps = (FILL.len() * rows) as i64;
    let mut out = String::new();
    for (n, chunk) in samples.chunks(columns).enumerate() {
        if n != 0 {
            out.push('\n');
        }
        let mut row = 0;
        loop {
            let mut any = false;
            let mut chars = vec![b' '; chunk.len()];
            for (j, (value, label)) in chunk.iter().enumerate() {
                let relval = *value as f64 - min;
                let step = (((relval * steps as f64) / relmax) as i64).clamp(0, steps - 1);
                if row < rows {
                    let idx = step - ((rows - row - 1) * FILL.len()) as i64;
                    any = true;
                    if (0..FILL.len() as i64).contains(&idx) {
                        chars[j] = FILL[idx as usize];
                    } else if idx >= FILL.len() as i64 {
                        chars[j] = b'|';
                    }
                } else if row - rows < 1 {
                    // The blank line between the graph and the labels.
                    any = true;
                    break;
                } else if let Some(c) = label.as_bytes().get(row - rows - 1) {
                    any = true;
                    chars[j] = *c;
                }
            }
            if !any {
                break;
            }
            row += 1;
            out.push_str(&String::from_utf8_lossy(&chars));
            out.push('\n');
        }
    }
    out
}

/// LATENCY GRAPH, as latencyCommandGenSparkeline draws it.
fn latency_graph(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let Some(ev) = latency_event(ctx, &args[2]) else {
        return Reply::error(format!("ERR No samples available for event '{}'", String::from_utf8_lossy(&args[2])));
    };
    let now = crate::util::time::unix_secs();
    let samples: Vec<(u64, String)> = ev
        .samples
        .iter()
        .map(|(t, ms)| {
            let elapsed = now - t;
            let label = if elapsed < 60 {
                format!("{elapsed}s")
            } else if elapsed < 3600 {
                format!("{}m", elapsed / 60)
            } else if elapsed < 86400 {
                format!("{}h", elapsed / 3600)
            } else {
                format!("{}d", elapsed / 86400)
            };
            (*ms, label)
        })
        .collect();
    let min = samples.iter().map(|s| s.0).min().unwrap_or(0);
    let max = samples.iter().map(|s| s.0).max().unwrap_or(0);
    let mut out = format!(
        "{} - high {max} ms, low {min} ms (all time high {} ms)\n{}\n",
        String::from_utf8_lossy(&args[2]),
        ev.max,
        "-".repeat(80)
    );
    out.push_str(&sparkline(&samples, 80, 4));
    Reply::Verbatim("txt", out.into_bytes())
}

/// One command's LATENCY HISTOGRAM entry. Like Redis, `calls` counts the histogram's samples
/// (commands run while latency-tracking was off are not in it).
fn command_cdf(stat: &crate::server::state::CommandStat) -> Reply {
    let h = &stat.latency;
    let buckets = h.cdf().into_iter().map(|(usec, count)| (Reply::Int(usec as i64), Reply::Int(count as i64)));
    Reply::Map(vec![
        (Reply::bulk("calls"), Reply::Int(h.total() as i64)),
        (Reply::bulk("histogram_usec"), Reply::Map(buckets.collect())),
    ])
}

fn latency_histogram(ctx: &mut Ctx, args: &[Bytes]) -> Reply {
    let stats = &ctx.state.stats.commands;
    let with_data = |name: &str| stats.values().find(|c| c.name == name && c.latency.total() > 0);
    if args.len() == 2 {
        let mut all: Vec<&crate::server::state::CommandStat> =
            stats.values().filter(|c| c.latency.total() > 0).collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        return Reply::Map(all.into_iter().map(|c| (Reply::bulk(&c.name), command_cdf(c))).collect());
    }
    // Like Redis: every name asked for (repeats too), a container with its subcommands.
    let mut out = Vec::new();
    for a in &args[2..] {
        let Some((spec, full)) = lookup_fullname(ctx, a) else { continue };
        let names = std::iter::once(full.clone()).chain(spec.subcommands.iter().map(|s| format!("{full}|{}", s.name)));
        for name in names {
            if let Some(c) = with_data(&name) {
                out.push((Reply::bulk(&c.name), command_cdf(c)));
            }
        }
    }
    Reply::Map(out)
}

fn latency_help(_ctx: &mut Ctx, _args: &[Bytes]) -> Reply {
    super::help_reply(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    )
}
