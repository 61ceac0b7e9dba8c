//! The pool-balance property (DESIGN.md: "neither partner is left with no address to give
//! ('peer holds all free leases') while the pool still has free addresses"), judged as an
//! observer of the failover wire.
//!
//! **What it reads.** One checker judges one relationship ([`Pair`]), and reads only the messages
//! of that relationship, knowing its two servers by name. Who holds which address is what the
//! two servers *agreed* on the wire: an
//! address is the primary's to give when the last binding update about it that the receiver
//! acknowledged without a reject said FREE (or EXPIRED, RELEASED or RESET, which become FREE on
//! both sides once acknowledged, draft-12 §5.11), the secondary's when it said BACKUP, and
//! nobody's otherwise (ACTIVE, ABANDONED). Before any update every address is FREE: draft-12
//! §5.4 starts the whole pool in the primary's hands. Binding states are read through the
//! engine's codecs in the run's dialect (STYLE.md 19a), never from the engine's database. Whether
//! the pair is in NORMAL is what each server announced (the trace's state changes); a crashed
//! server is in no state.
//!
//! **The rule.** While both servers are in NORMAL, the server that must serve new clients has
//! addresses to give whenever its partner holds any it could spare. In hot standby the primary
//! serves every new client, so a subnet where the primary holds no FREE address while the
//! secondary holds at least one BACKUP address is starved. In load balancing each serves its
//! half, so a subnet is starved when one side holds none and the other at least two (with one
//! address left, one side must hold none). A starvation is a violation once it has lasted
//! longer than the bound (the scenario's `checks.pool_balance_within`): balancing is periodic,
//! so a moment without addresses is allowed, but not a rebalance period and more.
//!
//! **Bounds.** One pending entry per unanswered BNDUPD, at most [`MAX_PENDING`] (beyond it the
//! entry with the lowest sender and xid is dropped: its acknowledgement is then not counted,
//! which only delays what this checker learns); one agreed state per address of the configured
//! pools; one violation per starvation.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use dhcpfo_engine::failover::state::FoState;
use dhcpfo_engine::lease::BindingState;
use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::failover::{
    Binding, Dialect, FoOption, Message, MessageType, dialect::ms_binding_state,
};

use crate::check::{Link, Violation};
use crate::names::{Pair, RelationshipName, ServerName};

/// The most BNDUPDs kept waiting for their BNDACK.
pub const MAX_PENDING: usize = 100_000;

/// How the pair shares new clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Serving {
    /// The primary serves every new client while both are in NORMAL.
    HotStandby,
    /// Each serves half.
    LoadBalance,
}

/// Who may give an address to a new client, as the partners agreed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Held {
    /// FREE: the primary's.
    Free,
    /// BACKUP: the secondary's.
    Backup,
    /// Leased, abandoned: nobody's.
    Neither,
}

impl Held {
    fn of(state: BindingState) -> Held {
        match state {
            BindingState::Free
            | BindingState::Expired
            | BindingState::Released
            | BindingState::Reset => Held::Free,
            BindingState::Backup => Held::Backup,
            BindingState::Active | BindingState::Abandoned => Held::Neither,
        }
    }
}

/// One configured range of addresses.
#[derive(Debug, Clone, Copy)]
struct Range {
    first: u32,
    len: u32,
    /// Where its addresses start in [`PoolBalance::agreed`].
    offset: usize,
    subnet: usize,
}

/// One subnet's agreed holdings, and since when it has been starved.
#[derive(Debug, Clone, Copy, Default)]
struct Subnet {
    free: usize,
    backup: usize,
    starved_since: Option<Time>,
    reported: bool,
}

