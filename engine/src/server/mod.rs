//! The DHCPv4 server: a sans-IO state machine over the lease database and stable storage.
//!
//! Inputs carry the time; outputs are polled (see the crate doc for the drain rule):
//!
//! ```text
//! server.handle_dhcp(now, received, &bytes)   a datagram for UDP port 67
//! server.handle_timeout(now)                  poll_timeout() said so (early calls are no-ops)
//! server.poll_output() -> Option<Output>      datagrams to send
//! server.poll_timeout() -> Option<Time>       the next lease end or offer lapse
//! ```
//!
//! Every binding change is appended to storage and synced before the reply that depends on it
//! is queued (draft-12 §5.1: stable storage before the client is told; RFC 2131 §4.3.1 "the
//! server must commit the binding to persistent storage"). A bad or unexpected packet is dropped
//! and counted in [`Counters`], never an error and never a panic (STYLE.md 11).

mod dhcp;
#[cfg(test)]
mod failover_tests;
mod peer;
mod reply;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::config::{ConfigError, ServerConfig};
use crate::lease::{Binding, BindingState, LeaseDb, PoolRole, Record, Slot};
use crate::storage::Storage;
use crate::time::Time;

pub use peer::{Admin, Direction};
pub use reply::Transmit;

/// How a datagram reached the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Received {
    /// The sender's address and port (a client's 0.0.0.0:68, or a relay's address:67).
    pub src: SocketAddrV4,
    /// Whether it was sent to a broadcast address: tells REBINDING from RENEWING
    /// (RFC 2131 §4.3.2).
    pub broadcast: bool,
    /// The server's own address on the interface it arrived on: chooses the subnet of a client
    /// that is not behind a relay (RFC 2131 §4.3.1).
    pub interface: Ipv4Addr,
}

/// Something the host must do (or, for `FailoverState`, may record).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Output {
    /// Send a DHCP datagram.
    Dhcp(Transmit),
    /// Open a TCP connection to the failover partner; answer with `handle_peer_connected`
    /// (`Direction::Dialed`) or `handle_peer_connect_failed`.
    PeerConnect {
        /// The partner's failover address and port.
        to: SocketAddrV4,
        /// Our address to dial from.
        from: Ipv4Addr,
    },
    /// Send bytes on a failover connection.
    PeerSend {
        /// The connection.
        conn: crate::failover::relationship::ConnId,
        /// One whole encoded message.
        bytes: Vec<u8>,
    },
    /// Close a failover connection.
    PeerClose {
        /// The connection.
        conn: crate::failover::relationship::ConnId,
    },
    /// The failover state changed (already recorded in storage): for traces and reports.
    FailoverState {
        /// The state left.
        from: crate::failover::state::FoState,
        /// The state entered.
        to: crate::failover::state::FoState,
    },
}

/// Why packets were dropped, and what the server did: plain counts for reports and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Datagrams handed in.
    pub received: u64,
    /// Not a DHCP message at all (decode failed).
    pub malformed: u64,
    /// A BOOTREPLY, a bad hardware address, or a message type a server never receives.
    pub unexpected: u64,
    /// No subnet matches the client's relay or interface.
    pub no_subnet: u64,
    /// DISCOVERs left unanswered because no address was available.
    pub pool_exhausted: u64,
    /// REQUESTs that named another server: the client chose it.
    pub for_other_server: u64,
    /// REQUESTs answered by silence because the server has no record of the client.
    pub no_record: u64,
    /// Binding changes that storage refused; their replies were not sent.
    pub storage_failures: u64,
    /// OFFERs sent.
    pub offers: u64,
    /// ACKs sent (leases granted or extended, and INFORM answers).
    pub acks: u64,
    /// NAKs sent.
    pub naks: u64,
    /// DECLINEs that abandoned an address.
    pub declines: u64,
    /// RELEASEs that freed an address.
    pub releases: u64,
    /// INFORMs answered.
    pub informs: u64,
    /// Leases that reached their end.
    pub expirations: u64,
    /// Storage compactions.
    pub compactions: u64,
    /// Client messages not answered because the failover state serves none (draft-12 §9).
    pub not_serving: u64,
    /// DISCOVERs left to the partner by load balancing (RFC 3074).
    pub load_balanced_away: u64,
    /// Failover messages received.
    pub peer_messages_in: u64,
    /// Failover messages sent.
    pub peer_messages_out: u64,
    /// Failover messages that broke the protocol (the connection was closed).
    pub peer_bad_messages: u64,
    /// Failover messages with a missing or wrong digest.
    pub peer_bad_digest: u64,
    /// Failover messages whose time was beyond the maximum clock delta.
    pub peer_clock_skew: u64,
    /// Failover messages whose time showed the partner's clock had stepped (the delta was
    /// reset, draft-12 §5.10).
    pub peer_clock_steps: u64,
    /// Connections from an address that is not the partner.
    pub peer_refused: u64,
    /// CONNECT or CONNECTACK rejected.
    pub peer_rejected: u64,
    /// Connections dropped because tReceive expired.
    pub peer_timeouts: u64,
    /// Failover state transitions.
    pub failover_transitions: u64,
    /// Partner binding updates accepted.
    pub bndupd_received: u64,
    /// Partner binding updates rejected.
    pub bndupd_rejected: u64,
    /// Our binding updates the partner rejected.
    pub bndack_rejects: u64,
    /// Addresses pool balancing moved into the partner's pool: FREE → BACKUP given by a
    /// primary, BACKUP → FREE returned by a secondary.
    pub pool_moves: u64,
    /// POOLREQs sent.
    pub pool_requests: u64,
}

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    /// The configuration is invalid.
    Config(ConfigError),
    /// A stored record does not decode.
    Record {
        /// Its position in the log.
        index: usize,
        /// What is wrong with it.
        error: crate::lease::RecordError,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "invalid configuration: {e}"),
            StartError::Record { index, error } => {
                write!(f, "stored record {index} is unreadable: {error}")
            }
        }
    }
}

