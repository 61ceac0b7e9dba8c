//! May a received binding update be applied? The acceptance rules of draft-12 §7.1.3
//! (Fig 7.1.3-1, laid out in draft-12.md §6.2) as one pure function of the receiver's binding,
//! the update, the receiver's role and the time.
//!
//! This module owns the draft's table and nothing else. It implements the draft, not ISC's
//! `dhcp_failover_process_bind_update` (draft-12.md §6.3): ISC's "dueling updates" rule, its
//! 65 s fudge and its PET checks belong to whoever chooses to speak ISC's dialect.
//!
//! What the caller does around [`check`]:
//!
//! * Reject 1 ("illegal IP address", draft-12 §7.1.3) when the address is in none of this
//!   endpoint's pools. Only the caller has the database, so that check comes first and is not
//!   here; [`check`] is only ever asked about an address the receiver holds a binding for, and
//!   `receiver.address` is taken to be `incoming.address`.
//! * Apply the clock-skew delta (draft-12 §5.10) to every time in [`Incoming`] before calling:
//!   the comparisons here are between the receiver's clock and the update's times as given.
//! * Reject 19 for a BACKUP update with the R flag on an address not reserved here (draft-12
//!   §7.1.3, last paragraph): IP-flags are not part of [`Incoming`].
//!
//! Conventions shared by every rule:
//!
//! * An update's client is its client-identifier when it carries a non-empty one, else its
//!   hardware address when that is non-empty ([`Incoming::client`]); empty bytes identify no one.
//! * A client-last-transaction-time of 0 on the wire means "none" (draft-12 §7.1.3: "there will
//!   be no client-last-transaction-time option"), so an incoming CLTT at the epoch counts as
//!   absent; a receiver CLTT or start-time-of-state at the epoch is one it does not have.

use crate::failover::config::Role;
use crate::lease::{Binding, BindingState, ClientKey, HwAddr};
use crate::time::Time;
use crate::wire::failover::RejectReason;

/// What a received binding update transaction says (decoded by [`crate::failover::messages`]);
/// a time the update did not carry is `None`.
pub use crate::failover::messages::Incoming;

impl Incoming {
    /// The client the update names: its client-identifier if non-empty, else its hardware
    /// address if non-empty, else none (the keying of [`Binding::client`], with empty bytes
    /// naming no one).
    pub fn client(&self) -> Option<ClientKey> {
        identity(self.client_id.as_deref(), self.hw.as_ref())
    }

    /// Whether the update carries client information. ABANDONED MUST NOT (draft-12 §5.11,
    /// Table 7.1.1-1); [`check`] accepts it anyway and leaves noting it to the caller.
    pub fn carries_client(&self) -> bool {
        self.client().is_some()
    }
}

/// The answer to a binding update transaction: apply it and BNDACK it, or BNDACK it with a
/// reject-reason (draft-12 §7.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Apply the update to the binding database, then acknowledge it.
    Accept,
    /// Leave the binding alone and answer with this reject-reason.
    Reject(RejectReason),
}

/// Decide whether `incoming` may be applied to `receiver`, the binding this server holds for
/// the same address (draft-12 §7.1.3, Fig 7.1.3-1), at `now` on the receiver's clock.
///
/// Checks in order:
///
/// 1. Missing information ⇒ reject 3. ACTIVE, EXPIRED and RELEASED must name a client (a
///    non-empty client-identifier or hardware address); ACTIVE must also carry its
///    lease-expiration-time and potential-expiration-time (draft-12 Table 7.1-1 and MS-DHCPF
///    §3.1.5.2 both say MUST). ABANDONED carrying client information is accepted: it breaks a
///    MUST NOT of the sender but loses nothing here ([`Incoming::carries_client`]; ISC rejects
///    it with 6).
/// 2. The receiver-status × update-status table. Failures of time(1)–time(3) reject with 15,
///    rule (4) with 16, and rule (5) — ACTIVE over ACTIVE for a different client — is accepted
///    by a secondary and rejected with 2 by a primary.
///
/// Never panics, whatever the update holds.
pub fn check(receiver: &Binding, incoming: &Incoming, receiver_role: Role, now: Time) -> Verdict {
    check_with(receiver, incoming, receiver_role, now, SameLeaseRule::On)
}

