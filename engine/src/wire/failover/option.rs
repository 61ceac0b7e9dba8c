//! Failover options: the TLV codes of draft-12 §12 (1–29) and MS-DHCPF §2.2 (30–41).
//!
//! Each option is `code u16, length u16, data[length]` (draft-12 §6.1), all integers big-endian
//! unless a section says otherwise. [`FoOption`] holds one decoded option. Values keep their wire
//! form wherever the wire can say more than the typed meaning (raw binding-status bytes, raw text
//! bytes, unknown enum values), so that every decoded message re-emits byte for byte.
//!
//! Where the two dialects differ, parsing takes the [`Dialect`]; emitting never needs it because
//! a decoded value remembers its form (see [`IpFlags`]).
//!
//! Strictness: a fixed-size option (a u8, u32, address or time) with another length fails the
//! whole message, wherever it appears. ISC checks lengths only for the options it stores for
//! that message type and skips the rest (draft-12.md §3.1), so we refuse a few messages ISC
//! would accept (ISC 3.0.x's two-byte TLS-request, say). The failover engine closes the
//! connection on such a message, as ISC does for the options it checks.

use std::net::Ipv4Addr;

use super::Dialect;
use super::error::DecodeError;
use crate::wire::Reader;

/// Failover option codes (draft-12 §12; MS-DHCPF §2.2 for 30–41).
#[allow(missing_docs)]
pub mod code {
    pub const ADDRESSES_TRANSFERRED: u16 = 1;
    pub const ASSIGNED_IP_ADDRESS: u16 = 2;
    pub const BINDING_STATUS: u16 = 3;
    pub const CLIENT_IDENTIFIER: u16 = 4;
    pub const CLIENT_HARDWARE_ADDRESS: u16 = 5;
    pub const CLIENT_LAST_TRANSACTION_TIME: u16 = 6;
    pub const CLIENT_REPLY_OPTIONS: u16 = 7;
    pub const CLIENT_REQUEST_OPTIONS: u16 = 8;
    pub const DDNS: u16 = 9;
    pub const DELAYED_SERVICE_PARAMETER: u16 = 10;
    pub const HASH_BUCKET_ASSIGNMENT: u16 = 11;
    pub const IP_FLAGS: u16 = 12;
    pub const LEASE_EXPIRATION_TIME: u16 = 13;
    pub const MAX_UNACKED_BNDUPD: u16 = 14;
    pub const MCLT: u16 = 15;
    pub const MESSAGE: u16 = 16;
    pub const MESSAGE_DIGEST: u16 = 17;
    pub const POTENTIAL_EXPIRATION_TIME: u16 = 18;
    pub const RECEIVE_TIMER: u16 = 19;
    pub const PROTOCOL_VERSION: u16 = 20;
    pub const REJECT_REASON: u16 = 21;
    pub const RELATIONSHIP_NAME: u16 = 22;
    pub const SERVER_FLAGS: u16 = 23;
    pub const SERVER_STATE: u16 = 24;
    pub const START_TIME_OF_STATE: u16 = 25;
    pub const TLS_REPLY: u16 = 26;
    pub const TLS_REQUEST: u16 = 27;
    pub const VENDOR_CLASS_IDENTIFIER: u16 = 28;
    pub const VENDOR_SPECIFIC_OPTIONS: u16 = 29;
    pub const SCOPE_ID_LIST: u16 = 30;
    pub const CLIENT_NAME: u16 = 31;
    pub const CLIENT_DESCRIPTION: u16 = 32;
    pub const CLIENT_SUBNET_MASK: u16 = 33;
    pub const SERVER_IP: u16 = 34;
    pub const SERVER_NAME: u16 = 35;
    pub const CLIENT_TYPE: u16 = 36;
    pub const CLIENT_NAP_STATUS: u16 = 37;
    pub const CLIENT_NAP_PROBATION: u16 = 38;
    pub const CLIENT_NAP_CAPABLE: u16 = 39;
    pub const CLIENT_MATCHED_POLICY: u16 = 40;
    pub const EXTENDED_ADDRESS_STATE: u16 = 41;

    /// The Microsoft options (MS-DHCPF §2.2). In the ISC dialect these codes are unknown
    /// (ISC skips them; Infoblox uses 30 for a UTF-8 client host name).
    pub const MICROSOFT: std::ops::RangeInclusive<u16> = SCOPE_ID_LIST..=EXTENDED_ADDRESS_STATE;
}