impl std::error::Error for StartError {}

/// The bound on queued outputs. A host that drains after every input never comes near it; past
/// it new replies are dropped (and counted as failures to answer) rather than growing memory.
const MAX_QUEUED_OUTPUTS: usize = 4096;

/// A DHCPv4 server.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Server<S> {
    config: ServerConfig,
    db: LeaseDb,
    storage: S,
    outputs: VecDeque<Output>,
    counters: Counters,
    /// Log size right after the last compaction, for the compaction policy.
    compacted_len_bytes: u64,
    /// The failover relationship, if the server has a partner.
    failover: Option<crate::failover::relationship::Relationship>,
}

impl<S: Storage> Server<S> {
    /// A server over `storage`, whose log already holds `records` (the records its load returned,
    /// oldest first), starting at `now`. Records for addresses no longer configured are skipped.
    /// With a failover relationship the server starts in STARTUP and asks to dial its partner.
    pub fn new(
        config: ServerConfig,
        storage: S,
        records: &[Vec<u8>],
        now: Time,
    ) -> Result<Self, StartError> {
        use crate::failover::state::FoState;
        config.validate().map_err(StartError::Config)?;
        let role = match config.failover.as_ref().map(|f| f.role) {
            None => PoolRole::Standalone,
            Some(crate::failover::Role::Primary) => PoolRole::Primary,
            Some(crate::failover::Role::Secondary) => PoolRole::Secondary,
        };
        let mut db = LeaseDb::new(&config, role);
        let mut stored_failover = None;
        for (index, bytes) in records.iter().enumerate() {
            match Record::decode(bytes) {
                Ok(Record::Binding(b)) => {
                    if let Some(slot) = db.slot(b.address) {
                        db.put(slot, b);
                    }
                }
                Ok(Record::Failover(f)) => {
                    if config.failover.as_ref().is_some_and(|c| c.name == f.name) {
                        let state = crate::wire::failover::ServerState::from_wire(f.state);
                        let state = FoState::from_wire(state).unwrap_or(FoState::Recover);
                        stored_failover = Some((
                            state,
                            f.state_since,
                            f.mclt_s,
                            f.operating_at,
                            f.storage_lost,
                        ));
                    }
                }
                Err(error) => return Err(StartError::Record { index, error }),
            }
        }
        let compacted_len_bytes = storage.len_bytes();
        let failover = config.failover.clone().map(|mut c| {
            if config.bugs.has(crate::bugs::Bug::NoSkewCorrection) {
                c.time_correction = crate::failover::skew::TimeCorrection::None;
            }
            crate::failover::relationship::Relationship::new(c, stored_failover, now)
        });
        let mut server = Server {
            config,
            db,
            storage,
            outputs: VecDeque::new(),
            counters: Counters::default(),
            compacted_len_bytes,
            failover,
        };
        server.forget_nothing(now);
        server.start_failover(now);
        Ok(server)
    }

    /// A datagram arrived on UDP port 67.
    pub fn handle_dhcp(&mut self, now: Time, received: Received, bytes: &[u8]) {
        self.counters.received += 1;
        self.db.lapse_offers(now);
        dhcp::handle(self, now, received, bytes);
    }