/// The same-lease rule of [`check_with`], and the catalogued flaws that undo it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameLeaseRule {
    /// The rule as it should be: same client, same lease end, and a CLTT no earlier than the
    /// receiver's (within [`SAME_LEASE_TOLERANCE`]).
    On,
    /// No rule: time(1) alone (the catalogued bug `same-second-release-rejected`).
    Off,
    /// Same client and lease end, whatever the CLTT (the catalogued bug
    /// `same-lease-release-ignores-cltt`).
    AnyCltt,
}

/// How close two records of one lease-expiration-time must be to name the same lease: times
/// cross the wire in whole seconds, read through an estimated clock delta (draft-12 §5.10).
pub const SAME_LEASE_TOLERANCE: crate::time::Duration = crate::time::Duration::from_secs(2);

/// [`check`], with the same-lease rule switchable ([`SameLeaseRule`]).
///
/// The same-lease rule: a RELEASED for the client and the lease-expiration-time of the ACTIVE
/// binding the receiver holds, with a CLTT no earlier than the receiver's, is that very lease
/// ending, and is accepted although time(1) cannot see its CLTT as later. CLTTs cross the wire
/// in whole seconds, so a release in the same second as the renewal it ends (a client that
/// renews and then departs) looked no later and was rejected with 15; the receiver kept the
/// lease ACTIVE, the sender kept RELEASED, neither freed the address, and it was lost to the
/// pool (found by `load-balance-partition-2h`; ISC field bug I3 is of this kind).
///
/// The CLTT must still be no earlier (within [`SAME_LEASE_TOLERANCE`]): a lease end alone does
/// not name a lease. A client that released at one server and, out of touch with it, got its
/// address again from the other (`ipconfig /release` then `/renew`) holds a new lease whose
/// end the other may have set equal to the old one (it may not go past what its partner
/// knows, draft-12 §5.2.1); the older RELEASED must not end it (found by the swarm's
/// release-renew clients, seed 802: the address went to a second client).
pub fn check_with(
    receiver: &Binding,
    incoming: &Incoming,
    receiver_role: Role,
    now: Time,
    same_lease_rule: SameLeaseRule,
) -> Verdict {
    if let Some(reason) = incomplete(incoming) {
        return Verdict::Reject(reason);
    }

    use BindingState::*;
    let accept_if = |ok: bool| {
        if ok {
            Verdict::Accept
        } else {
            // draft-12 §7.1.3 "(1,2,3): If rejecting, use reject reason 15".
            Verdict::Reject(RejectReason::OUTDATED_BINDING)
        }
    };

    // Rows are the receiver's binding-status, columns the update's (draft-12 Fig 7.1.3-1).
    match (receiver.state, incoming.state) {
        // Row FREE/BACKUP: accept everything.
        (Free | Backup, _) => Verdict::Accept,

        // Row ACTIVE.
        (Active, Active) => rule_5(receiver, incoming, receiver_role),
        (Active, Expired | Free | Backup) => accept_if(time_2(receiver, now)),
        (Active, Released) => accept_if(
            time_1(receiver, incoming)
                || match same_lease_rule {
                    SameLeaseRule::On => {
                        same_lease(receiver, incoming) && cltt_not_earlier(receiver, incoming)
                    }
                    SameLeaseRule::AnyCltt => same_lease(receiver, incoming),
                    SameLeaseRule::Off => false,
                },
        ),
        (Active, Reset | Abandoned) => Verdict::Accept,

        // Row EXPIRED: only a new ACTIVE needs a later client transaction.
        (Expired, Active) => accept_if(time_1(receiver, incoming)),
        (Expired, _) => Verdict::Accept,

        // Row RELEASED: ACTIVE and EXPIRED need a later client transaction.
        (Released, Active | Expired) => accept_if(time_1(receiver, incoming)),
        (Released, _) => Verdict::Accept,

        // Row RESET: an ACTIVE must come from a client transaction after the reset.
        (Reset, Active) => accept_if(time_3(receiver, incoming)),
        (Reset, _) => Verdict::Accept,

        // Row ABANDONED: only RESET or ABANDONED may replace it; rule (4) rejects with 16.
        (Abandoned, Reset | Abandoned) => Verdict::Accept,
        (Abandoned, _) => Verdict::Reject(RejectReason::LESS_CRITICAL_BINDING),
    }
}

