//! The checkers: observers that judge a run from what the clients believe and what crosses the
//! wire, never from the engine's own bookkeeping, and always in **true (simulator) time**: every
//! time a server writes on the wire is converted with that server's clock skew at the moment it
//! wrote it, and every client's view with the client's own clock (the world does the
//! conversions and hands the checkers true times only).
//!
//! * **No duplicate lease** — at no instant do two clients hold an unexpired lease on one
//!   address (ground truth: each client's accepted ACKs and the leases it gave up).
//! * **MCLT** — every DHCPACK a server sends ends no later than the MCLT past the later of the
//!   two potential expiration times the partners hold for that address: the latest PET this
//!   server sent that its partner acknowledged, and the latest PET its partner sent that this
//!   server acknowledged (draft-12 §7.1.5: `MCLT + max(acked-PET, received-PET)`; "latest",
//!   because a receiver overwrites its record with every accepted update), or past now.
//!   PARTNER-DOWN may grant longer (draft-12.md §5.1). Judged from BNDUPD/BNDACK on the wire,
//!   with [`MCLT_SLACK`] for the wire's whole seconds.
//! * **Durability** — a server that kept its storage never NAKs a lease it ACKed.
//! * **Lease stability** — a server that accepted its partner's ACTIVE update for a client
//!   never NAKs that client's running lease.
//! * **Liveness** — judged at the end, when every fault has healed and the scenario's converge
//!   bound has passed: both servers are in NORMAL; their binding databases agree (state and
//!   client of every address not still in flight); every running client that wants an address
//!   has held one within the bound. The database check is the one that reads each server's
//!   database, because the databases are what it judges; it compares them through the engine's
//!   public view, never its internals.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dhcpfo_engine::failover::state::FoState;
use dhcpfo_engine::lease::BindingState;
use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::failover::{FoOption, Message, MessageType};

/// A time as people read it: relative to the run's start.
fn at(t: Time) -> String {
    crate::world::fmt_at(t)
}

/// The slack the MCLT check allows: times on the wire are whole seconds on the sender's clock,
/// and a receiver's estimate of the clock delta (draft-12 §5.10) is itself known only to within
/// the transit time plus the second its first sample rounded away.
pub const MCLT_SLACK: Duration = Duration::from_secs(2);

/// The properties the checkers judge, as violations name them.
pub const PROPERTIES: [&str; 6] = [
    "no-duplicate-lease",
    "mclt",
    "durability",
    "lease-stability",
    "liveness",
    // Judged by crate::pool_balance.
    "pool-balance",
];

/// One broken property.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// When it was seen.
    pub at: Time,
    /// Which property.
    pub property: &'static str,
    /// What happened, for a person.
    pub detail: String,
    /// The addresses involved.
    pub addresses: Vec<Ipv4Addr>,
    /// The clients involved (their index in the run).
    pub clients: Vec<usize>,
}

impl Violation {
    /// Strings that pick this violation's history out of the trace: its addresses and clients,
    /// as the trace writes them.
    pub fn subjects(&self) -> Vec<String> {
        let addresses = self.addresses.iter().map(|&a| addr_subject(a));
        addresses
            .chain(self.clients.iter().map(|&c| client_subject(c)))
            .collect()
    }
}

fn addr_subject(a: Ipv4Addr) -> String {
    format!("\"address\":\"{a}\"")
}

fn client_subject(c: usize) -> String {
    format!("\"client\":{c},")
}

/// One address of a server's binding database, as the liveness check compares them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingView {
    /// The address.
    pub address: Ipv4Addr,
    /// Its binding state.
    pub state: BindingState,
    /// Its client, as a person reads it (hardware address or client identifier), if any.
    pub client: Option<String>,
    /// Changed locally and not yet acknowledged by the partner.
    pub in_flight: bool,
}

/// One binding transaction of a BNDUPD, as the checkers keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Carried {
    address: Ipv4Addr,
    pet: Option<Time>,
    active: Option<(Vec<u8>, Time)>,
}

