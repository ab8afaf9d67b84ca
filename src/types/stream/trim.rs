//! Trimming from the head (streamTrim): whole nodes while they can go, then, unless approximate,
//! entries flagged deleted inside the first node that must stay.

use super::id::StreamId;
use super::node;
use super::Stream;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrimStrategy {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Keep no entry below this ID.
    MinId(StreamId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrimArgs {
    pub strategy: TrimStrategy,
    /// `~`: only whole nodes go.
    pub approx: bool,
    /// Most entries to delete; 0 = no limit.
    pub limit: u64,
}

impl Stream {
    /// Trims as streamTrim does; returns how many entries were deleted.
    pub fn trim(&mut self, args: TrimArgs) -> u64 {
        let mut deleted: u64 = 0;
        loop {
            if let TrimStrategy::MaxLen(maxlen) = args.strategy {
                if self.length <= maxlen {
                    break;
                }
            }
            let Some((master_id, lp)) = self.nodes.first_mut() else { break };
            let Some(m) = node::master(lp) else { break };
            let entries = m.live.max(0) as u64;
            if args.limit > 0 && deleted + entries > args.limit {
                break;
            }
            let remove_node = match args.strategy {
                TrimStrategy::MaxLen(maxlen) => self.length.saturating_sub(entries) >= maxlen,
                TrimStrategy::MinId(min) => node::last_id(lp, master_id).is_some_and(|last| last < min),
            };
            if remove_node {
                self.nodes.remove(master_id);
                self.length = self.length.saturating_sub(entries);
                deleted += entries;
                continue;
            }
            if args.approx {
                break;
            }
            let mut deleted_here: i64 = 0;
            let mut at = node::first_entry_pos(lp, &m);
            while let Some(p) = at {
                let Some(e) = node::entry_at(lp, master_id, &m, p) else { break };
                let stop = match args.strategy {
                    TrimStrategy::MaxLen(maxlen) => self.length <= maxlen,
                    TrimStrategy::MinId(min) => e.id >= min,
                };
                if stop {
                    break;
                }
                // Flagging keeps the element's size, so the positions after it stay valid.
                if !e.deleted() {
                    node::mark_deleted(lp, e.flags_pos, e.flags);
                    deleted_here += 1;
                    self.length -= 1;
                }
                at = node::next_entry_pos(lp, &e);
            }
            deleted += deleted_here as u64;
            node::set_counts(lp, |live, marked| (live - deleted_here, marked + deleted_here));
            break;
        }
        if self.length == 0 {
            self.first_id = StreamId::MIN;
        } else if deleted > 0 {
            self.first_id = self.edge_id(true, true);
        }
        deleted
    }
}
