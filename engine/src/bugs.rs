//! The catalogue of deliberate flaws the testbed must catch (`dhcpfo bugs`, `dhcpfo run --bug`).
//!
//! **Test-only settings.** Each [`Bug`] brings back one realistic failover flaw: the engine's own
//! earlier mistakes, the mutants of Umeno & Lynch's model checking of the protocol, and failures
//! seen in the field. A server never runs with one switched on unless a test or a user asks for
//! it; the default [`Bugs`] set is empty and a configuration file cannot name one by accident
//! (the field is skipped when empty and its values are the catalogue's names).
//!
//! A checker is only as good as the bugs it has been shown to catch: every entry names the
//! property its flaw breaks, and the testbed's tests switch each one on and require that
//! property to be reported.

use serde::{Deserialize, Serialize};

/// One deliberate flaw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    /// Times received from the partner are used raw, without the clock delta (draft-12 §5.10;
    /// the engine's own flaw, and ISC's behaviour).
    NoSkewCorrection,
    /// The time this server last operated is recorded only once per heartbeat and compared
    /// with the partner's PARTNER-DOWN time with a heartbeat of slack, so a restart after a
    /// PARTNER-DOWN declared soon after a crash takes POTENTIAL-CONFLICT instead of RECOVER
    /// (draft-12 §9.3.3; the engine's own earlier flaw).
    DownTimeRoundedToHeartbeat,
    /// An ACTIVE update for the same client overwrites the receiver's later lease with the
    /// partner's earlier one (draft-12 §5.2: the lease-expiration-time is only ever raised);
    /// found by the nemesis once clock skew was corrected.
    StaleRenewalShortensLease,
    /// A server that lost its storage serves new clients as soon as its partner lets it, and
    /// skips RECOVER-WAIT whenever the partner is in RECOVER: an address its earlier life
    /// leased goes to a second client (draft-12 §9.6; the engine's own flaw).
    LostStorageGrantsEarly,
    /// Two records of one lease that differ by less than the wire's precision are each taken
    /// for the later one, so each server sends its own back to the other without end (found
    /// by the nemesis once later leases were kept).
    SameLeasePingPong,
    /// Pool balancing as it was before both directions: the primary gives the secondary half
    /// of the available addresses whatever the mode, and the secondary never returns BACKUP
    /// addresses nor asks for a balance, so a hot-standby primary runs dry while half the pool
    /// sits idle on a secondary that serves no new client (draft-12.md §7.1; the engine's own
    /// earlier flaw).
    HotStandbyHoardsBackup,
    /// An offer that can no longer be leased is offered again, and the REQUEST it draws is
    /// NAKed: the client loops DISCOVER-OFFER-REQUEST-NAK (bug-catalogue W1; found by the
    /// nemesis once the secondary gave addresses back).
    OfferNakLoop,
    /// Two dueling updates for an address neither server has ACTIVE are settled for the
    /// primary whatever the times, while the secondary's acceptance table rejects the older
    /// one: each rejects the other's and the databases stay apart (draft-12 §7.1.3; ISC bug
    /// I13's kind).
    DuelDeadlock,
    /// A RELEASED in the same wire second as the renewal it ends is rejected as outdated
    /// (time(1) of draft-12 §7.1.3 on whole-second CLTTs): the address is lost to the pool
    /// (ISC field bug I3's kind; found by `load-balance-partition-2h`).
    SameSecondReleaseRejected,
    /// A grant ignores the MCLT cap: a new client gets the full lease at once, and a renewal
    /// reaches past what the partner has acknowledged plus the MCLT (draft-12 §5.2.1, §7.1.5).
    GrantPastMclt,
    /// Losing contact with the partner is taken as the partner being down:
    /// COMMUNICATIONS-INTERRUPTED becomes PARTNER-DOWN at once, and after the MCLT both servers of
    /// a partitioned pair give out each other's addresses (Umeno & Lynch's first mutant, a stronger
    /// failure assumption; Kea's K9).
    CommLossIsPartnerDown,
    /// A secondary out of touch with its primary takes FREE addresses, the primary's pool, as its
    /// own (draft-12 §5.4, §9.9.2: in COMMUNICATIONS-INTERRUPTED a server allocates only from its
    /// own pool), while the primary goes on leasing them.
    SecondaryAllocatesFromFree,
    /// PARTNER-DOWN waits no MCLT: the partner's pool is taken at once and another client's address
    /// as soon as its own times have passed (draft-12 §9.4.2: the partner may have leased them, up
    /// to the MCLT, before it went down).
    PartnerDownNoMcltWait,
    /// A received BNDUPD that ends a binding (EXPIRED, FREE or BACKUP) is applied over the
    /// receiver's ACTIVE lease without the time(2) check that the receiver's lease has run out
    /// (draft-12 §7.1.3, Fig 7.1.3-1): a lease the receiver extended while the partner could not
    /// hear it is freed and given to another client (Umeno & Lynch's second mutant, a missing check
    /// on a received message).
    BndupdTimeCheckMissing,
    /// Every received BNDUPD is applied as it comes: no acceptance rules (draft-12 §7.1.3) and no
    /// resolution of dueling updates, the partner's word always wins.
    AcceptBndupdWithoutRules,
    /// A lease that reaches its end is reclaimed at once, as a server without a partner would: it
    /// goes straight to FREE instead of EXPIRED until the partner acknowledges (draft-12 §5.2.2),
    /// though the partner may have renewed it unheard (Kea's K4, a standby that expires and
    /// reclaims a lease the primary renewed while they were out of touch).
    ExpiredFreedWithoutAck,
    /// The reply leaves before the binding is on stable storage: the record is appended and the ACK
    /// sent, and the log reaches the disk only with a later write's sync (draft-12 §5.1, RFC 2131
    /// §4.3.1: commit the binding first). A crash in between forgets a lease a client was told of.
    AckBeforeStableStorage,
    /// Updates the partner had not acknowledged when the connection dropped are forgotten, taken as
    /// delivered, instead of being sent again on the next connection (draft-12 §7.1.1: a BNDUPD is
    /// acknowledged on its connection or not at all; Kea's K3, a standby that did not resync after
    /// an interruption): the partners' databases drift apart.
    ForgetUnackedOnReconnect,
    /// RECOVER-WAIT ends at once: a recovering server serves as soon as it has its partner's
    /// bindings, without waiting the MCLT past the time it went down (draft-12 §9.6).
    SkipRecoverWait,
    /// With a shared secret, a received failover message whose digest is missing or wrong is
    /// counted and then processed as if it were signed, instead of dropping the connection
    /// (MS-DHCPF §3.1.5, §5.1; draft-12 §11.1): anyone on the failover link who does not know
    /// the secret can speak for the partner.
    AcceptBadDigest,
    /// A server that lost its storage and crashes again before it has recovered (reached
    /// NORMAL) boots as if its storage were whole: the lost state is not on stable storage, so
    /// RECOVER asks only for updates (UPDREQ, not UPDREQALL) and the wait for the leases its
    /// lost life may have granted is skipped (draft-12 §9.3.1, §9.5.2). The partner sends
    /// nothing it believes the server already has, and their databases stay apart (found by
    /// the swarm, seed 122).
    LostStorageForgottenOnRestart,
    /// Dueling updates are ordered by client transaction times compared to the millisecond,
    /// although the partner's arrive in whole seconds through an estimated clock delta
    /// (draft-12 §5.10): two EXPIREDs of one lease, stamped a second apart by the two
    /// servers' own expiry, each look older to the other; both are rejected, neither server
    /// frees the address without its partner's acknowledgement, and it is lost to the pool
    /// (found by the swarm, seed 2372: clients left without an address).
    DuelByExactTime,
    /// The partner's potential-expiration-time counts in the grant limit as read through the
    /// clock delta's estimate, which errs late by the transit it cannot see: over a connection
    /// opened during a delay spike a server grants leases that run past what its partner will
    /// wait for (draft-12 §5.10, §7.1.5; found by the swarm, seeds 209, 1021 and 1323 of
    /// 3 000). The correct engine reads it through the delta's round-trip floor.
    PetReadLate,
    /// Both sides of a duel judge it alike: the same tie band for the two client transaction
    /// times, each measured on the side's own clock (the partner's in whole seconds through the
    /// clock delta, draft-12 §5.10), a tie-break by binding state, and the acceptance table
    /// after an accepted duel. Near the band's edge one side sees a tie and keeps its own while
    /// the other sees the partner's older, or the table vetoes the accepting side: both reject,
    /// and the pair disagrees for good (found by the swarm, seeds 2775 and 1903). The correct
    /// engine gives the secondary a tie band wider by the two truncated seconds, breaks ties for
    /// the primary, and makes a duel's verdict final.
    DuelJudgedAlike,
    /// A server that lost its storage acknowledges its partner's EXPIRED, RELEASED and RESET
    /// updates while a lease of its lost life may still run: the partner frees the address and
    /// gives it to a second client while the first holds a renewal the partner never heard of
    /// (draft-12 §9.3.1, §9.6; found by the swarm, seed 277: a crash right after a DHCPACK,
    /// before its BNDUPD left).
    LostStorageAcksEndings,
    /// A server in PARTNER-DOWN holds its binding updates while its partner recovers, and
    /// leaves PARTNER-DOWN before the queued ones are out: the partner comes back to NORMAL
    /// without the PARTNER-DOWN grants made from its own pool and gives such an address to a
    /// new client (draft-12 §9.6, Fig 9.5.2-1; found by the swarm, seed 5125 of 10 000).
    PartnerDownHoldsUpdates,
    /// The clock delta follows a step of the partner's clock smaller than the step threshold
    /// only at the drift bound, even once a round trip shows the true delta above the
    /// estimate: for many minutes every partner time reads early, and a RELEASED naming the
    /// lease the receiver holds looks like another lease and is rejected (draft-12 §5.10; found
    /// by the swarm, seed 3339 of 10 000).
    StaleDeltaAfterSmallStep,
    /// A duel between a client's update and FREE or BACKUP is judged by client transaction
    /// times, which a pool state does not carry: the secondary rejects the primary's BACKUP as
    /// the older, the primary ties it with its leftover time and keeps its own, and the two
    /// disagree for good (draft-12.md §6.3; found by the swarm, seed 9607 of 10 000).
    DuelPoolStateByTime,
    /// RESOLUTION-INTERRUPTED gives out new addresses from the own pool, as draft-12 §9.11
    /// has it ("like COMMUNICATIONS-INTERRUPTED"), though the pair is resolving a conflict
    /// because a partner was in PARTNER-DOWN, where it took that pool after the MCLT: an address
    /// it gave out goes to a second client (found by the swarm's isolated server with the link
    /// cut during the resolution; ISC does not answer in this state).
    ResolutionInterruptedAllocates,
    /// The same-lease rule takes a RELEASED that names the receiver's client and lease end as
    /// that lease ending whatever its CLTT: a client that released at one server and got its
    /// address again from the other, out of touch, until the same end has its new lease ended
    /// by the older RELEASED, and the address goes to a second client (draft-12 §7.1.3; found
    /// by the swarm's release-renew clients, seed 802).
    SameLeaseReleaseIgnoresCltt,
    /// An acknowledged update that carried no potential-expiration-time (the Microsoft
    /// dialect's FREE and BACKUP: MUST NOT, MS-DHCPF §3.1.5.2) is taken as the partner knowing
    /// the binding's leftover PET from an earlier lease: a later grant of the address runs the
    /// MCLT past a PET the partner never received (draft-12 §7.1.5; found by the swarm, seed
    /// 3325, after the partner lost its storage).
    AckCreditsUnsentPet,
    /// A binding update missing what its binding-status requires (an ACTIVE without its
    /// client, lease-expiration-time or potential-expiration-time; an EXPIRED or RELEASED
    /// naming no client) is acknowledged and applied as it is, instead of rejected with reason
    /// 3 (draft-12 §7.1.3: "MUST be applied to every BNDUPD"): the receiver takes a sloppy
    /// foreign partner's word for a lease it cannot place (found with the swarm's sloppy
    /// partner, which sends such updates).
    AcceptIncompleteUpdate,
}

