//! DHCP options (RFC 2132): typed for what a server and a client use, raw for everything else.
//!
//! A value here is always an option's *whole* value, every instance already concatenated
//! (RFC 3396 §7). Splitting a long value into 255-byte instances, pad and end, and option
//! overload are the message codec's business (`super`); this file only maps a (code, value)
//! pair to a [`DhcpOption`] and back.
//!
//! Invariant: for every value `decode(code, v)` accepts, `decode(code, v)?.value() == v`, so a
//! decoded option re-encodes to the bytes it came from.

use std::borrow::Cow;
use std::net::Ipv4Addr;
use std::ops::Deref;

use super::error::BadOptionReason;
use crate::wire::Reader;

/// Option codes (RFC 2132 and the RFCs named beside each).
pub mod code {
    /// Pad: one byte, no length, skipped (RFC 2132 §3.1).
    pub const PAD: u8 = 0;
    /// Subnet mask (RFC 2132 §3.3).
    pub const SUBNET_MASK: u8 = 1;
    /// Routers (RFC 2132 §3.5).
    pub const ROUTERS: u8 = 3;
    /// Domain name servers (RFC 2132 §3.8).
    pub const DNS_SERVERS: u8 = 6;
    /// Host name (RFC 2132 §3.14).
    pub const HOST_NAME: u8 = 12;
    /// Requested IP address (RFC 2132 §9.1).
    pub const REQUESTED_IP: u8 = 50;
    /// IP address lease time (RFC 2132 §9.2).
    pub const LEASE_TIME: u8 = 51;
    /// Option overload (RFC 2132 §9.3); consumed by the parser, never kept in a message.
    pub const OVERLOAD: u8 = 52;
    /// DHCP message type (RFC 2132 §9.6).
    pub const MESSAGE_TYPE: u8 = 53;
    /// Server identifier (RFC 2132 §9.7).
    pub const SERVER_ID: u8 = 54;
    /// Parameter request list (RFC 2132 §9.8).
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    /// Maximum DHCP message size (RFC 2132 §9.10).
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    /// Renewal (T1) time (RFC 2132 §9.11).
    pub const RENEWAL_TIME: u8 = 58;
    /// Rebinding (T2) time (RFC 2132 §9.12).
    pub const REBINDING_TIME: u8 = 59;
    /// Client identifier (RFC 2132 §9.14).
    pub const CLIENT_ID: u8 = 61;
    /// Relay agent information (RFC 3046).
    pub const RELAY_AGENT_INFO: u8 = 82;
    /// End: one byte, no length, ends an options field (RFC 2132 §3.2).
    pub const END: u8 = 255;

    /// The codes the parser never keeps as [`super::DhcpOption::Other`]: those with a typed
    /// variant, and overload.
    pub const TYPED: [u8; 15] = [
        SUBNET_MASK,
        ROUTERS,
        DNS_SERVERS,
        HOST_NAME,
        REQUESTED_IP,
        LEASE_TIME,
        MESSAGE_TYPE,
        SERVER_ID,
        PARAMETER_REQUEST_LIST,
        MAX_MESSAGE_SIZE,
        RENEWAL_TIME,
        REBINDING_TIME,
        CLIENT_ID,
        RELAY_AGENT_INFO,
        // Listed so that a raw option never carries it: the parser consumes it.
        OVERLOAD,
    ];
}

/// One DHCP option, its value decoded where the type matters to a server or a client.
///
/// Durations are in seconds. Addresses and byte strings are kept exactly as sent: a host name
/// is bytes, not text, because nothing guarantees it is valid UTF-8.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DhcpOption {
    /// 1: the client's subnet mask.
    SubnetMask(Ipv4Addr),
    /// 3: routers on the client's subnet, in order of preference.
    Routers(Vec<Ipv4Addr>),
    /// 6: domain name servers, in order of preference.
    DnsServers(Vec<Ipv4Addr>),
    /// 12: the client's host name.
    HostName(Vec<u8>),
    /// 50: the address a client asks for (in DISCOVER, or REQUEST from INIT-REBOOT/SELECTING).
    RequestedIp(Ipv4Addr),
    /// 51: the lease time, in seconds (0xffff_ffff means infinite).
    LeaseTime(u32),
    /// 53: the DHCP message type.
    MessageType(MessageType),
    /// 54: the server identifier: the address of the server that sent or is being answered.
    ServerId(Ipv4Addr),
    /// 55: the option codes the client asks for, in its order of preference.
    ParameterRequestList(Vec<u8>),
    /// 57: the largest DHCP message the client accepts, in bytes.
    MaxMessageSize(u16),
    /// 58: the renewal (T1) time, in seconds.
    RenewalTime(u32),
    /// 59: the rebinding (T2) time, in seconds.
    RebindingTime(u32),
    /// 61: the client identifier, type byte included (RFC 2132 §9.14).
    ClientId(Vec<u8>),
    /// 82: relay agent information, added by a relay (RFC 3046).
    RelayAgentInfo(RelayAgentInfo),
    /// Any other option, carried and re-emitted unchanged.
    ///
    /// The parser puts here exactly the codes outside [`code::TYPED`], [`code::PAD`] and
    /// [`code::END`]. Built by hand with a typed code it is emitted as given, and parses back
    /// as the typed variant (or fails to, if the length is impossible for that type). Codes 0
    /// and 255 have no length byte, so such an option is not emitted at all.
    Other {
        /// The option code.
        code: u8,
        /// The option's value.
        data: Vec<u8>,
    },
}

