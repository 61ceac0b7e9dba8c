//! Link-layer frames down to UDP datagrams and TCP segments, both ways: [`dissect_frame`] takes a
//! captured frame apart, and [`ethernet_ipv4_udp`], [`ethernet_ipv4_tcp`] and
//! [`TcpConversation`] build the frames a simulated run writes to its capture.
//!
//! Only IPv4 carrying UDP or TCP is taken apart. Anything else (ARP, IPv6, ICMP, IP fragments,
//! frames cut short by the snapshot length, headers that contradict themselves) yields a
//! [`Skip`] that says why, for the caller to count; it is never an error, because a capture is
//! evidence to show, not input to reject.
//!
//! Lengths come from the headers, not from the frame: the IPv4 total length ends the packet (so
//! Ethernet padding and trailers are ignored) and the UDP length ends the datagram.
//!
//! Built frames carry correct IPv4, UDP and TCP checksums so that Wireshark flags nothing, and
//! MAC addresses derived from the IP addresses ([`mac_for`]) so that the same run always writes
//! the same bytes.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};

use dhcpfo_engine::wire::Reader;

use super::pcap::{
    LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_NULL,
    LINKTYPE_RAW,
};

/// The Ethernet type of IPv4.
const ETHERTYPE_IPV4: u16 = 0x0800;
/// The Ethernet type of an 802.1Q VLAN tag.
const ETHERTYPE_VLAN: u16 = 0x8100;
/// The Ethernet type of an 802.1ad (QinQ) service tag.
const ETHERTYPE_QINQ: u16 = 0x88a8;
/// At most this many VLAN tags are stripped; a frame with more is skipped as not IPv4.
const MAX_VLAN_TAGS: usize = 2;
/// The IP protocol number of TCP.
const PROTO_TCP: u8 = 6;
/// The IP protocol number of UDP.
const PROTO_UDP: u8 = 17;
/// The length of an Ethernet II header without VLAN tags.
const ETHERNET_HEADER_BYTES: usize = 14;
/// The length of an IPv4 header without options, as built here.
const IPV4_HEADER_BYTES: usize = 20;
/// The length of a UDP header.
const UDP_HEADER_BYTES: usize = 8;
/// The length of a TCP header without options, as built here.
const TCP_HEADER_BYTES: usize = 20;
/// The TTL of built packets: Linux's default.
const BUILT_TTL: u8 = 64;
/// The receive window advertised by built TCP segments (no window scaling).
const BUILT_WINDOW_BYTES: u16 = 65535;

/// The largest UDP payload an IPv4 packet can carry.
pub const MAX_UDP_PAYLOAD_BYTES: usize = 65535 - IPV4_HEADER_BYTES - UDP_HEADER_BYTES;
/// The largest TCP payload a built segment can carry (its headers have no options).
pub const MAX_TCP_PAYLOAD_BYTES: usize = 65535 - IPV4_HEADER_BYTES - TCP_HEADER_BYTES;
/// The segment size [`TcpConversation::send`] cuts a stream into: Ethernet's 1500-byte MTU less
/// the IPv4 and TCP headers.
pub const MSS_BYTES: usize = 1460;

/// An IPv4 packet carrying UDP or TCP, its payload borrowed from the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The IPv4 source address.
    pub src: Ipv4Addr,
    /// The IPv4 destination address.
    pub dst: Ipv4Addr,
    /// The UDP datagram or TCP segment inside.
    pub transport: Transport<'a>,
}

/// The transport-layer content of a [`Packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport<'a> {
    /// A UDP datagram.
    Udp {
        /// The source port.
        sport: u16,
        /// The destination port.
        dport: u16,
        /// The datagram's payload, as long as its UDP length field says.
        payload: &'a [u8],
    },
    /// A TCP segment.
    Tcp(TcpSegment<'a>),
}

/// One TCP segment's header fields that reassembly needs, and its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    /// The source port.
    pub sport: u16,
    /// The destination port.
    pub dport: u16,
    /// The sequence number: of the SYN if `flags` has SYN, else of the first payload byte.
    pub seq: u32,
    /// The acknowledgement number, meaningful only if `flags` has ACK.
    pub ack: u32,
    /// The control flags.
    pub flags: TcpFlags,
    /// The bytes after the header and its options.
    pub payload: &'a [u8],
}

/// TCP control flags, the low byte of the header's flags field.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    /// No more data from the sender.
    pub const FIN: TcpFlags = TcpFlags(0x01);
    /// Synchronise sequence numbers: the first segment of each direction.
    pub const SYN: TcpFlags = TcpFlags(0x02);
    /// Reset the connection.
    pub const RST: TcpFlags = TcpFlags(0x04);
    /// Push the data to the application.
    pub const PSH: TcpFlags = TcpFlags(0x08);
    /// The acknowledgement number is valid.
    pub const ACK: TcpFlags = TcpFlags(0x10);
    /// The urgent pointer is valid.
    pub const URG: TcpFlags = TcpFlags(0x20);

    /// Whether every flag of `other` is set here.
    pub fn contains(self, other: TcpFlags) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for TcpFlags {
    type Output = TcpFlags;
    fn bitor(self, rhs: TcpFlags) -> TcpFlags {
        TcpFlags(self.0 | rhs.0)
    }
}

