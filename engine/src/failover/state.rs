//! The failover endpoint's states and the transitions between them (draft-12 §9, Fig 9.2-1),
//! as pure functions: the relationship calls them and carries out what they return.
//!
//! We implement the draft's table (draft-12.md §4.2). Where ISC dhcpd departs from it
//! (draft-12.md §4.3), the draft wins, with one exception taken from ISC because the draft
//! allows it: two servers that both start in RECOVER skip RECOVER-WAIT (draft-12 §9.6 "MAY skip
//! the wait if the partner's information shows this is the first failover run").

use crate::wire::failover::ServerState;

/// A failover endpoint state (draft-12 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FoState {
    /// Booting: unresponsive until the partner is heard or the startup timer fires.
    Startup,
    /// Both up and in touch: balanced service.
    Normal,
    /// Partner unreachable: serve from the own pool with MCLT-limited leases.
    CommunicationsInterrupted,
    /// Partner known to be down: serve everyone, take its pool after MCLT.
    PartnerDown,
    /// Both may have served the same addresses: reconcile before serving.
    PotentialConflict,
    /// POTENTIAL-CONFLICT, then the connection failed.
    ResolutionInterrupted,
    /// The primary has the secondary's data (primary only).
    ConflictDone,
    /// Lost or doubtful data: learn the partner's before serving.
    Recover,
    /// Data learned; waiting out the MCLT before serving.
    RecoverWait,
    /// Ready to serve; waiting for the partner.
    RecoverDone,
    /// Going down for a short while.
    Paused,
    /// Going down for good.
    Shutdown,
}

impl FoState {
    /// The server-state value sent in STATE (draft-12 §12.24; RECOVER-WAIT is ISC's 254).
    pub fn to_wire(self) -> ServerState {
        match self {
            FoState::Startup => ServerState::Startup,
            FoState::Normal => ServerState::Normal,
            FoState::CommunicationsInterrupted => ServerState::CommunicationsInterrupted,
            FoState::PartnerDown => ServerState::PartnerDown,
            FoState::PotentialConflict => ServerState::PotentialConflict,
            FoState::ResolutionInterrupted => ServerState::ResolutionInterrupted,
            FoState::ConflictDone => ServerState::ConflictDone,
            FoState::Recover => ServerState::Recover,
            FoState::RecoverWait => ServerState::RecoverWait,
            FoState::RecoverDone => ServerState::RecoverDone,
            FoState::Paused => ServerState::Paused,
            FoState::Shutdown => ServerState::Shutdown,
        }
    }

    /// The state a received server-state names, if it is one we know.
    pub fn from_wire(s: ServerState) -> Option<FoState> {
        Some(match s {
            ServerState::Startup => FoState::Startup,
            ServerState::Normal => FoState::Normal,
            ServerState::CommunicationsInterrupted => FoState::CommunicationsInterrupted,
            ServerState::PartnerDown => FoState::PartnerDown,
            ServerState::PotentialConflict => FoState::PotentialConflict,
            ServerState::ResolutionInterrupted => FoState::ResolutionInterrupted,
            ServerState::ConflictDone => FoState::ConflictDone,
            ServerState::Recover => FoState::Recover,
            ServerState::RecoverWait => FoState::RecoverWait,
            ServerState::RecoverDone => FoState::RecoverDone,
            ServerState::Paused => FoState::Paused,
            ServerState::Shutdown => FoState::Shutdown,
            ServerState::Unknown(_) => return None,
        })
    }

