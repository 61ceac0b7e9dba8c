//! Building and reading the failover messages (draft-12 §7; MS-DHCPF §3), as pure functions.
//!
//! Builders lay options out in the order ISC dhcpd 4.4 sends them (draft-12.md §2.1), so that
//! where we send the same message as ISC the bytes are the same; the tests compare them with
//! captures from real ISC peers. Readers take untrusted messages: they never panic, and a
//! message that breaks a rule becomes the draft's reject reason.
//!
//! Decisions this module fixes, each explained where it is made:
//!
//! * CONNECT always carries hash-bucket-assignment, and a CONNECT without a 32-byte one is
//!   refused with 18, in hot standby too ([`connect`], [`check_connect`]). The HBA parameter and
//!   result are "the buckets the primary serves" (`None`: all of them, hot standby); the bitmap
//!   on the wire follows the relationship's polarity ([`RelationshipConfig::set_bucket_serves`]).
//! * A CONNECT or CONNECTACK without max-unacked-bndupd or receive-timer (or with 0) is read as
//!   [`DEFAULT_PARTNER_MAX_UNACKED`] and [`DEFAULT_PARTNER_RECEIVE_TIMER_S`], not kept at 0 as
//!   ISC keeps it (draft-12.md §14 item 10).
//! * A rejecting CONNECTACK carries no max-unacked-bndupd or receive-timer (draft-12 §7.9
//!   Table 7.9-1), unlike ISC's.
//! * In the ISC dialect a BNDUPD carries lease-expiration-time and potential-expiration-time in
//!   every state, as ISC does, although the draft says MUST NOT outside ACTIVE ([`push_binding`]).
//! * A received binding with an unknown status, or without the options its status requires in
//!   its dialect, is rejected with 3 ([`decode_bindings`]).
//! * Signing puts the digest first and covers the whole message ([`encode`]; the bytes are
//!   fixed in [`crate::wire::failover::digest`]).
//!
//! Times on the wire are u32 seconds since the epoch; [`Time`] converts at this edge.

use std::net::Ipv4Addr;

use crate::failover::config::{BucketOwner, RelationshipConfig};
use crate::lease::{Binding, BindingState, HwAddr};
use crate::time::Time;
use crate::wire::failover::dialect::{ms_binding_state, ms_encode};
use crate::wire::failover::digest::{self, DigestError};
use crate::wire::failover::option::{BindingStatus, code};
use crate::wire::failover::{
    Dialect, FoOption, HEADER_LEN, HardwareAddress, IpFlags, MAX_MESSAGE_LEN, Message, MessageType,
    RejectReason, ServerState,
};
use crate::wire::hash_bucket::HashBuckets;

/// The protocol version we speak and send (draft-12 §12.20).
pub const PROTOCOL_VERSION: u8 = 1;
/// The partner's max-unacked-bndupd when its CONNECT or CONNECTACK does not say (or says 0):
/// draft-12 §12.14 asks for more than 10 and ISC is commonly configured with 10. ISC keeps 0
/// and then never sends an update (draft-12.md §14 item 10); we must not.
pub const DEFAULT_PARTNER_MAX_UNACKED: u32 = 10;
/// The partner's receive-timer when its CONNECT or CONNECTACK does not say (or says 0): ISC's
/// default max-response-delay (draft-12.md §8). ISC keeps 0 and would send CONTACT after every
/// message (draft-12.md §14 item 10).
pub const DEFAULT_PARTNER_RECEIVE_TIMER_S: u32 = 20;
/// The longest hardware address a binding holds: DHCP's `chaddr` (RFC 2131 §2). ISC refuses
/// longer ones with reason 6 (draft-12.md §3.1).
const MAX_CHADDR_LEN: usize = 16;

// ---- the hash-bucket-assignment -------------------------------------------------------------

/// The HBA bitmap that says "the primary serves `primary_buckets`" (every bucket if `None`) in
/// this relationship's polarity: a set bit names the primary for ISC, the secondary for
/// draft-12 §12.11 (draft-12.md §7.2). Hot standby therefore goes out as all ones to an ISC
/// peer (ISC's `split 256`) and as all zeros, the draft's "none", to a draft-literal one.
fn hba_to_wire(cfg: &RelationshipConfig, primary_buckets: Option<HashBuckets>) -> HashBuckets {
    let primary = primary_buckets.unwrap_or(HashBuckets::ALL);
    match cfg.set_bucket_serves {
        BucketOwner::Primary => primary,
        BucketOwner::Secondary => primary.inverted(),
    }
}

/// The inverse of [`hba_to_wire`]: the buckets the primary serves, `None` if it serves all.
fn hba_from_wire(cfg: &RelationshipConfig, wire: HashBuckets) -> Option<HashBuckets> {
    let primary = match cfg.set_bucket_serves {
        BucketOwner::Primary => wire,
        BucketOwner::Secondary => wire.inverted(),
    };
    (primary != HashBuckets::ALL).then_some(primary)
}

// ---- CONNECT and CONNECTACK ------------------------------------------------------------------

/// CONNECT as ISC sends it (draft-12 §7.8, draft-12.md §2.1): relationship-name,
/// max-unacked-bndupd (the configured one), receive-timer, vendor-class, protocol-version 1,
/// TLS-request 0, MCLT, hash-bucket-assignment.
///
/// * TLS-request is left out in the Microsoft dialect: MS-DHCPF §3.2.7.1 forbids it.
/// * The HBA is always sent. draft-12 §7.8 makes it MUST even without load balancing, and an
///   ISC secondary refuses a CONNECT without it (reason 18), although an ISC primary sends it
///   only with `split`/`hba` (its configuration insists on one of them). `primary_buckets` is
///   what [`RelationshipConfig::primary_buckets`] returns: `None` in hot standby, where the
///   primary serves every bucket; the bitmap is written in the relationship's polarity.
pub fn connect(
    cfg: &RelationshipConfig,
    time: u32,
    xid: u32,
    vendor: &[u8],
    receive_timer_s: u32,
    mclt_s: u32,
    primary_buckets: Option<HashBuckets>,
) -> Message {
    let mut m = Message::new(MessageType::Connect, time, xid)
        .with(FoOption::RelationshipName(cfg.name.as_bytes().to_vec()))
        .with(FoOption::MaxUnackedBndupd(cfg.max_unacked_bndupd))
        .with(FoOption::ReceiveTimer(receive_timer_s))
        .with(FoOption::VendorClassIdentifier(vendor.to_vec()))
        .with(FoOption::ProtocolVersion(PROTOCOL_VERSION));
    if cfg.dialect() == Dialect::Isc {
        m = m.with(FoOption::TlsRequest(0));
    }
    m.with(FoOption::Mclt(mclt_s))
        .with(FoOption::HashBucketAssignment(
            hba_to_wire(cfg, primary_buckets).0.to_vec(),
        ))
}

/// What a secondary learned from a valid CONNECT.
///
/// In the Microsoft dialect the receiver must not adopt these values (MS-DHCPF §3.3.5.1); the
/// engine decides, this only reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectParams {
    /// The primary's MCLT (draft-12 §5.2: the secondary adopts it).
    pub mclt_s: u32,
    /// How many BNDUPDs we may leave unacknowledged (0 or absent: the default).
    pub max_unacked: u32,
    /// The primary's receive-timer: our CONTACT interval derives from it (0 or absent: the
    /// default).
    pub receive_timer_s: u32,
    /// The buckets the primary serves, read in this relationship's polarity; `None` when it
    /// serves every bucket (hot standby).
    pub hba: Option<HashBuckets>,
    /// The primary's vendor-class-identifier, empty if absent.
    pub vendor: Vec<u8>,
    /// The CONNECT carried TLS-request, so the CONNECTACK must carry TLS-reply (draft-12 §7.9).
    pub tls_requested: bool,
}

/// Whether a CONNECT carries TLS-request: its CONNECTACK must then carry TLS-reply
/// (draft-12 §7.9 Table 7.9-1), whether it accepts or rejects.
pub fn tls_requested(msg: &Message) -> bool {
    msg.option(code::TLS_REQUEST).is_some()
}