impl fmt::Debug for TcpFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for TcpFlags {
    /// Names the set flags joined by `|` (`SYN|ACK`), in Wireshark's order; `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(TcpFlags, &str); 8] = [
            (TcpFlags(0x80), "CWR"),
            (TcpFlags(0x40), "ECE"),
            (TcpFlags::URG, "URG"),
            (TcpFlags::ACK, "ACK"),
            (TcpFlags::PSH, "PSH"),
            (TcpFlags::RST, "RST"),
            (TcpFlags::SYN, "SYN"),
            (TcpFlags::FIN, "FIN"),
        ];
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        if first {
            f.write_str("-")?;
        }
        Ok(())
    }
}

/// Why a frame was not taken apart into a [`Packet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// The capture's link type is not one this module reads.
    UnsupportedLinkType(u32),
    /// The frame carries another network protocol (ARP, IPv6, LLC…).
    NotIpv4,
    /// An IPv4 fragment; fragments are not reassembled.
    Fragment,
    /// IPv4 carrying neither UDP nor TCP; the IP protocol number.
    OtherProtocol(u8),
    /// The frame ends before a header does, or before the length its IPv4 header gives
    /// (typically cut by the snapshot length).
    Truncated,
    /// A header contradicts itself: an IPv4 header or TCP data offset under 20 bytes, a total
    /// or UDP length shorter than its own header or longer than what contains it.
    Malformed,
}

/// Whether [`dissect_frame`] can read frames of this link type.
pub fn is_supported_link_type(link_type: u32) -> bool {
    matches!(
        link_type,
        LINKTYPE_ETHERNET
            | LINKTYPE_RAW
            | LINKTYPE_IPV4
            | LINKTYPE_LINUX_SLL
            | LINKTYPE_LINUX_SLL2
            | LINKTYPE_NULL
    )
}

/// Takes a captured frame of the given link type apart, down to its UDP or TCP payload.
pub fn dissect_frame(link_type: u32, frame: &[u8]) -> Result<Packet<'_>, Skip> {
    let ip = match link_type {
        LINKTYPE_ETHERNET => strip_ethernet(frame)?,
        LINKTYPE_LINUX_SLL => strip_sll(frame)?,
        LINKTYPE_LINUX_SLL2 => strip_sll2(frame)?,
        LINKTYPE_NULL => strip_null(frame)?,
        LINKTYPE_RAW | LINKTYPE_IPV4 => frame,
        other => return Err(Skip::UnsupportedLinkType(other)),
    };
    dissect_ipv4(ip)
}

/// The IPv4 packet inside an Ethernet II frame, after at most [`MAX_VLAN_TAGS`] VLAN tags.
fn strip_ethernet(frame: &[u8]) -> Result<&[u8], Skip> {
    let mut r = Reader::new(frame);
    r.take(12).ok_or(Skip::Truncated)?; // destination and source MAC
    let mut ethertype = r.u16().ok_or(Skip::Truncated)?;
    for _ in 0..MAX_VLAN_TAGS {
        if ethertype != ETHERTYPE_VLAN && ethertype != ETHERTYPE_QINQ {
            break;
        }
        r.take(2).ok_or(Skip::Truncated)?; // priority, drop eligibility, VLAN id
        ethertype = r.u16().ok_or(Skip::Truncated)?;
    }
    if ethertype != ETHERTYPE_IPV4 {
        return Err(Skip::NotIpv4);
    }
    Ok(r.rest())
}

/// The IPv4 packet inside a Linux cooked (SLL) frame: packet type, ARPHRD type, address length,
/// 8 address bytes, then the protocol as an Ethernet type.
fn strip_sll(frame: &[u8]) -> Result<&[u8], Skip> {
    let mut r = Reader::new(frame);
    r.take(14).ok_or(Skip::Truncated)?;
    if r.u16().ok_or(Skip::Truncated)? != ETHERTYPE_IPV4 {
        return Err(Skip::NotIpv4);
    }
    Ok(r.rest())
}

/// The IPv4 packet inside a Linux cooked v2 (SLL2) frame: the protocol comes first, then 18
/// bytes of interface and address.
fn strip_sll2(frame: &[u8]) -> Result<&[u8], Skip> {
    let mut r = Reader::new(frame);
    let protocol = r.u16().ok_or(Skip::Truncated)?;
    r.take(18).ok_or(Skip::Truncated)?;
    if protocol != ETHERTYPE_IPV4 {
        return Err(Skip::NotIpv4);
    }
    Ok(r.rest())
}

/// The IPv4 packet inside a BSD loopback frame, whose 4-byte address family is in the capturing
/// host's byte order (AF_INET is 2 everywhere).
fn strip_null(frame: &[u8]) -> Result<&[u8], Skip> {
    let mut r = Reader::new(frame);
    let family = r.array::<4>().ok_or(Skip::Truncated)?;
    if u32::from_le_bytes(family) != 2 && u32::from_be_bytes(family) != 2 {
        return Err(Skip::NotIpv4);
    }
    Ok(r.rest())
}