/// The checkers' state.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    /// address → client → lease end (client clock).
    holders: BTreeMap<Ipv4Addr, BTreeMap<usize, Time>>,
    /// (connection, sender, xid) → what a BNDUPD carried per address: the PET, and for an
    /// ACTIVE binding its client's hardware address and lease end (true time). A BNDACK answers
    /// on the connection the update came in on, or never (draft-12 §7.1.1), so a closed
    /// connection's entries go with it ([`Checker::connection_closed`]).
    updates: BTreeMap<(u64, usize, u32), Vec<Carried>>,
    /// server → address → (client hardware address, lease end) of the ACTIVE binding that
    /// server last accepted from its partner.
    known: [BTreeMap<Ipv4Addr, (Vec<u8>, Time)>; 2],
    /// client → the address it holds and until when.
    current: BTreeMap<usize, (Ipv4Addr, Time)>,
    /// (address, sender) → the latest PET that server sent and its partner acknowledged (true
    /// time), with both servers' clock skews at the acknowledgement.
    acked_pet: BTreeMap<(Ipv4Addr, usize), (Time, [i64; 2])>,
    /// Each server's failover state as last announced.
    states: [Option<FoState>; 2],
    /// client → (server that last ACKed it, address, lease end).
    acked_by: BTreeMap<usize, (usize, Ipv4Addr, Time)>,
    /// Servers whose storage was lost since they last granted (they may forget, legitimately).
    amnesic: [bool; 2],
    /// Violations found.
    pub violations: Vec<Violation>,
    /// Leases accepted by clients.
    pub leases: u64,
    /// DHCPACKs checked against the MCLT rule.
    pub mclt_checked: u64,
    /// Restarts of a server that kept its storage: chances for durability to be judged.
    pub durability_judged: u64,
    /// Failures of one server (crash or partition): chances for lease stability to be judged.
    pub failures: u64,
    /// Liveness judgements made (after a heal plus the converge bound, and at the end).
    pub liveness_checks: u64,
    /// Why liveness was not judged at the end, when it was not.
    pub liveness_not_judged: Option<String>,
    /// Binding updates the partner rejected, by reject reason (draft-12 §12.21): findings
    /// in their own right, reported with every run.
    pub rejects: BTreeMap<u8, u64>,
    /// (sender, address) whose latest BNDACK was a reject: the partners disagree on it until
    /// a later update is accepted.
    rejected: std::collections::BTreeSet<(usize, Ipv4Addr)>,
    /// When the run stopped before its end (at its first violation), the time it stopped.
    pub stopped_at: Option<Time>,
    /// address → (start of the current window, BNDUPD transactions for it in the window).
    update_rate: BTreeMap<Ipv4Addr, (Time, u32)>,
    /// Periods with both servers in NORMAL, in which `crate::pool_balance` judged.
    pub pool_balance_periods: u64,
}

/// A binding-update storm: more than this many BNDUPD transactions for one address within
/// [`STORM_WINDOW`]. A lease changes a handful of times an hour (grants, renewals, expiry,
/// pool moves, resends after reconnects); a pair sending one address back and forth never
/// converges, and is a liveness failure even though every message is accepted.
pub const STORM_UPDATES: u32 = 600;

/// The window [`STORM_UPDATES`] is counted over.
pub const STORM_WINDOW: Duration = Duration::from_secs(600);

/// How a property ended a run (DESIGN.md "Checkers": held, violated, or not judged with why).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Judged, and it held: what was checked is in [`Judgement::basis`].
    Held,
    /// Broken at least once.
    Violated,
    /// Never judged in this run, for the reason given: never to be read as held.
    NotJudged(String),
}

impl Status {
    /// `held`, `violated` or `not judged`.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Held => "held",
            Status::Violated => "violated",
            Status::NotJudged(_) => "not judged",
        }
    }
}

/// One property's end of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judgement {
    /// The property.
    pub property: &'static str,
    /// Held, violated or not judged.
    pub status: Status,
    /// What the status rests on, for a person: what was checked, how often, or why not.
    pub basis: String,
}

impl Checker {
    /// A client accepted a lease.
    pub fn leased(&mut self, now: Time, client: usize, address: Ipv4Addr, until: Time) {
        self.leases += 1;
        let holders = self.holders.entry(address).or_default();
        holders.retain(|_, end| *end > now);
        if let Some((other, end)) = holders.iter().find(|(c, _)| **c != client) {
            self.violations.push(Violation {
                at: now,
                property: "no-duplicate-lease",
                detail: format!(
                    "client {client} was given {address}, which client {other} holds until {}",
                    at(*end)
                ),
                addresses: vec![address],
                clients: vec![client, *other],
            });
        }
        holders.insert(client, until);
        self.current.insert(client, (address, until));
    }

