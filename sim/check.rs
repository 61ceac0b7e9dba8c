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
//! * **Durability** — an ACK a client received survives a crash of the server that sent it,
//!   unless the scenario lost that server's storage since (`storage: lose_all`). Kept per
//!   (client, server name): the lease the client accepted from that server (matched by the
//!   ACK's server identifier to the last ACK that server sent it, for the server's clock skew
//!   then). When a server boots after a crash, its database must hold every such lease still
//!   running in true time: the address bound to that client, ACTIVE (or EXPIRED: its own
//!   clock, stepped ahead, ended it; the record survived), ending no earlier than the client
//!   was told, converted to the server's clock with its skew at the ACK ([`DURABILITY_SLACK`]
//!   for rounding). This check reads the restarted server's database, through the engine's
//!   public view (`Server::leases()`), because that database is what it judges, as liveness
//!   reads both. And after such a restart the server never NAKs a client's REQUEST for the
//!   address it owes it (a NAK names no address: it refuses what the REQUEST with its xid asked
//!   for). A NAK from a server that has not restarted since its ACK is no crash's doing, and is
//!   left to lease stability. A lease stops being owed when it is legitimately superseded: the
//!   client gave it up for good (RELEASE, DECLINE, a NAK, expiry; a reboot or a departure
//!   without RELEASE keeps it owed, for the client still counts on it); the client moved to
//!   another address (accepted from either server, or granted by this one: a server ends the
//!   old lease, RFC 2131 §4.3.1); or the server accepted its partner's update of the address
//!   naming another client or state (the pair's own decision, judged by no-duplicate-lease and
//!   lease stability, not by this: the ARP-probe scenario healed shows one, an address a
//!   declining client had the secondary mark ABANDONED). A later lease or an accepted update
//!   for the same client that ends sooner lowers what is owed.
//! * **Lease stability** — a server that accepted its partner's ACTIVE update for a client
//!   never NAKs that client's REQUEST (RENEWING, REBINDING, INIT-REBOOT) for the address while
//!   the lease it learned runs. BNDUPD binding status is read through the engine's decoder for
//!   the run's dialect (STYLE.md 19a): Microsoft's ACTIVE is 0x1, and 2 is DECLINED.
//! * **Duplicate grant declined** — the servers granted a client an address another client
//!   was configured with, and only the client's ARP probe (RFC 2131 §4.4.1) kept the two from
//!   using it at once. It is still two grants of one address: a violation of its own, so that a
//!   probe can never turn a duplicate into a pass.
//! * **Liveness** — judged at the end, when every fault has healed and the scenario's converge
//!   bound has passed: both servers are in NORMAL; their binding databases agree (state and
//!   client of every address not still in flight); every running client that wants an address
//!   has held one within the bound. The database check is the one that reads each server's
//!   database, because the databases are what it judges; it compares them through the engine's
//!   public view, never its internals.
//!
//! **Keys.** A server may belong to several relationships, so nothing here keeps a server at an
//! index or takes "the other server" for its partner: what a server did or owes is keyed by its
//! [`ServerName`], and everything about a pair (acknowledged PETs, updates in flight on a
//! connection, PARTNER-DOWN, the partners' agreement) by its [`RelationshipName`], with the
//! servers on each side named. State from one relationship never reaches a judgement in another.

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

use dhcpfo_engine::failover::messages::{Incoming, decode_bindings};
use dhcpfo_engine::failover::state::FoState;
use dhcpfo_engine::lease::BindingState;
use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::failover::{Dialect, FoOption, Message, MessageType};

use crate::client::LostReason;
use crate::names::{Pair, RelationshipName, ServerName};

/// A time as people read it: relative to the run's start.
fn at(t: Time) -> String {
    crate::world::fmt_at(t)
}

/// The slack the MCLT check allows: times on the wire are whole seconds on the sender's clock,
/// and a receiver's estimate of the clock delta (draft-12 §5.10) is itself known only to within
/// the transit time plus the second its first sample rounded away.
pub const MCLT_SLACK: Duration = Duration::from_secs(2);

/// The slack the durability check allows between a restarted server's recorded lease end and
/// what its client was told: the conversion between the server's clock and true time is exact
/// in the simulator, so this only absorbs rounding.
pub const DURABILITY_SLACK: Duration = Duration::from_secs(1);

/// The properties the checkers judge, as violations name them.
pub const PROPERTIES: [&str; 8] = [
    "no-duplicate-lease",
    "mclt",
    "durability",
    "lease-stability",
    "liveness",
    // Judged by crate::pool_balance.
    "pool-balance",
    "duplicate-grant-declined",
    "update-validation",
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
    /// Which of its property's checks saw it: the detail's words before the first `;` or `:`,
    /// without the numbers, addresses and names that vary from run to run. A liveness
    /// violation may be databases that disagree or a client left without an address; the
    /// shrinker keeps to the kind it was given (`dhcpfo shrink`).
    pub fn kind(&self) -> String {
        let head = self.detail.split([';', ':']).next().unwrap_or_default();
        let words: Vec<&str> = head
            .split_whitespace()
            .filter(|w| {
                w.chars()
                    .all(|c| c.is_ascii_alphabetic() || "'()-".contains(c))
            })
            .collect();
        format!("{}: {}", self.property, words.join(" "))
    }

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

/// Bytes as a person reads a hardware address: `02:00:00:00:00:04`.
fn hex(bytes: &[u8]) -> String {
    let parts: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    parts.join(":")
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

/// One binding of a restarted server's database, as the durability check reads it: times on
/// that server's own clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLease {
    /// The address.
    pub address: Ipv4Addr,
    /// Its binding state.
    pub state: BindingState,
    /// Its client's hardware address (chaddr; the client identifier only for a binding that
    /// has no hardware address), if it names one: the checkers know clients by hardware
    /// address, also those the server keys by a client identifier (option 61).
    pub client: Option<Vec<u8>>,
    /// When the lease ends, on the server's clock.
    pub expires_at: Time,
}

/// The last DHCPACK a server sent a client, which the client may accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AckSent {
    address: Ipv4Addr,
    /// When it left (true time).
    at: Time,
    /// How far the server's clock was ahead of true time then.
    skew_ms: i64,
}

/// A lease a server owes a client (see the module doc, durability).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Owed {
    address: Ipv4Addr,
    /// The client's hardware address, as the server's database names the client.
    mac: Vec<u8>,
    /// The end the server's record must reach, in true time.
    until: Time,
    /// How far the server's clock was ahead of true time when it recorded that end (at its
    /// ACK, or at the accepted partner update that lowered it): converts `until` to its clock.
    skew_ms: i64,
    /// When the server sent the ACK the client accepted.
    acked_at: Time,
}

/// A small map from server name to `T`, for what one client has to do with each server (the
/// ACK each sent it, the lease each owes it): a client deals with one or two servers, so a
/// sorted vector beats a map, and iterates in name order.
#[derive(Debug, Clone)]
struct ByServer<T>(Vec<(ServerName, T)>);

impl<T> Default for ByServer<T> {
    fn default() -> Self {
        ByServer(Vec::new())
    }
}

impl<T> ByServer<T> {
    fn get(&self, server: ServerName) -> Option<&T> {
        self.0.iter().find(|(s, _)| *s == server).map(|(_, t)| t)
    }

    fn get_mut(&mut self, server: ServerName) -> Option<&mut T> {
        self.0
            .iter_mut()
            .find(|(s, _)| *s == server)
            .map(|(_, t)| t)
    }

    fn insert(&mut self, server: ServerName, value: T) {
        match self.0.binary_search_by(|(s, _)| s.cmp(&server)) {
            Ok(i) => self.0[i].1 = value,
            Err(i) => self.0.insert(i, (server, value)),
        }
    }

    fn remove(&mut self, server: ServerName) -> Option<T> {
        let i = self.0.iter().position(|(s, _)| *s == server)?;
        Some(self.0.remove(i).1)
    }

    fn servers(&self) -> Vec<ServerName> {
        self.0.iter().map(|(s, _)| *s).collect()
    }
}

/// The leases servers owe clients (see the module doc, durability), found by client and by
/// (server, address) without a scan: every lease a client accepts, and every partner update a
/// server accepts, looks here.
#[derive(Debug, Clone, Default)]
struct Debts {
    /// client → what each server owes it. Bound: one entry per client, each with one debt per
    /// server.
    by_client: Vec<ByServer<Owed>>,
    /// (server, address) → the clients that server owes the address (one, but for a
    /// duplicate).
    by_address: BTreeMap<(ServerName, Ipv4Addr), BTreeSet<usize>>,
}

impl Debts {
    fn get(&self, client: usize, server: ServerName) -> Option<&Owed> {
        self.by_client.get(client)?.get(server)
    }

    fn get_mut(&mut self, client: usize, server: ServerName) -> Option<&mut Owed> {
        self.by_client.get_mut(client)?.get_mut(server)
    }

    fn insert(&mut self, client: usize, server: ServerName, owed: Owed) {
        self.remove(client, server);
        if self.by_client.len() <= client {
            self.by_client.resize_with(client + 1, ByServer::default);
        }
        let clients = self.by_address.entry((server, owed.address)).or_default();
        clients.insert(client);
        self.by_client[client].insert(server, owed);
    }

    fn remove(&mut self, client: usize, server: ServerName) {
        let taken = self
            .by_client
            .get_mut(client)
            .and_then(|debts| debts.remove(server));
        let Some(o) = taken else {
            return;
        };
        if let Some(clients) = self.by_address.get_mut(&(server, o.address)) {
            clients.remove(&client);
            if clients.is_empty() {
                self.by_address.remove(&(server, o.address));
            }
        }
    }

    /// The servers that owe `client` something, in name order.
    fn creditors(&self, client: usize) -> Vec<ServerName> {
        self.by_client
            .get(client)
            .map(ByServer::servers)
            .unwrap_or_default()
    }

    fn forget_client(&mut self, client: usize) {
        for server in self.creditors(client) {
            self.remove(client, server);
        }
    }

    /// Everything `server` owes: (client, debt).
    fn of_server(&self, server: ServerName) -> impl Iterator<Item = (usize, &Owed)> {
        self.by_client
            .iter()
            .enumerate()
            .filter_map(move |(c, debts)| Some((c, debts.get(server)?)))
    }

    fn forget_server(&mut self, server: ServerName) {
        for client in 0..self.by_client.len() {
            self.remove(client, server);
        }
    }

