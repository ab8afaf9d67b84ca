//! Replacing every database at once (emptyData, swapMainDbWithTempDb): FLUSHALL, DEBUG RELOAD and a
//! replica's full sync. The data goes, but what clients registered on its keys stays, and they
//! learn of the change as Redis tells them: WATCH of a key that existed (or exists afterwards) is
//! broken, readers blocked on a stream that is gone are looked at again, and clients tracking keys
//! are told to drop them all.

use crate::keyspace::{Db, Value};

use super::blocking::Blocking;
use super::state::State;

impl State {
    /// emptyData(-1): every database emptied. The old data is returned so that the caller can free
    /// it without holding the keyspace.
    pub fn empty_dataset(&mut self) -> Vec<Db> {
        let empty = (0..self.dbs.len()).map(|_| Db::new()).collect();
        self.replace_dataset(empty)
    }

    /// The databases of `new` take the place of the current ones (a full sync's loaded data). The
    /// old data is returned, to be freed outside the lock.
    pub fn replace_dataset(&mut self, mut new: Vec<Db>) -> Vec<Db> {
        new.resize_with(self.dbs.len(), Db::new);
        // Clients caching keys drop them all (trackingInvalidateKeysOnFlush).
        super::tracking::invalidate_all(self);
        let now_ms = crate::util::time::unix_ms();
        for (i, (old, new)) in self.dbs.iter_mut().zip(new.iter_mut()).enumerate() {
            // touchAllWatchedKeysInDb(emptied, replaced_with).
            old.touch_all_watched(Some(new), now_ms);
            signal_deleted_streams(&mut self.blocking, i, old, Some(new));
            new.watched = std::mem::take(&mut old.watched);
            new.record_new_keys = old.record_new_keys;
        }
        std::mem::replace(&mut self.dbs, new)
    }
}

/// scanDatabaseForDeletedStreams: the keys waited on in database `db` that held a stream and will
/// not (`replaced_with` is what takes its place, if anything) are signalled ready, so that their
/// XREADGROUP readers get their error once the command (or load) is over. Other waiters have
/// nothing new to look at.
pub fn signal_deleted_streams(blocking: &mut Blocking, db: usize, emptied: &Db, replaced_with: Option<&Db>) {
    let is_stream = |d: &Db, key: &[u8]| d.get_raw(key).is_some_and(|e| matches!(e.value(), Value::Stream(_)));
    for key in blocking.waited_keys(db) {
        if is_stream(emptied, &key) && !replaced_with.is_some_and(|r| is_stream(r, &key)) {
            blocking.signal(db, &key);
        }
    }
}