impl Bug {
    /// Every bug, in catalogue order.
    pub const ALL: [Bug; 32] = [
        Bug::NoSkewCorrection,
        Bug::DownTimeRoundedToHeartbeat,
        Bug::StaleRenewalShortensLease,
        Bug::LostStorageGrantsEarly,
        Bug::SameLeasePingPong,
        Bug::HotStandbyHoardsBackup,
        Bug::OfferNakLoop,
        Bug::DuelDeadlock,
        Bug::SameSecondReleaseRejected,
        Bug::GrantPastMclt,
        Bug::CommLossIsPartnerDown,
        Bug::SecondaryAllocatesFromFree,
        Bug::PartnerDownNoMcltWait,
        Bug::BndupdTimeCheckMissing,
        Bug::AcceptBndupdWithoutRules,
        Bug::ExpiredFreedWithoutAck,
        Bug::AckBeforeStableStorage,
        Bug::ForgetUnackedOnReconnect,
        Bug::SkipRecoverWait,
        Bug::AcceptBadDigest,
        Bug::LostStorageForgottenOnRestart,
        Bug::DuelByExactTime,
        Bug::PetReadLate,
        Bug::DuelJudgedAlike,
        Bug::LostStorageAcksEndings,
        Bug::PartnerDownHoldsUpdates,
        Bug::StaleDeltaAfterSmallStep,
        Bug::DuelPoolStateByTime,
        Bug::ResolutionInterruptedAllocates,
        Bug::SameLeaseReleaseIgnoresCltt,
        Bug::AckCreditsUnsentPet,
        Bug::AcceptIncompleteUpdate,
    ];

