//! DHCPv4 messages (RFC 2131, options RFC 2132, long options RFC 3396): parse and emit.
//!
//! # Layout (RFC 2131 §2, Figure 1)
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 1 | op, htype, hlen, hops (one byte each) |
//! | 4 | 4 | xid |
//! | 8 | 2 + 2 | secs, flags |
//! | 12 | 4 × 4 | ciaddr, yiaddr, siaddr, giaddr |
//! | 28 | 16 | chaddr |
//! | 44 | 64 | sname |
//! | 108 | 128 | file |
//! | 236 | 4 | magic cookie 99.130.83.99 |
//! | 240 | .. | options, up to END (255) |
//!
//! # What parse keeps, and what it normalises
//!
//! A [`DhcpMessage`] holds every header field as sent and one [`DhcpOption`] per option code,
//! in the order the codes first appear. Parsing normalises four things, so that
//! `parse(emit(parse(b)))` equals `parse(b)` for every input `b` that parses:
//!
//! * **Long options** (RFC 3396 §7): every instance of a code, in the options field, then
//!   `file`, then `sname`, is concatenated into one option, placed where the first instance was.
//!   Emit splits a value longer than 255 bytes into consecutive instances (RFC 3396 §5).
//! * **Option overload** (option 52, RFC 2131 §4.1, RFC 2132 §9.3): when present in the options
//!   field, options continue in `file` (value 1), `sname` (2) or both (3, `file` first). The
//!   message keeps no option 52, and an overloaded `sname`/`file` is all zeroes in the message
//!   because it carried options, not a name. Emit never overloads: every option goes in the
//!   options field, which simply grows.
//! * **Pad** (option 0) is skipped wherever it appears and is never emitted inside the list.
//! * **A missing END** is accepted: the end of the field (of the message, for the options
//!   field) ends the options, as some clients stop at the last option.
//!
//! Bytes after END are ignored, whatever they hold.
//!
//! # Length and padding on emit
//!
//! Emit writes the header, the cookie, the options in list order, END, then zeroes up to
//! [`MIN_MESSAGE_LEN`] (300) bytes if the message is shorter; a longer message ends at its END.
//! 300 bytes is the size of a BOOTP message (RFC 951's 64-byte vendor field), and RFC 1542 §2.1
//! warns that some relay agents drop anything shorter. It is also what the captured implementations
//! do (`tests/data/isc-4.4.3/`): ISC dhcpd, dhclient and udhcpc pad to exactly 300 bytes, and
//! dhcpcd's 316-byte DISCOVER ends at its END. perfdhcp does not pad (262-byte DISCOVERs); those
//! re-emit identical up to END and then padded to 300.

mod error;
mod option;
mod summary;

#[cfg(test)]
mod golden;

use std::borrow::Cow;
use std::net::Ipv4Addr;

pub use error::{BadOptionReason, DhcpDecodeError};
pub use option::{DhcpOption, MessageType, OptionValue, RelayAgentInfo, SubOption, code};
pub use summary::DhcpSummary;

use crate::wire::Reader;

/// The magic cookie that starts the options field (RFC 2131 §3, RFC 2132 §2).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Offset of `sname` in a message.
pub const SNAME_OFFSET: usize = 44;
/// Offset of `file` in a message.
pub const FILE_OFFSET: usize = 108;
/// Offset of the options field, just past the magic cookie: the smallest message that parses.
pub const OPTIONS_OFFSET: usize = 240;
/// The length emit pads a shorter message to (see the module doc).
pub const MIN_MESSAGE_LEN: usize = 300;
/// The broadcast bit of `flags` (RFC 2131 §2, Figure 2; RFC 1542 §2.2).
pub const BROADCAST_FLAG: u16 = 0x8000;

/// How many value bytes one option instance carries: its length is one byte (RFC 3396 §5).
const MAX_INSTANCE_LEN: usize = 255;

/// The `op` field: whether a message goes to a server or comes from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    /// 1, BOOTREQUEST: from a client (or a relay on its behalf).
    Request,
    /// 2, BOOTREPLY: from a server.
    Reply,
    /// Any other value, kept as sent.
    Unknown(u8),
}

impl From<u8> for Op {
    fn from(value: u8) -> Self {
        match value {
            1 => Op::Request,
            2 => Op::Reply,
            other => Op::Unknown(other),
        }
    }
}

impl From<Op> for u8 {
    fn from(value: Op) -> Self {
        match value {
            Op::Request => 1,
            Op::Reply => 2,
            Op::Unknown(other) => other,
        }
    }
}

