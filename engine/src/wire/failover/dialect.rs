//! The two dialects of the failover protocol, and every place they differ on the wire.
//!
//! A relationship speaks one dialect, chosen in its configuration:
//!
//! | what | ISC (draft-12 as ISC dhcpd 4.4 speaks it) | Microsoft (MS-DHCPF) |
//! |---|---|---|
//! | payload offset | 12 (draft-12.md §1.3) | read at `max(poff, 12)`; Windows is reported to send 8 (Wireshark's autodetect). We send 12 in both dialects and keep a received 8 |
//! | binding-status (3) | draft-12 §12.3 values 1–7 | bit encoding of MS-DHCPF §3.1.4.2 ([`ms_binding_state`]) |
//! | IP-flags (12) | 2 bytes: R = 0x0001, B = 0x0002 (draft-12.md §3.1) | 1 byte: DELETED 0x1, RELEASED 0x2, DELETED_COMM_DOWN 0x4 (MS-DHCPF §3.1.4.2) |
//! | options 30–41 | unknown, kept raw (ISC skips them; Infoblox uses 30 as a UTF-8 host name) | typed (MS-DHCPF §2.2); 31, 32, 35, 40 are UTF-16LE with a NUL |
//! | bindings per BNDUPD | exactly one: ISC drops the link on a repeated option (draft-12.md §1.4) | up to 16; more are ignored (MS-DHCPF §3.1.4.2, §3.1.5.2) |
//! | BNDACK order | any (draft-12 §6.3) | the BNDUPD's order; another order drops the BNDACK (MS-DHCPF §3.1.5.3) |
//! | DDNS (9) | never sent (ISC disconnects on it) | allowed |
//! | message digest (17) | none: ISC skips option 17 unverified | HMAC-SHA256 on every message when a secret is set (MS-DHCPF §2.2, §5.1; [`super::digest`]) |
//! | who sends CONNECT | the primary, on every connection | each server (MS-DHCPF §3.2.7.1) |
//!
//! Text options that draft-12 defines (relationship-name 22, message 16, vendor-class 28) are
//! bytes in both dialects: MS-DHCPF says "Unicode" only for its own options 31, 32, 35 and 40.
//! Wireshark's "Microsoft style" also reads 22 and 28 as UTF-16LE and option 5 with a 4-byte
//! scope prefix; the seed does not say so, so we do not (revisit with a real Windows capture).
//! The engine-level differences (who connects, which CONNECT values are adopted) belong to the
//! failover engine; this table lists them so the one place that names the dialects names all.

use super::message::HEADER_LEN;
use super::option::{BindingState, IpFlags, code, raw_options};
use crate::wire::Reader;

/// Which dialect of the failover protocol a relationship speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Dialect {
    /// draft-12 as ISC dhcpd 4.4 speaks it.
    #[default]
    Isc,
    /// MS-DHCPF, Microsoft's extensions.
    Microsoft,
}

impl Dialect {
    /// The most bindings one BNDUPD may carry in this dialect.
    pub fn max_bindings_per_update(self) -> usize {
        match self {
            Dialect::Isc => 1,
            Dialect::Microsoft => 16,
        }
    }

    /// Guess the dialect of one framed message, for a reader of foreign captures: ISC if
    /// IP-flags is two bytes (ISC's form, draft-12.md §3.1); otherwise Microsoft if the payload
    /// offset is below 12, if any option code is in 30–41, or if IP-flags is one byte long; ISC
    /// otherwise. A guess can be wrong (Infoblox sends option 30 as a host name from an ISC
    /// peer), so a reader that fails to decode in the guessed dialect should try the other
    /// ([`Dialect::other`]). A relationship never guesses: its dialect is configured.
    pub fn detect(message: &[u8]) -> Dialect {
        Dialect::evidence(message).unwrap_or(Dialect::Isc)
    }

    /// What one framed message says about its dialect, if anything: the marks
    /// [`Dialect::detect`] reads, or `None` for a message that carries none of them (CONTACT,
    /// STATE, a BNDACK without IP-flags: most messages). A reader that sees a whole connection
    /// can let the messages that say something decide for the ones that do not.
    pub fn evidence(message: &[u8]) -> Option<Dialect> {
        let mut r = Reader::new(message);
        let payload_offset = r.take(4).and_then(|h| h.get(3).copied())?;
        let options = message
            .get(usize::from(payload_offset).max(HEADER_LEN)..)
            .unwrap_or(&[]);
        let mut microsoft = usize::from(payload_offset) < HEADER_LEN;
        for (_, c, data) in raw_options(options).map_while(Result::ok) {
            match (c, data.len()) {
                (code::IP_FLAGS, 2) => return Some(Dialect::Isc),
                (code::IP_FLAGS, 1) => microsoft = true,
                (c, _) if code::MICROSOFT.contains(&c) => microsoft = true,
                _ => {}
            }
        }
        microsoft.then_some(Dialect::Microsoft)
    }

    /// The other dialect.
    pub fn other(self) -> Dialect {
        match self {
            Dialect::Isc => Dialect::Microsoft,
            Dialect::Microsoft => Dialect::Isc,
        }
    }
}

/// MS-DHCPF §3.1.4.2 redistribution values of binding-status (sent with IP-flags 0 and no lease
/// record).
#[allow(missing_docs)]
pub mod ms_status {
    pub const FREE: u8 = 0x1;
    pub const BACKUP: u8 = 0x2;
    pub const RECONCILE: u8 = 0x4;
    pub const FREE_UPDATE: u8 = 0x5;
    pub const BACKUP_UPDATE: u8 = 0x6;
    /// Bits 0–1 of a lease record's status: the address state.
    pub const ADDRESS_STATE_MASK: u8 = 0x3;
    pub const OFFERED: u8 = 0x0;
    pub const ACTIVE: u8 = 0x1;
    pub const DECLINED: u8 = 0x2;
    pub const DOOM: u8 = 0x3;
}