/// The secondary's checks of a CONNECT, in ISC's order (draft-12.md §2.1):
///
/// 1. relationship-name present and byte-equal to ours, else 8;
/// 2. `|now - time|` within `max_clock_delta_s`, else 4;
/// 3. hash-bucket-assignment present and 32 bytes, else 18 — in hot standby too, as ISC
///    demands it and draft-12 §7.8 makes it MUST;
/// 4. no established connection already, else 7;
/// 5. MCLT present and non-zero, else 5 (ISC checks presence only; a zero MCLT would remove
///    the lead-time bound that the whole protocol rests on, so we call it "invalid MCLT").
///
/// Like ISC and MS-DHCPF §3.3.5.1, protocol-version and TLS-request are not checked: a
/// TLS-request of any value is answered with TLS-reply 0 (draft-12.md §11 item 16).
pub fn check_connect(
    msg: &Message,
    cfg: &RelationshipConfig,
    now_s: u32,
    already_connected: bool,
) -> Result<ConnectParams, RejectReason> {
    if msg.relationship_name() != Some(cfg.name.as_bytes()) {
        return Err(RejectReason::INVALID_PARTNER);
    }
    if !within_delta(msg.time, now_s, cfg.max_clock_delta_s) {
        return Err(RejectReason::TIME_MISMATCH);
    }
    let hba = msg.options.iter().find_map(|o| match o {
        FoOption::HashBucketAssignment(h) => Some(h.as_slice()),
        _ => None,
    });
    let Some(hba) = hba.and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
        return Err(RejectReason::HBA_CONFLICT);
    };
    if already_connected {
        return Err(RejectReason::DUPLICATE_CONNECTION);
    }
    let mclt_s = match msg.mclt_s() {
        Some(m) if m > 0 => m,
        _ => return Err(RejectReason::INVALID_MCLT),
    };
    let (max_unacked, receive_timer_s) = window_and_timer(msg);
    Ok(ConnectParams {
        mclt_s,
        max_unacked,
        receive_timer_s,
        hba: hba_from_wire(cfg, HashBuckets(hba)),
        vendor: vendor_of(msg),
        tls_requested: tls_requested(msg),
    })
}

/// A CONNECTACK that accepts (draft-12 §7.9, in ISC's order): relationship-name,
/// max-unacked-bndupd, receive-timer, vendor-class, protocol-version 1, and TLS-reply 0 only if
/// the CONNECT carried TLS-request. The xid is the CONNECT's.
pub fn connect_ack(
    cfg: &RelationshipConfig,
    time: u32,
    xid: u32,
    vendor: &[u8],
    receive_timer_s: u32,
    max_unacked: u32,
    tls_requested: bool,
) -> Message {
    let m = Message::new(MessageType::ConnectAck, time, xid)
        .with(FoOption::RelationshipName(cfg.name.as_bytes().to_vec()))
        .with(FoOption::MaxUnackedBndupd(max_unacked))
        .with(FoOption::ReceiveTimer(receive_timer_s))
        .with(FoOption::VendorClassIdentifier(vendor.to_vec()))
        .with(FoOption::ProtocolVersion(PROTOCOL_VERSION));
    with_tls_reply(m, tls_requested)
}

/// A CONNECTACK that rejects: relationship-name (ours, or the CONNECT's echoed as ISC does;
/// left out if empty), vendor-class, protocol-version 1, TLS-reply 0 if the CONNECT carried
/// TLS-request, reject-reason, and the message text unless empty.
///
/// draft-12 §7.9 Table 7.9-1 says max-unacked-bndupd and receive-timer MUST NOT appear in a
/// reject; ISC sends them anyway. We follow the draft. The same table says vendor-class MUST
/// NOT either; we keep it, as ISC does and as the partner's log is the only reader of a refusal.
pub fn connect_reject(
    name: &[u8],
    time: u32,
    xid: u32,
    reason: RejectReason,
    text: &str,
    vendor: &[u8],
    tls_requested: bool,
) -> Message {
    let mut m = Message::new(MessageType::ConnectAck, time, xid);
    if !name.is_empty() {
        m = m.with(FoOption::RelationshipName(name.to_vec()));
    }
    m = m
        .with(FoOption::VendorClassIdentifier(vendor.to_vec()))
        .with(FoOption::ProtocolVersion(PROTOCOL_VERSION));
    with_reason(with_tls_reply(m, tls_requested), reason, text)
}

/// What a primary learned from an accepting CONNECTACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckParams {
    /// How many BNDUPDs we may leave unacknowledged (0 or absent: the default).
    pub max_unacked: u32,
    /// The secondary's receive-timer (0 or absent: the default).
    pub receive_timer_s: u32,
    /// The secondary's vendor-class-identifier, empty if absent.
    pub vendor: Vec<u8>,
}

/// The primary's checks of a CONNECTACK (draft-12 §7.9.2; ISC's, draft-12.md §2.1):
///
/// 1. a reject-reason: the secondary refused us; `Err` with its reason, and the connection is
///    simply closed (ISC logs it; MS-DHCPF §3.1.5.8 drops any DISCONNECT we could send);
/// 2. relationship-name absent or not ours: `Err(8)`, answered by DISCONNECT;
/// 3. `|now - time|` beyond `max_clock_delta_s`: `Err(4)`, answered by DISCONNECT.
///
/// The engine tells 1 from 2–3 by [`Message::reject_reason`]. A refusal is read first because it
/// ends the connection whatever else the message says. TLS-reply is ignored (MS-DHCPF
/// §3.2.5.1; we never ask for TLS).
pub fn check_connect_ack(
    msg: &Message,
    cfg: &RelationshipConfig,
    now_s: u32,
) -> Result<AckParams, RejectReason> {
    if let Some(reason) = msg.reject_reason() {
        return Err(reason);
    }
    if msg.relationship_name() != Some(cfg.name.as_bytes()) {
        return Err(RejectReason::INVALID_PARTNER);
    }
    if !within_delta(msg.time, now_s, cfg.max_clock_delta_s) {
        return Err(RejectReason::TIME_MISMATCH);
    }
    let (max_unacked, receive_timer_s) = window_and_timer(msg);
    Ok(AckParams {
        max_unacked,
        receive_timer_s,
        vendor: vendor_of(msg),
    })
}

/// Whether two u32 clocks are at most `max_delta_s` apart (draft-12 §5.10; ISC's 60 s).
fn within_delta(their_s: u32, now_s: u32, max_delta_s: u32) -> bool {
    (i64::from(now_s) - i64::from(their_s)).unsigned_abs() <= u64::from(max_delta_s)
}

/// max-unacked-bndupd and receive-timer of a CONNECT or CONNECTACK, with the defaults for a
/// missing or zero value (see [`DEFAULT_PARTNER_MAX_UNACKED`]).
fn window_and_timer(msg: &Message) -> (u32, u32) {
    let mut max_unacked = None;
    let mut receive_timer = None;
    for o in &msg.options {
        match o {
            FoOption::MaxUnackedBndupd(v) if max_unacked.is_none() => max_unacked = Some(*v),
            FoOption::ReceiveTimer(v) if receive_timer.is_none() => receive_timer = Some(*v),
            _ => {}
        }
    }
    (
        max_unacked
            .filter(|&v| v > 0)
            .unwrap_or(DEFAULT_PARTNER_MAX_UNACKED),
        receive_timer
            .filter(|&v| v > 0)
            .unwrap_or(DEFAULT_PARTNER_RECEIVE_TIMER_S),
    )
}

