//! The compact terminal timeline (STYLE.md 21): one line per event, a glyph per kind, and a
//! status column per server that shows its failover state (or `down`) as of that line.
//!
//! ```text
//!          time  primary       secondary     event
//!   +20m00.000s  normal        normal        # partition: servers
//!   +20m30.000s  comm-int      comm-int      > secondary: normal -> communications-interrupted
//!   +31m02.120s  comm-int      partner-down  + client 7 holds 10.0.0.61 until +1h31m02.120s
//! ```
//!
//! The status columns are computed over every record, while only the lines a caller keeps
//! are printed, so a story filtered to one address still shows each server's state.

use crate::event::{Event, Header, Record};
use crate::time::fmt_ms;

/// The glyph that marks each kind of event.
pub fn glyph(event: &Event) -> char {
    match event {
        Event::Run(_) => '*',
        Event::Boot { .. } => '^',
        Event::BootFailed { .. } => '!',
        Event::Fault(_) => '#',
        Event::State { .. } => '>',
        Event::Binding { .. } => '~',
        Event::Lease { .. } => '+',
        Event::Lost { .. } => '-',
        Event::Declined { .. } => 'x',
        Event::Dhcp(_) => '.',
        Event::Failover(_) => '=',
        Event::ConnOpen { .. } | Event::ConnClose { .. } => '|',
        Event::Counts(_) => ':',
        Event::Violation(_) => '!',
        Event::Property(_) => '?',
        Event::End(_) => '*',
    }
}

/// A failover state as the status column shows it (at most 13 characters).
pub fn short_state(state: &str) -> &str {
    match state {
        "communications-interrupted" | "comm-interrupted" => "comm-int",
        "potential-conflict" => "pot-conflict",
        "resolution-interrupted" => "res-int",
        s => s,
    }
}

/// One event in words, without its time.
pub fn describe(event: &Event) -> String {
    match event {
        Event::Run(h) => format!("run {} seed {} ({})", h.scenario, h.seed, h.description),
        Event::Boot { server } => format!("{server} boots"),
        Event::BootFailed { server, error } => format!("{server} fails to boot: {error}"),
        Event::Fault(f) => match &f.detail {
            Some(d) => format!("{}: {d}", f.text),
            None => f.text.clone(),
        },
        Event::State {
            server, from, to, ..
        } => format!("{server}: {from} -> {to}"),
        Event::Binding {
            server,
            address,
            state,
            chaddr,
            ends_ms,
        } => {
            let mut s = format!("{server} binds {address} {state}");
            if let Some(c) = chaddr {
                s.push_str(&format!(" to {c}"));
            }
            if let Some(e) = ends_ms {
                s.push_str(&format!(" until {}", fmt_ms(*e)));
            }
            s
        }
        Event::Lease {
            client,
            address,
            until_ms,
        } => format!(
            "client {client} holds {address} until {}",
            fmt_ms(*until_ms)
        ),
        Event::Lost {
            client,
            address,
            why,
        } => format!("client {client} gives up {address} ({why})"),
        Event::Declined {
            client,
            address,
            holder,
        } => format!("client {client} declines {address}: its ARP probe found client {holder}"),
        Event::Dhcp(m) => {
            let mut s = format!("{} -> {} {} xid {:08x}", m.from, m.to, m.msg, m.xid);
            if let Some(a) = &m.address {
                s.push_str(&format!(" {a}"));
            }
            if let Some(l) = m.lease_s {
                s.push_str(&format!(" lease {l}s"));
            }
            s
        }
        Event::Failover(m) => {
            let mut s = format!("{} -> {} {} xid {}", m.from, m.to, m.msg, m.xid);
            for b in &m.bindings {
                s.push_str(&format!(" {}", b.address));
                if let Some(st) = &b.state {
                    s.push_str(&format!(" {st}"));
                }
                if let Some(p) = b.pet_ms {
                    s.push_str(&format!(" pet {}", fmt_ms(p)));
                }
            }
            if let Some(r) = m.reject {
                s.push_str(&format!(" REJECT {r}"));
            }
            if m.blackholed {
                s.push_str(" (lost in a cut)");
            }
            s
        }
        Event::ConnOpen {
            conn,
            dialer,
            acceptor,
            ..
        } => format!("{dialer} connects to {acceptor} (connection {conn})"),
        Event::ConnClose {
            conn,
            by,
            blackholed,
            ..
        } => {
            let lost = if *blackholed { " (lost in a cut)" } else { "" };
            format!("{by} closes connection {conn}{lost}")
        }
        Event::Counts(c) => format!(
            "{} clients bound, {} waiting",
            c.clients_bound, c.clients_waiting
        ),
        Event::Violation(v) => format!("VIOLATION {}: {}", v.property, v.detail),
        Event::Property(p) => format!("{} {}: {}", p.property, p.status, p.basis),
        Event::End(e) => match &e.unfinished {
            Some(why) => format!("end: {} ({why})", e.outcome),
            None => format!("end: {}", e.outcome),
        },
    }
}

