//! The run in the Trace Event Format (the JSON that Perfetto's UI and chrome://tracing open):
//! `trace.perfetto.json`. Users already know how to zoom and search there; we do not rebuild
//! that viewer.
//!
//! * a process per server, with a track of its failover states as slices, and a track of the
//!   failover messages it sent (a flow arrow from each BNDUPD to the BNDACK that answers it,
//!   matched by connection and transaction ID);
//! * counter tracks: each server's bindings by state and its unacknowledged updates, the
//!   clients bound and waiting, DHCP requests and replies per sample;
//! * faults and violations as instant events across the whole run; each fault window (a cut,
//!   a server down) as a slice on a track of its own in the "faults" process;
//! * for a violation, each of its clients' leases as slices on its own track.
//!
//! Messages come from a full trace or `messages.jsonl`; a lean trace without them still shows
//! states, counts, faults and violations. Timestamps are microseconds since the run's start.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::event::{Event, Record};
use crate::reader::Trace;
use crate::time::fmt_ms;

/// Process IDs: servers are 1.., in the header's order; these come after them.
const FAULTS_PID: u64 = 100;
const CLIENTS_PID: u64 = 101;
/// Thread IDs within a server's process.
const STATE_TID: u64 = 1;
const MESSAGES_TID: u64 = 2;

fn us(t_ms: u64) -> u64 {
    t_ms.saturating_mul(1000)
}

/// The Trace Event Format document for a trace and the messages kept beside it.
pub fn render(trace: &Trace, messages: &[Record]) -> Value {
    let mut events: Vec<Value> = Vec::new();
    let servers: Vec<&str> = trace
        .header
        .servers
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let pid_of = |name: &str| {
        servers
            .iter()
            .position(|s| *s == name)
            .map(|i| i as u64 + 1)
    };
    for (i, name) in servers.iter().enumerate() {
        let pid = i as u64 + 1;
        events.push(meta("process_name", pid, None, name));
        events.push(meta("thread_name", pid, Some(STATE_TID), "failover state"));
        events.push(meta(
            "thread_name",
            pid,
            Some(MESSAGES_TID),
            "failover messages sent",
        ));
    }
    events.push(meta("process_name", FAULTS_PID, None, "faults"));
    events.push(meta("process_name", CLIENTS_PID, None, "clients"));

    let end_ms = trace
        .records
        .last()
        .map_or(trace.header.duration_ms, |r| r.t_ms);
    // Failover states: a slice from each change to the next (or the end, or a crash).
    let mut state_since: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let close_state = |events: &mut Vec<Value>, server: &str, at: u64, since: (u64, String)| {
        if let Some(pid) = pid_of(server) {
            events.push(
                json!({"name": since.1, "cat": "state", "ph": "X", "pid": pid,
                "tid": STATE_TID, "ts": us(since.0), "dur": us(at.saturating_sub(since.0))}),
            );
        }
    };
    // Fault windows: open key -> (start, text). Windows of different keys may overlap
    // without nesting (a cut while a server is down), so each key has its own track.
    let mut windows: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut tracks: BTreeMap<String, u64> = BTreeMap::new();
    let mut close_window = |events: &mut Vec<Value>, at: u64, key: &str, w: (u64, String)| {
        let next = tracks.len() as u64 + 2;
        let tid = *tracks.entry(key.to_string()).or_insert_with(|| {
            events.push(meta("thread_name", FAULTS_PID, Some(next), key));
            next
        });
        events.push(
            json!({"name": key, "cat": "fault", "ph": "X", "pid": FAULTS_PID,
            "tid": tid, "ts": us(w.0), "dur": us(at.saturating_sub(w.0)), "args": {"fault": w.1}}),
        );
    };
    let mut subjects: Vec<u32> = Vec::new();
    for r in &trace.records {
        match &r.event {
            Event::State { server, to, .. } => {
                if let Some(prev) = state_since.insert(server.clone(), (r.t_ms, to.clone())) {
                    close_state(&mut events, server, r.t_ms, prev);
                }
            }
            Event::Fault(f) => {
                events.push(json!({"name": f.text, "cat": "fault", "ph": "i", "s": "g",
                    "pid": FAULTS_PID, "tid": 1, "ts": us(r.t_ms), "args": {"detail": f.detail}}));
                if let Some(w) = &f.window {
                    if w.opens {
                        windows
                            .entry(w.key.clone())
                            .or_insert((r.t_ms, f.text.clone()));
                    } else if let Some(open) = windows.remove(&w.key) {
                        close_window(&mut events, r.t_ms, &w.key, open);
                    }
                    if w.opens
                        && let Some(server) = w.key.strip_prefix("down ")
                        && let Some(prev) = state_since.remove(server)
                    {
                        close_state(&mut events, server, r.t_ms, prev);
                    }
                }
            }
            Event::Boot { server } => {
                if let Some(open) = windows.remove(&format!("down {server}")) {
                    close_window(&mut events, r.t_ms, &format!("down {server}"), open);
                }
            }
            Event::Counts(c) => {
                for s in &c.servers {
                    if let Some(pid) = pid_of(&s.server) {
                        events.push(json!({"name": "bindings", "ph": "C", "pid": pid,
                            "ts": us(r.t_ms), "args": {"active": s.active, "free": s.free,
                            "backup": s.backup, "other": s.other}}));
                        events.push(json!({"name": "unacked updates", "ph": "C", "pid": pid,
                            "ts": us(r.t_ms), "args": {"unacked": s.unacked}}));
                    }
                }
                events.push(json!({"name": "clients", "ph": "C", "pid": CLIENTS_PID,
                    "ts": us(r.t_ms), "args": {"bound": c.clients_bound,
                    "waiting": c.clients_waiting}}));
                events.push(
                    json!({"name": "DHCP per sample", "ph": "C", "pid": CLIENTS_PID,
                    "ts": us(r.t_ms), "args": {"requests": c.dhcp_requests,
                    "replies": c.dhcp_replies}}),
                );
            }
            Event::Violation(v) => {
                events.push(
                    json!({"name": format!("VIOLATION {}", v.property), "cat": "violation",
                    "ph": "i", "s": "g", "pid": FAULTS_PID, "tid": 1, "ts": us(r.t_ms),
                    "args": {"detail": v.detail, "at": fmt_ms(r.t_ms)}}),
                );
                subjects.extend(v.clients.iter().copied());
            }
            _ => {}
        }
    }
    for (server, since) in std::mem::take(&mut state_since) {
        close_state(&mut events, &server, end_ms, since);
    }
    for (key, open) in std::mem::take(&mut windows) {
        close_window(&mut events, end_ms, &key, open);
    }
    leases(&mut events, trace, &subjects, end_ms);
    flows(&mut events, trace, messages, &pid_of);
    json!({
        "displayTimeUnit": "ms",
        "otherData": {
            "scenario": trace.header.scenario,
            "seed": trace.header.seed,
            "dhcpfo_version": trace.header.dhcpfo_version,
            "epoch_unix_ms": trace.header.epoch_unix_ms,
        },
        "traceEvents": events,
    })
}

