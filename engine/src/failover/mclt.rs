//! The MCLT arithmetic: how long a lease may be granted, what potential expiration time to send
//! with it, when PARTNER-DOWN may hand an address to a new client, and how long RECOVER-WAIT
//! lasts (draft-12 §5.2, §7.1.5, §9.4.2, §9.6; draft-12.md §5.1).
//!
//! Every function is pure arithmetic on a [`Binding`]'s times (lease-expiration-time
//! `expires_at`, `sent_pet`, `acked_pet`, and the partner's PET read late, `received_pet`, and
//! early, `received_pet_early`; see [`crate::failover::skew`]) and saturates rather than overflows,
//! so no input panics. Which failover state calls which function is the caller's business:
//!
//! * NORMAL, COMMUNICATIONS-INTERRUPTED, RESOLUTION-INTERRUPTED, CONFLICT-DONE: grant with
//!   [`granted_lease_end`] and send [`potential_expiration`] in the BNDUPD.
//! * PARTNER-DOWN: reuse addresses by [`partner_down_reusable_at`]. Lease lengths there may be
//!   MCLT-limited (protection against losing stable storage) or not (draft-12 §9.4.2); a server
//!   that keeps the limit calls [`granted_lease_end`] as in any other state.
//! * RECOVER-WAIT: wait until [`recover_wait_until`].
//!
//! The fundamental rule (draft-12 §5.2.1): a client's lease never ends more than the MCLT after
//! the potential expiration time its server's partner knows of.

use crate::failover::config::Role;
use crate::lease::{Binding, BindingState};
use crate::time::{Duration, Time};

/// The latest lease end a server may grant on `b` at `now`:
/// `MCLT + max(acked_pet, received_pet_early, now)`.
///
/// draft-12 §7.1.5 allows the MCLT beyond the later of the acknowledged and the received PET
/// (the relaxation that lets a secondary renew its partner's clients for a full lease), and
/// §9.8.3 adds "or the current time, whichever is later", which is the §5.2.1 example's
/// "remainder of the acknowledged potential lease interval (zero for a new lease) plus the MCLT".
/// A brand-new binding (both PETs at the epoch) therefore gets at most `now + MCLT`.
///
/// The received PET is the partner's, read on our clock through the clock delta; it counts
/// here only as read through the delta's floor (`received_pet_early`), never later than it is:
/// read through the estimate, a connection opened during a delay spike would let every grant
/// run the spike's transit past what the partner will wait for (found by the swarm, seeds 209,
/// 1021 and 1323 of 3 000).
///
/// The lease-expiration-time is deliberately not in the max, although draft-12 §9.9.2 lists it
/// for COMMUNICATIONS-INTERRUPTED: a partner out of touch never learns our later expirations, so
/// counting them would let every renewal reach one more MCLT past what the partner will wait
/// for in PARTNER-DOWN (§9.4.2).
pub fn lease_end_limit(b: &Binding, now: Time, mclt: Duration) -> Time {
    b.acked_pet.max(b.received_pet_early).max(now) + mclt
}

/// The lease end to grant on `b` at `now` to a client that should get `desired`:
/// `min(now + desired, lease_end_limit)` (draft-12 §5.2.1 "what to tell the client", with the
/// §7.1.5 relaxation). Never earlier than `now`, never later than [`lease_end_limit`].
pub fn granted_lease_end(b: &Binding, now: Time, desired: Duration, mclt: Duration) -> Time {
    (now + desired).min(lease_end_limit(b, now, mclt))
}

/// The potential expiration time to send to the partner with a grant that ends at
/// `granted_end`: `now + desired + half the granted lease` (draft-12 §5.2.1 example policy, a
/// renewal interval of half the actual lease; ISC's `tstp = now + L + lease/2`), and never
/// earlier than `granted_end` (draft-12 §9.8.3: the PET "MUST be at least the lease time").
/// Saturates at [`Time::MAX`] for an infinite `desired`.
pub fn potential_expiration(now: Time, desired: Duration, granted_end: Time) -> Time {
    let granted = granted_end.saturating_since(now);
    (now + desired + granted.mul_ratio(1, 2)).max(granted_end)
}

