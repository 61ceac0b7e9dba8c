//! `dhcpfo decode FILE.pcap`: every DHCP and failover message of a capture, read with our codecs.
//!
//! DHCP is taken from UDP 67/68. Failover is taken from TCP on the given ports (647 and 847 by
//! default): each direction is reassembled, cut into messages by the engine's [`Framer`], and
//! decoded in its connection's dialect. One line per message goes to `out` (or one JSON object
//! with `--json`), a summary to `err`.
//!
//! Most messages (CONTACT, STATE, CONNECT, a BNDACK) carry nothing that tells the dialects
//! apart, so a message is not guessed alone: a first pass frames every connection and lets the
//! messages that do say something ([`Dialect::evidence`]: IP-flags, Microsoft's options, the
//! payload offset) vote for the whole connection, and a connection without a vote takes the
//! capture's dialect when every vote in it agrees. A message that will not decode in that
//! dialect is tried in the other, and only a message with no dialect to inherit is guessed
//! alone ([`Dialect::detect`]).
//!
//! With `verify`, each failover message is re-encoded from its decoded form and compared byte for
//! byte with what was captured; each DHCP message is re-encoded and decoded again and compared
//! with its first decoding (DHCP padding and option splitting are not unique, so bytes may
//! legitimately differ there).
//!
//! The result is an exit code: 0 when every message decoded (and verified), 1 when any message or
//! any stream did not, 2 when the file is not a readable pcap.

pub mod describe;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::net::SocketAddrV4;
use std::path::Path;

use dhcpfo_engine::wire::dhcp::DhcpMessage;
use dhcpfo_engine::wire::failover::{Dialect, Framer, Message};
use serde_json::json;

use crate::capture::{self, Event, Flow};
use crate::exit;

/// The default failover ports: IANA's dhcp-failover (647) and dhcp-failover2 (847).
pub const DEFAULT_PORTS: [u16; 2] = [647, 847];
const DHCP_PORTS: [u16; 2] = [67, 68];

/// What `decode` was asked to do.
#[derive(Debug, Clone)]
pub struct DecodeArgs {
    /// TCP ports carrying failover.
    pub ports: Vec<u16>,
    /// One JSON object per line instead of text.
    pub json: bool,
    /// Re-encode and compare.
    pub verify: bool,
}

/// What a decode saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Failover messages decoded, by dialect.
    pub failover_isc: usize,
    /// Failover messages decoded in the Microsoft dialect.
    pub failover_microsoft: usize,
    /// DHCP messages decoded.
    pub dhcp: usize,
    /// Messages that failed to decode.
    pub failed: usize,
    /// Streams that could not be framed (bad length, bytes lost), or ended inside a message.
    pub stream_errors: usize,
    /// Messages whose re-encoding differed.
    pub verify_mismatches: usize,
    /// Messages re-encoded and compared.
    pub verified: usize,
    /// DHCP messages whose re-encoding carries the same content in another layout (options
    /// moved out of an overloaded sname/file, RFC 3396 pieces joined, pads dropped).
    pub dhcp_relaid: usize,
    /// Records the capture holds but we could not read (a corrupt record header, an
    /// unsupported link type).
    pub unreadable_records: usize,
}

impl Tally {
    /// The exit code this outcome deserves.
    pub fn exit_code(&self) -> u8 {
        if self.failed + self.stream_errors + self.verify_mismatches + self.unreadable_records > 0 {
            exit::VIOLATION
        } else {
            exit::OK
        }
    }
}

/// Decode the capture at `path`, writing lines to `out` and the summary and problems to `err`.
/// Returns the exit code.
pub fn run(path: &Path, args: &DecodeArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(err, "dhcpfo decode: cannot read {}: {e}", path.display());
            return exit::BAD_INPUT;
        }
    };
    let pcap = match capture::pcap::read(&bytes) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "dhcpfo decode: {}: {e}", path.display());
            return exit::BAD_INPUT;
        }
    };
    let dissection = capture::dissect(&pcap, &args.ports, &DHCP_PORTS);
    let mut decoder = Decoder::new(args, out, Dialects::vote(&dissection.events));
    let start_ns = pcap.records.first().map_or(0, |r| r.ts_ns);
    for event in &dissection.events {
        match decoder.event(start_ns, event) {
            Ok(()) => {}
            // A reader that stopped listening (`| head`) ends the output, not the verdict.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => break,
            Err(e) => {
                let _ = writeln!(err, "dhcpfo decode: writing output: {e}");
                return exit::BAD_INPUT;
            }
        }
    }
    let mut tally = decoder.finish();
    // A file cut short at its end is an ordinary interrupted capture; a record header that
    // makes no sense, or a link type we cannot read, means messages went unread.
    if matches!(
        pcap.truncated.map(|t| t.reason),
        Some(capture::pcap::Truncation::AbsurdCaplen { .. })
    ) {
        tally.unreadable_records += 1;
    }
    tally.unreadable_records += dissection.skipped.unsupported_link_type;
    let _ = summary(err, path, &tally, &pcap, &dissection);
    tally.exit_code()
}