    /// Whether another client holds an unexpired lease on `address` (what a probe would see).
    pub fn held_by_other(&self, now: Time, client: usize, address: Ipv4Addr) -> bool {
        self.holders
            .get(&address)
            .is_some_and(|h| h.iter().any(|(c, end)| *c != client && *end > now))
    }

    /// A client gave up an address.
    pub fn lost(&mut self, client: usize, address: Ipv4Addr) {
        if self
            .current
            .get(&client)
            .is_some_and(|(a, _)| *a == address)
        {
            self.current.remove(&client);
        }
        if let Some(h) = self.holders.get_mut(&address) {
            h.remove(&client);
            if h.is_empty() {
                self.holders.remove(&address);
            }
        }
    }

    /// A server announced a failover state, or stopped (`None`: crashed).
    pub fn state(&mut self, server: usize, state: Option<FoState>) {
        if let Some(s) = self.states.get_mut(server) {
            *s = state;
        }
    }

    /// A failover message was sent by `from` on connection `conn`, at a moment when the two
    /// servers' clocks were `skews_ms` ahead of true time: its absolute times are converted
    /// back with the sender's.
    pub fn failover_message(
        &mut self,
        now: Time,
        conn: u64,
        from: usize,
        skews_ms: [i64; 2],
        msg: &Message,
    ) {
        let skew_ms = skews_ms[from.min(1)];
        let true_time = |wire_s: u32| {
            let ms = i64::from(wire_s) * 1000 - skew_ms;
            Time::from_millis(ms.max(0) as u64)
        };
        match msg.msg_type {
            MessageType::BndUpd => {
                let carried: Vec<Carried> = msg
                    .bindings()
                    .map(|b| {
                        let mut c = Carried {
                            address: b.address,
                            pet: None,
                            active: None,
                        };
                        let (mut active, mut hw, mut end) = (false, None, None);
                        for o in b.options {
                            match o {
                                FoOption::PotentialExpirationTime(p) => c.pet = Some(true_time(*p)),
                                // draft-12 value 2 (the ISC dialect the simulator speaks).
                                FoOption::BindingStatus(s) => active = s.0 == 2,
                                FoOption::ClientHardwareAddress(h) => hw = Some(h.addr.clone()),
                                FoOption::LeaseExpirationTime(t) => end = Some(true_time(*t)),
                                _ => {}
                            }
                        }
                        if active && let (Some(hw), Some(end)) = (hw, end) {
                            c.active = Some((hw, end));
                        }
                        c
                    })
                    .collect();
                for c in &carried {
                    self.count_update(now, c.address);
                }
                // Bound: entries are removed when answered or when their connection closes,
                // so at most max-unacked-bndupd per open connection remain.
                self.updates.insert((conn, from, msg.xid), carried);
            }
            MessageType::BndAck => {
                let sender = 1 - from.min(1);
                let Some(carried) = self.updates.remove(&(conn, sender, msg.xid)) else {
                    return;
                };
                for b in msg.bindings() {
                    let reject = b.options.iter().find_map(|o| match o {
                        FoOption::RejectReason(r) => Some(r.0),
                        _ => None,
                    });
                    if let Some(reason) = reject {
                        *self.rejects.entry(reason).or_default() += 1;
                        self.rejected.insert((sender, b.address));
                        continue;
                    }
                    self.rejected.remove(&(sender, b.address));
                    let Some(c) = carried.iter().find(|c| c.address == b.address) else {
                        continue;
                    };
                    // The acknowledging server overwrites its record (draft-12 §7.1.2):
                    // the latest acknowledged PET counts, even when lower than an earlier one.
                    if let Some(pet) = c.pet {
                        self.acked_pet.insert((b.address, sender), (pet, skews_ms));
                    }
                    if let Some(k) = self.known.get_mut(from) {
                        match &c.active {
                            Some(active) => {
                                k.insert(b.address, active.clone());
                            }
                            None => {
                                k.remove(&b.address);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A server sent a DHCPACK at `now`, its clock then `skew_ms` ahead of true time, granting
    /// `address` to `client` until `lease_end`.
    ///
    /// A server keeps the times it relies on as absolute times on its own clock, and cannot see
    /// its own clock move (draft-12 §5.10 corrects only for the partner's). So the limit allows,
    /// besides [`MCLT_SLACK`], for how far the granting server's clock has gone back since the
    /// PET was acknowledged: a clock step or a slow drift of its own is not the protocol's fault,
    /// while a skew between the partners (flaw 1 of issue 13) is, and is judged in full.
    #[allow(clippy::too_many_arguments)]
    pub fn granted(
        &mut self,
        now: Time,
        server: usize,
        skew_ms: i64,
        client: usize,
        address: Ipv4Addr,
        lease_end: Time,
        mclt: Duration,
    ) {
        self.acked_by.insert(client, (server, address, lease_end));
        if let Some(a) = self.amnesic.get_mut(server) {
            *a = false;
        }
        if self.states.get(server).copied().flatten() == Some(FoState::PartnerDown) {
            return;
        }
        self.mclt_checked += 1;
        let me = server.min(1);
        let bound = |sender: usize| {
            self.acked_pet
                .get(&(address, sender))
                .map_or(Time::EPOCH, |&(pet, skews)| {
                    let went_back_ms = (skews[me] - skew_ms).max(0) as u64;
                    pet + Duration::from_millis(went_back_ms)
                })
        };
        let pet = bound(me).max(bound(1 - me));
        let limit = pet.max(now) + mclt + MCLT_SLACK;
        if lease_end > limit {
            let over = lease_end.saturating_since(limit);
            self.violations.push(Violation {
                at: now,
                property: "mclt",
                detail: format!(
                    "server {server} granted {address} until {}, {over} past the acknowledged \
                     PET {} (or now) + MCLT + {MCLT_SLACK} slack = {} (true time)",
                    at(lease_end),
                    at(pet),
                    at(limit)
                ),
                addresses: vec![address],
                clients: Vec::new(),
            });
        }
    }

    /// A server lost its whole database: what it granted before may be forgotten.
    pub fn storage_lost(&mut self, server: usize) {
        if let Some(a) = self.amnesic.get_mut(server) {
            *a = true;
        }
        self.acked_by.retain(|_, (s, _, _)| *s != server);
    }

    /// Durability: a server NAKed a client whose unexpired lease that same server ACKed and
    /// has kept in storage since — the lease was lost (DESIGN.md "no lease acknowledged to a
    /// client is lost by a crash"). Judged from the wire: the NAK and the earlier ACK.
    pub fn nak(&mut self, now: Time, server: usize, client: usize, mac: &[u8]) {
        // Lease stability: the NAKing server had accepted the partner's update giving this
        // client its current address, and that lease still runs.
        if let Some(&(address, until)) = self.current.get(&client)
            && until > now
            && self
                .known
                .get(server)
                .and_then(|k| k.get(&address))
                .is_some_and(|(hw, end)| hw.as_slice() == mac && *end > now)
        {
            self.violations.push(Violation {
                at: now,
                property: "lease-stability",
                detail: format!(
                    "server {server} NAKed client {client}, whose lease on {address} until {} \
                     it had learned from its partner",
                    at(until)
                ),
                addresses: vec![address],
                clients: vec![client],
            });
        }
        let Some(&(by, address, end)) = self.acked_by.get(&client) else {
            return;
        };
        if by == server && !self.amnesic.get(server).copied().unwrap_or(true) {
            self.durability_judged += 1;
        }
        if by == server && end > now && !self.amnesic.get(server).copied().unwrap_or(true) {
            self.violations.push(Violation {
                at: now,
                property: "durability",
                detail: format!(
                    "server {server} NAKed client {client}, whose lease on {address} it ACKed \
                     until {}",
                    at(end)
                ),
                addresses: vec![address],
                clients: vec![client],
            });
        }
    }

    /// Liveness: with both servers up and nothing cut, a pair still outside NORMAL at the end
    /// of the converge window is stuck.
    pub fn stuck_pair(&mut self, now: Time, states: [Option<FoState>; 2]) {
        for (n, s) in states.iter().enumerate() {
            if *s != Some(FoState::Normal) {
                self.violations.push(Violation {
                    at: now,
                    property: "liveness",
                    detail: format!(
                        "server {n} is {}, not NORMAL, when the pair should have converged",
                        s.map_or("down", FoState::name)
                    ),
                    addresses: Vec::new(),
                    clients: Vec::new(),
                });
                return;
            }
        }
    }

    /// Liveness: once the pair has converged, the two binding databases name the same state
    /// and client for every address, except those that one of them has changed and not yet
    /// told its partner about (in flight at the end). `views[n]` is server `n`'s database.
    pub fn databases_agree(&mut self, now: Time, views: [Vec<BindingView>; 2]) {
        let [a, b] = views;
        let theirs: BTreeMap<Ipv4Addr, &BindingView> = b.iter().map(|v| (v.address, v)).collect();
        let mut differ = Vec::new();
        for mine in &a {
            let Some(other) = theirs.get(&mine.address) else {
                differ.push((
                    mine.address,
                    format!("only the primary has {}", mine.address),
                ));
                continue;
            };
            if mine.in_flight || other.in_flight {
                continue;
            }
            // The client matters while the lease is ACTIVE; an address that has gone back to
            // a pool may or may not remember its last client (draft-12 §7.1 lets a BNDUPD for
            // FREE or BACKUP leave it out).
            let client =
                |v: &BindingView| (v.state == BindingState::Active).then(|| v.client.clone());
            if mine.state != other.state || client(mine) != client(other) {
                let detail = format!(
                    "{}: the primary has {:?} for {}, the secondary {:?} for {}",
                    mine.address,
                    mine.state,
                    mine.client.as_deref().unwrap_or("nobody"),
                    other.state,
                    other.client.as_deref().unwrap_or("nobody"),
                );
                differ.push((mine.address, detail));
            }
        }
        let known: std::collections::BTreeSet<Ipv4Addr> = a.iter().map(|v| v.address).collect();
        for other in b.iter().filter(|v| !known.contains(&v.address)) {
            differ.push((
                other.address,
                format!("only the secondary has {}", other.address),
            ));
        }
        if let Some((address, first)) = differ.first() {
            self.violations.push(Violation {
                at: now,
                property: "liveness",
                detail: format!(
                    "the converged pair's databases disagree on {} address(es); first, {first}",
                    differ.len()
                ),
                addresses: vec![*address],
                clients: Vec::new(),
            });
        }
    }

    /// Liveness: once the pair has converged, every client that wants an address has one.
    /// `waiting` lists the running clients that hold none, with since when; one that has waited
    /// at least `bound` was not served.
    pub fn clients_served(
        &mut self,
        now: Time,
        bound: Duration,
        waiting: impl IntoIterator<Item = (usize, Time)>,
    ) {
        let unserved: Vec<(usize, Time)> = waiting
            .into_iter()
            .filter(|&(_, since)| since + bound <= now)
            .collect();
        if let Some(&(client, since)) = unserved.first() {
            self.violations.push(Violation {
                at: now,
                property: "liveness",
                detail: format!(
                    "{} client(s) want an address and have none; first, client {client}, \
                     without one since {}",
                    unserved.len(),
                    at(since)
                ),
                addresses: Vec::new(),
                clients: vec![client],
            });
        }
    }

    /// Count one BNDUPD transaction for `address`; a storm is a liveness violation, reported
    /// once per address.
    fn count_update(&mut self, now: Time, address: Ipv4Addr) {
        let (since, n) = self.update_rate.entry(address).or_insert((now, 0));
        if now.saturating_since(*since) > STORM_WINDOW {
            *since = now;
            *n = 0;
        }
        *n += 1;
        if *n == STORM_UPDATES + 1 {
            let since = *since;
            self.violations.push(Violation {
                at: now,
                property: "liveness",
                detail: format!(
                    "{address} was sent in more than {STORM_UPDATES} binding updates since {}: \
                     the partners send it back and forth without converging",
                    at(since)
                ),
                addresses: vec![address],
                clients: Vec::new(),
            });
        }
    }

    /// Whether an update for `address` is on its way: sent on an open connection and not yet
    /// answered. A rejected update is not on its way: the partners disagree.
    pub fn update_in_flight(&self, address: Ipv4Addr) -> bool {
        self.updates
            .values()
            .any(|carried| carried.iter().any(|c| c.address == address))
    }

    /// Whether the latest answer to an update for `address` from either server was a reject.
    pub fn update_rejected(&self, address: Ipv4Addr) -> bool {
        self.rejected.contains(&(0, address)) || self.rejected.contains(&(1, address))
    }

    /// Every property's end of the run (DESIGN.md: held, violated or not judged, with why).
    /// A property the run never gave a chance to break is not judged; a run stopped at its
    /// first violation judged the others only until then.
    pub fn judgements(&self) -> Vec<Judgement> {
        let until = self
            .stopped_at
            .map(|t| format!(", until the run stopped at {}", crate::world::fmt_at(t)))
            .unwrap_or_default();
        PROPERTIES
            .iter()
            .map(|&property| {
                let broken = self
                    .violations
                    .iter()
                    .filter(|v| v.property == property)
                    .count();
                let (status, basis) = if broken > 0 {
                    (Status::Violated, format!("{broken} violation(s)"))
                } else {
                    let (n, what, why_not) = match property {
                        "no-duplicate-lease" => (
                            self.leases,
                            "leases clients accepted",
                            "no client accepted a lease".to_string(),
                        ),
                        "mclt" => (
                            self.mclt_checked,
                            "DHCPACKs checked",
                            "no DHCPACK was sent outside PARTNER-DOWN".to_string(),
                        ),
                        "durability" => (
                            self.durability_judged,
                            "restarts or NAKs judged",
                            "no server restarted with its storage kept, and none NAKed a lease \
                             it had granted"
                                .to_string(),
                        ),
                        "lease-stability" => (
                            self.failures,
                            "server failures (crash or partition)",
                            "no server failed".to_string(),
                        ),
                        "liveness" => (
                            self.liveness_checks,
                            "convergence checks",
                            self.liveness_not_judged
                                .clone()
                                .unwrap_or_else(|| "the pair never settled".to_string()),
                        ),
                        "pool-balance" => (
                            self.pool_balance_periods,
                            "periods with both servers in NORMAL",
                            "the pair was never in NORMAL together".to_string(),
                        ),
                        _ => (0, "checks", "no check of it exists yet".to_string()),
                    };
                    if n > 0 {
                        (Status::Held, format!("{n} {what}{until}"))
                    } else {
                        (Status::NotJudged(why_not.clone()), why_not)
                    }
                };
                Judgement {
                    property,
                    status,
                    basis,
                }
            })
            .collect()
    }

    /// A failover connection closed: the updates sent on it will never be acknowledged.
    pub fn connection_closed(&mut self, conn: u64) {
        self.updates.retain(|(c, _, _), _| *c != conn);
    }

    /// How many BNDUPDs await their BNDACK on open connections.
    pub fn updates_in_flight(&self) -> usize {
        self.updates.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    #[test]
    fn a_duplicate_lease_is_reported() {
        let mut c = Checker::default();
        c.leased(Time::from_secs(10), 1, A, Time::from_secs(100));
        c.leased(Time::from_secs(20), 2, A, Time::from_secs(200));
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "no-duplicate-lease");
    }

    #[test]
    fn an_expired_or_released_lease_is_no_duplicate() {
        let mut c = Checker::default();
        c.leased(Time::from_secs(10), 1, A, Time::from_secs(100));
        c.leased(Time::from_secs(100), 2, A, Time::from_secs(200));
        c.lost(2, A);
        c.leased(Time::from_secs(150), 3, A, Time::from_secs(300));
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // Renewal by the same client is no duplicate either.
        c.leased(Time::from_secs(160), 3, A, Time::from_secs(400));
        assert!(c.violations.is_empty());
    }

    #[test]
    fn an_mclt_overrun_is_reported_and_partner_down_is_exempt() {
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        // Nothing acknowledged: at most now + MCLT.
        c.granted(Time::from_secs(100), 0, 0, 9, A, Time::from_secs(130), mclt);
        assert!(c.violations.is_empty());
        c.granted(Time::from_secs(100), 0, 0, 9, A, Time::from_secs(200), mclt);
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "mclt");
        // After the partner acknowledged a PET of 1000, up to 1030 is fine.
        let upd = Message::new(MessageType::BndUpd, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::PotentialExpirationTime(1000));
        c.failover_message(Time::EPOCH, 1, 0, [0, 0], &upd);
        let ack = Message::new(MessageType::BndAck, 0, 7).with(FoOption::AssignedIpAddress(A));
        c.failover_message(Time::EPOCH, 1, 1, [0, 0], &ack);
        c.granted(
            Time::from_secs(200),
            0,
            0,
            9,
            A,
            Time::from_secs(1030),
            mclt,
        );
        assert_eq!(c.violations.len(), 1);
        c.state(0, Some(FoState::PartnerDown));
        c.granted(
            Time::from_secs(200),
            0,
            0,
            9,
            A,
            Time::from_secs(99_999),
            mclt,
        );
        assert_eq!(
            c.violations.len(),
            1,
            "PARTNER-DOWN may grant unlimited leases"
        );
    }

    #[test]
    fn a_lost_acked_lease_is_reported() {
        // Goal: a server that kept its storage NAKs a client it ACKed and whose lease runs.
        let mclt = Duration::from_secs(3600);
        let mut c = Checker::default();
        c.granted(Time::from_secs(10), 0, 0, 4, A, Time::from_secs(1000), mclt);
        c.nak(Time::from_secs(500), 1, 4, &[4]);
        assert!(c.violations.is_empty(), "the other server may not know it");
        c.nak(Time::from_secs(2000), 0, 4, &[4]);
        assert!(c.violations.is_empty(), "the lease had ended");
        c.nak(Time::from_secs(500), 0, 4, &[4]);
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "durability");
        // A server that lost its database may forget.
        let mut c = Checker::default();
        c.granted(Time::from_secs(10), 0, 0, 4, A, Time::from_secs(1000), mclt);
        c.storage_lost(0);
        c.nak(Time::from_secs(500), 0, 4, &[4]);
        assert!(c.violations.is_empty());
    }

    #[test]
    fn a_surviving_server_that_nakks_a_binding_it_knew_breaks_lease_stability() {
        // Goal: the secondary accepted the primary's ACTIVE update for client 4; the primary
        // fails; the client rebinds and the secondary NAKs it: its lease was not stable.
        let mac = [2, 0, 0, 0, 0, 4];
        let mut c = Checker::default();
        c.leased(Time::from_secs(10), 4, A, Time::from_secs(1000));
        let upd = Message::new(MessageType::BndUpd, 0, 3)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::BindingStatus(
                dhcpfo_engine::wire::failover::BindingStatus(2),
            ))
            .with(FoOption::ClientHardwareAddress(
                dhcpfo_engine::wire::failover::HardwareAddress {
                    htype: 1,
                    addr: mac.to_vec(),
                },
            ))
            .with(FoOption::LeaseExpirationTime(1000))
            .with(FoOption::PotentialExpirationTime(1500));
        c.failover_message(Time::EPOCH, 1, 0, [0, 0], &upd);
        c.failover_message(
            Time::EPOCH,
            1,
            1,
            [0, 0],
            &Message::new(MessageType::BndAck, 0, 3).with(FoOption::AssignedIpAddress(A)),
        );
        c.nak(Time::from_secs(600), 1, 4, &mac);
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "lease-stability");
    }

    #[test]
    fn a_stuck_pair_is_reported() {
        let mut c = Checker::default();
        c.stuck_pair(
            Time::from_secs(9),
            [Some(FoState::Normal), Some(FoState::Normal)],
        );
        assert!(c.violations.is_empty());
        c.stuck_pair(
            Time::from_secs(9),
            [Some(FoState::Normal), Some(FoState::RecoverWait)],
        );
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "liveness");
    }

    fn view(last: u8, state: BindingState, client: Option<&str>, in_flight: bool) -> BindingView {
        BindingView {
            address: Ipv4Addr::new(10, 0, 0, last),
            state,
            client: client.map(str::to_owned),
            in_flight,
        }
    }

    #[test]
    fn databases_that_disagree_are_reported_and_in_flight_changes_are_not() {
        use BindingState::{Active, Backup, Free};
        let agreeing = || {
            [
                vec![
                    view(1, Active, Some("aa"), false),
                    view(2, Free, Some("bb"), false),
                    view(3, Active, Some("cc"), true),
                ],
                vec![
                    view(1, Active, Some("aa"), false),
                    // A pool address may forget its last client.
                    view(2, Free, None, false),
                    // Still in flight from the primary: not judged.
                    view(3, Free, None, false),
                ],
            ]
        };
        let mut c = Checker::default();
        c.databases_agree(Time::from_secs(9), agreeing());
        assert!(c.violations.is_empty(), "{:?}", c.violations);

        for (who, change) in [
            (1, view(1, Active, Some("zz"), false)),
            (1, view(1, Backup, None, false)),
            (0, view(2, Backup, None, false)),
        ] {
            let mut views = agreeing();
            let i = views[who]
                .iter()
                .position(|v| v.address == change.address)
                .unwrap();
            views[who][i] = change;
            let mut c = Checker::default();
            c.databases_agree(Time::from_secs(9), views);
            assert_eq!(c.violations.len(), 1);
            assert_eq!(c.violations[0].property, "liveness");
            assert_eq!(c.violations[0].addresses, vec![views_addr(i)]);
        }

        // An address only one side has.
        let mut views = agreeing();
        views[1].pop();
        let mut c = Checker::default();
        c.databases_agree(Time::from_secs(9), views);
        assert_eq!(c.violations.len(), 1);
    }

    fn views_addr(i: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 0, i as u8 + 1)
    }

    #[test]
    fn a_client_left_without_an_address_past_the_bound_is_reported() {
        let bound = Duration::from_secs(600);
        let now = Time::from_secs(10_000);
        let mut c = Checker::default();
        // Waiting for less than the bound: still being served.
        c.clients_served(now, bound, [(4, Time::from_secs(9_500))]);
        assert!(c.violations.is_empty());
        c.clients_served(
            now,
            bound,
            [(4, Time::from_secs(9_500)), (7, Time::from_secs(9_400))],
        );
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "liveness");
        assert_eq!(c.violations[0].clients, vec![7]);
    }