/// The short name of an option code, as Wireshark and the draft spell it.
pub fn code_name(code: u16) -> &'static str {
    const NAMES: [&str; 42] = [
        "reserved",
        "addresses-transferred",
        "assigned-IP-address",
        "binding-status",
        "client-identifier",
        "client-hardware-address",
        "client-last-transaction-time",
        "client-reply-options",
        "client-request-options",
        "DDNS",
        "delayed-service-parameter",
        "hash-bucket-assignment",
        "IP-flags",
        "lease-expiration-time",
        "max-unacked-BNDUPD",
        "MCLT",
        "message",
        "message-digest",
        "potential-expiration-time",
        "receive-timer",
        "protocol-version",
        "reject-reason",
        "relationship-name",
        "server-flags",
        "server-state",
        "start-time-of-state",
        "TLS-reply",
        "TLS-request",
        "vendor-class-identifier",
        "vendor-specific-options",
        "scope-ID-list",
        "client-name",
        "client-description",
        "client-subnet-mask",
        "server-IP",
        "server-name",
        "client-type",
        "client-NAP-status",
        "client-NAP-probation",
        "client-NAP-capable",
        "client-matched-policy",
        "extended-address-state",
    ];
    NAMES.get(usize::from(code)).copied().unwrap_or("unknown")
}

/// Binding states of draft-12 §12.3 (the values ISC sends in binding-status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BindingState {
    /// Available to the primary.
    Free,
    /// Leased to a client.
    Active,
    /// The lease expired.
    Expired,
    /// The client released it.
    Released,
    /// Unusable: declined, or a ping answered.
    Abandoned,
    /// Freed by an operator.
    Reset,
    /// Available to the secondary.
    Backup,
}

impl BindingState {
    /// Every state, in wire order.
    pub const ALL: [BindingState; 7] = [
        BindingState::Free,
        BindingState::Active,
        BindingState::Expired,
        BindingState::Released,
        BindingState::Abandoned,
        BindingState::Reset,
        BindingState::Backup,
    ];

    /// The draft-12 §12.3 wire value (1–7).
    pub fn to_d12(self) -> u8 {
        self as u8 + 1
    }

    /// The state a draft-12 §12.3 wire value names, if any.
    pub fn from_d12(value: u8) -> Option<BindingState> {
        Self::ALL.get(usize::from(value).checked_sub(1)?).copied()
    }

    /// The upper-case name the draft uses.
    pub fn name(self) -> &'static str {
        match self {
            BindingState::Free => "FREE",
            BindingState::Active => "ACTIVE",
            BindingState::Expired => "EXPIRED",
            BindingState::Released => "RELEASED",
            BindingState::Abandoned => "ABANDONED",
            BindingState::Reset => "RESET",
            BindingState::Backup => "BACKUP",
        }
    }
}

/// The raw binding-status byte (option 3). Its meaning depends on the dialect: draft-12 §12.3
/// values 1–7 for ISC, the bit encoding of MS-DHCPF §3.1.4.2 for Microsoft; see
/// [`super::dialect`] for both readings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BindingStatus(pub u8);

/// Failover endpoint states (draft-12 §12.24), with ISC's 254 for RECOVER-WAIT, which the draft
/// defines but never numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServerState {
    /// 1: never sent by ISC (it uses the STARTUP server flag instead).
    Startup,
    /// 2.
    Normal,
    /// 3.
    CommunicationsInterrupted,
    /// 4.
    PartnerDown,
    /// 5.
    PotentialConflict,
    /// 6.
    Recover,
    /// 7.
    Paused,
    /// 8.
    Shutdown,
    /// 9.
    RecoverDone,
    /// 10.
    ResolutionInterrupted,
    /// 11.
    ConflictDone,
    /// 254 (ISC; draft-12.md §3.3).
    RecoverWait,
    /// Any other value, kept as data.
    Unknown(u8),
}

impl ServerState {
    /// The wire value.
    pub fn to_wire(self) -> u8 {
        match self {
            ServerState::Startup => 1,
            ServerState::Normal => 2,
            ServerState::CommunicationsInterrupted => 3,
            ServerState::PartnerDown => 4,
            ServerState::PotentialConflict => 5,
            ServerState::Recover => 6,
            ServerState::Paused => 7,
            ServerState::Shutdown => 8,
            ServerState::RecoverDone => 9,
            ServerState::ResolutionInterrupted => 10,
            ServerState::ConflictDone => 11,
            ServerState::RecoverWait => 254,
            ServerState::Unknown(v) => v,
        }
    }

    /// The state a wire value names (unknown values are kept).
    pub fn from_wire(value: u8) -> ServerState {
        match value {
            1 => ServerState::Startup,
            2 => ServerState::Normal,
            3 => ServerState::CommunicationsInterrupted,
            4 => ServerState::PartnerDown,
            5 => ServerState::PotentialConflict,
            6 => ServerState::Recover,
            7 => ServerState::Paused,
            8 => ServerState::Shutdown,
            9 => ServerState::RecoverDone,
            10 => ServerState::ResolutionInterrupted,
            11 => ServerState::ConflictDone,
            254 => ServerState::RecoverWait,
            v => ServerState::Unknown(v),
        }
    }