/// Takes an IPv4 packet apart. Bytes past its total length (link-layer padding) are ignored.
fn dissect_ipv4(bytes: &[u8]) -> Result<Packet<'_>, Skip> {
    let mut r = Reader::new(bytes);
    let version_ihl = r.u8().ok_or(Skip::Truncated)?;
    if version_ihl >> 4 != 4 {
        // Raw captures mix IPv4 and IPv6; on other links the type field already said IPv4,
        // but either way this is not an IPv4 packet to read.
        return Err(Skip::NotIpv4);
    }
    let header_len = usize::from(version_ihl & 0x0f) * 4;
    let _tos = r.u8().ok_or(Skip::Truncated)?;
    let total_len = usize::from(r.u16().ok_or(Skip::Truncated)?);
    let _id = r.u16().ok_or(Skip::Truncated)?;
    let flags_fragment = r.u16().ok_or(Skip::Truncated)?;
    let _ttl = r.u8().ok_or(Skip::Truncated)?;
    let protocol = r.u8().ok_or(Skip::Truncated)?;
    let _checksum = r.u16().ok_or(Skip::Truncated)?;
    let src = r.ipv4().ok_or(Skip::Truncated)?;
    let dst = r.ipv4().ok_or(Skip::Truncated)?;
    if header_len < IPV4_HEADER_BYTES || total_len < header_len {
        return Err(Skip::Malformed);
    }
    // More-fragments set or a non-zero offset: a piece of a datagram, not reassembled here.
    if flags_fragment & 0x3fff != 0 {
        return Err(Skip::Fragment);
    }
    // Re-read from the start so that the packet ends at its total length, not the frame's end.
    let mut r = Reader::new(bytes);
    let packet = r.take(total_len).ok_or(Skip::Truncated)?;
    let mut r = Reader::new(packet);
    r.take(header_len).ok_or(Skip::Truncated)?;
    let transport = match protocol {
        PROTO_UDP => dissect_udp(r.rest())?,
        PROTO_TCP => Transport::Tcp(dissect_tcp(r.rest())?),
        other => return Err(Skip::OtherProtocol(other)),
    };
    Ok(Packet {
        src,
        dst,
        transport,
    })
}

/// Takes a UDP datagram apart; its length field ends it.
fn dissect_udp(bytes: &[u8]) -> Result<Transport<'_>, Skip> {
    let mut r = Reader::new(bytes);
    let sport = r.u16().ok_or(Skip::Malformed)?;
    let dport = r.u16().ok_or(Skip::Malformed)?;
    let len = usize::from(r.u16().ok_or(Skip::Malformed)?);
    let _checksum = r.u16().ok_or(Skip::Malformed)?;
    let payload_len = len.checked_sub(UDP_HEADER_BYTES).ok_or(Skip::Malformed)?;
    let payload = r.take(payload_len).ok_or(Skip::Malformed)?;
    Ok(Transport::Udp {
        sport,
        dport,
        payload,
    })
}

/// Takes a TCP segment apart; its data offset says where the payload starts.
fn dissect_tcp(bytes: &[u8]) -> Result<TcpSegment<'_>, Skip> {
    let mut r = Reader::new(bytes);
    let sport = r.u16().ok_or(Skip::Malformed)?;
    let dport = r.u16().ok_or(Skip::Malformed)?;
    let seq = r.u32().ok_or(Skip::Malformed)?;
    let ack = r.u32().ok_or(Skip::Malformed)?;
    let offset_flags = r.u16().ok_or(Skip::Malformed)?;
    let _window = r.u16().ok_or(Skip::Malformed)?;
    let _checksum = r.u16().ok_or(Skip::Malformed)?;
    let _urgent = r.u16().ok_or(Skip::Malformed)?;
    let header_len = usize::from(offset_flags >> 12) * 4;
    let options_len = header_len
        .checked_sub(TCP_HEADER_BYTES)
        .ok_or(Skip::Malformed)?;
    r.take(options_len).ok_or(Skip::Malformed)?;
    Ok(TcpSegment {
        sport,
        dport,
        seq,
        ack,
        flags: TcpFlags((offset_flags & 0xff) as u8),
        payload: r.rest(),
    })
}

/// A payload too long for one IPv4 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadTooLarge {
    /// The payload's length.
    pub len_bytes: usize,
    /// The longest payload the packet could carry.
    pub max_bytes: usize,
}

impl fmt::Display for PayloadTooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a payload of {} bytes does not fit one IPv4 packet (at most {})",
            self.len_bytes, self.max_bytes
        )
    }
}

impl std::error::Error for PayloadTooLarge {}

/// The MAC address built frames give an IPv4 address: a locally administered unicast address,
/// `02:00` then the four address bytes; the limited broadcast address gets the broadcast MAC.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    if ip.is_broadcast() {
        return [0xff; 6];
    }
    let [a, b, c, d] = ip.octets();
    [0x02, 0x00, a, b, c, d]
}