/// The draft-12 binding state of a Microsoft binding-status byte (MS-DHCPF §3.1.4.2).
///
/// The section maps FREE/BACKUP only "if there is no lease record"; the wire has no field for
/// that, so we decide it by the client-hardware-address option, which §3.1.5.2 makes MUST for
/// every state with a lease record and MUST NOT for FREE/BACKUP: `has_lease_record` is "the
/// binding carries option 5". So status 0x1 with a hardware address is ACTIVE, without one FREE.
pub fn ms_binding_state(status: u8, ip_flags: u8, has_lease_record: bool) -> BindingState {
    use ms_status::*;
    if !has_lease_record {
        match status {
            FREE | FREE_UPDATE | RECONCILE => return BindingState::Free,
            BACKUP | BACKUP_UPDATE => return BindingState::Backup,
            _ => {}
        }
    }
    if ip_flags & IpFlags::MS_RELEASED != 0 {
        return BindingState::Released;
    }
    match status & ADDRESS_STATE_MASK {
        DOOM | DECLINED => BindingState::Expired,
        _ => BindingState::Active,
    }
}

/// The binding-status byte and IP-flags byte we send for a draft-12 state in the Microsoft
/// dialect (MS-DHCPF §3.1.4.2). States the encoding cannot name map to the nearest reading that
/// [`ms_binding_state`] turns back into a state the receiver treats alike: ABANDONED goes out as
/// DECLINED (read back as EXPIRED, and MS-DHCPF §3.1.5.2 still requires the hardware address),
/// RESET as FREE.
pub fn ms_encode(state: BindingState) -> (u8, u8) {
    use ms_status::*;
    match state {
        BindingState::Free | BindingState::Reset => (FREE, 0),
        BindingState::Backup => (BACKUP, 0),
        BindingState::Active => (ACTIVE, 0),
        BindingState::Expired => (DOOM, 0),
        BindingState::Released => (ACTIVE, IpFlags::MS_RELEASED),
        BindingState::Abandoned => (DECLINED, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redistribution_values_map_to_free_and_backup_without_a_lease_record() {
        for s in [
            ms_status::FREE,
            ms_status::FREE_UPDATE,
            ms_status::RECONCILE,
        ] {
            assert_eq!(ms_binding_state(s, 0, false), BindingState::Free);
        }
        for s in [ms_status::BACKUP, ms_status::BACKUP_UPDATE] {
            assert_eq!(ms_binding_state(s, 0, false), BindingState::Backup);
        }
    }

    #[test]
    fn status_one_is_active_when_a_lease_record_comes_with_it() {
        assert_eq!(ms_binding_state(0x1, 0, true), BindingState::Active);
        assert_eq!(ms_binding_state(0x1, 0, false), BindingState::Free);
    }

    #[test]
    fn released_flag_doom_and_declined_follow_the_section_order() {
        assert_eq!(
            ms_binding_state(0x1, IpFlags::MS_RELEASED, true),
            BindingState::Released
        );
        assert_eq!(ms_binding_state(0x3, 0, true), BindingState::Expired);
        assert_eq!(ms_binding_state(0x2, 0, true), BindingState::Expired);
        // DNS bits (4–7) and DHCID bits (2–3) do not change the address state.
        assert_eq!(
            ms_binding_state(0x1 | 0x20 | 0x08, 0, true),
            BindingState::Active
        );
        assert_eq!(ms_binding_state(0x0, 0, true), BindingState::Active);
    }

    #[test]
    fn encoding_reads_back_as_a_state_the_receiver_treats_alike() {
        for state in BindingState::ALL {
            let (status, flags) = ms_encode(state);
            let record = !matches!(
                state,
                BindingState::Free | BindingState::Backup | BindingState::Reset
            );
            let back = ms_binding_state(status, flags, record);
            let expected = match state {
                BindingState::Reset => BindingState::Free,
                BindingState::Abandoned => BindingState::Expired,
                s => s,
            };
            assert_eq!(back, expected, "{state:?}");
        }
    }

    #[test]
    fn detection_reads_the_payload_offset_and_the_option_codes() {
        let isc = [0, 16, 3, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 3, 0, 0];
        assert_eq!(Dialect::detect(&isc), Dialect::Isc);
        let mut poff8 = isc;
        poff8[3] = 8;
        assert_eq!(Dialect::detect(&poff8), Dialect::Microsoft);
        let ms_option = [0, 17, 3, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 36, 0, 1, 1];
        assert_eq!(Dialect::detect(&ms_option), Dialect::Microsoft);
        let one_byte_flags = [0, 17, 3, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 12, 0, 1, 2];
        assert_eq!(Dialect::detect(&one_byte_flags), Dialect::Microsoft);
        assert_eq!(Dialect::detect(&[]), Dialect::Isc);
        // A message without IP-flags or Microsoft's marks says nothing either way.
        assert_eq!(Dialect::evidence(&isc), None);
        assert_eq!(Dialect::evidence(&ms_option), Some(Dialect::Microsoft));
        assert_eq!(Dialect::evidence(&[]), None);
        // Infoblox's option 30 beside ISC's two-byte IP-flags stays ISC.
        let infoblox = [
            0, 25, 3, 12, 0, 0, 0, 0, 0, 0, 0, 1, 0, 30, 0, 3, b'h', b'o', b'p', 0, 12, 0, 2, 0, 1,
        ];
        assert_eq!(Dialect::detect(&infoblox), Dialect::Isc);
        assert_eq!(Dialect::evidence(&infoblox), Some(Dialect::Isc));
    }
}
