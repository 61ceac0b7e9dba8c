//! What the engine writes to stable storage, and how: one record per change.
//!
//! Storage is an append-only log of opaque records (see `crate::storage`); this module gives
//! them meaning. A record is a tag byte, then its fields, big-endian:
//!
//! ```text
//! tag 1 (binding, v1): address[4] state(draft-12 value) flags(bit0 reserved, bit1 client-id,
//!                      bit2 hw, bit3 unacked, bit4 early PET) expires_at state_since cltt
//!                      sent_pet acked_pet received_pet [received_pet_early] (u64 ms each)
//!                      [client-id: len u16, bytes] [hw: htype, len u8, bytes]
//! ```
//!
//! `received_pet_early` is there only when bit 4 says so (it is not the epoch), so records
//! written before it existed read as before: with no early PET, which lets nothing.
//!
//! A record the engine cannot read (an unknown tag, a short field) is an error at load: the
//! storage layer has already checked its CRC, so such a record means another program or a newer
//! format wrote the log, and refusing to start is the safe answer.

use std::fmt;

use super::binding::{Binding, BindingState, HwAddr};
use crate::time::Time;
use crate::wire::Reader;

/// One durable change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Record {
    /// The whole new binding of one address.
    Binding(Binding),
    /// A failover relationship's state (draft-12 §9: every transition records the new state
    /// and its start time in stable storage).
    Failover(FailoverRecord),
}

/// What a relationship keeps across restarts.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FailoverRecord {
    /// The relationship's name.
    pub name: String,
    /// Its state, as the draft-12 server-state value (RECOVER-WAIT = 254).
    pub state: u8,
    /// When it entered that state.
    pub state_since: Time,
    /// The partner's last known state (0 if never heard).
    pub partner_state: u8,
    /// When the partner entered it.
    pub partner_since: Time,
    /// The MCLT in force (a secondary learns it from CONNECT and must keep it, draft-12 §5.2).
    pub mclt_s: u32,
    /// The last time this server was known to be operating in this relationship.
    pub operating_at: Time,
    /// The server lost its storage and has not finished recovering (it has not reached NORMAL
    /// since): a restart must still ask for every binding and wait out every lease its lost
    /// life may have granted (draft-12 §9.3.1, §9.5.2). Encoded as one trailing byte, only
    /// when set, so records written without it read as before.
    pub storage_lost: bool,
}

const TAG_BINDING: u8 = 1;
const TAG_FAILOVER: u8 = 2;
const FLAG_RESERVED: u8 = 0x01;
const FLAG_CLIENT_ID: u8 = 0x02;
const FLAG_HW: u8 = 0x04;
const FLAG_UNACKED: u8 = 0x08;
const FLAG_EARLY_PET: u8 = 0x10;

/// A record that does not decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError(pub String);

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RecordError {}