    /// The lower-case name tshark and ISC's logs use.
    pub fn name(self) -> &'static str {
        match self {
            ServerState::Startup => "startup",
            ServerState::Normal => "normal",
            ServerState::CommunicationsInterrupted => "comm-interrupted",
            ServerState::PartnerDown => "partner-down",
            ServerState::PotentialConflict => "potential-conflict",
            ServerState::Recover => "recover",
            ServerState::Paused => "paused",
            ServerState::Shutdown => "shutdown",
            ServerState::RecoverDone => "recover-done",
            ServerState::ResolutionInterrupted => "resolution-interrupted",
            ServerState::ConflictDone => "conflict-done",
            ServerState::RecoverWait => "recover-wait",
            ServerState::Unknown(_) => "unknown",
        }
    }
}

/// Reject reasons (draft-12 §12.21): the wire byte, with named constants; any value is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RejectReason(pub u8);

#[allow(missing_docs)]
impl RejectReason {
    pub const ILLEGAL_IP_ADDRESS: RejectReason = RejectReason(1);
    pub const FATAL_CONFLICT: RejectReason = RejectReason(2);
    pub const MISSING_BINDING_INFORMATION: RejectReason = RejectReason(3);
    pub const TIME_MISMATCH: RejectReason = RejectReason(4);
    pub const INVALID_MCLT: RejectReason = RejectReason(5);
    pub const UNKNOWN: RejectReason = RejectReason(6);
    pub const DUPLICATE_CONNECTION: RejectReason = RejectReason(7);
    pub const INVALID_PARTNER: RejectReason = RejectReason(8);
    pub const TLS_NOT_SUPPORTED: RejectReason = RejectReason(9);
    pub const TLS_NOT_CONFIGURED: RejectReason = RejectReason(10);
    pub const TLS_REQUIRED: RejectReason = RejectReason(11);
    pub const DIGEST_NOT_SUPPORTED: RejectReason = RejectReason(12);
    pub const DIGEST_NOT_CONFIGURED: RejectReason = RejectReason(13);
    pub const VERSION_MISMATCH: RejectReason = RejectReason(14);
    pub const OUTDATED_BINDING: RejectReason = RejectReason(15);
    pub const LESS_CRITICAL_BINDING: RejectReason = RejectReason(16);
    pub const NO_TRAFFIC: RejectReason = RejectReason(17);
    /// draft-12 §7.8.2 step 8 says 19 here; the §12.21 table, ISC and Wireshark say 18.
    pub const HBA_CONFLICT: RejectReason = RejectReason(18);
    pub const IP_NOT_RESERVED: RejectReason = RejectReason(19);
    pub const DIGEST_MISMATCH: RejectReason = RejectReason(20);
    pub const MISSING_DIGEST: RejectReason = RejectReason(21);
    pub const UNKNOWN_ERROR: RejectReason = RejectReason(254);

    /// The reason's name in draft-12 §12.21, for logs and reports (`"unknown"` for a value the
    /// draft does not define).
    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "illegal IP address",
            2 => "fatal conflict",
            3 => "missing binding information",
            4 => "time mismatch",
            5 => "invalid MCLT",
            6 => "unknown",
            7 => "duplicate connection",
            8 => "invalid failover partner",
            9 => "TLS not supported",
            10 => "TLS supported but not configured",
            11 => "TLS required",
            12 => "message digest not supported",
            13 => "message digest not configured",
            14 => "protocol version mismatch",
            15 => "outdated binding information",
            16 => "less critical binding information",
            17 => "no traffic within sufficient time",
            18 => "hash bucket assignment conflict",
            19 => "IP not reserved on this server",
            20 => "message digest failed to compare",
            21 => "missing message digest",
            _ => "unknown error",
        }
    }
}

/// IP-flags (option 12). Its width and bits depend on the dialect, so the value keeps its form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IpFlags {
    /// Two bytes (ISC; draft-12 §12.12's figure): R = 0x0001 reserved, B = 0x0002 BOOTP.
    Isc(u16),
    /// One byte (MS-DHCPF §3.1.4.2): 0x1 DELETED, 0x2 RELEASED, 0x4 DELETED_COMM_DOWN.
    Microsoft(u8),
}

impl IpFlags {
    /// draft-12 §12.12: the address is reserved.
    pub const ISC_RESERVED: u16 = 0x0001;
    /// draft-12 §12.12: the address was given by dynamic BOOTP.
    pub const ISC_BOOTP: u16 = 0x0002;
    /// MS-DHCPF §3.1.4.2 FAILOVER_ADDRESS_DELETED.
    pub const MS_DELETED: u8 = 0x1;
    /// MS-DHCPF §3.1.4.2 FAILOVER_ADDRESS_RELEASED.
    pub const MS_RELEASED: u8 = 0x2;
    /// MS-DHCPF §3.1.4.2 FAILOVER_DELETED_COMM_DOWN.
    pub const MS_DELETED_COMM_DOWN: u8 = 0x4;

    /// The flag bits, whatever the width.
    pub fn bits(self) -> u16 {
        match self {
            IpFlags::Isc(v) => v,
            IpFlags::Microsoft(v) => u16::from(v),
        }
    }
}