/// Whose available pool an address was in when this server entered PARTNER-DOWN
/// (draft-12 §2.2 "available IP address": FREE is the primary's, BACKUP the secondary's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pool {
    /// This server's own: FREE on a primary, BACKUP on a secondary.
    Own,
    /// The partner's: BACKUP on a primary, FREE on a secondary.
    Partners,
}

impl Pool {
    /// The pool an address in `state` belongs to for a server of `role`, or `None` when the
    /// address is in neither (bound to a client, or ABANDONED).
    pub fn of(state: BindingState, role: Role) -> Option<Pool> {
        match (state, role) {
            (BindingState::Free, Role::Primary) | (BindingState::Backup, Role::Secondary) => {
                Some(Pool::Own)
            }
            (BindingState::Backup, Role::Primary) | (BindingState::Free, Role::Secondary) => {
                Some(Pool::Partners)
            }
            _ => None,
        }
    }
}

/// When a server that entered PARTNER-DOWN at `partner_down_since` may give the address of
/// `b` to a new client. `pool` says whose available pool a FREE or BACKUP address was in at
/// entry (see [`Pool::of`]); it is ignored for other states.
///
/// With `m = MCLT` and `latest = max(expires_at, sent_pet, acked_pet, received_pet)`:
///
/// | binding | reusable at |
/// |---|---|
/// | FREE/BACKUP, own pool | `partner_down_since`: at once (draft-12 §9.4.2 "allocate IP addresses from its own pool") |
/// | FREE/BACKUP, partner's pool | `max(partner_down_since + m, latest + m)` |
/// | ACTIVE | `max(partner_down_since + m, latest + m)` |
/// | EXPIRED, RELEASED, RESET | `max(partner_down_since + m, latest + m, state_since + m)` |
/// | ABANDONED | never ([`Time::MAX`]) |
///
/// Decisions where the draft leaves room:
///
/// * A bound address waits the MCLT beyond the latest of its four times (draft-12 §9.4.2,
///   §7.1.5) and never less than the MCLT beyond entry: §9.4.2 literally says "earlier than the
///   current time plus the MCLT", the safe reading is entry plus the MCLT (draft-12.md §5.1(b)).
/// * The partner's pool waits the MCLT beyond entry (draft-12 §9.4.2), and also the MCLT beyond
///   the address's recorded times. A FREE address keeps the PETs of its last client, and
///   [`lease_end_limit`] lets the partner grant a *new* client up to the MCLT beyond them; had
///   it done so just before failing, entry plus the MCLT alone would hand out the address while
///   that lease runs. For a never-used address the times are the epoch and the rule is the
///   draft's. (ISC waits `max(stos, tsfp) + MCLT` here for the same reason.)
/// * EXPIRED, RELEASED and RESET may also go FREE once the MCLT has passed since they entered
///   that status (draft-12 Fig 5.11-1 note 1). That note alone would ignore a renewal the
///   partner granted while we could not hear it, so it only ever delays: the later of the
///   rules wins.
/// * A lease this server itself granted during PARTNER-DOWN "need not" wait (draft-12 §5.2.1);
///   this function cannot tell such a lease apart and waits anyway, which is never unsafe.
/// * Reservations (draft-12 §5.13) are the caller's: this says when, not to whom.
pub fn partner_down_reusable_at(
    b: &Binding,
    pool: Pool,
    partner_down_since: Time,
    mclt: Duration,
) -> Time {
    // draft-12 §9.4.2: nothing the partner could have handed out is reused before entry + MCLT.
    let entry_wait = partner_down_since + mclt;
    // draft-12 §9.4.2, §7.1.5: the MCLT beyond the latest time either server may have used.
    let times_wait = b
        .expires_at
        .max(b.sent_pet)
        .max(b.acked_pet)
        .max(b.received_pet)
        + mclt;
    match b.state {
        // Own pool: available at once (draft-12 §9.4.2, §5.2.2).
        BindingState::Free | BindingState::Backup => match pool {
            Pool::Own => partner_down_since,
            Pool::Partners => entry_wait.max(times_wait),
        },
        BindingState::Active => entry_wait.max(times_wait),
        // Fig 5.11-1 note 1, never earlier than the §9.4.2 rule.
        BindingState::Expired | BindingState::Released | BindingState::Reset => {
            entry_wait.max(times_wait).max(b.state_since + mclt)
        }
        // ABANDONED leaves only through RESET (Fig 5.11-1 note 3), never by waiting.
        BindingState::Abandoned => Time::MAX,
    }
}