/// An Ethernet II frame carrying an IPv4 packet carrying a UDP datagram, with correct IPv4 and
/// UDP checksums, its MAC addresses derived from the IPs ([`mac_for`]).
pub fn ethernet_ipv4_udp(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
) -> Result<Vec<u8>, PayloadTooLarge> {
    let macs = Macs {
        src: mac_for(*src.ip()),
        dst: mac_for(*dst.ip()),
    };
    ethernet_ipv4_udp_with_macs(macs, src, dst, payload)
}

/// The Ethernet addresses of a built frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Macs {
    /// The sender's hardware address.
    pub src: [u8; 6],
    /// The receiver's, or all ones for a broadcast.
    pub dst: [u8; 6],
}

/// [`ethernet_ipv4_udp`] between given MAC addresses: a DHCP client's frame leaves from its
/// own hardware address, whatever IP it has, and a reply is sent to it.
pub fn ethernet_ipv4_udp_with_macs(
    macs: Macs,
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
) -> Result<Vec<u8>, PayloadTooLarge> {
    let too_large = PayloadTooLarge {
        len_bytes: payload.len(),
        max_bytes: MAX_UDP_PAYLOAD_BYTES,
    };
    if payload.len() > MAX_UDP_PAYLOAD_BYTES {
        return Err(too_large);
    }
    // Fits: at most 65535 after the check above.
    let udp_len = (UDP_HEADER_BYTES + payload.len()) as u16;
    let mut udp = Vec::with_capacity(usize::from(udp_len));
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&udp_len.to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let sum = transport_checksum(*src.ip(), *dst.ip(), PROTO_UDP, &udp);
    // A computed zero is sent as all ones: zero means "no checksum" in UDP over IPv4.
    let sum = if sum == 0 { 0xffff } else { sum };
    set_checksum(&mut udp, 6, sum);
    Ok(ethernet_ipv4(macs, *src.ip(), *dst.ip(), PROTO_UDP, &udp))
}

/// An Ethernet II frame carrying an IPv4 packet carrying a TCP segment without options, with
/// correct IPv4 and TCP checksums. The acknowledgement number is written only when `flags` has
/// ACK (it is zero otherwise, as a real stack sends it).
pub fn ethernet_ipv4_tcp(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: TcpFlags,
    payload: &[u8],
) -> Result<Vec<u8>, PayloadTooLarge> {
    if payload.len() > MAX_TCP_PAYLOAD_BYTES {
        return Err(PayloadTooLarge {
            len_bytes: payload.len(),
            max_bytes: MAX_TCP_PAYLOAD_BYTES,
        });
    }
    let ack = if flags.contains(TcpFlags::ACK) {
        ack
    } else {
        0
    };
    let mut tcp = Vec::with_capacity(TCP_HEADER_BYTES + payload.len());
    tcp.extend_from_slice(&src.port().to_be_bytes());
    tcp.extend_from_slice(&dst.port().to_be_bytes());
    tcp.extend_from_slice(&seq.to_be_bytes());
    tcp.extend_from_slice(&ack.to_be_bytes());
    // Data offset 5 words, no options.
    tcp.push(((TCP_HEADER_BYTES / 4) as u8) << 4);
    tcp.push(flags.0);
    tcp.extend_from_slice(&BUILT_WINDOW_BYTES.to_be_bytes());
    tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
    tcp.extend_from_slice(payload);
    let sum = transport_checksum(*src.ip(), *dst.ip(), PROTO_TCP, &tcp);
    set_checksum(&mut tcp, 16, sum);
    let macs = Macs {
        src: mac_for(*src.ip()),
        dst: mac_for(*dst.ip()),
    };
    Ok(ethernet_ipv4(macs, *src.ip(), *dst.ip(), PROTO_TCP, &tcp))
}

/// Wraps a transport segment of at most 65515 bytes in IPv4 and Ethernet II headers.
fn ethernet_ipv4(
    macs: Macs,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: u8,
    segment: &[u8],
) -> Vec<u8> {
    debug_assert!(segment.len() <= 65535 - IPV4_HEADER_BYTES);
    let total_len = (IPV4_HEADER_BYTES + segment.len()) as u16;
    let mut frame = Vec::with_capacity(ETHERNET_HEADER_BYTES + usize::from(total_len));
    frame.extend_from_slice(&macs.dst);
    frame.extend_from_slice(&macs.src);
    frame.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
    let mut ip = Vec::with_capacity(IPV4_HEADER_BYTES);
    ip.push(0x45); // version 4, header 5 words
    ip.push(0); // type of service
    ip.extend_from_slice(&total_len.to_be_bytes());
    // Identification 0 with don't-fragment, as Linux sends unfragmentable packets.
    ip.extend_from_slice(&[0, 0, 0x40, 0]);
    ip.push(BUILT_TTL);
    ip.push(protocol);
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&dst.octets());
    let sum = internet_checksum(0, &ip);
    set_checksum(&mut ip, 10, sum);
    frame.extend_from_slice(&ip);
    frame.extend_from_slice(segment);
    frame
}

/// Writes a checksum big-endian at `at` of a header this module just built.
fn set_checksum(header: &mut [u8], at: usize, sum: u16) {
    if let Some(field) = header.get_mut(at..at + 2) {
        field.copy_from_slice(&sum.to_be_bytes());
    }
}