/// A client-hardware-address (option 5): the htype byte, then the hardware address.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HardwareAddress {
    /// ARP hardware type (1 = Ethernet).
    pub htype: u8,
    /// The address bytes (six for Ethernet).
    pub addr: Vec<u8>,
}

/// A UTF-16LE string with its terminating NUL, as MS-DHCPF options 31, 32, 35 and 40 carry it.
/// The bytes are kept as received, so an odd length or a missing NUL still re-emits unchanged.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WideString(pub Vec<u8>);

impl WideString {
    /// Encode `s` as UTF-16LE followed by a NUL, as MS-DHCPF §2.2.2 describes.
    pub fn new(s: &str) -> WideString {
        let bytes = s
            .encode_utf16()
            .chain([0])
            .flat_map(u16::to_le_bytes)
            .collect();
        WideString(bytes)
    }

    /// The text up to the first NUL; unpaired surrogates and a dangling odd byte are replaced.
    pub fn to_string_lossy(&self) -> String {
        let units: Vec<u16> = self
            .0
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .take_while(|&u| u != 0)
            .collect();
        let mut s = String::from_utf16_lossy(&units);
        if self.0.len() % 2 == 1 && !self.0.chunks_exact(2).any(|p| p == [0, 0]) {
            s.push(char::REPLACEMENT_CHARACTER);
        }
        s
    }
}

/// MS-DHCPF §2.2.8 client NAP status: the section defines length 4 with a one-byte value, and its
/// own §4.1 example sends length 1. Both are accepted and kept in their form; we send one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NapStatus {
    /// Length 1 (the §4.1 example). 0 NOQUARANTINE, 1 RESTRICTEDACCESS, 2 DROPPACKET, 3 PROBATION.
    Byte(u8),
    /// Length 4 (the §2.2.8 text), read big-endian.
    Word(u32),
}

/// One failover option, decoded.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FoOption {
    /// 1: addresses moved by a POOLREQ (draft-12 §12.1).
    AddressesTransferred(u32),
    /// 2: the address a binding transaction is about; starts each transaction (draft-12 §6.3).
    AssignedIpAddress(Ipv4Addr),
    /// 3: binding status, raw (dialect-dependent meaning).
    BindingStatus(BindingStatus),
    /// 4: the DHCP client-identifier (option 61 payload).
    ClientIdentifier(Vec<u8>),
    /// 5: htype + chaddr.
    ClientHardwareAddress(HardwareAddress),
    /// 6: client-last-transaction-time (CLTT), u32 seconds since the epoch.
    ClientLastTransactionTime(u32),
    /// 7: magic cookie + DHCP options the server sent; kept as bytes.
    ClientReplyOptions(Vec<u8>),
    /// 8: magic cookie + DHCP options the client sent; kept as bytes.
    ClientRequestOptions(Vec<u8>),
    /// 9: DDNS flags + FQDN; kept as bytes (never sent to ISC: draft-12.md §14 item 2).
    Ddns(Vec<u8>),
    /// 10: RFC 3074 delayed-service parameter.
    DelayedServiceParameter(u8),
    /// 11: hash-bucket-assignment, raw: a CONNECT whose HBA is not 32 bytes must still decode so
    /// that the secondary can answer reject reason 18 (draft-12.md §2.1).
    HashBucketAssignment(Vec<u8>),
    /// 12: IP-flags.
    IpFlags(IpFlags),
    /// 13: lease-expiration-time, u32 seconds.
    LeaseExpirationTime(u32),
    /// 14: max-unacked-bndupd.
    MaxUnackedBndupd(u32),
    /// 15: MCLT, seconds.
    Mclt(u32),
    /// 16: human-readable text, bytes as sent.
    Message(Vec<u8>),
    /// 17: message digest: a type byte, then the digest (see [`super::digest`]).
    MessageDigest {
        /// 1 = HMAC-MD5 (draft-12 §12.17); 2 = HMAC-SHA256, our choice for MS-DHCPF §5.1.
        kind: u8,
        /// The digest bytes.
        digest: Vec<u8>,
    },
    /// 18: potential-expiration-time (PET), u32 seconds.
    PotentialExpirationTime(u32),
    /// 19: receive-timer, seconds.
    ReceiveTimer(u32),
    /// 20: protocol-version (1).
    ProtocolVersion(u8),
    /// 21: reject-reason.
    RejectReason(RejectReason),
    /// 22: relationship-name, bytes as sent.
    RelationshipName(Vec<u8>),
    /// 23: server-flags (0x01 = STARTUP).
    ServerFlags(u8),
    /// 24: server-state.
    ServerState(ServerState),
    /// 25: start-time-of-state, u32 seconds.
    StartTimeOfState(u32),
    /// 26: TLS-reply.
    TlsReply(u8),
    /// 27: TLS-request.
    TlsRequest(u8),
    /// 28: vendor-class-identifier, bytes as sent.
    VendorClassIdentifier(Vec<u8>),
    /// 29: vendor-specific options, kept as bytes.
    VendorSpecificOptions(Vec<u8>),
    /// 30 (Microsoft): scope IDs, each in host byte order (MS-DHCPF §2.2.1: little-endian).
    ScopeIdList(Vec<Ipv4Addr>),
    /// 31 (Microsoft): client name.
    ClientName(WideString),
    /// 32 (Microsoft): client description.
    ClientDescription(WideString),
    /// 33 (Microsoft): client subnet mask.
    ClientSubnetMask(Ipv4Addr),
    /// 34 (Microsoft): the server that leased the address.
    ServerIp(Ipv4Addr),
    /// 35 (Microsoft): that server's name.
    ServerName(WideString),
    /// 36 (Microsoft): client type (§2.2.7).
    ClientType(u8),
    /// 37 (Microsoft): NAP status.
    ClientNapStatus(NapStatus),
    /// 38 (Microsoft): NAP probation end; described as a FILETIME that 4 bytes cannot hold, so
    /// carried as an opaque u32 (draft-12.md §15).
    ClientNapProbation(u32),
    /// 39 (Microsoft): NAP capable (boolean byte).
    ClientNapCapable(u8),
    /// 40 (Microsoft): the policy that chose the address.
    ClientMatchedPolicy(WideString),
    /// 41 (Microsoft): extended address state (bit 0 DISABLE_PTR_RR).
    ExtendedAddressState(u32),
    /// Any other code, or a Microsoft code in the ISC dialect: kept and re-emitted unchanged.
    Unknown {
        /// The option code.
        code: u16,
        /// The option data.
        data: Vec<u8>,
    },
}