fn meta(name: &str, pid: u64, tid: Option<u64>, value: &str) -> Value {
    match tid {
        Some(tid) => {
            json!({"name": name, "ph": "M", "pid": pid, "tid": tid, "args": {"name": value}})
        }
        None => json!({"name": name, "ph": "M", "pid": pid, "args": {"name": value}}),
    }
}

/// The leases of a violation's clients, each client on its own track.
fn leases(events: &mut Vec<Value>, trace: &Trace, subjects: &[u32], end_ms: u64) {
    let mut held: BTreeMap<u32, (u64, String)> = BTreeMap::new();
    for c in subjects {
        events.push(meta(
            "thread_name",
            CLIENTS_PID,
            Some(u64::from(*c) + 1),
            &format!("client {c}"),
        ));
    }
    let slice = |events: &mut Vec<Value>, client: u32, from: u64, to: u64, address: &str| {
        events.push(
            json!({"name": address, "cat": "lease", "ph": "X", "pid": CLIENTS_PID,
            "tid": u64::from(client) + 1, "ts": us(from), "dur": us(to.saturating_sub(from))}),
        );
    };
    for r in &trace.records {
        match &r.event {
            Event::Lease {
                client, address, ..
            } if subjects.contains(client) => {
                if let Some((from, a)) = held.get(client).cloned()
                    && a != *address
                {
                    slice(events, *client, from, r.t_ms, &a);
                    held.insert(*client, (r.t_ms, address.clone()));
                }
                held.entry(*client).or_insert((r.t_ms, address.clone()));
            }
            Event::Lost { client, .. } if subjects.contains(client) => {
                if let Some((from, a)) = held.remove(client) {
                    slice(events, *client, from, r.t_ms, &a);
                }
            }
            _ => {}
        }
    }
    for (client, (from, a)) in held {
        slice(events, client, from, end_ms, &a);
    }
}

