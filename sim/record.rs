//! A run's packets as a classic pcap that Wireshark (and `dhcpfo decode`) reads, written from
//! a full trace. The pcap is one more reader of the trace (DESIGN.md), so it is a pure function
//! of it: every frame is derived from the trace's records, nothing from the world.
//!
//! What the capture shows, as a capture on the servers' and clients' segments would:
//!
//! - **DHCP** as Ethernet/IPv4/UDP. A client's frame leaves from its own hardware address (the
//!   message's chaddr, a flood's spoofed one too) and from the IP address the trace says it used
//!   (its own address for a RENEW or a RELEASE); a server's reply goes to the client's hardware
//!   address, or to broadcast when RFC 2131 §4.1 says so; a relay's frames are the relay's.
//!   Servers and relays have MAC addresses derived from their IPs.
//! - **Failover** as one TCP connection per `conn_open`: the handshake, each message as data
//!   segments, each acknowledged by a pure ACK from the receiver when it arrives
//!   (`delivered_ms`), and every segment acknowledging what its sender has received by then. A
//!   close is a FIN that the partner answers with its own FIN when it arrives (the partner's
//!   server drops the connection on it) and the closer acknowledges; data arriving at an end
//!   that has closed (a server that crashed or hung up while it was under way) is answered with
//!   a RST. A message a partition swallowed (`blackholed`) is sent once and then retransmitted
//!   with the same sequence numbers at TCP's doubling timeout from [`RTO_INITIAL_MS`], unanswered,
//!   until the connection closes; when a later segment of that direction gets through (the cut
//!   healed), the swallowed ones go through with it, as TCP would deliver them.
//!
//! Traces written before `delivered_ms` and `blackholed` existed read as every message arriving
//! the moment it was sent.
//!
//! Bounds: one pending action per segment in flight and one retransmission timer per direction;
//! at most [`MAX_LOST_SEGMENTS`] swallowed messages are kept per direction (later ones are
//! written once and leave a hole in the stream); [`MAX_RETRANSMISSIONS`] per direction.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddrV4;

use dhcpfo_engine::wire::dhcp::{DhcpMessage, MessageType, Op};
use dhcpfo_reports::{Event, Record};

use crate::capture::packet::MSS_BYTES;
use crate::capture::{
    Macs, PcapWriter, Precision, TcpFlags, ethernet_ipv4_tcp, ethernet_ipv4_udp_with_macs, mac_for,
};

/// The first retransmission timeout (Linux's minimum RTO); it doubles with every retransmission.
pub const RTO_INITIAL_MS: u64 = 200;
/// The longest retransmission timeout (Linux's `TCP_RTO_MAX`).
pub const RTO_MAX_MS: u64 = 120_000;
/// Retransmissions of one direction's oldest swallowed segment before the capture stops
/// showing them (Linux's `tcp_retries2`).
pub const MAX_RETRANSMISSIONS: u32 = 15;
/// Swallowed messages kept per direction for retransmission.
pub const MAX_LOST_SEGMENTS: usize = 4096;

/// The pcap of a full trace's messages (a lean trace has none: an empty capture).
pub fn pcap(records: &[Record]) -> Vec<u8> {
    let Some(mut r) = Recorder::new() else {
        return Vec::new();
    };
    for rec in records {
        let t = rec.t_ms;
        r.run_until(t);
        match &rec.event {
            Event::Dhcp(m) => {
                if let (Ok(src), Ok(dst), Some(bytes)) =
                    (m.src.parse(), m.dst.parse(), unhex(&m.bytes))
                {
                    r.udp(t, src, dst, &bytes);
                }
            }
            Event::ConnOpen {
                conn,
                dialer,
                acceptor,
                from,
                to,
            } => {
                if let (Ok(from), Ok(to)) = (from.parse(), to.parse()) {
                    r.tcp_open(t, *conn, [dialer, acceptor], [from, to]);
                }
            }
            Event::Failover(m) => {
                if let Some(bytes) = unhex(&m.bytes) {
                    let fate = Fate::of(t, m.delivered_ms, m.blackholed);
                    r.tcp_send(t, m.conn, &m.to, &bytes, fate);
                }
            }
            Event::ConnClose {
                conn,
                by,
                delivered_ms,
                blackholed,
            } => {
                let fate = Fate::of(t, *delivered_ms, *blackholed);
                r.tcp_close(t, *conn, by, fate);
            }
            _ => {}
        }
        r.horizon_ms = t;
    }
    r.finish()
}

