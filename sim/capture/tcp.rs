//! TCP stream reassembly for captures: each direction of each connection, keyed by its
//! [`Flow`], becomes the ordered byte stream its application wrote, as [`Event`]s.
//!
//! The reassembler sees what the capture saw, which is not what either end saw: segments are
//! retransmitted, overlap, arrive out of order, or were never captured at all. Its rules:
//!
//! - A SYN sets the direction's initial sequence number and opens it ([`Event::TcpOpen`]). A SYN
//!   with the same number again is a retransmission, even after the direction ended; one with a
//!   different number on the same four-tuple is a new connection and reopens the direction.
//! - A direction first seen without its SYN (the capture began mid-connection) opens at the
//!   first segment that carries data, at that segment's sequence number. Data before it, if it
//!   is retransmitted later, is not delivered: it would come before the start of the stream.
//! - Each byte is delivered once, in sequence order: retransmitted segments are dropped, and
//!   of a partial overlap only the new bytes are delivered.
//! - Segments after a hole wait in a buffer ordered by stream offset until the hole fills. The
//!   reassembler gives up on a hole, emitting [`Event::TcpGap`] and going on with the buffered
//!   bytes, as soon as the other direction acknowledges data beyond it (the receiver got bytes
//!   that the capture missed, so they will never be retransmitted), when the buffer reaches
//!   [`MAX_PENDING_BYTES`] or [`MAX_PENDING_SEGMENTS`], when the connection ends, and at the end
//!   of the capture ([`Reassembler::finish`]). Buffered bytes are never dropped silently.
//! - A FIN ends its direction once every byte before it has been delivered; a RST ends both
//!   directions at once ([`Event::TcpClose`]). Segments on an ended direction, other than a new
//!   SYN, are counted and ignored.
//!
//! Sequence numbers wrap at 2^32, so they are only ever compared by their wrapping difference
//! from the next expected one, read as a signed 32-bit distance; positions in the buffer are
//! 64-bit stream offsets, which do not wrap.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::dissect::{Event, Flow};
use super::packet::{TcpFlags, TcpSegment};

/// The most payload bytes one direction buffers behind a hole: 1 MiB, far more than a failover
/// connection has in flight (its windows are a few KiB). Reaching it gives up on the hole.
pub const MAX_PENDING_BYTES: usize = 1 << 20;
/// The most segments one direction buffers behind a hole, so that a flood of tiny segments is
/// bounded too. Reaching it gives up on the hole.
pub const MAX_PENDING_SEGMENTS: usize = 4096;

/// What reassembly dropped or could not deliver, over all flows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpCounts {
    /// Segments whose payload had all been delivered already (retransmissions).
    pub duplicate_segments: usize,
    /// Holes given up on, each reported as one [`Event::TcpGap`].
    pub gaps: usize,
    /// The bytes missing in those holes.
    pub missing_bytes: u64,
    /// Segments with data or FIN on a direction that had already ended.
    pub after_close_segments: usize,
}

/// Whether a direction's stream is still running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Bytes are being delivered.
    Open,
    /// A FIN was reached or a RST seen; only a new SYN reopens the direction.
    Closed,
}

/// The reassembly state of one direction of one connection.
#[derive(Debug)]
struct Direction<'a> {
    phase: Phase,
    /// The sequence number of the SYN, if it was captured.
    isn: Option<u32>,
    /// The sequence number of the next byte to deliver.
    next_seq: u32,
    /// The stream offset of `next_seq`: bytes delivered plus bytes given up in holes.
    next_offset: u64,
    /// Segments beyond a hole, by the stream offset of their first byte.
    pending: BTreeMap<u64, &'a [u8]>,
    /// The sum of the lengths in `pending` (overlapping segments count twice, which only makes
    /// the bound stricter).
    pending_bytes: usize,
    /// The stream offset of the FIN, once one is seen.
    fin_at: Option<u64>,
}