/// Every failover message as a short slice on its sender's track, with a flow from each
/// BNDUPD to the BNDACK that answers it (same connection and transaction ID).
fn flows(
    events: &mut Vec<Value>,
    trace: &Trace,
    messages: &[Record],
    pid_of: &dyn Fn(&str) -> Option<u64>,
) {
    let all = trace
        .records
        .iter()
        .chain(messages.iter())
        .filter(|r| matches!(r.event, Event::Failover(_)));
    let mut pending: BTreeMap<(u64, u32), u64> = BTreeMap::new();
    let mut next_flow = 1u64;
    for r in all {
        let Event::Failover(m) = &r.event else {
            continue;
        };
        let Some(pid) = pid_of(&m.from) else {
            continue;
        };
        let addresses: Vec<&str> = m.bindings.iter().map(|b| b.address.as_str()).collect();
        events.push(
            json!({"name": m.msg, "cat": "failover", "ph": "X", "pid": pid,
            "tid": MESSAGES_TID, "ts": us(r.t_ms), "dur": 1000,
            "args": {"to": m.to, "xid": m.xid, "conn": m.conn, "bindings": addresses,
                "reject": m.reject}}),
        );
        match m.msg.as_str() {
            "BNDUPD" => {
                let id = next_flow;
                next_flow += 1;
                pending.insert((m.conn, m.xid), id);
                events.push(json!({"name": "BNDUPD", "cat": "flow", "ph": "s", "id": id,
                    "pid": pid, "tid": MESSAGES_TID, "ts": us(r.t_ms)}));
            }
            "BNDACK" => {
                if let Some(id) = pending.remove(&(m.conn, m.xid)) {
                    events.push(
                        json!({"name": "BNDUPD", "cat": "flow", "ph": "f", "bp": "e",
                        "id": id, "pid": pid, "tid": MESSAGES_TID, "ts": us(r.t_ms)}),
                    );
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FailoverMessage, Fault, FaultWindow, Header, Level, Violation};

    fn header() -> Header {
        Header {
            level: Level::Full,
            duration_ms: 10_000,
            ..crate::event::test_header(10_000)
        }
    }

    fn msg(t_ms: u64, from: &str, to: &str, kind: &str, xid: u32) -> Record {
        Record {
            t_ms,
            event: Event::Failover(FailoverMessage {
                relationship: "r".into(),
                from: from.into(),
                to: to.into(),
                conn: 1,
                msg: kind.into(),
                xid,
                bindings: Vec::new(),
                reject: None,
                delivered_ms: Some(t_ms + 1),
                blackholed: false,
                bytes: String::new(),
            }),
        }
    }

    #[test]
    fn states_become_slices_faults_windows_and_updates_flow_to_their_acks() {
        let state = |t_ms, server: &str, to: &str| Record {
            t_ms,
            event: Event::State {
                server: server.into(),
                relationship: "r".into(),
                from: "x".into(),
                to: to.into(),
            },
        };
        let records = vec![
            state(0, "primary", "normal"),
            msg(10, "primary", "secondary", "BNDUPD", 7),
            msg(12, "secondary", "primary", "BNDACK", 7),
            Record {
                t_ms: 2_000,
                event: Event::Fault(Fault {
                    verb: "partition".into(),
                    text: "partition: servers".into(),
                    servers: Vec::new(),
                    detail: None,
                    window: Some(FaultWindow {
                        key: "cut servers".into(),
                        opens: true,
                    }),
                }),
            },
            state(3_000, "primary", "communications-interrupted"),
            Record {
                t_ms: 4_000,
                event: Event::Violation(Violation {
                    property: "mclt".into(),
                    detail: "late".into(),
                    addresses: Vec::new(),
                    clients: Vec::new(),
                }),
            },
        ];
        let t = Trace {
            header: header(),
            records,
        };
        let doc = render(&t, &[]);
        let events = doc["traceEvents"].as_array().unwrap();
        let find = |name: &str, ph: &str| {
            events
                .iter()
                .find(|e| e["name"] == name && e["ph"] == ph)
                .unwrap_or_else(|| panic!("{name} {ph} in {doc}"))
        };
        let normal = find("normal", "X");
        assert_eq!(
            (normal["ts"].as_u64(), normal["dur"].as_u64()),
            (Some(0), Some(3_000_000))
        );
        assert_eq!(find("communications-interrupted", "X")["dur"], 1_000_000);
        let cut = find("cut servers", "X");
        assert_eq!(
            (cut["ts"].as_u64(), cut["dur"].as_u64()),
            (Some(2_000_000), Some(2_000_000))
        );
        assert_eq!(find("partition: servers", "i")["s"], "g");
        assert_eq!(find("VIOLATION mclt", "i")["ts"], 4_000_000);
        let (start, finish) = (find("BNDUPD", "s"), find("BNDUPD", "f"));
        assert_eq!(start["id"], finish["id"]);
        assert_eq!(start["pid"], 1);
        assert_eq!(finish["pid"], 2);
        assert_eq!(finish["ts"], 12_000);
        assert_eq!(find("process_name", "M")["args"]["name"], "primary");
    }
}