/// The DHCP message type, option 53 (RFC 2132 §9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MessageType {
    /// 1: a client looking for servers.
    Discover,
    /// 2: a server offering an address.
    Offer,
    /// 3: a client requesting, renewing or rebinding an address.
    Request,
    /// 4: a client saying the offered address is already in use.
    Decline,
    /// 5: a server confirming a lease.
    Ack,
    /// 6: a server refusing a request.
    Nak,
    /// 7: a client giving its address back.
    Release,
    /// 8: a client asking for configuration only.
    Inform,
    /// Any other value, kept so that it can be counted and re-emitted. Holds only values
    /// outside 1..=8 when it comes from [`MessageType::from`].
    Unknown(u8),
}

impl From<u8> for MessageType {
    fn from(value: u8) -> Self {
        match value {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            other => MessageType::Unknown(other),
        }
    }
}

impl From<MessageType> for u8 {
    fn from(value: MessageType) -> Self {
        match value {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::Unknown(other) => other,
        }
    }
}

/// Option 82, relay agent information (RFC 3046): sub-options in the order the relay sent them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RelayAgentInfo {
    /// The sub-options, in wire order; unknown codes are kept.
    pub sub_options: Vec<SubOption>,
}

/// One relay agent sub-option (RFC 3046 §2.0): a code and up to 255 bytes of data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubOption {
    /// The sub-option code.
    pub code: u8,
    /// The sub-option's data. Emit writes at most 255 bytes of it: the length is one byte.
    pub data: Vec<u8>,
}

impl RelayAgentInfo {
    /// Sub-option 1, the agent circuit ID (RFC 3046 §3.1).
    pub const CIRCUIT_ID: u8 = 1;
    /// Sub-option 2, the agent remote ID (RFC 3046 §3.2).
    pub const REMOTE_ID: u8 = 2;

    /// The data of the first sub-option with this code.
    pub fn sub_option(&self, code: u8) -> Option<&[u8]> {
        self.sub_options
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.data.as_slice())
    }

    /// The agent circuit ID (sub-option 1), e.g. the switch port the client is on.
    pub fn circuit_id(&self) -> Option<&[u8]> {
        self.sub_option(Self::CIRCUIT_ID)
    }

    /// The agent remote ID (sub-option 2), e.g. the modem or subscriber the client is behind.
    pub fn remote_id(&self) -> Option<&[u8]> {
        self.sub_option(Self::REMOTE_ID)
    }

    /// Sub-options are code, length, data, with neither pad nor end (RFC 3046 §2.0).
    fn parse(value: &[u8]) -> Result<RelayAgentInfo, BadOptionReason> {
        let mut r = Reader::new(value);
        let mut sub_options = Vec::new();
        // Each pass consumes at least two bytes, so the loop ends within value.len() / 2 passes.
        while let Some(code) = r.u8() {
            let at = r.offset() - 1;
            let overrun = BadOptionReason::SubOptionOverrun { sub_code: code, at };
            let len = r.u8().ok_or_else(|| overrun.clone())?;
            let data = r.take(usize::from(len)).ok_or(overrun)?;
            sub_options.push(SubOption {
                code,
                data: data.to_vec(),
            });
        }
        Ok(RelayAgentInfo { sub_options })
    }

    /// The length of [`encode`](Self::encode)'s output, without building it.
    fn encoded_len(&self) -> usize {
        self.sub_options
            .iter()
            .map(|sub| 2 + sub.data.len().min(255))
            .sum()
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        for sub in &self.sub_options {
            let data = sub.data.get(..255).unwrap_or(&sub.data);
            out.push(sub.code);
            out.push(data.len() as u8);
            out.extend_from_slice(data);
        }
        out
    }
}

