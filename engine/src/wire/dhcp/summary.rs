//! A cheap view of a DHCP message's few fields that observers read on every datagram (the
//! simulator's checkers read every reply a server sends): op, xid, yiaddr, chaddr, message
//! type and lease time, without decoding every option.
//!
//! It is the codec's own reading, so it agrees with [`DhcpMessage::parse`] by construction: it
//! answers `None` whenever the full parse would refuse the message, and hands anything it does
//! not read simply (option overload, an option sent in several instances, which RFC 3396
//! concatenates) to the full parse. A property test holds the two to the same answer.

use std::net::Ipv4Addr;

use super::{DhcpMessage, DhcpOption, MAGIC_COOKIE, MessageType, OPTIONS_OFFSET, Op, code};
use crate::wire::Reader;

/// The fields of a DHCP message an observer reads on every datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpSummary {
    /// BOOTREQUEST or BOOTREPLY.
    pub op: Op,
    /// The transaction ID.
    pub xid: u32,
    /// The address a reply gives.
    pub yiaddr: Ipv4Addr,
    /// The first 16 bytes of the client hardware address field.
    pub chaddr: [u8; 16],
    /// The DHCP message type (option 53), if any.
    pub kind: Option<MessageType>,
    /// The lease time (option 51), in seconds.
    pub lease_time_s: Option<u32>,
}

impl DhcpSummary {
    /// The summary of `bytes`, or `None` if they are not a DHCP message
    /// ([`DhcpMessage::parse`] would refuse them).
    pub fn read(bytes: &[u8]) -> Option<DhcpSummary> {
        let mut r = Reader::new(bytes);
        let op = Op::from(r.u8()?);
        r.take(3)?; // htype, hlen, hops
        let xid = r.u32()?;
        r.take(8)?; // secs, flags, ciaddr
        let yiaddr = r.ipv4()?;
        r.take(8)?; // siaddr, giaddr
        let chaddr = r.array::<16>()?;
        r.take(OPTIONS_OFFSET - 4 - r.offset())?; // sname, file
        if r.array::<4>()? != MAGIC_COOKIE {
            return None;
        }
        let (mut kind, mut lease) = (None, None);
        let mut seen = [false; 256];
        let area = r.rest();
        let mut options = Reader::new(area);
        // Every pass consumes at least one byte: at most as many passes as bytes.
        while let Some(c) = options.u8() {
            match c {
                code::PAD => continue,
                code::END => break,
                // Overloaded options continue in `file` and `sname`: the full parse reads them.
                code::OVERLOAD => return DhcpSummary::parsed(bytes),
                _ => {}
            }
            let len = options.u8()?;
            let data = options.take(usize::from(len))?;
            if std::mem::replace(&mut seen[usize::from(c)], true) {
                // A second instance joins the first (RFC 3396 §7): the full parse decides.
                return DhcpSummary::parsed(bytes);
            }
            match c {
                code::MESSAGE_TYPE => kind = Some(data),
                code::LEASE_TIME => lease = Some(data),
                _ => {}
            }
        }
        // Each option once: every one must decode as the full parse decodes it, or the message
        // is not one, and an observer reads nothing the codec would refuse. Options whose value
        // is any bytes cannot fail.
        let mut options = Reader::new(area);
        while let Some(c) = options.u8() {
            match c {
                code::PAD => continue,
                code::END => break,
                _ => {}
            }
            let len = options.u8()?;
            let data = options.take(usize::from(len))?;
            match c {
                code::HOST_NAME | code::PARAMETER_REQUEST_LIST | code::CLIENT_ID => {}
                _ => {
                    DhcpOption::decode(c, data).ok()?;
                }
            }
        }
        let kind = match kind {
            Some(&[t]) => Some(MessageType::from(t)),
            Some(_) => return None,
            None => None,
        };
        let lease_time_s = match lease {
            Some(&[a, b, c, d]) => Some(u32::from_be_bytes([a, b, c, d])),
            Some(_) => return None,
            None => None,
        };
        Some(DhcpSummary {
            op,
            xid,
            yiaddr,
            chaddr,
            kind,
            lease_time_s,
        })
    }

    /// The summary through the full parse (the reference the property tests hold
    /// [`DhcpSummary::read`] to).
    pub(super) fn parsed(bytes: &[u8]) -> Option<DhcpSummary> {
        let m = DhcpMessage::parse(bytes).ok()?;
        Some(DhcpSummary {
            op: m.op,
            xid: m.xid,
            yiaddr: m.yiaddr,
            chaddr: m.chaddr,
            kind: m.message_type(),
            lease_time_s: m.lease_time_s(),
        })
    }
}
