//! The run's trace: one JSON object per line (`trace.jsonl`), and its hash.
//!
//! The trace is the contract between a run and everything after it (DESIGN.md): faults,
//! failover state changes, what each client believes it holds, and checker verdicts, each
//! with its virtual time. This is the lean trace: it leaves out the individual messages,
//! which a replay of the same seed regenerates. The hash is FNV-1a over the lines, so two
//! runs agree on it exactly when their traces are byte-identical.

use std::fmt::Write;
use std::net::Ipv4Addr;

use dhcpfo_engine::time::Time;

/// The trace schema version, written in the first line.
pub const SCHEMA: u32 = 1;

/// An append-only trace. The lines live in one text buffer (a day of 10 000 clients writes
/// half a million of them), each ending in a newline; `hashed` is how much of it the hash has
/// read.
#[derive(Debug, Clone)]
pub struct Trace {
    text: String,
    hashed: usize,
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
            text: String::new(),
            hashed: 0,
            hash: 0xcbf2_9ce4_8422_2325,
        };
        let _ = write!(t.text, "{{\"schema\":{SCHEMA}}}");
        t.end_line();
        t
    }

    /// Ends the line written since the last one and folds it into the hash.
    fn end_line(&mut self) {
        self.text.push('\n');
        for &b in &self.text.as_bytes()[self.hashed..] {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.hashed = self.text.len();
    }

    /// An event with string fields.
    pub fn event(&mut self, at: Time, kind: &str, fields: &[(&str, String)]) {
        let _ = write!(
            self.text,
            "{{\"t_ms\":{},\"kind\":{}",
            at.as_millis(),
            json_str(kind)
        );
        for (k, v) in fields {
            let _ = write!(self.text, ",{}:{}", json_str(k), json_str(v));
        }
        self.text.push('}');
        self.end_line();
    }

    /// A client accepted a lease.
    pub fn lease(&mut self, at: Time, client: usize, address: Ipv4Addr, until: Time) {
        // The most frequent line (one per lease): written by hand, not through `format!`.
        let t = &mut self.text;
        t.push_str("{\"t_ms\":");
        push_u64(t, at.as_millis());
        t.push_str(",\"kind\":\"lease\",\"client\":");
        push_u64(t, client as u64);
        t.push_str(",\"address\":\"");
        for (i, octet) in address.octets().into_iter().enumerate() {
            if i > 0 {
                t.push('.');
            }
            push_u64(t, u64::from(octet));
        }
        t.push_str("\",\"until_ms\":");
        push_u64(t, until.as_millis());
        t.push('}');
        self.end_line();
    }

    /// A client gave up an address.
    pub fn lost(&mut self, at: Time, client: usize, address: Ipv4Addr, why: &str) {
        let _ = write!(
            self.text,
            "{{\"t_ms\":{},\"kind\":\"lost\",\"client\":{client},\"address\":\"{address}\",\"why\":{}}}",
            at.as_millis(),
            json_str(why)
        );
        self.end_line();
    }

    /// The story of a violation: the last `limit` lines that mention one of `subjects`, or
    /// record a fault or a failover state change — oldest first.
    pub fn history(&self, subjects: &[String], limit: usize) -> Vec<String> {
        let mut out: Vec<String> = self
            .lines()
            .rev()
            .filter(|l| {
                l.contains("\"kind\":\"state\"")
                    || l.contains("\"kind\":\"fault\"")
                    || subjects.iter().any(|s| l.contains(s.as_str()))
            })
            .take(limit)
            .map(str::to_owned)
            .collect();
        out.reverse();
        out
    }

    /// The lines so far, without their newlines.
    pub fn lines(&self) -> impl DoubleEndedIterator<Item = &str> {
        self.text.lines()
    }

    /// The whole trace as `trace.jsonl` holds it: every line, each ending in a newline.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The hash of the lines so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// Appends `n` in decimal.
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written: always valid UTF-8.
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or_default());
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
        let lease = b.lines().last().unwrap();
        assert_eq!(
            lease,
            r#"{"t_ms":2000,"kind":"lease","client":1,"address":"10.0.0.1","until_ms":3000}"#
        );
    }

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [0, 7, 10, 255, 1_800_000_000_123, u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