impl DhcpOption {
    /// The option's code.
    pub fn code(&self) -> u8 {
        match self {
            DhcpOption::SubnetMask(_) => code::SUBNET_MASK,
            DhcpOption::Routers(_) => code::ROUTERS,
            DhcpOption::DnsServers(_) => code::DNS_SERVERS,
            DhcpOption::HostName(_) => code::HOST_NAME,
            DhcpOption::RequestedIp(_) => code::REQUESTED_IP,
            DhcpOption::LeaseTime(_) => code::LEASE_TIME,
            DhcpOption::MessageType(_) => code::MESSAGE_TYPE,
            DhcpOption::ServerId(_) => code::SERVER_ID,
            DhcpOption::ParameterRequestList(_) => code::PARAMETER_REQUEST_LIST,
            DhcpOption::MaxMessageSize(_) => code::MAX_MESSAGE_SIZE,
            DhcpOption::RenewalTime(_) => code::RENEWAL_TIME,
            DhcpOption::RebindingTime(_) => code::REBINDING_TIME,
            DhcpOption::ClientId(_) => code::CLIENT_ID,
            DhcpOption::RelayAgentInfo(_) => code::RELAY_AGENT_INFO,
            DhcpOption::Other { code, .. } => *code,
        }
    }

    /// Decodes one option from its code and whole value.
    ///
    /// Lengths follow RFC 2132: an address is 4 bytes, an address list a multiple of 4, a
    /// time 4, the maximum message size 2, the message type 1. The minimum lengths RFC 2132
    /// states for lists and strings (4 for routers, 1 for a host name, 2 for a client
    /// identifier) are not enforced: an empty value is harmless to carry, and refusing it
    /// would drop the whole message of a sloppy client.
    ///
    /// `value` may be borrowed (`&[u8]`) or owned (`Vec<u8>`): a borrowed value is copied only
    /// into a variant that keeps bytes, an owned one is moved there.
    pub fn decode<'a>(
        code: u8,
        value: impl Into<Cow<'a, [u8]>>,
    ) -> Result<DhcpOption, BadOptionReason> {
        let value = value.into();
        let option = match code {
            code::SUBNET_MASK => DhcpOption::SubnetMask(address(&value)?),
            code::ROUTERS => DhcpOption::Routers(addresses(&value)?),
            code::DNS_SERVERS => DhcpOption::DnsServers(addresses(&value)?),
            code::HOST_NAME => DhcpOption::HostName(value.into_owned()),
            code::REQUESTED_IP => DhcpOption::RequestedIp(address(&value)?),
            code::LEASE_TIME => DhcpOption::LeaseTime(seconds(&value)?),
            code::MESSAGE_TYPE => match *value {
                [t] => DhcpOption::MessageType(MessageType::from(t)),
                _ => return Err(bad_length(&value, "1")),
            },
            code::SERVER_ID => DhcpOption::ServerId(address(&value)?),
            code::PARAMETER_REQUEST_LIST => DhcpOption::ParameterRequestList(value.into_owned()),
            code::MAX_MESSAGE_SIZE => {
                let bytes = <[u8; 2]>::try_from(&*value).map_err(|_| bad_length(&value, "2"))?;
                DhcpOption::MaxMessageSize(u16::from_be_bytes(bytes))
            }
            code::RENEWAL_TIME => DhcpOption::RenewalTime(seconds(&value)?),
            code::REBINDING_TIME => DhcpOption::RebindingTime(seconds(&value)?),
            code::CLIENT_ID => DhcpOption::ClientId(value.into_owned()),
            code::RELAY_AGENT_INFO => DhcpOption::RelayAgentInfo(RelayAgentInfo::parse(&value)?),
            code => DhcpOption::Other {
                code,
                data: value.into_owned(),
            },
        };
        Ok(option)
    }

    /// The option's whole value as it goes on the wire, before any RFC 3396 splitting.
    ///
    /// Builds a vector only for an address list of two or more addresses and for relay agent
    /// information; every other value is held inline or borrowed from the option.
    pub fn value(&self) -> OptionValue<'_> {
        let repr = match self {
            DhcpOption::SubnetMask(a) | DhcpOption::RequestedIp(a) | DhcpOption::ServerId(a) => {
                Repr::Four(a.octets())
            }
            DhcpOption::Routers(list) | DhcpOption::DnsServers(list) => match list.as_slice() {
                [] => Repr::Borrowed(&[]),
                [a] => Repr::Four(a.octets()),
                _ => Repr::Owned(list.iter().flat_map(|a| a.octets()).collect()),
            },
            DhcpOption::LeaseTime(s)
            | DhcpOption::RenewalTime(s)
            | DhcpOption::RebindingTime(s) => Repr::Four(s.to_be_bytes()),
            DhcpOption::MessageType(t) => Repr::One([u8::from(*t)]),
            DhcpOption::MaxMessageSize(n) => Repr::Two(n.to_be_bytes()),
            DhcpOption::HostName(bytes)
            | DhcpOption::ParameterRequestList(bytes)
            | DhcpOption::ClientId(bytes)
            | DhcpOption::Other { data: bytes, .. } => Repr::Borrowed(bytes),
            DhcpOption::RelayAgentInfo(info) => Repr::Owned(info.encode()),
        };
        OptionValue(repr)
    }

    /// `value().len()`, without building the value of a list or relay agent information.
    pub fn value_len(&self) -> usize {
        match self {
            DhcpOption::Routers(list) | DhcpOption::DnsServers(list) => 4 * list.len(),
            DhcpOption::RelayAgentInfo(info) => info.encoded_len(),
            // Inline or borrowed: no allocation.
            other => other.value().len(),
        }
    }

    /// Whether emit writes this option: codes 0 and 255 have no length byte, so a raw option
    /// with either cannot be written without corrupting the option stream.
    pub fn is_emitted(&self) -> bool {
        !matches!(self.code(), code::PAD | code::END)
    }
}