    /// The clients `server` owes `address`.
    fn on_address(&self, server: ServerName, address: Ipv4Addr) -> Vec<usize> {
        self.by_address
            .get(&(server, address))
            .map(|c| c.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether `server` owes anybody `address` (the common answer, no).
    fn owes_address(&self, server: ServerName, address: Ipv4Addr) -> bool {
        self.by_address.contains_key(&(server, address))
    }
}

/// One binding transaction of a BNDUPD, as the checkers keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Carried {
    address: Ipv4Addr,
    /// The binding status, as the receiver reads it (`None` when it cannot).
    state: Option<BindingState>,
    pet: Option<Time>,
    active: Option<(Vec<u8>, Time)>,
    /// What the update lacks that its binding-status requires ([`lacks`]), if anything.
    lacks: Option<&'static str>,
}

/// What a received binding update lacks that its binding-status requires, if anything, as this
/// checker reads draft-12 Table 7.1-1 and Table 7.1.1-1 (on its own, not through the engine's
/// acceptance module): an ACTIVE names its client (a non-empty client-identifier or hardware
/// address) and carries its lease-expiration-time and potential-expiration-time; an EXPIRED or
/// RELEASED names its client. The table asks the hardware address of all three; a
/// client-identifier alone still names the client, and the engine takes it, so that case is
/// not judged. A binding the receiver cannot decode (`None`) lacks what its dialect requires.
fn lacks(update: Option<&Incoming>) -> Option<&'static str> {
    let Some(i) = update else {
        return Some("options it can read");
    };
    let names_client = i.client_id.as_ref().is_some_and(|id| !id.is_empty())
        || i.hw.as_ref().is_some_and(|hw| !hw.addr.is_empty());
    match i.state {
        BindingState::Active | BindingState::Expired | BindingState::Released if !names_client => {
            Some("a client")
        }
        BindingState::Active if i.expires_at.is_none() => Some("a lease-expiration-time"),
        BindingState::Active if i.pet.is_none() => Some("a potential-expiration-time"),
        _ => None,
    }
}

/// A failover message as it crossed the wire: the connection, the relationship that connection
/// serves, and the servers at either end, each with its clock's skew as the message left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// The failover connection it was sent on.
    pub conn: u64,
    /// The relationship the connection serves, with its servers' roles.
    pub pair: Pair,
    /// The server that sent it.
    pub from: Endpoint,
    /// The server it was sent to.
    pub to: Endpoint,
}

/// One end of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The server.
    pub server: ServerName,
    /// How far its clock was ahead of true time when the message was sent.
    pub skew_ms: i64,
}

/// A PET one server sent in a relationship and its partner acknowledged, with both servers'
/// clock skews at the acknowledgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AckedPet {
    /// The PET, in true time.
    pet: Time,
    /// The sender's and the acknowledger's clock skews then.
    skews_ms: [(ServerName, i64); 2],
}

impl AckedPet {
    /// How far `server`'s clock was ahead of true time at the acknowledgement, if it was one of
    /// the two partners.
    fn skew_ms(&self, server: ServerName) -> Option<i64> {
        self.skews_ms
            .iter()
            .find(|(s, _)| *s == server)
            .map(|&(_, skew)| skew)
    }
}

/// The PETs of `map` for `address` in `relationship`, one per sender, with the sender.
fn per_sender(
    map: &BTreeMap<(RelationshipName, Ipv4Addr, ServerName), AckedPet>,
    relationship: RelationshipName,
    address: Ipv4Addr,
) -> impl Iterator<Item = (ServerName, &AckedPet)> {
    map.range((relationship, address, FIRST_SERVER)..)
        .take_while(move |((r, a, _), _)| *r == relationship && *a == address)
        .map(|((_, _, sender), pet)| (*sender, pet))
}

/// Whose own pool an update's binding status puts its address in once acknowledged, in `pair`
/// (draft-12 §2.2 "available IP address": FREE the primary's, BACKUP the secondary's; an
/// acknowledged EXPIRED, RELEASED or RESET returns to FREE, §5.11); `None` for any other status,
/// or one the receiver could not read.
fn pool_owner(pair: Pair, state: Option<BindingState>) -> Option<ServerName> {
    match state? {
        BindingState::Free
        | BindingState::Expired
        | BindingState::Released
        | BindingState::Reset => Some(pair.primary),
        BindingState::Backup => Some(pair.secondary),
        _ => None,
    }
}

/// The last DHCPACK granting an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Grant {
    client: usize,
    /// The lease end (true time).
    until: Time,
    server: ServerName,
    /// When it was sent (true time).
    at: Time,
}

/// The least server name: where a range over the servers of one (relationship, address) starts.
const FIRST_SERVER: ServerName = ServerName::new("");

/// The checkers' state.
#[derive(Debug, Clone, Default)]
pub struct Checker {
    /// address → client → lease end (client clock).
    holders: BTreeMap<Ipv4Addr, BTreeMap<usize, Time>>,
    /// (connection, relationship, sender, xid) → what a BNDUPD carried per address: the PET,
    /// and for an ACTIVE binding its client's hardware address and lease end (true time). A
    /// BNDACK answers on the connection the update came in on, or never (draft-12 §7.1.1), so a
    /// closed connection's entries go with it ([`Checker::connection_closed`]).
    updates: BTreeMap<(u64, RelationshipName, ServerName, u32), Vec<Carried>>,
    /// (relationship, address) → the server whose own pool the address is in, by the last
    /// update about it the partners agreed on (one sent, the other acknowledged): FREE is the
    /// primary's, BACKUP the secondary's (draft-12 §2.2 "available IP address"). Kept only
    /// while no grant of it and no other update about it follows: until then its partner
    /// cannot have leased it, and PARTNER-DOWN may use it at once (draft-12 §9.4.2).
    pool_agreed: BTreeMap<(RelationshipName, Ipv4Addr), ServerName>,
    /// (relationship, server, address) → (client hardware address, lease end) of the ACTIVE
    /// binding that server last accepted from its partner in that relationship.
    known: BTreeMap<(RelationshipName, ServerName, Ipv4Addr), (Vec<u8>, Time)>,
    /// client → the address of the lease it last received and until when, while it counts on
    /// it: kept through a reboot (INIT-REBOOT asks for it again), dropped when given up.
    current: BTreeMap<usize, (Ipv4Addr, Time)>,
    /// (relationship, address, sender) → the latest PET that server sent, acknowledged or not:
    /// the sender knows it (it keeps what it sends on stable storage), so its partner may grant
    /// the MCLT past it (draft-12 §7.1.5, the received PET), once it has received it.
    sent_pet: BTreeMap<(RelationshipName, Ipv4Addr, ServerName), AckedPet>,
    /// (relationship, address, sender) → the latest PET that server sent and its partner
    /// acknowledged.
    acked_pet: BTreeMap<(RelationshipName, Ipv4Addr, ServerName), AckedPet>,
    /// (relationship, server) → the server's failover state in that relationship as last
    /// announced; absent while it is down.
    states: BTreeMap<(RelationshipName, ServerName), FoState>,
    /// client → the last DHCPACK each server sent it since that server's storage was last
    /// lost. Bound: one entry per client, each with one ACK per server.
    acks_sent: Vec<ByServer<AckSent>>,
    /// The leases servers owe clients.
    owed: Debts,
    /// When each server last booted.
    booted_at: BTreeMap<ServerName, Time>,
    /// Violations found.
    pub violations: Vec<Violation>,
    /// Leases accepted by clients.
    pub leases: u64,
    /// DHCPACKs checked against the MCLT rule.
    pub mclt_checked: u64,
    /// Failures of one server (crash or partition): chances for lease stability to be judged.
    pub failures: u64,
    /// Liveness judgements made (after a heal plus the converge bound, and at the end).
    pub liveness_checks: u64,
    /// Why liveness was not judged at the end, when it was not.
    pub liveness_not_judged: Option<String>,
    /// Binding updates the partner rejected, by reject reason (draft-12 §12.21): findings
    /// in their own right, reported with every run.
    pub rejects: BTreeMap<u8, u64>,
    /// (relationship, address, sender) whose latest BNDACK was a reject: the partners disagree
    /// on it until a later update is accepted.
    rejected: BTreeSet<(RelationshipName, Ipv4Addr, ServerName)>,
    /// When the run stopped before its end (at its first violation), the time it stopped.
    pub stopped_at: Option<Time>,
    /// (relationship, address) → (start of the current window, BNDUPD transactions for it in
    /// the window).
    update_rate: BTreeMap<(RelationshipName, Ipv4Addr), (Time, u32)>,
    /// Periods with both servers in NORMAL, in which `crate::pool_balance` judged.
    pub pool_balance_periods: u64,
    /// (relationship, address) → the last DHCPACK for it.
    last_grant: BTreeMap<(RelationshipName, Ipv4Addr), Grant>,
    /// (relationship, server) → when the server entered PARTNER-DOWN in that relationship (true
    /// time) and how far its clock was then ahead of true time (ms), while it is there.
    partner_down_since: BTreeMap<(RelationshipName, ServerName), (Time, i64)>,
    /// Grants in PARTNER-DOWN of an address another client held, judged by the reuse rule.
    pub partner_down_checked: u64,
    /// Leases a restarted server's database was checked for.
    pub durable_checked: u64,
    /// Duplicate grants that a client's ARP probe caught and declined.
    pub duplicates_declined: u64,
    /// ARP probes made (of newly offered addresses): chances for `duplicate-grant-declined`
    /// to be judged.
    pub probes: u64,
    /// BNDACKs that answered an update lacking what its status requires: chances for
    /// `update-validation` to be judged.
    pub incomplete_answered: u64,
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

    /// A client stopped holding an address, for `why`. A reboot, or a departure without
    /// RELEASE, ends the holding but not the lease: the client still counts on it (see the
    /// module doc, durability).
    pub fn lost(&mut self, client: usize, address: Ipv4Addr, why: LostReason) {
        let given_up = !matches!(why, LostReason::Rebooted | LostReason::Departed);
        if given_up {
            if self
                .current
                .get(&client)
                .is_some_and(|(a, _)| *a == address)
            {
                self.current.remove(&client);
            }
            self.owed.forget_client(client);
        }
        if let Some(h) = self.holders.get_mut(&address) {
            h.remove(&client);
            if h.is_empty() {
                self.holders.remove(&address);
            }
        }
    }

    /// `server` announced a failover state in `relationship` at `now`, its clock `skew_ms`
    /// ahead of true time, or stopped (`None`: crashed).
    pub fn state(
        &mut self,
        now: Time,
        relationship: RelationshipName,
        server: ServerName,
        state: Option<FoState>,
        skew_ms: i64,
    ) {
        let key = (relationship, server);
        match state {
            Some(s) => self.states.insert(key, s),
            None => self.states.remove(&key),
        };
        if state == Some(FoState::PartnerDown) {
            self.partner_down_since.entry(key).or_insert((now, skew_ms));
        } else {
            self.partner_down_since.remove(&key);
        }
    }

