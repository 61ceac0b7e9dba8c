//! One failover relationship's state: the endpoint state, the partner as last heard, the
//! connection, the timers, and the binding-update queues. Plain data; the server drives it
//! (`crate::server::peer`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};

use super::config::{RelationshipConfig, Role, Timers};
use super::skew::ClockDelta;
use super::state::FoState;
use crate::time::{Duration, Time};
use crate::wire::failover::Framer;
use crate::wire::hash_bucket::HashBuckets;

/// A connection, as the host names it.
pub type ConnId = u64;

/// The relationship's fixed timers (STYLE.md 4): one deadline each, scanned in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Timer {
    /// STARTUP gives up waiting for the partner (draft-12 §9.3).
    Startup,
    /// tReceive: nothing heard for too long (draft-12 §8.3).
    Receive,
    /// tSend: time to send CONTACT (draft-12 §8.3).
    Contact,
    /// The safe period of COMMUNICATIONS-INTERRUPTED (draft-12 §10).
    SafePeriod,
    /// Dial the partner again.
    ConnectRetry,
    /// RECOVER-WAIT has waited out the MCLT (draft-12 §9.6).
    RecoverWait,
    /// Rebalance the pools: periodically while NORMAL, and sooner when the counts call for it
    /// (MS-DHCPF §3.2.2.1; draft-12.md §7.1, ISC runs it on both sides).
    Rebalance,
    /// A new connection that saw no CONNECT or CONNECTACK in time.
    Handshake,
    /// An update request made no progress (MS-DHCPF §3.1.2.6).
    Sync,
    /// Record that this server is still operating (see [`Relationship::down_at`]).
    Heartbeat,
    /// A server that lost its storage may give addresses to new clients again
    /// (see [`Relationship::amnesic_until`]).
    Amnesia,
}

impl Timer {
    /// Every timer, in scan order.
    pub const ALL: [Timer; 11] = [
        Timer::Startup,
        Timer::Receive,
        Timer::Contact,
        Timer::SafePeriod,
        Timer::ConnectRetry,
        Timer::RecoverWait,
        Timer::Rebalance,
        Timer::Handshake,
        Timer::Sync,
        Timer::Heartbeat,
        Timer::Amnesia,
    ];
}

/// What we last heard of the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PartnerView {
    /// Its state.
    pub state: FoState,
    /// When it entered it (its clock).
    pub since: Time,
    /// Whether its STATE carried the STARTUP flag.
    pub startup: bool,
}

/// A TCP connection to the partner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    /// The host's name for it.
    pub conn: ConnId,
    /// Cuts messages out of its byte stream.
    pub framer: Framer,
    /// CONNECT/CONNECTACK done: the link carries the relationship.
    pub established: bool,
    /// The partner's max-unacked-bndupd (from its CONNECT or CONNECTACK).
    pub partner_max_unacked: u32,
    /// The partner's receive timer; tSend is a third of it (draft-12 §8.3).
    pub partner_receive_timer: Duration,
    /// A connection still in its handshake is closed at this time.
    pub handshake_by: Time,
    /// When it opened: the CONNECT a primary sends on it leaves then, so its CONNECTACK closes
    /// a round trip that bounds the clock delta from below ([`ClockDelta`]).
    pub opened_at: Time,
}

/// One binding as a BNDUPD carried it: a BNDACK acknowledges this, not whatever the binding
/// has become since (draft-12 §7.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sent {
    /// The address.
    pub address: Ipv4Addr,
    /// The state sent.
    pub state: crate::lease::BindingState,
    /// The potential expiration time the binding had when sent: a newer change differs.
    pub pet: Time,
    /// The potential expiration time the update carried on the wire, if it carried one (the
    /// Microsoft dialect leaves it out of FREE and BACKUP: MUST NOT, MS-DHCPF §3.1.5.2): what
    /// the partner holds once it acknowledges.
    pub pet_on_wire: Option<Time>,
}

/// A BNDUPD awaiting its BNDACK.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InFlight {
    /// When it left (our clock): its BNDACK closes a round trip ([`ClockDelta`]'s floor).
    pub sent_at: Time,
    /// The bindings it carried.
    pub bindings: Vec<Sent>,
}

/// An update request the partner made that we are answering (draft-12 §7.3, §7.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Serving {
    /// Its xid: UPDDONE echoes it.
    pub xid: u32,
    /// Addresses still to be sent or acknowledged.
    pub remaining: BTreeSet<Ipv4Addr>,
}

