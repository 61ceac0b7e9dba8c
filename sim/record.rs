//! A run's packets as a classic pcap that Wireshark (and `dhcpfo decode`) reads, written from
//! a full trace: every DHCP datagram as Ethernet/IPv4/UDP, every failover connection as a TCP
//! conversation with its handshake, segments and FIN. The pcap is one more reader of the trace
//! (DESIGN.md), so it is a pure function of it: frames are built deterministically from the
//! trace's records.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;

use dhcpfo_reports::{Event, Record};

use crate::capture::{PcapWriter, Precision, Side, TcpConversation, ethernet_ipv4_udp};

/// The pcap of a full trace's messages (a lean trace has none: an empty capture).
pub fn pcap(records: &[Record]) -> Vec<u8> {
    let Some(mut r) = Recorder::new() else {
        return Vec::new();
    };
    for rec in records {
        let t = rec.t_ms;
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
                from,
                to,
                ..
            } => {
                if let (Ok(from), Ok(to)) = (from.parse(), to.parse()) {
                    r.tcp_open(t, *conn, dialer, from, to);
                }
            }
            Event::Failover(m) => {
                if let Some(bytes) = unhex(&m.bytes) {
                    r.tcp_send(t, m.conn, &m.to, &bytes);
                }
            }
            Event::ConnClose { conn, by } => r.tcp_close(t, *conn, by),
            _ => {}
        }
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

/// The pcap being written.
struct Recorder {
    writer: PcapWriter<Vec<u8>>,
    conns: BTreeMap<u64, (TcpConversation, String)>,
}

impl Recorder {
    /// An empty capture (nanosecond timestamps, Ethernet).
    fn new() -> Option<Recorder> {
        Some(Recorder {
            writer: PcapWriter::new(Vec::new(), Precision::Nanos).ok()?,
            conns: BTreeMap::new(),
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

    fn udp(&mut self, t_ms: u64, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) {
        if let Ok(frame) = ethernet_ipv4_udp(src, dst, payload) {
            self.write(t_ms, &frame);
        }
    }

    /// A failover connection opens: its handshake.
    fn tcp_open(
        &mut self,
        t_ms: u64,
        conn: u64,
        dialer: &str,
        from: SocketAddrV4,
        to: SocketAddrV4,
    ) {
        // Deterministic initial sequence numbers, different per connection.
        let isn = (conn as u32).wrapping_mul(0x9e37_79b9);
        let (c, frames) = TcpConversation::handshake(from, to, isn, isn.rotate_left(16));
        for f in frames {
            self.write(t_ms, &f);
        }
        self.conns.insert(conn, (c, dialer.to_string()));
    }

    fn side(dialer: &str, node: &str) -> Side {
        if node == dialer {
            Side::Client
        } else {
            Side::Server
        }
    }

    /// A failover message on a connection, to `receiver`: it travels from the other end (a
    /// forged message too, whoever wrote it).
    fn tcp_send(&mut self, t_ms: u64, conn: u64, receiver: &str, bytes: &[u8]) {
        let Some((c, dialer)) = self.conns.get_mut(&conn) else {
            return;
        };
        let side = match Recorder::side(dialer, receiver) {
            Side::Client => Side::Server,
            Side::Server => Side::Client,
        };
        let frames = c.send(side, bytes);
        for f in frames {
            self.write(t_ms, &f);
        }
    }

    /// `node` closes a connection (FIN).
    fn tcp_close(&mut self, t_ms: u64, conn: u64, node: &str) {
        let Some((mut c, dialer)) = self.conns.remove(&conn) else {
            return;
        };
        let f = c.fin(Recorder::side(&dialer, node));
        self.write(t_ms, &f);
    }

    fn finish(self) -> Vec<u8> {
        self.writer.into_inner().unwrap_or_default()
    }
}