    /// A failover message crossed `link`: its absolute times are converted back to true time
    /// with the sender's clock skew. A BNDUPD's bindings are read by the engine's own decoder
    /// for the run's `dialect` (STYLE.md 19a), so each binding status means what the receiver
    /// reads. A BNDACK answers the update its receiver sent on the same connection.
    pub fn failover_message(&mut self, now: Time, link: &Link, msg: &Message, dialect: Dialect) {
        let relationship = link.pair.relationship;
        let skew_ms = link.from.skew_ms;
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
                            let lacks = lacks(Some(&i));
                            let active = match (i.state, i.hw, i.expires_at) {
                                (BindingState::Active, Some(hw), Some(end)) => {
                                    Some((hw.addr, true_time(end)))
                                }
                                _ => None,
                            };
                            Carried {
                                address: i.address,
                                state: Some(i.state),
                                pet: i.pet.map(true_time),
                                active,
                                lacks,
                            }
                        }
                        // The receiver's decoder refuses it too: its BNDACK rejects it.
                        Err((address, _)) => Carried {
                            address,
                            state: None,
                            pet: None,
                            active: None,
                            lacks: lacks(None),
                        },
                    })
                    .collect();
                for c in &carried {
                    self.count_update(now, relationship, c.address);
                    // The receiver must reject it (judged at its BNDACK): nothing it says
                    // counts as the sender's word.
                    if c.lacks.is_some() {
                        continue;
                    }
                    if let Some(pet) = c.pet {
                        let skews_ms = [
                            (link.from.server, link.from.skew_ms),
                            (link.to.server, link.to.skew_ms),
                        ];
                        let about = (relationship, c.address, link.from.server);
                        self.sent_pet.insert(about, AckedPet { pet, skews_ms });
                    }
                    // Another word about it may take it out of the pool it was in.
                    let pool = pool_owner(link.pair, c.state);
                    if pool.is_none()
                        || self.pool_agreed.get(&(relationship, c.address)) != pool.as_ref()
                    {
                        self.pool_agreed.remove(&(relationship, c.address));
                    }
                }
                // Bound: entries are removed when answered or when their connection closes,
                // so at most max-unacked-bndupd per open connection remain.
                let key = (link.conn, relationship, link.from.server, msg.xid);
                self.updates.insert(key, carried);
            }
            MessageType::BndAck => {
                let (sender, acker) = (link.to, link.from);
                let key = (link.conn, relationship, sender.server, msg.xid);
                let Some(carried) = self.updates.remove(&key) else {
                    return;
                };
                for b in msg.bindings() {
                    let reject = b.options.iter().find_map(|o| match o {
                        FoOption::RejectReason(r) => Some(r.0),
                        _ => None,
                    });
                    let about = (relationship, b.address, sender.server);
                    let answered = carried.iter().find(|c| c.address == b.address);
                    // draft-12 §7.1.3: "If the BNDUPD lacks information ⇒ reject 3", for
                    // every BNDUPD in any state.
                    if let Some(what) = answered.and_then(|c| c.lacks) {
                        self.incomplete_answered += 1;
                        if reject.is_none() {
                            self.violations.push(Violation {
                                at: now,
                                property: "update-validation",
                                detail: format!(
                                    "{} accepted an incomplete update: {}'s BNDUPD for {} \
                                     lacks {what}, which draft-12 §7.1.3 rejects (reason 3)",
                                    acker.server, sender.server, b.address
                                ),
                                addresses: vec![b.address],
                                clients: Vec::new(),
                            });
                            continue;
                        }
                    }
                    if let Some(reason) = reject {
                        *self.rejects.entry(reason).or_default() += 1;
                        self.rejected.insert(about);
                        continue;
                    }
                    self.rejected.remove(&about);
                    let Some(c) = answered else {
                        continue;
                    };
                    // The acknowledging server overwrites its record (draft-12 §7.1.2):
                    // the latest acknowledged PET counts, even when lower than an earlier one.
                    if let Some(pet) = c.pet {
                        let skews_ms = [
                            (sender.server, sender.skew_ms),
                            (acker.server, acker.skew_ms),
                        ];
                        self.acked_pet.insert(about, AckedPet { pet, skews_ms });
                    }
                    if let Some(owner) = pool_owner(link.pair, c.state) {
                        self.pool_agreed.insert((relationship, c.address), owner);
                    }
                    let known = (relationship, acker.server, b.address);
                    match &c.active {
                        Some(active) => {
                            self.known.insert(known, active.clone());
                        }
                        None => {
                            self.known.remove(&known);
                        }
                    }
                    if self.owed.owes_address(acker.server, c.address) {
                        let (address, active) = (c.address, c.active.clone());
                        self.partner_update_accepted(acker.server, acker.skew_ms, address, active);
                    }
                }
            }
            _ => {}
        }
    }

    /// The PETs acknowledged in `relationship` for `address`, one per sender.
    fn acked_pets(
        &self,
        relationship: RelationshipName,
        address: Ipv4Addr,
    ) -> impl Iterator<Item = &AckedPet> {
        per_sender(&self.acked_pet, relationship, address).map(|(_, acked)| acked)
    }

    /// The PETs `server`'s partners in `relationship` sent for `address`, the latest of each,
    /// acknowledged or not.
    fn sent_by_partners(
        &self,
        relationship: RelationshipName,
        address: Ipv4Addr,
        server: ServerName,
    ) -> impl Iterator<Item = &AckedPet> {
        per_sender(&self.sent_pet, relationship, address)
            .filter(move |(sender, _)| *sender != server)
            .map(|(_, sent)| sent)
    }

    /// `server` sent a DHCPACK at `now`, its clock then `skew_ms` ahead of true time, granting
    /// `address`, an address of `relationship`'s pools, until `lease_end`.
    ///
    /// A server keeps the times it relies on as absolute times on its own clock, and cannot see
    /// its own clock move (draft-12 §5.10 corrects only for the partner's). So the limit allows,
    /// besides [`MCLT_SLACK`], for how far the granting server's clock has gone back since the
    /// PET was acknowledged: a clock step or a slow drift of its own is not the protocol's fault,
    /// while a skew between the partners (flaw 1 of issue 13) is, and is judged in full.
    ///
    /// In PARTNER-DOWN leases may run unlimited (draft-12.md §5.1), but the reuse rule holds
    /// ([`Checker::partner_down_reuse`]).
    #[allow(clippy::too_many_arguments)]
    pub fn granted(
        &mut self,
        now: Time,
        relationship: RelationshipName,
        server: ServerName,
        skew_ms: i64,
        client: usize,
        address: Ipv4Addr,
        lease_end: Time,
        mclt: Duration,
    ) {
        let grant = Grant {
            client,
            until: lease_end,
            server,
            at: now,
        };
        let before = self.last_grant.insert((relationship, address), grant);
        if let Some(&(entered, skew_then)) = self.partner_down_since.get(&(relationship, server)) {
            // Its clock may have gone forward since entry: it waits on its own clock.
            let ahead = Duration::from_millis((skew_ms - skew_then).max(0) as u64);
            let entry = (entered, ahead, skew_ms);
            self.partner_down_reuse(&grant, relationship, address, entry, before, mclt);
            self.pool_agreed.remove(&(relationship, address));
            return;
        }
        self.pool_agreed.remove(&(relationship, address));
        self.mclt_checked += 1;
        // A PET acknowledged when the granting server's clock was further ahead than now: its
        // clock went back since, and the PET it holds reads that much later in true time.
        let pet = self
            .acked_pets(relationship, address)
            .chain(self.sent_by_partners(relationship, address, server))
            .map(|acked| {
                let then_ms = acked.skew_ms(server).unwrap_or(skew_ms);
                let went_back_ms = (then_ms - skew_ms).max(0) as u64;
                acked.pet + Duration::from_millis(went_back_ms)
            })
            .fold(Time::EPOCH, Time::max);
        let limit = pet.max(now) + mclt + MCLT_SLACK;
        if lease_end > limit {
            let over = lease_end.saturating_since(limit);
            self.violations.push(Violation {
                at: now,
                property: "mclt",
                detail: format!(
                    "{server} granted {address} until {} in relationship {relationship}, {over} \
                     past the PET its partner knows {} (acknowledged, or sent by the partner; or \
                     now) + MCLT + {MCLT_SLACK} slack = {} (true time)",
                    at(lease_end),
                    at(pet),
                    at(limit)
                ),
                addresses: vec![address],
                clients: Vec::new(),
            });
        }
    }

    /// The PARTNER-DOWN reuse rule (draft-12 §9.4.2; draft-12.md §5.1 (b)): an address bound
    /// to a client when this server entered PARTNER-DOWN, as this server knew it (a lease it
    /// granted itself, or its partner's update it acknowledged), goes to a *different* client
    /// only the MCLT after the later of entry, that lease's end and the PETs the partners
    /// acknowledged for it. A lease this server itself granted during PARTNER-DOWN needs no
    /// wait, and one it never heard of it cannot wait for (that is the operator's risk in
    /// declaring PARTNER-DOWN; a resulting duplicate is the no-duplicate-lease checker's).
    /// Judged from the DHCPACKs and binding updates on the wire, in true time, within
    /// `relationship`: `grant` is the new grant, `before` the last one of the address; the
    /// entry is when it entered, how far its clock went forward since, and its skew now.
    fn partner_down_reuse(
        &mut self,
        grant: &Grant,
        relationship: RelationshipName,
        address: Ipv4Addr,
        (entered, clock_ahead, skew_ms): (Time, Duration, i64),
        before: Option<Grant>,
        mclt: Duration,
    ) {
        let Grant {
            client,
            server: me,
            at: now,
            ..
        } = *grant;
        // The partner's pool, as the partners last agreed it on the wire (or as configured,
        // all FREE, the primary's, until a word about it), waits the MCLT after entry, whoever
        // had it last (draft-12 §9.4.2): the partner may have leased it in its last moments, to
        // a client this server never heard of, for at most the MCLT. It waits on its own clock,
        // which may have gone forward since (`clock_ahead`: not the protocol's fault).
        let owner = self.pool_agreed.get(&(relationship, address)).copied();
        let ready = (entered + mclt).saturating_sub(clock_ahead);
        if owner.is_some_and(|o| o != me) && now + MCLT_SLACK < ready {
            self.partner_down_checked += 1;
            self.violations.push(Violation {
                at: now,
                property: "mclt",
                detail: format!(
                    "{me} in PARTNER-DOWN in relationship {relationship} (since {}) gave \
                     {address}, of its partner's pool, to client {client} at {}, before {} \
                     (the MCLT after entry)",
                    at(entered),
                    at(now),
                    at(ready)
                ),
                addresses: vec![address],
                clients: vec![client],
            });
            return;
        }
        let Some(before) = before else {
            return;
        };
        let holder = before.client;
        if holder == client || (before.server == me && before.at >= entered) {
            return;
        }
        // Since that lease, the partners agreed it is in this server's own pool, and nobody
        // spoke of it again: the partner cannot have leased it (draft-12 §9.4.2: its own pool
        // at once).
        if self.pool_agreed.get(&(relationship, address)) == Some(&me) {
            return;
        }
        // What this server knew of the holder's lease: its own grant, or the partner's update
        // it accepted; else nothing binds it here.
        let end = if before.server == me {
            before.until
        } else {
            match self.known.get(&(relationship, me, address)) {
                Some((hw, known_end)) if hw.as_slice() == crate::world::mac_of(holder) => {
                    *known_end
                }
                _ => return,
            }
        };
        self.partner_down_checked += 1;
        // A PET acknowledged when this server's clock was further behind than now reads that
        // much earlier in true time on its clock now.
        let latest = self
            .acked_pets(relationship, address)
            .map(|acked| {
                let then_ms = acked.skew_ms(me).unwrap_or(skew_ms);
                let went_forward_ms = (skew_ms - then_ms).max(0) as u64;
                acked
                    .pet
                    .saturating_sub(Duration::from_millis(went_forward_ms))
            })
            .fold(end, Time::max);
        // Measured on its own clock too, which may have gone forward since entry.
        let reusable_at = entered.saturating_sub(clock_ahead).max(latest) + mclt;
        if now + MCLT_SLACK < reusable_at {
            self.violations.push(Violation {
                at: now,
                property: "mclt",
                detail: format!(
                    "{me} in PARTNER-DOWN in relationship {relationship} (since {}) gave \
                     {address} to client {client} at {}, before {} (the MCLT after entry and \
                     after client {holder}'s lease to {} and its acknowledged PET {})",
                    at(entered),
                    at(now),
                    at(reusable_at),
                    at(end),
                    at(latest)
                ),
                addresses: vec![address],
                clients: vec![client, holder],
            });
        }
    }

    /// The configured pools of `pair`: every address FREE in both servers at the start, the
    /// primary's pool (draft-12 §5.4) until the wire says otherwise.
    pub fn pools_at_start(&mut self, pair: Pair, ranges: &[(Ipv4Addr, Ipv4Addr)]) {
        for &(first, last) in ranges {
            for a in u32::from(first)..=u32::from(last) {
                self.pool_agreed
                    .insert((pair.relationship, Ipv4Addr::from(a)), pair.primary);
            }
        }
    }

    /// A server lost its whole database: what it granted before may be forgotten, including
    /// the ACKs still on their way to clients.
    pub fn storage_lost(&mut self, server: ServerName) {
        self.owed.forget_server(server);
        for acks in &mut self.acks_sent {
            acks.remove(server);
        }
    }

    /// A server sent `client` a DHCPACK for `address` at `now`, its clock then `skew_ms` ahead of
    /// true time. Kept until the client accepts it ([`Checker::received`]). An ACK for another
    /// address than the one the server owes the client ends that debt, heard or not: the server
    /// released the old lease when it granted the new one (one lease per client, RFC 2131
    /// §4.3.1), and a client asks for another address only once it holds none.
    pub fn ack_sent(
        &mut self,
        now: Time,
        server: ServerName,
        client: usize,
        address: Ipv4Addr,
        skew_ms: i64,
    ) {
        if self
            .owed
            .get(client, server)
            .is_some_and(|o| o.address != address)
        {
            self.owed.remove(client, server);
        }
        if self.acks_sent.len() <= client {
            self.acks_sent.resize_with(client + 1, ByServer::default);
        }
        let ack = AckSent {
            address,
            at: now,
            skew_ms,
        };
        self.acks_sent[client].insert(server, ack);
    }

    /// A client (hardware address `mac`) accepted a lease on `address` until `until` (true
    /// time) from the server named by the ACK's server identifier: that server now owes it
    /// (see the module doc, durability). Called for every ACK a client accepts, even one it
    /// then declines, since the server ends the client's other lease either way.
    pub fn received(
        &mut self,
        client: usize,
        server: ServerName,
        mac: &[u8],
        address: Ipv4Addr,
        until: Time,
    ) {
        let me = server;
        // One lease per client: a lease on another address is over (RFC 2131 §4.3.1), and a
        // lease on this one from another server is owed only as long as the client now counts
        // on.
        for s in self.owed.creditors(client) {
            match self.owed.get_mut(client, s) {
                Some(o) if o.address != address => self.owed.remove(client, s),
                Some(o) if s != me => o.until = o.until.min(until),
                _ => {}
            }
        }
        // The ACK that granted it: none if the server's storage was lost since it left.
        let ack = self
            .acks_sent
            .get(client)
            .and_then(|acks| acks.get(me).copied())
            .filter(|ack| ack.address == address);
        let Some(ack) = ack else {
            self.owed.remove(client, me);
            return;
        };
        // A renewal updates the debt in place; a new address is a new debt.
        if let Some(o) = self.owed.get_mut(client, me) {
            o.until = until;
            o.skew_ms = ack.skew_ms;
            o.acked_at = ack.at;
            return;
        }
        let owed = Owed {
            address,
            mac: mac.to_vec(),
            until,
            skew_ms: ack.skew_ms,
            acked_at: ack.at,
        };
        self.owed.insert(client, me, owed);
    }

    /// `server` accepted its partner's update of `address` (BNDACK without a reject reason),
    /// its clock then `skew_ms` ahead of true time: an ACTIVE binding for a client with a lease
    /// end (true time), or anything else. It supersedes what that server owed on the address:
    /// another client or state ends the debt, the same client's shorter lease lowers it.
    fn partner_update_accepted(
        &mut self,
        server: ServerName,
        skew_ms: i64,
        address: Ipv4Addr,
        active: Option<(Vec<u8>, Time)>,
    ) {
        for client in self.owed.on_address(server, address) {
            let Some(o) = self.owed.get_mut(client, server) else {
                continue;
            };
            match &active {
                Some((hw, end)) if *hw == o.mac => {
                    // The partner's end reaches this server through its clock-delta estimate
                    // (draft-12 §5.10): known to within MCLT_SLACK.
                    let end = end.saturating_sub(MCLT_SLACK);
                    if end < o.until {
                        o.until = end;
                        o.skew_ms = skew_ms;
                    }
                }
                _ => self.owed.remove(client, server),
            }
        }
    }

    /// Durability: `server` has just booted, and `db` is its database (through the engine's
    /// public view, before it has handled anything). Every lease it owes a client that still
    /// runs must be there (see the module doc).
    pub fn restarted(&mut self, now: Time, server: ServerName, db: &[StoredLease]) {
        let me = server;
        self.booted_at.insert(me, now);
        let by_address: BTreeMap<Ipv4Addr, &StoredLease> =
            db.iter().map(|b| (b.address, b)).collect();
        let mut missing = Vec::new();
        for (client, o) in self.owed.of_server(me) {
            if o.until <= now {
                continue;
            }
            self.durable_checked += 1;
            // What the client was told, on the server's clock at the time it recorded it.
            let need_ms =
                o.until.as_millis() as i64 + o.skew_ms - DURABILITY_SLACK.as_millis() as i64;
            let stored = by_address.get(&o.address);
            let kept = stored.is_some_and(|b| {
                b.client.as_deref() == Some(o.mac.as_slice())
                    && matches!(b.state, BindingState::Active | BindingState::Expired)
                    && b.expires_at.as_millis() as i64 >= need_ms
            });
            if !kept {
                let found = match stored {
                    Some(b) => format!(
                        "{:?} for {} until {}",
                        b.state,
                        b.client.as_deref().map_or("nobody".into(), hex),
                        at(Time::from_millis(
                            (b.expires_at.as_millis() as i64 - o.skew_ms).max(0) as u64
                        ))
                    ),
                    None => "no binding".into(),
                };
                missing.push((client, o.address, o.until, o.acked_at, found));
            }
        }
        if let Some((client, address, until, acked_at, found)) = missing.first() {
            self.violations.push(Violation {
                at: now,
                property: "durability",
                detail: format!(
                    "{server} restarted without {} lease(s) it ACKed; first, client {client}'s \
                     on {address} until {} (ACKed at {}): its database has {found}",
                    missing.len(),
                    at(*until),
                    at(*acked_at)
                ),
                addresses: vec![*address],
                clients: vec![*client],
            });
        }
    }

    /// `server` NAKed a client (hardware address `mac`) whose REQUEST in flight asks for
    /// `address`, an address of `relationship`'s pools (the NAK carries that REQUEST's xid).
    ///
    /// * Lease stability: the server had accepted its partner's update in `relationship` giving
    ///   this client that address, the lease it learned still runs, and so does the client's.
    /// * Durability: the server owes the client that address (it ACKed it, nothing superseded
    ///   it, the lease runs) and has restarted since the ACK: the crash lost it.
    pub fn nak(
        &mut self,
        now: Time,
        relationship: RelationshipName,
        server: ServerName,
        client: usize,
        mac: &[u8],
        address: Ipv4Addr,
    ) {
        let me = server;
        if let Some(&(held, until)) = self.current.get(&client)
            && held == address
            && until > now
            && self
                .known
                .get(&(relationship, me, address))
                .is_some_and(|(hw, end)| hw.as_slice() == mac && *end > now)
        {
            self.violations.push(Violation {
                at: now,
                property: "lease-stability",
                detail: format!(
                    "{server} NAKed client {client}, whose lease on {address} until {} it had \
                     learned from its partner in relationship {relationship}",
                    at(until)
                ),
                addresses: vec![address],
                clients: vec![client],
            });
        }
        let Some(o) = self.owed.get(client, me) else {
            return;
        };
        let restarted = self.booted_at.get(&me).is_some_and(|&b| b > o.acked_at);
        if o.address == address && o.until > now && restarted {
            self.violations.push(Violation {
                at: now,
                property: "durability",
                detail: format!(
                    "{server} NAKed client {client}, whose lease on {address} until {} it ACKed \
                     at {} before restarting",
                    at(o.until),
                    at(o.acked_at)
                ),
                addresses: vec![address],
                clients: vec![client],
            });
        }
    }

    /// `server` received a client's RELEASE of `address`: what its partner told it of that
    /// client's lease there no longer binds it (the client gave it up before this server's
    /// eyes), so a later NAK for the address is not the lease-stability rule's to judge.
    pub fn release_received(
        &mut self,
        relationship: RelationshipName,
        server: ServerName,
        mac: &[u8],
        address: Ipv4Addr,
    ) {
        let key = (relationship, server, address);
        if self
            .known
            .get(&key)
            .is_some_and(|(hw, _)| hw.as_slice() == mac)
        {
            self.known.remove(&key);
        }
    }

    /// A client's ARP probe found `address`, just granted to `client` from a SELECTING
    /// REQUEST, configured on another client, `holder`, and the client declined it (RFC 2131
    /// §4.4.1). The servers granted one address to two clients: a violation, however well the
    /// probe contained it.
    pub fn duplicate_declined(
        &mut self,
        now: Time,
        client: usize,
        holder: usize,
        address: Ipv4Addr,
    ) {
        self.duplicates_declined += 1;
        self.violations.push(Violation {
            at: now,
            property: "duplicate-grant-declined",
            detail: format!(
                "client {client} was granted {address}, which client {holder} is configured \
                 with; its ARP probe caught it and it declined"
            ),
            addresses: vec![address],
            clients: vec![client, holder],
        });
    }

    /// Liveness: with both servers up and nothing cut, a pair still outside NORMAL at the end
    /// of the converge window is stuck. `states` names each server of `relationship` with its
    /// state in it (`None`: down).
    pub fn stuck_pair(
        &mut self,
        now: Time,
        relationship: RelationshipName,
        states: [(ServerName, Option<FoState>); 2],
    ) {
        for (server, s) in states {
            if s != Some(FoState::Normal) {
                self.violations.push(Violation {
                    at: now,
                    property: "liveness",
                    detail: format!(
                        "{server} is {}, not NORMAL, when relationship {relationship} should \
                         have converged",
                        s.map_or("down", FoState::name)
                    ),
                    addresses: Vec::new(),
                    clients: Vec::new(),
                });
                return;
            }
        }
    }

    /// The addresses on which the two binding databases of a pair disagree (state, or client
    /// while ACTIVE), except those that one of them has changed and not yet told its partner
    /// about (in flight), each with what each side holds. `views` names each server of the pair
    /// with its database.
    pub fn database_differences(
        views: [(ServerName, Vec<BindingView>); 2],
    ) -> Vec<(Ipv4Addr, String)> {
        let [(a_name, a), (b_name, b)] = views;
        let theirs: BTreeMap<Ipv4Addr, &BindingView> = b.iter().map(|v| (v.address, v)).collect();
        let mut differ = Vec::new();
        for mine in &a {
            let Some(other) = theirs.get(&mine.address) else {
                differ.push((mine.address, format!("only {a_name} has {}", mine.address)));
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
                    "{}: {a_name} has {:?} for {}, {b_name} {:?} for {}",
                    mine.address,
                    mine.state,
                    mine.client.as_deref().unwrap_or("nobody"),
                    other.state,
                    other.client.as_deref().unwrap_or("nobody"),
                );
                differ.push((mine.address, detail));
            }
        }
        let known: BTreeSet<Ipv4Addr> = a.iter().map(|v| v.address).collect();
        for other in b.iter().filter(|v| !known.contains(&v.address)) {
            differ.push((
                other.address,
                format!("only {b_name} has {}", other.address),
            ));
        }
        differ
    }

    /// Liveness: once the pair has converged, the two binding databases of `relationship`
    /// agree. `differ` is what [`Checker::database_differences`] found at a second look, kept
    /// to the addresses that already differed at the first: a lease that ends as the pair is
    /// judged ends on each server's own clock, a moment apart, and is no disagreement.
    pub fn databases_agree(
        &mut self,
        now: Time,
        relationship: RelationshipName,
        differ: Vec<(Ipv4Addr, String)>,
    ) {
        if let Some((address, first)) = differ.first() {
            self.violations.push(Violation {
                at: now,
                property: "liveness",
                detail: format!(
                    "the converged pair's databases disagree on {} address(es) in relationship \
                     {relationship}; first, {first}",
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

    /// Count one BNDUPD transaction for `address` in `relationship`; a storm is a liveness
    /// violation, reported once per address.
    fn count_update(&mut self, now: Time, relationship: RelationshipName, address: Ipv4Addr) {
        let rate = self.update_rate.entry((relationship, address));
        let (since, n) = rate.or_insert((now, 0));
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
                    "{address} was sent in more than {STORM_UPDATES} binding updates in \
                     relationship {relationship} since {}: the partners send it back and forth \
                     without converging",
                    at(since)
                ),
                addresses: vec![address],
                clients: Vec::new(),
            });
        }
    }

    /// Whether an update for `address` is on its way in `relationship`: sent on an open
    /// connection and not yet answered. A rejected update is not on its way: the partners
    /// disagree.
    pub fn update_in_flight(&self, relationship: RelationshipName, address: Ipv4Addr) -> bool {
        self.updates.iter().any(|((_, r, _, _), carried)| {
            *r == relationship && carried.iter().any(|c| c.address == address)
        })
    }

    /// Whether the latest answer in `relationship` to an update for `address` from either
    /// server was a reject.
    pub fn update_rejected(&self, relationship: RelationshipName, address: Ipv4Addr) -> bool {
        self.rejected
            .range((relationship, address, FIRST_SERVER)..)
            .next()
            .is_some_and(|&(r, a, _)| r == relationship && a == address)
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
                            self.mclt_checked + self.partner_down_checked,
                            "DHCPACKs checked (and PARTNER-DOWN reuses)",
                            "no DHCPACK was sent".to_string(),
                        ),
                        "durability" => (
                            self.durable_checked,
                            "leases checked in restarted servers' databases",
                            "no server restarted while a client held a lease it had granted"
                                .to_string(),
                        ),
                        "duplicate-grant-declined" => (
                            self.probes,
                            "newly offered addresses probed",
                            "clients do not probe (clients.arp_probe is off): a duplicate grant \
                             is judged as a duplicate lease"
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
                        "update-validation" => (
                            self.incomplete_answered,
                            "incomplete binding updates answered",
                            "no binding update lacking what its status requires was answered \
                             (our servers send none; a sloppy partner does: fault `incomplete`)"
                                .to_string(),
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
        self.updates.retain(|(c, _, _, _), _| *c != conn);
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
    const PRIMARY: ServerName = ServerName::new("primary");
    const SECONDARY: ServerName = ServerName::new("secondary");
    const SIM: RelationshipName = RelationshipName::new("sim");
    const PAIR: Pair = Pair {
        relationship: SIM,
        primary: PRIMARY,
        secondary: SECONDARY,
    };

    /// A message from `from` to its partner in [`PAIR`] on connection 1, both clocks right.
    fn sent(from: ServerName) -> Link {
        sent_in(PAIR, 1, from)
    }

    /// A message from `from` to its partner in `pair` on connection `conn`, both clocks right.
    fn sent_in(pair: Pair, conn: u64, from: ServerName) -> Link {
        let to = pair.partner(from).expect("a server of the pair");
        Link {
            conn,
            pair,
            from: Endpoint {
                server: from,
                skew_ms: 0,
            },
            to: Endpoint {
                server: to,
                skew_ms: 0,
            },
        }
    }

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
        c.lost(2, A, LostReason::Released);
        c.leased(Time::from_secs(150), 3, A, Time::from_secs(300));
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // Renewal by the same client is no duplicate either.
        c.leased(Time::from_secs(160), 3, A, Time::from_secs(400));
        assert!(c.violations.is_empty());
    }

    #[test]
    fn a_pet_the_partner_sent_counts_even_unacknowledged_but_not_ones_own() {
        // Goal: swarm seeds 140, 452, 531, 759, 896 (edge faults), false alarms. The secondary
        // sent a PET of 1000 for A and crashed before the primary's BNDACK left: the secondary
        // knows that PET, so the primary may grant to 1030 (draft-12 §7.1.5), not beyond. The
        // primary's own PET, never acknowledged, lets it nothing.
        let mclt = Duration::from_secs(30);
        let grant = |c: &mut Checker, until_s: u64| {
            c.violations.clear();
            c.granted(t(100), SIM, PRIMARY, 0, 9, A, t(until_s), mclt);
            c.violations.len()
        };
        let mut c = Checker::default();
        pet_sent(&mut c, PAIR, 1, PRIMARY, 7, 5000);
        assert_eq!(grant(&mut c, 1030), 1, "its own unacknowledged PET");
        pet_sent(&mut c, PAIR, 1, SECONDARY, 8, 1000);
        assert_eq!(grant(&mut c, 1030), 0, "the partner's PET");
        assert_eq!(grant(&mut c, 1040), 1, "past it by more than the slack");
    }

    #[test]
    fn an_mclt_overrun_is_reported_and_partner_down_is_exempt() {
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        // Nothing acknowledged: at most now + MCLT.
        c.granted(
            Time::from_secs(100),
            SIM,
            PRIMARY,
            0,
            9,
            A,
            Time::from_secs(130),
            mclt,
        );
        assert!(c.violations.is_empty());
        c.granted(
            Time::from_secs(100),
            SIM,
            PRIMARY,
            0,
            9,
            A,
            Time::from_secs(200),
            mclt,
        );
        assert_eq!(c.violations.len(), 1);
        assert_eq!(c.violations[0].property, "mclt");
        // After the partner acknowledged a PET of 1000, up to 1030 is fine.
        let upd = Message::new(MessageType::BndUpd, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::BindingStatus(BindingStatus(1)))
            .with(FoOption::PotentialExpirationTime(1000));
        c.failover_message(Time::EPOCH, &sent(PRIMARY), &upd, Dialect::Isc);
        let ack = Message::new(MessageType::BndAck, 0, 7).with(FoOption::AssignedIpAddress(A));
        c.failover_message(Time::EPOCH, &sent(SECONDARY), &ack, Dialect::Isc);
        c.granted(
            Time::from_secs(200),
            SIM,
            PRIMARY,
            0,
            9,
            A,
            Time::from_secs(1030),
            mclt,
        );
        assert_eq!(c.violations.len(), 1);
        c.state(
            Time::from_secs(200),
            SIM,
            PRIMARY,
            Some(FoState::PartnerDown),
            0,
        );
        c.granted(
            Time::from_secs(200),
            SIM,
            PRIMARY,
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

    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const MAC4: [u8; 6] = [2, 0, 0, 0, 0, 4];
    const MAC5: [u8; 6] = [2, 0, 0, 0, 0, 5];
    const MASK: Ipv4Addr = Ipv4Addr::new(255, 255, 0, 0);

    fn t(s: u64) -> Time {
        Time::from_secs(s)
    }

    /// Client 4 accepts `server`'s ACK for `address`, sent at `at` with the server's clock
    /// `skew_ms` ahead, and holds it until `until`.
    fn ack_received(
        c: &mut Checker,
        at: u64,
        server: ServerName,
        skew_ms: i64,
        address: Ipv4Addr,
        until: u64,
    ) {
        c.ack_sent(t(at), server, 4, address, skew_ms);
        c.received(4, server, &MAC4, address, t(until));
        c.leased(t(at), 4, address, t(until));
    }

    /// A database with one binding, ending at `end_ms` on the server's clock.
    fn db(address: Ipv4Addr, state: BindingState, mac: &[u8], end_ms: u64) -> Vec<StoredLease> {
        vec![StoredLease {
            address,
            state,
            client: Some(mac.to_vec()),
            expires_at: Time::from_millis(end_ms),
        }]
    }

    fn properties(c: &Checker) -> Vec<&'static str> {
        c.violations.iter().map(|v| v.property).collect()
    }

    #[test]
    fn a_restarted_server_that_forgot_an_acked_lease_breaks_durability_even_when_quiet() {
        // Goal: the primary ACKed client 4 until 1000, crashed and came back without the lease.
        // It never NAKs (it just ignores the RENEW, as a server with no record does): the
        // database it booted with is judged all the same.
        let mut c = Checker::default();
        c.restarted(t(0), PRIMARY, &[]);
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        c.restarted(t(500), PRIMARY, &[]);
        assert_eq!(properties(&c), ["durability"]);
        assert_eq!(c.violations[0].clients, vec![4]);
        // The same address for another client, or for this one but ending sooner, or FREE, is
        // as lost.
        for stored in [
            db(A, BindingState::Active, &MAC5, 1_000_000),
            db(A, BindingState::Active, &MAC4, 900_000),
            db(A, BindingState::Free, &MAC4, 1_000_000),
        ] {
            let mut c = Checker::default();
            ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
            c.restarted(t(500), PRIMARY, &stored);
            assert_eq!(properties(&c), ["durability"], "{stored:?}");
        }
        // Kept: no alarm. The partner's restart is not judged against the primary's ACK.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 1_000_000),
        );
        c.restarted(t(500), SECONDARY, &[]);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(c.durable_checked, 1);
        // A lease that has ended is owed nothing.
        c.restarted(t(1000), PRIMARY, &[]);
        assert!(c.violations.is_empty());
    }

    #[test]
    fn only_an_ack_the_client_received_is_owed_and_each_server_owes_its_own() {
        let mut c = Checker::default();
        // The primary's ACK never reached client 4: nothing is owed.
        c.ack_sent(t(10), PRIMARY, 4, A, 0);
        c.restarted(t(500), PRIMARY, &[]);
        assert!(c.violations.is_empty());
        // Client 4 got A from the primary, then renewed it with the secondary (REBINDING): both
        // owe it, each what it told the client.
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        ack_received(&mut c, 600, SECONDARY, 0, A, 1600);
        c.restarted(
            t(700),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 1_000_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        c.restarted(
            t(700),
            SECONDARY,
            &db(A, BindingState::Active, &MAC4, 1_000_000),
        );
        assert_eq!(properties(&c), ["durability"], "the secondary owed 1600");
        c.violations.clear();
        c.restarted(t(700), PRIMARY, &[]);
        assert_eq!(
            properties(&c),
            ["durability"],
            "the primary still owes 1000"
        );
    }

    #[test]
    fn storage_lost_by_the_scenario_is_forgiven_and_nothing_else() {
        // Goal: `storage: lose_all` may forget what was ACKed before it, even an ACK still on
        // its way; not what is ACKed after it.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        c.storage_lost(PRIMARY);
        c.restarted(t(500), PRIMARY, &[]);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        c.ack_sent(t(510), PRIMARY, 4, A, 0);
        c.storage_lost(PRIMARY);
        c.received(4, PRIMARY, &MAC4, A, t(1500));
        c.restarted(t(520), PRIMARY, &[]);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // After the loss, a new ACK is owed again.
        ack_received(&mut c, 600, PRIMARY, 0, A, 1600);
        c.restarted(t(700), PRIMARY, &[]);
        assert_eq!(properties(&c), ["durability"]);
    }

    #[test]
    fn a_skewed_server_is_judged_on_its_own_clock_at_the_ack() {
        // Goal: the primary's clock ran 59 s ahead when it ACKed until 1000 (true): its record
        // says 1059 on its clock, which is right; after a restart with its clock put back, the
        // record is still judged against the clock it was written with.
        let skew_ms = 59_000;
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, skew_ms, A, 1000);
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 1_059_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // Read as true time, 1000 on its clock would be 59 s short.
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 1_000_000),
        );
        assert_eq!(properties(&c), ["durability"]);
        // Its clock stepped ahead and expired the record early: the record survived.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, skew_ms, A, 1000);
        c.restarted(
            t(990),
            PRIMARY,
            &db(A, BindingState::Expired, &MAC4, 1_059_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
    }

    #[test]
    fn a_lease_given_up_or_superseded_is_not_owed_and_a_reboot_keeps_it() {
        use LostReason::*;
        for (why, owed) in [
            (Released, false),
            (Declined, false),
            (Nak, false),
            (Expired, false),
            (Rebooted, true),
            (Departed, true),
        ] {
            let mut c = Checker::default();
            ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
            c.lost(4, A, why);
            c.restarted(t(500), PRIMARY, &[]);
            assert_eq!(!c.violations.is_empty(), owed, "{why:?}");
        }
        // The client moved: its lease on B from the secondary ends the primary's on A (the
        // server releases it, one lease per client).
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        ack_received(&mut c, 20, SECONDARY, 0, B, 1020);
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Released, &MAC4, 20_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // Moved even if the client never heard the new ACK: the primary released A when it
        // granted B.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        c.lost(4, A, Rebooted);
        c.ack_sent(t(20), PRIMARY, 4, B, 0);
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Released, &MAC4, 20_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // A later, shorter lease from the partner lowers what the primary owes.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        ack_received(&mut c, 20, SECONDARY, 0, A, 600);
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 600_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
    }

    /// `from`'s BNDUPD carrying `b` with PET `pet_s` on connection 1, encoded by the engine for
    /// `dialect` and read back from the wire, then its partner's BNDACK accepting it.
    fn accepted_update(
        c: &mut Checker,
        from: ServerName,
        dialect: Dialect,
        b: &Binding,
        pet_s: u64,
    ) {
        let upd = bndupd(0, 3, &[(b, t(pet_s), MASK)], dialect);
        let upd = Message::parse(&upd.to_bytes(), dialect).expect("the engine's own encoding");
        c.failover_message(Time::EPOCH, &sent(from), &upd, dialect);
        let ack =
            Message::new(MessageType::BndAck, 0, 3).with(FoOption::AssignedIpAddress(b.address));
        let back = PAIR.partner(from).expect("a server of the pair");
        c.failover_message(Time::EPOCH, &sent(back), &ack, dialect);
    }

    /// A binding of A in `state` for client 4 (hardware address [`MAC4`]) until `end_s`.
    fn binding(state: BindingState, end_s: u64) -> Binding {
        let mut b = Binding::new(A, state);
        b.hw = Some(HwAddr {
            htype: 1,
            addr: MAC4.to_vec(),
        });
        b.expires_at = t(end_s);
        b.state_since = t(5);
        b.cltt = t(5);
        b
    }

    #[test]
    fn an_incomplete_update_must_be_rejected_and_is_judged_only_when_one_is_answered() {
        // An ACTIVE without its PET, in both dialects' words, and one without a client (an
        // empty hardware address, as Microsoft's servers send when they have none).
        let no_pet = |xid: u32| {
            let mut m = bndupd(
                0,
                xid,
                &[(&binding(BindingState::Active, 900), t(900), MASK)],
                Dialect::Isc,
            );
            m.options
                .retain(|o| !matches!(o, FoOption::PotentialExpirationTime(_)));
            m
        };
        let mut nobody = binding(BindingState::Active, 900);
        nobody.hw = Some(HwAddr {
            htype: 0,
            addr: Vec::new(),
        });
        let no_client = bndupd(0, 5, &[(&nobody, t(900), MASK)], Dialect::Isc);
        let ack = |xid: u32| {
            Message::new(MessageType::BndAck, 0, xid).with(FoOption::AssignedIpAddress(A))
        };
        let reject = |xid: u32| {
            ack(xid).with(FoOption::RejectReason(
                dhcpfo_engine::wire::failover::RejectReason(3),
            ))
        };
        let judged = |c: &Checker| {
            c.judgements()
                .into_iter()
                .find(|j| j.property == "update-validation")
                .map(|j| j.status)
        };

        // Nothing incomplete crossed the wire: not judged, even after complete updates.
        let mut c = Checker::default();
        let complete = bndupd(
            0,
            3,
            &[(&binding(BindingState::Active, 900), t(900), MASK)],
            Dialect::Isc,
        );
        c.failover_message(Time::EPOCH, &sent(SECONDARY), &complete, Dialect::Isc);
        c.failover_message(Time::EPOCH, &sent(PRIMARY), &ack(3), Dialect::Isc);
        assert!(matches!(judged(&c), Some(Status::NotJudged(_))));

        // Rejected: held, and nothing of it counts as the sender's word.
        c.failover_message(Time::EPOCH, &sent(SECONDARY), &no_pet(4), Dialect::Isc);
        c.failover_message(Time::EPOCH, &sent(PRIMARY), &reject(4), Dialect::Isc);
        c.failover_message(Time::EPOCH, &sent(SECONDARY), &no_client, Dialect::Isc);
        c.failover_message(Time::EPOCH, &sent(PRIMARY), &reject(5), Dialect::Isc);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        assert_eq!(judged(&c), Some(Status::Held));
        assert_eq!(c.incomplete_answered, 2);

        // Accepted: a violation naming the acceptor, the sender and what was missing.
        for (upd, xid, what) in [
            (no_pet(6), 6, "potential-expiration-time"),
            (no_client, 5, "a client"),
        ] {
            let mut c = Checker::default();
            c.failover_message(Time::EPOCH, &sent(SECONDARY), &upd, Dialect::Isc);
            c.failover_message(Time::EPOCH, &sent(PRIMARY), &ack(xid), Dialect::Isc);
            assert_eq!(properties(&c), ["update-validation"]);
            let detail = &c.violations[0].detail;
            assert!(
                detail.starts_with("primary accepted an incomplete update"),
                "{detail}"
            );
            assert!(detail.contains(what), "{detail}");
            assert!(detail.contains("secondary's BNDUPD"), "{detail}");
        }
    }

    #[test]
    fn the_partners_accepted_update_supersedes_what_a_server_owes() {
        // Goal: the issue's ARP-probe scenario with a heal: the secondary (PARTNER-DOWN) gave A
        // to another client, who probed it and declined; after the heal the primary accepts the
        // secondary's ABANDONED update for A and NAKs client 4's renewal. No crash: that is no
        // durability failure; and after a crash its database is judged on what it accepted.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        accepted_update(
            &mut c,
            SECONDARY,
            Dialect::Isc,
            &binding(BindingState::Abandoned, 0),
            0,
        );
        c.nak(t(500), SIM, PRIMARY, 4, &MAC4, A);
        c.restarted(t(510), PRIMARY, &db(A, BindingState::Abandoned, &[], 0));
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // The partner's update for the same client with a shorter end lowers the debt.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        accepted_update(
            &mut c,
            SECONDARY,
            Dialect::Isc,
            &binding(BindingState::Active, 800),
            900,
        );
        c.restarted(
            t(500),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 798_000),
        );
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // A rejected update supersedes nothing.
        let mut c = Checker::default();
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        let upd = bndupd(
            0,
            3,
            &[(&binding(BindingState::Abandoned, 0), t(0), MASK)],
            Dialect::Isc,
        );
        c.failover_message(Time::EPOCH, &sent(SECONDARY), &upd, Dialect::Isc);
        let reject = Message::new(MessageType::BndAck, 0, 3)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::RejectReason(
                dhcpfo_engine::wire::failover::RejectReason(15),
            ));
        c.failover_message(Time::EPOCH, &sent(PRIMARY), &reject, Dialect::Isc);
        c.restarted(t(500), PRIMARY, &[]);
        assert_eq!(properties(&c), ["durability"]);
    }

    #[test]
    fn a_nak_breaks_durability_only_for_the_owed_address_after_a_restart() {
        let mut c = Checker::default();
        c.restarted(t(0), PRIMARY, &[]);
        ack_received(&mut c, 10, PRIMARY, 0, A, 1000);
        c.nak(t(400), SIM, PRIMARY, 4, &MAC4, A);
        assert!(
            c.violations.is_empty(),
            "no crash since the ACK: not durability"
        );
        // The restarted primary kept its record (or the check would already have fired), then
        // NAKs the RENEW of A.
        c.restarted(
            t(450),
            PRIMARY,
            &db(A, BindingState::Active, &MAC4, 1_000_000),
        );
        c.nak(t(500), SIM, SECONDARY, 4, &MAC4, A);
        assert!(c.violations.is_empty(), "the secondary owes nothing");
        c.nak(t(500), SIM, PRIMARY, 4, &MAC4, B);
        assert!(c.violations.is_empty(), "a NAK of another address");
        c.nak(t(1000), SIM, PRIMARY, 4, &MAC4, A);
        assert!(c.violations.is_empty(), "the lease had ended");
        c.nak(t(500), SIM, PRIMARY, 4, &MAC4, A);
        assert_eq!(properties(&c), ["durability"]);
    }

    #[test]
    fn a_surviving_server_that_naks_a_binding_it_knew_breaks_lease_stability() {
        // Goal: the secondary accepted the primary's ACTIVE update for client 4; the primary
        // fails; the client rebinds and the secondary NAKs it: its lease was not stable.
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        accepted_update(
            &mut c,
            PRIMARY,
            Dialect::Isc,
            &binding(BindingState::Active, 1000),
            1500,
        );
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, B);
        assert!(c.violations.is_empty(), "a NAK of another address");
        c.nak(t(600), SIM, PRIMARY, 4, &MAC4, A);
        assert!(
            c.violations.is_empty(),
            "the primary learned nothing from its partner"
        );
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert_eq!(properties(&c), ["lease-stability"]);
    }

    #[test]
    fn a_nak_after_the_client_released_at_that_server_is_not_lease_stabilitys() {
        // Goal: the secondary learned client 4's lease on A from the primary; out of touch,
        // the client released A at the secondary itself, then got A again from the primary
        // (found by the swarm's release-renew clients, seed 6619). The secondary NAKs its
        // INIT-REBOOT for A: it knows the client gave A up, so its NAK breaks nothing. A NAK
        // by a server that saw no release, or after the partner's next update, still does.
        let learned = |c: &mut Checker| {
            accepted_update(
                c,
                PRIMARY,
                Dialect::Isc,
                &binding(BindingState::Active, 1000),
                1500,
            )
        };
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        learned(&mut c);
        c.release_received(SIM, SECONDARY, &MAC5, A);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert_eq!(
            properties(&c),
            ["lease-stability"],
            "another client's release"
        );
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        learned(&mut c);
        c.release_received(SIM, SECONDARY, &MAC4, A);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        learned(&mut c);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert_eq!(properties(&c), ["lease-stability"]);
    }

    #[test]
    fn lease_stability_judges_a_nak_of_init_reboot() {
        // Goal: client 4 reboots (its lease is not used until confirmed, but it still runs) and
        // asks for A again; the secondary, which learned the lease, NAKs it.
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        accepted_update(
            &mut c,
            PRIMARY,
            Dialect::Isc,
            &binding(BindingState::Active, 1000),
            1500,
        );
        c.lost(4, A, LostReason::Rebooted);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert_eq!(properties(&c), ["lease-stability"]);
        // A lease given back is not the client's any more.
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        accepted_update(
            &mut c,
            PRIMARY,
            Dialect::Isc,
            &binding(BindingState::Active, 1000),
            1500,
        );
        c.lost(4, A, LostReason::Released);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
    }

    #[test]
    fn lease_stability_reads_microsoft_binding_status_in_its_own_dialect() {
        // Goal: in MS-DHCPF, ACTIVE is 0x1 and 0x2 is DECLINED (STYLE.md 19a): an update read
        // with draft-12's values would miss the first and take the second for ACTIVE.
        let ms = Dialect::Microsoft;
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        let active = binding(BindingState::Active, 1000);
        let upd = bndupd(0, 3, &[(&active, t(1500), MASK)], ms);
        assert!(
            upd.options
                .contains(&FoOption::BindingStatus(BindingStatus(0x1)))
        );
        accepted_update(&mut c, PRIMARY, ms, &active, 1500);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert_eq!(properties(&c), ["lease-stability"]);

        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        let declined = binding(BindingState::Abandoned, 1000);
        let upd = bndupd(0, 3, &[(&declined, t(1500), MASK)], ms);
        assert!(
            upd.options
                .contains(&FoOption::BindingStatus(BindingStatus(0x2)))
        );
        accepted_update(&mut c, PRIMARY, ms, &declined, 1500);
        c.nak(t(600), SIM, SECONDARY, 4, &MAC4, A);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
    }

    #[test]
    fn a_duplicate_caught_by_a_probe_is_its_own_violation_and_nothing_else() {
        // Goal: client 5 holds A from the secondary; the primary grants A to client 4, whose
        // ARP probe finds client 5 and declines it. That is a duplicate grant, reported as such
        // (not as a duplicate lease: client 4 never used A), and the declined lease is owed by
        // nobody when the primary restarts with A ABANDONED.
        let mut c = Checker::default();
        c.ack_sent(t(10), SECONDARY, 5, A, 0);
        c.received(5, SECONDARY, &MAC5, A, t(1000));
        c.leased(t(10), 5, A, t(1000));
        c.ack_sent(t(20), PRIMARY, 4, A, 0);
        c.received(4, PRIMARY, &MAC4, A, t(1020));
        c.duplicate_declined(t(20), 4, 5, A);
        c.lost(4, A, LostReason::Declined);
        c.restarted(t(30), PRIMARY, &db(A, BindingState::Abandoned, &[], 0));
        assert_eq!(properties(&c), ["duplicate-grant-declined"]);
        assert_eq!(c.violations[0].clients, vec![4, 5]);
        assert_eq!(c.duplicates_declined, 1);
        assert!(PROPERTIES.contains(&"duplicate-grant-declined"));
    }

    #[test]
    fn a_stuck_pair_is_reported() {
        let mut c = Checker::default();
        c.stuck_pair(
            Time::from_secs(9),
            SIM,
            [
                (PRIMARY, Some(FoState::Normal)),
                (SECONDARY, Some(FoState::Normal)),
            ],
        );
        assert!(c.violations.is_empty());
        c.stuck_pair(
            Time::from_secs(9),
            SIM,
            [
                (PRIMARY, Some(FoState::Normal)),
                (SECONDARY, Some(FoState::RecoverWait)),
            ],
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
        c.databases_agree(
            Time::from_secs(9),
            SIM,
            Checker::database_differences(named(agreeing())),
        );
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
            c.databases_agree(
                Time::from_secs(9),
                SIM,
                Checker::database_differences(named(views)),
            );
            assert_eq!(c.violations.len(), 1);
            assert_eq!(c.violations[0].property, "liveness");
            assert_eq!(c.violations[0].addresses, vec![views_addr(i)]);
        }

        // An address only one side has.
        let mut views = agreeing();
        views[1].pop();
        let mut c = Checker::default();
        c.databases_agree(
            Time::from_secs(9),
            SIM,
            Checker::database_differences(named(views)),
        );
        assert_eq!(c.violations.len(), 1);
    }

    /// The primary's and the secondary's databases, by name.
    fn named(views: [Vec<BindingView>; 2]) -> [(ServerName, Vec<BindingView>); 2] {
        let [p, s] = views;
        [(PRIMARY, p), (SECONDARY, s)]
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
    fn a_violations_kind_names_its_check_and_not_its_numbers() {
        // The shrinker keeps to the kind: a client without an address is not the databases
        // disagreeing, though both are liveness; two runs of one check are one kind.
        let v = |detail: &str| Violation {
            at: Time::from_secs(1),
            property: "liveness",
            detail: detail.to_string(),
            addresses: Vec::new(),
            clients: Vec::new(),
        };
        let starved = v(
            "3 client(s) want an address and have none; first, client 7, without one \
             since +1h",
        );
        let starved_too =
            v("1 client(s) want an address and have none; first, client 12, without one since 2h");
        let apart = v(
            "the converged pair's databases disagree on 1 address(es) in relationship \
             sim; first, 10.0.1.14: primary has Backup",
        );
        assert_eq!(starved.kind(), starved_too.kind());
        assert_ne!(starved.kind(), apart.kind());
        assert_eq!(
            apart.kind(),
            "liveness: the converged pair's databases disagree on address(es) in relationship sim"
        );
    }

    #[test]
    fn a_rejected_update_acknowledges_nothing() {
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        let upd = Message::new(MessageType::BndUpd, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::BindingStatus(BindingStatus(1)))
            .with(FoOption::PotentialExpirationTime(1000));
        c.failover_message(Time::EPOCH, &sent(PRIMARY), &upd, Dialect::Isc);
        let nak = Message::new(MessageType::BndAck, 0, 7)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::RejectReason(
                dhcpfo_engine::wire::failover::RejectReason(15),
            ));
        c.failover_message(Time::EPOCH, &sent(SECONDARY), &nak, Dialect::Isc);
        c.granted(
            Time::from_secs(200),
            SIM,
            PRIMARY,
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
            c.failover_message(at, &sent(PRIMARY), &upd(k), Dialect::Isc);
        }
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        // The same address back and forth every few milliseconds.
        let mut c = Checker::default();
        for k in 0..=STORM_UPDATES {
            let at = Time::from_millis(u64::from(k) * 4);
            let from = [PRIMARY, SECONDARY][(k % 2) as usize];
            c.failover_message(at, &sent(from), &upd(k), Dialect::Isc);
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

    #[test]
    fn partner_down_reuses_a_known_clients_address_only_the_mclt_after_its_times() {
        // Goal: hole 6 of issue 13. The secondary knows client 4's lease on A (until 1000 s,
        // PET 1500 s) from the primary's acknowledged update; in PARTNER-DOWN from 2000 s it
        // may give A to client 9 only from max(2000, 1500) + MCLT = 2300 s.
        let mclt = Duration::from_secs(300);
        let history = |known: bool, reuse_at: u64| {
            let mut c = Checker::default();
            c.granted(t(10), SIM, PRIMARY, 0, 4, A, t(300), mclt);
            if known {
                accepted_update(
                    &mut c,
                    PRIMARY,
                    Dialect::Isc,
                    &binding(BindingState::Active, 1000),
                    1500,
                );
            }
            c.state(t(2000), SIM, SECONDARY, Some(FoState::PartnerDown), 0);
            c.granted(
                t(reuse_at),
                SIM,
                SECONDARY,
                0,
                9,
                A,
                t(reuse_at + 99_999),
                mclt,
            );
            c.violations
        };
        let early = history(true, 2100);
        assert_eq!(early.len(), 1, "{early:?}");
        assert_eq!(early[0].property, "mclt");
        assert_eq!(early[0].clients, vec![9, 4]);
        assert!(
            history(true, 2400).is_empty(),
            "after the wait, and unlimited"
        );
        assert!(
            history(false, 2100).is_empty(),
            "a lease it never heard of binds nothing it could wait for"
        );
    }

    #[test]
    fn partner_down_waits_on_its_own_clock_for_a_known_clients_address() {
        // Goal: swarm seeds 6890 and 8362. The secondary acknowledged client 4's lease on A
        // with PET 2500 s; in PARTNER-DOWN from 2000 s it may reuse A from 2500 s + MCLT. If
        // its clock went 10 s forward since (the acknowledgement and the entry), it waits that
        // much less in true time: all it can do on its own clock.
        let mclt = Duration::from_secs(300);
        let reuse = |at_s: u64, skew_ms: i64| {
            let mut c = Checker::default();
            c.granted(t(10), SIM, PRIMARY, 0, 4, A, t(300), mclt);
            accepted_update(
                &mut c,
                PRIMARY,
                Dialect::Isc,
                &binding(BindingState::Active, 1000),
                2500,
            );
            c.state(t(2000), SIM, SECONDARY, Some(FoState::PartnerDown), 0);
            c.granted(t(at_s), SIM, SECONDARY, skew_ms, 9, A, t(at_s + 999), mclt);
            c.violations
        };
        assert_eq!(reuse(2785, 0).len(), 1, "before PET + MCLT");
        assert!(reuse(2801, 0).is_empty());
        assert!(
            reuse(2792, 10_000).is_empty(),
            "its clock went 10 s forward"
        );
        assert_eq!(reuse(2785, 10_000).len(), 1, "more than the step early");
    }

    #[test]
    fn partner_down_uses_its_own_pool_at_once_once_the_partners_agreed_on_it() {
        // Goal: swarm seeds 1905 and 2945 of 3 000, false alarms. `me` leased A to client 4
        // long ago; since then the partners agreed (an acknowledged update) that A is in
        // `pool`'s own pool. In PARTNER-DOWN from 2000 s, `me` gives A to client 9 at 2010 s.
        let mclt = Duration::from_secs(300);
        let history = |me: ServerName, pool: BindingState, then_free: bool| {
            let mut c = Checker::default();
            c.granted(t(10), SIM, me, 0, 4, A, t(300), mclt);
            // A RELEASED names its client (draft-12 Table 7.1-1); FREE and BACKUP need not.
            let mut b = if pool == BindingState::Released {
                binding(pool, 300)
            } else {
                Binding::new(A, pool)
            };
            b.state_since = t(400);
            accepted_update(&mut c, PRIMARY, Dialect::Isc, &b, 0);
            if then_free {
                // The primary takes it back; the secondary has not acknowledged it yet.
                let free = bndupd(
                    0,
                    4,
                    &[(&Binding::new(A, BindingState::Free), t(0), MASK)],
                    Dialect::Isc,
                );
                let free = Message::parse(&free.to_bytes(), Dialect::Isc).expect("our encoding");
                c.failover_message(Time::EPOCH, &sent(PRIMARY), &free, Dialect::Isc);
            }
            c.state(t(2000), SIM, me, Some(FoState::PartnerDown), 0);
            c.granted(t(2010), SIM, me, 0, 9, A, t(9999), mclt);
            c.violations
        };
        assert!(
            history(SECONDARY, BindingState::Backup, false).is_empty(),
            "the secondary's own pool, at once"
        );
        assert!(
            history(PRIMARY, BindingState::Free, false).is_empty(),
            "the primary's own pool, at once"
        );
        assert!(
            history(PRIMARY, BindingState::Released, false).is_empty(),
            "an acknowledged RELEASED returns to the primary's pool (swarm seed 126)"
        );
        let released = history(SECONDARY, BindingState::Released, false);
        assert_eq!(released.len(), 1, "not the secondary's: {released:?}");
        let theirs = history(PRIMARY, BindingState::Backup, false);
        assert_eq!(theirs.len(), 1, "the secondary's pool waits: {theirs:?}");
        let taken_back = history(SECONDARY, BindingState::Backup, true);
        assert_eq!(taken_back.len(), 1, "a later word about it: {taken_back:?}");
        assert_eq!(taken_back[0].property, "mclt");
    }

    #[test]
    fn partner_down_takes_the_partners_pool_only_the_mclt_after_entry() {
        // Goal: draft-12 §9.4.2. Every address starts FREE, the primary's pool; a server in
        // PARTNER-DOWN from 2000 s gives A, never leased, to client 9. The secondary may only
        // from 2000 s + MCLT (the primary may have leased A in its last moments to a client
        // the secondary never heard of); the primary's own pool is its at once. An
        // acknowledged BACKUP makes A the secondary's.
        let mclt = Duration::from_secs(300);
        let grant_skewed = |me: ServerName, at_s: u64, backup: bool, skew_ms: i64| {
            let mut c = Checker::default();
            c.pools_at_start(PAIR, &[(A, A)]);
            if backup {
                accepted_update(
                    &mut c,
                    PRIMARY,
                    Dialect::Isc,
                    &Binding::new(A, BindingState::Backup),
                    0,
                );
            }
            c.state(t(2000), SIM, me, Some(FoState::PartnerDown), 0);
            c.granted(t(at_s), SIM, me, skew_ms, 9, A, t(9999), mclt);
            c.violations
        };
        let grant = |me, at_s, backup| grant_skewed(me, at_s, backup, 0);
        let early = grant(SECONDARY, 2010, false);
        assert_eq!(early.len(), 1, "{early:?}");
        assert_eq!(early[0].property, "mclt");
        assert!(
            early[0].detail.contains("of its partner's pool"),
            "{}",
            early[0].detail
        );
        assert!(
            grant(SECONDARY, 2301, false).is_empty(),
            "after entry + MCLT"
        );
        assert!(
            grant(PRIMARY, 2010, false).is_empty(),
            "its own pool, at once"
        );
        assert_eq!(
            grant(PRIMARY, 2010, true).len(),
            1,
            "the secondary's BACKUP waits"
        );
        assert!(
            grant(SECONDARY, 2010, true).is_empty(),
            "its own BACKUP, at once"
        );
        // Its clock stepped 13 s forward since entry (swarm seed 6890): it waited the MCLT on
        // its own clock, which is all it can do.
        assert!(grant_skewed(SECONDARY, 2290, false, 13_000).is_empty());
        assert_eq!(grant_skewed(SECONDARY, 2280, false, 13_000).len(), 1);
    }

    // Three servers in two relationships: B is the secondary of A in "ab" and the primary of C
    // in "bc", as a hub backs several primaries.
    const SERVER_A: ServerName = ServerName::new("A");
    const SERVER_B: ServerName = ServerName::new("B");
    const SERVER_C: ServerName = ServerName::new("C");
    const AB: Pair = Pair {
        relationship: RelationshipName::new("ab"),
        primary: SERVER_A,
        secondary: SERVER_B,
    };
    const BC: Pair = Pair {
        relationship: RelationshipName::new("bc"),
        primary: SERVER_B,
        secondary: SERVER_C,
    };

    /// `from`'s BNDUPD of A with PET `pet_s`, xid `xid`, in `pair` on connection `conn`.
    fn pet_sent(c: &mut Checker, pair: Pair, conn: u64, from: ServerName, xid: u32, pet_s: u32) {
        let upd = Message::new(MessageType::BndUpd, 0, xid)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::BindingStatus(BindingStatus(1)))
            .with(FoOption::PotentialExpirationTime(pet_s));
        c.failover_message(Time::EPOCH, &sent_in(pair, conn, from), &upd, Dialect::Isc);
    }

    /// `from`'s BNDACK accepting A, xid `xid`, in `pair` on connection `conn`.
    fn pet_acked(c: &mut Checker, pair: Pair, conn: u64, from: ServerName, xid: u32) {
        let ack = Message::new(MessageType::BndAck, 0, xid).with(FoOption::AssignedIpAddress(A));
        c.failover_message(Time::EPOCH, &sent_in(pair, conn, from), &ack, Dialect::Isc);
    }

    #[test]
    fn a_pet_acknowledged_in_one_relationship_lets_no_grant_past_the_mclt_in_another() {
        // Goal: in "ab" the partners acknowledged each other's PET of 1000 s for A, so B may
        // grant A there until 1000 s + MCLT. Nothing was acknowledged in "bc": there B may
        // grant A only until now + MCLT, and its grant to 1030 s is a violation naming B and
        // "bc". C, which acknowledged nothing either, is held to the same.
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        pet_sent(&mut c, AB, 1, SERVER_B, 7, 1000);
        pet_acked(&mut c, AB, 1, SERVER_A, 7);
        pet_sent(&mut c, AB, 1, SERVER_A, 8, 1000);
        pet_acked(&mut c, AB, 1, SERVER_B, 8);
        c.granted(t(200), AB.relationship, SERVER_B, 0, 9, A, t(1030), mclt);
        c.granted(t(200), AB.relationship, SERVER_A, 0, 9, A, t(1030), mclt);
        assert!(c.violations.is_empty(), "{:?}", c.violations);

        c.granted(t(200), BC.relationship, SERVER_B, 0, 9, A, t(1030), mclt);
        assert_eq!(properties(&c), ["mclt"]);
        let detail = &c.violations[0].detail;
        assert!(detail.starts_with("B granted 10.0.0.1"), "{detail}");
        assert!(detail.contains("in relationship bc"), "{detail}");
        c.granted(t(200), BC.relationship, SERVER_C, 0, 9, A, t(1030), mclt);
        assert_eq!(properties(&c), ["mclt", "mclt"]);
        assert!(c.violations[1].detail.starts_with("C granted"));
    }

    #[test]
    fn an_answer_in_another_relationship_acknowledges_nothing() {
        // Goal: B's update of A to its partner A (connection 1, "ab") is answered only on that
        // connection. C's BNDACK to B with the same xid, on their own connection (2, "bc"),
        // answers no update B sent in "ab": the PET stays unacknowledged and in flight there,
        // and nothing is in flight in "bc".
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        pet_sent(&mut c, AB, 1, SERVER_B, 7, 1000);
        pet_acked(&mut c, BC, 2, SERVER_C, 7);
        assert!(c.update_in_flight(AB.relationship, A));
        assert!(!c.update_in_flight(BC.relationship, A));
        c.granted(t(200), AB.relationship, SERVER_B, 0, 9, A, t(1030), mclt);
        assert_eq!(properties(&c), ["mclt"]);
        assert!(c.violations[0].detail.contains("in relationship ab"));

        // A's answer on connection 1 is the one that counts; a reject in "ab" is no reject in
        // "bc".
        c.violations.clear();
        pet_acked(&mut c, AB, 1, SERVER_A, 7);
        assert!(!c.update_in_flight(AB.relationship, A));
        c.granted(t(200), AB.relationship, SERVER_B, 0, 9, A, t(1030), mclt);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        pet_sent(&mut c, AB, 1, SERVER_A, 9, 1000);
        let reject = Message::new(MessageType::BndAck, 0, 9)
            .with(FoOption::AssignedIpAddress(A))
            .with(FoOption::RejectReason(
                dhcpfo_engine::wire::failover::RejectReason(15),
            ));
        c.failover_message(
            Time::EPOCH,
            &sent_in(AB, 1, SERVER_B),
            &reject,
            Dialect::Isc,
        );
        assert!(c.update_rejected(AB.relationship, A));
        assert!(!c.update_rejected(BC.relationship, A));
    }

    #[test]
    fn partner_down_in_one_relationship_exempts_no_grant_in_another() {
        // Goal: B is in PARTNER-DOWN with A ("ab") and in NORMAL with C ("bc"). Its long grant
        // in "ab" is PARTNER-DOWN's to make; the same grant in "bc" breaks the MCLT rule, and a
        // "bc" pair left outside NORMAL is reported by its own servers' names.
        let mclt = Duration::from_secs(30);
        let mut c = Checker::default();
        c.state(
            t(100),
            AB.relationship,
            SERVER_B,
            Some(FoState::PartnerDown),
            0,
        );
        c.state(t(100), BC.relationship, SERVER_B, Some(FoState::Normal), 0);
        c.granted(t(200), AB.relationship, SERVER_B, 0, 9, A, t(99_999), mclt);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        c.granted(t(200), BC.relationship, SERVER_B, 0, 9, A, t(99_999), mclt);
        assert_eq!(properties(&c), ["mclt"]);
        assert!(c.violations[0].detail.contains("in relationship bc"));

        let mut c = Checker::default();
        c.stuck_pair(
            t(300),
            BC.relationship,
            [
                (SERVER_B, Some(FoState::Normal)),
                (SERVER_C, Some(FoState::RecoverWait)),
            ],
        );
        assert_eq!(properties(&c), ["liveness"]);
        let detail = &c.violations[0].detail;
        assert!(detail.starts_with("C is recover-wait"), "{detail}");
        assert!(detail.contains("relationship bc"), "{detail}");
    }

    #[test]
    fn a_binding_learned_in_one_relationship_is_not_known_in_another() {
        // Goal: B accepted A's ACTIVE update for client 4 on A in "ab". A NAK of client 4's
        // REQUEST for that address by B breaks lease stability when judged in "ab", where B
        // learned the lease, and not in "bc", where it learned nothing.
        let mut c = Checker::default();
        c.leased(t(10), 4, A, t(1000));
        let b = binding(BindingState::Active, 1000);
        let upd = bndupd(0, 3, &[(&b, t(1500), MASK)], Dialect::Isc);
        let upd = Message::parse(&upd.to_bytes(), Dialect::Isc).expect("the engine's own encoding");
        c.failover_message(Time::EPOCH, &sent_in(AB, 1, SERVER_A), &upd, Dialect::Isc);
        pet_acked(&mut c, AB, 1, SERVER_B, 3);
        c.nak(t(600), BC.relationship, SERVER_B, 4, &MAC4, A);
        assert!(c.violations.is_empty(), "{:?}", c.violations);
        c.nak(t(600), AB.relationship, SERVER_B, 4, &MAC4, A);
        assert_eq!(properties(&c), ["lease-stability"]);
        let detail = &c.violations[0].detail;
        assert!(detail.starts_with("B NAKed client 4"), "{detail}");
        assert!(detail.contains("relationship ab"), "{detail}");
    }
}