/// An option's value as it goes on the wire, from [`DhcpOption::value`]; derefs to the bytes.
#[derive(Debug, Clone)]
pub struct OptionValue<'a>(Repr<'a>);

/// Fixed-size values inline, byte strings borrowed, and the rest built.
#[derive(Debug, Clone)]
enum Repr<'a> {
    One([u8; 1]),
    Two([u8; 2]),
    Four([u8; 4]),
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Deref for OptionValue<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.0 {
            Repr::One(bytes) => bytes,
            Repr::Two(bytes) => bytes,
            Repr::Four(bytes) => bytes,
            Repr::Borrowed(bytes) => bytes,
            Repr::Owned(bytes) => bytes,
        }
    }
}

impl AsRef<[u8]> for OptionValue<'_> {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

fn bad_length(value: &[u8], expected: &'static str) -> BadOptionReason {
    BadOptionReason::BadLength {
        len: value.len(),
        expected,
    }
}

fn address(value: &[u8]) -> Result<Ipv4Addr, BadOptionReason> {
    let bytes: [u8; 4] = value.try_into().map_err(|_| bad_length(value, "4"))?;
    Ok(Ipv4Addr::from(bytes))
}

fn addresses(value: &[u8]) -> Result<Vec<Ipv4Addr>, BadOptionReason> {
    if !value.len().is_multiple_of(4) {
        return Err(bad_length(value, "a multiple of 4"));
    }
    let mut r = Reader::new(value);
    let mut list = Vec::with_capacity(value.len() / 4);
    // Bounded by value.len() / 4 passes: each consumes four bytes.
    list.extend(std::iter::from_fn(|| r.ipv4()));
    Ok(list)
}