/// The pool-balance checker: fed by the world's hooks, reporting [`Violation`]s named
/// `pool-balance`.
#[derive(Debug, Clone)]
pub struct PoolBalance {
    pair: Pair,
    serving: Serving,
    dialect: Dialect,
    bound: Duration,
    ranges: Vec<Range>,
    agreed: Vec<Held>,
    subnets: Vec<Subnet>,
    /// (sender, xid) → each address the BNDUPD carried and what it said.
    pending: BTreeMap<(ServerName, u32), Vec<(Ipv4Addr, Held)>>,
    /// Each server's failover state in the relationship as last announced; absent while down.
    states: BTreeMap<ServerName, FoState>,
    /// Since when both servers have been in NORMAL.
    normal_since: Option<Time>,
    /// How many times both servers entered NORMAL together: the periods this property was
    /// judged in.
    normal_periods: u64,
}

impl PoolBalance {
    /// A checker for the relationship `pair`, which shares clients as `serving`, speaks
    /// `dialect`, and has the subnets `pools` (each a list of inclusive address ranges); a
    /// starvation longer than `bound` is a violation.
    pub fn new(
        pair: Pair,
        serving: Serving,
        dialect: Dialect,
        pools: &[Vec<(Ipv4Addr, Ipv4Addr)>],
        bound: Duration,
    ) -> PoolBalance {
        let mut ranges = Vec::new();
        let mut offset = 0;
        let mut subnets = Vec::new();
        for (subnet, pool) in pools.iter().enumerate() {
            let mut total = 0;
            for &(first, last) in pool {
                let (first, last) = (u32::from(first), u32::from(last));
                let len = last.saturating_sub(first).saturating_add(1);
                ranges.push(Range {
                    first,
                    len,
                    offset,
                    subnet,
                });
                offset += len as usize;
                total += len as usize;
            }
            subnets.push(Subnet {
                free: total,
                ..Subnet::default()
            });
        }
        PoolBalance {
            pair,
            serving,
            dialect,
            bound,
            ranges,
            agreed: vec![Held::Free; offset],
            subnets,
            pending: BTreeMap::new(),
            states: BTreeMap::new(),
            normal_since: None,
            normal_periods: 0,
        }
    }

    /// `server` announced `state` in `relationship` (`None`: it crashed). Only the pair's own
    /// servers in its own relationship count.
    pub fn state(
        &mut self,
        now: Time,
        relationship: RelationshipName,
        server: ServerName,
        state: Option<FoState>,
        out: &mut Vec<Violation>,
    ) {
        self.judge(now, out);
        if relationship != self.pair.relationship || self.pair.partner(server).is_none() {
            return;
        }
        match state {
            Some(s) => self.states.insert(server, s),
            None => self.states.remove(&server),
        };
        let both = self
            .pair
            .servers()
            .iter()
            .all(|s| self.states.get(s) == Some(&FoState::Normal));
        match (both, self.normal_since) {
            (true, None) => {
                self.normal_since = Some(now);
                self.normal_periods += 1;
            }
            (false, Some(_)) => self.normal_since = None,
            _ => {}
        }
        for i in 0..self.subnets.len() {
            self.restart_clock(now, i);
        }
    }

    /// A failover message crossed `link`; BNDUPD and BNDACK of the pair's relationship are
    /// read.
    pub fn failover_message(
        &mut self,
        now: Time,
        link: &Link,
        msg: &Message,
        out: &mut Vec<Violation>,
    ) {
        self.judge(now, out);
        if link.pair.relationship != self.pair.relationship {
            return;
        }
        match msg.msg_type {
            MessageType::BndUpd => {
                let carried: Vec<(Ipv4Addr, Held)> = msg
                    .bindings()
                    .filter_map(|b| Some((b.address, Held::of(self.binding_state(&b)?))))
                    .collect();
                if self.pending.len() >= MAX_PENDING {
                    self.pending.pop_first();
                }
                self.pending.insert((link.from.server, msg.xid), carried);
            }
            MessageType::BndAck => {
                // It answers the update its receiver sent.
                let sender = link.to.server;
                let Some(carried) = self.pending.remove(&(sender, msg.xid)) else {
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
                    if let Some(&(_, held)) = carried.iter().find(|(a, _)| *a == b.address) {
                        self.agree(now, b.address, held);
                    }
                }
            }
            _ => {}
        }
    }

