//! A whole capture to the DHCP datagrams and failover byte streams in it, as one ordered list
//! of [`Event`]s: what `dhcpfo decode` frames and prints.
//!
//! Records are taken in file order (capture order). A record that is not UDP or TCP on the
//! requested ports is counted in [`Skipped`] by reason, never an error. TCP goes through the
//! [`Reassembler`], whose rules the `tcp` module states.

use std::fmt;
use std::net::SocketAddrV4;

use super::packet::{self, Skip, Transport};
use super::pcap::Capture;
use super::tcp::{Reassembler, TcpCounts};

/// One direction of a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Flow {
    /// The sending end.
    pub src: SocketAddrV4,
    /// The receiving end.
    pub dst: SocketAddrV4,
}

impl Flow {
    /// The other direction of the same connection.
    pub fn reversed(self) -> Flow {
        Flow {
            src: self.dst,
            dst: self.src,
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} -> {}", self.src, self.dst)
    }
}

/// Something a capture shows, in capture order. Payloads borrow from the capture's bytes.
///
/// A consumer framing TCP streams keeps one framer per [`Flow`] and resets it on `TcpOpen`,
/// `TcpGap` (the stream lost bytes, so framing must resynchronise) and `TcpClose`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// A UDP datagram on one of the requested ports.
    Udp {
        /// When it was captured, in nanoseconds since the Unix epoch.
        ts_ns: u64,
        /// The sender.
        src: SocketAddrV4,
        /// The receiver.
        dst: SocketAddrV4,
        /// The datagram's payload.
        payload: &'a [u8],
    },
    /// A direction of a TCP connection starts.
    TcpOpen {
        /// When its first segment was captured.
        ts_ns: u64,
        /// The direction.
        flow: Flow,
        /// Whether its SYN was captured; if not, the capture began mid-connection and the
        /// stream starts at the first captured data, perhaps inside a message.
        syn_seen: bool,
    },
    /// The next bytes of a direction's stream, each delivered once and in order.
    TcpData {
        /// When the segment that made these bytes contiguous was captured.
        ts_ns: u64,
        /// The direction.
        flow: Flow,
        /// The bytes.
        data: &'a [u8],
    },
    /// Bytes of a direction's stream that the capture never saw; the next `TcpData` of the
    /// flow follows them.
    TcpGap {
        /// When the reassembler gave up waiting for them.
        ts_ns: u64,
        /// The direction.
        flow: Flow,
        /// How many bytes are missing.
        missing_bytes: u64,
    },
    /// A direction of a TCP connection ends.
    TcpClose {
        /// When its FIN was reached or its RST seen.
        ts_ns: u64,
        /// The direction.
        flow: Flow,
        /// Whether a RST (from either end) ended it, rather than its FIN.
        reset: bool,
    },
}

impl Event<'_> {
    /// When the event happened, in nanoseconds since the Unix epoch.
    pub fn ts_ns(&self) -> u64 {
        match *self {
            Event::Udp { ts_ns, .. }
            | Event::TcpOpen { ts_ns, .. }
            | Event::TcpData { ts_ns, .. }
            | Event::TcpGap { ts_ns, .. }
            | Event::TcpClose { ts_ns, .. } => ts_ns,
        }
    }
}

/// How many records were left out of the events, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Skipped {
    /// Records of a link type this module does not read (then every record is counted here).
    pub unsupported_link_type: usize,
    /// Frames of other network protocols: ARP, IPv6 and the like.
    pub not_ipv4: usize,
    /// IPv4 fragments, which are not reassembled.
    pub ip_fragments: usize,
    /// IPv4 packets carrying neither UDP nor TCP (ICMP, for one).
    pub other_protocols: usize,
    /// UDP or TCP on none of the requested ports.
    pub other_ports: usize,
    /// Frames that end before their headers or IPv4 length say (cut by the snapshot length).
    pub truncated: usize,
    /// Frames whose headers contradict themselves.
    pub malformed: usize,
}

impl Skipped {
    /// Counts one record skipped for `reason`.
    pub fn add(&mut self, reason: Skip) {
        let count = match reason {
            Skip::UnsupportedLinkType(_) => &mut self.unsupported_link_type,
            Skip::NotIpv4 => &mut self.not_ipv4,
            Skip::Fragment => &mut self.ip_fragments,
            Skip::OtherProtocol(_) => &mut self.other_protocols,
            Skip::Truncated => &mut self.truncated,
            Skip::Malformed => &mut self.malformed,
        };
        *count += 1;
    }

