//! The lease database: one binding per address, and the indexes that make every lookup cheap.
//!
//! Addresses live in slots: the configured ranges laid end to end (then reserved addresses that
//! lie outside every range), so an address finds its slot by a binary search over the ranges,
//! not over the addresses. Three derived indexes are kept in step by [`LeaseDb::modify`], the only
//! way to change a binding:
//!
//! * by client: every slot whose binding names the client; a lookup picks one by a fixed rule
//!   (ACTIVE first, then the latest state change, then the lowest slot), so the answer depends
//!   on the bindings alone, never on the order of changes (O(log n) in an ordered map: a hash
//!   map keyed by client-chosen bytes could be forced into collisions);
//! * available addresses per subnet, ordered by (time the address entered its state, slot): the
//!   first is the least recently used, so allocation never scans the pool;
//! * lease ends of ACTIVE bindings, ordered by time, for the expiry timer;
//! * per subnet, how many unreserved addresses are FREE and how many BACKUP, whoever holds an
//!   offer on them, so that pool balancing decides without walking the pool.
//!
//! Offers are held in memory only (an offer is not a binding; RFC 2131 §4.3.1 lets a server
//! reserve an offered address, and draft-12 §9.2 forbids remembering unanswered messages): an
//! offered address leaves the available set until the offer lapses or becomes a lease.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::hash::{Hash, Hasher};
use std::net::Ipv4Addr;

use super::binding::{Binding, BindingState, ClientKey, HwAddr};
use crate::config::ServerConfig;
use crate::time::{Duration, Time};

/// A slot number: an index into the database's bindings.
pub type Slot = u32;

/// Which states a server may allocate from (draft-12 §5.4: FREE is the primary's pool, BACKUP the
/// secondary's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum PoolRole {
    /// No failover partner: FREE, EXPIRED and RELEASED addresses may all be reused.
    #[default]
    Standalone,
    /// Failover primary: allocates FREE addresses only.
    Primary,
    /// Failover secondary: allocates BACKUP addresses only.
    Secondary,
    /// In PARTNER-DOWN since `since` (draft-12 §9.4.2): the own pool at once, the partner's pool
    /// and other clients' old addresses only after the MCLT waits of [`crate::failover::mclt`].
    PartnerDown {
        /// Whether this server is the primary.
        primary: bool,
        /// When PARTNER-DOWN was entered.
        since: Time,
        /// The MCLT.
        mclt: Duration,
    },
}

/// An address held for a client between OFFER and REQUEST.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Offer {
    /// Who it was offered to.
    pub client: ClientKey,
    /// When the hold lapses.
    pub until: Time,
}

/// One contiguous run of slots: a configured range, or a lone reserved address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Span {
    first: u32,
    len: u32,
    first_slot: Slot,
    subnet: u16,
}

/// The lease database.
#[derive(Debug, Clone)]
pub struct LeaseDb {
    spans: Vec<Span>,
    bindings: Vec<Binding>,
    subnet_of_slot: Vec<u16>,
    role: PoolRole,
    /// No address goes to a new client before this time (see [`LeaseDb::set_new_clients_from`]);
    /// the epoch when there is no such wait.
    new_clients_from: Time,
    reservations: BTreeMap<ClientKey, Slot>,
    offers: BTreeMap<Slot, Offer>,
    // Derived from the fields above; left out of equality and hashing.
    by_client: BTreeMap<ClientKey, BTreeSet<Slot>>,
    offer_by_client: BTreeMap<ClientKey, Slot>,
    available: Vec<BTreeSet<(Time, Slot)>>,
    expiries: BTreeSet<(Time, Slot)>,
    offer_expiries: BTreeSet<(Time, Slot)>,
    /// Per subnet: unreserved FREE and BACKUP bindings ([`LeaseDb::pool_count`]).
    pool_counts: Vec<PoolCounts>,
    /// Slots whose state or client changed since the host last took them, when the host
    /// watches ([`LeaseDb::watch_changes`]); `None` otherwise. Not part of the database: left
    /// out of equality and hashing. Bounded by the host, which takes them after every input.
    changed: Option<Vec<Slot>>,
}

/// One subnet's unreserved FREE and BACKUP bindings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PoolCounts {
    free: usize,
    backup: usize,
}