impl<'a> Direction<'a> {
    /// A direction whose next byte has sequence number `next_seq`.
    fn open(isn: Option<u32>, next_seq: u32) -> Direction<'a> {
        Direction {
            phase: Phase::Open,
            isn,
            next_seq,
            next_offset: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            fin_at: None,
        }
    }

    /// The stream offset of sequence number `seq`, judged against the next expected one: at
    /// most 2^31 ahead, at most 2^31 behind (clamped to the start of the stream).
    fn offset_of(&self, seq: u32) -> u64 {
        let distance = i64::from(seq.wrapping_sub(self.next_seq) as i32);
        self.next_offset.saturating_add_signed(distance)
    }

    /// The first known stream position beyond a hole: the first buffered segment or the FIN,
    /// whichever comes first, if it lies past what has been delivered.
    fn frontier(&self) -> Option<u64> {
        let first = self.pending.keys().next().copied();
        let fin = self.fin_at;
        let frontier = match (first, fin) {
            (Some(a), Some(b)) => a.min(b),
            (a, b) => a.or(b)?,
        };
        (frontier > self.next_offset).then_some(frontier)
    }
}

/// Reassembles the TCP streams of a capture, segment by segment in capture order.
///
/// Feed every TCP segment of interest to [`Reassembler::segment`], then call
/// [`Reassembler::finish`] once; each call appends its events to the caller's vector.
///
/// It keeps one small entry per direction ever seen (an ended direction keeps only its
/// numbers, to recognise retransmissions), so its memory is bounded by the capture's size plus
/// the buffer bounds above for each direction.
#[derive(Debug, Default)]
pub struct Reassembler<'a> {
    directions: BTreeMap<Flow, Direction<'a>>,
    counts: TcpCounts,
}

