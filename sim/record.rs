//! A run's packets as a classic pcap that Wireshark (and `dhcpfo decode`) reads: every DHCP
//! datagram as Ethernet/IPv4/UDP, every failover connection as a TCP conversation with its
//! handshake, segments and FIN. Opt-in (`dhcpfo run --pcap`): a big run carries millions of
//! messages. Frames are built deterministically, so a run writes the same file every time.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;

use dhcpfo_engine::time::Time;

use crate::capture::{PcapWriter, Precision, Side, TcpConversation, ethernet_ipv4_udp};

/// The pcap being written.
pub struct Recorder {
    writer: PcapWriter<Vec<u8>>,
    conns: BTreeMap<u64, (TcpConversation, usize)>,
    /// Frames the writer refused (none in practice: every message fits a frame).
    pub refused: u64,
}

impl Recorder {
    /// An empty capture (nanosecond timestamps, Ethernet).
    pub fn new() -> Option<Recorder> {
        Some(Recorder {
            writer: PcapWriter::new(Vec::new(), Precision::Nanos).ok()?,
            conns: BTreeMap::new(),
            refused: 0,
        })
    }

    fn write(&mut self, at: Time, frame: &[u8]) {
        let ns = at.as_millis().saturating_mul(1_000_000);
        if self.writer.write_record(ns, frame).is_err() {
            self.refused += 1;
        }
    }

    /// A UDP datagram.
    pub fn udp(&mut self, at: Time, src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) {
        match ethernet_ipv4_udp(src, dst, payload) {
            Ok(frame) => self.write(at, &frame),
            Err(_) => self.refused += 1,
        }
    }

    /// A failover connection opens: its handshake. `dialer` is the node that dialed.
    pub fn tcp_open(
        &mut self,
        at: Time,
        conn: u64,
        dialer: usize,
        from: SocketAddrV4,
        to: SocketAddrV4,
    ) {
        // Deterministic initial sequence numbers, different per connection.
        let isn = (conn as u32).wrapping_mul(0x9e37_79b9);
        let (c, frames) = TcpConversation::handshake(from, to, isn, isn.rotate_left(16));
        for f in frames {
            self.write(at, &f);
        }
        self.conns.insert(conn, (c, dialer));
    }

    /// A failover message sent by `node` on a connection.
    pub fn tcp_send(&mut self, at: Time, conn: u64, node: usize, bytes: &[u8]) {
        let Some((c, dialer)) = self.conns.get_mut(&conn) else {
            return;
        };
        let side = if node == *dialer {
            Side::Client
        } else {
            Side::Server
        };
        let frames = c.send(side, bytes);
        for f in frames {
            self.write(at, &f);
        }
    }

    /// `node` closes a connection (FIN).
    pub fn tcp_close(&mut self, at: Time, conn: u64, node: usize) {
        let Some((mut c, dialer)) = self.conns.remove(&conn) else {
            return;
        };
        let side = if node == dialer {
            Side::Client
        } else {
            Side::Server
        };
        let f = c.fin(side);
        self.write(at, &f);
    }

    /// The capture's bytes.
    pub fn finish(self) -> Vec<u8> {
        self.writer.into_inner().unwrap_or_default()
    }
}