impl FoOption {
    /// The option code.
    pub fn code(&self) -> u16 {
        use FoOption::*;
        match self {
            AddressesTransferred(_) => code::ADDRESSES_TRANSFERRED,
            AssignedIpAddress(_) => code::ASSIGNED_IP_ADDRESS,
            BindingStatus(_) => code::BINDING_STATUS,
            ClientIdentifier(_) => code::CLIENT_IDENTIFIER,
            ClientHardwareAddress(_) => code::CLIENT_HARDWARE_ADDRESS,
            ClientLastTransactionTime(_) => code::CLIENT_LAST_TRANSACTION_TIME,
            ClientReplyOptions(_) => code::CLIENT_REPLY_OPTIONS,
            ClientRequestOptions(_) => code::CLIENT_REQUEST_OPTIONS,
            Ddns(_) => code::DDNS,
            DelayedServiceParameter(_) => code::DELAYED_SERVICE_PARAMETER,
            HashBucketAssignment(_) => code::HASH_BUCKET_ASSIGNMENT,
            IpFlags(_) => code::IP_FLAGS,
            LeaseExpirationTime(_) => code::LEASE_EXPIRATION_TIME,
            MaxUnackedBndupd(_) => code::MAX_UNACKED_BNDUPD,
            Mclt(_) => code::MCLT,
            Message(_) => code::MESSAGE,
            MessageDigest { .. } => code::MESSAGE_DIGEST,
            PotentialExpirationTime(_) => code::POTENTIAL_EXPIRATION_TIME,
            ReceiveTimer(_) => code::RECEIVE_TIMER,
            ProtocolVersion(_) => code::PROTOCOL_VERSION,
            RejectReason(_) => code::REJECT_REASON,
            RelationshipName(_) => code::RELATIONSHIP_NAME,
            ServerFlags(_) => code::SERVER_FLAGS,
            ServerState(_) => code::SERVER_STATE,
            StartTimeOfState(_) => code::START_TIME_OF_STATE,
            TlsReply(_) => code::TLS_REPLY,
            TlsRequest(_) => code::TLS_REQUEST,
            VendorClassIdentifier(_) => code::VENDOR_CLASS_IDENTIFIER,
            VendorSpecificOptions(_) => code::VENDOR_SPECIFIC_OPTIONS,
            ScopeIdList(_) => code::SCOPE_ID_LIST,
            ClientName(_) => code::CLIENT_NAME,
            ClientDescription(_) => code::CLIENT_DESCRIPTION,
            ClientSubnetMask(_) => code::CLIENT_SUBNET_MASK,
            ServerIp(_) => code::SERVER_IP,
            ServerName(_) => code::SERVER_NAME,
            ClientType(_) => code::CLIENT_TYPE,
            ClientNapStatus(_) => code::CLIENT_NAP_STATUS,
            ClientNapProbation(_) => code::CLIENT_NAP_PROBATION,
            ClientNapCapable(_) => code::CLIENT_NAP_CAPABLE,
            ClientMatchedPolicy(_) => code::CLIENT_MATCHED_POLICY,
            ExtendedAddressState(_) => code::EXTENDED_ADDRESS_STATE,
            Unknown { code, .. } => *code,
        }
    }