    /// The lower-case name used in logs and traces.
    pub fn name(self) -> &'static str {
        self.to_wire().name()
    }

    /// The state after communication with the partner fails (draft-12 §9.2: NORMAL →
    /// COMMUNICATIONS-INTERRUPTED, POTENTIAL-CONFLICT → RESOLUTION-INTERRUPTED, others stay).
    pub fn comm_failed(self) -> FoState {
        match self {
            FoState::Normal => FoState::CommunicationsInterrupted,
            FoState::PotentialConflict => FoState::ResolutionInterrupted,
            s => s,
        }
    }

    /// What this state may answer (draft-12 §4.1 of draft-12.md, from draft-12 §9).
    ///
    /// One departure from the draft: RESOLUTION-INTERRUPTED renews and rebinds but gives out no
    /// new address. Draft-12 §9.11 has it act like COMMUNICATIONS-INTERRUPTED, allocating from
    /// its own pool; but a pair resolves a conflict only because one of them was in
    /// PARTNER-DOWN, which takes the other's pool once the MCLT has passed (§9.4.2), and until
    /// the resolution is done the server cannot know which of its own addresses the partner
    /// gave out. The swarm found the duplicate (a server isolated from partner and clients,
    /// declared down, the link cut again during the resolution, its clients back: catalogue
    /// `resolution-interrupted-allocates`). ISC answers nothing in this state (draft-12.md
    /// §4.1); renewals of leases the client already holds are safe, as RECOVER-DONE's are.
    pub fn service(self) -> Service {
        match self {
            FoState::Normal => Service::Balanced,
            FoState::CommunicationsInterrupted | FoState::PartnerDown | FoState::ConflictDone => {
                Service::Responsive
            }
            FoState::RecoverDone | FoState::ResolutionInterrupted => Service::RenewOnly,
            FoState::Startup
            | FoState::PotentialConflict
            | FoState::Recover
            | FoState::RecoverWait
            | FoState::Paused
            | FoState::Shutdown => Service::None,
        }
    }
}

/// How much of the client traffic a state answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Nothing.
    None,
    /// RENEW and REBIND only (RECOVER-DONE, draft-12 §9.7).
    RenewOnly,
    /// RENEW and REBIND from anyone; new clients only from this server's hash buckets
    /// (NORMAL, draft-12 §9.8.2).
    Balanced,
    /// Everyone.
    Responsive,
}

/// What to do when a STATE from the partner arrives (or, in STARTUP, the first one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Reaction {
    /// Move to this state.
    pub next: Option<FoState>,
    /// Ask the partner for its unacknowledged updates.
    pub send_updreq: bool,
}

/// The draft-12 §9 reaction of a server in `me` to the partner reporting `partner`.
///
/// `primary` says whether this server is the primary (POTENTIAL-CONFLICT is resolved primary
/// first). `partner_startup` is the STARTUP flag of the partner's STATE. STARTUP itself is
/// handled by [`leave_startup`] first.
pub fn on_partner_state(
    me: FoState,
    partner: FoState,
    partner_startup: bool,
    primary: bool,
) -> Reaction {
    use FoState::*;
    let go = |s| Reaction {
        next: Some(s),
        send_updreq: false,
    };
    let stay = Reaction::default();
    match me {
        // draft-12 §9.8.2: a partner that paused is no longer cooperating; one that shut
        // down is down; anything but a cooperating state is a failure, then COMM-INT's rule.
        // A primary in CONFLICT-DONE is the expected partner of a secondary that just finished
        // POTENTIAL-CONFLICT (draft-12 §9.10.3, Fig 9.10.3-1): it follows to NORMAL.
        Normal => match partner {
            Normal | CommunicationsInterrupted | RecoverDone | Startup | ConflictDone => stay,
            Paused => go(CommunicationsInterrupted),
            Shutdown => go(PartnerDown),
            Recover | RecoverWait => go(CommunicationsInterrupted),
            PartnerDown | PotentialConflict | ResolutionInterrupted => go(PotentialConflict),
        },
        // draft-12 §9.9.3.
        CommunicationsInterrupted => match partner {
            Normal | CommunicationsInterrupted | RecoverDone => go(Normal),
            Recover | RecoverWait | Paused | Startup => stay,
            PartnerDown | PotentialConflict | ConflictDone | ResolutionInterrupted => {
                go(PotentialConflict)
            }
            Shutdown => go(PartnerDown),
        },
        // draft-12 §9.4.3: a restarting partner (STARTUP flag) is ignored until it settles.
        PartnerDown if partner_startup => stay,
        PartnerDown => match partner {
            Normal
            | CommunicationsInterrupted
            | PartnerDown
            | PotentialConflict
            | ResolutionInterrupted
            | ConflictDone => go(PotentialConflict),
            Recover | RecoverWait | Shutdown | Paused | Startup => stay,
            RecoverDone => go(Normal),
        },
        // draft-12 §9.5.3: a partner resolving a conflict makes this one too; otherwise ask.
        Recover => match partner {
            PotentialConflict | ResolutionInterrupted | ConflictDone => go(PotentialConflict),
            _ => Reaction {
                next: None,
                send_updreq: true,
            },
        },
        // draft-12 §9.7.
        RecoverDone => match partner {
            Normal | RecoverDone => go(Normal),
            _ => stay,
        },
        // draft-12 §9.10: the secondary asks once the primary has its data.
        PotentialConflict => match partner {
            ConflictDone if !primary => Reaction {
                next: None,
                send_updreq: true,
            },
            _ => stay,
        },
        // draft-12 §9.11: back in touch, whatever the partner says.
        ResolutionInterrupted => go(PotentialConflict),
        // draft-12 §9.12.
        ConflictDone => match partner {
            Normal => go(Normal),
            _ => stay,
        },
        RecoverWait | Startup | Paused | Shutdown => stay,
    }
}