fn seconds(value: &[u8]) -> Result<u32, BadOptionReason> {
    let bytes: [u8; 4] = value.try_into().map_err(|_| bad_length(value, "4"))?;
    Ok(u32::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(code: u8, value: &[u8]) -> Result<DhcpOption, BadOptionReason> {
        DhcpOption::decode(code, value.to_vec())
    }

    #[test]
    fn message_type_keeps_unknown_values() {
        for t in 0..=255u8 {
            assert_eq!(u8::from(MessageType::from(t)), t);
        }
        assert_eq!(MessageType::from(8), MessageType::Inform);
        assert_eq!(MessageType::from(9), MessageType::Unknown(9));
        assert_eq!(
            decode(code::MESSAGE_TYPE, &[18]),
            Ok(DhcpOption::MessageType(MessageType::Unknown(18)))
        );
    }

    #[test]
    fn impossible_lengths_are_errors() {
        let cases: [(u8, &[u8], &str); 7] = [
            (code::LEASE_TIME, &[0, 0, 1], "4"),
            (code::SUBNET_MASK, &[255, 255, 255, 0, 0], "4"),
            (code::ROUTERS, &[192, 0, 2, 1, 192, 0], "a multiple of 4"),
            (code::DNS_SERVERS, &[1, 2, 3], "a multiple of 4"),
            (code::MESSAGE_TYPE, &[1, 1], "1"),
            (code::MESSAGE_TYPE, &[], "1"),
            (code::MAX_MESSAGE_SIZE, &[5], "2"),
        ];
        for (c, value, expected) in cases {
            assert_eq!(
                decode(c, value),
                Err(BadOptionReason::BadLength {
                    len: value.len(),
                    expected
                }),
                "option {c}"
            );
        }
    }

    #[test]
    fn empty_lists_and_strings_are_carried() {
        assert_eq!(decode(code::ROUTERS, &[]), Ok(DhcpOption::Routers(vec![])));
        assert_eq!(
            decode(code::HOST_NAME, &[]),
            Ok(DhcpOption::HostName(vec![]))
        );
        assert_eq!(
            decode(code::RELAY_AGENT_INFO, &[]),
            Ok(DhcpOption::RelayAgentInfo(RelayAgentInfo::default()))
        );
    }

    #[test]
    fn relay_agent_info_keeps_every_sub_option_in_order() {
        let value = [1, 3, b'e', b't', b'h', 9, 0, 2, 2, 0xab, 0xcd];
        let option = decode(code::RELAY_AGENT_INFO, &value).unwrap();
        let DhcpOption::RelayAgentInfo(info) = &option else {
            panic!("{option:?}")
        };
        assert_eq!(
            info.sub_options,
            vec![
                SubOption {
                    code: 1,
                    data: b"eth".to_vec()
                },
                SubOption {
                    code: 9,
                    data: vec![]
                },
                SubOption {
                    code: 2,
                    data: vec![0xab, 0xcd]
                },
            ]
        );
        assert_eq!(info.circuit_id(), Some(&b"eth"[..]));
        assert_eq!(info.remote_id(), Some(&[0xab, 0xcd][..]));
        assert_eq!(info.sub_option(5), None);
        assert_eq!(option.value().as_ref(), &value[..]);
    }

    #[test]
    fn relay_agent_sub_option_running_past_the_value_is_an_error() {
        assert_eq!(
            decode(code::RELAY_AGENT_INFO, &[1, 1, b'a', 2, 5, 0]),
            Err(BadOptionReason::SubOptionOverrun { sub_code: 2, at: 3 })
        );
        assert_eq!(
            decode(code::RELAY_AGENT_INFO, &[1]),
            Err(BadOptionReason::SubOptionOverrun { sub_code: 1, at: 0 })
        );
    }

    #[test]
    fn oversized_sub_option_is_cut_to_255_bytes() {
        let info = RelayAgentInfo {
            sub_options: vec![SubOption {
                code: 2,
                data: vec![7; 300],
            }],
        };
        let value = DhcpOption::RelayAgentInfo(info).value().to_vec();
        assert_eq!(value.len(), 257);
        assert_eq!(value.get(..2), Some(&[2, 255][..]));
    }

    #[test]
    fn untyped_codes_are_kept_raw() {
        assert_eq!(
            decode(145, &[1]),
            Ok(DhcpOption::Other {
                code: 145,
                data: vec![1]
            })
        );
        let other = DhcpOption::Other {
            code: 0,
            data: vec![1],
        };
        assert!(!other.is_emitted());
    }

    #[test]
    fn borrowed_and_owned_values_decode_alike() {
        for (c, value) in [
            (code::HOST_NAME, &b"vm"[..]),
            (code::LEASE_TIME, &[0, 0, 1, 0]),
        ] {
            assert_eq!(
                DhcpOption::decode(c, value),
                DhcpOption::decode(c, value.to_vec())
            );
        }
    }

    #[test]
    fn typed_values_encode_in_network_order() {
        assert_eq!(DhcpOption::LeaseTime(30).value().as_ref(), &[0, 0, 0, 30]);
        assert_eq!(
            DhcpOption::MaxMessageSize(576).value().as_ref(),
            &[0x02, 0x40]
        );
        assert_eq!(
            DhcpOption::Routers(vec![
                Ipv4Addr::new(192, 0, 2, 1),
                Ipv4Addr::new(10, 0, 0, 1)
            ])
            .value()
            .as_ref(),
            &[192, 0, 2, 1, 10, 0, 0, 1]
        );
    }
}