impl<'a> Reassembler<'a> {
    /// A reassembler that has seen nothing.
    pub fn new() -> Reassembler<'a> {
        Reassembler::default()
    }

    /// What reassembly has dropped or given up on so far.
    pub fn counts(&self) -> TcpCounts {
        self.counts
    }

    /// Takes in one segment from `src` to `dst`, captured at `ts_ns`.
    pub fn segment(
        &mut self,
        ts_ns: u64,
        src: Ipv4Addr,
        dst: Ipv4Addr,
        seg: &TcpSegment<'a>,
        events: &mut Vec<Event<'a>>,
    ) {
        let flow = Flow {
            src: SocketAddrV4::new(src, seg.sport),
            dst: SocketAddrV4::new(dst, seg.dport),
        };
        if seg.flags.contains(TcpFlags::RST) {
            // A reset aborts the whole connection; its payload, if any, is a diagnostic that
            // no application reads.
            self.close(ts_ns, flow, true, events);
            self.close(ts_ns, flow.reversed(), true, events);
            return;
        }
        let syn = seg.flags.contains(TcpFlags::SYN);
        if syn {
            self.syn(ts_ns, flow, seg.seq, events);
        }
        // The SYN occupies one sequence number; data it carries starts after it.
        let data_seq = if syn {
            seg.seq.wrapping_add(1)
        } else {
            seg.seq
        };
        let fin = seg.flags.contains(TcpFlags::FIN);
        match self.directions.get(&flow).map(|d| d.phase) {
            Some(Phase::Open) => self.accept(ts_ns, flow, data_seq, seg.payload, fin, events),
            Some(Phase::Closed) if !seg.payload.is_empty() || fin => {
                self.counts.after_close_segments += 1;
            }
            Some(Phase::Closed) => {}
            // The capture began mid-connection: start the stream at the first data.
            None if !seg.payload.is_empty() => {
                self.directions
                    .insert(flow, Direction::open(None, data_seq));
                events.push(Event::TcpOpen {
                    ts_ns,
                    flow,
                    syn_seen: false,
                });
                self.accept(ts_ns, flow, data_seq, seg.payload, fin, events);
            }
            // A bare ACK or FIN of a connection whose data was never captured tells nothing.
            None => {}
        }
        if seg.flags.contains(TcpFlags::ACK) {
            self.acknowledged(ts_ns, flow.reversed(), seg.ack, events);
        }
    }

    /// Ends the capture: every hole still open is given up on, delivering what waits behind it
    /// (and closing the directions whose FIN that reaches). Directions still open stay open: the
    /// capture just stopped watching them.
    pub fn finish(&mut self, ts_ns: u64, events: &mut Vec<Event<'a>>) {
        let flows: Vec<Flow> = self.directions.keys().copied().collect();
        for flow in flows {
            self.give_up_holes(ts_ns, flow, u64::MAX, events);
        }
    }

    /// A SYN with sequence number `isn` on `flow`: opens the direction unless it is a
    /// retransmission of the SYN that opened it (a new connection would have drawn a new ISN).
    fn syn(&mut self, ts_ns: u64, flow: Flow, isn: u32, events: &mut Vec<Event<'a>>) {
        if let Some(d) = self.directions.get(&flow) {
            if d.isn == Some(isn) {
                return;
            }
            // A new connection on the same four-tuple: whatever the old one left buffered is
            // delivered first, so that no byte is lost silently.
            self.give_up_holes(ts_ns, flow, u64::MAX, events);
        }
        self.directions
            .insert(flow, Direction::open(Some(isn), isn.wrapping_add(1)));
        events.push(Event::TcpOpen {
            ts_ns,
            flow,
            syn_seen: true,
        });
    }

    /// Payload (and perhaps a FIN) at sequence number `seq` on an open direction.
    fn accept(
        &mut self,
        ts_ns: u64,
        flow: Flow,
        seq: u32,
        payload: &'a [u8],
        fin: bool,
        events: &mut Vec<Event<'a>>,
    ) {
        let Some(d) = self.directions.get_mut(&flow) else {
            return;
        };
        // How far ahead of the next expected byte the segment starts; negative when it starts
        // with bytes already delivered (or from before the capture's start of the stream).
        let distance = i64::from(seq.wrapping_sub(d.next_seq) as i32);
        // A captured segment is at most 256 KiB, so these sums cannot overflow an i64.
        let len = payload.len() as i64;
        if fin && d.fin_at.is_none() {
            d.fin_at = Some(d.next_offset.saturating_add_signed(distance + len));
        }
        if distance > 0 {
            let start = d.next_offset.saturating_add(distance.unsigned_abs());
            if !payload.is_empty() {
                let slot = d.pending.entry(start).or_default();
                // Of two segments at the same offset keep the longer, which holds the other.
                if payload.len() > slot.len() {
                    d.pending_bytes = d.pending_bytes - slot.len() + payload.len();
                    *slot = payload;
                }
            }
            if d.pending_bytes > MAX_PENDING_BYTES || d.pending.len() > MAX_PENDING_SEGMENTS {
                self.give_up_holes_over_bound(ts_ns, flow, events);
            }
            return;
        }
        let already = usize::try_from(distance.unsigned_abs()).unwrap_or(usize::MAX);
        match payload.get(already..) {
            Some(new) if !new.is_empty() => deliver(d, ts_ns, flow, new, events),
            _ if !payload.is_empty() => self.counts.duplicate_segments += 1,
            _ => {}
        }
        self.drain(ts_ns, flow, events);
    }

    /// Delivers the buffered segments that have become contiguous, then closes the direction
    /// if its FIN has been reached.
    fn drain(&mut self, ts_ns: u64, flow: Flow, events: &mut Vec<Event<'a>>) {
        let Some(d) = self.directions.get_mut(&flow) else {
            return;
        };
        // Each pass removes one buffered segment, so this ends within pending.len() passes.
        while let Some(entry) = d.pending.first_entry() {
            let start = *entry.key();
            if start > d.next_offset {
                break;
            }
            let data = entry.remove();
            d.pending_bytes -= data.len();
            let already = usize::try_from(d.next_offset - start).unwrap_or(usize::MAX);
            if let Some(new) = data.get(already..).filter(|new| !new.is_empty()) {
                deliver(d, ts_ns, flow, new, events);
            }
        }
        if d.fin_at.is_some_and(|fin_at| fin_at <= d.next_offset) {
            self.close(ts_ns, flow, false, events);
        }
    }

    /// An acknowledgement `ack` of the data of `flow` (seen on the reverse flow): holes before
    /// what it acknowledges were received but never captured.
    fn acknowledged(&mut self, ts_ns: u64, flow: Flow, ack: u32, events: &mut Vec<Event<'a>>) {
        let Some(d) = self.directions.get(&flow) else {
            return;
        };
        if d.phase == Phase::Open && d.frontier().is_some() {
            let acked = d.offset_of(ack);
            self.give_up_holes(ts_ns, flow, acked, events);
        }
    }

    /// Gives up the holes of `flow` that end at or before stream offset `limit`, delivering
    /// what waited behind each.
    fn give_up_holes(&mut self, ts_ns: u64, flow: Flow, limit: u64, events: &mut Vec<Event<'a>>) {
        // Each pass moves past one buffered segment or the FIN, so this is bounded by the
        // buffer's length plus one.
        loop {
            let Some(d) = self.directions.get(&flow) else {
                return;
            };
            match d.frontier() {
                Some(frontier) if frontier <= limit && d.phase == Phase::Open => {
                    self.skip_to(ts_ns, flow, frontier, events);
                }
                _ => return,
            }
        }
    }

    /// Gives up holes, first to last, until the buffer of `flow` is within its bounds again.
    fn give_up_holes_over_bound(&mut self, ts_ns: u64, flow: Flow, events: &mut Vec<Event<'a>>) {
        // Each pass delivers at least the first buffered segment, so the buffer shrinks.
        loop {
            let Some(d) = self.directions.get(&flow) else {
                return;
            };
            let over =
                d.pending_bytes > MAX_PENDING_BYTES || d.pending.len() > MAX_PENDING_SEGMENTS;
            match d.frontier() {
                Some(frontier) if over && d.phase == Phase::Open => {
                    self.skip_to(ts_ns, flow, frontier, events);
                }
                _ => return,
            }
        }
    }

    /// Declares the bytes from the next expected one up to stream offset `to` lost, reports
    /// them, and delivers what has become contiguous.
    fn skip_to(&mut self, ts_ns: u64, flow: Flow, to: u64, events: &mut Vec<Event<'a>>) {
        let Some(d) = self.directions.get_mut(&flow) else {
            return;
        };
        let missing_bytes = to.saturating_sub(d.next_offset);
        if missing_bytes == 0 {
            return;
        }
        // Sequence numbers are the low 32 bits of stream offsets shifted by the ISN.
        d.next_seq = d.next_seq.wrapping_add(missing_bytes as u32);
        d.next_offset = to;
        self.counts.gaps += 1;
        self.counts.missing_bytes = self.counts.missing_bytes.saturating_add(missing_bytes);
        events.push(Event::TcpGap {
            ts_ns,
            flow,
            missing_bytes,
        });
        self.drain(ts_ns, flow, events);
    }

    /// Ends `flow` if it is open and reports the close. A reset first delivers what the buffer
    /// holds, giving up its holes: those bytes were sent before the reset. A FIN has been
    /// reached, so anything still buffered lies beyond it and is counted and dropped.
    fn close(&mut self, ts_ns: u64, flow: Flow, reset: bool, events: &mut Vec<Event<'a>>) {
        if self.directions.get(&flow).map(|d| d.phase) != Some(Phase::Open) {
            return;
        }
        if reset {
            // Forget a buffered FIN first, or reaching it would report a second close.
            if let Some(d) = self.directions.get_mut(&flow) {
                d.fin_at = None;
            }
            self.give_up_holes(ts_ns, flow, u64::MAX, events);
        }
        if let Some(d) = self.directions.get_mut(&flow) {
            d.phase = Phase::Closed;
            self.counts.after_close_segments += d.pending.len();
            d.pending.clear();
            d.pending_bytes = 0;
        }
        events.push(Event::TcpClose { ts_ns, flow, reset });
    }
}