    /// Decode the data of one option. `offset` (of the option's code field in the message) only
    /// labels errors.
    pub fn parse(
        code: u16,
        data: &[u8],
        dialect: Dialect,
        offset: usize,
    ) -> Result<FoOption, DecodeError> {
        use FoOption as O;
        let bad = |expected: &'static str| DecodeError::BadOptionLength {
            code,
            offset,
            len: data.len(),
            expected,
        };
        let u8_ = || match data {
            [b] => Ok(*b),
            _ => Err(bad("1")),
        };
        let u32_ = || {
            <[u8; 4]>::try_from(data)
                .map(u32::from_be_bytes)
                .map_err(|_| bad("4"))
        };
        let ip = || {
            <[u8; 4]>::try_from(data)
                .map(Ipv4Addr::from)
                .map_err(|_| bad("4"))
        };
        let bytes = || data.to_vec();
        let wide = || WideString(data.to_vec());

        if dialect == Dialect::Isc && code::MICROSOFT.contains(&code) {
            return Ok(O::Unknown {
                code,
                data: bytes(),
            });
        }
        Ok(match code {
            code::ADDRESSES_TRANSFERRED => O::AddressesTransferred(u32_()?),
            code::ASSIGNED_IP_ADDRESS => O::AssignedIpAddress(ip()?),
            code::BINDING_STATUS => O::BindingStatus(BindingStatus(u8_()?)),
            code::CLIENT_IDENTIFIER => O::ClientIdentifier(bytes()),
            code::CLIENT_HARDWARE_ADDRESS => match data.split_first() {
                Some((&htype, addr)) => O::ClientHardwareAddress(HardwareAddress {
                    htype,
                    addr: addr.to_vec(),
                }),
                None => return Err(bad("at least 1 (htype)")),
            },
            code::CLIENT_LAST_TRANSACTION_TIME => O::ClientLastTransactionTime(u32_()?),
            code::CLIENT_REPLY_OPTIONS => O::ClientReplyOptions(bytes()),
            code::CLIENT_REQUEST_OPTIONS => O::ClientRequestOptions(bytes()),
            code::DDNS => O::Ddns(bytes()),
            code::DELAYED_SERVICE_PARAMETER => O::DelayedServiceParameter(u8_()?),
            code::HASH_BUCKET_ASSIGNMENT => O::HashBucketAssignment(bytes()),
            code::IP_FLAGS => match (dialect, data) {
                // ISC reads option 12 as a UINT16 and drops the link on any other length.
                (Dialect::Isc, [a, b]) => O::IpFlags(IpFlags::Isc(u16::from_be_bytes([*a, *b]))),
                (Dialect::Isc, _) => return Err(bad("2 (ISC dialect)")),
                // MS-DHCPF §3.1.4.2: a one-byte flag set.
                (Dialect::Microsoft, [b]) => O::IpFlags(IpFlags::Microsoft(*b)),
                (Dialect::Microsoft, _) => return Err(bad("1 (Microsoft dialect)")),
            },
            code::LEASE_EXPIRATION_TIME => O::LeaseExpirationTime(u32_()?),
            code::MAX_UNACKED_BNDUPD => O::MaxUnackedBndupd(u32_()?),
            code::MCLT => O::Mclt(u32_()?),
            code::MESSAGE => O::Message(bytes()),
            code::MESSAGE_DIGEST => match data.split_first() {
                Some((&kind, digest)) => O::MessageDigest {
                    kind,
                    digest: digest.to_vec(),
                },
                None => return Err(bad("at least 1 (digest type)")),
            },
            code::POTENTIAL_EXPIRATION_TIME => O::PotentialExpirationTime(u32_()?),
            code::RECEIVE_TIMER => O::ReceiveTimer(u32_()?),
            code::PROTOCOL_VERSION => O::ProtocolVersion(u8_()?),
            code::REJECT_REASON => O::RejectReason(RejectReason(u8_()?)),
            code::RELATIONSHIP_NAME => O::RelationshipName(bytes()),
            code::SERVER_FLAGS => O::ServerFlags(u8_()?),
            code::SERVER_STATE => O::ServerState(ServerState::from_wire(u8_()?)),
            code::START_TIME_OF_STATE => O::StartTimeOfState(u32_()?),
            code::TLS_REPLY => O::TlsReply(u8_()?),
            code::TLS_REQUEST => O::TlsRequest(u8_()?),
            code::VENDOR_CLASS_IDENTIFIER => O::VendorClassIdentifier(bytes()),
            code::VENDOR_SPECIFIC_OPTIONS => O::VendorSpecificOptions(bytes()),
            code::SCOPE_ID_LIST => {
                if !data.len().is_multiple_of(4) {
                    return Err(bad("a multiple of 4"));
                }
                // MS-DHCPF §2.2.1: scope IDs in host byte order, little-endian on Windows.
                let scopes = data
                    .chunks_exact(4)
                    .map(|c| Ipv4Addr::from([c[3], c[2], c[1], c[0]]))
                    .collect();
                O::ScopeIdList(scopes)
            }
            code::CLIENT_NAME => O::ClientName(wide()),
            code::CLIENT_DESCRIPTION => O::ClientDescription(wide()),
            code::CLIENT_SUBNET_MASK => O::ClientSubnetMask(ip()?),
            code::SERVER_IP => O::ServerIp(ip()?),
            code::SERVER_NAME => O::ServerName(wide()),
            code::CLIENT_TYPE => O::ClientType(u8_()?),
            code::CLIENT_NAP_STATUS => match data {
                [b] => O::ClientNapStatus(NapStatus::Byte(*b)),
                [a, b, c, d] => {
                    O::ClientNapStatus(NapStatus::Word(u32::from_be_bytes([*a, *b, *c, *d])))
                }
                _ => return Err(bad("1 or 4")),
            },
            code::CLIENT_NAP_PROBATION => O::ClientNapProbation(u32_()?),
            code::CLIENT_NAP_CAPABLE => O::ClientNapCapable(u8_()?),
            code::CLIENT_MATCHED_POLICY => O::ClientMatchedPolicy(wide()),
            code::EXTENDED_ADDRESS_STATE => O::ExtendedAddressState(u32_()?),
            _ => O::Unknown {
                code,
                data: bytes(),
            },
        })
    }

    /// The length of the option's data (without the 4-byte code and length fields).
    pub fn data_len(&self) -> usize {
        use FoOption::*;
        match self {
            BindingStatus(_)
            | DelayedServiceParameter(_)
            | ProtocolVersion(_)
            | RejectReason(_)
            | ServerFlags(_)
            | ServerState(_)
            | TlsReply(_)
            | TlsRequest(_)
            | ClientType(_)
            | ClientNapCapable(_) => 1,
            IpFlags(f) => match f {
                super::IpFlags::Isc(_) => 2,
                super::IpFlags::Microsoft(_) => 1,
            },
            ClientNapStatus(s) => match s {
                NapStatus::Byte(_) => 1,
                NapStatus::Word(_) => 4,
            },
            AddressesTransferred(_)
            | AssignedIpAddress(_)
            | ClientLastTransactionTime(_)
            | LeaseExpirationTime(_)
            | MaxUnackedBndupd(_)
            | Mclt(_)
            | PotentialExpirationTime(_)
            | ReceiveTimer(_)
            | StartTimeOfState(_)
            | ClientSubnetMask(_)
            | ServerIp(_)
            | ClientNapProbation(_)
            | ExtendedAddressState(_) => 4,
            ClientHardwareAddress(h) => 1 + h.addr.len(),
            MessageDigest { digest, .. } => 1 + digest.len(),
            ScopeIdList(s) => 4 * s.len(),
            ClientName(w) | ClientDescription(w) | ServerName(w) | ClientMatchedPolicy(w) => {
                w.0.len()
            }
            ClientIdentifier(b)
            | ClientReplyOptions(b)
            | ClientRequestOptions(b)
            | Ddns(b)
            | HashBucketAssignment(b)
            | Message(b)
            | RelationshipName(b)
            | VendorClassIdentifier(b)
            | VendorSpecificOptions(b)
            | Unknown { data: b, .. } => b.len(),
        }
    }

    /// Append the whole option (code, length, data) to `out`.
    ///
    /// A value longer than 65 535 bytes cannot be encoded; its length field wraps. Messages are
    /// at most 2 048 bytes (draft-12 §6.1), and `Message::fits` lets a sender check first.
    pub fn emit(&self, out: &mut Vec<u8>) {
        use FoOption::*;
        out.extend_from_slice(&self.code().to_be_bytes());
        out.extend_from_slice(&(self.data_len() as u16).to_be_bytes());
        match self {
            BindingStatus(v) => out.push(v.0),
            RejectReason(v) => out.push(v.0),
            ServerState(v) => out.push(v.to_wire()),
            DelayedServiceParameter(v)
            | ProtocolVersion(v)
            | ServerFlags(v)
            | TlsReply(v)
            | TlsRequest(v)
            | ClientType(v)
            | ClientNapCapable(v) => out.push(*v),
            IpFlags(super::IpFlags::Isc(v)) => out.extend_from_slice(&v.to_be_bytes()),
            IpFlags(super::IpFlags::Microsoft(v)) => out.push(*v),
            ClientNapStatus(NapStatus::Byte(v)) => out.push(*v),
            ClientNapStatus(NapStatus::Word(v)) => out.extend_from_slice(&v.to_be_bytes()),
            AddressesTransferred(v)
            | ClientLastTransactionTime(v)
            | LeaseExpirationTime(v)
            | MaxUnackedBndupd(v)
            | Mclt(v)
            | PotentialExpirationTime(v)
            | ReceiveTimer(v)
            | StartTimeOfState(v)
            | ClientNapProbation(v)
            | ExtendedAddressState(v) => out.extend_from_slice(&v.to_be_bytes()),
            AssignedIpAddress(a) | ClientSubnetMask(a) | ServerIp(a) => {
                out.extend_from_slice(&a.octets())
            }
            ClientHardwareAddress(h) => {
                out.push(h.htype);
                out.extend_from_slice(&h.addr);
            }
            MessageDigest { kind, digest } => {
                out.push(*kind);
                out.extend_from_slice(digest);
            }
            ScopeIdList(scopes) => {
                for s in scopes {
                    let [a, b, c, d] = s.octets();
                    out.extend_from_slice(&[d, c, b, a]);
                }
            }
            ClientName(w) | ClientDescription(w) | ServerName(w) | ClientMatchedPolicy(w) => {
                out.extend_from_slice(&w.0)
            }
            ClientIdentifier(b)
            | ClientReplyOptions(b)
            | ClientRequestOptions(b)
            | Ddns(b)
            | HashBucketAssignment(b)
            | Message(b)
            | RelationshipName(b)
            | VendorClassIdentifier(b)
            | VendorSpecificOptions(b)
            | Unknown { data: b, .. } => out.extend_from_slice(b),
        }
    }
}

