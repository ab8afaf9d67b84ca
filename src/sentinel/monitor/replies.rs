//! What the links report: closed links, replies by what they answer, hello messages.

use super::super::instance::InstanceId;
use super::super::link::LinkEvent;
use super::{instance_of, Runtime, Tag};
use crate::client::Value;

impl Runtime {
    /// A link's report.
    pub fn handle_event(&mut self, event: LinkEvent<Tag>, now_ms: u64) {
        match event {
            LinkEvent::Connected { .. } => {}
            LinkEvent::Closed { id, .. } => {
                let (instance, pubsub) = instance_of(id);
                if let Some(l) = self.links.get_mut(&instance) {
                    // Only if it is still that link (a newer one, still connecting, may have
                    // replaced it).
                    let slot = if pubsub { &mut l.pubsub } else { &mut l.cmd };
                    if slot.as_ref().is_some_and(|link| !link.is_open()) {
                        *slot = None;
                    }
                }
            }
            LinkEvent::Reply { id, tag, value } => self.handle_reply(instance_of(id).0, tag, value, now_ms),
            LinkEvent::Message { id, payload, .. } => {
                let instance = instance_of(id).0;
                if let Some(r) = self.find_mut(instance) {
                    r.last_hello_ms = now_ms;
                }
                self.process_hello(&payload, now_ms);
            }
        }
    }

    /// A reply on the links under `key`.
    fn handle_reply(&mut self, key: InstanceId, tag: Tag, value: Value, now_ms: u64) {
        match tag {
            Tag::Ping => {
                let available = matches!(&value, Value::Status(text) | Value::Error(text)
                    if text.starts_with("PONG") || text.starts_with("LOADING") || text.starts_with("MASTERDOWN"));
                let busy = matches!(&value, Value::Error(text) if text.starts_with("BUSY"));
                let pong = matches!(&value, Value::Status(text) if text.starts_with("PONG"));
                for (m, id) in self.records_on_link(key) {
                    let Some(r) = self.sentinel.masters[m].find_mut(id) else { continue };
                    if available {
                        r.last_avail_ms = now_ms;
                        r.act_ping_ms = 0;
                    }
                    // Only a real PONG says a restarted master serves again (not LOADING).
                    if pong {
                        r.master_reboot_since = None;
                    }
                    r.last_pong_ms = now_ms;
                    // Down only because a script runs too long: kill it, once per SDOWN.
                    if busy && r.s_down && !r.script_kill_sent {
                        r.script_kill_sent = true;
                        let script = self.sentinel.masters[m].command_name("SCRIPT");
                        if let Some(cmd) = self.links.get(&key).and_then(|l| l.cmd.as_ref()) {
                            cmd.send(vec![script, b"KILL".to_vec()], Tag::Ignored);
                        }
                    }
                }
            }
            Tag::Info => {
                let Some(m) = self.locate(key) else { return };
                if let Value::Bulk(b) = value {
                    self.refresh_from_info(m, key, String::from_utf8_lossy(&b).into_owned(), now_ms);
                }
            }
            Tag::Publish(id) => {
                let Some(m) = self.locate(id) else { return };
                if !matches!(value, Value::Error(_)) {
                    if let Some(r) = self.sentinel.masters[m].find_mut(id) {
                        r.last_pub_ms = now_ms;
                    }
                }
            }
            Tag::IsMasterDown(id) => {
                let Some(m) = self.locate(id) else { return };
                self.master_down_reply(m, id, value, now_ms);
            }
            Tag::Ignored => {}
        }
    }
}
