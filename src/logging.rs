//! Redis-style log lines (`pid:M 21 Nov 2026 06:18:19.316 * message`) through `tracing`, honouring
//! `loglevel` (changeable at run time) and `logfile` ("" = stdout, reopened per line so that
//! logrotate works as with Redis).

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// 0 debug, 1 verbose, 2 notice, 3 warning.
static LEVEL: AtomicU8 = AtomicU8::new(2);
static ROLE: AtomicU8 = AtomicU8::new(b'M');
/// Events go to journald (Redis's syslog-enabled), not to lines on stdout or in the log file.
static JOURNAL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn to_journal() -> bool {
    JOURNAL.load(Ordering::Relaxed)
}

/// Redis's levels map onto tracing's: debug=TRACE, verbose=DEBUG, notice=INFO, warning=WARN/ERROR.
fn rank(l: &Level) -> u8 {
    match *l {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        _ => 3,
    }
}

pub fn set_level(name: &str) {
    let v = match name {
        "debug" => 0,
        "verbose" => 1,
        "notice" => 2,
        _ => 3,
    };
    if LEVEL.swap(v, Ordering::Relaxed) != v {
        // The filter's verdicts are cached per call site (always/never): a call site first hit
        // under the old level would otherwise keep it.
        tracing::callsite::rebuild_interest_cache();
    }
}

pub fn set_role(c: u8) {
    ROLE.store(c, Ordering::Relaxed);
}

struct RedisFormat;

/// Local time as Redis prints it: `21 Nov 2026 06:18:19.316`.
pub fn timestamp() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let date = crate::util::sys::local_strftime(secs, c"%d %b %Y %H:%M:%S").unwrap_or_else(|| secs.to_string());
    format!("{date}.{:03}", now.subsec_millis())
}

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, _ctx: &FmtContext<'_, S, N>, mut w: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let c = match rank(event.metadata().level()) {
            0 => '.',
            1 => '-',
            2 => '*',
            _ => '#',
        };
        write!(w, "{}:{} {} {} ", std::process::id(), ROLE.load(Ordering::Relaxed) as char, timestamp(), c)?;
        // The line is the message alone, as Redis writes it; the other fields (the event name
        // and its addresses) are for the journal.
        let mut message = MessageOnly { out: w.by_ref(), result: Ok(()) };
        event.record(&mut message);
        message.result?;
        writeln!(w)
    }
}

/// Writes an event's `message` field and nothing else.
struct MessageOnly<'a> {
    out: Writer<'a>,
    result: fmt::Result,
}

impl tracing::field::Visit for MessageOnly<'_> {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "message" {
            self.result = self.out.write_str(value);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.result = write!(self.out, "{value:?}");
        }
    }
}

#[derive(Clone)]
enum Sink {
    Stdout,
    File(String),
}

impl Sink {
    fn open(&self) -> SinkWriter {
        match self {
            Sink::Stdout => SinkWriter(Box::new(std::io::stdout())),
            Sink::File(path) => match std::fs::OpenOptions::new().create(true).append(true).open(path) {
                Ok(f) => SinkWriter(Box::new(f)),
                Err(_) => SinkWriter(Box::new(std::io::stderr())),
            },
        }
    }
}

/// Where log lines go, for lines written outside `tracing` (from_signal_handler).
static SINK: std::sync::OnceLock<Sink> = std::sync::OnceLock::new();

/// A warning as Redis's serverLogFromHandler writes it from a signal handler, without the date:
/// `pid:signal-handler (unix time) message`. Redis logs "Received SIGTERM scheduling
/// shutdown..." this way.
pub fn from_signal_handler(message: &str) {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    raw(&format!("{}:signal-handler ({secs}) {message}\n", std::process::id()));
}

/// Text written as it is, with no line header, where log lines go (Redis's LL_RAW: the logo).
pub fn raw(text: &str) {
    let sink = SINK.get().cloned().unwrap_or(Sink::Stdout);
    let mut w = sink.open();
    let _ = w.write_all(text.as_bytes());
    let _ = w.flush();
}

/// Whether a person watches the log: stdout is a terminal and no log file is set.
pub fn stdout_is_terminal() -> bool {
    matches!(SINK.get(), Some(Sink::Stdout) | None) && std::io::IsTerminal::is_terminal(&std::io::stdout())
}

struct SinkWriter(Box<dyn Write>);

impl Write for SinkWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Sets up logging. With `logfile ""` under systemd (stdout is the journal, or `supervised
/// systemd`), events go to journald natively: priorities from the level, and fields such as
/// REDIS_ROLE and REDIS_PORT that `journalctl -u redis-server-rs REDIS_PORT=6379` can match.
/// Otherwise Redis-style lines go to stdout or the log file.
pub fn init(logfile: &str, level: &str, supervised_systemd: bool, role: &str, port: u16) {
    set_level(level);
    let filter = || tracing_subscriber::filter::filter_fn(|m| rank(m.level()) >= LEVEL.load(Ordering::Relaxed));
    if logfile.is_empty() && (supervised_systemd || crate::systemd::stdout_is_journal()) {
        if let Ok(journald) = tracing_journald::layer() {
            let layer = journald
                .with_syslog_identifier(
                    if role == "sentinel" { "redis-sentinel-rs" } else { "redis-server-rs" }.to_string(),
                )
                // Events' own fields go to the journal under their own names (REDIS_EVENT, ...).
                .with_field_prefix(None)
                .with_custom_fields([("REDIS_ROLE", role.to_string()), ("REDIS_PORT", port.to_string())])
                .with_filter(filter());
            let _ = SINK.set(Sink::Stdout);
            JOURNAL.store(true, Ordering::Relaxed);
            let _ = tracing_subscriber::registry().with(layer).try_init();
            return;
        }
    }
    let sink = if logfile.is_empty() { Sink::Stdout } else { Sink::File(logfile.to_string()) };
    let _ = SINK.set(sink.clone());
    let make = move || sink.open();
    let layer = tracing_subscriber::fmt::layer().event_format(RedisFormat).with_writer(make).with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