    /// How many times both servers were in NORMAL together (the periods it was judged in).
    pub fn normal_periods(&self) -> u64 {
        self.normal_periods
    }

    /// The run ended at `now`: a starvation still going on is judged.
    pub fn finish(&mut self, now: Time, out: &mut Vec<Violation>) {
        self.judge(now, out);
    }

    /// The binding state one transaction of a BNDUPD carries, read in the run's dialect.
    fn binding_state(&self, b: &Binding) -> Option<BindingState> {
        let mut status = None;
        let mut flags = 0u8;
        let mut hw = false;
        for o in b.options.iter() {
            match o {
                FoOption::BindingStatus(s) if status.is_none() => status = Some(s.0),
                FoOption::IpFlags(f) => flags = (f.bits() & 0xff) as u8,
                FoOption::ClientHardwareAddress(_) => hw = true,
                _ => {}
            }
        }
        let status = status?;
        match self.dialect {
            Dialect::Isc => BindingState::from_d12(status),
            Dialect::Microsoft => Some(ms_binding_state(status, flags, hw)),
        }
    }

    /// The partners agreed that `address` is now held as `held`.
    fn agree(&mut self, now: Time, address: Ipv4Addr, held: Held) {
        let a = u32::from(address);
        let Some(r) = self
            .ranges
            .iter()
            .find(|r| a >= r.first && a - r.first < r.len)
            .copied()
        else {
            return;
        };
        let i = r.offset + (a - r.first) as usize;
        let before = std::mem::replace(&mut self.agreed[i], held);
        let s = &mut self.subnets[r.subnet];
        match before {
            Held::Free => s.free -= 1,
            Held::Backup => s.backup -= 1,
            Held::Neither => {}
        }
        match held {
            Held::Free => s.free += 1,
            Held::Backup => s.backup += 1,
            Held::Neither => {}
        }
        self.restart_clock(now, r.subnet);
    }

    /// Whether a subnet's holdings leave a server that must serve without an address while its
    /// partner could spare one.
    fn starved(&self, s: &Subnet) -> bool {
        match self.serving {
            Serving::HotStandby => s.free == 0 && s.backup >= 1,
            Serving::LoadBalance => {
                (s.free == 0 && s.backup >= 2) || (s.backup == 0 && s.free >= 2)
            }
        }
    }

    /// Start or stop the clock of subnet `i` as its starvation begins or ends.
    fn restart_clock(&mut self, now: Time, i: usize) {
        let starved = self.normal_since.is_some() && self.starved(&self.subnets[i]);
        let s = &mut self.subnets[i];
        match (starved, s.starved_since) {
            (true, None) => s.starved_since = Some(now),
            (false, Some(_)) => {
                s.starved_since = None;
                s.reported = false;
            }
            _ => {}
        }
    }