impl PartialEq for LeaseDb {
    fn eq(&self, other: &Self) -> bool {
        self.bindings == other.bindings
            && self.role == other.role
            && self.new_clients_from == other.new_clients_from
            && self.offers == other.offers
            && self.spans == other.spans
            && self.reservations == other.reservations
    }
}

impl Eq for LeaseDb {}

impl Hash for LeaseDb {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bindings.hash(state);
        self.role.hash(state);
        self.new_clients_from.hash(state);
        self.offers.hash(state);
    }
}

impl LeaseDb {
    /// A database with every configured address FREE (or BACKUP for a secondary), reserved
    /// addresses marked. `config` must have passed [`ServerConfig::validate`].
    pub fn new(config: &ServerConfig, role: PoolRole) -> LeaseDb {
        // Every address starts in the primary's pool (draft-12 §5.4); a secondary receives
        // its BACKUP share through pool balancing.
        let fresh = BindingState::Free;
        let mut spans = Vec::new();
        let mut next_slot: Slot = 0;
        for (i, subnet) in config.subnets.iter().enumerate() {
            for r in &subnet.ranges {
                spans.push(Span {
                    first: u32::from(r.first),
                    len: r.len(),
                    first_slot: next_slot,
                    subnet: i as u16,
                });
                next_slot += r.len();
            }
        }
        let in_ranges = |a: Ipv4Addr| {
            config
                .subnets
                .iter()
                .any(|s| s.ranges.iter().any(|r| r.contains(a)))
        };
        for res in &config.reservations {
            if in_ranges(res.address) {
                continue;
            }
            let subnet = config.subnets.iter().position(|s| s.contains(res.address));
            spans.push(Span {
                first: u32::from(res.address),
                len: 1,
                first_slot: next_slot,
                subnet: subnet.unwrap_or(0) as u16,
            });
            next_slot += 1;
        }
        let mut bindings = Vec::with_capacity(next_slot as usize);
        let mut subnet_of_slot = Vec::with_capacity(next_slot as usize);
        for span in &spans {
            for i in 0..span.len {
                bindings.push(Binding::new(Ipv4Addr::from(span.first + i), fresh));
                subnet_of_slot.push(span.subnet);
            }
        }
        spans.sort_by_key(|s| s.first);
        let mut db = LeaseDb {
            spans,
            bindings,
            subnet_of_slot,
            role,
            new_clients_from: Time::EPOCH,
            reservations: BTreeMap::new(),
            offers: BTreeMap::new(),
            by_client: BTreeMap::new(),
            offer_by_client: BTreeMap::new(),
            available: vec![BTreeSet::new(); config.subnets.len()],
            expiries: BTreeSet::new(),
            offer_expiries: BTreeSet::new(),
            pool_counts: vec![PoolCounts::default(); config.subnets.len()],
            changed: None,
        };
        for res in &config.reservations {
            let Some(slot) = db.slot(res.address) else {
                continue;
            };
            db.bindings[slot as usize].reserved = true;
            if let Some(hw) = &res.hw_address {
                // Reservations by MAC are Ethernet (htype 1), as ISC's `hardware ethernet`.
                db.reservations
                    .insert(ClientKey::from_hardware(1, &hw.0), slot);
            }
            if let Some(id) = &res.client_id {
                db.reservations
                    .insert(ClientKey::from_client_id(&id.0), slot);
            }
        }
        db.reindex();
        db
    }

    /// Rebuild every derived index from the bindings and offers.
    fn reindex(&mut self) {
        self.by_client.clear();
        self.offer_by_client.clear();
        self.available.iter_mut().for_each(BTreeSet::clear);
        self.expiries.clear();
        self.offer_expiries.clear();
        self.pool_counts.fill(PoolCounts::default());
        for slot in 0..self.bindings.len() as Slot {
            self.index(slot);
        }
        for (&slot, offer) in &self.offers {
            self.offer_by_client.insert(offer.client.clone(), slot);
            self.offer_expiries.insert((offer.until, slot));
        }
    }

    /// The role that decides which states are allocatable.
    pub fn role(&self) -> PoolRole {
        self.role
    }

    /// How many addresses the database holds.
    pub fn len(&self) -> usize {
        self.bindings.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.bindings.is_empty()
    }