/// Delivers `data`, which starts at the next expected byte of `d`.
fn deliver<'a>(
    d: &mut Direction<'a>,
    ts_ns: u64,
    flow: Flow,
    data: &'a [u8],
    events: &mut Vec<Event<'a>>,
) {
    // A segment is at most 64 KiB, so its length fits a u32.
    d.next_seq = d.next_seq.wrapping_add(data.len() as u32);
    d.next_offset = d.next_offset.saturating_add(data.len() as u64);
    events.push(Event::TcpData { ts_ns, flow, data });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::packet::{Side, Transport, dissect_frame, ethernet_ipv4_tcp};
    use crate::capture::pcap::LINKTYPE_ETHERNET;

    /// The failover client (the secondary, say) and server of every test conversation.
    const CLIENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 40000);
    const SERVER: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 647);

    const SYN: TcpFlags = TcpFlags::SYN;
    const ACK: TcpFlags = TcpFlags::ACK;
    const PSH_ACK: TcpFlags = TcpFlags(TcpFlags::PSH.0 | TcpFlags::ACK.0);
    const SYN_ACK: TcpFlags = TcpFlags(TcpFlags::SYN.0 | TcpFlags::ACK.0);
    const FIN_ACK: TcpFlags = TcpFlags(TcpFlags::FIN.0 | TcpFlags::ACK.0);
    const RST: TcpFlags = TcpFlags::RST;

    /// A frame from one side of the test connection.
    fn seg(from: Side, seq: u32, ack: u32, flags: TcpFlags, payload: &[u8]) -> Vec<u8> {
        let (src, dst) = match from {
            Side::Client => (CLIENT, SERVER),
            Side::Server => (SERVER, CLIENT),
        };
        ethernet_ipv4_tcp(src, dst, seq, ack, flags, payload).unwrap()
    }

    /// Client data at `seq`, acknowledging nothing new from the server.
    fn data(seq: u32, payload: &[u8]) -> Vec<u8> {
        seg(Side::Client, seq, 0, PSH_ACK, payload)
    }

    /// `C>S` or `S>C`.
    fn name(flow: Flow) -> &'static str {
        match (flow.src, flow.dst) {
            (CLIENT, SERVER) => "C>S",
            (SERVER, CLIENT) => "S>C",
            _ => "?",
        }
    }

    /// One line per event, with the frame's index as its time: `3 data C>S hello`.
    fn describe(event: &Event<'_>) -> String {
        match *event {
            Event::Udp { ts_ns, .. } => format!("{ts_ns} udp"),
            Event::TcpOpen {
                ts_ns,
                flow,
                syn_seen,
            } => format!(
                "{ts_ns} open {} {}",
                name(flow),
                if syn_seen { "syn" } else { "mid" }
            ),
            Event::TcpData { ts_ns, flow, data } => {
                format!(
                    "{ts_ns} data {} {}",
                    name(flow),
                    String::from_utf8_lossy(data)
                )
            }
            Event::TcpGap {
                ts_ns,
                flow,
                missing_bytes,
            } => format!("{ts_ns} gap {} {missing_bytes}", name(flow)),
            Event::TcpClose { ts_ns, flow, reset } => {
                format!(
                    "{ts_ns} close {} {}",
                    name(flow),
                    if reset { "rst" } else { "fin" }
                )
            }
        }
    }

    /// Feeds the frames in order, frame `i` captured at time `i`, then ends the capture at
    /// time `frames.len()`.
    fn run(frames: &[Vec<u8>]) -> (Vec<String>, TcpCounts) {
        let mut reassembler = Reassembler::new();
        let mut events = Vec::new();
        for (i, frame) in frames.iter().enumerate() {
            let packet = dissect_frame(LINKTYPE_ETHERNET, frame).unwrap();
            let Transport::Tcp(segment) = packet.transport else {
                panic!("frame {i} is not TCP");
            };
            reassembler.segment(i as u64, packet.src, packet.dst, &segment, &mut events);
        }
        reassembler.finish(frames.len() as u64, &mut events);
        (events.iter().map(describe).collect(), reassembler.counts())
    }

    /// The concatenated data of one direction.
    fn stream(lines: &[String], flow: &str) -> String {
        let prefix = format!(" data {flow} ");
        lines
            .iter()
            .filter_map(|l| l.split_once(&prefix).map(|(_, data)| data))
            .collect()
    }

    /// The three handshake frames with client ISN `c` and server ISN `s`.
    fn handshake(c: u32, s: u32) -> Vec<Vec<u8>> {
        vec![
            seg(Side::Client, c, 0, SYN, b""),
            seg(Side::Server, s, c.wrapping_add(1), SYN_ACK, b""),
            seg(Side::Client, c.wrapping_add(1), s.wrapping_add(1), ACK, b""),
        ]
    }

    #[test]
    fn handshake_then_split_message_is_delivered_in_order() {
        let mut frames = handshake(1000, 5000);
        frames.push(data(1001, b"hel"));
        frames.push(data(1004, b"lo"));
        frames.push(seg(Side::Server, 5001, 1006, PSH_ACK, b"world"));
        frames.push(seg(Side::Client, 1006, 5006, FIN_ACK, b""));
        frames.push(seg(Side::Server, 5006, 1007, FIN_ACK, b""));
        let (lines, counts) = run(&frames);
        assert_eq!(
            lines,
            [
                "0 open C>S syn",
                "1 open S>C syn",
                "3 data C>S hel",
                "4 data C>S lo",
                "5 data S>C world",
                "6 close C>S fin",
                "7 close S>C fin",
            ]
        );
        assert_eq!(counts, TcpCounts::default());
    }

    #[test]
    fn one_byte_segments_reassemble() {
        let message = b"one byte at a time";
        let mut frames = handshake(7, 9);
        for (i, b) in message.iter().enumerate() {
            frames.push(data(8 + i as u32, &[*b]));
        }
        let (lines, _) = run(&frames);
        assert_eq!(stream(&lines, "C>S"), "one byte at a time");
    }

    #[test]
    fn out_of_order_segments_wait_for_the_hole_to_fill() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"aa"));
        frames.push(data(105, b"cc")); // 103..105 not yet here
        frames.push(data(107, b"dd"));
        frames.push(data(103, b"bb"));
        let (lines, counts) = run(&frames);
        assert_eq!(
            lines[2..],
            [
                "3 data C>S aa",
                "6 data C>S bb",
                "6 data C>S cc",
                "6 data C>S dd",
            ]
        );
        assert_eq!(counts, TcpCounts::default());
    }

    #[test]
    fn retransmitted_segments_are_dropped() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"first"));
        frames.push(data(101, b"first"));
        frames.push(data(106, b"second"));
        frames.push(data(101, b"first"));
        frames.push(data(106, b"second"));
        let (lines, counts) = run(&frames);
        assert_eq!(lines[2..], ["3 data C>S first", "5 data C>S second"]);
        assert_eq!(counts.duplicate_segments, 3);
    }

    #[test]
    fn partial_overlaps_deliver_only_the_new_bytes() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"abcd"));
        frames.push(data(103, b"cdef")); // overlaps by two
        frames.push(data(109, b"ijk")); // ahead
        frames.push(data(108, b"hij")); // ahead, overlapping the buffered one
        frames.push(data(104, b"defgh")); // fills the hole, overlapping both sides
        let (lines, counts) = run(&frames);
        assert_eq!(stream(&lines, "C>S"), "abcdefghijk");
        assert_eq!(
            lines[2..],
            [
                "3 data C>S abcd",
                "4 data C>S ef",
                "7 data C>S gh",
                "7 data C>S ij",
                "7 data C>S k",
            ]
        );
        assert_eq!(counts, TcpCounts::default());
    }

    #[test]
    fn sequence_numbers_wrap_at_2_pow_32() {
        // The SYN takes u32::MAX - 2, so the data starts 2 bytes before the wrap.
        let isn = u32::MAX - 2;
        let mut frames = handshake(isn, u32::MAX);
        frames.push(data(u32::MAX - 1, b"ab")); // MAX-1, MAX
        frames.push(data(2, b"ef")); // after the wrap, ahead of 0..2
        frames.push(data(0, b"cd"));
        frames.push(data(u32::MAX, b"bcd")); // a retransmission straddling the wrap
        frames.push(seg(Side::Server, 0, 4, PSH_ACK, b"server after wrap"));
        let (lines, counts) = run(&frames);
        assert_eq!(stream(&lines, "C>S"), "abcdef");
        assert_eq!(stream(&lines, "S>C"), "server after wrap");
        assert_eq!(counts.duplicate_segments, 1);
    }

    #[test]
    fn capture_begun_mid_connection_starts_at_the_first_data() {
        let frames = vec![
            seg(Side::Client, 5000, 9000, ACK, b""), // a bare ACK: opens nothing
            seg(Side::Server, 9000, 5000, PSH_ACK, b"reply"),
            data(5000, b"request"),
            data(4990, b"0123456789request"), // a late retransmission from before the start
            data(5007, b" more"),
        ];
        let (lines, counts) = run(&frames);
        assert_eq!(
            lines,
            [
                "1 open S>C mid",
                "1 data S>C reply",
                "2 open C>S mid",
                "2 data C>S request",
                "4 data C>S  more",
            ]
        );
        assert_eq!(counts.duplicate_segments, 1);
    }

    #[test]
    fn rst_ends_both_directions_after_what_was_sent() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"a"));
        frames.push(data(103, b"c")); // 102 was never captured
        frames.push(seg(Side::Server, 201, 102, RST, b""));
        frames.push(data(104, b"late")); // after the reset
        let (lines, counts) = run(&frames);
        assert_eq!(
            lines[2..],
            [
                "3 data C>S a",
                "5 close S>C rst",
                "5 gap C>S 1",
                "5 data C>S c",
                "5 close C>S rst",
            ]
        );
        assert_eq!(counts.gaps, 1);
        assert_eq!(counts.missing_bytes, 1);
        assert_eq!(counts.after_close_segments, 1);
    }

    #[test]
    fn a_new_syn_on_the_same_four_tuple_is_a_new_connection() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"old"));
        frames.push(seg(Side::Client, 100, 0, SYN, b"")); // a retransmitted SYN: no reopening
        frames.push(data(104, b"!"));
        frames.push(seg(Side::Client, 105, 201, FIN_ACK, b""));
        frames.push(seg(Side::Client, 100, 0, SYN, b"")); // still the old SYN: no reopening
        frames.extend(handshake(7777, 8888));
        frames.push(data(7778, b"new"));
        let (lines, _) = run(&frames);
        assert_eq!(
            lines,
            [
                "0 open C>S syn",
                "1 open S>C syn",
                "3 data C>S old",
                "5 data C>S !",
                "6 close C>S fin",
                "8 open C>S syn",
                "9 open S>C syn",
                "11 data C>S new",
            ]
        );
    }

    #[test]
    fn a_syn_reopens_a_direction_that_never_closed() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"x"));
        frames.push(data(103, b"z")); // a hole at 102, then the connection vanishes
        frames.extend(handshake(500, 600));
        frames.push(data(501, b"fresh"));
        let (lines, _) = run(&frames);
        assert_eq!(
            lines[2..],
            [
                "3 data C>S x",
                "5 gap C>S 1",
                "5 data C>S z",
                "5 open C>S syn",
                "6 open S>C syn",
                "8 data C>S fresh",
            ]
        );
    }

    #[test]
    fn fin_waits_for_the_bytes_before_it() {
        let mut frames = handshake(100, 200);
        frames.push(seg(Side::Client, 104, 201, FIN_ACK, b"end")); // FIN at 107
        frames.push(data(101, b"the"));
        let (lines, _) = run(&frames);
        assert_eq!(
            lines[2..],
            ["4 data C>S the", "4 data C>S end", "4 close C>S fin"]
        );
    }

    #[test]
    fn an_ack_beyond_a_hole_gives_it_up_at_once() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"ab"));
        frames.push(data(105, b"ef")); // 103..105 lost by the capture
        frames.push(seg(Side::Server, 201, 104, ACK, b"")); // the hole's middle: wait
        frames.push(seg(Side::Server, 201, 107, ACK, b"")); // past it: give up
        frames.push(data(103, b"cd")); // too late
        let (lines, counts) = run(&frames);
        assert_eq!(
            lines[2..],
            ["3 data C>S ab", "6 gap C>S 2", "6 data C>S ef"]
        );
        assert_eq!(counts.duplicate_segments, 1);
    }

    #[test]
    fn an_ack_of_a_fin_beyond_a_hole_closes_the_direction() {
        let mut frames = handshake(100, 200);
        frames.push(seg(Side::Client, 103, 201, FIN_ACK, b"")); // 101..103 lost
        frames.push(seg(Side::Server, 201, 104, ACK, b""));
        let (lines, counts) = run(&frames);
        assert_eq!(lines[2..], ["4 gap C>S 2", "4 close C>S fin"]);
        assert_eq!(counts.missing_bytes, 2);
    }

    #[test]
    fn the_end_of_the_capture_delivers_what_waits_behind_a_hole() {
        let mut frames = handshake(100, 200);
        frames.push(data(101, b"a"));
        frames.push(data(105, b"e"));
        frames.push(data(103, b"c"));
        let (lines, counts) = run(&frames);
        assert_eq!(
            lines[2..],
            [
                "3 data C>S a",
                "6 gap C>S 1",
                "6 data C>S c",
                "6 gap C>S 1",
                "6 data C>S e",
            ]
        );
        assert_eq!((counts.gaps, counts.missing_bytes), (2, 2));
    }

    #[test]
    fn the_buffer_bound_gives_up_the_hole() {
        let mut frames = handshake(0, 0);
        // One byte lost at seq 1, then one more segment than the buffer holds.
        for i in 0..=MAX_PENDING_SEGMENTS as u32 {
            frames.push(data(2 + i, b"x"));
        }
        let (lines, counts) = run(&frames);
        let last = frames.len() - 1;
        assert_eq!(lines[2], format!("{last} gap C>S 1"));
        assert_eq!(lines.len(), 3 + MAX_PENDING_SEGMENTS + 1);
        assert_eq!(counts.gaps, 1);

        // And by bytes: two segments of 600 KiB each behind a hole.
        let big = vec![b'y'; 600 * 1024];
        let mut frames = handshake(0, 0);
        frames.push(data(2, &big[..60_000]));
        frames.push(data(60_002, &big[..60_000]));
        let (lines, _) = run(&frames);
        assert_eq!(lines[2], "5 gap C>S 1"); // only at the end of the capture
        // The builders cap a segment at 64 KiB, so the byte bound needs 17 of them.
        let mut frames = handshake(0, 0);
        let mut seq = 2u32;
        for _ in 0..17 {
            frames.push(data(seq, &big[..63 * 1024]));
            seq += 63 * 1024;
        }
        let (lines, _) = run(&frames);
        assert_eq!(lines[2], "19 gap C>S 1");
    }

    #[test]
    fn data_after_a_fin_is_counted_not_delivered() {
        let mut frames = handshake(100, 200);
        frames.push(seg(Side::Client, 101, 201, FIN_ACK, b"bye"));
        frames.push(data(105, b"ghost"));
        frames.push(seg(Side::Client, 101, 201, FIN_ACK, b"bye")); // retransmitted FIN
        let (lines, counts) = run(&frames);
        assert_eq!(lines[2..], ["3 data C>S bye", "3 close C>S fin"]);
        assert_eq!(counts.after_close_segments, 2);
    }

    #[test]
    fn bare_acks_and_fins_of_unknown_flows_open_nothing() {
        let frames = vec![
            seg(Side::Client, 1, 1, ACK, b""),
            seg(Side::Server, 1, 1, FIN_ACK, b""),
            seg(Side::Client, 1, 1, RST, b""),
        ];
        let (lines, counts) = run(&frames);
        assert!(lines.is_empty(), "{lines:?}");
        assert_eq!(counts, TcpCounts::default());
    }
}