/// The state a server leaves STARTUP for when it first hears its partner (draft-12 §9.3.3):
/// its previous state, except that a partner in PARTNER-DOWN sends it to RECOVER if the partner
/// went down-mode after this server last operated, and to POTENTIAL-CONFLICT otherwise.
pub fn leave_startup(
    previous: FoState,
    partner: FoState,
    partner_went_down_after_us: bool,
) -> FoState {
    if partner == FoState::PartnerDown && previous != FoState::Recover {
        if partner_went_down_after_us {
            return FoState::Recover;
        }
        return match previous {
            FoState::RecoverWait | FoState::RecoverDone => previous,
            _ => FoState::PotentialConflict,
        };
    }
    match previous {
        FoState::Startup => FoState::Recover,
        s => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FoState::*;

    const ALL: [FoState; 12] = [
        Startup,
        Normal,
        CommunicationsInterrupted,
        PartnerDown,
        PotentialConflict,
        ResolutionInterrupted,
        ConflictDone,
        Recover,
        RecoverWait,
        RecoverDone,
        Paused,
        Shutdown,
    ];

    #[test]
    fn wire_values_round_trip_and_recover_wait_is_254() {
        for s in ALL {
            assert_eq!(FoState::from_wire(s.to_wire()), Some(s));
        }
        assert_eq!(RecoverWait.to_wire().to_wire(), 254);
        assert_eq!(FoState::from_wire(ServerState::Unknown(77)), None);
    }

    #[test]
    fn communication_failure_moves_only_normal_and_potential_conflict() {
        assert_eq!(Normal.comm_failed(), CommunicationsInterrupted);
        assert_eq!(PotentialConflict.comm_failed(), ResolutionInterrupted);
        for s in ALL {
            if !matches!(s, Normal | PotentialConflict) {
                assert_eq!(s.comm_failed(), s);
            }
        }
    }

    #[test]
    fn communications_interrupted_rejoins_normal_or_resolves_a_conflict() {
        let r = |p| on_partner_state(CommunicationsInterrupted, p, false, true).next;
        assert_eq!(r(Normal), Some(Normal));
        assert_eq!(r(CommunicationsInterrupted), Some(Normal));
        assert_eq!(r(RecoverDone), Some(Normal));
        assert_eq!(r(Recover), None);
        assert_eq!(r(Paused), None);
        assert_eq!(r(PartnerDown), Some(PotentialConflict));
        assert_eq!(r(ResolutionInterrupted), Some(PotentialConflict));
        assert_eq!(r(Shutdown), Some(PartnerDown));
    }

    #[test]
    fn partner_down_waits_for_a_recovering_partner_and_ignores_one_starting() {
        let r = |p, f| on_partner_state(PartnerDown, p, f, true).next;
        assert_eq!(r(Recover, false), None);
        assert_eq!(r(RecoverWait, false), None);
        assert_eq!(r(RecoverDone, false), Some(Normal));
        assert_eq!(r(Normal, false), Some(PotentialConflict));
        assert_eq!(r(Normal, true), None, "STARTUP flag set: ignore");
    }

    #[test]
    fn recover_asks_for_updates_unless_the_partner_is_resolving_a_conflict() {
        assert!(on_partner_state(Recover, PartnerDown, false, false).send_updreq);
        assert!(on_partner_state(Recover, Recover, false, true).send_updreq);
        assert_eq!(
            on_partner_state(Recover, ConflictDone, false, true).next,
            Some(PotentialConflict)
        );
    }

    #[test]
    fn potential_conflict_is_resolved_primary_first() {
        let secondary = on_partner_state(PotentialConflict, ConflictDone, false, false);
        assert!(secondary.send_updreq);
        let primary = on_partner_state(PotentialConflict, ConflictDone, false, true);
        assert!(!primary.send_updreq);
        assert_eq!(
            on_partner_state(ConflictDone, Normal, false, true).next,
            Some(Normal)
        );
        assert_eq!(
            on_partner_state(ResolutionInterrupted, Normal, false, true).next,
            Some(PotentialConflict)
        );
    }

    #[test]
    fn normal_reacts_to_pause_shutdown_and_conflict() {
        let r = |p| on_partner_state(Normal, p, false, true).next;
        assert_eq!(r(Normal), None);
        assert_eq!(r(Paused), Some(CommunicationsInterrupted));
        assert_eq!(r(Shutdown), Some(PartnerDown));
        assert_eq!(r(PartnerDown), Some(PotentialConflict));
        assert_eq!(r(Recover), Some(CommunicationsInterrupted));
        assert_eq!(
            r(ConflictDone),
            None,
            "the primary follows the secondary to NORMAL"
        );
    }

    #[test]
    fn startup_takes_the_previous_state_unless_the_partner_is_down_mode() {
        assert_eq!(leave_startup(Normal, Normal, false), Normal);
        assert_eq!(
            leave_startup(CommunicationsInterrupted, PartnerDown, true),
            Recover
        );
        assert_eq!(
            leave_startup(CommunicationsInterrupted, PartnerDown, false),
            PotentialConflict
        );
        assert_eq!(leave_startup(Recover, PartnerDown, false), Recover);
        // A server that restarts in the middle of its recovery carries on with it, whatever
        // the partner's PARTNER-DOWN says (draft-12.md §4.3): POTENTIAL-CONFLICT would end a
        // RECOVER-WAIT that waits out its lost leases (a mutant the unit tests once missed).
        for recovering in [RecoverWait, RecoverDone] {
            assert_eq!(leave_startup(recovering, PartnerDown, false), recovering);
            assert_eq!(leave_startup(recovering, PartnerDown, true), Recover);
        }
        // No state stored: a first start recovers.
        assert_eq!(leave_startup(Startup, Normal, false), Recover);
    }

    #[test]
    fn services_follow_draft_section_9() {
        assert_eq!(Normal.service(), Service::Balanced);
        assert_eq!(PartnerDown.service(), Service::Responsive);
        assert_eq!(ConflictDone.service(), Service::Responsive);
        assert_eq!(RecoverDone.service(), Service::RenewOnly);
        // The departure: no new address while a conflict is unresolved.
        assert_eq!(ResolutionInterrupted.service(), Service::RenewOnly);
        assert_eq!(CommunicationsInterrupted.service(), Service::Responsive);
        assert_eq!(Recover.service(), Service::None);
        assert_eq!(PotentialConflict.service(), Service::None);
    }
}