    /// The slot of an address, if the database holds it.
    pub fn slot(&self, addr: Ipv4Addr) -> Option<Slot> {
        let a = u32::from(addr);
        let i = self
            .spans
            .partition_point(|s| s.first <= a)
            .checked_sub(1)?;
        let span = &self.spans[i];
        let offset = a - span.first;
        (offset < span.len).then_some(span.first_slot + offset)
    }

    /// The binding in a slot.
    pub fn get(&self, slot: Slot) -> &Binding {
        &self.bindings[slot as usize]
    }

    /// The binding of an address, if the database holds it.
    pub fn binding(&self, addr: Ipv4Addr) -> Option<&Binding> {
        self.slot(addr).map(|s| self.get(s))
    }

    /// The subnet (index into the configuration's subnets) a slot belongs to.
    pub fn subnet_of(&self, slot: Slot) -> usize {
        usize::from(self.subnet_of_slot[slot as usize])
    }

    /// Every binding, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = &Binding> {
        self.bindings.iter()
    }

    /// Every binding with its slot, in slot order.
    pub fn slots(&self) -> impl Iterator<Item = (Slot, &Binding)> {
        (0..).zip(self.bindings.iter())
    }

    /// The slot of a client's binding: its ACTIVE one if any, else the one that changed
    /// state last (the lowest slot on a tie).
    pub fn by_client(&self, client: &ClientKey) -> Option<Slot> {
        self.by_client
            .get(client)?
            .iter()
            .copied()
            .max_by_key(|&slot| {
                let b = self.get(slot);
                (
                    b.state == BindingState::Active,
                    b.state_since,
                    Reverse(slot),
                )
            })
    }

    /// The slot reserved for a client, if any.
    pub fn reservation(&self, client_id: Option<&[u8]>, hw: &HwAddr) -> Option<Slot> {
        let by_id = client_id.and_then(|id| self.reservations.get(&ClientKey::from_client_id(id)));
        let by_hw = || {
            self.reservations
                .get(&ClientKey::from_hardware(hw.htype, &hw.addr))
        };
        by_id.or_else(by_hw).copied()
    }

    /// From when the role lets this binding be given to a new client, if ever. Addresses are
    /// offered oldest-first by this time, so for the plain roles it is the time the binding
    /// entered its state (least recently used first).
    pub fn available_from(&self, b: &Binding) -> Option<Time> {
        if b.reserved {
            return None;
        }
        let from = self.role_available_from(b)?;
        Some(from.max(self.new_clients_from))
    }

    /// [`LeaseDb::available_from`] as the role alone says.
    fn role_available_from(&self, b: &Binding) -> Option<Time> {
        use crate::failover::Role;
        use crate::failover::mclt::{Pool, partner_down_reusable_at};
        let since = Some(b.state_since);
        match self.role {
            PoolRole::Standalone => matches!(
                b.state,
                BindingState::Free | BindingState::Expired | BindingState::Released
            )
            .then_some(b.state_since),
            PoolRole::Primary => (b.state == BindingState::Free).then_some(b.state_since),
            PoolRole::Secondary => (b.state == BindingState::Backup).then_some(b.state_since),
            PoolRole::PartnerDown {
                primary,
                since: down_since,
                mclt,
            } => {
                let role = if primary {
                    Role::Primary
                } else {
                    Role::Secondary
                };
                match (Pool::of(b.state, role), b.state) {
                    (Some(Pool::Own), _) => since,
                    (Some(Pool::Partners), _) => Some(
                        partner_down_reusable_at(b, Pool::Partners, down_since, mclt)
                            .max(b.state_since),
                    ),
                    (
                        None,
                        BindingState::Expired | BindingState::Released | BindingState::Reset,
                    ) => Some(
                        partner_down_reusable_at(b, Pool::Own, down_since, mclt).max(b.state_since),
                    ),
                    _ => None,
                }
            }
        }
    }

    /// Whether the role lets this binding be given to a new client now or later.
    pub fn is_available(&self, b: &Binding) -> bool {
        self.available_from(b).is_some()
    }

    /// Give no address to a new client before `t` (the epoch: no wait). A server that lost
    /// its storage does not know what its earlier life leased (`Server::new`); its own clients'
    /// bindings, once learned from the partner, are unaffected. Every index follows.
    pub fn set_new_clients_from(&mut self, t: Time) {
        if self.new_clients_from != t {
            self.new_clients_from = t;
            self.reindex();
        }
    }

    /// Change the allocation role (a failover state change); every index follows.
    pub fn set_role(&mut self, role: PoolRole) {
        if self.role != role {
            self.role = role;
            self.reindex();
        }
    }

    /// The least recently used address of a subnet that is available at `now` and nobody holds
    /// an offer for.
    pub fn least_recently_used(&self, subnet: usize, now: Time) -> Option<Slot> {
        self.available
            .get(subnet)?
            .first()
            .filter(|&&(from, _)| from <= now)
            .map(|&(_, slot)| slot)
    }

    /// How many addresses of a subnet are available now.
    pub fn available_count(&self, subnet: usize) -> usize {
        self.available.get(subnet).map_or(0, BTreeSet::len)
    }

    /// The available addresses of a subnet, most recently used first (the reverse of the
    /// order allocation takes them in): what pool balancing hands the partner, so that this
    /// server keeps the addresses it would give out next.
    pub fn available_newest_first(&self, subnet: usize) -> impl Iterator<Item = Slot> + '_ {
        self.available
            .get(subnet)
            .into_iter()
            .flat_map(|set| set.iter().rev().map(|&(_, slot)| slot))
    }

    /// How many unreserved addresses of a subnet are in `state` (counted for FREE and BACKUP,
    /// the two pools of draft-12 §5.4; 0 for any other state), offered or not.
    pub fn pool_count(&self, subnet: usize, state: BindingState) -> usize {
        let Some(c) = self.pool_counts.get(subnet) else {
            return 0;
        };
        match state {
            BindingState::Free => c.free,
            BindingState::Backup => c.backup,
            _ => 0,
        }
    }

    /// The pool counter a binding counts in, if any.
    fn pool_counter(&mut self, slot: Slot) -> Option<&mut usize> {
        let b = &self.bindings[slot as usize];
        if b.reserved {
            return None;
        }
        let subnet = usize::from(self.subnet_of_slot[slot as usize]);
        let c = self.pool_counts.get_mut(subnet)?;
        match b.state {
            BindingState::Free => Some(&mut c.free),
            BindingState::Backup => Some(&mut c.backup),
            _ => None,
        }
    }

    /// Change one binding; every index follows.
    pub fn modify<R>(&mut self, slot: Slot, f: impl FnOnce(&mut Binding) -> R) -> R {
        let before = self.bindings[slot as usize].client();
        let state_before = self.bindings[slot as usize].state;
        self.unindex_times(slot);
        let out = f(&mut self.bindings[slot as usize]);
        self.index_times(slot);
        // Most changes keep the client: its entry then stays as it is.
        let after = self.bindings[slot as usize].client();
        if let Some(changed) = self.changed.as_mut()
            && (before != after || state_before != self.bindings[slot as usize].state)
        {
            changed.push(slot);
        }
        if before != after {
            if let Some(client) = before {
                self.unindex_client(&client, slot);
            }
            if let Some(client) = after {
                self.by_client.entry(client).or_default().insert(slot);
            }
        }
        out
    }

    /// Start (or stop) noting which bindings change state or client, for a host that traces
    /// them ([`LeaseDb::take_changes`]). Off by default: it costs a push per change.
    pub fn watch_changes(&mut self, on: bool) {
        self.changed = on.then(Vec::new);
    }

    /// The slots whose state or client changed since the last call (a slot may appear more
    /// than once), in the order they changed; empty when nobody watches.
    pub fn take_changes(&mut self) -> Vec<Slot> {
        match self.changed.as_mut() {
            Some(c) => std::mem::take(c),
            None => Vec::new(),
        }
    }

    /// Replace a binding wholesale (restoring from storage, or a partner's update).
    pub fn put(&mut self, slot: Slot, mut binding: Binding) {
        // Reservation is configuration, not history: the current config decides it.
        let old = &self.bindings[slot as usize];
        binding.reserved = old.reserved;
        // A change that moves no index key (an acknowledgement, a PET) is written in place:
        // the indexes read the client, the state, the lease end and the availability time only.
        let same_keys = old.client_id == binding.client_id
            && old.hw == binding.hw
            && old.state == binding.state
            && old.expires_at == binding.expires_at
            && self.available_from(old) == self.available_from(&binding);
        if same_keys {
            self.bindings[slot as usize] = binding;
            return;
        }
        self.modify(slot, |b| *b = binding);
    }

    fn unindex_client(&mut self, client: &ClientKey, slot: Slot) {
        if let Some(slots) = self.by_client.get_mut(client) {
            slots.remove(&slot);
            if slots.is_empty() {
                self.by_client.remove(client);
            }
        }
    }

    /// Takes a slot out of the time-ordered indexes (availability and lease ends) and the
    /// pool counts.
    fn unindex_times(&mut self, slot: Slot) {
        if let Some(n) = self.pool_counter(slot) {
            *n = n.saturating_sub(1);
        }
        let b = &self.bindings[slot as usize];
        let subnet = self.subnet_of(slot);
        if let Some(from) = self.available_from(b) {
            self.available[subnet].remove(&(from, slot));
        }
        self.expiries.remove(&(b.expires_at, slot));
    }

    fn index(&mut self, slot: Slot) {
        if let Some(client) = self.bindings[slot as usize].client() {
            self.by_client.entry(client).or_default().insert(slot);
        }
        self.index_times(slot);
    }

    /// Puts a slot into the time-ordered indexes (availability and lease ends) and the pool
    /// counts.
    fn index_times(&mut self, slot: Slot) {
        if let Some(n) = self.pool_counter(slot) {
            *n += 1;
        }
        let b = &self.bindings[slot as usize];
        if let Some(from) = self.available_from(b)
            && !self.offers.contains_key(&slot)
        {
            let subnet = self.subnet_of(slot);
            self.available[subnet].insert((from, slot));
        }
        if b.state == BindingState::Active {
            self.expiries.insert((b.expires_at, slot));
        }
    }

    /// The earliest ACTIVE lease end.
    pub fn next_expiry(&self) -> Option<Time> {
        self.expiries.first().map(|&(t, _)| t)
    }

    /// An ACTIVE binding whose lease has ended by `now`, if any.
    pub fn expired_by(&self, now: Time) -> Option<Slot> {
        self.expiries
            .first()
            .filter(|&&(t, _)| t <= now)
            .map(|&(_, slot)| slot)
    }

    /// Hold `slot` for `client` until `until`, replacing the client's other offer.
    pub fn offer(&mut self, slot: Slot, client: ClientKey, until: Time) {
        if let Some(&previous) = self.offer_by_client.get(&client) {
            self.withdraw_offer(previous);
        }
        self.withdraw_offer(slot);
        // An offer changes only the slot's availability, never its binding's client.
        self.unindex_times(slot);
        self.offer_by_client.insert(client.clone(), slot);
        self.offer_expiries.insert((until, slot));
        self.offers.insert(slot, Offer { client, until });
        self.index_times(slot);
    }

    /// The offer held on a slot.
    pub fn offer_on(&self, slot: Slot) -> Option<&Offer> {
        self.offers.get(&slot)
    }

    /// The slot offered to a client.
    pub fn offer_for(&self, client: &ClientKey) -> Option<Slot> {
        self.offer_by_client.get(client).copied()
    }

    /// Drop the offer on a slot, if any; the address becomes available again if it may.
    pub fn withdraw_offer(&mut self, slot: Slot) {
        let Some(offer) = self.offers.remove(&slot) else {
            return;
        };
        if self.offer_by_client.get(&offer.client) == Some(&slot) {
            self.offer_by_client.remove(&offer.client);
        }
        self.offer_expiries.remove(&(offer.until, slot));
        self.unindex_times(slot);
        self.index_times(slot);
    }

    /// The earliest offer hold to lapse.
    pub fn next_offer_lapse(&self) -> Option<Time> {
        self.offer_expiries.first().map(|&(t, _)| t)
    }

    /// Drop every offer whose hold lapsed by `now`.
    pub fn lapse_offers(&mut self, now: Time) {
        while let Some(&(t, slot)) = self.offer_expiries.first() {
            if t > now {
                break;
            }
            self.withdraw_offer(slot);
        }
    }

    /// Check every derived index against the bindings (for tests and debug assertions).
    pub fn check_indexes(&self) -> Result<(), String> {
        let mut fresh = self.clone();
        fresh.reindex();
        if fresh.available != self.available {
            return Err("available index out of step".into());
        }
        if fresh.expiries != self.expiries || fresh.offer_expiries != self.offer_expiries {
            return Err("timer index out of step".into());
        }
        if fresh.by_client != self.by_client || fresh.offer_by_client != self.offer_by_client {
            return Err("client index out of step".into());
        }
        if fresh.pool_counts != self.pool_counts {
            return Err("pool counts out of step".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AddressRange, HexBytes, LeaseTimes, Reservation, Subnet};

    fn config() -> ServerConfig {
        ServerConfig {
            server_id: Ipv4Addr::new(192, 0, 2, 1),
            lease: LeaseTimes::default(),
            subnets: vec![Subnet {
                network: Ipv4Addr::new(192, 0, 2, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0),
                ranges: vec![
                    AddressRange {
                        first: Ipv4Addr::new(192, 0, 2, 100),
                        last: Ipv4Addr::new(192, 0, 2, 103),
                    },
                    AddressRange {
                        first: Ipv4Addr::new(192, 0, 2, 50),
                        last: Ipv4Addr::new(192, 0, 2, 51),
                    },
                ],
                routers: vec![],
                dns_servers: vec![],
                domain_name: None,
            }],
            reservations: vec![Reservation {
                address: Ipv4Addr::new(192, 0, 2, 10),
                hw_address: Some(HexBytes(vec![0, 1, 2, 3, 4, 5])),
                client_id: None,
            }],
            offer_hold_s: 60,
            failover: None,
            bugs: Default::default(),
        }
    }

    fn lease(db: &mut LeaseDb, slot: Slot, who: u8, until: Time) {
        db.modify(slot, |b| {
            b.state = BindingState::Active;
            b.hw = Some(HwAddr {
                htype: 1,
                addr: vec![who; 6],
            });
            b.expires_at = until;
        });
    }

    #[test]
    fn addresses_map_to_slots_across_ranges_and_reservations() {
        let db = LeaseDb::new(&config(), PoolRole::Standalone);
        assert_eq!(db.len(), 7);
        for b in db.iter() {
            assert_eq!(db.binding(b.address).map(|x| x.address), Some(b.address));
        }
        assert_eq!(db.slot(Ipv4Addr::new(192, 0, 2, 104)), None);
        assert_eq!(db.slot(Ipv4Addr::new(192, 0, 2, 9)), None);
        assert_eq!(db.slot(Ipv4Addr::new(0, 0, 0, 0)), None);
        let reserved = db.binding(Ipv4Addr::new(192, 0, 2, 10)).unwrap();
        assert!(reserved.reserved);
        let hw = HwAddr {
            htype: 1,
            addr: vec![0, 1, 2, 3, 4, 5],
        };
        assert_eq!(
            db.reservation(None, &hw),
            db.slot(Ipv4Addr::new(192, 0, 2, 10))
        );
        assert_eq!(
            db.available_count(0),
            6,
            "the reserved address is never available"
        );
        db.check_indexes().unwrap();
    }

    #[test]
    fn allocation_takes_the_least_recently_used_address() {
        let mut db = LeaseDb::new(&config(), PoolRole::Standalone);
        let first = db.least_recently_used(0, Time::MAX).unwrap();
        lease(&mut db, first, 1, Time::from_secs(100));
        let second = db.least_recently_used(0, Time::MAX).unwrap();
        assert_ne!(first, second);
        // The first lease expires and is released at t=50: it becomes the most recently used.
        db.modify(first, |b| {
            b.state = BindingState::Released;
            b.state_since = Time::from_secs(50);
        });
        assert_eq!(db.least_recently_used(0, Time::MAX), Some(second));
        assert_eq!(db.available_count(0), 6);
        db.check_indexes().unwrap();
    }

    #[test]
    fn expiry_index_follows_active_bindings() {
        let mut db = LeaseDb::new(&config(), PoolRole::Standalone);
        lease(&mut db, 0, 1, Time::from_secs(30));
        lease(&mut db, 1, 2, Time::from_secs(20));
        assert_eq!(db.next_expiry(), Some(Time::from_secs(20)));
        assert_eq!(db.expired_by(Time::from_secs(19)), None);
        assert_eq!(db.expired_by(Time::from_secs(20)), Some(1));
        db.modify(1, |b| b.state = BindingState::Expired);
        assert_eq!(db.next_expiry(), Some(Time::from_secs(30)));
        db.check_indexes().unwrap();
    }

    #[test]
    fn an_offered_address_is_not_available_until_the_hold_lapses() {
        let mut db = LeaseDb::new(&config(), PoolRole::Standalone);
        let slot = db.least_recently_used(0, Time::MAX).unwrap();
        let who = ClientKey::from_hardware(1, &[7; 6]);
        db.offer(slot, who.clone(), Time::from_secs(60));
        assert_ne!(db.least_recently_used(0, Time::MAX), Some(slot));
        assert_eq!(db.offer_for(&who), Some(slot));
        db.lapse_offers(Time::from_secs(59));
        assert_eq!(db.offer_for(&who), Some(slot));
        db.lapse_offers(Time::from_secs(60));
        assert_eq!(db.offer_for(&who), None);
        assert_eq!(db.least_recently_used(0, Time::MAX), Some(slot));
        db.check_indexes().unwrap();
    }

    #[test]
    fn a_new_offer_to_the_same_client_replaces_the_old() {
        let mut db = LeaseDb::new(&config(), PoolRole::Standalone);
        let who = ClientKey::from_hardware(1, &[7; 6]);
        db.offer(0, who.clone(), Time::from_secs(60));
        db.offer(1, who.clone(), Time::from_secs(70));
        assert_eq!(db.offer_for(&who), Some(1));
        assert_eq!(db.offer_on(0), None);
        assert_eq!(db.available_count(0), 5);
        db.check_indexes().unwrap();
    }

    #[test]
    fn client_index_moves_with_the_binding() {
        let mut db = LeaseDb::new(&config(), PoolRole::Standalone);
        lease(&mut db, 2, 9, Time::from_secs(30));
        let nine = ClientKey::from_hardware(1, &[9; 6]);
        assert_eq!(db.by_client(&nine), Some(2));
        lease(&mut db, 2, 8, Time::from_secs(30));
        assert_eq!(db.by_client(&nine), None);
        db.check_indexes().unwrap();
    }

    #[test]
    fn roles_decide_what_is_allocatable() {
        let primary = LeaseDb::new(&config(), PoolRole::Primary);
        assert_eq!(primary.available_count(0), 6);
        let mut secondary = LeaseDb::new(&config(), PoolRole::Secondary);
        assert_eq!(
            secondary.available_count(0),
            0,
            "a fresh secondary owns nothing yet"
        );
        secondary.modify(3, |b| b.state = BindingState::Backup);
        assert_eq!(secondary.available_count(0), 1);
        let mut db = LeaseDb::new(&config(), PoolRole::Primary);
        db.modify(0, |b| b.state = BindingState::Expired);
        assert_eq!(
            db.available_count(0),
            5,
            "a primary waits for the partner's ack"
        );
    }

    #[test]
    fn pool_counts_follow_free_and_backup_and_leave_out_reservations() {
        let mut db = LeaseDb::new(&config(), PoolRole::Primary);
        assert_eq!(
            db.pool_count(0, BindingState::Free),
            6,
            "the reserved one is not counted"
        );
        assert_eq!(db.pool_count(0, BindingState::Backup), 0);
        db.modify(3, |b| b.state = BindingState::Backup);
        let who = ClientKey::from_hardware(1, &[7; 6]);
        db.offer(0, who, Time::from_secs(60));
        assert_eq!(
            db.pool_count(0, BindingState::Free),
            5,
            "an offer changes no pool"
        );
        assert_eq!(db.available_count(0), 4);
        lease(&mut db, 1, 1, Time::from_secs(30));
        assert_eq!(db.pool_count(0, BindingState::Free), 4);
        assert_eq!(db.pool_count(0, BindingState::Backup), 1);
        assert_eq!(db.pool_count(0, BindingState::Active), 0);
        db.check_indexes().unwrap();
        // Balancing hands out the most recently used first.
        db.modify(2, |b| b.state_since = Time::from_secs(5));
        assert_eq!(db.available_newest_first(0).next(), Some(2));
        assert_eq!(db.available_newest_first(0).count(), 3);
        assert_eq!(db.available_newest_first(9).count(), 0);
    }

    #[test]
    fn equality_ignores_derived_indexes() {
        let mut a = LeaseDb::new(&config(), PoolRole::Standalone);
        let b = a.clone();
        lease(&mut a, 0, 1, Time::from_secs(5));
        assert_ne!(a, b);
        a.modify(0, |x| *x = b.get(0).clone());
        assert_eq!(a, b);
    }
}