/// The reject-reason for an update that lacks what its binding-status requires, if it does
/// (draft-12 §7.1.3 first paragraph, Table 7.1-1, Table 7.1.1-1).
pub fn incomplete(incoming: &Incoming) -> Option<RejectReason> {
    let missing = match incoming.state {
        // ACTIVE: client MUST appear, and so MUST lease-expiration-time and
        // potential-expiration-time (draft-12 Table 7.1-1). Without them the receiver could not
        // tell when the partner's client may be displaced (§9.4.2).
        BindingState::Active => {
            !incoming.carries_client() || incoming.expires_at.is_none() || incoming.pet.is_none()
        }
        // EXPIRED and RELEASED: client-hardware-address MUST appear (Table 7.1-1). A
        // client-identifier alone still names the client, so it is enough here.
        BindingState::Expired | BindingState::Released => !incoming.carries_client(),
        // FREE, BACKUP, RESET: client information MAY appear. ABANDONED: MUST NOT, but its
        // presence hides nothing we need, so it is not "missing information".
        BindingState::Free
        | BindingState::Backup
        | BindingState::Reset
        | BindingState::Abandoned => false,
    };
    missing.then_some(RejectReason::MISSING_BINDING_INFORMATION)
}

/// Rule (5), ACTIVE over ACTIVE (draft-12 Fig 7.1.3-1): the same client is a renewal and is
/// accepted; for a different client a secondary accepts and a primary rejects with 2. A
/// receiver binding that names no client has nobody to protect, so it takes the update.
fn rule_5(receiver: &Binding, incoming: &Incoming, receiver_role: Role) -> Verdict {
    let differ = match (receiver_client(receiver), incoming.client()) {
        (Some(mine), Some(theirs)) => mine != theirs,
        _ => false,
    };
    match (differ, receiver_role) {
        (false, _) | (true, Role::Secondary) => Verdict::Accept,
        (true, Role::Primary) => Verdict::Reject(RejectReason::FATAL_CONFLICT),
    }
}

/// time(1) (draft-12 Fig 7.1.3-1): the update's CLTT is later than the receiver's CLTT. No
/// incoming CLTT is never later; a receiver without one (the epoch) is earlier than any.
fn time_1(receiver: &Binding, incoming: &Incoming) -> bool {
    incoming_cltt(incoming).is_some_and(|t| t > receiver.cltt)
}

/// Whether the update names the receiver's client and its lease-expiration-time (within
/// [`SAME_LEASE_TOLERANCE`]): it speaks of the lease the receiver holds.
fn same_lease(receiver: &Binding, incoming: &Incoming) -> bool {
    let same_client = receiver_client(receiver).is_some_and(|c| Some(c) == incoming.client());
    let same_end = incoming.expires_at.is_some_and(|t| {
        t.max(receiver.expires_at)
            .saturating_since(t.min(receiver.expires_at))
            <= SAME_LEASE_TOLERANCE
    });
    same_client && same_end
}

/// Whether the update's CLTT is no earlier than the receiver's, within
/// [`SAME_LEASE_TOLERANCE`] (whole wire seconds read through an estimated clock delta).
fn cltt_not_earlier(receiver: &Binding, incoming: &Incoming) -> bool {
    incoming_cltt(incoming).is_some_and(|t| t + SAME_LEASE_TOLERANCE >= receiver.cltt)
}

/// time(2) (draft-12 Fig 7.1.3-1): the receiver's lease has run out.
fn time_2(receiver: &Binding, now: Time) -> bool {
    now > receiver.expires_at
}

/// time(3) (draft-12 Fig 7.1.3-1): the update's CLTT is later than the receiver's
/// start-time-of-state, with time(1)'s conventions for missing values.
fn time_3(receiver: &Binding, incoming: &Incoming) -> bool {
    incoming_cltt(incoming).is_some_and(|t| t > receiver.state_since)
}

/// The update's CLTT, with 0 read as "none" (draft-12 §7.1.3: no client interaction means no
/// client-last-transaction-time).
fn incoming_cltt(incoming: &Incoming) -> Option<Time> {
    incoming.cltt.filter(|&t| t > Time::EPOCH)
}

