//! Pool balancing arithmetic (draft-12 §5.4, §7.6; draft-12.md §7.1): how many of a subnet's
//! available addresses each partner should hold, and when addresses move. A pure function of
//! one subnet's counts, so that a pass costs nothing per address it does not move.
//!
//! The available addresses of a subnet are its FREE ones (the primary's pool) and its BACKUP
//! ones (the secondary's). Both servers compute the secondary's share from their own view:
//!
//! * **Load balancing**: half, the odd address staying with the primary (ISC's
//!   `lts = (free − backup) / 2`, run on both sides).
//! * **Hot standby**: a reserve. The secondary answers no new client while NORMAL, so
//!   every BACKUP address it holds then is one the primary cannot give. What it needs the
//!   BACKUP pool for is the time it serves new clients without the primary: all of
//!   COMMUNICATIONS-INTERRUPTED (draft-12 §9.7: only its own pool), and the first MCLT of
//!   PARTNER-DOWN (§9.4.2: the partner's FREE addresses only after entry + MCLT). Existing
//!   clients renew their own bindings and need no reserve; only clients that arrive in that
//!   window do. So the reserve should cover the arrivals of one outage plus one MCLT, which is
//!   a small share of the pool in any deployment where the pool is sized for its clients: ISC
//!   lets a server keep 10 % (`max-lease-ownership`), Windows keeps 5 % on the standby. We keep
//!   [`PoolBalance::standby_reserve_percent`] of the *available* addresses (default 10 %), at
//!   least one while two or more are available, and never more than half. Measured against the
//!   available addresses rather than the whole pool, the reserve shrinks as the pool fills, and
//!   when the primary is down to its last addresses the secondary gives back all but one, and
//!   the last one too when it is the only address left: a client turned away now is a sure
//!   loss, an outage is only a possible one.
//!
//! Addresses move only when a holding strays from the share by more than the misbalance
//! threshold (ISC's `max-lease-misbalance`), and then all the way back to the share. Both
//! sides use the same share and threshold, so what one side moves the other never moves back
//! (bug-catalogue I14, POOLREQ ping-pong): the primary gives FREE → BACKUP while the secondary
//! holds less than its share minus the threshold, the secondary returns BACKUP → FREE while it
//! holds more than its share plus the threshold. Views that differ in flight (an allocation
//! not yet acknowledged) only delay a move; they cannot make both sides move at once unless
//! the difference exceeds both thresholds together.
//!
//! A server asks its partner to move (POOLREQ, ISC dialect) when the partner holds more than
//! its share by twice the threshold (ISC's "panic" level), or holds any surplus at all while
//! this server has nothing left to give.

use super::config::{PoolBalance, Role};

/// How the partners share new clients, as far as balancing cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Share {
    /// The primary serves new clients; the secondary keeps a reserve.
    HotStandby,
    /// Each serves half; each holds half.
    LoadBalance,
}

/// One subnet's available addresses, as one server counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pool {
    /// FREE addresses (the primary's pool).
    pub free: usize,
    /// BACKUP addresses (the secondary's pool).
    pub backup: usize,
}

impl Pool {
    /// Every available address of the subnet.
    pub fn available(&self) -> usize {
        self.free + self.backup
    }
}

/// What one server should do for one subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Plan {
    /// Addresses to move from this server's pool into the partner's now: FREE → BACKUP for
    /// the primary, BACKUP → FREE for the secondary.
    pub give: usize,
    /// The partner holds too much: ask it to balance (POOLREQ).
    pub ask: bool,
}

/// The secondary's share of `available` addresses.
pub fn secondary_share(share: Share, available: usize, settings: &PoolBalance) -> usize {
    match share {
        Share::LoadBalance => available / 2,
        Share::HotStandby if available < 2 => 0,
        Share::HotStandby => {
            let percent = usize::from(settings.standby_reserve_percent);
            percent_of(available, percent).max(1).min(available / 2)
        }
    }
}

/// How far the secondary's holding may stray from `target` before addresses move.
pub fn threshold(share: Share, available: usize, target: usize, settings: &PoolBalance) -> usize {
    let percent = usize::from(settings.max_misbalance_percent);
    match share {
        Share::LoadBalance => percent_of(available, percent),
        Share::HotStandby => percent_of(target, percent),
    }
}

/// `percent` of `n`, rounded to nearest (ISC: `(total * percent + 50) / 100`).
fn percent_of(n: usize, percent: usize) -> usize {
    n.saturating_mul(percent).saturating_add(50) / 100
}