    /// Report every starvation that has lasted longer than the bound by `now`.
    fn judge(&mut self, now: Time, out: &mut Vec<Violation>) {
        for i in 0..self.subnets.len() {
            let s = self.subnets[i];
            let Some(since) = s.starved_since else {
                continue;
            };
            if s.reported || now.saturating_since(since) <= self.bound {
                continue;
            }
            self.subnets[i].reported = true;
            let Pair {
                relationship,
                primary,
                secondary,
            } = self.pair;
            let (starved, holder, held) = match (self.serving, s.free) {
                (Serving::HotStandby, _) | (Serving::LoadBalance, 0) => {
                    (primary, secondary, Held::Backup)
                }
                (Serving::LoadBalance, _) => (secondary, primary, Held::Free),
            };
            let example = self.ranges.iter().filter(|r| r.subnet == i).find_map(|r| {
                (0..r.len).find_map(|k| {
                    (self.agreed[r.offset + k as usize] == held)
                        .then(|| Ipv4Addr::from(r.first + k))
                })
            });
            out.push(Violation {
                at: now,
                property: "pool-balance",
                detail: format!(
                    "subnet {i} of relationship {relationship}: the {starved} has had no \
                     address to give since {} (over the {} s bound) while the {holder} \
                     holds {} ({} FREE, {} BACKUP, as the pair agreed on the wire)",
                    crate::world::fmt_at(since),
                    self.bound.as_secs(),
                    if held == Held::Backup {
                        s.backup
                    } else {
                        s.free
                    },
                    s.free,
                    s.backup,
                ),
                addresses: example.into_iter().collect(),
                clients: Vec::new(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Endpoint;
    use dhcpfo_engine::wire::failover::BindingStatus;

    const PRIMARY: ServerName = ServerName::new("primary");
    const SECONDARY: ServerName = ServerName::new("secondary");
    const PAIR: Pair = Pair {
        relationship: RelationshipName::new("sim"),
        primary: PRIMARY,
        secondary: SECONDARY,
    };

    /// A message from `from` to its partner in [`PAIR`].
    fn sent(from: ServerName) -> Link {
        sent_in(PAIR, from)
    }

    /// A message from `from` to its partner in `pair`.
    fn sent_in(pair: Pair, from: ServerName) -> Link {
        let end = |server| Endpoint { server, skew_ms: 0 };
        Link {
            conn: 1,
            pair,
            from: end(from),
            to: end(pair.partner(from).expect("a server of the pair")),
        }
    }

    const T0: Time = crate::world::START;

    fn at(s: u64) -> Time {
        T0 + Duration::from_secs(s)
    }

    fn addr(k: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 0, 1, k)
    }

    /// A pair on one subnet of `n` addresses, 10.0.1.0 onwards, both in NORMAL at T0.
    fn pair(serving: Serving, n: u8) -> (PoolBalance, Vec<Violation>) {
        let mut c = PoolBalance::new(
            PAIR,
            serving,
            Dialect::Isc,
            &[vec![(addr(0), addr(n - 1))]],
            Duration::from_mins(10),
        );
        let mut out = Vec::new();
        c.state(
            T0,
            PAIR.relationship,
            PRIMARY,
            Some(FoState::Normal),
            &mut out,
        );
        c.state(
            T0,
            PAIR.relationship,
            SECONDARY,
            Some(FoState::Normal),
            &mut out,
        );
        (c, out)
    }

    /// `from` sends one BNDUPD moving `addrs` to `state` and the partner acknowledges it.
    fn agree(
        c: &mut PoolBalance,
        out: &mut Vec<Violation>,
        now: Time,
        from: ServerName,
        xid: u32,
        addrs: &[Ipv4Addr],
        state: BindingState,
    ) {
        let mut upd = Message::new(MessageType::BndUpd, 0, xid);
        let mut ack = Message::new(MessageType::BndAck, 0, xid);
        for &a in addrs {
            upd = upd
                .with(FoOption::AssignedIpAddress(a))
                .with(FoOption::BindingStatus(BindingStatus(state.to_d12())));
            ack = ack.with(FoOption::AssignedIpAddress(a));
        }
        c.failover_message(now, &sent(from), &upd, out);
        let back = PAIR.partner(from).expect("a server of the pair");
        c.failover_message(now, &sent(back), &ack, out);
    }

    #[test]
    fn a_balanced_hot_standby_history_holds() {
        // Goal: the primary gives a reserve, leases most of the pool, the secondary hands the
        // reserve back as the pool runs out, the last address is leased: never a violation.
        let (mut c, mut out) = pair(Serving::HotStandby, 10);
        agree(
            &mut c,
            &mut out,
            at(1),
            PRIMARY,
            1,
            &[addr(9)],
            BindingState::Backup,
        );
        let leased: Vec<Ipv4Addr> = (0..9).map(addr).collect();
        agree(
            &mut c,
            &mut out,
            at(60),
            PRIMARY,
            2,
            &leased,
            BindingState::Active,
        );
        // The primary has none for two minutes: within the bound.
        agree(
            &mut c,
            &mut out,
            at(180),
            SECONDARY,
            1,
            &[addr(9)],
            BindingState::Free,
        );
        agree(
            &mut c,
            &mut out,
            at(190),
            PRIMARY,
            3,
            &[addr(9)],
            BindingState::Active,
        );
        c.finish(at(7200), &mut out);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn a_hoarding_secondary_is_reported() {
        // Goal: the flaw — the secondary keeps half the pool as BACKUP while the
        // primary's half is leased; past the bound the starvation is reported once, naming an
        // address the secondary holds.
        let (mut c, mut out) = pair(Serving::HotStandby, 10);
        let half: Vec<Ipv4Addr> = (5..10).map(addr).collect();
        agree(
            &mut c,
            &mut out,
            at(1),
            PRIMARY,
            1,
            &half,
            BindingState::Backup,
        );
        let leased: Vec<Ipv4Addr> = (0..5).map(addr).collect();
        agree(
            &mut c,
            &mut out,
            at(60),
            PRIMARY,
            2,
            &leased,
            BindingState::Active,
        );
        c.finish(at(60 + 600), &mut out);
        assert!(out.is_empty(), "exactly the bound is allowed");
        // Renewals keep crossing the wire; the first one after the bound finds it.
        agree(
            &mut c,
            &mut out,
            at(700),
            PRIMARY,
            3,
            &[addr(0)],
            BindingState::Active,
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert_eq!(out[0].property, "pool-balance");
        assert_eq!(out[0].at, at(700));
        assert!(half.contains(&out[0].addresses[0]), "{:?}", out[0]);
        agree(
            &mut c,
            &mut out,
            at(800),
            PRIMARY,
            4,
            &[addr(1)],
            BindingState::Active,
        );
        c.finish(at(900), &mut out);
        assert_eq!(out.len(), 1, "one report per starvation");
    }

    #[test]
    fn only_a_pair_in_normal_is_judged_and_rejected_updates_move_nothing() {
        let (mut c, mut out) = pair(Serving::HotStandby, 4);
        let all: Vec<Ipv4Addr> = (0..4).map(addr).collect();
        // A rejected BNDUPD(BACKUP) changes nobody's holding.
        let mut upd = Message::new(MessageType::BndUpd, 0, 9);
        let mut nak = Message::new(MessageType::BndAck, 0, 9);
        for &a in &all {
            upd = upd
                .with(FoOption::AssignedIpAddress(a))
                .with(FoOption::BindingStatus(BindingStatus(
                    BindingState::Backup.to_d12(),
                )));
            nak = nak
                .with(FoOption::AssignedIpAddress(a))
                .with(FoOption::RejectReason(
                    dhcpfo_engine::wire::failover::RejectReason(15),
                ));
        }
        c.failover_message(at(1), &sent(PRIMARY), &upd, &mut out);
        c.failover_message(at(1), &sent(SECONDARY), &nak, &mut out);
        c.finish(at(3600), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // The secondary holds everything, but the primary is down: nothing to judge.
        c.state(at(3600), PAIR.relationship, PRIMARY, None, &mut out);
        agree(
            &mut c,
            &mut out,
            at(3601),
            PRIMARY,
            10,
            &all,
            BindingState::Backup,
        );
        c.finish(at(9000), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // Back in NORMAL, the clock starts again.
        c.state(
            at(9000),
            PAIR.relationship,
            PRIMARY,
            Some(FoState::Normal),
            &mut out,
        );
        c.finish(at(9000 + 599), &mut out);
        assert!(out.is_empty());
        c.finish(at(9000 + 601), &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn load_balancing_wants_both_sides_supplied() {
        let (mut c, mut out) = pair(Serving::LoadBalance, 8);
        // Until the primary gives the secondary its half, the secondary has none.
        c.finish(at(300), &mut out);
        assert!(out.is_empty());
        let half: Vec<Ipv4Addr> = (4..8).map(addr).collect();
        agree(
            &mut c,
            &mut out,
            at(301),
            PRIMARY,
            1,
            &half,
            BindingState::Backup,
        );
        // The secondary's clients lease its half; one address left on each side is fine.
        agree(
            &mut c,
            &mut out,
            at(400),
            SECONDARY,
            1,
            &half[..3],
            BindingState::Active,
        );
        let mine: Vec<Ipv4Addr> = (0..3).map(addr).collect();
        agree(
            &mut c,
            &mut out,
            at(400),
            PRIMARY,
            2,
            &mine,
            BindingState::Active,
        );
        c.finish(at(3600), &mut out);
        assert!(out.is_empty(), "{out:?}");

        // A primary that never gives the secondary anything starves it.
        let (mut c, mut out) = pair(Serving::LoadBalance, 8);
        c.finish(at(601), &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].detail.contains("the secondary has had no address"),
            "{out:?}"
        );
    }

    #[test]
    fn another_relationships_messages_and_states_are_not_this_pairs() {
        // Goal: the secondary also backs a third server in relationship "other"; the updates it
        // agrees there, and its state there, say nothing about this pair's pool.
        let (mut c, mut out) = pair(Serving::HotStandby, 4);
        let other = Pair {
            relationship: RelationshipName::new("other"),
            primary: ServerName::new("third"),
            secondary: SECONDARY,
        };
        let on = |from: ServerName| sent_in(other, from);
        let mut upd = Message::new(MessageType::BndUpd, 0, 1);
        let mut ack = Message::new(MessageType::BndAck, 0, 1);
        for a in (0..4).map(addr) {
            upd = upd
                .with(FoOption::AssignedIpAddress(a))
                .with(FoOption::BindingStatus(BindingStatus(
                    BindingState::Backup.to_d12(),
                )));
            ack = ack.with(FoOption::AssignedIpAddress(a));
        }
        c.failover_message(at(1), &on(other.primary), &upd, &mut out);
        c.failover_message(at(1), &on(SECONDARY), &ack, &mut out);
        c.finish(at(3600), &mut out);
        assert!(out.is_empty(), "{out:?}");
        // The secondary goes down in "other" only: this pair stays in NORMAL, and a
        // starvation of its own is still judged.
        c.state(at(3600), other.relationship, SECONDARY, None, &mut out);
        c.failover_message(at(3601), &sent(PRIMARY), &upd, &mut out);
        c.failover_message(at(3601), &sent(SECONDARY), &ack, &mut out);
        c.finish(at(3601 + 601), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].detail.contains("relationship sim"), "{out:?}");
        assert_eq!(c.normal_periods(), 1);
    }

    #[test]
    fn microsoft_binding_states_are_read_in_their_dialect() {
        use dhcpfo_engine::wire::failover::dialect::ms_status;
        let mut c = PoolBalance::new(
            PAIR,
            Serving::HotStandby,
            Dialect::Microsoft,
            &[vec![(addr(0), addr(1))]],
            Duration::from_mins(10),
        );
        let mut out = Vec::new();
        for n in PAIR.servers() {
            c.state(T0, PAIR.relationship, n, Some(FoState::Normal), &mut out);
        }
        // MS-DHCPF §3.1.4.2: 0x2 without a lease record is BACKUP (in the ISC dialect 2 would
        // be ACTIVE, and the pair would look merely full).
        let upd = Message::new(MessageType::BndUpd, 0, 1)
            .with(FoOption::AssignedIpAddress(addr(0)))
            .with(FoOption::BindingStatus(BindingStatus(ms_status::BACKUP)))
            .with(FoOption::AssignedIpAddress(addr(1)))
            .with(FoOption::BindingStatus(BindingStatus(ms_status::BACKUP)));
        let ack = Message::new(MessageType::BndAck, 0, 1)
            .with(FoOption::AssignedIpAddress(addr(0)))
            .with(FoOption::AssignedIpAddress(addr(1)));
        c.failover_message(at(1), &sent(PRIMARY), &upd, &mut out);
        c.failover_message(at(1), &sent(SECONDARY), &ack, &mut out);
        c.finish(at(1000), &mut out);
        assert_eq!(out.len(), 1, "{out:?}");
    }
}