fn summary(
    err: &mut dyn Write,
    path: &Path,
    t: &Tally,
    pcap: &capture::pcap::Capture<'_>,
    d: &capture::Dissection<'_>,
) -> io::Result<()> {
    if let Some(tail) = &pcap.truncated {
        let kind = match tail.reason {
            capture::pcap::Truncation::AbsurdCaplen { .. } => "error",
            _ => "warning",
        };
        writeln!(err, "{kind}: {}: {tail}", path.display())?;
    }
    if d.skipped.unsupported_link_type > 0 {
        writeln!(
            err,
            "error: {}: link type {} is not one we read (Ethernet, Linux cooked, raw IP, BSD \
             loopback); {} records unread",
            path.display(),
            pcap.link_type,
            d.skipped.unsupported_link_type
        )?;
    }
    write!(
        err,
        "{}: {} failover messages ({} ISC, {} Microsoft), {} DHCP messages; {} failed to decode, \
         {} stream errors",
        path.display(),
        t.failover_isc + t.failover_microsoft,
        t.failover_isc,
        t.failover_microsoft,
        t.dhcp,
        t.failed,
        t.stream_errors,
    )?;
    if t.verified > 0 || t.verify_mismatches > 0 {
        write!(
            err,
            "; verify: {} re-encoded identically, {} differ",
            t.verified - t.verify_mismatches - t.dhcp_relaid,
            t.verify_mismatches
        )?;
        if t.dhcp_relaid > 0 {
            write!(
                err,
                ", {} DHCP with the same content laid out differently",
                t.dhcp_relaid
            )?;
        }
    }
    writeln!(
        err,
        " ({} records, {} skipped)",
        pcap.records.len(),
        d.skipped.total()
    )
}

/// A connection, whichever direction it is seen from: its two ends in order.
type ConnKey = (SocketAddrV4, SocketAddrV4);

fn conn_key(flow: Flow) -> ConnKey {
    (flow.src.min(flow.dst), flow.src.max(flow.dst))
}

/// The dialect each connection of a capture speaks, as far as its messages say.
#[derive(Debug, Default)]
struct Dialects {
    /// Connections whose messages voted one way (a tie decides nothing).
    by_conn: BTreeMap<ConnKey, Dialect>,
    /// The dialect of every vote in the capture, if they all agree.
    capture: Option<Dialect>,
}

impl Dialects {
    /// Frames every failover stream of the capture (a first pass, errors left to the second)
    /// and counts what each message says about its dialect.
    fn vote(events: &[Event<'_>]) -> Dialects {
        let mut framers: BTreeMap<Flow, Framer> = BTreeMap::new();
        // Per connection: messages that read as ISC, as Microsoft.
        let mut votes: BTreeMap<ConnKey, [usize; 2]> = BTreeMap::new();
        for event in events {
            match *event {
                Event::TcpOpen { flow, .. } => {
                    framers.insert(flow, Framer::new());
                }
                Event::TcpData { flow, data, .. } => {
                    let framer = framers.entry(flow).or_default();
                    if framer.failed().is_some() {
                        continue;
                    }
                    framer.push(data);
                    // Bound: each frame consumes bytes the framer holds.
                    while let Ok(Some(frame)) = framer.next_frame() {
                        if let Some(d) = Dialect::evidence(frame) {
                            let v = votes.entry(conn_key(flow)).or_default();
                            v[usize::from(d == Dialect::Microsoft)] += 1;
                        }
                    }
                }
                // Framing cannot resynchronise after a hole; the stream says no more.
                Event::TcpGap { flow, .. } | Event::TcpClose { flow, .. } => {
                    framers.remove(&flow);
                }
                Event::Udp { .. } => {}
            }
        }
        let by_conn: BTreeMap<ConnKey, Dialect> = votes
            .into_iter()
            .filter_map(|(k, [isc, ms])| match isc.cmp(&ms) {
                std::cmp::Ordering::Greater => Some((k, Dialect::Isc)),
                std::cmp::Ordering::Less => Some((k, Dialect::Microsoft)),
                std::cmp::Ordering::Equal => None,
            })
            .collect();
        let mut all = by_conn.values().copied();
        let capture = all.next().filter(|first| all.all(|d| d == *first));
        Dialects { by_conn, capture }
    }

    /// The dialect to read a message of `flow` in first.
    fn of(&self, flow: Flow, frame: &[u8]) -> Dialect {
        self.by_conn
            .get(&conn_key(flow))
            .copied()
            .or(self.capture)
            .unwrap_or_else(|| Dialect::detect(frame))
    }
}

/// Turns dissection events into printed messages.
struct Decoder<'o> {
    args: DecodeArgs,
    out: &'o mut dyn Write,
    framers: BTreeMap<Flow, Framer>,
    dialects: Dialects,
    tally: Tally,
}