/// Renders timeline lines, tracking each server's state over every record it is shown.
#[derive(Debug, Clone)]
pub struct Timeline {
    servers: Vec<String>,
    status: Vec<String>,
}

/// The width of a status column.
const COLUMN: usize = 13;

impl Timeline {
    /// A timeline for the servers of a trace.
    pub fn new(header: &Header) -> Timeline {
        let servers: Vec<String> = header.servers.iter().map(|s| s.name.clone()).collect();
        let status = vec!["-".to_string(); servers.len()];
        Timeline { servers, status }
    }

    /// The heading line.
    pub fn heading(&self) -> String {
        let mut s = format!("{:>14}", "time");
        for name in &self.servers {
            s.push_str(&format!("  {name:<COLUMN$}"));
        }
        s.push_str("  event");
        s
    }

    /// Take `record` into the status columns; its line if `show`.
    pub fn step(&mut self, record: &Record, show: bool) -> Option<String> {
        match &record.event {
            Event::State { server, to, .. } => self.set(server, short_state(to)),
            Event::Boot { server } => self.set(server, "startup"),
            Event::Fault(f) => {
                if let Some(w) = &f.window
                    && w.opens
                    && let Some(server) = w.key.strip_prefix("down ")
                {
                    self.set(server, "down");
                }
            }
            _ => {}
        }
        show.then(|| self.line(record))
    }

    fn set(&mut self, server: &str, status: &str) {
        if let Some(i) = self.servers.iter().position(|s| s == server) {
            self.status[i] = status.to_string();
        }
    }

    fn line(&self, record: &Record) -> String {
        let mut s = format!("{:>14}", fmt_ms(record.t_ms));
        for st in &self.status {
            s.push_str(&format!("  {st:<COLUMN$}"));
        }
        s.push_str(&format!(
            "  {} {}",
            glyph(&record.event),
            describe(&record.event)
        ));
        s
    }
}

/// The whole timeline of `records` (every kind but the periodic counts), heading first.
pub fn render(header: &Header, records: &[Record]) -> Vec<String> {
    let mut t = Timeline::new(header);
    let mut out = vec![t.heading()];
    for r in records {
        let show = !matches!(r.event, Event::Counts(_));
        out.extend(t.step(r, show));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Fault, FaultWindow};

    fn header() -> Header {
        Header {
            duration_ms: 1000,
            ..crate::event::test_header(1000)
        }
    }

    #[test]
    fn the_status_columns_follow_states_and_crashes_even_when_lines_are_hidden() {
        let rec = |t_ms, event| Record { t_ms, event };
        let records = vec![
            rec(
                0,
                Event::State {
                    server: "primary".into(),
                    relationship: "r".into(),
                    from: "startup".into(),
                    to: "normal".into(),
                },
            ),
            rec(
                5_000,
                Event::Fault(Fault {
                    verb: "crash".into(),
                    text: "crash: secondary".into(),
                    servers: vec!["secondary".into()],
                    detail: None,
                    window: Some(FaultWindow {
                        key: "down secondary".into(),
                        opens: true,
                    }),
                }),
            ),
            rec(
                65_000,
                Event::State {
                    server: "primary".into(),
                    relationship: "r".into(),
                    from: "normal".into(),
                    to: "communications-interrupted".into(),
                },
            ),
        ];
        let mut t = Timeline::new(&header());
        assert!(t.step(&records[0], false).is_none());
        let crash = t.step(&records[1], true).unwrap();
        assert!(crash.starts_with("       +5.000s  normal"), "{crash}");
        assert!(
            crash.contains("down           # crash: secondary"),
            "{crash}"
        );
        let comm = t.step(&records[2], true).unwrap();
        assert!(comm.contains("+1m05.000s  comm-int       down"), "{comm}");
        assert!(comm.ends_with("> primary: normal -> communications-interrupted"));
        let all = render(&header(), &records);
        assert_eq!(all.len(), 4);
        assert!(all[0].contains("primary") && all[0].ends_with("event"));
    }
}