    /// The catalogued flaw that undoes the defence now masking this one, if one does: this
    /// flaw breaks its property only with that one on too, and every `--bug` switches both
    /// ([`Bugs::showing`]). The flaw stays catalogued because the defence is a second line:
    /// the first must hold by itself.
    pub fn masked_by(self) -> Option<Bug> {
        match self {
            // Its restart took POTENTIAL-CONFLICT and, cut off, served its own pool in
            // RESOLUTION-INTERRUPTED, which the partner's PARTNER-DOWN had given out; that
            // state now gives out no new address.
            Bug::DownTimeRoundedToHeartbeat => Some(Bug::ResolutionInterruptedAllocates),
            _ => None,
        }
    }

    /// The name `--bug` takes.
    pub fn name(self) -> &'static str {
        match self {
            Bug::NoSkewCorrection => "no-skew-correction",
            Bug::DownTimeRoundedToHeartbeat => "down-time-rounded-to-heartbeat",
            Bug::StaleRenewalShortensLease => "stale-renewal-shortens-lease",
            Bug::LostStorageGrantsEarly => "lost-storage-grants-early",
            Bug::SameLeasePingPong => "same-lease-ping-pong",
            Bug::HotStandbyHoardsBackup => "hot-standby-hoards-backup",
            Bug::OfferNakLoop => "offer-nak-loop",
            Bug::DuelDeadlock => "duel-deadlock",
            Bug::SameSecondReleaseRejected => "same-second-release-rejected",
            Bug::GrantPastMclt => "grant-past-mclt",
            Bug::CommLossIsPartnerDown => "comm-loss-is-partner-down",
            Bug::SecondaryAllocatesFromFree => "secondary-allocates-from-free",
            Bug::PartnerDownNoMcltWait => "partner-down-no-mclt-wait",
            Bug::BndupdTimeCheckMissing => "bndupd-time-check-missing",
            Bug::AcceptBndupdWithoutRules => "accept-bndupd-without-rules",
            Bug::ExpiredFreedWithoutAck => "expired-freed-without-ack",
            Bug::AckBeforeStableStorage => "ack-before-stable-storage",
            Bug::ForgetUnackedOnReconnect => "forget-unacked-on-reconnect",
            Bug::SkipRecoverWait => "skip-recover-wait",
            Bug::AcceptBadDigest => "accept-bad-digest",
            Bug::LostStorageForgottenOnRestart => "lost-storage-forgotten-on-restart",
            Bug::DuelByExactTime => "duel-by-exact-time",
            Bug::PetReadLate => "pet-read-late",
            Bug::DuelJudgedAlike => "duel-judged-alike",
            Bug::LostStorageAcksEndings => "lost-storage-acks-endings",
            Bug::PartnerDownHoldsUpdates => "partner-down-holds-updates",
            Bug::StaleDeltaAfterSmallStep => "stale-delta-after-small-step",
            Bug::DuelPoolStateByTime => "duel-pool-state-by-time",
            Bug::ResolutionInterruptedAllocates => "resolution-interrupted-allocates",
            Bug::SameLeaseReleaseIgnoresCltt => "same-lease-release-ignores-cltt",
            Bug::AckCreditsUnsentPet => "ack-credits-unsent-pet",
            Bug::AcceptIncompleteUpdate => "accept-incomplete-update",
        }
    }

    /// The bug named `name`.
    pub fn from_name(name: &str) -> Option<Bug> {
        Bug::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The property a run with this bug breaks.
    pub fn property(self) -> &'static str {
        match self {
            Bug::NoSkewCorrection | Bug::GrantPastMclt => "mclt",
            Bug::DownTimeRoundedToHeartbeat
            | Bug::StaleRenewalShortensLease
            | Bug::LostStorageGrantsEarly => "no-duplicate-lease",
            Bug::SameLeasePingPong
            | Bug::OfferNakLoop
            | Bug::DuelDeadlock
            | Bug::SameSecondReleaseRejected => "liveness",
            Bug::HotStandbyHoardsBackup => "pool-balance",
            Bug::CommLossIsPartnerDown => "no-duplicate-lease",
            Bug::SecondaryAllocatesFromFree => "no-duplicate-lease",
            // The checker's PARTNER-DOWN reuse rule sees the early reuse before any client
            // holds the address twice.
            Bug::PartnerDownNoMcltWait => "mclt",
            Bug::BndupdTimeCheckMissing => "no-duplicate-lease",
            Bug::AcceptBndupdWithoutRules => "no-duplicate-lease",
            Bug::ExpiredFreedWithoutAck => "no-duplicate-lease",
            // The durability checker reads the restarted database before a client is hurt.
            Bug::AckBeforeStableStorage => "durability",
            Bug::ForgetUnackedOnReconnect => "liveness",
            Bug::SkipRecoverWait => "no-duplicate-lease",
            // A forged RELEASED frees a leased address at the receiver, which gives it to the
            // next new client while its holder still has it.
            Bug::AcceptBadDigest => "no-duplicate-lease",
            // The partner never sends what it believes the server has: their databases differ.
            Bug::LostStorageForgottenOnRestart => "liveness",
            // Addresses stuck EXPIRED on both sides: clients go without one.
            Bug::DuelByExactTime => "liveness",
            Bug::PetReadLate => "mclt",
            Bug::DuelJudgedAlike => "liveness",
            Bug::LostStorageAcksEndings => "no-duplicate-lease",
            Bug::PartnerDownHoldsUpdates => "no-duplicate-lease",
            Bug::StaleDeltaAfterSmallStep => "liveness",
            Bug::DuelPoolStateByTime => "liveness",
            Bug::ResolutionInterruptedAllocates => "no-duplicate-lease",
            Bug::SameLeaseReleaseIgnoresCltt => "no-duplicate-lease",
            Bug::AckCreditsUnsentPet => "mclt",
            // The BNDACK on the wire accepts what the draft says to reject.
            Bug::AcceptIncompleteUpdate => "update-validation",
        }
    }

    /// One sentence: what the flaw is and where it comes from.
    pub fn description(self) -> &'static str {
        match self {
            Bug::NoSkewCorrection => {
                "times from the partner are used raw, without the clock delta (draft-12 §5.10; \
                 ISC does this)"
            }
            Bug::DownTimeRoundedToHeartbeat => {
                "the last operating time is kept to a heartbeat, so a PARTNER-DOWN declared \
                 soon after a crash is not seen as later (draft-12 §9.3.3); masked by \
                 RESOLUTION-INTERRUPTED giving out no new address, so shown with \
                 resolution-interrupted-allocates on too"
            }
            Bug::StaleRenewalShortensLease => {
                "a partner's earlier ACTIVE update for the same client shortens the later lease \
                 the receiver granted (draft-12 §5.2)"
            }
            Bug::LostStorageGrantsEarly => {
                "a server that lost its storage gives addresses to new clients before its \
                 earlier life's leases can have ended (draft-12 §9.6)"
            }
            Bug::SameLeasePingPong => {
                "two records of one lease a second apart are each sent back as the later one, \
                 without end (draft-12 §5.10 precision)"
            }
            Bug::HotStandbyHoardsBackup => {
                "the secondary never gives BACKUP addresses back and the primary gives it half \
                 the pool even in hot standby, where the secondary serves no new client \
                 (draft-12.md §7.1)"
            }
            Bug::OfferNakLoop => {
                "an offer that can no longer be leased is offered again and its REQUEST NAKed, \
                 so the client loops DISCOVER-OFFER-REQUEST-NAK (field bug W1)"
            }
            Bug::DuelDeadlock => {
                "dueling updates are settled for the primary whatever the times while the \
                 secondary's table rejects the older one, so both reject (draft-12 §7.1.3)"
            }
            Bug::SameSecondReleaseRejected => {
                "a RELEASED in the same wire second as the renewal it ends is rejected as \
                 outdated, and the address is lost to the pool (field bug I3)"
            }
            Bug::GrantPastMclt => {
                "grants ignore the MCLT cap: the full lease at once, whatever the partner has \
                 acknowledged (draft-12 §5.2.1)"
            }
            Bug::CommLossIsPartnerDown => {
                "losing contact with the partner is taken as the partner being down: \
                 COMMUNICATIONS-INTERRUPTED becomes PARTNER-DOWN at once (Umeno & Lynch mutant 1)"
            }
            Bug::SecondaryAllocatesFromFree => {
                "in COMMUNICATIONS-INTERRUPTED the secondary allocates FREE addresses, the \
                 primary's pool, as if they were its own (draft-12 §9.9.2)"
            }
            Bug::PartnerDownNoMcltWait => {
                "PARTNER-DOWN takes the partner's pool and its clients' addresses without waiting \
                 the MCLT (draft-12 §9.4.2)"
            }
            Bug::BndupdTimeCheckMissing => {
                "a received EXPIRED, FREE or BACKUP update overrides the receiver's unexpired \
                 ACTIVE lease: the time(2) check of the acceptance rules is missing (draft-12 \
                 §7.1.3; Umeno & Lynch mutant 2)"
            }
            Bug::AcceptBndupdWithoutRules => {
                "every received BNDUPD is accepted: no acceptance rules, no dueling-update \
                 resolution (draft-12 §7.1.3)"
            }
            Bug::ExpiredFreedWithoutAck => {
                "an expired lease goes straight back to the pool, without the partner's \
                 acknowledgement of the EXPIRED update (draft-12 §5.2.2; Kea K4)"
            }
            Bug::AckBeforeStableStorage => {
                "the DHCPACK is sent before the binding is synced to stable storage; a crash then \
                 forgets a lease a client holds (draft-12 §5.1; RFC 2131 §4.3.1)"
            }
            Bug::ForgetUnackedOnReconnect => {
                "updates unacknowledged when the connection drops are taken as delivered and \
                 never sent again; the databases drift apart (draft-12 §7.1.1; Kea K3)"
            }
            Bug::SkipRecoverWait => {
                "RECOVER-WAIT ends at once instead of waiting the MCLT past the time the server \
                 went down (draft-12 §9.6)"
            }
            Bug::AcceptBadDigest => {
                "accept MS-DHCPF messages without a valid digest: a missing or wrong one is \
                 counted but the message is processed, so an attacker on the failover link \
                 speaks for the partner (MS-DHCPF §3.1.5)"
            }
            Bug::LostStorageForgottenOnRestart => {
                "a server that lost its storage and crashes again before it recovered boots as \
                 if its storage were whole: UPDREQ instead of UPDREQALL, no wait for its lost \
                 leases (draft-12 §9.3.1, §9.5.2)"
            }
            Bug::DuelByExactTime => {
                "dueling updates are ordered by client transaction times to the millisecond, \
                 though the partner's arrive in whole seconds through a clock delta (draft-12 \
                 §5.10): both sides reject, and the address never returns to the pool"
            }
            Bug::PetReadLate => {
                "the partner's PET lets a grant run the MCLT past it as read through the clock \
                 delta's estimate, which errs late by a delay spike's transit (draft-12 §5.10, \
                 §7.1.5); the floor from round trips reads it never later than it is"
            }
            Bug::DuelJudgedAlike => {
                "both sides of a duel judge it alike, each on its own clock: the same tie band, a \
                 tie-break by state, the acceptance table after an accepted duel; near the \
                 band's edge both reject, and the pair disagrees for good"
            }
            Bug::LostStorageAcksEndings => {
                "a server that lost its storage acknowledges its partner's EXPIRED and RELEASED \
                 while a lease of its lost life may still run: the partner frees the address \
                 under a client it never heard of (draft-12 §9.3.1, §9.6)"
            }
            Bug::PartnerDownHoldsUpdates => {
                "a server in PARTNER-DOWN holds its binding updates while its partner recovers \
                 and leaves PARTNER-DOWN with some still queued: the partner serves its pool \
                 again without the grants made from it (draft-12 §9.6)"
            }
            Bug::StaleDeltaAfterSmallStep => {
                "after a small step of the partner's clock the delta rises only at the drift \
                 bound though a round trip shows it higher: partner times read early for \
                 minutes (draft-12 §5.10)"
            }
            Bug::DuelPoolStateByTime => {
                "a duel of a client's update with FREE or BACKUP is judged by client \
                 transaction times, which a pool state lacks: both sides reject, for good \
                 (draft-12.md §6.3)"
            }
            Bug::ResolutionInterruptedAllocates => {
                "RESOLUTION-INTERRUPTED gives out its own pool as COMMUNICATIONS-INTERRUPTED \
                 does (draft-12 §9.11), though the partner's PARTNER-DOWN may have taken it"
            }
            Bug::SameLeaseReleaseIgnoresCltt => {
                "a RELEASED naming the receiver's client and lease end is taken as that lease \
                 ending whatever its CLTT, so a release before a new lease of the same end \
                 ends the new one (draft-12 §7.1.3)"
            }
            Bug::AckCreditsUnsentPet => {
                "an acknowledged update without a potential-expiration-time (Microsoft \
                 dialect FREE or BACKUP) counts the binding's leftover PET as known to the \
                 partner, so a later grant runs past what it knows (draft-12 §7.1.5)"
            }
            Bug::AcceptIncompleteUpdate => {
                "a binding update missing what its status requires (an ACTIVE without client, \
                 lease end or PET) is acknowledged and applied instead of rejected with reason \
                 3 (draft-12 §7.1.3)"
            }
        }
    }
}

