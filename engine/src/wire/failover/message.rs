//! A whole failover message: the fixed header and its options (draft-12 §6.1).
//!
//! ```text
//!  0      1      2        3         4..7          8..11         12..poff-1      poff..len-1
//! | length (u16) | type u8 | poff u8 | time (u32)  | xid (u32)   | extra header  | options (TLV)
//! ```
//!
//! The length counts the whole message, header included. The payload offset is where the options
//! start: ISC always sends 12; the draft's text says 8 (an erratum: the header is already 12
//! bytes) and Windows is reported to send 8 (draft-12.md §1.3). We read options from
//! `max(poff, 12)` and keep the offset as received, so either form re-emits byte for byte.
//!
//! Options keep their wire order and may repeat: a batched BNDUPD/BNDACK (draft-12 §6.3) is a run
//! of binding transactions, each starting with assigned-IP-address; see [`Message::bindings`].

use std::net::Ipv4Addr;

use super::Dialect;
use super::error::DecodeError;
use super::option::{FoOption, RejectReason, ServerState, raw_options};
use crate::wire::Reader;

/// The fixed header's length, and the smallest legal message (draft-12 §6.1).
pub const HEADER_LEN: usize = 12;
/// The largest legal message (draft-12 §6.1).
pub const MAX_MESSAGE_LEN: usize = 2048;

/// Failover message types (draft-12 §6.1; the numbering of draft-12 and ISC, not Wireshark's
/// labels, which swap 7 and 9: draft-12.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageType {
    /// 1: ask for addresses.
    PoolReq,
    /// 2: how many addresses were sent.
    PoolResp,
    /// 3: binding update.
    BndUpd,
    /// 4: binding acknowledgement.
    BndAck,
    /// 5: open the application-level connection.
    Connect,
    /// 6: accept or reject a CONNECT.
    ConnectAck,
    /// 7: send me all binding data.
    UpdReqAll,
    /// 8: all requested updates were sent and acknowledged.
    UpdDone,
    /// 9: send me the unacknowledged binding data.
    UpdReq,
    /// 10: my failover state.
    State,
    /// 11: keep-alive.
    Contact,
    /// 12: last message before closing.
    Disconnect,
    /// Any other value, kept as data.
    Unknown(u8),
}

impl MessageType {
    /// The wire value.
    pub fn to_wire(self) -> u8 {
        match self {
            MessageType::PoolReq => 1,
            MessageType::PoolResp => 2,
            MessageType::BndUpd => 3,
            MessageType::BndAck => 4,
            MessageType::Connect => 5,
            MessageType::ConnectAck => 6,
            MessageType::UpdReqAll => 7,
            MessageType::UpdDone => 8,
            MessageType::UpdReq => 9,
            MessageType::State => 10,
            MessageType::Contact => 11,
            MessageType::Disconnect => 12,
            MessageType::Unknown(v) => v,
        }
    }

    /// The type a wire value names (unknown values are kept).
    pub fn from_wire(value: u8) -> MessageType {
        match value {
            1 => MessageType::PoolReq,
            2 => MessageType::PoolResp,
            3 => MessageType::BndUpd,
            4 => MessageType::BndAck,
            5 => MessageType::Connect,
            6 => MessageType::ConnectAck,
            7 => MessageType::UpdReqAll,
            8 => MessageType::UpdDone,
            9 => MessageType::UpdReq,
            10 => MessageType::State,
            11 => MessageType::Contact,
            12 => MessageType::Disconnect,
            v => MessageType::Unknown(v),
        }
    }

    /// The draft's upper-case name.
    pub fn name(self) -> &'static str {
        match self {
            MessageType::PoolReq => "POOLREQ",
            MessageType::PoolResp => "POOLRESP",
            MessageType::BndUpd => "BNDUPD",
            MessageType::BndAck => "BNDACK",
            MessageType::Connect => "CONNECT",
            MessageType::ConnectAck => "CONNECTACK",
            MessageType::UpdReqAll => "UPDREQALL",
            MessageType::UpdDone => "UPDDONE",
            MessageType::UpdReq => "UPDREQ",
            MessageType::State => "STATE",
            MessageType::Contact => "CONTACT",
            MessageType::Disconnect => "DISCONNECT",
            MessageType::Unknown(_) => "UNKNOWN",
        }
    }
}