/// One relationship.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relationship {
    /// Its configuration.
    pub config: RelationshipConfig,
    /// Its timers, resolved.
    pub timers: Timers,
    /// The endpoint state.
    pub state: FoState,
    /// When it entered it.
    pub since: Time,
    /// The state to take when STARTUP ends (the stored one, or RECOVER).
    pub previous: FoState,
    /// Whether storage held nothing for this relationship at boot (then RECOVER asks for all).
    pub storage_lost: bool,
    /// The partner, as last heard.
    pub partner: Option<PartnerView>,
    /// The MCLT in force.
    pub mclt: Duration,
    /// The hash buckets the primary serves (load balancing), as configured or learned.
    pub primary_buckets: Option<HashBuckets>,
    /// A time this server is recorded in storage as operating until: set at every state
    /// change and heartbeat, and moved a second ahead before every binding change a client
    /// will hear of (`Server::promise_operating`), so it is never earlier than the last such
    /// change.
    pub operating_at: Time,
    /// The `operating_at` storage held at boot: an upper bound, exact to a second, of when
    /// this server last operated before it went down (draft-12 §9.3.3, §9.6), or `None` when
    /// storage held nothing.
    pub down_at: Option<Time>,
    /// When this server started.
    pub started_at: Time,
    /// The state before PAUSED or SHUTDOWN, which a restart returns to (draft-12 §9.13, §9.14).
    pub before_pause: Option<FoState>,
    /// The established or establishing connection.
    pub link: Option<Link>,
    /// Connections that have not finished CONNECT/CONNECTACK.
    pub pending: BTreeMap<ConnId, Link>,
    /// Whether we asked the host to dial and have not heard back.
    pub dialing: bool,
    /// The next xid we originate.
    pub next_xid: u32,
    /// Deadlines, one per [`Timer`].
    pub deadlines: [Option<Time>; 11],
    /// Addresses whose binding must be sent in a BNDUPD, in order, without repeats.
    pub queue: VecDeque<Ipv4Addr>,
    /// Addresses in `queue`.
    pub queued: BTreeSet<Ipv4Addr>,
    /// BNDUPDs awaiting their BNDACK: xid → the bindings it carried, in order.
    pub in_flight: BTreeMap<u32, InFlight>,
    /// The request we are answering.
    pub serving: Option<Serving>,
    /// The xid of the UPDREQ/UPDREQALL we sent and await UPDDONE for, and whether it was ALL.
    pub awaiting: Option<(u32, bool)>,
    /// Until when this server, having lost its storage, gives no address to a new client:
    /// an earlier life of its own may have leased any of them without the partner knowing
    /// (`Server::new` argues the bound). `None` once that is over, or never needed.
    pub amnesic_until: Option<Time>,
    /// Whether the answer to our UPDREQALL carried any binding with a history (a client, a
    /// lease time, a state other than FREE or BACKUP): then this is not the pair's first
    /// failover run (draft-12 §9.6).
    pub partner_history: bool,
    /// The partner's clock relative to ours (draft-12 §5.10), from the current link's
    /// CONNECT/CONNECTACK on; `None` before the first handshake.
    pub clock_delta: Option<ClockDelta>,
    /// When we last sent POOLREQ: at most one per rebalance period, so a partner that sees no
    /// reason to move is not asked on every allocation (ISC asks only from its schedule,
    /// draft-12.md §7.1; bug-catalogue I14).
    pub pool_asked_at: Option<Time>,
    /// When the pools were last balanced: the next pass that the counts call for waits for
    /// [`MIN_BALANCE_GAP`] after it.
    pub balanced_at: Time,
}

/// The shortest time between two balancing passes that a change of the counts calls for (ISC's
/// `min-balance` is 60 s, draft-12.md §8; a pass here costs nothing per address it does not
/// move, so the gap only bounds how often the partner can be asked).
pub const MIN_BALANCE_GAP: Duration = Duration::from_secs(5);