/// The UDP or TCP checksum of `segment` (its checksum field zero) under the IPv4 pseudo-header.
fn transport_checksum(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, segment: &[u8]) -> u16 {
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.octets());
    pseudo[4..8].copy_from_slice(&dst.octets());
    pseudo[9] = protocol;
    // The builders keep segments within 65535 bytes.
    pseudo[10..].copy_from_slice(&(segment.len() as u16).to_be_bytes());
    internet_checksum(ones_complement_sum(0, &pseudo), segment)
}

/// The RFC 1071 checksum of `bytes`, continuing from a partial sum `initial`.
fn internet_checksum(initial: u32, bytes: &[u8]) -> u16 {
    let mut sum = ones_complement_sum(initial, bytes);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Adds `bytes` as big-endian 16-bit words (an odd last byte padded with zero) to `sum`,
/// folding carries so that it cannot overflow.
fn ones_complement_sum(mut sum: u32, bytes: &[u8]) -> u32 {
    let (words, rest) = bytes.as_chunks::<2>();
    for word in words {
        sum += u32::from(u16::from_be_bytes(*word));
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if let [last] = rest {
        sum += u32::from(*last) << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum
}

/// One end of a [`TcpConversation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The end that sent the SYN.
    Client,
    /// The end that answered it.
    Server,
}

/// The frames of one TCP connection between two simulated nodes, with sequence and
/// acknowledgement numbers kept consistent, so a simulated run's capture reassembles in Wireshark
/// as a real one would.
///
/// Every segment after the SYN acknowledges everything the other side has sent: the simulator
/// models delivery, not TCP's windows, so the capture shows an idealised TCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpConversation {
    client: SocketAddrV4,
    server: SocketAddrV4,
    /// The next sequence number the client sends.
    client_next: u32,
    /// The next sequence number the server sends.
    server_next: u32,
}

impl TcpConversation {
    /// Opens a connection: returns the conversation and its three handshake frames (SYN,
    /// SYN-ACK, ACK), with the given initial sequence numbers.
    pub fn handshake(
        client: SocketAddrV4,
        server: SocketAddrV4,
        client_isn: u32,
        server_isn: u32,
    ) -> (TcpConversation, [Vec<u8>; 3]) {
        let mut conv = TcpConversation {
            client,
            server,
            client_next: client_isn,
            server_next: server_isn,
        };
        let syn = conv.segment(Side::Client, TcpFlags::SYN, &[]);
        conv.client_next = conv.client_next.wrapping_add(1);
        let syn_ack = conv.segment(Side::Server, TcpFlags::SYN | TcpFlags::ACK, &[]);
        conv.server_next = conv.server_next.wrapping_add(1);
        let ack = conv.segment(Side::Client, TcpFlags::ACK, &[]);
        (conv, [syn, syn_ack, ack])
    }

    /// The frames carrying `data` from one side: segments of at most [`MSS_BYTES`], the last one
    /// with PSH. Empty data yields no frame.
    pub fn send(&mut self, from: Side, data: &[u8]) -> Vec<Vec<u8>> {
        let chunks = data.chunks(MSS_BYTES);
        let last = chunks.len().saturating_sub(1);
        chunks
            .enumerate()
            .map(|(i, chunk)| {
                let flags = if i == last {
                    TcpFlags::PSH | TcpFlags::ACK
                } else {
                    TcpFlags::ACK
                };
                let frame = self.segment(from, flags, chunk);
                // A chunk is at most MSS_BYTES long, so it fits a u32.
                let next = self.next_mut(from);
                *next = next.wrapping_add(chunk.len() as u32);
                frame
            })
            .collect()
    }

    /// A pure acknowledgement from one side.
    pub fn ack(&self, from: Side) -> Vec<u8> {
        self.segment(from, TcpFlags::ACK, &[])
    }

    /// The FIN that closes one side's direction.
    pub fn fin(&mut self, from: Side) -> Vec<u8> {
        let frame = self.segment(from, TcpFlags::FIN | TcpFlags::ACK, &[]);
        let next = self.next_mut(from);
        *next = next.wrapping_add(1);
        frame
    }

    /// A reset from one side, aborting the connection.
    pub fn rst(&self, from: Side) -> Vec<u8> {
        self.segment(from, TcpFlags::RST | TcpFlags::ACK, &[])
    }

    /// The next sequence number `side` sends.
    fn next_mut(&mut self, side: Side) -> &mut u32 {
        match side {
            Side::Client => &mut self.client_next,
            Side::Server => &mut self.server_next,
        }
    }

    /// One segment from `from` at its next sequence number, acknowledging all the other side
    /// sent. The payload is at most [`MSS_BYTES`], so building cannot fail.
    fn segment(&self, from: Side, flags: TcpFlags, payload: &[u8]) -> Vec<u8> {
        let (src, dst, seq, ack) = match from {
            Side::Client => (self.client, self.server, self.client_next, self.server_next),
            Side::Server => (self.server, self.client, self.server_next, self.client_next),
        };
        debug_assert!(payload.len() <= MSS_BYTES);
        ethernet_ipv4_tcp(src, dst, seq, ack, flags, payload).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(last: u8, port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, last), port)
    }

    #[test]
    fn built_udp_frame_dissects_to_its_payload() {
        let frame = ethernet_ipv4_udp(addr(1, 67), addr(149, 68), b"dhcp bytes").unwrap();
        let packet = dissect_frame(LINKTYPE_ETHERNET, &frame).unwrap();
        assert_eq!(packet.src, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(packet.dst, Ipv4Addr::new(192, 0, 2, 149));
        assert_eq!(
            packet.transport,
            Transport::Udp {
                sport: 67,
                dport: 68,
                payload: b"dhcp bytes"
            }
        );
    }

    #[test]
    fn built_tcp_frame_dissects_to_its_fields() {
        let flags = TcpFlags::PSH | TcpFlags::ACK;
        let frame = ethernet_ipv4_tcp(addr(2, 40000), addr(1, 647), 7, 9, flags, b"xy").unwrap();
        let packet = dissect_frame(LINKTYPE_ETHERNET, &frame).unwrap();
        assert_eq!(
            packet.transport,
            Transport::Tcp(TcpSegment {
                sport: 40000,
                dport: 647,
                seq: 7,
                ack: 9,
                flags,
                payload: b"xy"
            })
        );
        // Without ACK the acknowledgement field is zero on the wire.
        let frame = ethernet_ipv4_tcp(addr(2, 1), addr(1, 2), 7, 9, TcpFlags::SYN, b"").unwrap();
        let Ok(Packet {
            transport: Transport::Tcp(seg),
            ..
        }) = dissect_frame(LINKTYPE_ETHERNET, &frame)
        else {
            panic!("not TCP");
        };
        assert_eq!(seg.ack, 0);
    }

    /// The RFC 1071 property: summing a packet including its checksum field yields all ones.
    fn verifies(initial: u32, bytes: &[u8]) -> bool {
        internet_checksum(initial, bytes) == 0
    }

    #[test]
    fn built_checksums_verify() {
        for payload in [&b""[..], b"odd", b"even"] {
            let udp = ethernet_ipv4_udp(addr(1, 67), addr(2, 68), payload).unwrap();
            let tcp =
                ethernet_ipv4_tcp(addr(1, 647), addr(2, 5), 1, 2, TcpFlags::ACK, payload).unwrap();
            for (frame, protocol) in [(udp, PROTO_UDP), (tcp, PROTO_TCP)] {
                let ip = &frame[ETHERNET_HEADER_BYTES..];
                assert!(verifies(0, &ip[..IPV4_HEADER_BYTES]), "IPv4 header");
                let segment = &ip[IPV4_HEADER_BYTES..];
                let mut pseudo = [0u8; 12];
                pseudo[..8].copy_from_slice(&ip[12..20]);
                pseudo[9] = protocol;
                pseudo[10..].copy_from_slice(&(segment.len() as u16).to_be_bytes());
                assert!(verifies(ones_complement_sum(0, &pseudo), segment));
            }
        }
    }

    #[test]
    fn checksum_matches_a_known_ipv4_header() {
        // The worked example of the IPv4 header checksum on Wikipedia's page: b861.
        let header = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(internet_checksum(0, &header), 0xb861);
    }

    #[test]
    fn macs_derive_from_ips_and_broadcast_is_broadcast() {
        assert_eq!(mac_for(Ipv4Addr::new(192, 0, 2, 1)), [2, 0, 192, 0, 2, 1]);
        let frame = ethernet_ipv4_udp(addr(2, 67), SocketAddrV4::new(Ipv4Addr::BROADCAST, 68), b"")
            .unwrap();
        assert_eq!(&frame[..6], &[0xff; 6]);
        assert_eq!(&frame[6..12], &[2, 0, 192, 0, 2, 2]);
    }

    #[test]
    fn given_macs_are_written_as_given() {
        let macs = Macs {
            src: [2, 0, 0, 0, 0, 7],
            dst: [0xff; 6],
        };
        let unspecified = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
        let frame = ethernet_ipv4_udp_with_macs(macs, unspecified, addr(1, 67), b"x").unwrap();
        assert_eq!(&frame[..6], &[0xff; 6]);
        assert_eq!(&frame[6..12], &[2, 0, 0, 0, 0, 7]);
        assert!(dissect_frame(LINKTYPE_ETHERNET, &frame).is_ok());
    }

    #[test]
    fn ethernet_padding_after_the_ip_total_length_is_ignored() {
        let mut frame = ethernet_ipv4_udp(addr(1, 67), addr(2, 68), b"x").unwrap();
        frame.resize(60, 0xa5); // a short frame padded to Ethernet's minimum
        let packet = dissect_frame(LINKTYPE_ETHERNET, &frame).unwrap();
        assert!(matches!(
            packet.transport,
            Transport::Udp { payload: b"x", .. }
        ));

        let mut frame =
            ethernet_ipv4_tcp(addr(1, 647), addr(2, 9), 1, 1, TcpFlags::ACK, b"").unwrap();
        frame.extend_from_slice(&[0xa5; 6]);
        let Ok(Packet {
            transport: Transport::Tcp(seg),
            ..
        }) = dissect_frame(LINKTYPE_ETHERNET, &frame)
        else {
            panic!("not TCP");
        };
        assert_eq!(seg.payload, b"");
    }

    #[test]
    fn vlan_tags_are_stripped() {
        let plain = ethernet_ipv4_udp(addr(1, 67), addr(2, 68), b"tagged").unwrap();
        let mut tagged = plain[..12].to_vec();
        tagged.extend_from_slice(&[0x88, 0xa8, 0x00, 0x0a]); // service tag, VLAN 10
        tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x14]); // customer tag, VLAN 20
        tagged.extend_from_slice(&plain[12..]);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &tagged),
            dissect_frame(LINKTYPE_ETHERNET, &plain)
        );
        // A third tag is past the bound.
        let mut triple = tagged[..12].to_vec();
        triple.extend_from_slice(&[0x81, 0x00, 0x00, 0x1e]);
        triple.extend_from_slice(&tagged[12..]);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &triple),
            Err(Skip::NotIpv4)
        );
    }

    #[test]
    fn other_link_types_reach_the_same_packet() {
        let eth = ethernet_ipv4_udp(addr(1, 67), addr(2, 68), b"same").unwrap();
        let ip = &eth[ETHERNET_HEADER_BYTES..];
        let expected = dissect_frame(LINKTYPE_ETHERNET, &eth);
        assert!(expected.is_ok());

        let mut sll = vec![0, 4, 0, 1, 0, 6, 2, 0, 192, 0, 2, 1, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(ip);
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 2, 0, 192, 0, 2, 1, 0, 0,
        ];
        sll2.extend_from_slice(ip);
        let mut null_le = vec![2, 0, 0, 0];
        null_le.extend_from_slice(ip);
        let mut null_be = vec![0, 0, 0, 2];
        null_be.extend_from_slice(ip);
        for (link_type, frame) in [
            (LINKTYPE_LINUX_SLL, &sll[..]),
            (LINKTYPE_LINUX_SLL2, &sll2[..]),
            (LINKTYPE_NULL, &null_le[..]),
            (LINKTYPE_NULL, &null_be[..]),
            (LINKTYPE_RAW, ip),
            (LINKTYPE_IPV4, ip),
        ] {
            assert!(is_supported_link_type(link_type));
            assert_eq!(
                dissect_frame(link_type, frame),
                expected,
                "link type {link_type}"
            );
        }
        assert!(!is_supported_link_type(127));
        assert_eq!(
            dissect_frame(127, &eth),
            Err(Skip::UnsupportedLinkType(127))
        );
    }

    #[test]
    fn arp_and_ipv6_are_not_ipv4() {
        let mut arp = vec![0xff; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        arp.extend_from_slice(&[0; 28]);
        assert_eq!(dissect_frame(LINKTYPE_ETHERNET, &arp), Err(Skip::NotIpv4));
        let ipv6 = [0x60, 0, 0, 0, 0, 0, 17, 64];
        assert_eq!(dissect_frame(LINKTYPE_RAW, &ipv6), Err(Skip::NotIpv4));
    }

    /// The frame with byte `at` of its IPv4 header replaced.
    fn with_ip_byte(frame: &[u8], at: usize, value: u8) -> Vec<u8> {
        let mut frame = frame.to_vec();
        frame[ETHERNET_HEADER_BYTES + at] = value;
        frame
    }

    #[test]
    fn fragments_and_other_protocols_are_skipped() {
        let frame = ethernet_ipv4_udp(addr(1, 67), addr(2, 68), b"x").unwrap();
        // More fragments: the first piece of a datagram.
        let first = with_ip_byte(&frame, 6, 0x20);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &first),
            Err(Skip::Fragment)
        );
        // A non-zero offset: a later piece.
        let later = with_ip_byte(&frame, 7, 0x01);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &later),
            Err(Skip::Fragment)
        );
        let icmp = with_ip_byte(&frame, 9, 1);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &icmp),
            Err(Skip::OtherProtocol(1))
        );
    }

    #[test]
    fn frames_cut_short_are_truncated_and_lies_are_malformed() {
        let frame =
            ethernet_ipv4_tcp(addr(1, 647), addr(2, 9), 1, 1, TcpFlags::ACK, b"data").unwrap();
        for len in [0, 13, 20, frame.len() - 1] {
            assert_eq!(
                dissect_frame(LINKTYPE_ETHERNET, &frame[..len]),
                Err(Skip::Truncated),
                "cut at {len}"
            );
        }
        // An IPv4 header length of 4 words.
        let short_ihl = with_ip_byte(&frame, 0, 0x44);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &short_ihl),
            Err(Skip::Malformed)
        );
        // A total length shorter than the header.
        let short_total = with_ip_byte(&with_ip_byte(&frame, 2, 0), 3, 19);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &short_total),
            Err(Skip::Malformed)
        );
        // A TCP data offset of 4 words, then one of 15 words in a 24-byte segment.
        let tcp_at = IPV4_HEADER_BYTES + 12;
        let short_offset = with_ip_byte(&frame, tcp_at, 0x40);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &short_offset),
            Err(Skip::Malformed)
        );
        let long_offset = with_ip_byte(&frame, tcp_at, 0xf0);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &long_offset),
            Err(Skip::Malformed)
        );

        let udp = ethernet_ipv4_udp(addr(1, 67), addr(2, 68), b"abc").unwrap();
        let udp_len_at = IPV4_HEADER_BYTES + 5;
        let too_long = with_ip_byte(&udp, udp_len_at, 12);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &too_long),
            Err(Skip::Malformed)
        );
        let too_short = with_ip_byte(&udp, udp_len_at, 7);
        assert_eq!(
            dissect_frame(LINKTYPE_ETHERNET, &too_short),
            Err(Skip::Malformed)
        );
        // A UDP length shorter than the IP payload ends the datagram early.
        let shorter = with_ip_byte(&udp, udp_len_at, 10);
        let packet = dissect_frame(LINKTYPE_ETHERNET, &shorter).unwrap();
        assert!(matches!(
            packet.transport,
            Transport::Udp { payload: b"ab", .. }
        ));
    }

    #[test]
    fn tcp_options_are_skipped_by_the_data_offset() {
        let frame = ethernet_ipv4_tcp(addr(1, 647), addr(2, 9), 1, 1, TcpFlags::ACK, b"").unwrap();
        // Rebuild with 4 bytes of options (MSS) and then a payload, fixing the lengths.
        let mut ip = frame[ETHERNET_HEADER_BYTES..].to_vec();
        ip[IPV4_HEADER_BYTES + 12] = 0x60;
        ip.extend_from_slice(&[2, 4, 0x05, 0xb4]);
        ip.extend_from_slice(b"after options");
        let total = ip.len() as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        let Ok(Packet {
            transport: Transport::Tcp(seg),
            ..
        }) = dissect_frame(LINKTYPE_RAW, &ip)
        else {
            panic!("not TCP");
        };
        assert_eq!(seg.payload, b"after options");
    }

    #[test]
    fn oversized_payloads_are_refused_not_cut() {
        let big = vec![0; MAX_UDP_PAYLOAD_BYTES + 1];
        assert_eq!(
            ethernet_ipv4_udp(addr(1, 67), addr(2, 68), &big),
            Err(PayloadTooLarge {
                len_bytes: MAX_UDP_PAYLOAD_BYTES + 1,
                max_bytes: MAX_UDP_PAYLOAD_BYTES
            })
        );
        let max = vec![0; MAX_TCP_PAYLOAD_BYTES];
        let frame = ethernet_ipv4_tcp(addr(1, 1), addr(2, 2), 0, 0, TcpFlags::ACK, &max).unwrap();
        assert_eq!(frame.len(), ETHERNET_HEADER_BYTES + 65535);
        let too_big = vec![0; MAX_TCP_PAYLOAD_BYTES + 1];
        assert!(ethernet_ipv4_tcp(addr(1, 1), addr(2, 2), 0, 0, TcpFlags::ACK, &too_big).is_err());
    }

    #[test]
    fn flags_print_in_wireshark_order() {
        assert_eq!((TcpFlags::SYN | TcpFlags::ACK).to_string(), "ACK|SYN");
        assert_eq!(
            (TcpFlags::FIN | TcpFlags::PSH | TcpFlags::ACK).to_string(),
            "ACK|PSH|FIN"
        );
        assert_eq!(TcpFlags::default().to_string(), "-");
    }

    #[test]
    fn conversation_numbers_follow_the_bytes_sent() {
        let (mut conv, [syn, syn_ack, ack]) =
            TcpConversation::handshake(addr(2, 40000), addr(1, 647), 100, u32::MAX);
        let seg = |frame: &[u8]| match dissect_frame(LINKTYPE_ETHERNET, frame) {
            Ok(Packet {
                transport: Transport::Tcp(seg),
                ..
            }) => (seg.seq, seg.ack, seg.flags, seg.payload.len()),
            other => panic!("not TCP: {other:?}"),
        };
        assert_eq!(seg(&syn), (100, 0, TcpFlags::SYN, 0));
        assert_eq!(
            seg(&syn_ack),
            (u32::MAX, 101, TcpFlags::SYN | TcpFlags::ACK, 0)
        );
        assert_eq!(seg(&ack), (101, 0, TcpFlags::ACK, 0));
        let frames = conv.send(Side::Client, &vec![7; MSS_BYTES + 10]);
        assert_eq!(frames.len(), 2);
        assert_eq!(seg(&frames[0]), (101, 0, TcpFlags::ACK, MSS_BYTES));
        let pa = TcpFlags::PSH | TcpFlags::ACK;
        assert_eq!(seg(&frames[1]), (101 + MSS_BYTES as u32, 0, pa, 10));
        assert_eq!(
            seg(&conv.ack(Side::Server)),
            (0, 101 + MSS_BYTES as u32 + 10, TcpFlags::ACK, 0)
        );
        assert!(conv.send(Side::Server, b"").is_empty());
        let fin = conv.fin(Side::Server);
        assert_eq!(seg(&fin).0, 0);
        assert_eq!(seg(&conv.rst(Side::Client)).1, 1);
    }
}