impl<'o> Decoder<'o> {
    fn new(args: &DecodeArgs, out: &'o mut dyn Write, dialects: Dialects) -> Self {
        Decoder {
            args: args.clone(),
            out,
            framers: BTreeMap::new(),
            dialects,
            tally: Tally::default(),
        }
    }

    fn event(&mut self, start_ns: u64, event: &Event<'_>) -> io::Result<()> {
        let t = Stamp(event.ts_ns().saturating_sub(start_ns));
        match *event {
            Event::Udp {
                src, dst, payload, ..
            } => self.dhcp(t, src, dst, payload),
            Event::TcpOpen { flow, .. } => {
                self.close_stream(t, flow, "a new connection began")?;
                self.framers.insert(flow, Framer::new());
                Ok(())
            }
            Event::TcpData { flow, data, .. } => {
                let framer = self.framers.entry(flow).or_default();
                if framer.failed().is_some() {
                    return Ok(());
                }
                framer.push(data);
                let mut frames = Vec::new();
                let failure = loop {
                    match framer.next_frame() {
                        Ok(Some(frame)) => frames.push(frame.to_vec()),
                        Ok(None) => break None,
                        Err(e) => break Some(e),
                    }
                };
                for frame in frames {
                    self.failover(t, flow, &frame)?;
                }
                if let Some(e) = failure {
                    let dropped = self.framers.get(&flow).map_or(0, Framer::buffered);
                    self.stream_error(t, flow, &format!("{e}; {dropped} bytes not framed"))?;
                }
                Ok(())
            }
            Event::TcpGap {
                flow,
                missing_bytes,
                ..
            } => {
                self.close_stream(t, flow, "bytes were lost")?;
                self.stream_error(
                    t,
                    flow,
                    &format!("{missing_bytes} bytes missing from the capture"),
                )?;
                // Framing cannot resynchronise after a hole: the rest of this stream is skipped.
                let mut dead = Framer::new();
                dead.push(&[0, 0]);
                let _ = dead.next_frame();
                self.framers.insert(flow, dead);
                Ok(())
            }
            Event::TcpClose { flow, .. } => self.close_stream(t, flow, "the connection closed"),
        }
    }

    /// Forget a direction's framer, reporting a message it held unfinished.
    fn close_stream(&mut self, t: Stamp, flow: Flow, why: &str) -> io::Result<()> {
        let Some(framer) = self.framers.remove(&flow) else {
            return Ok(());
        };
        if framer.failed().is_none() && framer.buffered() > 0 {
            let n = framer.buffered();
            self.stream_error(
                t,
                flow,
                &format!("{why} inside a message ({n} bytes unframed)"),
            )?;
        }
        Ok(())
    }

    fn stream_error(&mut self, t: Stamp, flow: Flow, what: &str) -> io::Result<()> {
        self.tally.stream_errors += 1;
        if self.args.json {
            let v = json!({"time": t.secs(), "src": flow.src.to_string(), "dst": flow.dst.to_string(),
                           "proto": "failover", "error": format!("stream: {what}")});
            writeln!(self.out, "{v}")
        } else {
            writeln!(
                self.out,
                "{t} {} STREAM-ERROR {what}",
                endpoints(flow.src, flow.dst)
            )
        }
    }

    fn failover(&mut self, t: Stamp, flow: Flow, frame: &[u8]) -> io::Result<()> {
        // The guess can be wrong (an ISC peer may carry Infoblox's option 30): try the other
        // dialect before calling the message undecodable.
        let guess = self.dialects.of(flow, frame);
        let parsed = Message::parse(frame, guess)
            .map(|m| (m, guess))
            .or_else(|e| {
                Message::parse(frame, guess.other())
                    .map(|m| (m, guess.other()))
                    .map_err(|_| e)
            });
        let (m, dialect) = match parsed {
            Ok(ok) => ok,
            Err(e) => {
                self.tally.failed += 1;
                return self.failure(t, flow.src, flow.dst, "failover", &e.to_string(), frame);
            }
        };
        match dialect {
            Dialect::Isc => self.tally.failover_isc += 1,
            Dialect::Microsoft => self.tally.failover_microsoft += 1,
        }
        let mut mismatch = None;
        if self.args.verify {
            self.tally.verified += 1;
            let again = m.to_bytes();
            if again != frame {
                self.tally.verify_mismatches += 1;
                mismatch = Some(first_difference(frame, &again));
            }
        }
        let fields = describe::failover_fields(&m, dialect);
        if self.args.json {
            let mut v = json!({
                "time": t.secs(), "src": flow.src.to_string(), "dst": flow.dst.to_string(),
                "proto": "failover", "dialect": match dialect { Dialect::Isc => "isc", Dialect::Microsoft => "microsoft" },
                "type": m.msg_type.name(), "type_code": m.msg_type.to_wire(), "xid": m.xid, "time_field": m.time,
                "fields": describe::fields_json(&fields),
                "options": describe::failover_options_json(&m),
            });
            if let Some(d) = &mismatch {
                v["verify"] = json!(d);
            }
            writeln!(self.out, "{v}")
        } else {
            let mut line = format!(
                "{t} {} {:<10} xid={:<#6x}",
                endpoints(flow.src, flow.dst),
                m.msg_type.name(),
                m.xid
            );
            for (k, v) in &fields {
                line.push_str(&format!(" {k}={v}"));
            }
            if let Some(d) = &mismatch {
                line.push_str(&format!(" VERIFY-MISMATCH {d}"));
            }
            writeln!(self.out, "{line}")
        }
    }