impl Record {
    /// Append the encoded record to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Record::Binding(b) => encode_binding(b, out),
            Record::Failover(f) => {
                out.push(TAG_FAILOVER);
                let name = &f.name.as_bytes()[..f.name.len().min(255)];
                out.push(name.len() as u8);
                out.extend_from_slice(name);
                out.push(f.state);
                out.extend_from_slice(&f.state_since.as_millis().to_be_bytes());
                out.push(f.partner_state);
                out.extend_from_slice(&f.partner_since.as_millis().to_be_bytes());
                out.extend_from_slice(&f.mclt_s.to_be_bytes());
                out.extend_from_slice(&f.operating_at.as_millis().to_be_bytes());
                if f.storage_lost {
                    out.push(1);
                }
            }
        }
    }

    /// The encoded record of one binding, without building a [`Record`] (no copy of it).
    pub fn binding_bytes(b: &Binding) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        encode_binding(b, &mut out);
        out
    }

    /// The encoded record.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode(&mut out);
        out
    }

    /// Decode one record.
    pub fn decode(bytes: &[u8]) -> Result<Record, RecordError> {
        let short = || RecordError(format!("record of {} bytes is cut short", bytes.len()));
        let mut r = Reader::new(bytes);
        match r.u8().ok_or_else(short)? {
            TAG_BINDING => {
                let address = r.ipv4().ok_or_else(short)?;
                let state_byte = r.u8().ok_or_else(short)?;
                let state = BindingState::from_d12(state_byte).ok_or_else(|| {
                    RecordError(format!(
                        "binding of {address} has unknown state {state_byte}"
                    ))
                })?;
                let flags = r.u8().ok_or_else(short)?;
                let mut time = || {
                    r.array::<8>()
                        .map(|b| Time::from_millis(u64::from_be_bytes(b)))
                        .ok_or_else(short)
                };
                let (expires_at, state_since, cltt) = (time()?, time()?, time()?);
                let (sent_pet, acked_pet, received_pet) = (time()?, time()?, time()?);
                let received_pet_early = if flags & FLAG_EARLY_PET != 0 {
                    time()?
                } else {
                    Time::EPOCH
                };
                let bytes_u8 = |r: &mut Reader<'_>| -> Result<Vec<u8>, RecordError> {
                    let n = r.u8().ok_or_else(short)?;
                    Ok(r.take(usize::from(n)).ok_or_else(short)?.to_vec())
                };
                let client_id = if flags & FLAG_CLIENT_ID != 0 {
                    let n = r.u16().ok_or_else(short)?;
                    Some(r.take(usize::from(n)).ok_or_else(short)?.to_vec())
                } else {
                    None
                };
                let hw = if flags & FLAG_HW != 0 {
                    let htype = r.u8().ok_or_else(short)?;
                    Some(HwAddr {
                        htype,
                        addr: bytes_u8(&mut r)?,
                    })
                } else {
                    None
                };
                if !r.is_empty() {
                    return Err(RecordError(format!(
                        "binding of {address} has {} unexpected trailing bytes",
                        r.remaining()
                    )));
                }
                Ok(Record::Binding(Binding {
                    address,
                    state,
                    reserved: flags & FLAG_RESERVED != 0,
                    unacked: flags & FLAG_UNACKED != 0,
                    client_id,
                    hw,
                    expires_at,
                    state_since,
                    cltt,
                    sent_pet,
                    acked_pet,
                    received_pet,
                    received_pet_early,
                }))
            }
            TAG_FAILOVER => {
                let n = r.u8().ok_or_else(short)?;
                let name = r.take(usize::from(n)).ok_or_else(short)?;
                let name = String::from_utf8(name.to_vec())
                    .map_err(|_| RecordError("failover record name is not UTF-8".into()))?;
                let state = r.u8().ok_or_else(short)?;
                let state_since = r
                    .array::<8>()
                    .map(|b| Time::from_millis(u64::from_be_bytes(b)))
                    .ok_or_else(short)?;
                let partner_state = r.u8().ok_or_else(short)?;
                let partner_since = r
                    .array::<8>()
                    .map(|b| Time::from_millis(u64::from_be_bytes(b)))
                    .ok_or_else(short)?;
                let mclt_s = r.u32().ok_or_else(short)?;
                let operating_at = r
                    .array::<8>()
                    .map(|b| Time::from_millis(u64::from_be_bytes(b)))
                    .ok_or_else(short)?;
                let trailing = r.remaining();
                let storage_lost = match (trailing, r.u8()) {
                    (0, _) => false,
                    (1, Some(1)) => true,
                    _ => {
                        return Err(RecordError(format!(
                            "failover record {name:?} has {trailing} unexpected trailing bytes"
                        )));
                    }
                };
                Ok(Record::Failover(FailoverRecord {
                    name,
                    state,
                    state_since,
                    partner_state,
                    partner_since,
                    mclt_s,
                    operating_at,
                    storage_lost,
                }))
            }
            tag => Err(RecordError(format!("unknown record tag {tag}"))),
        }
    }
}