/// Hex text back to bytes; `None` if it is not hex.
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The Ethernet addresses of a DHCP datagram's frame, read from the message (RFC 2131 §4.1).
fn dhcp_macs(bytes: &[u8], src: SocketAddrV4, dst: SocketAddrV4) -> Macs {
    let derived = Macs {
        src: mac_for(*src.ip()),
        dst: mac_for(*dst.ip()),
    };
    let broadcast = if dst.ip().is_broadcast() {
        [0xff; 6]
    } else {
        derived.dst
    };
    let Ok(m) = DhcpMessage::parse(bytes) else {
        return derived;
    };
    // Only an Ethernet address stands in a frame; anything else keeps the derived ones.
    let Ok(chaddr) = <[u8; 6]>::try_from(m.client_hw_addr()) else {
        return derived;
    };
    let relayed = !m.giaddr.is_unspecified();
    match m.op {
        // The client's own frame, unless its relay forwards it, from the relay's address.
        Op::Request => Macs {
            src: if relayed && *src.ip() == m.giaddr {
                derived.src
            } else {
                chaddr
            },
            dst: broadcast,
        },
        // To the relay that forwarded the request, else to the client: its hardware address,
        // or everyone when the reply is a broadcast.
        Op::Reply => Macs {
            src: derived.src,
            dst: if dst.ip().is_broadcast() || reply_is_broadcast(&m) {
                [0xff; 6]
            } else if relayed && *dst.ip() == m.giaddr {
                derived.dst
            } else {
                chaddr
            },
        },
        Op::Unknown(_) => derived,
    }
}

/// Whether RFC 2131 §4.1 has a server broadcast this reply on the client's segment: a DHCPNAK
/// not relayed, or a reply to a client without an address that asked for broadcast or is given
/// none.
fn reply_is_broadcast(m: &DhcpMessage) -> bool {
    if !m.giaddr.is_unspecified() || !m.ciaddr.is_unspecified() {
        return false;
    }
    m.message_type() == Some(MessageType::Nak) || m.is_broadcast() || m.yiaddr.is_unspecified()
}

/// Where a failover message or a close went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// It reached the partner's host at this time.
    Arrives(u64),
    /// A partition swallowed it.
    Swallowed,
}

impl Fate {
    /// From an event's fields; a trace without them had every message arrive when sent.
    fn of(t_ms: u64, delivered_ms: Option<u64>, blackholed: bool) -> Fate {
        match (blackholed, delivered_ms) {
            (true, _) => Fate::Swallowed,
            (false, Some(at)) => Fate::Arrives(at.max(t_ms)),
            (false, None) => Fate::Arrives(t_ms),
        }
    }
}

/// What happens later on the wire, at its time: the capture's own event queue.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    /// Bytes `seq..seq + len` of end `from` (and its FIN after them, with `fin`) reach the
    /// other end, `delay_ms` after they were sent.
    Arrive {
        conn: u64,
        from: usize,
        seq: u32,
        len: u32,
        fin: bool,
        delay_ms: u64,
    },
    /// End `from`'s retransmission timer expires (void if the timer was re-armed since:
    /// `armed` is the end's [`End::timer`] when it was set).
    Retransmit { conn: u64, from: usize, armed: u64 },
}

/// A segment a partition swallowed, kept to retransmit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Lost {
    seq: u32,
    bytes: Vec<u8>,
    fin: bool,
}

