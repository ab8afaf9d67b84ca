//! INFO's `# Sentinel` section.

use super::super::state::Sentinel;
use super::instance_map::shown_host;
use super::Context;

/// The `# Sentinel` section of INFO (its lines end with CRLF).
pub fn info_sentinel_section(s: &Sentinel, ctx: &Context) -> String {
    let tilt_since = ctx.tilt_since_ms.map_or(-1, |t| (ctx.now_ms.saturating_sub(t) / 1000) as i64);
    let mut out = format!(
        "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:{}\r\n\
         sentinel_running_scripts:{}\r\nsentinel_scripts_queue_length:{}\r\nsentinel_simulate_failure_flags:{}\r\n",
        s.masters.len(),
        u8::from(ctx.tilt_since_ms.is_some()),
        tilt_since,
        ctx.running_scripts,
        ctx.queued_scripts,
        ctx.simulate_failure_flags
    );
    for (i, m) in s.masters.iter().enumerate() {
        let status = if m.record.o_down {
            "odown"
        } else if m.record.s_down {
            "sdown"
        } else {
            "ok"
        };
        out.push_str(&format!(
            "master{i}:name={},status={status},address={}:{},slaves={},sentinels={}\r\n",
            m.settings.name,
            shown_host(&s.settings, &m.settings.host),
            m.settings.port,
            m.replicas.len(),
            m.sentinels.len() + 1
        ));
    }
    out
}