/// A DHCPv4 message: the fixed BOOTP header and its options.
///
/// Emit then parse gives the message back unchanged when it is in the form parse produces:
/// at most one option per code, no raw option with a typed code or 0, 52 or 255, no
/// `MessageType::Unknown` of a known value, and no relay sub-option over 255 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DhcpMessage {
    /// BOOTREQUEST or BOOTREPLY.
    pub op: Op,
    /// Hardware address type (1 = Ethernet).
    pub htype: u8,
    /// Hardware address length (6 for Ethernet); may exceed 16 on the wire.
    pub hlen: u8,
    /// Relay hops so far.
    pub hops: u8,
    /// Transaction ID chosen by the client.
    pub xid: u32,
    /// Seconds since the client began acquiring or renewing.
    pub secs: u16,
    /// Flags; only [`BROADCAST_FLAG`] is defined.
    pub flags: u16,
    /// The client's address, when it has one it can use (BOUND, RENEWING, REBINDING).
    pub ciaddr: Ipv4Addr,
    /// "Your" address: the address the server gives the client.
    pub yiaddr: Ipv4Addr,
    /// The next server to use in bootstrap.
    pub siaddr: Ipv4Addr,
    /// The relay agent's address, when the message was relayed.
    pub giaddr: Ipv4Addr,
    /// The client hardware address, padded to 16 bytes.
    pub chaddr: [u8; 16],
    /// Server host name, NUL-padded; all zeroes when it carried overloaded options.
    pub sname: [u8; 64],
    /// Boot file name, NUL-padded; all zeroes when it carried overloaded options.
    pub file: [u8; 128],
    /// The options, one per code, in wire order; never PAD, END or overload (52).
    pub options: Vec<DhcpOption>,
}

/// The options found so far while parsing: one entry per code, in the order the codes first
/// appear, every later instance of a code appended to its entry (RFC 3396 §7).
struct Joined<'a> {
    entries: Vec<Entry<'a>>,
    /// slot[code]: index in `entries` of that code's entry, once seen. At most 254 codes (not
    /// pad or END) have entries, so an index fits in a u8.
    slot: [Option<u8>; 256],
}

/// One code's value, borrowed from the message while the code has been seen once: only a code
/// that really occurs more than once is copied into an owned buffer.
struct Entry<'a> {
    code: u8,
    /// Offset of the first instance's code byte in the message.
    offset: usize,
    value: Cow<'a, [u8]>,
}

impl DhcpMessage {
    /// A message with every field zero, no options, and an Ethernet hardware type.
    pub fn new(op: Op, xid: u32) -> DhcpMessage {
        DhcpMessage {
            op,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: [0; 16],
            sname: [0; 64],
            file: [0; 128],
            options: Vec::new(),
        }
    }

    /// The start of a server's reply to `request`: a BOOTREPLY copying `xid`, `htype`, `hlen`,
    /// `chaddr`, `flags` and `giaddr` (RFC 2131 §4.3.1, Table 3), everything else zero and no
    /// options.
    pub fn reply_to(request: &DhcpMessage) -> DhcpMessage {
        DhcpMessage {
            htype: request.htype,
            hlen: request.hlen,
            flags: request.flags,
            giaddr: request.giaddr,
            chaddr: request.chaddr,
            ..DhcpMessage::new(Op::Reply, request.xid)
        }
    }

    /// Decodes a message from the UDP payload. Never panics, whatever the bytes.
    pub fn parse(bytes: &[u8]) -> Result<DhcpMessage, DhcpDecodeError> {
        let mut r = Reader::new(bytes);
        let op = Op::from(field(&mut r, Reader::u8)?);
        let htype = field(&mut r, Reader::u8)?;
        let hlen = field(&mut r, Reader::u8)?;
        let hops = field(&mut r, Reader::u8)?;
        let xid = field(&mut r, Reader::u32)?;
        let secs = field(&mut r, Reader::u16)?;
        let flags = field(&mut r, Reader::u16)?;
        let ciaddr = field(&mut r, Reader::ipv4)?;
        let yiaddr = field(&mut r, Reader::ipv4)?;
        let siaddr = field(&mut r, Reader::ipv4)?;
        let giaddr = field(&mut r, Reader::ipv4)?;
        let chaddr = field(&mut r, Reader::array::<16>)?;
        let sname_area: [u8; 64] = field(&mut r, Reader::array)?;
        let file_area: [u8; 128] = field(&mut r, Reader::array)?;
        let cookie = field(&mut r, Reader::array::<4>)?;
        if cookie != MAGIC_COOKIE {
            return Err(DhcpDecodeError::BadCookie { found: cookie });
        }
        debug_assert_eq!(r.offset(), OPTIONS_OFFSET);
        let options_area = r.rest();

        let mut joined = Joined::new();
        scan(options_area, OPTIONS_OFFSET, &mut joined)?;

        // RFC 2131 §4.1: only an overload option in the options field points elsewhere. RFC
        // 3396 §7 applies to it like to any option, hence its entry holds every instance.
        let overload = match joined.get(code::OVERLOAD).map(|e| (e.offset, &*e.value)) {
            None => 0,
            Some((_, &[value @ 1..=3])) => value,
            Some((offset, value)) => {
                let reason = match value {
                    &[value] => BadOptionReason::BadOverload { value },
                    _ => BadOptionReason::BadLength {
                        len: value.len(),
                        expected: "1",
                    },
                };
                return Err(DhcpDecodeError::BadOption {
                    code: code::OVERLOAD,
                    offset,
                    reason,
                });
            }
        };
        // RFC 2131 §4.1 and RFC 3396 §5: `file` is read before `sname`.
        let (mut sname, mut file) = (sname_area, file_area);
        if overload & 1 != 0 {
            scan(&file_area, FILE_OFFSET, &mut joined)?;
            file = [0; 128];
        }
        if overload & 2 != 0 {
            scan(&sname_area, SNAME_OFFSET, &mut joined)?;
            sname = [0; 64];
        }

        Ok(DhcpMessage {
            op,
            htype,
            hlen,
            hops,
            xid,
            secs,
            flags,
            ciaddr,
            yiaddr,
            siaddr,
            giaddr,
            chaddr,
            sname,
            file,
            options: joined.decode()?,
        })
    }