impl Relationship {
    /// A relationship at boot: STARTUP, remembering what storage said.
    pub fn new(
        config: RelationshipConfig,
        stored: Option<(FoState, Time, u32, Time, bool)>,
        now: Time,
    ) -> Relationship {
        let timers = config.timers();
        let (previous, since, mclt_s, operating_at, lost) = match stored {
            // A server that lost its storage and crashed again before it recovered: what its
            // lost life granted is as unknown as at the first boot (draft-12 §9.3.1), so it
            // boots as that one did, keeping only the MCLT it learned.
            Some((_, _, mclt_s, _, true)) => (FoState::Recover, now, mclt_s, Time::EPOCH, true),
            Some((state, since, mclt_s, operating_at, false)) => {
                (state, since, mclt_s, operating_at, false)
            }
            // draft-12 §9.3.1: no stored state means RECOVER, time of failure unknown.
            None => (FoState::Recover, now, config.mclt_s, Time::EPOCH, true),
        };
        // A secondary that never heard the primary's MCLT and has none configured uses an
        // hour (the value the ISC man page suggests) until CONNECT tells it the real one.
        const UNKNOWN_MCLT_S: u32 = 3600;
        let mclt_s = match (config.role, mclt_s) {
            (Role::Primary, _) => config.mclt_s,
            (Role::Secondary, 0) => UNKNOWN_MCLT_S,
            (Role::Secondary, m) => m,
        };
        let primary_buckets = config.primary_buckets();
        Relationship {
            timers,
            state: FoState::Startup,
            since,
            previous,
            storage_lost: lost,
            partner: None,
            mclt: Duration::from_secs(u64::from(mclt_s)),
            primary_buckets,
            operating_at,
            down_at: (!lost).then_some(operating_at),
            started_at: now,
            before_pause: None,
            link: None,
            pending: BTreeMap::new(),
            dialing: false,
            next_xid: 0,
            deadlines: [None; 11],
            queue: VecDeque::new(),
            queued: BTreeSet::new(),
            in_flight: BTreeMap::new(),
            serving: None,
            awaiting: None,
            clock_delta: None,
            amnesic_until: None,
            partner_history: false,
            pool_asked_at: None,
            balanced_at: Time::EPOCH,
            config,
        }
    }

    /// Whether this server is the primary.
    pub fn is_primary(&self) -> bool {
        self.config.role == Role::Primary
    }

    /// Set or clear a timer.
    pub fn set_timer(&mut self, t: Timer, at: Option<Time>) {
        self.deadlines[t as usize] = at;
    }

    /// A timer's deadline.
    pub fn timer(&self, t: Timer) -> Option<Time> {
        self.deadlines[t as usize]
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Time> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// A fresh xid.
    pub fn xid(&mut self) -> u32 {
        let x = self.next_xid;
        self.next_xid = self.next_xid.wrapping_add(1);
        x
    }

    /// Queue an address for a BNDUPD (once).
    pub fn enqueue(&mut self, addr: Ipv4Addr) {
        if self.queued.insert(addr) {
            self.queue.push_back(addr);
        }
    }

    /// Take the next queued address.
    pub fn dequeue(&mut self) -> Option<Ipv4Addr> {
        let a = self.queue.pop_front()?;
        self.queued.remove(&a);
        Some(a)
    }

    /// How many BNDUPDs await a BNDACK.
    pub fn unacked_updates(&self) -> usize {
        self.in_flight.len()
    }

    /// The established link, if any.
    pub fn established(&self) -> Option<&Link> {
        self.link.as_ref().filter(|l| l.established)
    }

    /// Makes the pending connection `conn` the relationship's link once its handshake has
    /// passed (draft-12 §7.8, §7.9), with the partner's window and receive timer (a zero
    /// meaning "the default" is read as 1). False if `conn` was not pending.
    pub fn establish(&mut self, conn: ConnId, max_unacked: u32, receive_timer_s: u32) -> bool {
        let Some(mut link) = self.pending.remove(&conn) else {
            return false;
        };
        link.established = true;
        link.partner_max_unacked = max_unacked.max(1);
        link.partner_receive_timer = Duration::from_secs(u64::from(receive_timer_s.max(1)));
        self.link = Some(link);
        true
    }

    /// How often the heartbeat records that this server is operating: often enough that a
    /// restart knows when it went down to within a small part of the MCLT.
    pub fn heartbeat(&self) -> Duration {
        Duration::from_millis((self.mclt.as_millis() / 4).clamp(1_000, 60_000))
    }

    /// A time the partner sent, on our clock (draft-12 §5.10: the receiver MUST apply the
    /// delta to every absolute time it receives), unless the configuration reads them raw.
    pub fn partner_time(&self, t: Time) -> Time {
        match (self.config.time_correction, self.clock_delta) {
            (super::skew::TimeCorrection::Delta, Some(d)) => d.to_local(t),
            _ => t,
        }
    }

    /// A time the partner sent, on our clock and never later than it is there (through the
    /// delta's floor at `now`), for a time that permits us something; `None` when no round trip
    /// has bounded the delta yet. Read raw when the configuration says so.
    pub fn partner_time_early(&self, t: Time, now: Time) -> Option<Time> {
        match (self.config.time_correction, self.clock_delta) {
            (super::skew::TimeCorrection::Delta, Some(d)) => d.to_local_early(t, now),
            (super::skew::TimeCorrection::Delta, None) => None,
            (super::skew::TimeCorrection::None, _) => Some(t),
        }
    }

    /// The partner's address to dial.
    pub fn peer(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.config.peer_address, self.config.peer_port)
    }
}