/// One end of a failover connection.
#[derive(Debug, Clone, PartialEq, Eq)]
struct End {
    name: String,
    addr: SocketAddrV4,
    /// The next sequence number it sends.
    snd_nxt: u32,
    /// The next sequence number it expects: what its segments acknowledge.
    rcv_nxt: u32,
    /// Whether it has sent its FIN (closed, or crashed: its kernel closed the socket).
    fin_sent: bool,
    /// Whether the other end's FIN has reached it.
    fin_received: bool,
    /// What a partition swallowed and no later segment has carried through, oldest first.
    lost: VecDeque<Lost>,
    /// The retransmission timeout in force.
    rto_ms: u64,
    /// Retransmissions of the current oldest swallowed segment.
    retransmissions: u32,
    /// Whether a [`Action::Retransmit`] is pending.
    timer_armed: bool,
    /// Counts the times the retransmission timer was set, so that a stale expiry is ignored.
    timer: u64,
}

impl End {
    fn new(name: &str, addr: SocketAddrV4, isn: u32, peer_isn: u32) -> End {
        End {
            name: name.to_string(),
            addr,
            snd_nxt: isn.wrapping_add(1),
            rcv_nxt: peer_isn.wrapping_add(1),
            fin_sent: false,
            fin_received: false,
            lost: VecDeque::new(),
            rto_ms: RTO_INITIAL_MS,
            retransmissions: 0,
            timer_armed: false,
            timer: 0,
        }
    }
}

/// A failover connection: end 0 dialed, end 1 accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Conn {
    ends: [End; 2],
    /// A close was sent: retransmissions stop.
    closing: bool,
}

/// The pcap being written.
struct Recorder {
    writer: PcapWriter<Vec<u8>>,
    conns: BTreeMap<u64, Conn>,
    /// Actions by (time, order of scheduling).
    pending: BTreeMap<(u64, u64), Action>,
    next_action: u64,
    /// The time of the last record read: no retransmission is shown after the run ends.
    horizon_ms: u64,
}

impl Recorder {
    /// An empty capture (nanosecond timestamps, Ethernet).
    fn new() -> Option<Recorder> {
        Some(Recorder {
            writer: PcapWriter::new(Vec::new(), Precision::Nanos).ok()?,
            conns: BTreeMap::new(),
            pending: BTreeMap::new(),
            next_action: 0,
            horizon_ms: 0,
        })
    }

    /// A frame at `t_ms` since the run's start, stamped with the run's absolute time.
    fn write(&mut self, t_ms: u64, frame: &[u8]) {
        let at = crate::world::START.as_millis() + t_ms;
        // Every frame fits a record; a refusal would only lose that frame.
        let _ = self
            .writer
            .write_record(at.saturating_mul(1_000_000), frame);
    }

    fn schedule(&mut self, t_ms: u64, action: Action) {
        self.pending.insert((t_ms, self.next_action), action);
        self.next_action += 1;
    }

    /// Carry out every action due at or before `t_ms`, in time order. Actions at `t_ms` come
    /// before the record at `t_ms`: the world handled an arrival before what it caused.
    fn run_until(&mut self, t_ms: u64) {
        // Bound: each action runs once; an arrival schedules at most one more (the answer to
        // a FIN, whose own arrival schedules none), a retransmission at most one more, at most
        // MAX_RETRANSMISSIONS times per swallowed segment.
        while let Some(entry) = self.pending.first_entry() {
            let (at, _) = *entry.key();
            if at > t_ms {
                break;
            }
            let action = entry.remove();
            match action {
                Action::Arrive {
                    conn,
                    from,
                    seq,
                    len,
                    fin,
                    delay_ms,
                } => self.arrive(at, conn, from, seq, len, fin, delay_ms),
                Action::Retransmit { conn, from, armed } => {
                    self.retransmit(at, conn, from, armed);
                }
            }
        }
    }

    fn udp(&mut self, t_ms: u64, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) {
        let macs = dhcp_macs(payload, src, dst);
        if let Ok(frame) = ethernet_ipv4_udp_with_macs(macs, src, dst, payload) {
            self.write(t_ms, &frame);
        }
    }

    /// One segment from end `from` of `conn`, acknowledging what that end has received.
    fn segment(
        &mut self,
        t_ms: u64,
        conn: u64,
        from: usize,
        seq: u32,
        flags: TcpFlags,
        data: &[u8],
    ) {
        let Some(c) = self.conns.get(&conn) else {
            return;
        };
        let (me, peer) = (&c.ends[from], &c.ends[1 - from]);
        if let Ok(frame) = ethernet_ipv4_tcp(me.addr, peer.addr, seq, me.rcv_nxt, flags, data) {
            self.write(t_ms, &frame);
        }
    }

