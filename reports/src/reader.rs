//! Reading a trace back: `trace.jsonl` (or `messages.jsonl`), one [`Record`] per line, with
//! errors that name the file and line. Every renderer reads the trace through here, so each
//! output is a pure function of the trace.

use std::io::BufRead;
use std::path::Path;

use crate::event::{Event, Header, Record, SCHEMA};

/// A trace that could not be read.
#[derive(Debug)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

/// A whole trace, read into memory (reports read runs of CI size; a big run's report reads
/// its lean trace).
#[derive(Debug, Clone)]
pub struct Trace {
    /// The header (the first line).
    pub header: Header,
    /// Every record after the header, in order.
    pub records: Vec<Record>,
}

impl Trace {
    /// Read a trace file.
    pub fn load(path: &Path) -> Result<Trace, ReadError> {
        Trace::load_where(path, |_| true)
    }

    /// Read a trace file, keeping only the records `keep` accepts (the header is always
    /// kept): a big run's trace is read in one pass without holding it whole.
    pub fn load_where(path: &Path, keep: impl FnMut(&Record) -> bool) -> Result<Trace, ReadError> {
        let file =
            std::fs::File::open(path).map_err(|e| ReadError(format!("{}: {e}", path.display())))?;
        Trace::read_where(
            std::io::BufReader::new(file),
            &path.display().to_string(),
            keep,
        )
    }

    /// Read a trace from `input`; `name` names it in errors.
    pub fn read(input: impl BufRead, name: &str) -> Result<Trace, ReadError> {
        Trace::read_where(input, name, |_| true)
    }

    /// Read a trace from `input`, keeping only the records `keep` accepts.
    pub fn read_where(
        input: impl BufRead,
        name: &str,
        mut keep: impl FnMut(&Record) -> bool,
    ) -> Result<Trace, ReadError> {
        let mut header = None;
        let mut records = Vec::new();
        for (i, line) in input.lines().enumerate() {
            let line = line.map_err(|e| ReadError(format!("{name}: line {}: {e}", i + 1)))?;
            if line.trim().is_empty() {
                continue;
            }
            let record: Record = serde_json::from_str(&line).map_err(|e| {
                ReadError(format!("{name}: line {}: not a trace record: {e}", i + 1))
            })?;
            match (&header, record.event) {
                (None, Event::Run(h)) => {
                    if h.schema != SCHEMA {
                        return Err(ReadError(format!(
                            "{name}: trace schema {} (this dhcpfo reads schema {SCHEMA}): \
                             rerun the scenario to write it again",
                            h.schema
                        )));
                    }
                    header = Some(h);
                }
                (None, _) => {
                    return Err(ReadError(format!(
                        "{name}: line {}: a trace starts with its \"run\" header",
                        i + 1
                    )));
                }
                (Some(_), Event::Run(_)) => {
                    return Err(ReadError(format!(
                        "{name}: line {}: a second \"run\" header",
                        i + 1
                    )));
                }
                (Some(_), event) => {
                    let r = Record {
                        t_ms: record.t_ms,
                        event,
                    };
                    if keep(&r) {
                        records.push(r);
                    }
                }
            }
        }
        let header = header.ok_or_else(|| ReadError(format!("{name}: empty trace")))?;
        Ok(Trace { header, records })
    }

    /// Read the records of a file that holds no header (`messages.jsonl`).
    pub fn read_records(path: &Path) -> Result<Vec<Record>, ReadError> {
        let file =
            std::fs::File::open(path).map_err(|e| ReadError(format!("{}: {e}", path.display())))?;
        let mut out = Vec::new();
        for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line =
                line.map_err(|e| ReadError(format!("{}: line {}: {e}", path.display(), i + 1)))?;
            if line.trim().is_empty() {
                continue;
            }
            out.push(serde_json::from_str(&line).map_err(|e| {
                ReadError(format!(
                    "{}: line {}: not a trace record: {e}",
                    path.display(),
                    i + 1
                ))
            })?);
        }
        Ok(out)
    }

    /// How the run ended, if the trace got that far.
    pub fn end(&self) -> Option<&crate::event::End> {
        self.records.iter().rev().find_map(|r| match &r.event {
            Event::End(e) => Some(e),
            _ => None,
        })
    }

    /// The violations, in order.
    pub fn violations(&self) -> impl Iterator<Item = (u64, &crate::event::Violation)> {
        self.records.iter().filter_map(|r| match &r.event {
            Event::Violation(v) => Some((r.t_ms, v)),
            _ => None,
        })
    }

    /// The properties' final statuses.
    pub fn properties(&self) -> impl Iterator<Item = &crate::event::Property> {
        self.records.iter().filter_map(|r| match &r.event {
            Event::Property(p) => Some(p),
            _ => None,
        })
    }
}