/// When RECOVER-WAIT may end (draft-12 §9.6): the MCLT after the time this server went down,
/// or after `started_at` (its start time) when that is unknown. Skipping the wait on a first
/// failover run (draft-12 §9.6) is the state machine's decision, not this function's.
pub fn recover_wait_until(down_at: Option<Time>, started_at: Time, mclt: Duration) -> Time {
    down_at.unwrap_or(started_at) + mclt
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 149);
    /// 2023-09-12T10:40:00Z, the message time of draft-12.md §13's examples.
    const T0: Time = Time::from_secs(0x6500_0000);
    const MCLT: Duration = Duration::from_secs(30);
    const HOUR: Duration = Duration::from_secs(3600);

    fn at(s: u64) -> Time {
        T0 + Duration::from_secs(s)
    }

    #[test]
    fn first_grant_is_capped_at_the_mclt() {
        let b = Binding::new(ADDR, BindingState::Free);
        assert_eq!(lease_end_limit(&b, T0, MCLT), at(30));
        assert_eq!(granted_lease_end(&b, T0, HOUR, MCLT), at(30));
        // A desired lease shorter than the MCLT is granted whole.
        assert_eq!(
            granted_lease_end(&b, T0, Duration::from_secs(20), MCLT),
            at(20)
        );
    }

    #[test]
    fn renewal_after_the_partner_acked_the_pet_gets_the_full_lease() {
        // T0: a new client asks for an hour; MCLT 30 s.
        let mut b = Binding::new(ADDR, BindingState::Free);
        let end = granted_lease_end(&b, T0, HOUR, MCLT);
        assert_eq!(end.saturating_since(T0), MCLT);
        let pet = potential_expiration(T0, HOUR, end);
        assert_eq!(pet, at(3600 + 15), "now + desired + half the 30 s lease");
        // The BNDUPD goes out and the partner acknowledges the PET.
        b.state = BindingState::Active;
        b.expires_at = end;
        b.sent_pet = pet;
        b.acked_pet = pet;
        // T1 = T0 + 15 s: the renewal gets the desired hour.
        let t1 = at(15);
        assert_eq!(lease_end_limit(&b, t1, MCLT), at(3615 + 30));
        let renewed = granted_lease_end(&b, t1, HOUR, MCLT);
        assert_eq!(renewed.saturating_since(t1), HOUR);
        // And its PET leads by half the hour.
        assert_eq!(
            potential_expiration(t1, HOUR, renewed),
            at(15 + 3600 + 1800)
        );
    }

    #[test]
    fn an_unacked_pet_does_not_lengthen_the_lease() {
        let mut b = Binding::new(ADDR, BindingState::Active);
        b.sent_pet = at(3615);
        assert_eq!(granted_lease_end(&b, at(15), HOUR, MCLT), at(45));
    }

    #[test]
    fn the_limit_uses_the_received_pet_too() {
        // A secondary that acked the primary's PET of T0+5400 renews the client for the full
        // hour at T0+1800 without ever having sent a BNDUPD of its own (draft-12 §7.1.5).
        let mut b = Binding::new(ADDR, BindingState::Active);
        b.received_pet = at(5403);
        b.received_pet_early = at(5400);
        assert_eq!(lease_end_limit(&b, at(1800), MCLT), at(5430));
        assert_eq!(granted_lease_end(&b, at(1800), HOUR, MCLT), at(5400));
        // Once the received PET is near, the MCLT beyond it is all that is left.
        assert_eq!(granted_lease_end(&b, at(5390), HOUR, MCLT), at(5430));
        // The later of the two PETs counts.
        b.acked_pet = at(6000);
        assert_eq!(lease_end_limit(&b, at(1800), MCLT), at(6030));
    }

    #[test]
    fn a_received_pet_read_only_through_the_estimate_lets_nothing() {
        // No round trip bounded the clock delta when it came: only the late reading exists,
        // and the grant is the MCLT from now.
        let mut b = Binding::new(ADDR, BindingState::Active);
        b.received_pet = at(5400);
        assert_eq!(lease_end_limit(&b, at(1800), MCLT), at(1830));
        // PARTNER-DOWN still waits the MCLT past the late reading (what the partner may grant).
        assert_eq!(
            partner_down_reusable_at(&b, Pool::Own, at(1800), MCLT),
            at(5430)
        );
    }

    #[test]
    fn pets_in_the_past_still_allow_the_mclt_from_now() {
        let mut b = Binding::new(ADDR, BindingState::Active);
        b.acked_pet = T0;
        b.received_pet = T0;
        assert_eq!(granted_lease_end(&b, at(7200), HOUR, MCLT), at(7230));
    }

    #[test]
    fn the_grant_stays_between_now_and_the_limit() {
        let mut b = Binding::new(ADDR, BindingState::Active);
        for pet_s in [0, 10, 3000, 100_000] {
            b.acked_pet = at(pet_s);
            for now_s in [0, 20, 5000] {
                for desired_s in [0, 10, 3600, 86_400] {
                    let now = at(now_s);
                    let desired = Duration::from_secs(desired_s);
                    let end = granted_lease_end(&b, now, desired, MCLT);
                    assert!(end >= now);
                    assert!(end <= now + desired);
                    assert!(end <= lease_end_limit(&b, now, MCLT));
                    assert!(potential_expiration(now, desired, end) >= end);
                }
            }
        }
    }

    #[test]
    fn the_pet_is_never_below_the_granted_end() {
        // A caller that grants past now + desired (say in PARTNER-DOWN) still sends a PET that
        // covers the grant.
        assert_eq!(
            potential_expiration(T0, Duration::from_secs(10), at(60)),
            at(60)
        );
        assert_eq!(potential_expiration(T0, Duration::ZERO, T0), T0);
    }

    #[test]
    fn an_infinite_lease_saturates_instead_of_wrapping() {
        let b = Binding::new(ADDR, BindingState::Free);
        assert_eq!(granted_lease_end(&b, T0, Duration::MAX, MCLT), at(30));
        assert_eq!(potential_expiration(T0, Duration::MAX, at(30)), Time::MAX);
        let mut far = Binding::new(ADDR, BindingState::Active);
        far.acked_pet = Time::MAX;
        assert_eq!(lease_end_limit(&far, T0, MCLT), Time::MAX);
        assert_eq!(granted_lease_end(&far, T0, Duration::MAX, MCLT), Time::MAX);
    }

    #[test]
    fn pools_follow_the_role() {
        use BindingState::*;
        assert_eq!(Pool::of(Free, Role::Primary), Some(Pool::Own));
        assert_eq!(Pool::of(Backup, Role::Secondary), Some(Pool::Own));
        assert_eq!(Pool::of(Backup, Role::Primary), Some(Pool::Partners));
        assert_eq!(Pool::of(Free, Role::Secondary), Some(Pool::Partners));
        for s in [Active, Expired, Released, Abandoned, Reset] {
            for role in [Role::Primary, Role::Secondary] {
                assert_eq!(Pool::of(s, role), None);
            }
        }
    }

    #[test]
    fn partner_down_takes_the_own_pool_at_once() {
        let since = at(1000);
        let free = Binding::new(ADDR, BindingState::Free);
        assert_eq!(
            partner_down_reusable_at(&free, Pool::Own, since, MCLT),
            since
        );
        let backup = Binding::new(ADDR, BindingState::Backup);
        assert_eq!(
            partner_down_reusable_at(&backup, Pool::Own, since, MCLT),
            since
        );
    }

    #[test]
    fn partner_down_waits_mclt_before_taking_partner_pool() {
        let since = at(1000);
        // A primary in PARTNER-DOWN and a never-used BACKUP address.
        let backup = Binding::new(ADDR, BindingState::Backup);
        assert_eq!(
            partner_down_reusable_at(&backup, Pool::Partners, since, MCLT),
            at(1030)
        );
        // A secondary and a never-used FREE address.
        let free = Binding::new(ADDR, BindingState::Free);
        assert_eq!(
            partner_down_reusable_at(&free, Pool::Partners, since, MCLT),
            at(1030)
        );
    }

    #[test]
    fn partner_down_waits_beyond_the_old_pets_of_a_partner_pool_address() {
        // A secondary entered PARTNER-DOWN at T0+1000. The address went FREE at T0+900 after
        // its last client's lease, but the PET the secondary acked for that client runs to
        // T0+2800: the primary could have leased it to someone new until T0+2830.
        let mut free = Binding::new(ADDR, BindingState::Free);
        free.expires_at = at(900);
        free.received_pet = at(2800);
        free.state_since = at(900);
        assert_eq!(
            partner_down_reusable_at(&free, Pool::Partners, at(1000), MCLT),
            at(2830)
        );
    }

    #[test]
    fn partner_down_waits_mclt_beyond_the_latest_time_of_a_bound_address() {
        let since = at(1000);
        let mut b = Binding::new(ADDR, BindingState::Active);
        b.state_since = T0;
        b.expires_at = at(3600);
        b.sent_pet = at(5400);
        assert_eq!(
            partner_down_reusable_at(&b, Pool::Own, since, MCLT),
            at(5430),
            "sent PET"
        );
        b.acked_pet = at(5000);
        b.received_pet = at(6000);
        assert_eq!(
            partner_down_reusable_at(&b, Pool::Own, since, MCLT),
            at(6030),
            "received PET"
        );
        b.expires_at = at(7000);
        assert_eq!(
            partner_down_reusable_at(&b, Pool::Partners, since, MCLT),
            at(7030),
            "lease expiration; the pool does not matter"
        );
    }

    #[test]
    fn partner_down_never_reuses_a_bound_address_before_entry_plus_mclt() {
        // The lease and every PET ran out long before PARTNER-DOWN began at T0+10000.
        let since = at(10_000);
        for state in [
            BindingState::Active,
            BindingState::Expired,
            BindingState::Released,
            BindingState::Reset,
        ] {
            let mut b = Binding::new(ADDR, state);
            b.state_since = at(3600);
            b.expires_at = at(3600);
            b.sent_pet = at(5400);
            b.acked_pet = at(5400);
            assert_eq!(
                partner_down_reusable_at(&b, Pool::Own, since, MCLT),
                at(10_030),
                "{state:?}"
            );
        }
    }

    #[test]
    fn partner_down_expired_released_reset_wait_the_later_of_both_rules() {
        let since = at(1500);
        // Lease ended at T0+1000, an operator reset it at T0+2000: note 1 (state_since + MCLT)
        // is the later rule.
        let mut reset = Binding::new(ADDR, BindingState::Reset);
        reset.expires_at = at(1000);
        reset.sent_pet = at(1000);
        reset.state_since = at(2000);
        assert_eq!(
            partner_down_reusable_at(&reset, Pool::Own, since, MCLT),
            at(2030)
        );
        // Released at T0+1200, but the partner acked a PET to T0+4000 for that client: the
        // partner could have renewed it while out of touch, so the PET rule wins.
        let mut released = Binding::new(ADDR, BindingState::Released);
        released.expires_at = at(1200);
        released.state_since = at(1200);
        released.acked_pet = at(4000);
        assert_eq!(
            partner_down_reusable_at(&released, Pool::Own, since, MCLT),
            at(4030)
        );
        // Expired at T0+3600 with no later PET: the MCLT after both the end and the status.
        let mut expired = Binding::new(ADDR, BindingState::Expired);
        expired.expires_at = at(3600);
        expired.state_since = at(3600);
        assert_eq!(
            partner_down_reusable_at(&expired, Pool::Own, since, MCLT),
            at(3630)
        );
    }

    #[test]
    fn partner_down_never_reuses_an_abandoned_address() {
        let b = Binding::new(ADDR, BindingState::Abandoned);
        for pool in [Pool::Own, Pool::Partners] {
            assert_eq!(
                partner_down_reusable_at(&b, pool, at(1000), MCLT),
                Time::MAX
            );
        }
    }

    #[test]
    fn partner_down_arithmetic_saturates() {
        let mut b = Binding::new(ADDR, BindingState::Active);
        b.expires_at = Time::MAX;
        assert_eq!(
            partner_down_reusable_at(&b, Pool::Own, Time::MAX, Duration::MAX),
            Time::MAX
        );
    }

    #[test]
    fn recover_wait_counts_the_mclt_from_the_failure() {
        // Down at T0+500, restarted at T0+4000: the wait is already over on restart.
        assert_eq!(recover_wait_until(Some(at(500)), at(4000), MCLT), at(530));
    }

    #[test]
    fn recover_wait_counts_the_mclt_from_the_start_when_the_failure_time_is_unknown() {
        assert_eq!(recover_wait_until(None, at(4000), MCLT), at(4030));
    }
}