    /// Time passed: lapse offers, expire leases whose end has come, fire failover timers.
    pub fn handle_timeout(&mut self, now: Time) {
        self.db.lapse_offers(now);
        self.failover_timeout(now);
        while let Some(slot) = self.db.expired_by(now) {
            let mut b = self.db.get(slot).clone();
            // RFC 2131 §4.4.5 / draft-12 §5.11: ACTIVE becomes EXPIRED at the lease end. With a
            // partner the change must reach it before the address can go FREE (§5.2.2); the
            // catalogued bug reclaims it at once.
            b.state = if self
                .config
                .bugs
                .has(crate::bugs::Bug::ExpiredFreedWithoutAck)
            {
                BindingState::Free
            } else {
                BindingState::Expired
            };
            b.state_since = b.expires_at;
            b.unacked = self.failover.is_some();
            self.counters.expirations += 1;
            let addr = b.address;
            if self.commit(now, slot, b.clone()).is_err() {
                // The expiry is recomputable from the stored lease end: apply it in memory so
                // the timer does not spin, and let the next successful write carry it.
                self.db.put(slot, b);
            }
            self.binding_changed(now, addr);
        }
    }

    /// The next output, if any. Drain to `None` after every input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When `handle_timeout` should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        [
            self.db.next_expiry(),
            self.db.next_offer_lapse(),
            self.failover.as_ref().and_then(|r| r.next_deadline()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The lease database, for inspection.
    pub fn leases(&self) -> &LeaseDb {
        &self.db
    }

    /// Start noting which bindings change state or client, for a host that traces them
    /// (the simulator's trace); off by default.
    pub fn watch_binding_changes(&mut self) {
        self.db.watch_changes(true);
    }

    /// The bindings that changed state or client since the last call, each once, in address
    /// order; nothing unless [`Server::watch_binding_changes`] was called. The host calls it
    /// after every input, which bounds what accumulates to what one input changes.
    pub fn take_binding_changes(&mut self) -> Vec<&crate::lease::Binding> {
        let mut slots = self.db.take_changes();
        slots.sort_unstable();
        slots.dedup();
        slots.into_iter().map(|s| self.db.get(s)).collect()
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The storage, for inspection (the simulator crashes it).
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Write a binding durably, then install it. On a storage failure nothing changes and the
    /// caller must not tell the client. (A record appended before a failed sync may still reach
    /// the disk with a later sync: it then names a lease nobody was told about, which holds an
    /// address longer than needed but never gives it to two clients.)
    ///
    /// With a partner, the same sync also records that this server operated at `now`
    /// ([`Server::promise_operating`]), so that a restart knows it.
    fn commit(&mut self, now: Time, slot: Slot, binding: Binding) -> Result<(), ()> {
        let record = Record::binding_bytes(&binding);
        // The catalogued bug: the record is only appended; it reaches the disk with whatever
        // syncs next (a heartbeat, a partner's update), after the client has been answered.
        let lazy = self
            .config
            .bugs
            .has(crate::bugs::Bug::AckBeforeStableStorage);
        let durable = self
            .promise_operating(now)
            .and_then(|()| self.storage.append(&record))
            .and_then(|()| if lazy { Ok(()) } else { self.storage.sync() });
        if durable.is_err() {
            self.counters.storage_failures += 1;
            return Err(());
        }
        self.db.put(slot, binding);
        self.maybe_compact();
        Ok(())
    }

    /// Rewrite the log as one record per used binding once it has grown well past that.
    fn maybe_compact(&mut self) {
        const MIN_LOG_BYTES: u64 = 1 << 20;
        let len = self.storage.len_bytes();
        if len < MIN_LOG_BYTES.max(self.compacted_len_bytes.saturating_mul(4)) {
            return;
        }
        let pristine = |b: &&Binding| {
            b.state == BindingState::Free && b.client().is_none() && b.state_since == Time::EPOCH
        };
        let mut records = self
            .db
            .iter()
            .filter(|b| !pristine(b))
            .map(Record::binding_bytes);
        if self.storage.rewrite(&mut records).is_ok() {
            self.counters.compactions += 1;
        }
        // After a failure too: the next attempt waits for the log to grow again, instead of
        // walking the whole pool on every commit.
        self.compacted_len_bytes = self.storage.len_bytes();
    }

    fn queue(&mut self, t: Transmit) {
        self.push_output(Output::Dhcp(t));
    }

    fn push_output(&mut self, o: Output) {
        if self.outputs.len() < MAX_QUEUED_OUTPUTS {
            self.outputs.push_back(o);
        }
    }
}