    fn dhcp(
        &mut self,
        t: Stamp,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<()> {
        let m = match DhcpMessage::parse(payload) {
            Ok(m) => m,
            Err(e) => {
                self.tally.failed += 1;
                return self.failure(t, src, dst, "dhcp", &e.to_string(), payload);
            }
        };
        self.tally.dhcp += 1;
        let mut mismatch = None;
        if self.args.verify {
            self.tally.verified += 1;
            let again = m.to_bytes();
            // Our encoder pads to the 300-byte BOOTP minimum; a shorter capture (perfdhcp sends
            // 262 bytes) must match up to its own end, the rest being our zero padding.
            let common = payload.len().min(again.len());
            let same_bytes = again[..common] == payload[..common]
                && again[common..].iter().all(|&b| b == 0)
                && payload[common..].iter().all(|&b| b == 0);
            if !same_bytes {
                if DhcpMessage::parse(&again).as_ref() == Ok(&m) {
                    self.tally.dhcp_relaid += 1;
                } else {
                    self.tally.verify_mismatches += 1;
                    mismatch = Some(first_difference(payload, &again));
                }
            }
        }
        let kind = describe::dhcp_type_name(m.message_type());
        let fields = describe::dhcp_fields(&m);
        if self.args.json {
            let mut v = json!({
                "time": t.secs(), "src": src.to_string(), "dst": dst.to_string(), "proto": "dhcp",
                "type": kind, "xid": m.xid, "fields": describe::fields_json(&fields),
            });
            if let Some(d) = &mismatch {
                v["verify"] = json!(d);
            }
            writeln!(self.out, "{v}")
        } else {
            let mut line = format!("{t} {} DHCP type={kind}", endpoints(src, dst));
            for (k, v) in &fields {
                line.push_str(&format!(" {k}={v}"));
            }
            if let Some(d) = &mismatch {
                line.push_str(&format!(" VERIFY-MISMATCH {d}"));
            }
            writeln!(self.out, "{line}")
        }
    }

    fn failure(
        &mut self,
        t: Stamp,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        proto: &str,
        why: &str,
        bytes: &[u8],
    ) -> io::Result<()> {
        if self.args.json {
            let v = json!({"time": t.secs(), "src": src.to_string(), "dst": dst.to_string(),
                           "proto": proto, "error": why, "len": bytes.len()});
            writeln!(self.out, "{v}")
        } else {
            writeln!(
                self.out,
                "{t} {} UNDECODABLE {proto} message ({} bytes): {why}",
                endpoints(src, dst),
                bytes.len()
            )
        }
    }

    fn finish(mut self) -> Tally {
        // A stream that ended inside a message at the end of the capture is not an error: the
        // capture simply stopped. Only what TcpClose/TcpOpen/TcpGap reported counts.
        self.framers.clear();
        self.tally
    }
}

/// Seconds since the first record, printed like the `.fo-msgs.txt` files.
#[derive(Clone, Copy)]
struct Stamp(u64);

impl Stamp {
    fn secs(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:>10.3}", self.secs())
    }
}

fn endpoints(src: SocketAddrV4, dst: SocketAddrV4) -> String {
    format!(
        "{:>15} -> {:<15}",
        src.ip().to_string(),
        dst.ip().to_string()
    )
}

fn first_difference(captured: &[u8], ours: &[u8]) -> String {
    let at = captured
        .iter()
        .zip(ours)
        .position(|(a, b)| a != b)
        .unwrap_or(captured.len().min(ours.len()));
    format!(
        "at byte {at}: captured {} bytes, re-encoded {} bytes",
        captured.len(),
        ours.len()
    )
}
