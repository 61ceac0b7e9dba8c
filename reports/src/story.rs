//! A violation's story: what led to it, as a compact timeline read from the trace and, when
//! a replay followed it, the messages about it.
//!
//! The story keeps every fault, boot and failover state change (the context that explains a
//! server's behaviour), the last few events about the violation's addresses and clients
//! (leases, losses, bindings), the last few messages about them, and the violation itself.

use crate::event::{Event, Record, Violation};
use crate::reader::Trace;
use crate::timeline::Timeline;

/// What a violation is about: its addresses and clients.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// The addresses, as the trace writes them.
    pub addresses: Vec<String>,
    /// The clients' numbers.
    pub clients: Vec<u32>,
}

impl Subjects {
    /// The subjects of a violation.
    pub fn of(v: &Violation) -> Subjects {
        Subjects {
            addresses: v.addresses.clone(),
            clients: v.clients.clone(),
        }
    }

    fn address(&self, a: &str) -> bool {
        self.addresses.iter().any(|x| x == a)
    }

    fn client(&self, c: u32) -> bool {
        self.clients.contains(&c)
    }

    /// Whether `event` is about one of the subjects. A failover message other than a binding
    /// update or its acknowledgement (the handshake, STATE, UPDREQ, UPDDONE) is about every
    /// subject: few, and each can matter to the story.
    pub fn about(&self, event: &Event) -> bool {
        match event {
            Event::Lease {
                client, address, ..
            }
            | Event::Lost {
                client, address, ..
            } => self.client(*client) || self.address(address),
            Event::Declined {
                client,
                address,
                holder,
            } => self.client(*client) || self.client(*holder) || self.address(address),
            Event::Binding { address, .. } => self.address(address),
            Event::Dhcp(m) => {
                m.client.is_some_and(|c| self.client(c))
                    || m.address.as_deref().is_some_and(|a| self.address(a))
            }
            Event::Failover(m) => {
                !matches!(m.msg.as_str(), "BNDUPD" | "BNDACK")
                    || m.bindings.iter().any(|b| self.address(&b.address))
            }
            Event::ConnOpen { .. } | Event::ConnClose { .. } => true,
            _ => false,
        }
    }
}

/// Whether an event is context every story shows: a fault, a boot, a failover state change.
pub fn is_context(e: &Event) -> bool {
    matches!(
        e,
        Event::Fault(_) | Event::State { .. } | Event::Boot { .. } | Event::BootFailed { .. }
    )
}

/// How many events about the subjects, and how many messages, the story shows at most.
pub const STORY_EVENTS: usize = 6;
/// See [`STORY_EVENTS`].
pub const STORY_MESSAGES: usize = 8;

/// The story of the violation at `at_ms`: timeline lines, heading first, up to and including
/// the violation. `messages` are the replay's messages about it (may be empty).
pub fn story(trace: &Trace, messages: &[Record], at_ms: u64, v: &Violation) -> Vec<String> {
    let subjects = Subjects::of(v);
    // Merge by time; at one instant the trace's record comes before the message.
    let mut merged: Vec<(&Record, bool)> = trace
        .records
        .iter()
        .filter(|r| r.t_ms <= at_ms)
        .map(|r| (r, false))
        .chain(
            messages
                .iter()
                .filter(|r| r.t_ms <= at_ms)
                .map(|r| (r, true)),
        )
        .collect();
    merged.sort_by_key(|(r, message)| (r.t_ms, *message));
    let about: Vec<usize> = merged
        .iter()
        .enumerate()
        .filter(|(_, (r, message))| !message && !is_context(&r.event) && subjects.about(&r.event))
        .map(|(i, _)| i)
        .collect();
    let recent_events = &about[about.len().saturating_sub(STORY_EVENTS)..];
    let msgs: Vec<usize> = merged
        .iter()
        .enumerate()
        .filter(|(_, (r, message))| *message && subjects.about(&r.event))
        .map(|(i, _)| i)
        .collect();
    let recent_messages = &msgs[msgs.len().saturating_sub(STORY_MESSAGES)..];
    let mut timeline = Timeline::new(&trace.header);
    let mut out = vec![timeline.heading()];
    let mut told = false;
    for (i, (r, _)) in merged.iter().enumerate() {
        let this = matches!(&r.event, Event::Violation(x) if x == v) && r.t_ms == at_ms;
        let show = is_context(&r.event)
            || recent_events.contains(&i)
            || recent_messages.contains(&i)
            || (this && !told);
        told |= this;
        out.extend(timeline.step(r, show));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Header;

    fn trace(records: Vec<Record>) -> Trace {
        Trace {
            header: Header {
                clients: 3,
                ..crate::event::test_header(1000)
            },
            records,
        }
    }

    fn lease(t_ms: u64, client: u32, address: &str) -> Record {
        Record {
            t_ms,
            event: Event::Lease {
                client,
                address: address.into(),
                until_ms: t_ms + 1000,
            },
        }
    }

    #[test]
    fn the_story_keeps_context_and_the_subjects_and_ends_at_the_violation() {
        let v = Violation {
            property: "no-duplicate-lease".into(),
            detail: "two clients".into(),
            addresses: vec!["10.0.0.9".into()],
            clients: vec![1, 2],
        };
        let records = vec![
            Record {
                t_ms: 1,
                event: Event::Boot {
                    server: "primary".into(),
                },
            },
            lease(10, 1, "10.0.0.9"),
            lease(20, 3, "10.0.0.7"),
            lease(30, 2, "10.0.0.9"),
            Record {
                t_ms: 30,
                event: Event::Violation(v.clone()),
            },
            lease(40, 1, "10.0.0.9"),
        ];
        let lines = story(&trace(records), &[], 30, &v);
        let text = lines.join("\n");
        assert_eq!(lines.len(), 5, "{text}");
        assert!(text.contains("primary boots"));
        assert!(text.contains("client 1 holds 10.0.0.9"));
        assert!(
            !text.contains("client 3"),
            "not about the violation: {text}"
        );
        assert!(lines[4].contains("VIOLATION no-duplicate-lease"), "{text}");
        assert!(
            !text.contains("+0.040s"),
            "nothing after the violation: {text}"
        );
    }
}