    /// All records skipped, whatever the reason.
    pub fn total(&self) -> usize {
        self.unsupported_link_type
            + self.not_ipv4
            + self.ip_fragments
            + self.other_protocols
            + self.other_ports
            + self.truncated
            + self.malformed
    }
}

/// What a capture shows on the requested ports, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissection<'a> {
    /// The datagrams and stream events, in capture order.
    pub events: Vec<Event<'a>>,
    /// Records left out, by reason.
    pub skipped: Skipped,
    /// What TCP reassembly dropped or could not deliver.
    pub tcp: TcpCounts,
}

/// Dissects every record of `capture`, keeping UDP datagrams with either port in `udp_ports`
/// and reassembling TCP segments with either port in `tcp_ports`.
///
/// Holes still open at the end of the capture are given up on, with their time the last
/// record's.
pub fn dissect<'a>(capture: &Capture<'a>, tcp_ports: &[u16], udp_ports: &[u16]) -> Dissection<'a> {
    let mut events = Vec::new();
    let mut skipped = Skipped::default();
    let mut tcp = Reassembler::new();
    for record in &capture.records {
        let packet = match packet::dissect_frame(capture.link_type, record.data) {
            Ok(packet) => packet,
            Err(reason) => {
                skipped.add(reason);
                continue;
            }
        };
        let wanted = |ports: &[u16], sport, dport| ports.contains(&sport) || ports.contains(&dport);
        match packet.transport {
            Transport::Udp {
                sport,
                dport,
                payload,
            } if wanted(udp_ports, sport, dport) => events.push(Event::Udp {
                ts_ns: record.ts_ns,
                src: SocketAddrV4::new(packet.src, sport),
                dst: SocketAddrV4::new(packet.dst, dport),
                payload,
            }),
            Transport::Tcp(seg) if wanted(tcp_ports, seg.sport, seg.dport) => {
                tcp.segment(record.ts_ns, packet.src, packet.dst, &seg, &mut events);
            }
            Transport::Udp { .. } | Transport::Tcp(_) => skipped.other_ports += 1,
        }
    }
    let end_ns = capture.records.last().map_or(0, |r| r.ts_ns);
    tcp.finish(end_ns, &mut events);
    Dissection {
        events,
        skipped,
        tcp: tcp.counts(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;

    use proptest::prelude::*;

    use super::*;
    use crate::capture::packet::{
        Side, TcpConversation, TcpFlags, ethernet_ipv4_tcp, ethernet_ipv4_udp,
    };
    use crate::capture::pcap::{self, LINKTYPE_ETHERNET, PcapWriter, Precision};

    /// One reference capture and what it holds, counted independently of this code by a
    /// throwaway script that read the files with Python's `struct` module and counted, for each
    /// TCP direction, the distinct sequence positions that carry payload.
    struct Reference {
        /// The file, under tests/data/isc-4.4.3/.
        file: &'static str,
        records: usize,
        /// UDP datagrams on ports 67 and 68.
        dhcp_datagrams: usize,
        arp_frames: usize,
        icmp_packets: usize,
        /// The bytes each TCP direction with data carries, by flow.
        tcp_bytes: &'static [(&'static str, usize)],
    }

    /// The ISC dhcpd 4.4.3 reference captures.
    const REFERENCE: &[Reference] = &[
        Reference {
            file: "01-startup-to-normal.pcap",
            records: 76,
            dhcp_datagrams: 0,
            arp_frames: 2,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:37343", 15911),
                ("192.0.2.2:37343 -> 192.0.2.1:647", 8217),
            ],
        },
        Reference {
            file: "02-client-leases.pcap",
            records: 108,
            dhcp_datagrams: 19,
            arp_frames: 12,
            icmp_packets: 1,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:37343", 546),
                ("192.0.2.2:37343 -> 192.0.2.1:647", 560),
            ],
        },
        Reference {
            file: "03-sigkill-secondary-and-restart.pcap",
            records: 67,
            dhcp_datagrams: 4,
            arp_frames: 8,
            icmp_packets: 2,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:50331", 529),
                ("192.0.2.2:50331 -> 192.0.2.1:647", 261),
            ],
        },
        Reference {
            file: "04-sigterm-secondary-and-restart.pcap",
            records: 21,
            dhcp_datagrams: 0,
            arp_frames: 0,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:48791", 189),
                ("192.0.2.2:48791 -> 192.0.2.1:647", 174),
            ],
        },
        Reference {
            file: "05-partition-and-heal.pcap",
            records: 49,
            dhcp_datagrams: 0,
            arp_frames: 14,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:43171", 205),
                ("192.0.2.1:647 -> 192.0.2.2:48791", 12),
                ("192.0.2.2:43171 -> 192.0.2.1:647", 161),
                ("192.0.2.2:48791 -> 192.0.2.1:647", 12),
            ],
        },
        Reference {
            file: "06-partner-down-via-omshell-and-recover.pcap",
            records: 138,
            dhcp_datagrams: 8,
            arp_frames: 10,
            icmp_packets: 1,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:37835", 5355),
                ("192.0.2.1:647 -> 192.0.2.2:41107", 15906),
                ("192.0.2.2:37835 -> 192.0.2.1:647", 2364),
                ("192.0.2.2:41107 -> 192.0.2.1:647", 8153),
            ],
        },
        Reference {
            file: "08-perfdhcp-200-new-leases.pcap",
            records: 989,
            dhcp_datagrams: 800,
            arp_frames: 2,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:647 -> 192.0.2.2:42563", 9900),
                ("192.0.2.2:42563 -> 192.0.2.1:647", 9900),
            ],
        },
        Reference {
            file: "bad-peer/6a-6f-fake-secondary.pcap",
            records: 294,
            dhcp_datagrams: 0,
            arp_frames: 2,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:39861 -> 192.0.2.2:647", 199),
                ("192.0.2.1:43381 -> 192.0.2.2:647", 109),
                ("192.0.2.1:46657 -> 192.0.2.2:647", 109),
                ("192.0.2.1:52917 -> 192.0.2.2:647", 189),
                ("192.0.2.1:55479 -> 192.0.2.2:647", 7585),
                ("192.0.2.1:60775 -> 192.0.2.2:647", 109),
                ("192.0.2.2:647 -> 192.0.2.1:39861", 137),
                ("192.0.2.2:647 -> 192.0.2.1:43381", 5),
                ("192.0.2.2:647 -> 192.0.2.1:46657", 16),
                ("192.0.2.2:647 -> 192.0.2.1:52917", 68),
                ("192.0.2.2:647 -> 192.0.2.1:55479", 3191),
            ],
        },
        Reference {
            file: "bad-peer/6f-fake-secondary-to-normal.pcap",
            records: 204,
            dhcp_datagrams: 0,
            arp_frames: 0,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:55479 -> 192.0.2.2:647", 7585),
                ("192.0.2.2:647 -> 192.0.2.1:55479", 3191),
            ],
        },
        Reference {
            file: "bad-peer/7a-7i-fake-primary.pcap",
            records: 289,
            dhcp_datagrams: 0,
            arp_frames: 4,
            icmp_packets: 0,
            tcp_bytes: &[
                ("192.0.2.1:38665 -> 192.0.2.2:647", 112),
                ("192.0.2.1:45795 -> 192.0.2.2:647", 5),
                ("192.0.2.1:47039 -> 192.0.2.2:647", 343),
                ("192.0.2.1:50929 -> 192.0.2.2:647", 16),
                ("192.0.2.1:56437 -> 192.0.2.2:647", 73),
                ("192.0.2.1:57289 -> 192.0.2.2:647", 109),
                ("192.0.2.1:59587 -> 192.0.2.2:647", 2235),
                ("192.0.2.2:647 -> 192.0.2.1:38665", 95),
                ("192.0.2.2:647 -> 192.0.2.1:47039", 212),
                ("192.0.2.2:647 -> 192.0.2.1:56437", 85),
                ("192.0.2.2:647 -> 192.0.2.1:57289", 95),
                ("192.0.2.2:647 -> 192.0.2.1:59587", 5091),
            ],
        },
        Reference {
            file: "bad-peer/7j-second-connect-while-normal.pcap",
            records: 8,
            dhcp_datagrams: 0,
            arp_frames: 0,
            icmp_packets: 0,
            tcp_bytes: &[("192.0.2.1:42525 -> 192.0.2.2:647", 109)],
        },
    ];

    /// Where the reference captures live.
    const DATA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/isc-4.4.3/");

    fn load(name: &str) -> Vec<u8> {
        let path = format!("{DATA_DIR}{name}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Each flow's delivered stream, concatenated.
    fn streams<'a>(events: &[Event<'a>]) -> BTreeMap<Flow, Vec<u8>> {
        let mut out: BTreeMap<Flow, Vec<u8>> = BTreeMap::new();
        for event in events {
            if let Event::TcpData { flow, data, .. } = event {
                out.entry(*flow).or_default().extend_from_slice(data);
            }
        }
        out
    }

    #[test]
    fn every_reference_capture_dissects_to_the_independently_counted_bytes() {
        for reference in REFERENCE {
            let Reference {
                file: name,
                records,
                dhcp_datagrams: udp,
                arp_frames: arp,
                icmp_packets: icmp,
                tcp_bytes: flows,
            } = *reference;
            let file = load(name);
            let capture = pcap::read(&file).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(capture.records.len(), records, "{name}: records");
            assert_eq!(capture.truncated, None, "{name}");
            assert_eq!(capture.link_type, LINKTYPE_ETHERNET, "{name}");

            let d = dissect(&capture, &[647, 847], &[67, 68]);
            let datagrams = d.events.iter().filter(|e| matches!(e, Event::Udp { .. }));
            assert_eq!(datagrams.count(), udp, "{name}: UDP datagrams");
            // The message list beside each capture has one `DHCP type=` line per datagram.
            let listing = format!("{DATA_DIR}{}", name.replace(".pcap", ".fo-msgs.txt"));
            if let Ok(text) = std::fs::read_to_string(&listing) {
                assert_eq!(text.matches("DHCP type=").count(), udp, "{listing}");
            }

            let got: Vec<(String, usize)> = streams(&d.events)
                .into_iter()
                .map(|(flow, bytes)| (flow.to_string(), bytes.len()))
                .collect();
            let want: Vec<(String, usize)> =
                flows.iter().map(|&(f, n)| (f.to_string(), n)).collect();
            assert_eq!(got, want, "{name}: bytes per flow");

            assert_eq!(d.skipped.not_ipv4, arp, "{name}: ARP");
            assert_eq!(d.skipped.other_protocols, icmp, "{name}: ICMP");
            assert_eq!(d.skipped.total(), arp + icmp, "{name}: {:?}", d.skipped);
            assert_eq!((d.tcp.gaps, d.tcp.missing_bytes), (0, 0), "{name}");

            // Every direction opens before its first data.
            let mut open = std::collections::BTreeSet::new();
            for event in &d.events {
                match event {
                    Event::TcpOpen { flow, .. } => {
                        open.insert(*flow);
                    }
                    Event::TcpData { flow, .. } => assert!(open.contains(flow), "{name}: {flow}"),
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn reference_failover_streams_tile_into_whole_messages() {
        // Each failover message starts with its 16-bit total length (at least its 12-byte
        // header), so a correctly reassembled stream is an exact run of messages. The bad-peer
        // captures are left out: they send garbage on purpose.
        for name in REFERENCE
            .iter()
            .map(|r| r.file)
            .filter(|f| !f.starts_with("bad-peer/"))
        {
            let file = load(name);
            let capture = pcap::read(&file).unwrap();
            for (flow, stream) in streams(&dissect(&capture, &[647], &[]).events) {
                let mut at = 0usize;
                let mut messages = 0;
                while let Some(&[hi, lo]) = stream.get(at..at + 2) {
                    let len = usize::from(u16::from_be_bytes([hi, lo]));
                    assert!(len >= 12, "{name} {flow}: length {len} at {at}");
                    at += len;
                    messages += 1;
                }
                assert_eq!(
                    at,
                    stream.len(),
                    "{name} {flow}: {messages} messages, then a tail"
                );
            }
        }
    }

    #[test]
    fn the_secondary_restart_capture_shows_refusals_then_the_new_connection() {
        // 03: while the secondary (192.0.2.2) is dead, the primary's seven connection attempts
        // to its port 647 are refused (SYN, then RST); the old connection's closing FINs carry
        // no data and open nothing. The restarted secondary then connects to the primary from
        // port 50331, and the primary's CONNECT (109 bytes) is the first data.
        let file = load("03-sigkill-secondary-and-restart.pcap");
        let capture = pcap::read(&file).unwrap();
        let d = dissect(&capture, &[647], &[67, 68]);
        let refused: Vec<u16> = d
            .events
            .iter()
            .filter_map(|e| match e {
                Event::TcpClose {
                    flow, reset: true, ..
                } => Some(flow.src.port()),
                _ => None,
            })
            .collect();
        assert_eq!(refused, [38497, 40981, 59653, 58383, 56115, 47783, 39087]);
        let first_data = d.events.iter().find_map(|e| match e {
            Event::TcpData { flow, data, .. } => Some((flow.to_string(), data.len())),
            _ => None,
        });
        assert_eq!(
            first_data,
            Some(("192.0.2.1:647 -> 192.0.2.2:50331".to_string(), 109))
        );
    }

    #[test]
    fn the_partition_capture_drops_retransmissions() {
        // 05: during the partition the primary retransmits the same 12 bytes several times.
        let file = load("05-partition-and-heal.pcap");
        let capture = pcap::read(&file).unwrap();
        let d = dissect(&capture, &[647, 847], &[67, 68]);
        assert!(d.tcp.duplicate_segments >= 8, "{:?}", d.tcp);
    }

    #[test]
    fn only_the_requested_ports_are_kept() {
        let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 67);
        let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 68);
        let dns = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 53);
        let fo = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 847);
        let ssh = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 22);
        let psh_ack = TcpFlags::PSH | TcpFlags::ACK;
        let mut w = PcapWriter::new(Vec::new(), Precision::Micros).unwrap();
        for frame in [
            ethernet_ipv4_udp(a, b, b"dhcp").unwrap(),
            ethernet_ipv4_udp(b, dns, b"dns").unwrap(),
            ethernet_ipv4_tcp(b, fo, 1, 1, psh_ack, b"failover").unwrap(),
            ethernet_ipv4_tcp(b, ssh, 1, 1, psh_ack, b"ssh").unwrap(),
        ] {
            w.write_record(0, &frame).unwrap();
        }
        let file = w.into_inner().unwrap();
        let capture = pcap::read(&file).unwrap();
        let d = dissect(&capture, &[647, 847], &[67]);
        assert_eq!(d.events.len(), 3, "{:?}", d.events);
        assert!(matches!(
            d.events[0],
            Event::Udp {
                payload: b"dhcp",
                ..
            }
        ));
        assert!(matches!(
            d.events[2],
            Event::TcpData {
                data: b"failover",
                ..
            }
        ));
        assert_eq!(d.skipped.other_ports, 2);
    }

    #[test]
    fn written_conversation_reads_back_to_the_same_payloads() {
        let primary = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 647);
        let secondary = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 50000);
        let client = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
        let broadcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
        let big = (0..5000u32).map(|i| i as u8).collect::<Vec<u8>>();

        let mut frames = Vec::new();
        let (mut conv, handshake) =
            TcpConversation::handshake(secondary, primary, 0xffff_fff0, 12345);
        frames.extend(handshake);
        frames.extend(conv.send(Side::Client, b"CONNECT"));
        frames.extend(conv.send(Side::Server, b"CONNECTACK"));
        frames.push(ethernet_ipv4_udp(client, broadcast, b"DISCOVER").unwrap());
        frames.extend(conv.send(Side::Server, &big));
        frames.push(conv.ack(Side::Client));
        frames.push(conv.fin(Side::Client));
        frames.push(conv.fin(Side::Server));

        for precision in [Precision::Micros, Precision::Nanos] {
            let mut w = PcapWriter::new(Vec::new(), precision).unwrap();
            let start_ns = 1_700_000_000_000_000_000;
            for (i, frame) in frames.iter().enumerate() {
                w.write_record(start_ns + i as u64 * 1_000_000, frame)
                    .unwrap();
            }
            let file = w.into_inner().unwrap();
            let capture = pcap::read(&file).unwrap();
            assert_eq!(capture.records.len(), frames.len());
            let d = dissect(&capture, &[647], &[67, 68]);
            assert_eq!(d.skipped, Skipped::default());
            assert_eq!(d.tcp, TcpCounts::default());

            let to_primary = Flow {
                src: secondary,
                dst: primary,
            };
            let s = streams(&d.events);
            assert_eq!(s[&to_primary], b"CONNECT");
            let mut from_primary = b"CONNECTACK".to_vec();
            from_primary.extend_from_slice(&big);
            assert_eq!(s[&to_primary.reversed()], from_primary);

            let udp: Vec<_> = d
                .events
                .iter()
                .filter_map(|e| match *e {
                    Event::Udp {
                        ts_ns,
                        src,
                        dst,
                        payload,
                    } => Some((ts_ns, src, dst, payload)),
                    _ => None,
                })
                .collect();
            assert_eq!(
                udp,
                [(start_ns + 5_000_000, client, broadcast, &b"DISCOVER"[..])]
            );

            let kinds: Vec<&str> = d
                .events
                .iter()
                .map(|e| match e {
                    Event::Udp { .. } => "udp",
                    Event::TcpOpen { .. } => "open",
                    Event::TcpData { .. } => "data",
                    Event::TcpGap { .. } => "gap",
                    Event::TcpClose { .. } => "close",
                })
                .collect();
            let mut want = vec!["open", "open", "data", "data", "udp"];
            want.extend(["data"; 4]); // 5000 bytes in segments of 1460
            want.extend(["close", "close"]);
            assert_eq!(kinds, want);
        }
    }

    /// A valid pcap file header with one of the four magic numbers, then anything.
    fn pcap_like() -> impl Strategy<Value = Vec<u8>> {
        let magic = prop::sample::select(vec![
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
        ]);
        let link_type = prop::sample::select(vec![0u8, 1, 101, 113, 228]);
        (
            magic,
            link_type,
            prop::collection::vec(any::<u8>(), 0..4000),
        )
            .prop_map(|(magic, link_type, body)| {
                let mut file = magic.to_vec();
                file.extend_from_slice(&[0; 16]);
                // The link type in both byte orders' low byte, so either reading finds it.
                file.extend_from_slice(&[link_type, 0, 0, link_type]);
                file.extend(body);
                file
            })
    }

    /// Reads and dissects, checking only what must hold whatever the input.
    fn read_and_dissect(bytes: &[u8]) {
        if let Ok(capture) = pcap::read(bytes) {
            let d = dissect(&capture, &[647, 847], &[67, 68]);
            let kept = capture.records.len() - d.skipped.total();
            let datagrams = d.events.iter().filter(|e| matches!(e, Event::Udp { .. }));
            assert!(datagrams.count() <= kept);
        }
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
            read_and_dissect(&bytes);
        }

        #[test]
        fn random_records_never_panic(file in pcap_like()) {
            read_and_dissect(&file);
        }

        #[test]
        fn truncated_reference_captures_keep_their_whole_records(
            which in 0..REFERENCE.len(),
            cut in any::<prop::sample::Index>(),
        ) {
            let Reference { file: name, records, .. } = REFERENCE[which];
            let file = load(name);
            let cut = cut.index(file.len() + 1);
            let part = &file[..cut];
            match pcap::read(part) {
                Ok(capture) => {
                    prop_assert!(capture.records.len() <= records);
                    let at_boundary = capture.truncated.is_none();
                    if cut < file.len() && at_boundary {
                        // Cut exactly between records: the records are a prefix of the whole.
                        let whole = pcap::read(&file).unwrap();
                        prop_assert_eq!(&whole.records[..capture.records.len()], &capture.records[..]);
                    }
                    dissect(&capture, &[647, 847], &[67, 68]);
                }
                Err(_) => prop_assert!(cut < 24),
            }
        }

        #[test]
        fn corrupted_reference_captures_never_panic(
            which in 0..REFERENCE.len(),
            damage in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..40),
        ) {
            let name = REFERENCE[which].file;
            let mut file = load(name);
            let len = file.len();
            for (at, value) in damage {
                // Spare the file header, so that the damage reaches the records.
                let at = 24 + at.index(len - 24);
                file[at] = value;
            }
            read_and_dissect(&file);
        }

        #[test]
        fn chaotic_segments_keep_every_stream_between_its_open_and_close(
            segments in prop::collection::vec(
                (any::<bool>(), 0u32..3000, 0u32..3000, any::<u8>(), 0usize..300),
                0..200,
            ),
            base in any::<u32>(),
        ) {
            // Sequence and acknowledgement numbers near a random base (so wrapping happens),
            // arbitrary flags, small payloads: overlaps, holes, SYNs, FINs and RSTs galore.
            let a = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 40000);
            let b = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 647);
            let payload = [0x5a; 300];
            let mut w = PcapWriter::new(Vec::new(), Precision::Nanos).unwrap();
            for (i, &(forward, seq, ack, flags, len)) in segments.iter().enumerate() {
                let (src, dst) = if forward { (a, b) } else { (b, a) };
                let frame = ethernet_ipv4_tcp(
                    src,
                    dst,
                    base.wrapping_add(seq),
                    base.wrapping_add(ack),
                    TcpFlags(flags),
                    &payload[..len],
                )
                .unwrap();
                w.write_record(i as u64, &frame).unwrap();
            }
            let file = w.into_inner().unwrap();
            let capture = pcap::read(&file).unwrap();
            let d = dissect(&capture, &[647], &[]);
            let mut open = std::collections::BTreeSet::new();
            for event in &d.events {
                match event {
                    Event::TcpOpen { flow, .. } => {
                        open.insert(*flow);
                    }
                    Event::TcpData { flow, data, .. } => {
                        prop_assert!(open.contains(flow));
                        prop_assert!(!data.is_empty());
                    }
                    Event::TcpGap { flow, missing_bytes, .. } => {
                        prop_assert!(open.contains(flow));
                        prop_assert!(*missing_bytes > 0);
                    }
                    Event::TcpClose { flow, .. } => prop_assert!(open.remove(flow)),
                    Event::Udp { .. } => prop_assert!(false, "no UDP was written"),
                }
            }
        }

        #[test]
        fn any_arrival_order_with_duplicates_reassembles_the_stream(
            message in prop::collection::vec(any::<u8>(), 1..3000),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
            order in any::<prop::sample::Index>(),
            repeats in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
            isn in any::<u32>(),
        ) {
            let client = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 2), 40000);
            let server = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 647);
            // Cut the message into segments at random points, then add a FIN after it.
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(message.len())).collect();
            points.extend([0, message.len()]);
            points.sort_unstable();
            points.dedup();
            let psh_ack = TcpFlags::PSH | TcpFlags::ACK;
            let mut segments: Vec<Vec<u8>> = points
                .windows(2)
                .map(|w| {
                    let seq = isn.wrapping_add(1).wrapping_add(w[0] as u32);
                    ethernet_ipv4_tcp(client, server, seq, 0, psh_ack, &message[w[0]..w[1]])
                        .unwrap()
                })
                .collect();
            let fin_seq = isn.wrapping_add(1).wrapping_add(message.len() as u32);
            segments.push(
                ethernet_ipv4_tcp(client, server, fin_seq, 0, TcpFlags::FIN | TcpFlags::ACK, b"")
                    .unwrap(),
            );
            for r in &repeats {
                let again = segments[r.index(segments.len())].clone();
                segments.push(again);
            }
            // A rotation by a random amount, then the odd positions reversed: a reordering
            // that can put anything anywhere, as far as a hole is concerned.
            let by = order.index(segments.len());
            segments.rotate_left(by);
            let mut frames =
                vec![ethernet_ipv4_tcp(client, server, isn, 0, TcpFlags::SYN, b"").unwrap()];
            let (even, odd): (Vec<_>, Vec<_>) =
                segments.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
            frames.extend(even.into_iter().map(|(_, f)| f));
            frames.extend(odd.into_iter().rev().map(|(_, f)| f));

            let mut w = PcapWriter::new(Vec::new(), Precision::Nanos).unwrap();
            for (i, frame) in frames.iter().enumerate() {
                w.write_record(i as u64, frame).unwrap();
            }
            let file = w.into_inner().unwrap();
            let capture = pcap::read(&file).unwrap();
            let d = dissect(&capture, &[647], &[]);
            let flow = Flow { src: client, dst: server };
            prop_assert_eq!(&streams(&d.events)[&flow], &message);
            prop_assert_eq!(d.tcp.gaps, 0);
            let closes = d.events.iter().filter(|e| matches!(e, Event::TcpClose { .. })).count();
            prop_assert_eq!(closes, 1);
            let closed_by_fin = matches!(d.events.last(), Some(Event::TcpClose { reset: false, .. }));
            prop_assert!(closed_by_fin);
        }
    }
}