/// One failover message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Message {
    /// The message type.
    pub msg_type: MessageType,
    /// The payload-offset field as sent (12 from ISC; 8 from Windows, read as 12).
    pub payload_offset: u8,
    /// Bytes between the 12-byte header and a payload offset beyond 12, kept as received.
    pub extra_header: Vec<u8>,
    /// The sender's clock, u32 seconds since the Unix epoch (draft-12 §5.10).
    pub time: u32,
    /// Transaction id (draft-12 §6.1): responses echo the request's.
    pub xid: u32,
    /// The options, in wire order.
    pub options: Vec<FoOption>,
}

impl Message {
    /// A message with no options and the standard 12-byte header.
    pub fn new(msg_type: MessageType, time: u32, xid: u32) -> Message {
        Message {
            msg_type,
            payload_offset: HEADER_LEN as u8,
            extra_header: Vec::new(),
            time,
            xid,
            options: Vec::new(),
        }
    }

    /// Append an option (builder style).
    pub fn with(mut self, option: FoOption) -> Message {
        self.options.push(option);
        self
    }

    /// The type of an encoded message, read from its header alone: an observer that judges
    /// only some types skips the others without decoding them. `None` if the header is cut
    /// short; [`Message::parse`] still decides whether the rest is a message.
    pub fn peek_type(bytes: &[u8]) -> Option<MessageType> {
        let mut r = Reader::new(bytes);
        r.u16()?;
        r.u8().map(MessageType::from_wire)
    }

    /// Decode one whole message (exactly the bytes its length field names; the [`super::Framer`]
    /// cuts them from a stream). Options are read in the given dialect.
    pub fn parse(bytes: &[u8], dialect: Dialect) -> Result<Message, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = (r.u16(), r.u8(), r.u8(), r.u32(), r.u32());
        let (Some(len), Some(msg_type), Some(payload_offset), Some(time), Some(xid)) = header
        else {
            return Err(DecodeError::HeaderTruncated { len: bytes.len() });
        };
        if usize::from(len) < HEADER_LEN {
            return Err(DecodeError::LengthTooSmall { declared: len });
        }
        if usize::from(len) != bytes.len() {
            return Err(DecodeError::LengthMismatch {
                declared: len,
                actual: bytes.len(),
            });
        }
        let extra_len = usize::from(payload_offset).saturating_sub(HEADER_LEN);
        let Some(extra_header) = r.take(extra_len) else {
            return Err(DecodeError::PayloadOffsetOutOfRange {
                payload_offset,
                len: bytes.len(),
            });
        };
        let options_start = r.offset();
        // An option takes at least 4 bytes and usually 8: room for the usual count up front
        // (a collect through `Result` would start empty and grow several times).
        let mut options = Vec::with_capacity((r.remaining() / 8).min(64));
        for raw in raw_options(r.rest()) {
            let (offset, code, data) = raw.map_err(|e| shift(e, options_start))?;
            options.push(FoOption::parse(
                code,
                data,
                dialect,
                options_start + offset,
            )?);
        }
        Ok(Message {
            msg_type: MessageType::from_wire(msg_type),
            payload_offset,
            extra_header: extra_header.to_vec(),
            time,
            xid,
            options,
        })
    }

    /// The encoded length.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + self.extra_header.len()
            + self.options.iter().map(|o| 4 + o.data_len()).sum::<usize>()
    }

    /// The payload offset written on the wire: 12 plus the extra header, or a received offset
    /// below 12 (Windows' 8) kept as it was. A stored offset that disagrees with the extra
    /// header is never written: the options must start where the offset says.
    fn wire_payload_offset(&self) -> u8 {
        if self.extra_header.is_empty() && self.payload_offset < HEADER_LEN as u8 {
            self.payload_offset
        } else {
            (HEADER_LEN + self.extra_header.len()).min(usize::from(u8::MAX)) as u8
        }
    }

    /// Whether the message is within the draft's 2 048-byte limit (draft-12 §6.1).
    pub fn fits(&self) -> bool {
        self.buffer_len() <= MAX_MESSAGE_LEN && self.extra_header.len() <= 243
    }

    /// Append the encoded message to `out`.
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let len = self.buffer_len();
        out.reserve(len);
        debug_assert!(len <= usize::from(u16::MAX), "check Message::fits first");
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.push(self.msg_type.to_wire());
        out.push(self.wire_payload_offset());
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.xid.to_be_bytes());
        out.extend_from_slice(&self.extra_header);
        for option in &self.options {
            option.emit(out);
        }
        debug_assert_eq!(out.len() - start, len);
    }

    /// Write the encoded message into the front of `buf`, which must hold [`Self::buffer_len`]
    /// bytes (shorter is caller misuse; the copy then stops at the end of `buf`).
    pub fn emit_into(&self, buf: &mut [u8]) {
        let bytes = self.to_bytes();
        let n = bytes.len().min(buf.len());
        buf[..n].copy_from_slice(&bytes[..n]);
    }

    /// The encoded message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.buffer_len());
        self.emit(&mut out);
        out
    }

    /// The first option with this code.
    pub fn option(&self, code: u16) -> Option<&FoOption> {
        self.options.iter().find(|o| o.code() == code)
    }

    /// The relationship name (option 22).
    pub fn relationship_name(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            FoOption::RelationshipName(n) => Some(n.as_slice()),
            _ => None,
        })
    }

    /// The server state (option 24).
    pub fn server_state(&self) -> Option<ServerState> {
        self.options.iter().find_map(|o| match o {
            FoOption::ServerState(s) => Some(*s),
            _ => None,
        })
    }

    /// The server flags (option 23).
    pub fn server_flags(&self) -> Option<u8> {
        self.options.iter().find_map(|o| match o {
            FoOption::ServerFlags(f) => Some(*f),
            _ => None,
        })
    }

    /// The MCLT (option 15), seconds.
    pub fn mclt_s(&self) -> Option<u32> {
        self.options.iter().find_map(|o| match o {
            FoOption::Mclt(v) => Some(*v),
            _ => None,
        })
    }

    /// The first reject reason (option 21).
    pub fn reject_reason(&self) -> Option<RejectReason> {
        self.options.iter().find_map(|o| match o {
            FoOption::RejectReason(r) => Some(*r),
            _ => None,
        })
    }

    /// The first message text (option 16).
    pub fn message_text(&self) -> Option<&[u8]> {
        self.options.iter().find_map(|o| match o {
            FoOption::Message(m) => Some(m.as_slice()),
            _ => None,
        })
    }

    /// The binding transactions of a BNDUPD or BNDACK (draft-12 §6.3): each slice starts with an
    /// assigned-IP-address and runs to the next one. Options before the first address (none in
    /// practice) are not part of any transaction; a trailing digest lands in the last slice.
    pub fn bindings(&self) -> Bindings<'_> {
        Bindings {
            options: &self.options,
            next: 0,
        }
    }
}

