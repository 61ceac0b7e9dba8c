//! The run's trace: one JSON object per line (`trace.jsonl`), and its hash.
//!
//! The trace is the contract between a run and everything after it (DESIGN.md): faults,
//! failover state changes, what each client believes it holds, and checker verdicts, each
//! with its virtual time. This is the lean trace: it leaves out the individual messages,
//! which a replay of the same seed regenerates. The hash is FNV-1a over the lines, so two
//! runs agree on it exactly when their traces are byte-identical.

use std::net::Ipv4Addr;

use dhcpfo_engine::time::Time;

/// The trace schema version, written in the first line.
pub const SCHEMA: u32 = 1;

/// An append-only trace.
#[derive(Debug, Clone)]
pub struct Trace {
    lines: Vec<String>,
    hash: u64,
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

impl Trace {
    /// An empty trace.
    pub fn new() -> Trace {
        let mut t = Trace {
            lines: Vec::new(),
            hash: 0xcbf2_9ce4_8422_2325,
        };
        t.push(format!("{{\"schema\":{SCHEMA}}}"));
        t
    }

    fn push(&mut self, line: String) {
        for b in line.bytes().chain([b'\n']) {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.lines.push(line);
    }

    /// An event with string fields.
    pub fn event(&mut self, at: Time, kind: &str, fields: &[(&str, String)]) {
        let mut line = format!("{{\"t_ms\":{},\"kind\":{}", at.as_millis(), json_str(kind));
        for (k, v) in fields {
            line.push_str(&format!(",{}:{}", json_str(k), json_str(v)));
        }
        line.push('}');
        self.push(line);
    }

    /// A client accepted a lease.
    pub fn lease(&mut self, at: Time, client: usize, address: Ipv4Addr, until: Time) {
        self.push(format!(
            "{{\"t_ms\":{},\"kind\":\"lease\",\"client\":{client},\"address\":\"{address}\",\"until_ms\":{}}}",
            at.as_millis(),
            until.as_millis()
        ));
    }

    /// A client gave up an address.
    pub fn lost(&mut self, at: Time, client: usize, address: Ipv4Addr, why: &str) {
        self.push(format!(
            "{{\"t_ms\":{},\"kind\":\"lost\",\"client\":{client},\"address\":\"{address}\",\"why\":{}}}",
            at.as_millis(),
            json_str(why)
        ));
    }

    /// The story of a violation: the last `limit` lines that mention one of `subjects`, or
    /// record a fault or a failover state change — oldest first.
    pub fn history(&self, subjects: &[String], limit: usize) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines
            .iter()
            .rev()
            .filter(|l| {
                l.contains("\"kind\":\"state\"")
                    || l.contains("\"kind\":\"fault\"")
                    || subjects.iter().any(|s| l.contains(s.as_str()))
            })
            .take(limit)
            .cloned()
            .collect();
        out.reverse();
        out
    }

    /// The lines so far.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// The hash of the lines so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_traces_hash_equal_and_any_difference_changes_the_hash() {
        let mut a = Trace::new();
        let mut b = Trace::new();
        a.event(Time::from_secs(1), "x", &[("k", "v\"q".into())]);
        b.event(Time::from_secs(1), "x", &[("k", "v\"q".into())]);
        assert_eq!(a.hash(), b.hash());
        b.lease(
            Time::from_secs(2),
            1,
            Ipv4Addr::new(10, 0, 0, 1),
            Time::from_secs(3),
        );
        assert_ne!(a.hash(), b.hash());
        for l in b.lines() {
            serde_json::from_str::<serde_json::Value>(l).expect("each line is JSON");
        }
    }
}