/// Walks the raw TLVs of an options area without interpreting them: `(offset, code, data)`,
/// where `offset` is relative to the start of `bytes`. Stops with an error at a truncated option.
pub(crate) fn raw_options(
    bytes: &[u8],
) -> impl Iterator<Item = Result<(usize, u16, &[u8]), DecodeError>> {
    let mut r = Reader::new(bytes);
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || r.is_empty() {
            return None;
        }
        let offset = r.offset();
        let header = r.u16().zip(r.u16());
        let item = match header {
            Some((code, len)) => match r.take(usize::from(len)) {
                Some(data) => Ok((offset, code, data)),
                None => Err(DecodeError::OptionTruncated {
                    code,
                    offset,
                    declared: usize::from(len),
                    available: r.remaining(),
                }),
            },
            None => Err(DecodeError::OptionHeaderTruncated { offset }),
        };
        failed = item.is_err();
        Some(item)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_state_wire_values_are_one_to_seven() {
        for (i, s) in BindingState::ALL.iter().enumerate() {
            assert_eq!(s.to_d12() as usize, i + 1);
            assert_eq!(BindingState::from_d12(s.to_d12()), Some(*s));
        }
        assert_eq!(BindingState::from_d12(0), None);
        assert_eq!(BindingState::from_d12(8), None);
    }

    #[test]
    fn server_state_254_is_recover_wait_and_unknowns_are_kept() {
        assert_eq!(ServerState::from_wire(254), ServerState::RecoverWait);
        for v in 0..=255u8 {
            assert_eq!(ServerState::from_wire(v).to_wire(), v);
        }
    }

    #[test]
    fn wide_string_is_utf16le_with_a_terminating_nul() {
        let w = WideString::new("ab");
        assert_eq!(w.0, [b'a', 0, b'b', 0, 0, 0]);
        assert_eq!(w.to_string_lossy(), "ab");
        assert_eq!(
            WideString(vec![b'a', 0, b'b']).to_string_lossy(),
            "a\u{fffd}"
        );
    }

    #[test]
    fn microsoft_codes_are_unknown_in_the_isc_dialect() {
        let o = FoOption::parse(36, &[1], Dialect::Isc, 12).unwrap();
        assert_eq!(
            o,
            FoOption::Unknown {
                code: 36,
                data: vec![1]
            }
        );
        let o = FoOption::parse(36, &[1], Dialect::Microsoft, 12).unwrap();
        assert_eq!(o, FoOption::ClientType(1));
    }

    #[test]
    fn ip_flags_width_follows_the_dialect() {
        assert_eq!(
            FoOption::parse(12, &[0, 1], Dialect::Isc, 0).unwrap(),
            FoOption::IpFlags(IpFlags::Isc(IpFlags::ISC_RESERVED))
        );
        assert!(FoOption::parse(12, &[1], Dialect::Isc, 0).is_err());
        assert_eq!(
            FoOption::parse(12, &[2], Dialect::Microsoft, 0).unwrap(),
            FoOption::IpFlags(IpFlags::Microsoft(IpFlags::MS_RELEASED))
        );
        assert!(FoOption::parse(12, &[0, 2], Dialect::Microsoft, 0).is_err());
    }

    #[test]
    fn a_fixed_size_option_with_the_wrong_length_names_itself() {
        let err = FoOption::parse(15, &[0, 0, 7], Dialect::Isc, 40).unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadOptionLength {
                code: 15,
                offset: 40,
                len: 3,
                expected: "4"
            }
        );
        assert!(err.to_string().contains("MCLT"));
    }

    #[test]
    fn code_names_cover_every_known_code() {
        assert_eq!(code_name(22), "relationship-name");
        assert_eq!(code_name(41), "extended-address-state");
        assert_eq!(code_name(42), "unknown");
    }
}
