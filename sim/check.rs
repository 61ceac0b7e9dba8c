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
//!   never NAKs that client's running lease. BNDUPD binding status is read through the
//!   engine's decoder for the run's dialect (STYLE.md 19a): Microsoft's ACTIVE is 0x1, and 2 is
//!   DECLINED.
//! * **Liveness** — judged at the end, when every fault has healed and the scenario's converge
//!   bound has passed: both servers are in NORMAL; their binding databases agree (state and
//!   client of every address not still in flight); every running client that wants an address
//!   has held one within the bound. The database check is the one that reads each server's
//!   database, because the databases are what it judges; it compares them through the engine's
//!   public view, never its internals.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dhcpfo_engine::failover::messages::decode_bindings;
use dhcpfo_engine::failover::state::FoState;
use dhcpfo_engine::lease::BindingState;
use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::failover::{Dialect, FoOption, Message, MessageType};

/// The slack the MCLT check allows: times on the wire are whole seconds on the sender's clock,
/// and a receiver's estimate of the clock delta (draft-12 §5.10) is itself known only to within
/// the transit time plus the second its first sample rounded away.
pub const MCLT_SLACK: Duration = Duration::from_secs(2);

/// The properties the checkers judge, as violations name them.
pub const PROPERTIES: [&str; 5] = [
    "no-duplicate-lease",
    "mclt",
    "durability",
    "lease-stability",
    "liveness",
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
                    "client {client} was given {address}, which client {other} holds until {end}"
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
    /// back with the sender's. A BNDUPD's bindings are read by the engine's own decoder for the
    /// run's `dialect` (STYLE.md 19a), so each binding status means what the receiver reads.
    pub fn failover_message(
        &mut self,
        conn: u64,
        from: usize,
        skews_ms: [i64; 2],
        msg: &Message,
        dialect: Dialect,
    ) {
        let skew_ms = skews_ms[from.min(1)];
        let true_time = |wire: Time| {
            let ms = wire.as_millis() as i64 - skew_ms;
            Time::from_millis(ms.max(0) as u64)
        };
        match msg.msg_type {
            MessageType::BndUpd => {
                let carried: Vec<Carried> = decode_bindings(msg, dialect)
                    .into_iter()
                    .map(|b| match b {
                        Ok(i) => {
                            let active = match (i.state, i.hw, i.expires_at) {
                                (BindingState::Active, Some(hw), Some(end)) => {
                                    Some((hw.addr, true_time(end)))
                                }
                                _ => None,
                            };
                            Carried {
                                address: i.address,
                                pet: i.pet.map(true_time),
                                active,
                            }
                        }
                        // The receiver's decoder refuses it too: its BNDACK rejects it.
                        Err((address, _)) => Carried {
                            address,
                            pet: None,
                            active: None,
                        },
                    })
                    .collect();
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
                    let rejected = b
                        .options
                        .iter()
                        .any(|o| matches!(o, FoOption::RejectReason(_)));
                    if rejected {
                        continue;
                    }
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
                    "server {server} granted {address} until {lease_end}, {over} past the \
                     acknowledged PET {pet} (or now) + MCLT + {MCLT_SLACK} slack = {limit} (true \
                     time)"
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
                    "server {server} NAKed client {client}, whose lease on {address} until \
                     {until} it had learned from its partner"
                ),
                addresses: vec![address],
                clients: vec![client],
            });
        }
        let Some(&(by, address, end)) = self.acked_by.get(&client) else {
            return;
        };
        if by == server && end > now && !self.amnesic.get(server).copied().unwrap_or(true) {
            self.violations.push(Violation {
                at: now,
                property: "durability",
                detail: format!(
                    "server {server} NAKed client {client}, whose lease on {address} it ACKed \
                     until {end}"
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
                        "server {n} is {s:?}, not NORMAL, when the pair should have converged"
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
                     without one since +{:.3}s",
                    unserved.len(),
                    since.saturating_since(crate::world::START).as_millis() as f64 / 1000.0
                ),
                addresses: Vec::new(),
                clients: vec![client],
            });
        }
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
    use dhcpfo_engine::failover::messages::bndupd;
    use dhcpfo_engine::lease::{Binding, HwAddr};
    use dhcpfo_engine::wire::failover::BindingStatus;

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
            .with(FoOption::BindingStatus(BindingStatus(1)))
            .with(FoOption::PotentialExpirationTime(1000));
        c.failover_message(1, 0, [0, 0], &upd, Dialect::Isc);
        let ack = Message::new(MessageType::BndAck, 0, 7).with(FoOption::AssignedIpAddress(A));
        c.failover_message(1, 1, [0, 0], &ack, Dialect::Isc);
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
            .with(FoOption::BindingStatus(BindingStatus(2)))
            .with(FoOption::ClientHardwareAddress(
                dhcpfo_engine::wire::failover::HardwareAddress {
                    htype: 1,
                    addr: mac.to_vec(),
                },
            ))
            .with(FoOption::LeaseExpirationTime(1000))
            .with(FoOption::PotentialExpirationTime(1500));
        c.failover_message(1, 0, [0, 0], &upd, Dialect::Isc);
        c.failover_message(
            1,
            1,
            [0, 0],
            &Message::new(MessageType::BndAck, 0, 3).with(FoOption::AssignedIpAddress(A)),
            Dialect::Isc,
        );
        c.nak(Time::from_secs(600), 1, 4, &mac);
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "lease-stability");
    }

    #[test]
    fn lease_stability_reads_microsoft_binding_status_in_its_own_dialect() {
        // Goal: in MS-DHCPF, ACTIVE is 0x1 and 0x2 is DECLINED (STYLE.md 19a): an update read
        // with draft-12's values would miss the first and take the second for ACTIVE. Each
        // BNDUPD is the engine's own encoding, read back from the wire.
        let ms = Dialect::Microsoft;
        let mac = [2, 0, 0, 0, 0, 4];
        let mask = Ipv4Addr::new(255, 255, 0, 0);
        for (state, status, breaks) in [
            (BindingState::Active, 0x1, true),
            (BindingState::Abandoned, 0x2, false),
        ] {
            let mut b = Binding::new(A, state);
            b.hw = Some(HwAddr {
                htype: 1,
                addr: mac.to_vec(),
            });
            b.expires_at = Time::from_secs(1000);
            b.cltt = Time::from_secs(5);
            let upd = bndupd(0, 3, &[(&b, Time::from_secs(1500), mask)], ms);
            assert!(
                upd.options
                    .contains(&FoOption::BindingStatus(BindingStatus(status)))
            );
            let upd = Message::parse(&upd.to_bytes(), ms).expect("the engine's own encoding");
            let mut c = Checker::default();
            c.leased(Time::from_secs(10), 4, A, Time::from_secs(1000));
            c.failover_message(1, 0, [0, 0], &upd, ms);
            let ack = Message::new(MessageType::BndAck, 0, 3).with(FoOption::AssignedIpAddress(A));
            c.failover_message(1, 1, [0, 0], &ack, ms);
            c.nak(Time::from_secs(600), 1, 4, &mac);
            assert_eq!(!c.violations.is_empty(), breaks, "{state:?}");
        }
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
            .with(FoOption::BindingStatus(BindingStatus(1)))
            .with(FoOption::PotentialExpirationTime(1000));
        c.failover_message(1, 0, [0, 0], &upd, Dialect::Isc);
        let nak = Message::new(MessageType::BndAck, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::RejectReason(
                dhcpfo_engine::wire::failover::RejectReason(15),
            ));
        c.failover_message(1, 1, [0, 0], &nak, Dialect::Isc);
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
}