/// The binding transactions of a message, in order, without allocating (see
/// [`Message::bindings`]).
#[derive(Debug, Clone)]
pub struct Bindings<'a> {
    options: &'a [FoOption],
    /// Where to look for the next assigned-IP-address.
    next: usize,
}

impl<'a> Iterator for Bindings<'a> {
    type Item = Binding<'a>;

    fn next(&mut self) -> Option<Binding<'a>> {
        let rest = self.options.get(self.next..)?;
        let (offset, address) = rest.iter().enumerate().find_map(|(i, o)| match o {
            FoOption::AssignedIpAddress(a) => Some((i, *a)),
            _ => None,
        })?;
        let start = self.next + offset;
        let end = self.options[start + 1..]
            .iter()
            .position(|o| matches!(o, FoOption::AssignedIpAddress(_)))
            .map_or(self.options.len(), |i| start + 1 + i);
        self.next = end;
        Some(Binding {
            address,
            options: &self.options[start..end],
        })
    }
}

/// One binding transaction of a BNDUPD or BNDACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The assigned-IP-address that opens the transaction.
    pub address: Ipv4Addr,
    /// The transaction's options, the address first.
    pub options: &'a [FoOption],
}

impl Binding<'_> {
    /// The first option of the transaction with this code.
    pub fn option(&self, code: u16) -> Option<&FoOption> {
        self.options.iter().find(|o| o.code() == code)
    }
}

/// Move an error's offset from "within the options area" to "within the message".
fn shift(e: DecodeError, by: usize) -> DecodeError {
    match e {
        DecodeError::OptionHeaderTruncated { offset } => DecodeError::OptionHeaderTruncated {
            offset: offset + by,
        },
        DecodeError::OptionTruncated {
            code,
            offset,
            declared,
            available,
        } => DecodeError::OptionTruncated {
            code,
            offset: offset + by,
            declared,
            available,
        },
        other => other,
    }
}
