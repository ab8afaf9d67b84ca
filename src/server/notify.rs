//! Keyspace notifications (notify.c): `__keyspace@<db>__:<key>` carries the event name,
//! `__keyevent@<db>__:<event>` carries the key, for the classes `notify-keyspace-events` enables.

use bytes::Bytes;

use super::session::Ctx;
use crate::server::state::State;

// Redis's NOTIFY_* bits, the same ones the config parser produces.
pub const KEYSPACE: u32 = 1 << 0;
pub const KEYEVENT: u32 = 1 << 1;
pub const GENERIC: u32 = 1 << 2;
pub const STRING: u32 = 1 << 3;
pub const LIST: u32 = 1 << 4;
pub const SET: u32 = 1 << 5;
pub const HASH: u32 = 1 << 6;
pub const ZSET: u32 = 1 << 7;
pub const EXPIRED: u32 = 1 << 8;
pub const EVICTED: u32 = 1 << 9;
pub const STREAM: u32 = 1 << 10;
pub const KEY_MISS: u32 = 1 << 11;
pub const MODULE: u32 = 1 << 12;
pub const NEW: u32 = 1 << 13;

/// Publishes `event` on `key` of `db` if `class` is enabled (notifyKeyspaceEvent).
pub fn notify(st: &mut State, class: u32, event: &str, key: &[u8], db: usize) {
    let flags = st.hot.notify_flags;
    if flags & NEW != 0 {
        publish_new_keys(st);
    }
    if flags & class == 0 {
        return;
    }
    publish(st, flags, event, key, db);
}

/// Makes key creation record keys for the `new` event only while that event can be published
/// (the `n` class and a keyspace or keyevent channel enabled): called when the config changes.
pub fn configure_new_key_events(st: &mut State) {
    let flags = st.hot.notify_flags;
    let on = flags & NEW != 0 && flags & (KEYSPACE | KEYEVENT) != 0;
    for db in st.dbs.iter_mut() {
        db.record_new_keys = on;
        if !on {
            db.new_keys.clear();
        }
    }
}

/// Publishes the `new` events of keys created since the last event. Redis publishes `new` inside
/// dbAdd; keys are created without access to the publisher, so their events wait in their database
/// until the next event, which every command that creates a key publishes right after.
pub fn publish_new_keys(st: &mut State) {
    for db in 0..st.dbs.len() {
        if st.dbs[db].new_keys.is_empty() {
            continue;
        }
        for key in std::mem::take(&mut st.dbs[db].new_keys) {
            publish(st, st.hot.notify_flags, "new", &key, db);
        }
    }
}

fn publish(st: &mut State, flags: u32, event: &str, key: &[u8], db: usize) {
    if flags & KEYSPACE != 0 {
        let mut chan = Vec::with_capacity(20 + key.len());
        chan.extend_from_slice(format!("__keyspace@{db}__:").as_bytes());
        chan.extend_from_slice(key);
        super::pubsub::publish(st, &Bytes::from(chan), &Bytes::copy_from_slice(event.as_bytes()));
    }
    if flags & KEYEVENT != 0 {
        let chan = Bytes::from(format!("__keyevent@{db}__:{event}"));
        super::pubsub::publish(st, &chan, &Bytes::copy_from_slice(key));
    }
}

impl Ctx<'_> {
    /// Publishes `event` on `key` in the client's database if `class` is enabled.
    pub fn notify(&mut self, class: u32, event: &str, key: &[u8]) {
        if self.state.hot.notify_flags & (class | NEW) != 0 {
            let db = self.session.db;
            notify(self.state, class, event, key, db);
        }
    }
}