fn vendor_of(msg: &Message) -> Vec<u8> {
    msg.options
        .iter()
        .find_map(|o| match o {
            FoOption::VendorClassIdentifier(v) => Some(v.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

fn with_tls_reply(m: Message, tls_requested: bool) -> Message {
    // draft-12 §7.8.2: we never negotiate TLS, so the answer to any request is 0.
    if tls_requested {
        m.with(FoOption::TlsReply(0))
    } else {
        m
    }
}

/// Append reject-reason, and the message text unless it is empty (draft-12 §7.2, §7.9, §7.12:
/// the text is SHOULD).
fn with_reason(m: Message, reason: RejectReason, text: &str) -> Message {
    let m = m.with(FoOption::RejectReason(reason));
    if text.is_empty() {
        m
    } else {
        m.with(FoOption::Message(text.as_bytes().to_vec()))
    }
}

// ---- the small messages ----------------------------------------------------------------------

/// STATE (draft-12 §7.10), in ISC's order: server-state, server-flags (0x01 while in STARTUP:
/// ISC then sends its previous state with the flag), start-time-of-state.
pub fn state(time: u32, xid: u32, state: ServerState, startup: bool, stos_s: u32) -> Message {
    Message::new(MessageType::State, time, xid)
        .with(FoOption::ServerState(state))
        .with(FoOption::ServerFlags(u8::from(startup)))
        .with(FoOption::StartTimeOfState(stos_s))
}

/// DISCONNECT (draft-12 §7.12): reject-reason, and the text unless empty. The last message on a
/// connection.
pub fn disconnect(time: u32, xid: u32, reason: RejectReason, text: &str) -> Message {
    with_reason(
        Message::new(MessageType::Disconnect, time, xid),
        reason,
        text,
    )
}

/// CONTACT (draft-12 §7.11): the keep-alive, no options.
pub fn contact(time: u32, xid: u32) -> Message {
    Message::new(MessageType::Contact, time, xid)
}

/// UPDREQ (draft-12 §7.3): send me your unacknowledged updates. No options.
pub fn updreq(time: u32, xid: u32) -> Message {
    Message::new(MessageType::UpdReq, time, xid)
}

/// UPDREQALL (draft-12 §7.4): send me every binding. No options.
pub fn updreqall(time: u32, xid: u32) -> Message {
    Message::new(MessageType::UpdReqAll, time, xid)
}

/// UPDDONE (draft-12 §7.5): every requested update was sent and acknowledged. The xid is the
/// request's.
pub fn upddone(time: u32, xid: u32) -> Message {
    Message::new(MessageType::UpdDone, time, xid)
}

/// POOLREQ (draft-12 §7.6): please balance the pools. No options.
pub fn poolreq(time: u32, xid: u32) -> Message {
    Message::new(MessageType::PoolReq, time, xid)
}

/// POOLRESP (draft-12 §7.7): how many addresses the balancing moved. The xid is the POOLREQ's.
pub fn poolresp(time: u32, xid: u32, count: u32) -> Message {
    Message::new(MessageType::PoolResp, time, xid).with(FoOption::AddressesTransferred(count))
}

// ---- BNDUPD ----------------------------------------------------------------------------------

fn wire_time(t: Time) -> u32 {
    t.as_unix_secs()
}

fn hardware(hw: &HwAddr) -> FoOption {
    FoOption::ClientHardwareAddress(HardwareAddress {
        htype: hw.htype,
        addr: hw.addr.clone(),
    })
}

/// Append one binding transaction of a BNDUPD, laid out for `dialect`. `pet` is the potential
/// expiration time to send; `subnet_mask` is used by the Microsoft dialect only.
///
/// ISC dialect, in ISC's order (draft-12.md §2.1): assigned-IP, binding-status (draft-12 §12.3
/// value), client-identifier if any, client-hardware-address if any, lease-expiration-time,
/// potential-expiration-time, start-time-of-state, CLTT unless at the epoch, IP-flags (2 bytes,
/// R for a reserved address) unless 0.
/// * Times go out in every state, as ISC sends them, although draft-12 §7.1 Table 7.1-1 says
///   lease-expiration-time and PET MUST NOT outside ACTIVE: ISC's layout is the one ISC peers
///   are known to accept, and an ISC receiver that is not sent the times seems to keep the old
///   lease's `ends` and PET on the FREE or BACKUP address (our reading of its update path,
///   not observed).
/// * ABANDONED carries no client-identifier or hardware address (draft-12 §7.1.1 Table 7.1.1-1
///   MUST NOT; ISC rejects them with 6, draft-12.md §6.3).
///
/// Microsoft dialect (MS-DHCPF §3.1.4.2, §3.1.5.2): binding-status and a one-byte IP-flags by
/// [`ms_encode`], then, for an address with a lease record (everything but FREE, RESET and
/// BACKUP), client-identifier if any, client-hardware-address (MUST: it is also how the
/// receiver tells a lease record from a redistributed address, see [`ms_binding_state`]),
/// lease-expiration-time and PET (MUST for ACTIVE; otherwise when set), start-time-of-state
/// when set, CLTT; and the subnet mask (33) always. FREE/BACKUP carry none of the client
/// options (MUST NOT). A lease-record binding that lacks a hardware address goes out with an
/// empty one (htype 0), so that its status is not read as a redistributed FREE/BACKUP.
pub fn push_binding(
    options: &mut Vec<FoOption>,
    b: &Binding,
    pet: Time,
    dialect: Dialect,
    subnet_mask: Ipv4Addr,
) {
    options.push(FoOption::AssignedIpAddress(b.address));
    match dialect {
        Dialect::Isc => {
            options.push(FoOption::BindingStatus(BindingStatus(b.state.to_d12())));
            if b.state != BindingState::Abandoned {
                if let Some(id) = &b.client_id {
                    options.push(FoOption::ClientIdentifier(id.clone()));
                }
                if let Some(hw) = &b.hw {
                    options.push(hardware(hw));
                }
            }
            options.push(FoOption::LeaseExpirationTime(wire_time(b.expires_at)));
            options.push(FoOption::PotentialExpirationTime(wire_time(pet)));
            options.push(FoOption::StartTimeOfState(wire_time(b.state_since)));
            if b.cltt != Time::EPOCH {
                options.push(FoOption::ClientLastTransactionTime(wire_time(b.cltt)));
            }
            // draft-12 §5.13: R marks a reserved address.
            let flags = if b.reserved { IpFlags::ISC_RESERVED } else { 0 };
            if flags != 0 {
                options.push(FoOption::IpFlags(IpFlags::Isc(flags)));
            }
        }
        Dialect::Microsoft => {
            let (status, flags) = ms_encode(b.state);
            options.push(FoOption::BindingStatus(BindingStatus(status)));
            options.push(FoOption::IpFlags(IpFlags::Microsoft(flags)));
            let lease_record = !matches!(
                b.state,
                BindingState::Free | BindingState::Reset | BindingState::Backup
            );
            if lease_record {
                if let Some(id) = &b.client_id {
                    options.push(FoOption::ClientIdentifier(id.clone()));
                }
                options.push(match &b.hw {
                    Some(hw) => hardware(hw),
                    None => FoOption::ClientHardwareAddress(HardwareAddress {
                        htype: 0,
                        addr: Vec::new(),
                    }),
                });
                let active = b.state == BindingState::Active;
                if active || b.expires_at != Time::EPOCH {
                    options.push(FoOption::LeaseExpirationTime(wire_time(b.expires_at)));
                }
                if let Some(pet) = pet_on_wire(b, pet, dialect) {
                    options.push(FoOption::PotentialExpirationTime(wire_time(pet)));
                }
                if b.state_since != Time::EPOCH {
                    options.push(FoOption::StartTimeOfState(wire_time(b.state_since)));
                }
                options.push(FoOption::ClientLastTransactionTime(wire_time(b.cltt)));
            }
            options.push(FoOption::ClientSubnetMask(subnet_mask));
        }
    }
}

/// The potential expiration time [`push_binding`] puts on the wire for `b` with `pet`, if any:
/// always in the ISC dialect; in the Microsoft dialect only for a lease record (not FREE,
/// BACKUP or RESET) that is ACTIVE or has a PET. An update without one tells the partner no
/// PET, so acknowledging it cannot mean the partner knows one.
pub fn pet_on_wire(b: &Binding, pet: Time, dialect: Dialect) -> Option<Time> {
    match dialect {
        Dialect::Isc => Some(pet),
        Dialect::Microsoft => {
            let lease_record = !matches!(
                b.state,
                BindingState::Free | BindingState::Reset | BindingState::Backup
            );
            (lease_record && (b.state == BindingState::Active || pet != Time::EPOCH)).then_some(pet)
        }
    }
}

/// The encoded length of the transaction [`push_binding`] appends.
fn binding_len(b: &Binding, pet: Time, dialect: Dialect, subnet_mask: Ipv4Addr) -> usize {
    let mut options = Vec::new();
    push_binding(&mut options, b, pet, dialect, subnet_mask);
    options.iter().map(|o| 4 + o.data_len()).sum()
}

/// How many of `bindings`, from the first, fit in one BNDUPD: at most the dialect's limit (ISC:
/// one, as ISC drops the connection on a repeated option, draft-12.md §1.4; Microsoft: 16,
/// MS-DHCPF §3.1.4.2) and at most 2 048 bytes (draft-12 §6.1), keeping room for a digest
/// whether or not the relationship signs. Always at least one when `bindings` is not empty: a
/// single transaction is far below the limit.
pub fn max_batch(bindings: &[(&Binding, Time, Ipv4Addr)], dialect: Dialect) -> usize {
    let limit = bindings.len().min(dialect.max_bindings_per_update());
    if limit <= 1 {
        // Nothing to measure: one transaction always fits.
        return limit;
    }
    let mut len = HEADER_LEN + 4 + digest::placeholder().data_len();
    let mut n = 0;
    for &(b, pet, mask) in bindings.iter().take(dialect.max_bindings_per_update()) {
        len += binding_len(b, pet, dialect, mask);
        if n > 0 && len > MAX_MESSAGE_LEN {
            break;
        }
        n += 1;
    }
    n
}

/// A BNDUPD (draft-12 §7.1) carrying `bindings` (each with the PET to send and the subnet
/// mask), laid out by [`push_binding`].
///
/// Pass at most [`max_batch`] bindings (ISC: exactly one). Passing more is caller misuse:
/// debug builds assert, release builds send the first [`max_batch`] and leave the rest out, so
/// that no peer ever sees an oversized or, towards ISC, batched BNDUPD.
pub fn bndupd(
    time: u32,
    xid: u32,
    bindings: &[(&Binding, Time, Ipv4Addr)],
    dialect: Dialect,
) -> Message {
    let n = max_batch(bindings, dialect);
    debug_assert!(
        !bindings.is_empty() && n == bindings.len(),
        "bndupd: {} bindings given, {n} fit in one {dialect:?} BNDUPD",
        bindings.len()
    );
    let mut m = Message::new(MessageType::BndUpd, time, xid);
    // Up to nine options per binding (ISC: address, status, client, hardware, four times, flags).
    m.options.reserve(9 * n);
    for &(b, pet, mask) in &bindings[..n] {
        push_binding(&mut m.options, b, pet, dialect, mask);
    }
    m
}

/// One binding transaction of a received BNDUPD, decoded. Times are as the partner sent them
/// (draft-12 §5.10's skew correction is the engine's business); a field is `None` where the
/// message left the option out. The acceptance rules ([`crate::failover::acceptance`]) judge it
/// as it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Incoming {
    /// The address (assigned-IP-address).
    pub address: Ipv4Addr,
    /// The binding state, read per dialect.
    pub state: BindingState,
    /// client-identifier.
    pub client_id: Option<Vec<u8>>,
    /// client-hardware-address.
    pub hw: Option<HwAddr>,
    /// lease-expiration-time.
    pub expires_at: Option<Time>,
    /// potential-expiration-time.
    pub pet: Option<Time>,
    /// start-time-of-state.
    pub state_since: Option<Time>,
    /// client-last-transaction-time.
    pub cltt: Option<Time>,
    /// IP-flags, 0 if absent. ISC dialect: R 0x0001 (reserved), B 0x0002 (BOOTP); Microsoft:
    /// DELETED 0x1, RELEASED 0x2, DELETED_COMM_DOWN 0x4 ([`IpFlags`]).
    pub ip_flags: u16,
    /// The client's subnet mask (Microsoft option 33).
    pub subnet_mask: Option<Ipv4Addr>,
}

impl Incoming {
    /// An update for `address` in `state` that carries nothing else.
    pub fn bare(address: Ipv4Addr, state: BindingState) -> Incoming {
        Incoming {
            address,
            state,
            client_id: None,
            hw: None,
            expires_at: None,
            pet: None,
            state_since: None,
            cltt: None,
            ip_flags: 0,
            subnet_mask: None,
        }
    }
}

/// The binding transactions of a received BNDUPD, one result per transaction in order; an `Err`
/// names the address and the reason to put in its BNDACK.
///
/// * Options before the first assigned-IP-address belong to no transaction and are ignored
///   (the digest, say); within a transaction the first of a repeated option counts.
/// * Microsoft: only the first 16 transactions; the rest are ignored (MS-DHCPF §3.1.5.2). ISC
///   dialect: all of them; a 2 048-byte message holds at most 256.
/// * binding-status missing ⇒ 3. ISC dialect: a value outside draft-12 §12.3's 1–7 ⇒ 3 as
///   well, since the binding information is as good as missing (ISC itself reaches a fatal
///   "impossible case" on such a value, draft-12.md §14 item 6). Microsoft: every byte has a
///   reading ([`ms_binding_state`], with "has a lease record" = option 5 present).
/// * Options the state requires (the engine cannot store the binding without them) ⇒ 3.
///   ISC dialect: the hardware address for ACTIVE, EXPIRED and RELEASED (ISC's own check,
///   draft-12.md §6.3) and lease-expiration-time for ACTIVE (draft-12 Table 7.1-1 MUST).
///   Microsoft: the MS-DHCPF §3.1.5.2 table (IP-flags and subnet mask always; the hardware
///   address and CLTT for ACTIVE, EXPIRED and RELEASED; lease-expiration-time and PET for
///   ACTIVE), skipped when IP-flags has DELETED_COMM_DOWN.
/// * A hardware address longer than 16 bytes ⇒ 6, as ISC answers it (draft-12.md §6.3).
///
/// Options the draft forbids for a state (client data on ABANDONED, times on FREE) are kept,
/// not rejected: the acceptance rules decide what to do with them.
pub fn decode_bindings(
    msg: &Message,
    dialect: Dialect,
) -> Vec<Result<Incoming, (Ipv4Addr, RejectReason)>> {
    let limit = match dialect {
        Dialect::Isc => usize::MAX,
        Dialect::Microsoft => dialect.max_bindings_per_update(),
    };
    msg.bindings()
        .take(limit)
        .map(|t| decode_one(t.address, t.options, dialect).map_err(|r| (t.address, r)))
        .collect()
}

fn decode_one(
    address: Ipv4Addr,
    options: &[FoOption],
    dialect: Dialect,
) -> Result<Incoming, RejectReason> {
    let mut status = None;
    let mut i = Incoming::bare(address, BindingState::Free);
    let mut flags_present = false;
    let time = |v: u32| Some(Time::from_secs(u64::from(v)));
    // The first option is the assigned-IP-address itself; first occurrences win.
    for o in options.iter().skip(1) {
        match o {
            FoOption::BindingStatus(s) if status.is_none() => status = Some(s.0),
            FoOption::ClientIdentifier(id) if i.client_id.is_none() => {
                i.client_id = Some(id.clone())
            }
            FoOption::ClientHardwareAddress(h) if i.hw.is_none() => {
                i.hw = Some(HwAddr {
                    htype: h.htype,
                    addr: h.addr.clone(),
                })
            }
            FoOption::LeaseExpirationTime(t) if i.expires_at.is_none() => i.expires_at = time(*t),
            FoOption::PotentialExpirationTime(t) if i.pet.is_none() => i.pet = time(*t),
            FoOption::StartTimeOfState(t) if i.state_since.is_none() => i.state_since = time(*t),
            FoOption::ClientLastTransactionTime(t) if i.cltt.is_none() => i.cltt = time(*t),
            FoOption::IpFlags(f) if !flags_present => {
                flags_present = true;
                i.ip_flags = f.bits();
            }
            FoOption::ClientSubnetMask(m) if i.subnet_mask.is_none() => i.subnet_mask = Some(*m),
            _ => {}
        }
    }
    let status = status.ok_or(RejectReason::MISSING_BINDING_INFORMATION)?;
    if i.hw.as_ref().is_some_and(|h| h.addr.len() > MAX_CHADDR_LEN) {
        return Err(RejectReason::UNKNOWN);
    }
    let missing = |present: bool| {
        if present {
            Ok(())
        } else {
            Err(RejectReason::MISSING_BINDING_INFORMATION)
        }
    };
    match dialect {
        Dialect::Isc => {
            i.state =
                BindingState::from_d12(status).ok_or(RejectReason::MISSING_BINDING_INFORMATION)?;
            if matches!(
                i.state,
                BindingState::Active | BindingState::Expired | BindingState::Released
            ) {
                missing(i.hw.is_some())?;
            }
            if i.state == BindingState::Active {
                missing(i.expires_at.is_some())?;
            }
        }
        Dialect::Microsoft => {
            let flags = (i.ip_flags & 0xff) as u8;
            i.state = ms_binding_state(status, flags, i.hw.is_some());
            // MS-DHCPF §3.1.5.2: DELETED_COMM_DOWN skips the table's checks.
            if flags & IpFlags::MS_DELETED_COMM_DOWN == 0 {
                missing(flags_present && i.subnet_mask.is_some())?;
                if matches!(
                    i.state,
                    BindingState::Active | BindingState::Expired | BindingState::Released
                ) {
                    missing(i.hw.is_some() && i.cltt.is_some())?;
                }
                if i.state == BindingState::Active {
                    missing(i.expires_at.is_some() && i.pet.is_some())?;
                }
            }
        }
    }
    Ok(i)
}

// ---- BNDACK ----------------------------------------------------------------------------------

/// A BNDACK (draft-12 §7.2): per transaction its assigned-IP-address, followed by reject-reason
/// and the text (unless empty) when it was refused. Addresses go in the given order, which
/// must be the BNDUPD's: MS-DHCPF §3.1.5.2 requires it and draft-12 §6.3 allows any order. The
/// xid is the BNDUPD's.
pub fn bndack(
    time: u32,
    xid: u32,
    results: &[(Ipv4Addr, Option<(RejectReason, &str)>)],
) -> Message {
    let mut m = Message::new(MessageType::BndAck, time, xid);
    for &(address, reject) in results {
        m = m.with(FoOption::AssignedIpAddress(address));
        if let Some((reason, text)) = reject {
            m = with_reason(m, reason, text);
        }
    }
    m
}

/// The transactions of a received BNDACK, in order: each address, with its reject-reason if it
/// was refused (draft-12 §7.2.2: no reject-reason means accepted).
pub fn decode_bndack(msg: &Message) -> Vec<(Ipv4Addr, Option<RejectReason>)> {
    msg.bindings()
        .map(|t| {
            let reason = t.options.iter().find_map(|o| match o {
                FoOption::RejectReason(r) => Some(*r),
                _ => None,
            });
            (t.address, reason)
        })
        .collect()
}

// ---- signing ---------------------------------------------------------------------------------

/// Encode a message for the wire. With a shared secret, the message gets
/// [`digest::placeholder`] as its first option (draft-12 §11.1, §12.17; any digest it already
/// carried is replaced) and is sealed with HMAC-SHA256 over the whole encoded message
/// (MS-DHCPF §5.1; the exact bytes are fixed in [`digest`]).
pub fn encode(msg: &Message, secret: Option<&[u8]>) -> Vec<u8> {
    let Some(secret) = secret else {
        return msg.to_bytes();
    };
    let mut signed = msg.clone();
    signed
        .options
        .retain(|o| !matches!(o, FoOption::MessageDigest { .. }));
    signed.options.insert(0, digest::placeholder());
    let mut bytes = signed.to_bytes();
    let sealed = digest::seal(&mut bytes, secret);
    // One placeholder in a message we just built: sealing cannot fail short of a message too
    // long for its length field, which `Message::fits` rules out for everything we build.
    debug_assert!(sealed.is_ok(), "sealing our own message failed: {sealed:?}");
    bytes
}

/// Check the digest of a received frame (one whole message), as a reject reason on failure
/// (draft-12 §11.1, §12.21):
///
/// * with a secret: no digest ⇒ 21; a digest of another type or length ⇒ 12 ("not
///   supported"); a wrong or repeated digest, or bytes that are not a message ⇒ 20;
/// * without a secret: a digest present ⇒ 13 ("not configured"); otherwise accepted, as ISC
///   and every unsigned peer send none.
///
/// MS-DHCPF §3.1.5 sends no reject at all: it drops the message and closes the connection,
/// which the engine does on any `Err`.
pub fn verify(frame: &[u8], secret: Option<&[u8]>) -> Result<(), RejectReason> {
    match secret {
        Some(secret) => digest::verify(frame, secret).map_err(|e| match e {
            DigestError::Missing => RejectReason::MISSING_DIGEST,
            DigestError::Malformed => RejectReason::DIGEST_NOT_SUPPORTED,
            DigestError::Mismatch | DigestError::Duplicate | DigestError::NotAMessage => {
                RejectReason::DIGEST_MISMATCH
            }
        }),
        // With any key, a frame without option 17 reports Missing; every other answer means a
        // digest is there (or the bytes are not a message, which the parser reports itself).
        None => match digest::verify(frame, &[]) {
            Err(DigestError::Missing) | Err(DigestError::NotAMessage) => Ok(()),
            _ => Err(RejectReason::DIGEST_NOT_CONFIGURED),
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::failover::config::{DialectName, Mode, Role};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn parse(h: &str) -> Message {
        Message::parse(&hex(h), Dialect::Isc).unwrap()
    }

    const T: u32 = 0x6b03_1f50;
    const ISC: &[u8] = b"isc-4.4.3-P1";
    // Real ISC dhcpd 4.4.3-P1 bytes (the same captures as wire/failover/tests.rs).
    // 01-startup-to-normal.pcap: the primary's CONNECT and the secondary's CONNECTACK.
    const CONNECT: &str = "006d050c6b031f500000000000160007666f2d74657374000e00040000000a001300040000001e001c000c6973632d342e342e332d50310014000101001b000100000f00040000001e000b0020ffffffffffffffffffffffffffffffff00000000000000000000000000000000";
    const CONNECTACK: &str = "0041060c6b031f500000000000160007666f2d74657374000e00040000000a001300040000001e001c000c6973632d342e342e332d50310014000101001a000100";
    // bad-peer/7a-7i-fake-primary.pcap: reject 8 for relationship "wrong-name".
    const CONNECTACK_REJECT: &str = "005f060c6b0322d4000010010016000a77726f6e672d6e616d65001c000c6973632d342e342e332d50310014000101001a000100001500010800100022756e6b6e6f776e206661696c6f7665722072656c6174696f6e73686970206e616d65";
    const STATE_RECOVER_STARTUP: &str =
        "001e0a0c6b031f500000000000180001060017000101001900046b031f50";
    // 01: BNDUPD FREE answering UPDREQALL, and BNDUPD BACKUP from pool balancing (frame 36).
    const BNDUPD_FREE: &str = "0031030c6b031f500000000400020004c00002640003000101000d00040000000000120004000000000019000400000000";
    const BNDUPD_BACKUP: &str = "0031030c6b031f500000006b00020004c00002640003000107000d000400000000001200046b031f50001900046b031f50";
    // 02-client-leases.pcap: ACTIVE (udhcpc, with client-identifier), RELEASED, EXPIRED.
    const BNDUPD_ACTIVE: &str = "004f030c6b03200b000000af00020004c00002960003000102000400070156f8217dba54000500070156f8217dba54000d00046b032029001200046b032272001900046b03200b000600046b03200b";
    const BNDUPD_RELEASED: &str = "0044030c6b031ff10000007b00020004c00002950003000104000500070156f8217dba54000d00046b031ff1001200046b031ff1001900046b031fe2000600046b031fe2";
    const BNDUPD_EXPIRED: &str = "003c030c6b031fcb000000a800020004c00002950003000103000500070156f8217dba54000d00046b031fcb001200046b031f50001900046b031fad";
    const BNDACK_REJECT_16: &str = "0052040c6b031f500000000400020004c0000264001500011000100035696e636f6d696e6720757064617465206973206c65737320637269746963616c207468616e206f7574676f696e6720757064617465";
    const DISCONNECT_8: &str = "00500c0c6b0322390000000100150001080010003b72656d6f7465206661696c6f7665722072656c6174696f6e73686970206e616d652077726f6e672d6e616d6520646f6573206e6f74206d61746368";

    const MAC: [u8; 6] = [0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54];

    fn cfg(role: Role) -> RelationshipConfig {
        let mode = Mode::LoadBalance {
            split: (role == Role::Primary).then_some(128),
            hba: None,
            max_secs: 3,
        };
        RelationshipConfig {
            receive_timer_s: Some(30),
            ..RelationshipConfig::for_tests(role, mode)
        }
    }

    fn microsoft(c: RelationshipConfig) -> RelationshipConfig {
        RelationshipConfig {
            dialect: DialectName::Microsoft,
            ..c
        }
    }

    fn secs(s: u32) -> Time {
        Time::from_secs(u64::from(s))
    }

    fn active_binding() -> Binding {
        let mut b = Binding::new(Ipv4Addr::new(192, 0, 2, 150), BindingState::Active);
        b.client_id = Some([&[1u8][..], &MAC].concat());
        b.hw = Some(HwAddr {
            htype: 1,
            addr: MAC.to_vec(),
        });
        b.expires_at = secs(0x6b03_2029);
        b.state_since = secs(0x6b03_200b);
        b.cltt = secs(0x6b03_200b);
        b
    }

    fn without_connect_option(c: u16) -> Message {
        let mut m = parse(CONNECT);
        m.options.retain(|o| o.code() != c);
        m
    }

    // ---- CONNECT / CONNECTACK ----

    #[test]
    fn connect_reproduces_isc_bytes_with_split_128() {
        let c = cfg(Role::Primary);
        let m = connect(&c, T, 0, ISC, 30, 30, c.primary_buckets());
        assert_eq!(m.to_bytes(), hex(CONNECT));
    }

    #[test]
    fn microsoft_connect_leaves_out_tls_request() {
        let c = microsoft(cfg(Role::Primary));
        let m = connect(&c, T, 0, ISC, 30, 30, c.primary_buckets());
        assert!(m.option(code::TLS_REQUEST).is_none());
        assert!(m.option(code::HASH_BUCKET_ASSIGNMENT).is_some());
    }

    #[test]
    fn hot_standby_connect_says_the_primary_serves_every_bucket_in_either_polarity() {
        let isc = RelationshipConfig {
            mode: Mode::HotStandby,
            ..cfg(Role::Primary)
        };
        let m = connect(&isc, T, 0, ISC, 30, 30, isc.primary_buckets());
        assert_eq!(
            m.option(code::HASH_BUCKET_ASSIGNMENT),
            Some(&FoOption::HashBucketAssignment(vec![0xff; 32])),
            "ISC polarity: ISC's split 256"
        );
        let d12 = RelationshipConfig {
            set_bucket_serves: BucketOwner::Secondary,
            ..isc.clone()
        };
        let m = connect(&d12, T, 0, ISC, 30, 30, None);
        assert_eq!(
            m.option(code::HASH_BUCKET_ASSIGNMENT),
            Some(&FoOption::HashBucketAssignment(vec![0; 32])),
            "draft-12 polarity: the all-zero \"none\""
        );
        // And the secondary reads both back as hot standby.
        let back = check_connect(&m, &cfg_secondary(BucketOwner::Secondary), T, false).unwrap();
        assert_eq!(back.hba, None);
    }

    fn cfg_secondary(owner: BucketOwner) -> RelationshipConfig {
        RelationshipConfig {
            set_bucket_serves: owner,
            ..cfg(Role::Secondary)
        }
    }

    #[test]
    fn secondary_accepts_the_real_isc_connect() {
        let p = check_connect(&parse(CONNECT), &cfg(Role::Secondary), T, false).unwrap();
        assert_eq!(
            p,
            ConnectParams {
                mclt_s: 30,
                max_unacked: 10,
                receive_timer_s: 30,
                hba: Some(HashBuckets::split(128)),
                vendor: ISC.to_vec(),
                tls_requested: true,
            }
        );
        // A draft-12-polarity secondary reads the same bitmap as the other half.
        let d12 = check_connect(
            &parse(CONNECT),
            &cfg_secondary(BucketOwner::Secondary),
            T,
            false,
        )
        .unwrap();
        assert_eq!(d12.hba, Some(HashBuckets::split(128).inverted()));
    }

    #[test]
    fn connect_rejects_follow_isc_order() {
        let sec = cfg(Role::Secondary);
        let mut wrong_name = parse(CONNECT);
        wrong_name.options[0] = FoOption::RelationshipName(b"wrong-name".to_vec());
        assert_eq!(
            check_connect(&wrong_name, &sec, T, false),
            Err(RejectReason::INVALID_PARTNER)
        );
        assert_eq!(
            check_connect(
                &without_connect_option(code::RELATIONSHIP_NAME),
                &sec,
                T,
                false
            ),
            Err(RejectReason::INVALID_PARTNER)
        );
        assert_eq!(
            check_connect(&parse(CONNECT), &sec, T + 120, false),
            Err(RejectReason::TIME_MISMATCH)
        );
        assert_eq!(
            check_connect(&parse(CONNECT), &sec, T - 120, false),
            Err(RejectReason::TIME_MISMATCH)
        );
        assert!(check_connect(&parse(CONNECT), &sec, T + 60, false).is_ok());
        assert_eq!(
            check_connect(
                &without_connect_option(code::HASH_BUCKET_ASSIGNMENT),
                &sec,
                T,
                false
            ),
            Err(RejectReason::HBA_CONFLICT)
        );
        let mut short_hba = parse(CONNECT);
        *short_hba.options.last_mut().unwrap() = FoOption::HashBucketAssignment(vec![0xff; 31]);
        assert_eq!(
            check_connect(&short_hba, &sec, T, false),
            Err(RejectReason::HBA_CONFLICT)
        );
        assert_eq!(
            check_connect(&parse(CONNECT), &sec, T, true),
            Err(RejectReason::DUPLICATE_CONNECTION)
        );
        assert_eq!(
            check_connect(&without_connect_option(code::MCLT), &sec, T, false),
            Err(RejectReason::INVALID_MCLT)
        );
        // Skew is checked before the HBA, the HBA before a duplicate link, as ISC does.
        assert_eq!(
            check_connect(
                &without_connect_option(code::HASH_BUCKET_ASSIGNMENT),
                &sec,
                T + 120,
                true
            ),
            Err(RejectReason::TIME_MISMATCH)
        );
    }

    #[test]
    fn missing_window_and_timer_take_sane_defaults_not_zero() {
        let mut m = without_connect_option(code::MAX_UNACKED_BNDUPD);
        m.options.retain(|o| o.code() != code::RECEIVE_TIMER);
        let p = check_connect(&m, &cfg(Role::Secondary), T, false).unwrap();
        assert_eq!(p.max_unacked, DEFAULT_PARTNER_MAX_UNACKED);
        assert_eq!(p.receive_timer_s, DEFAULT_PARTNER_RECEIVE_TIMER_S);
        let mut zero = parse(CONNECTACK);
        zero.options[1] = FoOption::MaxUnackedBndupd(0);
        zero.options[2] = FoOption::ReceiveTimer(0);
        let a = check_connect_ack(&zero, &cfg(Role::Primary), T).unwrap();
        assert_eq!(a.max_unacked, DEFAULT_PARTNER_MAX_UNACKED);
        assert_eq!(a.receive_timer_s, DEFAULT_PARTNER_RECEIVE_TIMER_S);
    }

    #[test]
    fn connect_ack_reproduces_isc_bytes() {
        let m = connect_ack(&cfg(Role::Secondary), T, 0, ISC, 30, 10, true);
        assert_eq!(m.to_bytes(), hex(CONNECTACK));
        let no_tls = connect_ack(&cfg(Role::Secondary), T, 0, ISC, 30, 10, false);
        assert!(no_tls.option(code::TLS_REPLY).is_none());
    }

    #[test]
    fn connect_reject_follows_the_draft_without_window_or_timer() {
        let m = connect_reject(
            b"wrong-name",
            0x6b03_22d4,
            0x1001,
            RejectReason::INVALID_PARTNER,
            "unknown failover relationship name",
            ISC,
            true,
        );
        // ISC's own reject has the same options in the same order; ISC adds nothing else here
        // because the relationship was unknown to it.
        assert_eq!(m.to_bytes(), hex(CONNECTACK_REJECT));
        let known = connect_reject(
            b"fo-test",
            T,
            0,
            RejectReason::DUPLICATE_CONNECTION,
            "",
            ISC,
            false,
        );
        let codes: Vec<u16> = known.options.iter().map(FoOption::code).collect();
        assert_eq!(
            codes,
            [
                code::RELATIONSHIP_NAME,
                code::VENDOR_CLASS_IDENTIFIER,
                code::PROTOCOL_VERSION,
                code::REJECT_REASON
            ]
        );
    }

    #[test]
    fn primary_checks_the_connectack() {
        let pri = cfg(Role::Primary);
        assert_eq!(
            check_connect_ack(&parse(CONNECTACK), &pri, T),
            Ok(AckParams {
                max_unacked: 10,
                receive_timer_s: 30,
                vendor: ISC.to_vec()
            })
        );
        assert_eq!(
            check_connect_ack(&parse(CONNECTACK_REJECT), &pri, 0x6b03_22d4),
            Err(RejectReason::INVALID_PARTNER),
            "the secondary's refusal comes back as its reason"
        );
        let mut wrong = parse(CONNECTACK);
        wrong.options[0] = FoOption::RelationshipName(b"wrong-name".to_vec());
        assert_eq!(
            check_connect_ack(&wrong, &pri, T),
            Err(RejectReason::INVALID_PARTNER)
        );
        wrong.options.remove(0);
        assert_eq!(
            check_connect_ack(&wrong, &pri, T),
            Err(RejectReason::INVALID_PARTNER)
        );
        assert_eq!(
            check_connect_ack(&parse(CONNECTACK), &pri, T + 61),
            Err(RejectReason::TIME_MISMATCH)
        );
        let mut refused_for_time = parse(CONNECTACK);
        refused_for_time
            .options
            .push(FoOption::RejectReason(RejectReason::TIME_MISMATCH));
        assert_eq!(
            check_connect_ack(&refused_for_time, &pri, T),
            Err(RejectReason::TIME_MISMATCH)
        );
    }

    // ---- small messages ----

    #[test]
    fn state_reproduces_isc_recover_with_startup_flag() {
        let m = state(T, 0, ServerState::Recover, true, T);
        assert_eq!(m.to_bytes(), hex(STATE_RECOVER_STARTUP));
        let normal = state(T, 1, ServerState::Normal, false, T);
        assert_eq!(normal.server_flags(), Some(0));
    }

    #[test]
    fn disconnect_reproduces_isc_bytes() {
        let m = disconnect(
            0x6b03_2239,
            1,
            RejectReason::INVALID_PARTNER,
            "remote failover relationship name wrong-name does not match",
        );
        assert_eq!(m.to_bytes(), hex(DISCONNECT_8));
        assert_eq!(
            disconnect(T, 1, RejectReason::NO_TRAFFIC, "").options,
            vec![FoOption::RejectReason(RejectReason::NO_TRAFFIC)]
        );
    }

    #[test]
    fn header_only_messages_are_twelve_bytes() {
        assert_eq!(upddone(T, 4).to_bytes(), hex("000c080c6b031f5000000004"));
        assert_eq!(updreqall(T, 3).to_bytes(), hex("000c070c6b031f5000000003"));
        assert_eq!(
            contact(0x6b03_1f5a, 0x9d).to_bytes(),
            hex("000c0b0c6b031f5a0000009d")
        );
        assert_eq!(updreq(T, 1).msg_type.to_wire(), 9);
        assert_eq!(poolreq(T, 1).buffer_len(), 12);
        assert_eq!(
            poolresp(T, 1, 50).options,
            vec![FoOption::AddressesTransferred(50)]
        );
    }

    // ---- BNDUPD ----

    fn one(b: &Binding, pet: Time) -> Message {
        bndupd(
            0,
            0,
            &[(b, pet, Ipv4Addr::new(255, 255, 255, 0))],
            Dialect::Isc,
        )
    }

    #[test]
    fn bndupd_active_reproduces_isc_layout() {
        let mut m = one(&active_binding(), secs(0x6b03_2272));
        m.time = 0x6b03_200b;
        m.xid = 0xaf;
        assert_eq!(m.to_bytes(), hex(BNDUPD_ACTIVE));
    }

    #[test]
    fn bndupd_free_and_backup_carry_isc_times_in_the_isc_dialect() {
        let free = Binding::new(Ipv4Addr::new(192, 0, 2, 100), BindingState::Free);
        let mut m = one(&free, Time::EPOCH);
        (m.time, m.xid) = (T, 4);
        assert_eq!(m.to_bytes(), hex(BNDUPD_FREE));

        let mut backup = Binding::new(Ipv4Addr::new(192, 0, 2, 100), BindingState::Backup);
        backup.state_since = secs(T);
        let mut m = one(&backup, secs(T));
        (m.time, m.xid) = (T, 0x6b);
        assert_eq!(m.to_bytes(), hex(BNDUPD_BACKUP));
    }

    #[test]
    fn isc_abandoned_carries_no_client_and_reserved_sets_r() {
        let mut b = active_binding();
        b.state = BindingState::Abandoned;
        let m = one(&b, Time::EPOCH);
        assert!(m.option(code::CLIENT_IDENTIFIER).is_none());
        assert!(m.option(code::CLIENT_HARDWARE_ADDRESS).is_none());
        let mut r = Binding::new(Ipv4Addr::new(192, 0, 2, 7), BindingState::Backup);
        r.reserved = true;
        let m = one(&r, Time::EPOCH);
        assert_eq!(
            m.options.last(),
            Some(&FoOption::IpFlags(IpFlags::Isc(IpFlags::ISC_RESERVED)))
        );
    }

    #[test]
    fn decode_reads_the_real_isc_bndupds() {
        let mac = HwAddr {
            htype: 1,
            addr: MAC.to_vec(),
        };
        let got = |h: &str| {
            let mut v = decode_bindings(&parse(h), Dialect::Isc);
            assert_eq!(v.len(), 1);
            v.pop().unwrap().unwrap()
        };
        let a = got(BNDUPD_ACTIVE);
        assert_eq!(
            a,
            Incoming {
                address: Ipv4Addr::new(192, 0, 2, 150),
                state: BindingState::Active,
                client_id: Some([&[1u8][..], &MAC].concat()),
                hw: Some(mac.clone()),
                expires_at: Some(secs(0x6b03_2029)),
                pet: Some(secs(0x6b03_2272)),
                state_since: Some(secs(0x6b03_200b)),
                cltt: Some(secs(0x6b03_200b)),
                ip_flags: 0,
                subnet_mask: None,
            }
        );
        let e = got(BNDUPD_EXPIRED);
        assert_eq!(
            (e.state, e.cltt, e.hw),
            (BindingState::Expired, None, Some(mac.clone()))
        );
        let r = got(BNDUPD_RELEASED);
        assert_eq!(
            (r.state, r.cltt),
            (BindingState::Released, Some(secs(0x6b03_1fe2)))
        );
        let f = got(BNDUPD_FREE);
        assert_eq!(
            (f.state, f.address, f.expires_at, f.hw),
            (
                BindingState::Free,
                Ipv4Addr::new(192, 0, 2, 100),
                Some(Time::EPOCH),
                None
            )
        );
        let b = got(BNDUPD_BACKUP);
        assert_eq!((b.state, b.pet), (BindingState::Backup, Some(secs(T))));
    }

    #[test]
    fn missing_or_unknown_binding_information_is_reject_3() {
        let addr = Ipv4Addr::new(192, 0, 2, 150);
        let mut no_status = parse(BNDUPD_ACTIVE);
        no_status
            .options
            .retain(|o| o.code() != code::BINDING_STATUS);
        assert_eq!(
            decode_bindings(&no_status, Dialect::Isc),
            vec![Err((addr, RejectReason::MISSING_BINDING_INFORMATION))]
        );
        for bad in [0u8, 8, 254] {
            let mut m = parse(BNDUPD_ACTIVE);
            m.options[1] = FoOption::BindingStatus(BindingStatus(bad));
            assert_eq!(
                decode_bindings(&m, Dialect::Isc),
                vec![Err((addr, RejectReason::MISSING_BINDING_INFORMATION))],
                "status {bad}"
            );
        }
        let mut no_hw = parse(BNDUPD_RELEASED);
        no_hw
            .options
            .retain(|o| o.code() != code::CLIENT_HARDWARE_ADDRESS);
        assert_eq!(
            decode_bindings(&no_hw, Dialect::Isc)[0],
            Err((
                Ipv4Addr::new(192, 0, 2, 149),
                RejectReason::MISSING_BINDING_INFORMATION
            ))
        );
        let mut no_end = parse(BNDUPD_ACTIVE);
        no_end
            .options
            .retain(|o| o.code() != code::LEASE_EXPIRATION_TIME);
        assert_eq!(
            decode_bindings(&no_end, Dialect::Isc),
            vec![Err((addr, RejectReason::MISSING_BINDING_INFORMATION))]
        );
        let mut long_hw = parse(BNDUPD_ACTIVE);
        long_hw.options[3] = FoOption::ClientHardwareAddress(HardwareAddress {
            htype: 1,
            addr: vec![0; 17],
        });
        assert_eq!(
            decode_bindings(&long_hw, Dialect::Isc),
            vec![Err((addr, RejectReason::UNKNOWN))]
        );
        // Options before the first address belong to no transaction; no address, no result.
        assert!(decode_bindings(&contact(T, 1), Dialect::Isc).is_empty());
    }

    fn every_state_binding(state: BindingState, i: u8) -> Binding {
        let mut b = active_binding();
        b.address = Ipv4Addr::new(10, 0, 0, i);
        b.state = state;
        b
    }

    fn ms_round_trip(bindings: &[Binding]) -> Vec<Result<Incoming, (Ipv4Addr, RejectReason)>> {
        let mut m = Message::new(MessageType::BndUpd, T, 9);
        for b in bindings {
            push_binding(
                &mut m.options,
                b,
                secs(0x6b03_2272),
                Dialect::Microsoft,
                Ipv4Addr::new(255, 255, 255, 0),
            );
        }
        let back = Message::parse(&m.to_bytes(), Dialect::Microsoft).unwrap();
        decode_bindings(&back, Dialect::Microsoft)
    }

    #[test]
    fn microsoft_round_trip_keeps_every_state_the_encoding_can_name() {
        for (i, state) in BindingState::ALL.into_iter().enumerate() {
            let b = every_state_binding(state, i as u8);
            let got = ms_round_trip(std::slice::from_ref(&b));
            let inc = got[0].clone().unwrap();
            // MS-DHCPF §3.1.4.2 has no RESET or ABANDONED: they read back as FREE and EXPIRED
            // (dialect::ms_encode).
            let expected = match state {
                BindingState::Reset => BindingState::Free,
                BindingState::Abandoned => BindingState::Expired,
                s => s,
            };
            assert_eq!(inc.state, expected, "{state:?}");
            assert_eq!(inc.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
            let redistributed = matches!(
                state,
                BindingState::Free | BindingState::Reset | BindingState::Backup
            );
            // FREE/BACKUP MUST NOT carry the client (MS-DHCPF §3.1.5.2).
            assert_eq!(inc.hw.is_none(), redistributed, "{state:?}");
            assert_eq!(inc.cltt.is_none(), redistributed, "{state:?}");
        }
    }

    #[test]
    fn microsoft_active_without_hardware_address_is_not_read_as_free() {
        let mut b = every_state_binding(BindingState::Active, 1);
        b.hw = None;
        let got = ms_round_trip(&[b]);
        assert_eq!(got[0].as_ref().unwrap().state, BindingState::Active);
    }

    #[test]
    fn microsoft_missing_mandatory_options_are_reject_3_unless_deleted_comm_down() {
        let b = every_state_binding(BindingState::Active, 1);
        let mut options = Vec::new();
        push_binding(
            &mut options,
            &b,
            Time::EPOCH,
            Dialect::Microsoft,
            Ipv4Addr::new(255, 255, 255, 0),
        );
        options.retain(|o| o.code() != code::CLIENT_SUBNET_MASK);
        let mut m = Message::new(MessageType::BndUpd, T, 1);
        m.options = options.clone();
        assert_eq!(
            decode_bindings(&m, Dialect::Microsoft),
            vec![Err((b.address, RejectReason::MISSING_BINDING_INFORMATION))]
        );
        for o in &mut m.options {
            if let FoOption::IpFlags(f) = o {
                *f = IpFlags::Microsoft(IpFlags::MS_DELETED_COMM_DOWN);
            }
        }
        assert!(decode_bindings(&m, Dialect::Microsoft)[0].is_ok());
    }

    #[test]
    fn microsoft_batch_of_17_decodes_as_16() {
        let bindings: Vec<Binding> = (0..17)
            .map(|i| every_state_binding(BindingState::Active, i))
            .collect();
        let got = ms_round_trip(&bindings);
        assert_eq!(got.len(), 16);
        assert!(got.iter().all(Result::is_ok));
        assert_eq!(
            got[15].as_ref().unwrap().address,
            Ipv4Addr::new(10, 0, 0, 15)
        );
    }

    #[test]
    fn batches_stop_at_the_dialect_limit_and_the_message_size() {
        let mask = Ipv4Addr::new(255, 255, 255, 0);
        let small: Vec<Binding> = (0..20)
            .map(|i| every_state_binding(BindingState::Active, i))
            .collect();
        let refs: Vec<(&Binding, Time, Ipv4Addr)> =
            small.iter().map(|b| (b, b.expires_at, mask)).collect();
        assert_eq!(max_batch(&refs, Dialect::Isc), 1);
        assert_eq!(max_batch(&refs, Dialect::Microsoft), 16);
        let m = bndupd(T, 1, &refs[..16], Dialect::Microsoft);
        assert_eq!(m.bindings().count(), 16);
        assert!(encode(&m, Some(b"k")).len() <= MAX_MESSAGE_LEN);

        // 255-byte client identifiers: fewer fit in 2 048 bytes.
        let big: Vec<Binding> = small
            .iter()
            .map(|b| Binding {
                client_id: Some(vec![7; 255]),
                ..b.clone()
            })
            .collect();
        let refs: Vec<(&Binding, Time, Ipv4Addr)> =
            big.iter().map(|b| (b, b.expires_at, mask)).collect();
        let n = max_batch(&refs, Dialect::Microsoft);
        assert!((1..16).contains(&n), "{n}");
        let m = bndupd(T, 1, &refs[..n], Dialect::Microsoft);
        assert!(encode(&m, Some(b"k")).len() <= MAX_MESSAGE_LEN);
        assert!(max_batch(&[], Dialect::Microsoft) == 0);
    }

    // ---- BNDACK ----

    #[test]
    fn bndack_reproduces_isc_accept_and_reject() {
        let a = Ipv4Addr::new(192, 0, 2, 100);
        assert_eq!(
            bndack(T, 5, &[(a, None)]).to_bytes(),
            hex("0014040c6b031f500000000500020004c0000264")
        );
        let reject = bndack(
            T,
            4,
            &[(
                a,
                Some((
                    RejectReason::LESS_CRITICAL_BINDING,
                    "incoming update is less critical than outgoing update",
                )),
            )],
        );
        assert_eq!(reject.to_bytes(), hex(BNDACK_REJECT_16));
        assert_eq!(
            decode_bndack(&parse(BNDACK_REJECT_16)),
            vec![(a, Some(RejectReason::LESS_CRITICAL_BINDING))]
        );
    }

    #[test]
    fn batched_bndack_keeps_the_order_and_each_verdict() {
        let addrs: Vec<Ipv4Addr> = (1..=3).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect();
        let results = [
            (addrs[0], None),
            (
                addrs[1],
                Some((RejectReason::ILLEGAL_IP_ADDRESS, "unknown IP address")),
            ),
            (addrs[2], Some((RejectReason::FATAL_CONFLICT, ""))),
        ];
        let m = bndack(T, 7, &results);
        let back = Message::parse(&m.to_bytes(), Dialect::Microsoft).unwrap();
        assert_eq!(
            decode_bndack(&back),
            vec![
                (addrs[0], None),
                (addrs[1], Some(RejectReason::ILLEGAL_IP_ADDRESS)),
                (addrs[2], Some(RejectReason::FATAL_CONFLICT)),
            ]
        );
    }

    // ---- signing ----

    #[test]
    fn signed_messages_verify_with_their_secret_only() {
        let m = state(T, 3, ServerState::Normal, false, T);
        let bytes = encode(&m, Some(b"s3cret"));
        assert_eq!(digest::verify(&bytes, b"s3cret"), Ok(()));
        assert_eq!(digest::verify(&bytes, b"other"), Err(DigestError::Mismatch));
        assert_eq!(verify(&bytes, Some(b"s3cret")), Ok(()));
        assert_eq!(
            verify(&bytes, Some(b"other")),
            Err(RejectReason::DIGEST_MISMATCH)
        );
        // The digest is the first option, the rest as built.
        let back = Message::parse(&bytes, Dialect::Isc).unwrap();
        assert_eq!(back.options[0].code(), code::MESSAGE_DIGEST);
        assert_eq!(&back.options[1..], &m.options[..]);
        // Re-signing a signed message replaces its digest rather than adding one.
        let again = encode(&back, Some(b"s3cret"));
        assert_eq!(again, bytes);
    }

    #[test]
    fn unsigned_and_unexpected_digests_are_told_apart() {
        let plain = encode(&contact(T, 1), None);
        assert_eq!(plain, contact(T, 1).to_bytes());
        assert_eq!(verify(&plain, None), Ok(()));
        assert_eq!(
            verify(&plain, Some(b"k")),
            Err(RejectReason::MISSING_DIGEST)
        );
        let signed = encode(&contact(T, 1), Some(b"k"));
        assert_eq!(
            verify(&signed, None),
            Err(RejectReason::DIGEST_NOT_CONFIGURED)
        );
        let md5 = contact(T, 1)
            .with(FoOption::MessageDigest {
                kind: 1,
                digest: vec![0; 16],
            })
            .to_bytes();
        assert_eq!(
            verify(&md5, Some(b"k")),
            Err(RejectReason::DIGEST_NOT_SUPPORTED)
        );
    }

    // ---- hostile input ----

    proptest! {
        #[test]
        fn readers_never_panic_on_any_message(mut bytes in proptest::collection::vec(any::<u8>(), 12..400)) {
            let len = bytes.len() as u16;
            bytes[..2].copy_from_slice(&len.to_be_bytes());
            bytes[3] = 12;
            let _ = verify(&bytes, None);
            let _ = verify(&bytes, Some(b"k"));
            for dialect in [Dialect::Isc, Dialect::Microsoft] {
                if let Ok(m) = Message::parse(&bytes, dialect) {
                    let _ = decode_bindings(&m, dialect);
                    let _ = decode_bndack(&m);
                    let _ = check_connect(&m, &cfg(Role::Secondary), m.time, false);
                    let _ = check_connect_ack(&m, &cfg(Role::Primary), 0);
                }
            }
        }

        #[test]
        fn readers_never_panic_on_shuffled_real_options(
            picks in proptest::collection::vec(any::<prop::sample::Index>(), 0..40),
            now in any::<u32>(),
        ) {
            let pool: Vec<FoOption> = [CONNECT, CONNECTACK_REJECT, BNDUPD_ACTIVE, BNDUPD_RELEASED, BNDACK_REJECT_16]
                .iter()
                .flat_map(|h| parse(h).options)
                .collect();
            let mut m = Message::new(MessageType::BndUpd, now, 1);
            m.options = picks.iter().map(|i| i.get(&pool).clone()).collect();
            for dialect in [Dialect::Isc, Dialect::Microsoft] {
                prop_assert!(decode_bindings(&m, dialect).len() <= m.bindings().count());
            }
            let _ = decode_bndack(&m);
            let _ = check_connect(&m, &cfg(Role::Secondary), now, false);
            let _ = check_connect_ack(&m, &cfg(Role::Primary), now);
        }
    }
}