/// A set of bugs switched on (empty by default: the correct engine).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bugs(u64);

impl Bugs {
    /// No bug: the correct engine.
    pub const NONE: Bugs = Bugs(0);

    /// Whether `bug` is on.
    pub fn has(self, bug: Bug) -> bool {
        self.0 & (1 << bug as u64) != 0
    }

    /// This set with `bug` on.
    #[must_use]
    pub fn with(self, bug: Bug) -> Bugs {
        Bugs(self.0 | 1 << bug as u64)
    }

    /// This set with `bug` on, and the flaw that undoes the defence masking it
    /// ([`Bug::masked_by`]): what shows `bug`.
    #[must_use]
    pub fn showing(self, bug: Bug) -> Bugs {
        let set = self.with(bug);
        bug.masked_by().map_or(set, |m| set.with(m))
    }

    /// Whether no bug is on.
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    /// The bugs on, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Bug> {
        Bug::ALL.into_iter().filter(move |b| self.has(*b))
    }
}

impl FromIterator<Bug> for Bugs {
    fn from_iter<I: IntoIterator<Item = Bug>>(iter: I) -> Bugs {
        iter.into_iter().fold(Bugs::NONE, Bugs::with)
    }
}

impl Serialize for Bugs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Bugs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Bugs, D::Error> {
        Ok(Vec::<Bug>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        for b in Bug::ALL {
            assert_eq!(Bug::from_name(b.name()), Some(b));
            assert_eq!(Bug::ALL.iter().filter(|o| o.name() == b.name()).count(), 1);
        }
        assert_eq!(Bug::from_name("no-such-bug"), None);
    }

    #[test]
    fn a_set_holds_what_was_put_in() {
        let set: Bugs = [Bug::DownTimeRoundedToHeartbeat].into_iter().collect();
        assert!(set.has(Bug::DownTimeRoundedToHeartbeat));
        assert!(!set.has(Bug::NoSkewCorrection));
        assert!(Bugs::NONE.is_empty());
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Bug::DownTimeRoundedToHeartbeat]
        );
    }

    #[test]
    fn showing_a_masked_flaw_undoes_its_defence_too() {
        let shown = Bugs::NONE.showing(Bug::DownTimeRoundedToHeartbeat);
        assert_eq!(
            shown.iter().collect::<Vec<_>>(),
            [
                Bug::DownTimeRoundedToHeartbeat,
                Bug::ResolutionInterruptedAllocates
            ]
        );
        assert_eq!(
            Bugs::NONE.showing(Bug::NoSkewCorrection),
            Bugs::NONE.with(Bug::NoSkewCorrection)
        );
        // A defence is never masked itself.
        for b in Bug::ALL {
            if let Some(m) = b.masked_by() {
                assert_eq!(m.masked_by(), None, "{}", b.name());
                assert_ne!(m, b);
            }
        }
    }
}