/// The receiver's client under the same keying as [`Incoming::client`].
fn receiver_client(receiver: &Binding) -> Option<ClientKey> {
    identity(receiver.client_id.as_deref(), receiver.hw.as_ref())
}

/// A client's key: a non-empty client-identifier, else a non-empty hardware address (RFC 2131
/// §4.2; draft-12 §7.1.1 "Identifying the client").
fn identity(client_id: Option<&[u8]>, hw: Option<&HwAddr>) -> Option<ClientKey> {
    match (
        client_id.filter(|id| !id.is_empty()),
        hw.filter(|h| !h.addr.is_empty()),
    ) {
        (Some(id), _) => Some(ClientKey::from_client_id(id)),
        (None, Some(h)) => Some(ClientKey::from_hardware(h.htype, &h.addr)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use BindingState::*;
    use std::net::Ipv4Addr;

    const ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 149);
    /// 2023-09-12T10:40:00Z, the message time of draft-12.md §13's examples.
    const T0: Time = Time::from_secs(0x6500_0000);
    const ACCEPT: Verdict = Verdict::Accept;
    const OUTDATED: Verdict = Verdict::Reject(RejectReason::OUTDATED_BINDING);
    const LESS_CRITICAL: Verdict = Verdict::Reject(RejectReason::LESS_CRITICAL_BINDING);
    const MISSING: Verdict = Verdict::Reject(RejectReason::MISSING_BINDING_INFORMATION);
    const FATAL: Verdict = Verdict::Reject(RejectReason::FATAL_CONFLICT);

    fn at(s: u64) -> Time {
        T0 + Duration::from_secs(s)
    }

    fn mac(last: u8) -> HwAddr {
        HwAddr {
            htype: 1,
            addr: vec![0x56, 0xf8, 0x21, 0x7d, 0xba, last],
        }
    }

    /// The receiver's binding: client `last`, leased at T0 for an hour, last heard at T0.
    fn mine(state: BindingState) -> Binding {
        let mut b = Binding::new(ADDR, state);
        b.hw = Some(mac(0x54));
        b.cltt = T0;
        b.state_since = T0;
        b.expires_at = at(3600);
        b
    }

    /// An update from the partner for the same client, complete for `state`.
    fn theirs(state: BindingState) -> Incoming {
        let active = state == Active;
        Incoming {
            address: ADDR,
            state,
            client_id: None,
            hw: (state != Abandoned).then(|| mac(0x54)),
            expires_at: active.then(|| at(7200)),
            pet: active.then(|| at(9000)),
            state_since: Some(at(100)),
            cltt: Some(at(100)),
            ip_flags: 0,
            subnet_mask: None,
        }
    }

    fn check_p(receiver: &Binding, incoming: &Incoming, now: Time) -> Verdict {
        check(receiver, incoming, Role::Primary, now)
    }

    #[test]
    fn active_update_without_client_or_times_is_missing_information() {
        let r = mine(Free);
        let no_client = Incoming {
            hw: None,
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &no_client, at(10)), MISSING);
        let empty_chaddr = Incoming {
            hw: Some(HwAddr {
                htype: 1,
                addr: vec![],
            }),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &empty_chaddr, at(10)), MISSING);
        let no_expiry = Incoming {
            expires_at: None,
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &no_expiry, at(10)), MISSING);
        let no_pet = Incoming {
            pet: None,
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &no_pet, at(10)), MISSING);
    }

    #[test]
    fn expired_and_released_must_name_a_client() {
        let r = mine(Active);
        for state in [Expired, Released] {
            let anonymous = Incoming {
                hw: None,
                ..theirs(state)
            };
            assert_eq!(check_p(&r, &anonymous, at(4000)), MISSING, "{state:?}");
            let by_client_id = Incoming {
                hw: None,
                client_id: Some(vec![1, 0x56, 0xf8, 0x21, 0x7d, 0xba, 0x54]),
                ..theirs(state)
            };
            assert_ne!(check_p(&r, &by_client_id, at(4000)), MISSING, "{state:?}");
        }
    }

    #[test]
    fn free_backup_reset_need_no_client() {
        let r = mine(Expired);
        for state in [Free, Backup, Reset] {
            let bare = Incoming {
                hw: None,
                cltt: None,
                state_since: None,
                ..theirs(state)
            };
            assert_eq!(check_p(&r, &bare, at(10)), ACCEPT, "{state:?}");
        }
    }

    #[test]
    fn abandoned_carrying_client_information_is_still_accepted() {
        let r = mine(Active);
        let with_client = Incoming {
            hw: Some(mac(0x54)),
            ..theirs(Abandoned)
        };
        assert!(with_client.carries_client());
        assert_eq!(check_p(&r, &with_client, at(10)), ACCEPT);
        assert!(!theirs(Abandoned).carries_client());
    }

    #[test]
    fn free_or_backup_receiver_accepts_anything() {
        for row in [Free, Backup] {
            let r = mine(row);
            for col in BindingState::ALL {
                // Even an update with no CLTT at all, long before our lease would end.
                let u = Incoming {
                    cltt: None,
                    ..theirs(col)
                };
                for role in [Role::Primary, Role::Secondary] {
                    assert_eq!(check(&r, &u, role, at(1)), ACCEPT, "{row:?} <- {col:?}");
                }
            }
        }
    }

    #[test]
    fn active_receiver_takes_expired_free_backup_only_after_its_lease_ends() {
        // time(2): our client's lease ends at T0+3600.
        let r = mine(Active);
        for col in [Expired, Free, Backup] {
            assert_eq!(check_p(&r, &theirs(col), at(1800)), OUTDATED, "{col:?}");
            assert_eq!(
                check_p(&r, &theirs(col), at(3600)),
                OUTDATED,
                "{col:?} at the end"
            );
            assert_eq!(check_p(&r, &theirs(col), at(3601)), ACCEPT, "{col:?}");
        }
    }

    #[test]
    fn active_receiver_takes_released_only_from_a_later_client_transaction() {
        // time(1): we last heard the client at T0.
        let r = mine(Active);
        let stale = Incoming {
            cltt: Some(T0 - Duration::from_secs(60)),
            ..theirs(Released)
        };
        assert_eq!(check_p(&r, &stale, at(120)), OUTDATED);
        let same = Incoming {
            cltt: Some(T0),
            ..theirs(Released)
        };
        assert_eq!(check_p(&r, &same, at(120)), OUTDATED, "equal is not later");
        assert_eq!(check_p(&r, &theirs(Released), at(120)), ACCEPT);
    }

    #[test]
    fn active_receiver_accepts_reset_and_abandoned() {
        let r = mine(Active);
        for col in [Reset, Abandoned] {
            assert_eq!(check_p(&r, &theirs(col), at(10)), ACCEPT, "{col:?}");
        }
    }

    #[test]
    fn active_over_active_for_the_same_client_is_a_renewal() {
        let r = mine(Active);
        for role in [Role::Primary, Role::Secondary] {
            assert_eq!(check(&r, &theirs(Active), role, at(1800)), ACCEPT);
        }
        // Even an update whose CLTT is older: rule (5) does not look at times.
        let older = Incoming {
            cltt: Some(T0 - Duration::from_secs(600)),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &older, at(1800)), ACCEPT);
    }

    #[test]
    fn active_over_active_for_another_client_the_secondary_accepts_the_primary_refuses() {
        let r = mine(Active);
        let other = Incoming {
            hw: Some(mac(0x99)),
            ..theirs(Active)
        };
        assert_eq!(check(&r, &other, Role::Secondary, at(1800)), ACCEPT);
        assert_eq!(check(&r, &other, Role::Primary, at(1800)), FATAL);
    }

    #[test]
    fn a_client_identifier_and_a_bare_hardware_address_are_different_clients() {
        // The update names the same chaddr but with a client-identifier: another identity.
        let r = mine(Active);
        let with_id = Incoming {
            client_id: Some(b"laptop".to_vec()),
            ..theirs(Active)
        };
        assert_eq!(check(&r, &with_id, Role::Primary, at(1800)), FATAL);
        // An empty client-identifier identifies nobody, so the chaddr decides.
        let empty_id = Incoming {
            client_id: Some(vec![]),
            ..theirs(Active)
        };
        assert_eq!(check(&r, &empty_id, Role::Primary, at(1800)), ACCEPT);
    }

    #[test]
    fn an_active_receiver_without_a_client_takes_the_partners_client() {
        let mut r = mine(Active);
        r.hw = None;
        let other = Incoming {
            hw: Some(mac(0x99)),
            ..theirs(Active)
        };
        assert_eq!(check(&r, &other, Role::Primary, at(1800)), ACCEPT);
    }

    #[test]
    fn expired_receiver_takes_active_only_from_a_later_client_transaction() {
        // We expired the lease at T0+3600; the client was last heard at T0.
        let mut r = mine(Expired);
        r.state_since = at(3600);
        let renewed_after = Incoming {
            cltt: Some(at(1800)),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &renewed_after, at(3700)), ACCEPT);
        let stale = Incoming {
            cltt: Some(T0),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &stale, at(3700)), OUTDATED);
        for col in [Expired, Released, Free, Backup, Reset, Abandoned] {
            let u = Incoming {
                cltt: None,
                ..theirs(col)
            };
            assert_eq!(check_p(&r, &u, at(3700)), ACCEPT, "{col:?}");
        }
    }

    #[test]
    fn released_receiver_takes_active_or_expired_only_from_a_later_client_transaction() {
        // The client released at T0+900 (its CLTT).
        let mut r = mine(Released);
        r.cltt = at(900);
        r.state_since = at(900);
        for col in [Active, Expired] {
            let earlier = Incoming {
                cltt: Some(at(600)),
                ..theirs(col)
            };
            assert_eq!(check_p(&r, &earlier, at(1000)), OUTDATED, "{col:?}");
            let later = Incoming {
                cltt: Some(at(950)),
                ..theirs(col)
            };
            assert_eq!(check_p(&r, &later, at(1000)), ACCEPT, "{col:?}");
        }
        for col in [Released, Free, Backup, Reset, Abandoned] {
            let u = Incoming {
                cltt: None,
                ..theirs(col)
            };
            assert_eq!(check_p(&r, &u, at(1000)), ACCEPT, "{col:?}");
        }
    }

    #[test]
    fn a_release_in_the_second_of_the_renewal_it_ends_is_accepted_as_that_lease() {
        // The receiver renewed the client at T0 + 100.4 s until T0 + 3700.4 s; the client
        // released at the partner within the same second, whose RELEASED carries the CLTT in
        // whole seconds (T0 + 100, no later than ours) and that lease's end. time(1) cannot see
        // it as later; the same-lease rule takes it (the catalogued bug
        // `same-second-release-rejected` turns the rule off).
        let mut r = mine(Active);
        r.cltt = at(100) + Duration::from_millis(400);
        r.expires_at = at(3700) + Duration::from_millis(400);
        let release = Incoming {
            expires_at: Some(at(3700)),
            ..theirs(Released)
        };
        assert_eq!(check_p(&r, &release, at(101)), ACCEPT);
        assert_eq!(
            check_with(&r, &release, Role::Primary, at(101), SameLeaseRule::Off),
            OUTDATED
        );
        // Another lease's end, or another client: time(1) alone, which rejects.
        let other_lease = Incoming {
            expires_at: Some(at(1800)),
            ..release.clone()
        };
        assert_eq!(check_p(&r, &other_lease, at(101)), OUTDATED);
        let other_client = Incoming {
            hw: Some(mac(0x99)),
            ..release.clone()
        };
        assert_eq!(check_p(&r, &other_client, at(101)), OUTDATED);
    }

    #[test]
    fn a_release_before_a_new_lease_of_the_same_end_does_not_end_it() {
        // The client released at the partner at T0 + 100 s, then got its address again here at
        // T0 + 110 s, until the end its released lease had (T0 + 3700 s). The RELEASED names
        // the client and that end, but its CLTT is ten seconds before the new lease's: it ends
        // the old lease, not this one.
        let mut r = mine(Active);
        r.cltt = at(110);
        r.expires_at = at(3700);
        let release = Incoming {
            expires_at: Some(at(3700)),
            ..theirs(Released)
        };
        assert_eq!(check_p(&r, &release, at(111)), OUTDATED);
        // The catalogued flaw takes it.
        assert_eq!(
            check_with(&r, &release, Role::Primary, at(111), SameLeaseRule::AnyCltt),
            ACCEPT
        );
        // Within the tolerance of the wire's whole seconds, or without a CLTT.
        let close = Incoming {
            cltt: Some(at(108)),
            ..release.clone()
        };
        assert_eq!(check_p(&r, &close, at(111)), ACCEPT);
        let too_early = Incoming {
            cltt: Some(at(107)),
            ..release.clone()
        };
        assert_eq!(check_p(&r, &too_early, at(111)), OUTDATED);
        let none = Incoming {
            cltt: None,
            ..release.clone()
        };
        assert_eq!(check_p(&r, &none, at(111)), OUTDATED);
    }

    #[test]
    fn reset_receiver_takes_active_only_from_a_transaction_after_the_reset() {
        // An operator reset the address at T0+500; time(3) compares with start-time-of-state.
        let mut r = mine(Reset);
        r.state_since = at(500);
        r.cltt = T0;
        let before_reset = Incoming {
            cltt: Some(at(400)),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &before_reset, at(600)), OUTDATED);
        let after_reset = Incoming {
            cltt: Some(at(550)),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &after_reset, at(600)), ACCEPT);
        // "Later" is strict: a transaction in the very second of the reset is not after it.
        let at_the_reset = Incoming {
            cltt: Some(at(500)),
            ..theirs(Active)
        };
        assert_eq!(check_p(&r, &at_the_reset, at(600)), OUTDATED);
        for col in [Expired, Released, Free, Backup, Reset, Abandoned] {
            assert_eq!(check_p(&r, &theirs(col), at(600)), ACCEPT, "{col:?}");
        }
    }

    #[test]
    fn abandoned_receiver_refuses_all_but_reset_and_abandoned_as_less_critical() {
        let r = mine(Abandoned);
        for col in [Active, Expired, Released, Free, Backup] {
            for role in [Role::Primary, Role::Secondary] {
                assert_eq!(
                    check(&r, &theirs(col), role, at(10)),
                    LESS_CRITICAL,
                    "{col:?}"
                );
            }
        }
        for col in [Reset, Abandoned] {
            assert_eq!(check_p(&r, &theirs(col), at(10)), ACCEPT, "{col:?}");
        }
    }

    #[test]
    fn an_update_without_cltt_is_never_later() {
        let r = mine(Expired);
        for cltt in [None, Some(Time::EPOCH)] {
            let u = Incoming {
                cltt,
                ..theirs(Active)
            };
            assert_eq!(check_p(&r, &u, at(4000)), OUTDATED, "{cltt:?}");
        }
        // Not even against a receiver that has no CLTT either.
        let mut blank = mine(Expired);
        blank.cltt = Time::EPOCH;
        let u = Incoming {
            cltt: None,
            ..theirs(Active)
        };
        assert_eq!(check_p(&blank, &u, at(4000)), OUTDATED);
    }

    #[test]
    fn any_update_cltt_is_later_than_a_receiver_without_one() {
        let mut r = mine(Released);
        r.cltt = Time::EPOCH;
        let u = Incoming {
            cltt: Some(Time::from_secs(1)),
            ..theirs(Expired)
        };
        assert_eq!(check_p(&r, &u, at(10)), ACCEPT);
        // time(3) likewise against a receiver with no start-time-of-state.
        let mut reset = mine(Reset);
        reset.state_since = Time::EPOCH;
        let a = Incoming {
            cltt: Some(Time::from_secs(1)),
            ..theirs(Active)
        };
        assert_eq!(check_p(&reset, &a, at(10)), ACCEPT);
    }

    #[test]
    fn every_cell_of_the_table_answers_without_panicking() {
        for row in BindingState::ALL {
            for col in BindingState::ALL {
                for role in [Role::Primary, Role::Secondary] {
                    for now in [Time::EPOCH, T0, Time::MAX] {
                        let r = Binding::new(ADDR, row);
                        let blank = Incoming::bare(ADDR, col);
                        let _ = check(&r, &blank, role, now);
                        let _ = check(&r, &theirs(col), role, now);
                    }
                }
            }
        }
    }
}