    /// `bytes` from end `from` at `seq`, in segments of at most [`MSS_BYTES`], the last with PSH;
    /// a FIN after them with `fin`.
    fn data(&mut self, t_ms: u64, conn: u64, from: usize, seq: u32, bytes: &[u8], fin: bool) {
        let chunks = bytes.chunks(MSS_BYTES);
        let last = chunks.len().saturating_sub(1);
        let mut at = seq;
        for (i, chunk) in chunks.enumerate() {
            let flags = if i == last {
                TcpFlags::PSH | TcpFlags::ACK
            } else {
                TcpFlags::ACK
            };
            self.segment(t_ms, conn, from, at, flags, chunk);
            // A chunk is at most MSS_BYTES long, so it fits a u32.
            at = at.wrapping_add(chunk.len() as u32);
        }
        if fin {
            self.segment(t_ms, conn, from, at, TcpFlags::FIN | TcpFlags::ACK, &[]);
        }
    }

    /// A failover connection opens: its handshake.
    fn tcp_open(&mut self, t_ms: u64, conn: u64, names: [&str; 2], addrs: [SocketAddrV4; 2]) {
        // Deterministic initial sequence numbers, different per connection.
        let isn = (conn as u32).wrapping_mul(0x9e37_79b9);
        let peer_isn = isn.rotate_left(16);
        let [dialer, acceptor] = addrs;
        let handshake = [
            (dialer, acceptor, isn, 0, TcpFlags::SYN),
            (
                acceptor,
                dialer,
                peer_isn,
                isn.wrapping_add(1),
                TcpFlags::SYN | TcpFlags::ACK,
            ),
            (
                dialer,
                acceptor,
                isn.wrapping_add(1),
                peer_isn.wrapping_add(1),
                TcpFlags::ACK,
            ),
        ];
        for (src, dst, seq, ack, flags) in handshake {
            if let Ok(frame) = ethernet_ipv4_tcp(src, dst, seq, ack, flags, &[]) {
                self.write(t_ms, &frame);
            }
        }
        let ends = [
            End::new(names[0], dialer, isn, peer_isn),
            End::new(names[1], acceptor, peer_isn, isn),
        ];
        self.conns.insert(
            conn,
            Conn {
                ends,
                closing: false,
            },
        );
    }

    /// The end of `conn` named `node`, if it is one of its ends.
    fn end_of(&self, conn: u64, node: &str) -> Option<usize> {
        let c = self.conns.get(&conn)?;
        c.ends.iter().position(|e| e.name == node)
    }

    /// A failover message on a connection, to `receiver`: it travels from the other end (a
    /// forged message too, whoever wrote it: that is the forgery).
    fn tcp_send(&mut self, t_ms: u64, conn: u64, receiver: &str, bytes: &[u8], fate: Fate) {
        let Some(to) = self.end_of(conn, receiver) else {
            return;
        };
        self.transmit(t_ms, conn, 1 - to, bytes, false, fate);
    }

    /// `node` closes a connection, or crashed with it open (its kernel closes the socket): a
    /// FIN.
    fn tcp_close(&mut self, t_ms: u64, conn: u64, node: &str, fate: Fate) {
        let Some(from) = self.end_of(conn, node) else {
            return;
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.closing = true;
        }
        self.transmit(t_ms, conn, from, &[], true, fate);
    }

