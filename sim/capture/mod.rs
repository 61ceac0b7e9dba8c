//! Packet captures: reading the classic pcap files that `dhcpfo decode` takes apart, and writing
//! the ones a simulated run leaves for Wireshark.
//!
//! Reading goes in three layers, each usable alone:
//!
//! - [`pcap`]: the file format. [`read`] borrows every record from the file's bytes; a damaged
//!   tail is reported, not an error.
//! - [`packet`]: one frame (Ethernet II with VLAN tags, Linux cooked, raw IP, BSD loopback) down
//!   to IPv4 and a UDP datagram or TCP segment; anything else is a counted [`Skip`].
//! - [`tcp`]: per-direction stream reassembly, robust to what captures contain (retransmissions,
//!   overlaps, reordering, lost segments, a missing SYN, sequence wrap-around).
//!
//! [`dissect`] runs all three over a capture and returns its UDP datagrams and TCP stream events
//! in capture order; framing failover messages from those streams is the caller's business.
//!
//! Writing: [`PcapWriter`] writes records; [`ethernet_ipv4_udp`], [`ethernet_ipv4_tcp`] and
//! [`TcpConversation`] build the frames, deterministically (addresses derived from IPs, no
//! clock, no randomness), so that the same run writes the same file.
//!
//! Nothing here panics on any input, reads past a buffer, or grows without a stated bound.

mod dissect;
pub mod packet;
pub mod pcap;
pub mod tcp;

pub use dissect::{Dissection, Event, Flow, Skipped, dissect};
pub use packet::{
    Macs, Packet, PayloadTooLarge, Side, Skip, TcpConversation, TcpFlags, TcpSegment, Transport,
    dissect_frame, ethernet_ipv4_tcp, ethernet_ipv4_udp, ethernet_ipv4_udp_with_macs,
    is_supported_link_type, mac_for,
};
pub use pcap::{Capture, PcapError, PcapWriter, Precision, Record, TruncatedTail, read};
pub use tcp::{Reassembler, TcpCounts};