    /// How many bytes [`emit`](Self::emit) writes: at least [`MIN_MESSAGE_LEN`].
    pub fn buffer_len(&self) -> usize {
        let options: usize = self.options.iter().map(instances_len).sum();
        // The +1 is END.
        (OPTIONS_OFFSET + options + 1).max(MIN_MESSAGE_LEN)
    }

    /// Writes the message into the first [`buffer_len`](Self::buffer_len) bytes of `buf`, every
    /// one of them, and leaves the rest of `buf` alone.
    ///
    /// A `buf` shorter than `buffer_len()` is caller misuse: emit then writes nothing and
    /// returns (never a half-written message).
    pub fn emit(&self, buf: &mut [u8]) {
        if let Some(buf) = buf.get_mut(..self.buffer_len()) {
            self.write(buf);
        }
    }

    /// The message as a new byte vector of [`buffer_len`](Self::buffer_len) bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0; self.buffer_len()];
        self.write(&mut out);
        out
    }

    /// [`emit`](Self::emit) into a `buf` of exactly `buffer_len()` bytes.
    fn write(&self, buf: &mut [u8]) {
        let len = buf.len();
        let mut w = Writer {
            buf,
            at: 0,
            overran: false,
        };
        w.put(&[u8::from(self.op), self.htype, self.hlen, self.hops]);
        w.put(&self.xid.to_be_bytes());
        w.put(&self.secs.to_be_bytes());
        w.put(&self.flags.to_be_bytes());
        for address in [self.ciaddr, self.yiaddr, self.siaddr, self.giaddr] {
            w.put(&address.octets());
        }
        w.put(&self.chaddr);
        w.put(&self.sname);
        w.put(&self.file);
        w.put(&MAGIC_COOKIE);
        for option in self.options.iter().filter(|o| o.is_emitted()) {
            let value = option.value();
            // RFC 3396 §5: a long value goes out as consecutive instances of the same code,
            // each at most 255 bytes; an empty value is still one instance.
            let mut chunks = value.chunks(MAX_INSTANCE_LEN);
            let first = chunks.next().unwrap_or_default();
            for chunk in std::iter::once(first).chain(chunks) {
                w.put(&[option.code(), chunk.len() as u8]);
                w.put(chunk);
            }
        }
        w.put(&[code::END]);
        debug_assert!(!w.overran, "buffer_len() undercounts the options");
        debug_assert!(
            w.at == len || (w.at < len && len == MIN_MESSAGE_LEN),
            "buffer_len() overcounts the options"
        );
        w.zero_rest();
    }

    /// The first option with this code.
    pub fn option(&self, code: u8) -> Option<&DhcpOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// The DHCP message type (option 53); `None` makes it a plain BOOTP message.
    pub fn message_type(&self) -> Option<MessageType> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::MessageType(t) => Some(*t),
            _ => None,
        })
    }

    /// The client identifier (option 61), type byte included.
    pub fn client_id(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ClientId(id) => Some(id.as_slice()),
            _ => None,
        })
    }

    /// The requested IP address (option 50).
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::RequestedIp(a) => Some(*a),
            _ => None,
        })
    }

    /// The server identifier (option 54).
    pub fn server_id(&self) -> Option<Ipv4Addr> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ServerId(a) => Some(*a),
            _ => None,
        })
    }

    /// The lease time in seconds (option 51).
    pub fn lease_time_s(&self) -> Option<u32> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::LeaseTime(s) => Some(*s),
            _ => None,
        })
    }

    /// The parameter request list (option 55): option codes, in the client's order.
    pub fn parameter_request_list(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::ParameterRequestList(codes) => Some(codes.as_slice()),
            _ => None,
        })
    }

    /// The relay agent information (option 82).
    pub fn relay_agent_info(&self) -> Option<&RelayAgentInfo> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::RelayAgentInfo(info) => Some(info),
            _ => None,
        })
    }

    /// The host name (option 12), as the bytes sent.
    pub fn host_name(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            DhcpOption::HostName(name) => Some(name.as_slice()),
            _ => None,
        })
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr`, at most all 16.
    pub fn client_hw_addr(&self) -> &[u8] {
        let len = usize::from(self.hlen).min(self.chaddr.len());
        self.chaddr.split_at(len).0
    }

    /// Whether the client asked for a broadcast reply (RFC 2131 §4.1, the BROADCAST bit).
    pub fn is_broadcast(&self) -> bool {
        self.flags & BROADCAST_FLAG != 0
    }
}

/// Reads one fixed-header field, or says where the message ends.
fn field<'a, T>(
    r: &mut Reader<'a>,
    read: impl FnOnce(&mut Reader<'a>) -> Option<T>,
) -> Result<T, DhcpDecodeError> {
    // A failed read consumes nothing, so the offset is where the field would have started.
    read(r).ok_or(DhcpDecodeError::Truncated { at: r.offset() })
}

/// Adds the option instances of one area (options field, `file` or `sname`), whose first byte
/// is at offset `base` of the message, to `out`. Pad is skipped; END, or the end of the area,
/// ends it.
fn scan<'a>(area: &'a [u8], base: usize, out: &mut Joined<'a>) -> Result<(), DhcpDecodeError> {
    let mut r = Reader::new(area);
    // Every pass consumes at least one byte, so the loop runs at most area.len() times.
    while let Some(code) = r.u8() {
        let offset = base + r.offset() - 1;
        match code {
            code::PAD => continue,
            code::END => break,
            _ => {}
        }
        let bad = |reason| DhcpDecodeError::BadOption {
            code,
            offset,
            reason,
        };
        let len = r.u8().ok_or_else(|| bad(BadOptionReason::MissingLength))?;
        let value = r.take(usize::from(len)).ok_or_else(|| {
            bad(BadOptionReason::Overrun {
                len,
                available: r.remaining(),
            })
        })?;
        out.add(code, offset, value);
    }
    Ok(())
}

impl<'a> Joined<'a> {
    fn new() -> Joined<'a> {
        Joined {
            // Left to grow as usual: starting at 16 entries measured 20% *more* instructions
            // on the day scenario, as mimalloc then freed and refetched pages that other code's
            // small vectors had been sharing with this one.
            entries: Vec::new(),
            slot: [None; 256],
        }
    }

    /// The entry of `code`, once seen.
    fn get(&self, code: u8) -> Option<&Entry<'a>> {
        self.slot[usize::from(code)].and_then(|i| self.entries.get(usize::from(i)))
    }

    /// Adds one instance: a new entry for a new code, or the end of its code's value.
    fn add(&mut self, code: u8, offset: usize, value: &'a [u8]) {
        let slot = &mut self.slot[usize::from(code)];
        match slot.and_then(|i| self.entries.get_mut(usize::from(i))) {
            // A code seen before: only now does its value need a buffer of its own.
            Some(entry) => entry.value.to_mut().extend_from_slice(value),
            None => {
                *slot = u8::try_from(self.entries.len()).ok();
                self.entries.push(Entry {
                    code,
                    offset,
                    value: Cow::Borrowed(value),
                });
            }
        }
    }

    /// Decodes each entry in order, except overload (52), which the parser consumes.
    fn decode(self) -> Result<Vec<DhcpOption>, DhcpDecodeError> {
        // An Entry is no smaller than a DhcpOption and as aligned, so std collects in place:
        // the options reuse the entries' buffer instead of allocating their own.
        self.entries
            .into_iter()
            .filter(|entry| entry.code != code::OVERLOAD)
            .map(|entry| {
                let Entry {
                    code,
                    offset,
                    value,
                } = entry;
                DhcpOption::decode(code, value).map_err(|reason| DhcpDecodeError::BadOption {
                    code,
                    offset,
                    reason,
                })
            })
            .collect()
    }
}

/// The bytes an option takes on the wire: a code and a length byte per instance, and the value.
fn instances_len(option: &DhcpOption) -> usize {
    if !option.is_emitted() {
        return 0;
    }
    let len = option.value_len();
    2 * len.div_ceil(MAX_INSTANCE_LEN).max(1) + len
}

/// A cursor over the output buffer. `emit` sizes the buffer first, so a put that would overrun
/// is an internal bug: it writes nothing rather than panic, and says so in `overran`.
struct Writer<'a> {
    buf: &'a mut [u8],
    at: usize,
    overran: bool,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        match self.buf.get_mut(self.at..end) {
            Some(dst) => {
                dst.copy_from_slice(bytes);
                self.at = end;
            }
            None => self.overran = true,
        }
    }

    fn zero_rest(&mut self) {
        if let Some(rest) = self.buf.get_mut(self.at..) {
            rest.fill(0);
        }
        self.at = self.buf.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A valid message: header from `msg`, then the given raw option bytes (END included or not).
    fn with_raw_options(msg: &DhcpMessage, options: &[u8]) -> Vec<u8> {
        let mut bytes = msg.to_bytes();
        bytes.truncate(OPTIONS_OFFSET);
        bytes.extend_from_slice(options);
        bytes
    }

    fn discover() -> DhcpMessage {
        let mut msg = DhcpMessage::new(Op::Request, 0x1234_5678);
        msg.chaddr[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
        msg.options = vec![DhcpOption::MessageType(MessageType::Discover)];
        msg
    }

    #[test]
    fn shorter_than_header_and_cookie_is_truncated() {
        let bytes = discover().to_bytes();
        assert_eq!(
            DhcpMessage::parse(&[]),
            Err(DhcpDecodeError::Truncated { at: 0 })
        );
        // Ends inside xid (offset 4..8).
        assert_eq!(
            DhcpMessage::parse(&bytes[..6]),
            Err(DhcpDecodeError::Truncated { at: 4 })
        );
        // Ends inside the cookie.
        assert_eq!(
            DhcpMessage::parse(&bytes[..239]),
            Err(DhcpDecodeError::Truncated { at: 236 })
        );
        // The header and cookie alone are a message without options.
        let bare = DhcpMessage::parse(&bytes[..240]).unwrap();
        assert!(bare.options.is_empty());
    }

    #[test]
    fn wrong_cookie_is_rejected() {
        let mut bytes = discover().to_bytes();
        bytes[236..240].copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadCookie {
                found: [1, 2, 3, 4]
            })
        );
    }

    #[test]
    fn missing_end_is_accepted() {
        let bytes = with_raw_options(&discover(), &[53, 1, 1, 51, 4, 0, 0, 0, 60]);
        let msg = DhcpMessage::parse(&bytes).unwrap();
        assert_eq!(msg.message_type(), Some(MessageType::Discover));
        assert_eq!(msg.lease_time_s(), Some(60));
    }

    #[test]
    fn pad_is_skipped_and_bytes_after_end_are_ignored() {
        let bytes = with_raw_options(&discover(), &[0, 0, 53, 1, 3, 0, 255, 51, 1, 0xee]);
        let msg = DhcpMessage::parse(&bytes).unwrap();
        assert_eq!(
            msg.options,
            vec![DhcpOption::MessageType(MessageType::Request)]
        );
    }

    #[test]
    fn option_running_past_the_end_names_code_and_offset() {
        let bytes = with_raw_options(&discover(), &[53, 1, 1, 12, 5, b'a', b'b']);
        assert_eq!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption {
                code: 12,
                offset: 243,
                reason: BadOptionReason::Overrun {
                    len: 5,
                    available: 2
                },
            })
        );
        let bytes = with_raw_options(&discover(), &[53, 1, 1, 12]);
        assert_eq!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption {
                code: 12,
                offset: 243,
                reason: BadOptionReason::MissingLength,
            })
        );
    }

    #[test]
    fn impossible_length_for_a_typed_option_names_the_code() {
        let bytes = with_raw_options(&discover(), &[53, 1, 1, 51, 3, 0, 0, 1, 255]);
        assert_eq!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption {
                code: 51,
                offset: 243,
                reason: BadOptionReason::BadLength {
                    len: 3,
                    expected: "4"
                },
            })
        );
        let bytes = with_raw_options(&discover(), &[53, 2, 1, 1, 255]);
        assert!(matches!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption { code: 53, .. })
        ));
        let bytes = with_raw_options(&discover(), &[3, 6, 192, 0, 2, 1, 0, 0, 255]);
        assert!(matches!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption { code: 3, .. })
        ));
    }

    #[test]
    fn overload_value_outside_1_to_3_is_an_error() {
        let bytes = with_raw_options(&discover(), &[53, 1, 1, 52, 1, 4, 255]);
        assert_eq!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption {
                code: 52,
                offset: 243,
                reason: BadOptionReason::BadOverload { value: 4 },
            })
        );
        let bytes = with_raw_options(&discover(), &[52, 2, 1, 1, 255]);
        assert!(matches!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption { code: 52, .. })
        ));
    }

    /// Options field: 53, 52 = 3, the first third of 61, END. `file`: a pad, the second third
    /// of 61, 51, END. `sname`: 12, 6, the rest of 61, END, then bytes that are not options.
    fn overloaded_message() -> Vec<u8> {
        let mut msg = discover();
        msg.file[..13].copy_from_slice(&[
            0, // a pad inside the overloaded field
            61, 3, 0x33, 0x44, 0x55, //
            51, 4, 0, 0, 0x0e, 0x10, //
            255,
        ]);
        msg.sname[..18].copy_from_slice(&[
            12, 4, b'h', b'o', b's', b't', //
            6, 4, 192, 0, 2, 53, //
            61, 3, 0x66, 0x77, 0x88, //
            255,
        ]);
        msg.sname[40..44].copy_from_slice(b"junk");
        with_raw_options(&msg, &[53, 1, 1, 52, 1, 3, 61, 3, 0x01, 0x11, 0x22, 255])
    }

    #[test]
    fn overloaded_file_and_sname_carry_options_file_first() {
        let msg = DhcpMessage::parse(&overloaded_message()).unwrap();
        assert_eq!(
            msg.options,
            vec![
                DhcpOption::MessageType(MessageType::Discover),
                // RFC 3396: options field, then file, then sname, at the first instance's place.
                DhcpOption::ClientId(vec![0x01, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]),
                DhcpOption::LeaseTime(3600),
                DhcpOption::HostName(b"host".to_vec()),
                DhcpOption::DnsServers(vec![Ipv4Addr::new(192, 0, 2, 53)]),
            ]
        );
        assert_eq!(msg.option(code::OVERLOAD), None);
        assert_eq!(msg.sname, [0; 64]);
        assert_eq!(msg.file, [0; 128]);
        // Emit puts everything in the options field; the result parses to the same message.
        assert_eq!(DhcpMessage::parse(&msg.to_bytes()), Ok(msg));
    }

    #[test]
    fn overload_1_reads_file_only_and_keeps_sname() {
        let mut msg = discover();
        msg.sname[..4].copy_from_slice(b"srv1");
        msg.file[..3].copy_from_slice(&[12, 1, b'x']);
        let bytes = with_raw_options(&msg, &[52, 1, 1, 53, 1, 1, 255]);
        let parsed = DhcpMessage::parse(&bytes).unwrap();
        assert_eq!(parsed.host_name(), Some(&b"x"[..]));
        assert_eq!(parsed.sname, msg.sname);
        assert_eq!(parsed.file, [0; 128]);
    }

    #[test]
    fn file_is_not_read_without_overload() {
        let mut msg = discover();
        msg.file[..3].copy_from_slice(&[12, 1, b'x']);
        let parsed = DhcpMessage::parse(&msg.to_bytes()).unwrap();
        assert_eq!(parsed, msg);
    }

    #[test]
    fn bad_option_in_overloaded_file_reports_its_offset_in_the_message() {
        let mut msg = discover();
        msg.file[..3].copy_from_slice(&[0, 12, 200]);
        let bytes = with_raw_options(&msg, &[52, 1, 1, 255]);
        assert_eq!(
            DhcpMessage::parse(&bytes),
            Err(DhcpDecodeError::BadOption {
                code: 12,
                offset: FILE_OFFSET + 1,
                reason: BadOptionReason::Overrun {
                    len: 200,
                    available: 125
                },
            })
        );
    }

    #[test]
    fn long_option_is_split_into_instances_and_parses_back_as_one() {
        let mut msg = discover();
        let data: Vec<u8> = (0..600u16).map(|i| i as u8).collect();
        // 70 addresses are 280 bytes: the split falls inside the 64th address.
        let servers: Vec<Ipv4Addr> = (0..70).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        msg.options.push(DhcpOption::Other {
            code: 224,
            data: data.clone(),
        });
        msg.options.push(DhcpOption::DnsServers(servers.clone()));
        let bytes = msg.to_bytes();
        assert_eq!(bytes.len(), msg.buffer_len());
        assert_eq!(bytes.len(), 240 + 3 + (600 + 6) + (280 + 4) + 1);

        // 53 takes 3 bytes, then 224 as 255 + 255 + 90, then 6 as 255 + 25, then END.
        let mut r = Reader::new(&bytes[243..]);
        for (code, len) in [(224, 255), (224, 255), (224, 90), (6, 255), (6, 25)] {
            assert_eq!(r.u8(), Some(code));
            assert_eq!(r.u8(), Some(len));
            r.take(usize::from(len)).unwrap();
        }
        assert_eq!(r.rest(), &[255]);

        let parsed = DhcpMessage::parse(&bytes).unwrap();
        assert_eq!(parsed, msg);
        assert_eq!(parsed.option(224).map(|o| o.value().len()), Some(600));
    }

    #[test]
    fn empty_option_is_emitted_as_one_instance() {
        let mut msg = discover();
        msg.options.push(DhcpOption::HostName(vec![]));
        let bytes = msg.to_bytes();
        assert_eq!(&bytes[240..246], &[53, 1, 1, 12, 0, 255]);
        assert_eq!(DhcpMessage::parse(&bytes), Ok(msg));
    }

    #[test]
    fn short_message_is_padded_to_300_and_long_one_ends_at_end() {
        let msg = discover();
        let bytes = msg.to_bytes();
        assert_eq!(bytes.len(), MIN_MESSAGE_LEN);
        assert_eq!(&bytes[240..244], &[53, 1, 1, 255]);
        assert!(bytes[244..].iter().all(|&b| b == 0));

        let mut long = discover();
        long.options.push(DhcpOption::HostName(vec![b'a'; 100]));
        let bytes = long.to_bytes();
        assert_eq!(bytes.len(), 240 + 3 + 102 + 1);
        assert_eq!(bytes.last(), Some(&255));
    }

    #[test]
    fn emit_into_a_short_buffer_writes_nothing() {
        let msg = discover();
        let mut buf = vec![0xa5; msg.buffer_len() - 1];
        msg.emit(&mut buf);
        assert!(buf.iter().all(|&b| b == 0xa5));
    }

    #[test]
    fn emit_leaves_bytes_past_buffer_len_alone() {
        let msg = discover();
        let mut buf = vec![0xa5; msg.buffer_len() + 3];
        msg.emit(&mut buf);
        assert_eq!(&buf[..msg.buffer_len()], msg.to_bytes().as_slice());
        assert_eq!(&buf[msg.buffer_len()..], &[0xa5; 3]);
    }

    #[test]
    fn raw_options_with_pad_or_end_code_are_not_emitted() {
        let mut msg = discover();
        msg.options.push(DhcpOption::Other {
            code: 255,
            data: vec![1, 2],
        });
        msg.options.push(DhcpOption::Other {
            code: 0,
            data: vec![],
        });
        let bytes = msg.to_bytes();
        assert_eq!(&bytes[240..244], &[53, 1, 1, 255]);
        assert_eq!(bytes.len(), msg.buffer_len());
    }

    #[test]
    fn client_hw_addr_is_hlen_bytes_of_chaddr_at_most_16() {
        let mut msg = discover();
        assert_eq!(msg.client_hw_addr(), &[0x02, 0, 0, 0, 0, 0x01]);
        msg.hlen = 200;
        assert_eq!(msg.client_hw_addr().len(), 16);
        msg.hlen = 0;
        assert!(msg.client_hw_addr().is_empty());
    }

    #[test]
    fn broadcast_is_the_top_bit_of_flags() {
        let mut msg = discover();
        assert!(!msg.is_broadcast());
        msg.flags = 0x8000;
        assert!(msg.is_broadcast());
        msg.flags = 0x7fff;
        assert!(!msg.is_broadcast());
    }

    #[test]
    fn reply_copies_what_identifies_the_client_and_its_relay() {
        let mut request = discover();
        request.hops = 1;
        request.secs = 9;
        request.flags = BROADCAST_FLAG;
        request.giaddr = Ipv4Addr::new(192, 0, 2, 4);
        request.ciaddr = Ipv4Addr::new(192, 0, 2, 150);
        let reply = DhcpMessage::reply_to(&request);
        assert_eq!(reply.op, Op::Reply);
        assert_eq!(reply.xid, request.xid);
        assert_eq!(
            (reply.htype, reply.hlen, reply.chaddr),
            (request.htype, request.hlen, request.chaddr)
        );
        assert_eq!(
            (reply.flags, reply.giaddr),
            (BROADCAST_FLAG, request.giaddr)
        );
        assert_eq!((reply.hops, reply.secs), (0, 0));
        assert_eq!(reply.ciaddr, Ipv4Addr::UNSPECIFIED);
        assert!(reply.options.is_empty());
    }

    #[test]
    fn op_keeps_unknown_values() {
        for v in 0..=255u8 {
            assert_eq!(u8::from(Op::from(v)), v);
        }
        let mut bytes = discover().to_bytes();
        bytes[0] = 7;
        assert_eq!(DhcpMessage::parse(&bytes).unwrap().op, Op::Unknown(7));
    }

    // ---- Property tests ----

    fn arb_addresses() -> impl Strategy<Value = Vec<Ipv4Addr>> {
        // Up to 80 addresses: 320 bytes, so some lists need two instances.
        prop::collection::vec(any::<[u8; 4]>().prop_map(Ipv4Addr::from), 0..80)
    }

    fn arb_bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(any::<u8>(), 0..max)
    }

    fn arb_option() -> impl Strategy<Value = DhcpOption> {
        let address = || any::<[u8; 4]>().prop_map(Ipv4Addr::from);
        let sub_option =
            (any::<u8>(), arb_bytes(256)).prop_map(|(code, data)| SubOption { code, data });
        let untyped = any::<u8>().prop_filter("untyped code", |c| {
            !code::TYPED.contains(c) && *c != code::PAD && *c != code::END
        });
        prop_oneof![
            address().prop_map(DhcpOption::SubnetMask),
            arb_addresses().prop_map(DhcpOption::Routers),
            arb_addresses().prop_map(DhcpOption::DnsServers),
            arb_bytes(300).prop_map(DhcpOption::HostName),
            address().prop_map(DhcpOption::RequestedIp),
            any::<u32>().prop_map(DhcpOption::LeaseTime),
            any::<u8>().prop_map(|t| DhcpOption::MessageType(MessageType::from(t))),
            address().prop_map(DhcpOption::ServerId),
            arb_bytes(300).prop_map(DhcpOption::ParameterRequestList),
            any::<u16>().prop_map(DhcpOption::MaxMessageSize),
            any::<u32>().prop_map(DhcpOption::RenewalTime),
            any::<u32>().prop_map(DhcpOption::RebindingTime),
            arb_bytes(300).prop_map(DhcpOption::ClientId),
            prop::collection::vec(sub_option, 0..4)
                .prop_map(|sub_options| DhcpOption::RelayAgentInfo(RelayAgentInfo { sub_options })),
            (untyped, arb_bytes(600)).prop_map(|(code, data)| DhcpOption::Other { code, data }),
        ]
    }

    /// Options with distinct codes: parse concatenates repeated codes into one.
    fn arb_options() -> impl Strategy<Value = Vec<DhcpOption>> {
        prop::collection::vec(arb_option(), 0..12).prop_map(|options| {
            let mut seen = [false; 256];
            options
                .into_iter()
                .filter(|o| !std::mem::replace(&mut seen[usize::from(o.code())], true))
                .collect()
        })
    }

    prop_compose! {
        fn arb_message()(
            header in (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>(), any::<u32>(),
                       any::<u16>(), any::<u16>()),
            addresses in any::<[[u8; 4]; 4]>(),
            chaddr in any::<[u8; 16]>(),
            sname in prop::collection::vec(any::<u8>(), 64),
            file in prop::collection::vec(any::<u8>(), 128),
            options in arb_options(),
        ) -> DhcpMessage {
            let (op, htype, hlen, hops, xid, secs, flags) = header;
            let [ciaddr, yiaddr, siaddr, giaddr] = addresses.map(Ipv4Addr::from);
            DhcpMessage {
                op: Op::from(op), htype, hlen, hops, xid, secs, flags,
                ciaddr, yiaddr, siaddr, giaddr, chaddr,
                sname: sname.try_into().unwrap(), file: file.try_into().unwrap(), options,
            }
        }
    }

    /// One option instance as wire bytes: mostly typed codes and overload, with a value that
    /// is usually well-formed for the type and sometimes any bytes of any length.
    fn arb_instance() -> impl Strategy<Value = Vec<u8>> {
        let codes = vec![1u8, 3, 6, 12, 50, 51, 52, 53, 55, 57, 61, 82, 120, 224];
        prop::sample::select(codes).prop_flat_map(|code| {
            let bytes = |len| prop::collection::vec(any::<u8>(), len);
            let well_formed = match code {
                3 | 6 => bytes(0..3).prop_map(|b| vec![7; 4 * b.len()]).boxed(),
                1 | 50 | 51 => bytes(4..5).boxed(),
                53 => bytes(1..2).boxed(),
                57 => bytes(2..3).boxed(),
                // An overload value is 1..=3; 0 and 4 try the error path.
                52 => prop::collection::vec(0u8..5, 1).boxed(),
                82 => bytes(0..6)
                    .prop_map(|b| [&[1, b.len() as u8][..], &b].concat())
                    .boxed(),
                _ => bytes(0..12).boxed(),
            };
            let value = prop_oneof![4 => well_formed, 1 => bytes(0..12)];
            value.prop_map(move |value| [&[code, value.len() as u8][..], &value].concat())
        })
    }

    /// An options area: instances with pads between, then END and junk, or nothing; cut or
    /// zero-filled to `len` bytes when `len` is given (`sname`, `file`).
    fn arb_area(len: Option<usize>) -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec((arb_instance(), 0usize..2), 0..8),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..8),
        )
            .prop_map(move |(instances, end, junk)| {
                let mut out = Vec::new();
                for (instance, pads) in instances {
                    out.extend(std::iter::repeat_n(code::PAD, pads));
                    out.extend_from_slice(&instance);
                }
                if end {
                    out.push(code::END);
                    out.extend_from_slice(&junk);
                }
                if let Some(len) = len {
                    out.resize(len, 0);
                }
                out
            })
    }

    /// The summary as the full parse gives it.
    fn summary_of_parse(bytes: &[u8]) -> Option<DhcpSummary> {
        DhcpSummary::parsed(bytes)
    }

    /// Bytes that get past the header and cookie, with options (overloaded or not, split or
    /// not) that often but not always decode.
    fn arb_message_bytes() -> impl Strategy<Value = Vec<u8>> {
        (
            prop::collection::vec(any::<u8>(), SNAME_OFFSET),
            arb_area(Some(64)),
            arb_area(Some(128)),
            prop::option::of(0u8..4),
            arb_area(None),
        )
            .prop_map(|(header, sname, file, overload, options)| {
                let mut out = header;
                out.extend_from_slice(&sname);
                out.extend_from_slice(&file);
                out.extend_from_slice(&MAGIC_COOKIE);
                if let Some(value) = overload {
                    out.extend_from_slice(&[code::OVERLOAD, 1, value]);
                }
                out.extend_from_slice(&options);
                out
            })
    }

    proptest! {
        #[test]
        fn emit_then_parse_gives_the_message_back(msg in arb_message()) {
            let bytes = msg.to_bytes();
            prop_assert_eq!(bytes.len(), msg.buffer_len());
            prop_assert!(bytes.len() >= MIN_MESSAGE_LEN);
            prop_assert_eq!(DhcpMessage::parse(&bytes), Ok(msg));
        }

        #[test]
        fn value_len_is_the_length_of_value(option in arb_option()) {
            prop_assert_eq!(option.value_len(), option.value().len());
        }

        #[test]
        fn emit_writes_every_byte_of_buffer_len(msg in arb_message()) {
            let mut a = vec![0xa5; msg.buffer_len()];
            let mut b = vec![0x5a; msg.buffer_len()];
            msg.emit(&mut a);
            msg.emit(&mut b);
            prop_assert_eq!(a, b);
        }

        #[test]
        fn the_summary_agrees_with_the_full_parse(bytes in arb_message_bytes()) {
            prop_assert_eq!(DhcpSummary::read(&bytes), summary_of_parse(&bytes));
        }

        #[test]
        fn the_summary_agrees_with_the_full_parse_on_emitted_messages(msg in arb_message()) {
            let bytes = msg.to_bytes();
            prop_assert_eq!(DhcpSummary::read(&bytes), summary_of_parse(&bytes));
        }

        #[test]
        fn the_summary_agrees_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
            prop_assert_eq!(DhcpSummary::read(&bytes), summary_of_parse(&bytes));
        }

        #[test]
        fn parse_never_panics_on_random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..700)) {
            let _ = DhcpMessage::parse(&bytes);
        }

        #[test]
        fn parse_emit_parse_is_stable(bytes in arb_message_bytes()) {
            if let Ok(msg) = DhcpMessage::parse(&bytes) {
                prop_assert_eq!(DhcpMessage::parse(&msg.to_bytes()), Ok(msg));
            }
        }

        #[test]
        fn truncated_messages_never_panic(msg in arb_message(), cut in any::<prop::sample::Index>()) {
            let bytes = msg.to_bytes();
            let cut = cut.index(bytes.len() + 1);
            let result = DhcpMessage::parse(&bytes[..cut]);
            if cut < OPTIONS_OFFSET {
                prop_assert!(
                    matches!(result, Err(DhcpDecodeError::Truncated { .. })),
                    "{:?}", result
                );
            }
        }
    }
}