    #[test]
    fn a_rejected_update_acknowledges_nothing() {
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        let upd = Message::new(MessageType::BndUpd, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::PotentialExpirationTime(1000));
        c.failover_message(Time::EPOCH, 1, 0, [0, 0], &upd);
        let nak = Message::new(MessageType::BndAck, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::RejectReason(
                dhcpfo_engine::wire::failover::RejectReason(15),
            ));
        c.failover_message(Time::EPOCH, 1, 1, [0, 0], &nak);
        c.granted(
            Time::from_secs(200),
            0,
            0,
            9,
            A,
            Time::from_secs(1030),
            mclt,
        );
        assert_eq!(c.violations.len(), 1);
    }

    #[test]
    fn an_update_storm_is_a_liveness_violation_and_steady_traffic_is_not() {
        let upd = |xid: u32| {
            Message::new(MessageType::BndUpd, 0, xid)
                .with(FoOption::AssignedIpAddress(A))
                .with(FoOption::PotentialExpirationTime(1000))
        };
        // One update a minute for ten hours: a busy but converging address.
        let mut c = Checker::default();
        for k in 0..600u32 {
            let at = Time::from_secs(u64::from(k) * 60);
            c.failover_message(at, 1, 0, [0, 0], &upd(k));
        }
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // The same address back and forth every few milliseconds.
        let mut c = Checker::default();
        for k in 0..=STORM_UPDATES {
            let at = Time::from_millis(u64::from(k) * 4);
            c.failover_message(at, 1, (k % 2) as usize, [0, 0], &upd(k));
        }
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "liveness");
        assert_eq!(c.violations[0].addresses, vec![A]);
    }

    #[test]
    fn a_property_with_nothing_to_judge_is_not_judged_never_held() {
        let c = Checker::default();
        for j in c.judgements() {
            assert!(
                matches!(j.status, Status::NotJudged(_)),
                "{} {:?}",
                j.property,
                j.status
            );
        }
        let mut c = Checker::default();
        c.leased(Time::from_secs(10), 1, A, Time::from_secs(100));
        c.leased(Time::from_secs(20), 2, A, Time::from_secs(200));
        let status = |c: &Checker, p: &str| {
            c.judgements()
                .into_iter()
                .find(|j| j.property == p)
                .unwrap()
                .status
        };
        assert_eq!(status(&c, "no-duplicate-lease"), Status::Violated);
        let mut c = Checker::default();
        c.leased(Time::from_secs(10), 1, A, Time::from_secs(100));
        assert_eq!(status(&c, "no-duplicate-lease"), Status::Held);
        assert!(matches!(status(&c, "liveness"), Status::NotJudged(_)));
    }
}