/// Append the encoded record of one binding to `out` (the layout `Record::decode` reads).
fn encode_binding(b: &Binding, out: &mut Vec<u8>) {
    out.push(TAG_BINDING);
    out.extend_from_slice(&b.address.octets());
    out.push(b.state.to_d12());
    let flag = |on: bool, bit: u8| if on { bit } else { 0 };
    let flags = flag(b.reserved, FLAG_RESERVED)
        | flag(b.client_id.is_some(), FLAG_CLIENT_ID)
        | flag(b.hw.is_some(), FLAG_HW)
        | flag(b.unacked, FLAG_UNACKED)
        | flag(b.received_pet_early != Time::EPOCH, FLAG_EARLY_PET);
    out.push(flags);
    for t in [
        b.expires_at,
        b.state_since,
        b.cltt,
        b.sent_pet,
        b.acked_pet,
        b.received_pet,
    ] {
        out.extend_from_slice(&t.as_millis().to_be_bytes());
    }
    if b.received_pet_early != Time::EPOCH {
        out.extend_from_slice(&b.received_pet_early.as_millis().to_be_bytes());
    }
    if let Some(id) = &b.client_id {
        // RFC 3396 concatenation can make option 61 longer than 255 bytes, and the
        // client key uses every byte: a u16 length keeps them all (a DHCP message
        // is far shorter than 64 KiB).
        let id = &id[..id.len().min(usize::from(u16::MAX))];
        out.extend_from_slice(&(id.len() as u16).to_be_bytes());
        out.extend_from_slice(id);
    }
    if let Some(hw) = &b.hw {
        let addr = &hw.addr[..hw.addr.len().min(255)];
        out.push(hw.htype);
        out.push(addr.len() as u8);
        out.extend_from_slice(addr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::Ipv4Addr;

    fn binding() -> impl Strategy<Value = Binding> {
        (
            any::<u32>(),
            0usize..7,
            (any::<bool>(), any::<bool>()),
            proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
            proptest::option::of((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..16))),
            proptest::array::uniform7(any::<u64>()),
        )
            .prop_map(|(a, s, (reserved, unacked), client_id, hw, t)| Binding {
                address: Ipv4Addr::from(a),
                state: BindingState::ALL[s],
                reserved,
                unacked,
                client_id,
                hw: hw.map(|(htype, addr)| HwAddr { htype, addr }),
                expires_at: Time::from_millis(t[0]),
                state_since: Time::from_millis(t[1]),
                cltt: Time::from_millis(t[2]),
                sent_pet: Time::from_millis(t[3]),
                acked_pet: Time::from_millis(t[4]),
                received_pet: Time::from_millis(t[5]),
                received_pet_early: Time::from_millis(if t[6] % 3 == 0 { 0 } else { t[6] }),
            })
    }

    proptest! {
        #[test]
        fn decode_of_encode_is_identity(b in binding()) {
            let r = Record::Binding(b);
            prop_assert_eq!(Record::decode(&r.to_bytes()), Ok(r));
        }

        #[test]
        fn failover_records_round_trip(
            name in "[a-z0-9-]{1,40}", state in any::<u8>(), partner_state in any::<u8>(),
            t in proptest::array::uniform3(any::<u64>()), mclt_s in any::<u32>(),
            storage_lost in any::<bool>(),
        ) {
            let r = Record::Failover(FailoverRecord {
                name, state, state_since: Time::from_millis(t[0]), partner_state,
                partner_since: Time::from_millis(t[1]), mclt_s, operating_at: Time::from_millis(t[2]),
                storage_lost,
            });
            prop_assert_eq!(Record::decode(&r.to_bytes()), Ok(r));
        }

        #[test]
        fn random_and_truncated_records_never_panic(
            b in binding(), cut in any::<prop::sample::Index>(),
            junk in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let bytes = Record::Binding(b).to_bytes();
            let n = cut.index(bytes.len());
            prop_assert!(Record::decode(&bytes[..n]).is_err());
            let _ = Record::decode(&junk);
        }
    }

    #[test]
    fn unknown_tags_and_states_are_errors() {
        assert!(
            Record::decode(&[9])
                .unwrap_err()
                .0
                .contains("unknown record tag 9")
        );
        let mut bytes =
            Record::Binding(Binding::new(Ipv4Addr::new(10, 0, 0, 1), BindingState::Free))
                .to_bytes();
        bytes[5] = 0;
        assert!(
            Record::decode(&bytes)
                .unwrap_err()
                .0
                .contains("unknown state 0")
        );
    }
}