/// What `role` should do for a subnet it counts as `pool`.
pub fn plan(role: Role, share: Share, pool: Pool, settings: &PoolBalance) -> Plan {
    let available = pool.available();
    let target = secondary_share(share, available, settings);
    let slack = threshold(share, available, target, settings);
    let short = target.saturating_sub(pool.backup);
    let surplus = pool.backup.saturating_sub(target);
    match role {
        Role::Primary => Plan {
            give: if short > slack { short } else { 0 },
            ask: surplus > 2 * slack || (pool.free == 0 && surplus > slack),
        },
        Role::Secondary => Plan {
            give: if surplus > slack { surplus } else { 0 },
            ask: short > 2 * slack || (pool.backup == 0 && short > slack),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> PoolBalance {
        PoolBalance::default()
    }

    fn pool(free: usize, backup: usize) -> Pool {
        Pool { free, backup }
    }

    #[test]
    fn hot_standby_keeps_a_tenth_and_at_least_one_while_two_are_left() {
        let s = settings();
        assert_eq!(secondary_share(Share::HotStandby, 100, &s), 10);
        assert_eq!(secondary_share(Share::HotStandby, 7, &s), 1);
        assert_eq!(secondary_share(Share::HotStandby, 2, &s), 1);
        assert_eq!(secondary_share(Share::HotStandby, 1, &s), 0);
        assert_eq!(secondary_share(Share::HotStandby, 0, &s), 0);
        let half = PoolBalance {
            standby_reserve_percent: 50,
            ..s
        };
        assert_eq!(
            secondary_share(Share::HotStandby, 3, &half),
            1,
            "never more than half"
        );
        assert_eq!(secondary_share(Share::LoadBalance, 101, &s), 50);
    }

    #[test]
    fn a_fresh_primary_gives_the_share_and_the_secondary_keeps_it() {
        let s = settings();
        let p = plan(Role::Primary, Share::HotStandby, pool(100, 0), &s);
        assert_eq!(
            p,
            Plan {
                give: 10,
                ask: false
            }
        );
        let after = pool(90, 10);
        assert_eq!(
            plan(Role::Primary, Share::HotStandby, after, &s),
            Plan::default()
        );
        assert_eq!(
            plan(Role::Secondary, Share::HotStandby, after, &s),
            Plan::default()
        );
        let lb = plan(Role::Primary, Share::LoadBalance, pool(101, 0), &s);
        assert_eq!(lb.give, 50);
        let after = pool(51, 50);
        assert_eq!(
            plan(Role::Primary, Share::LoadBalance, after, &s),
            Plan::default()
        );
        assert_eq!(
            plan(Role::Secondary, Share::LoadBalance, after, &s),
            Plan::default()
        );
    }

    #[test]
    fn a_hot_standby_secondary_with_half_the_pool_returns_all_but_its_reserve() {
        let s = settings();
        let p = plan(Role::Secondary, Share::HotStandby, pool(50, 50), &s);
        assert_eq!(p.give, 40);
        // The primary, seeing the same, asks for it.
        assert!(plan(Role::Primary, Share::HotStandby, pool(50, 50), &s).ask);
    }

    #[test]
    fn a_primary_with_nothing_left_always_gets_something_back() {
        // Goal: whatever the secondary holds, a primary with no FREE address is owed some.
        let s = settings();
        for share in [Share::HotStandby, Share::LoadBalance] {
            for backup in 2..500 {
                let p = plan(Role::Secondary, share, pool(0, backup), &s);
                assert!(p.give >= 1, "{share:?} {backup}");
                assert!(plan(Role::Primary, share, pool(0, backup), &s).ask);
            }
        }
        // Hot standby: the very last address goes to the primary too.
        assert_eq!(
            plan(Role::Secondary, Share::HotStandby, pool(0, 1), &s).give,
            1
        );
    }

    #[test]
    fn what_one_side_moves_the_other_never_moves_back() {
        // Goal: no ping-pong (bug-catalogue I14): after either side's move, on the same
        // counts, neither side moves again.
        let s = settings();
        for share in [Share::HotStandby, Share::LoadBalance] {
            for free in 0..120 {
                for backup in 0..120 {
                    let mut counts = pool(free, backup);
                    for role in [Role::Primary, Role::Secondary] {
                        let p = plan(role, share, counts, &s);
                        match role {
                            Role::Primary => {
                                counts.free -= p.give;
                                counts.backup += p.give;
                            }
                            Role::Secondary => {
                                counts.backup -= p.give;
                                counts.free += p.give;
                            }
                        }
                    }
                    for role in [Role::Primary, Role::Secondary] {
                        let p = plan(role, share, counts, &s);
                        assert_eq!(p.give, 0, "{share:?} {free}/{backup} {role:?}: {counts:?}");
                    }
                }
            }
        }
    }
}
