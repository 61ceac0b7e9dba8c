//! Writing a trace as the run goes: each record is serialized to one line and handed to a
//! buffered sink at once, so a run never holds its trace in memory, and the lean lines are
//! folded into the trace hash.
//!
//! The hash is FNV-1a over the lean lines' bytes (each with its newline): two runs agree on it
//! exactly when their lean traces are byte-identical, and a full trace of the same run
//! (messages included) has the same hash.

use std::io::Write;

use crate::event::{Event, Level, Record};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Which records a trace keeps ([`TraceWriter::keeping`]).
pub type Keep = Box<dyn FnMut(&Record) -> bool + Send>;

/// A trace being written.
pub struct TraceWriter {
    sink: Option<Box<dyn Write + Send>>,
    keep: Option<Keep>,
    level: Level,
    line: Vec<u8>,
    hash: u64,
    lines: u64,
    bytes: u64,
    error: Option<std::io::Error>,
}

impl std::fmt::Debug for TraceWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceWriter")
            .field("level", &self.level)
            .field("hash", &format_args!("{:016x}", self.hash))
            .field("lines", &self.lines)
            .finish_non_exhaustive()
    }
}

impl TraceWriter {
    /// A trace written to `sink` (buffer it: every record is one `write_all`).
    pub fn new(sink: Box<dyn Write + Send>, level: Level) -> TraceWriter {
        TraceWriter {
            sink: Some(sink),
            keep: None,
            level,
            line: Vec::with_capacity(256),
            hash: FNV_OFFSET,
            lines: 0,
            bytes: 0,
            error: None,
        }
    }

    /// A trace that is only hashed, never written (a sweep's seeds, a test).
    pub fn hash_only() -> TraceWriter {
        TraceWriter {
            sink: None,
            keep: None,
            level: Level::Lean,
            line: Vec::with_capacity(256),
            hash: FNV_OFFSET,
            lines: 0,
            bytes: 0,
            error: None,
        }
    }

    /// Write only the records `keep` accepts (a replay that keeps the messages about one
    /// violation). The hash still covers every lean record, kept or not, so the replay can be
    /// checked against the run it repeats.
    pub fn keeping(mut self, keep: Keep) -> TraceWriter {
        self.keep = Some(keep);
        self
    }

    /// How much this trace holds.
    pub fn level(&self) -> Level {
        self.level
    }

    /// Whether message events are wanted: the caller can skip building them otherwise.
    pub fn wants_messages(&self) -> bool {
        self.level == Level::Full && self.sink.is_some()
    }

    /// Write one record. A message event is dropped unless the trace is full; a failed write
    /// is kept and reported by [`TraceWriter::finish`], and nothing more is written.
    pub fn write(&mut self, t_ms: u64, event: Event) {
        let message = event.is_message();
        if message && !self.wants_messages() {
            return;
        }
        self.line.clear();
        let record = Record { t_ms, event };
        if let Err(e) = serde_json::to_writer(&mut self.line, &record) {
            // Serializing owned strings and numbers cannot fail; if it ever does, say so.
            self.error.get_or_insert(std::io::Error::other(e));
            return;
        }
        self.line.push(b'\n');
        if let Event::Run(h) = &record.event
            && h.level != Level::Lean
        {
            // The hash covers the lean trace: the header as a lean trace writes it.
            let mut lean = h.clone();
            lean.level = Level::Lean;
            let mut line = Vec::new();
            let header = Record {
                t_ms,
                event: Event::Run(lean),
            };
            if serde_json::to_writer(&mut line, &header).is_ok() {
                line.push(b'\n');
                self.fold(&line);
            }
        } else if !message {
            let line = std::mem::take(&mut self.line);
            self.fold(&line);
            self.line = line;
        }
        if let Some(keep) = self.keep.as_mut()
            && !keep(&record)
        {
            return;
        }
        self.lines += 1;
        self.bytes += self.line.len() as u64;
        if self.error.is_none()
            && let Some(sink) = self.sink.as_mut()
            && let Err(e) = sink.write_all(&self.line)
        {
            self.error = Some(e);
        }
    }

    fn fold(&mut self, line: &[u8]) {
        for &b in line {
            self.hash = (self.hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
        }
    }

    /// The hash of the lean lines so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }

    /// Lines written so far (messages included).
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes written so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flush the sink; the first error any write met, if one did.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        match self.sink.as_mut() {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A sink the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn boot(server: &str) -> Event {
        Event::Boot {
            server: server.into(),
        }
    }

    fn close() -> Event {
        Event::ConnClose {
            conn: 7,
            by: "primary".into(),
            delivered_ms: None,
            blackholed: true,
        }
    }

    #[test]
    fn a_full_trace_hashes_like_the_lean_one_and_differences_change_the_hash() {
        let full_sink = Shared::default();
        let mut full = TraceWriter::new(Box::new(full_sink.clone()), Level::Full);
        let lean_sink = Shared::default();
        let mut lean = TraceWriter::new(Box::new(lean_sink.clone()), Level::Lean);
        let mut hashed = TraceWriter::hash_only();
        for w in [&mut full, &mut lean, &mut hashed] {
            w.write(0, boot("primary"));
            w.write(5, close());
            w.write(9, boot("secondary"));
            w.finish().unwrap();
        }
        assert_eq!(full.hash(), lean.hash());
        assert_eq!(lean.hash(), hashed.hash());
        assert_eq!((full.lines(), lean.lines()), (3, 2));
        let text = String::from_utf8(lean_sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert!(!text.contains("conn_close"));
        let full_text = String::from_utf8(full_sink.0.lock().unwrap().clone()).unwrap();
        assert!(full_text.contains("conn_close"));

        let mut other = TraceWriter::hash_only();
        other.write(0, boot("primary"));
        other.write(9, boot("secondary "));
        assert_ne!(other.hash(), lean.hash());
    }

    #[test]
    fn a_failed_write_is_reported_once_and_stops_writing() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut w = TraceWriter::new(Box::new(Broken), Level::Lean);
        w.write(0, boot("primary"));
        w.write(1, boot("primary"));
        let e = w.finish().unwrap_err();
        assert!(e.to_string().contains("disk full"));
        assert!(w.finish().is_ok(), "reported once");
    }
}