    /// End `from` sends `bytes` (and then its FIN, with `fin`).
    fn transmit(&mut self, t_ms: u64, conn: u64, from: usize, bytes: &[u8], fin: bool, fate: Fate) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let me = &mut c.ends[from];
        if me.fin_sent {
            // Nothing follows a FIN; the world sends nothing on a connection it closed.
            return;
        }
        let seq = me.snd_nxt;
        // At most a message of 65 535 bytes (a failover length field).
        let len = bytes.len() as u32;
        me.snd_nxt = seq.wrapping_add(len).wrapping_add(u32::from(fin));
        me.fin_sent |= fin;
        match fate {
            Fate::Arrives(at) => {
                // This segment got through, so the cut that swallowed the earlier ones has
                // healed: they go through now, ahead of it.
                let lost: Vec<Lost> = me.lost.drain(..).collect();
                me.retransmissions = 0;
                me.rto_ms = RTO_INITIAL_MS;
                me.timer_armed = false;
                let delay_ms = at - t_ms;
                for l in lost {
                    self.data(t_ms, conn, from, l.seq, &l.bytes, l.fin);
                    let len = l.bytes.len() as u32;
                    let arrive = Action::Arrive {
                        conn,
                        from,
                        seq: l.seq,
                        len,
                        fin: l.fin,
                        delay_ms,
                    };
                    self.schedule(at, arrive);
                }
                self.data(t_ms, conn, from, seq, bytes, fin);
                let arrive = Action::Arrive {
                    conn,
                    from,
                    seq,
                    len,
                    fin,
                    delay_ms,
                };
                self.schedule(at, arrive);
            }
            Fate::Swallowed => {
                let keep = me.lost.len() < MAX_LOST_SEGMENTS;
                if keep {
                    me.lost.push_back(Lost {
                        seq,
                        bytes: bytes.to_vec(),
                        fin,
                    });
                }
                let arm = keep && !me.timer_armed;
                if arm {
                    me.timer_armed = true;
                    me.timer += 1;
                }
                let (rto, armed) = (me.rto_ms, me.timer);
                self.data(t_ms, conn, from, seq, bytes, fin);
                if arm {
                    let expiry = Action::Retransmit { conn, from, armed };
                    self.schedule(t_ms + rto, expiry);
                }
            }
        }
    }

    /// End `from`'s retransmission timer expires: its oldest swallowed segment again, with the
    /// same sequence numbers, and the timer doubled.
    fn retransmit(&mut self, t_ms: u64, conn: u64, from: usize, armed: u64) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let closing = c.closing;
        let me = &mut c.ends[from];
        if !me.timer_armed || me.timer != armed {
            return;
        }
        me.timer_armed = false;
        if closing || me.retransmissions >= MAX_RETRANSMISSIONS {
            return;
        }
        let Some(head) = me.lost.front().cloned() else {
            return;
        };
        me.retransmissions += 1;
        me.rto_ms = (me.rto_ms * 2).min(RTO_MAX_MS);
        me.timer_armed = true;
        me.timer += 1;
        let (next, armed) = (t_ms + me.rto_ms, me.timer);
        self.data(t_ms, conn, from, head.seq, &head.bytes, head.fin);
        self.schedule(next, Action::Retransmit { conn, from, armed });
    }

    /// Bytes of end `from` (and its FIN) reach the other end: acknowledged, the FIN answered
    /// with the receiver's own, data after the receiver closed refused with a RST.
    #[allow(clippy::too_many_arguments)]
    fn arrive(
        &mut self,
        t_ms: u64,
        conn: u64,
        from: usize,
        seq: u32,
        len: u32,
        fin: bool,
        delay_ms: u64,
    ) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let to = 1 - from;
        let me = &mut c.ends[to];
        if me.fin_sent && len > 0 {
            // Data for a socket its server has closed (or that died with the process): the
            // kernel resets the connection, and both ends forget it.
            let seq = me.snd_nxt;
            self.segment(t_ms, conn, to, seq, TcpFlags::RST | TcpFlags::ACK, &[]);
            self.conns.remove(&conn);
            return;
        }
        if seq != me.rcv_nxt {
            // Not the next bytes (a hole the bound on swallowed segments left): a duplicate
            // ACK of what it has.
            let seq = me.snd_nxt;
            self.segment(t_ms, conn, to, seq, TcpFlags::ACK, &[]);
            return;
        }
        me.rcv_nxt = seq.wrapping_add(len).wrapping_add(u32::from(fin));
        if !fin {
            let seq = me.snd_nxt;
            self.segment(t_ms, conn, to, seq, TcpFlags::ACK, &[]);
            return;
        }
        me.fin_received = true;
        if me.fin_sent {
            // Its own FIN went first: this acknowledges the other, and the connection is done.
            let seq = me.snd_nxt;
            let done = c.ends[from].fin_received;
            self.segment(t_ms, conn, to, seq, TcpFlags::ACK, &[]);
            if done {
                self.conns.remove(&conn);
            }
            return;
        }
        // The partner's server drops the connection when it learns of the close, so its
        // kernel sends its own FIN with the acknowledgement.
        c.closing = true;
        let seq = me.snd_nxt;
        me.snd_nxt = seq.wrapping_add(1);
        me.fin_sent = true;
        self.segment(t_ms, conn, to, seq, TcpFlags::FIN | TcpFlags::ACK, &[]);
        let answer = Action::Arrive {
            conn,
            from: to,
            seq,
            len: 0,
            fin: true,
            delay_ms,
        };
        self.schedule(t_ms + delay_ms, answer);
    }

    fn finish(mut self) -> Vec<u8> {
        // What is still on its way arrives; no retransmission is shown after the run's last
        // record.
        let horizon_ms = self.horizon_ms;
        self.pending
            .retain(|(at, _), a| *at <= horizon_ms || !matches!(a, Action::Retransmit { .. }));
        self.run_until(u64::MAX);
        self.writer.into_inner().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use dhcpfo_engine::wire::dhcp::{DhcpOption, MessageType};
    use dhcpfo_reports::event::{DhcpMessage as DhcpEvent, FailoverMessage};

    use super::*;
    use crate::capture::pcap::LINKTYPE_ETHERNET;
    use crate::capture::{Packet, Transport, dissect_frame, read};
    use crate::tracing::hex;

    /// One frame of a written capture: when (ms since the start), Ethernet source and
    /// destination, and the packet.
    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Frame {
        t_ms: u64,
        eth_src: [u8; 6],
        eth_dst: [u8; 6],
        src: SocketAddrV4,
        dst: SocketAddrV4,
        /// TCP: flags, seq, ack, payload length; None for UDP.
        tcp: Option<(TcpFlags, u32, u32, usize)>,
    }

    fn frames(pcap: &[u8]) -> Vec<Frame> {
        let capture = read(pcap).unwrap();
        assert_eq!(capture.link_type, LINKTYPE_ETHERNET);
        let start_ns = crate::world::START.as_millis() * 1_000_000;
        capture
            .records
            .iter()
            .map(|r| {
                let Ok(Packet {
                    src,
                    dst,
                    transport,
                }) = dissect_frame(LINKTYPE_ETHERNET, r.data)
                else {
                    panic!("not IPv4");
                };
                let (sport, dport, tcp) = match transport {
                    Transport::Udp { sport, dport, .. } => (sport, dport, None),
                    Transport::Tcp(s) => (
                        s.sport,
                        s.dport,
                        Some((s.flags, s.seq, s.ack, s.payload.len())),
                    ),
                };
                Frame {
                    t_ms: (r.ts_ns - start_ns) / 1_000_000,
                    eth_dst: r.data[..6].try_into().unwrap(),
                    eth_src: r.data[6..12].try_into().unwrap(),
                    src: SocketAddrV4::new(src, sport),
                    dst: SocketAddrV4::new(dst, dport),
                    tcp,
                }
            })
            .collect()
    }

    const PRIMARY: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 647);
    const SECONDARY: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 40001);
    const CONTACT: [u8; 12] = [0, 12, 11, 12, 0, 0, 0, 0, 0, 0, 0, 2];

    fn rec(t_ms: u64, event: Event) -> Record {
        Record { t_ms, event }
    }

    fn open(t_ms: u64, conn: u64) -> Record {
        rec(
            t_ms,
            Event::ConnOpen {
                conn,
                dialer: "secondary".into(),
                acceptor: "primary".into(),
                from: SECONDARY.to_string(),
                to: PRIMARY.to_string(),
            },
        )
    }

    fn contact(t_ms: u64, conn: u64, from: &str, delivered_ms: Option<u64>) -> Record {
        let to = if from == "primary" {
            "secondary"
        } else {
            "primary"
        };
        rec(
            t_ms,
            Event::Failover(FailoverMessage {
                relationship: "sim".into(),
                from: from.into(),
                to: to.into(),
                conn,
                msg: "CONTACT".into(),
                xid: 2,
                bindings: Vec::new(),
                reject: None,
                delivered_ms,
                blackholed: delivered_ms.is_none(),
                bytes: hex(&CONTACT),
            }),
        )
    }

    fn close(t_ms: u64, conn: u64, by: &str, delivered_ms: Option<u64>) -> Record {
        rec(
            t_ms,
            Event::ConnClose {
                conn,
                by: by.into(),
                delivered_ms,
                blackholed: delivered_ms.is_none(),
            },
        )
    }

    /// The TCP frames as (time, from the primary, flags, seq, ack, payload length), sequence
    /// numbers relative to each side's initial one.
    fn tcp(frames: &[Frame]) -> Vec<(u64, bool, String, u32, u32, usize)> {
        let isn = |from_primary: bool| {
            frames
                .iter()
                .find(|f| (f.src == PRIMARY) == from_primary && f.tcp.is_some())
                .and_then(|f| f.tcp)
                .map(|(_, seq, _, _)| seq)
                .unwrap()
        };
        let (p, s) = (isn(true), isn(false));
        frames
            .iter()
            .filter_map(|f| {
                let (flags, seq, ack, len) = f.tcp?;
                let from_primary = f.src == PRIMARY;
                let (mine, theirs) = if from_primary { (p, s) } else { (s, p) };
                let ack = if flags.contains(TcpFlags::ACK) {
                    ack.wrapping_sub(theirs)
                } else {
                    0
                };
                Some((
                    f.t_ms,
                    from_primary,
                    flags.to_string(),
                    seq.wrapping_sub(mine),
                    ack,
                    len,
                ))
            })
            .collect()
    }

    #[test]
    fn each_segment_acknowledges_what_arrived_and_a_swallowed_one_is_retransmitted() {
        let records = [
            open(0, 1),
            contact(10, 1, "secondary", Some(11)),
            contact(11, 1, "primary", Some(12)),
            // A cut swallows the primary's next message; the one after it gets through.
            contact(20, 1, "primary", None),
            contact(2000, 1, "primary", Some(2001)),
            close(3000, 1, "secondary", Some(3001)),
            rec(4000, Event::Boot { server: "x".into() }),
        ];
        let pa = "ACK|PSH".to_string();
        let a = "ACK".to_string();
        let expected = vec![
            (0, false, "SYN".to_string(), 0, 0, 0),
            (0, true, "ACK|SYN".to_string(), 0, 1, 0),
            (0, false, a.clone(), 1, 1, 0),
            (10, false, pa.clone(), 1, 1, 12),
            // The CONTACT arrives a millisecond later and is acknowledged then; the reply,
            // sent at the same time, acknowledges it too.
            (11, true, a.clone(), 1, 13, 0),
            (11, true, pa.clone(), 1, 13, 12),
            (12, false, a.clone(), 13, 13, 0),
            // Swallowed: sent, then again at 200, 400, 800 ms… with the same sequence number,
            // never acknowledged.
            (20, true, pa.clone(), 13, 13, 12),
            (220, true, pa.clone(), 13, 13, 12),
            (620, true, pa.clone(), 13, 13, 12),
            (1420, true, pa.clone(), 13, 13, 12),
            // The cut healed: it goes through ahead of the next message.
            (2000, true, pa.clone(), 13, 13, 12),
            (2000, true, pa.clone(), 25, 13, 12),
            (2001, false, a.clone(), 13, 25, 0),
            (2001, false, a.clone(), 13, 37, 0),
            // The secondary closes; the primary answers with its own FIN, acknowledged.
            (3000, false, "ACK|FIN".to_string(), 13, 37, 0),
            (3001, true, "ACK|FIN".to_string(), 37, 14, 0),
            (3002, false, a.clone(), 14, 38, 0),
        ];
        assert_eq!(tcp(&frames(&pcap(&records))), expected);
    }

    #[test]
    fn retransmissions_stop_at_the_close_and_at_the_end_of_the_run() {
        let records = [
            open(0, 1),
            contact(10, 1, "primary", None),
            close(1000, 1, "secondary", None),
            rec(1500, Event::Boot { server: "x".into() }),
        ];
        let got = tcp(&frames(&pcap(&records)));
        let times: Vec<u64> = got.iter().skip(3).map(|f| f.0).collect();
        // Sent at 10, again at 210, 610; the close at 1000 ends it (its FIN swallowed too).
        assert_eq!(times, vec![10, 210, 610, 1000]);
        let records = [
            open(0, 1),
            contact(10, 1, "primary", None),
            rec(700, Event::Boot { server: "x".into() }),
        ];
        let got = tcp(&frames(&pcap(&records)));
        let times: Vec<u64> = got.iter().skip(3).map(|f| f.0).collect();
        assert_eq!(times, vec![10, 210, 610]);
    }

    #[test]
    fn data_reaching_an_end_that_closed_is_reset() {
        // The primary closes (or crashes) while the secondary's CONTACT is under way.
        let records = [
            open(0, 1),
            close(100, 1, "primary", Some(101)),
            contact(100, 1, "secondary", Some(101)),
            rec(200, Event::Boot { server: "x".into() }),
        ];
        let got = tcp(&frames(&pcap(&records)));
        let tail: Vec<(u64, bool, String)> = got
            .iter()
            .skip(3)
            .map(|f| (f.0, f.1, f.2.clone()))
            .collect();
        assert_eq!(
            tail,
            vec![
                (100, true, "ACK|FIN".into()),
                (100, false, "ACK|PSH".into()),
                (101, false, "ACK|FIN".into()),
                (101, true, "ACK|RST".into()),
            ]
        );
    }

    fn dhcp(from: &str, src: SocketAddrV4, dst: SocketAddrV4, m: &DhcpMessage) -> Record {
        rec(
            5,
            Event::Dhcp(DhcpEvent {
                from: from.into(),
                to: "x".into(),
                src: src.to_string(),
                dst: dst.to_string(),
                client: None,
                msg: "x".into(),
                xid: m.xid,
                chaddr: String::new(),
                address: None,
                lease_s: None,
                bytes: hex(&m.to_bytes()),
            }),
        )
    }

    #[test]
    fn dhcp_frames_travel_between_the_clients_hardware_address_and_the_servers() {
        let client_mac = [2, 0, 0, 0, 0, 7];
        let message = |op, kind| {
            let mut m = DhcpMessage::new(op, 7);
            m.chaddr[..6].copy_from_slice(&client_mac);
            m.options.push(DhcpOption::MessageType(kind));
            m
        };
        let any = |ip: [u8; 4], port| SocketAddrV4::new(Ipv4Addr::from(ip), port);
        let (server, client_ip, relay) = ([10, 0, 0, 1], [10, 0, 1, 9], [10, 0, 2, 1]);
        let discover = message(Op::Request, MessageType::Discover);
        let mut offer = message(Op::Reply, MessageType::Offer);
        offer.yiaddr = client_ip.into();
        let nak = message(Op::Reply, MessageType::Nak);
        let mut release = message(Op::Request, MessageType::Release);
        release.ciaddr = client_ip.into();
        let mut relayed = discover.clone();
        relayed.giaddr = relay.into();
        let mut relayed_offer = offer.clone();
        relayed_offer.giaddr = relay.into();
        let records = [
            dhcp("client 7", any([0; 4], 68), any([255; 4], 67), &discover),
            dhcp("primary", any(server, 67), any(client_ip, 68), &offer),
            dhcp("primary", any(server, 67), any([255; 4], 68), &nak),
            dhcp("client 7", any(client_ip, 68), any(server, 67), &release),
            dhcp("relay 1", any(relay, 67), any(server, 67), &relayed),
            dhcp("primary", any(server, 67), any(relay, 67), &relayed_offer),
        ];
        let got: Vec<([u8; 6], [u8; 6])> = frames(&pcap(&records))
            .iter()
            .map(|f| (f.eth_src, f.eth_dst))
            .collect();
        let server_mac = mac_for(server.into());
        let relay_mac = mac_for(relay.into());
        assert_eq!(
            got,
            vec![
                (client_mac, [0xff; 6]),
                (server_mac, client_mac),
                (server_mac, [0xff; 6]),
                (client_mac, server_mac),
                (relay_mac, server_mac),
                (server_mac, relay_mac),
            ]
        );
    }
}
