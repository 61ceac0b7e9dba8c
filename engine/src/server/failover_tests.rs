//! Two servers and a tiny in-test network: failover conversations, each named after the
//! behaviour it shows, each stating its goal. Time is virtual; every message crosses the
//! network as encoded bytes with 1 ms of latency.

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};

use super::*;
use crate::bugs::Bug;
use crate::config::{AddressRange, LeaseTimes, Subnet};
use crate::failover::state::FoState;
use crate::failover::{Mode, RelationshipConfig, Role};
use crate::storage::{CrashMode, MemStorage};
use crate::time::Duration;
use crate::wire::dhcp::{DhcpMessage, DhcpOption, MessageType, Op};
use crate::wire::failover::{Dialect, Message, MessageType as Fo};

const P: usize = 0;
const S: usize = 1;
const ADDR: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2)];
const T0: u64 = 1_800_000_000;
const MCLT_S: u32 = 30;

fn relationship(role: Role, mode: Mode) -> RelationshipConfig {
    let mode = if role == Role::Secondary {
        strip_split(mode)
    } else {
        mode
    };
    RelationshipConfig {
        receive_timer_s: Some(30),
        ..RelationshipConfig::for_tests(role, mode)
    }
}

fn strip_split(mode: Mode) -> Mode {
    match mode {
        Mode::LoadBalance { max_secs, .. } => Mode::LoadBalance {
            split: None,
            hba: None,
            max_secs,
        },
        m => m,
    }
}

fn config(role: Role, mode: Mode, pool_last: u8) -> ServerConfig {
    let me = if role == Role::Primary {
        ADDR[P]
    } else {
        ADDR[S]
    };
    ServerConfig {
        server_id: me,
        lease: LeaseTimes {
            default_s: 3600,
            min_s: 10,
            max_s: 7200,
            t1_permille: 500,
            t2_permille: 875,
        },
        subnets: vec![Subnet {
            network: Ipv4Addr::new(192, 0, 2, 0),
            mask: Ipv4Addr::new(255, 255, 255, 0),
            ranges: vec![AddressRange {
                first: Ipv4Addr::new(192, 0, 2, 100),
                last: Ipv4Addr::new(192, 0, 2, pool_last),
            }],
            routers: vec![],
            dns_servers: vec![],
            domain_name: None,
        }],
        reservations: vec![],
        offer_hold_s: 60,
        failover: Some(relationship(role, mode)),
        bugs: Default::default(),
    }
}

/// One failover message seen on the wire.
#[derive(Debug, Clone)]
struct Seen {
    from: usize,
    msg: Message,
}

enum Event {
    Connected {
        node: usize,
        conn: u64,
        peer: usize,
        dir: Direction,
    },
    Bytes {
        node: usize,
        conn: u64,
        bytes: Vec<u8>,
    },
    Closed {
        node: usize,
        conn: u64,
    },
    ConnectFailed {
        node: usize,
    },
}

struct Net {
    nodes: [Option<Server<MemStorage>>; 2],
    configs: [ServerConfig; 2],
    disks: [MemStorage; 2],
    now: Time,
    queue: BTreeMap<(Time, u64), Event>,
    seq: u64,
    /// Connection id → (dialer, acceptor).
    conns: BTreeMap<u64, (usize, usize)>,
    next_conn: u64,
    partitioned: bool,
    seen: Vec<Seen>,
    dhcp_out: [VecDeque<DhcpMessage>; 2],
    clocks_s: [i64; 2],
    /// Hold what crosses a partition and deliver it on heal (TCP retransmits), instead of
    /// losing it.
    hold: bool,
    held: Vec<Event>,
    /// `run_until` gave up: the pair kept exchanging messages without end.
    looped: bool,
}

const LATENCY: Duration = Duration::from_millis(1);

impl Net {
    fn new(mode: Mode, pool_last: u8) -> Net {
        let configs = [
            config(Role::Primary, mode.clone(), pool_last),
            config(Role::Secondary, mode, pool_last),
        ];
        let now = Time::from_secs(T0);
        let mut net = Net {
            nodes: [None, None],
            configs,
            disks: [MemStorage::default(), MemStorage::default()],
            now,
            queue: BTreeMap::new(),
            seq: 0,
            conns: BTreeMap::new(),
            next_conn: 1,
            partitioned: false,
            seen: Vec::new(),
            dhcp_out: [VecDeque::new(), VecDeque::new()],
            clocks_s: [0, 0],
            hold: false,
            held: Vec::new(),
            looped: false,
        };
        net.boot(P);
        net.boot(S);
        net
    }

    fn clock(&self, node: usize) -> Time {
        let t = self.now.as_millis() as i64 + self.clocks_s[node] * 1000;
        Time::from_millis(t.max(0) as u64)
    }

    fn boot(&mut self, node: usize) {
        let mut disk = self.disks[node].clone();
        let records = disk.load().unwrap().records;
        let server =
            Server::new(self.configs[node].clone(), disk, &records, self.clock(node)).unwrap();
        self.nodes[node] = Some(server);
        self.drain(node);
    }

    /// An operator command to a node, and what it sends.
    fn admin(&mut self, node: usize, cmd: Admin) {
        let clock = self.clock(node);
        self.nodes[node].as_mut().unwrap().handle_admin(clock, cmd);
        self.drain(node);
    }

    fn node(&self, n: usize) -> &Server<MemStorage> {
        self.nodes[n].as_ref().unwrap()
    }

    fn state(&self, n: usize) -> Option<FoState> {
        self.nodes[n].as_ref().and_then(|s| s.failover_state())
    }

    fn schedule(&mut self, at: Time, e: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), e);
    }

    /// Carry out every output of a node.
    fn drain(&mut self, node: usize) {
        loop {
            let Some(server) = self.nodes[node].as_mut() else {
                return;
            };
            let Some(out) = server.poll_output() else {
                return;
            };
            let at = self.now + LATENCY;
            match out {
                Output::Dhcp(t) => {
                    self.dhcp_out[node].push_back(DhcpMessage::parse(&t.bytes).unwrap());
                }
                Output::PeerConnect { .. } => {
                    let peer = 1 - node;
                    if self.nodes[peer].is_some() && !self.partitioned {
                        let conn = self.next_conn;
                        self.next_conn += 1;
                        self.conns.insert(conn, (node, peer));
                        self.schedule(
                            at,
                            Event::Connected {
                                node,
                                conn,
                                peer,
                                dir: Direction::Dialed,
                            },
                        );
                        self.schedule(
                            at,
                            Event::Connected {
                                node: peer,
                                conn,
                                peer: node,
                                dir: Direction::Accepted,
                            },
                        );
                    } else {
                        self.schedule(at, Event::ConnectFailed { node });
                    }
                }
                Output::PeerSend { conn, bytes } => {
                    let Some(&(a, b)) = self.conns.get(&conn) else {
                        continue;
                    };
                    let to = if a == node { b } else { a };
                    if let Ok(msg) = Message::parse(&bytes, Dialect::Isc) {
                        self.seen.push(Seen { from: node, msg });
                    }
                    if !self.partitioned {
                        self.schedule(
                            at,
                            Event::Bytes {
                                node: to,
                                conn,
                                bytes,
                            },
                        );
                    }
                }
                Output::PeerClose { conn } => {
                    if let Some((a, b)) = self.conns.remove(&conn) {
                        let to = if a == node { b } else { a };
                        if !self.partitioned {
                            self.schedule(at, Event::Closed { node: to, conn });
                        } else if self.hold {
                            self.held.push(Event::Closed { node: to, conn });
                        }
                    }
                }
                Output::FailoverState { .. } => {}
            }
        }
    }

    /// Run until `until`, delivering events and firing timers in time order.
    fn run_until(&mut self, until: Time) {
        for _ in 0..1_000_000 {
            let timer = (0..2)
                .filter_map(|n| {
                    let s = self.nodes[n].as_ref()?;
                    let t = s.poll_timeout()?;
                    // Convert the node's clock back to network time.
                    let net_t = t.as_millis() as i64 - self.clocks_s[n] * 1000;
                    Some((Time::from_millis(net_t.max(0) as u64), n))
                })
                .min();
            let event_at = self.queue.first_key_value().map(|(k, _)| k.0);
            let next = match (timer, event_at) {
                (Some((t, _)), Some(e)) => t.min(e),
                (Some((t, _)), None) => t,
                (None, Some(e)) => e,
                (None, None) => {
                    self.now = until;
                    return;
                }
            };
            if next > until {
                self.now = until;
                return;
            }
            self.now = next.max(self.now);
            if event_at == Some(next) {
                let (_, e) = self.queue.pop_first().unwrap();
                self.deliver(e);
            } else if let Some((_, n)) = timer {
                let clock = self.clock(n);
                self.nodes[n].as_mut().unwrap().handle_timeout(clock);
                self.drain(n);
            }
        }
        if self.hold {
            self.looped = true;
            self.now = until;
            self.queue.clear();
            return;
        }
        panic!("the network did not settle");
    }

    fn run_for(&mut self, d: Duration) {
        let until = self.now + d;
        self.run_until(until);
    }

    fn deliver(&mut self, e: Event) {
        let node = match &e {
            Event::Connected { node, .. }
            | Event::Bytes { node, .. }
            | Event::Closed { node, .. }
            | Event::ConnectFailed { node } => *node,
        };
        let clock = self.clock(node);
        let Some(server) = self.nodes[node].as_mut() else {
            return;
        };
        match e {
            Event::Connected {
                conn, peer, dir, ..
            } => server.handle_peer_connected(clock, conn, SocketAddrV4::new(ADDR[peer], 647), dir),
            Event::Bytes { conn, bytes, .. } => server.handle_peer_bytes(clock, conn, &bytes),
            Event::Closed { conn, .. } => server.handle_peer_closed(clock, conn),
            Event::ConnectFailed { .. } => server.handle_peer_connect_failed(clock),
        }
        self.drain(node);
    }

    /// Kill a node: its unsynced storage is lost; the partner sees its connections reset.
    fn crash(&mut self, node: usize, mode: CrashMode) {
        let Some(server) = self.nodes[node].take() else {
            return;
        };
        let mut disk = server.storage().clone();
        disk.crash(mode);
        self.disks[node] = disk;
        let conns: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, (a, b))| *a == node || *b == node)
            .map(|(c, _)| *c)
            .collect();
        for c in conns {
            let (a, b) = self.conns.remove(&c).unwrap();
            let other = if a == node { b } else { a };
            if !self.partitioned {
                let at = self.now + LATENCY;
                self.schedule(
                    at,
                    Event::Closed {
                        node: other,
                        conn: c,
                    },
                );
            }
        }
    }

    /// A client message to one server; returns its replies.
    fn client(&mut self, node: usize, msg: &DhcpMessage) -> Vec<DhcpMessage> {
        let clock = self.clock(node);
        let Some(server) = self.nodes[node].as_mut() else {
            return vec![];
        };
        let rx = Received {
            src: SocketAddrV4::new(msg.ciaddr, 68),
            broadcast: msg.ciaddr.is_unspecified(),
            interface: ADDR[node],
        };
        server.handle_dhcp(clock, rx, &msg.to_bytes());
        self.drain(node);
        self.dhcp_out[node].drain(..).collect()
    }

    /// DORA against one server; the ACK, if it answered.
    fn dora(&mut self, node: usize, mac: u8) -> Option<DhcpMessage> {
        let offer = self
            .client(node, &client(mac, MessageType::Discover))
            .pop()?;
        let req = with(
            with(
                client(mac, MessageType::Request),
                DhcpOption::ServerId(ADDR[node]),
            ),
            DhcpOption::RequestedIp(offer.yiaddr),
        );
        self.client(node, &req)
            .pop()
            .filter(|m| m.message_type() == Some(MessageType::Ack))
    }

    fn renew(&mut self, node: usize, mac: u8, addr: Ipv4Addr) -> Option<DhcpMessage> {
        let mut r = client(mac, MessageType::Request);
        r.ciaddr = addr;
        self.client(node, &r).pop()
    }

    fn types_from(&self, node: usize) -> Vec<Fo> {
        self.seen
            .iter()
            .filter(|s| s.from == node)
            .map(|s| s.msg.msg_type)
            .collect()
    }
}

fn client(mac: u8, kind: MessageType) -> DhcpMessage {
    let mut m = DhcpMessage::new(Op::Request, u32::from(mac));
    m.chaddr[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, mac]);
    m.options.push(DhcpOption::MessageType(kind));
    m
}

fn with(mut m: DhcpMessage, o: DhcpOption) -> DhcpMessage {
    m.options.push(o);
    m
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn normal_pair(mode: Mode, pool_last: u8) -> Net {
    let mut net = Net::new(mode, pool_last);
    net.run_for(secs(5));
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert_eq!(net.state(S), Some(FoState::Normal));
    net.run_for(secs(1));
    net
}

fn lease_time(ack: &DhcpMessage) -> u32 {
    ack.lease_time_s().unwrap()
}

/// One direction's messages as tokens (`STATE(recover)`, `BNDUPD(FREE)`, `BNDACK`, …), with
/// runs collapsed and a repeated `BNDUPD(x) BNDACK` pair kept once: the shape of a conversation,
/// without the counts that depend on the pool size and the window.
fn shape(tokens: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens {
        if out.last() != Some(&t) {
            out.push(t);
        }
        let n = out.len();
        if n >= 4 && out[n - 4..n - 2] == out[n - 2..] {
            out.truncate(n - 2);
        }
    }
    out
}

fn our_tokens(net: &Net, from: usize) -> Vec<String> {
    net.seen
        .iter()
        .filter(|s| s.from == from)
        .map(|s| match s.msg.msg_type {
            Fo::State => format!("STATE({})", s.msg.server_state().unwrap().name()),
            Fo::BndUpd => {
                let bs = s.msg.bindings().next().and_then(|b| match b.option(3) {
                    Some(crate::wire::failover::FoOption::BindingStatus(v)) => {
                        crate::wire::failover::BindingState::from_d12(v.0)
                    }
                    _ => None,
                });
                format!("BNDUPD({})", bs.map_or("?", |s| s.name()))
            }
            t => t.name().to_string(),
        })
        .collect()
}

/// The tokens of one direction of the ISC capture's listing, up to its first CONTACT.
fn isc_tokens(src: &str) -> Vec<String> {
    let listing = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/isc-4.4.3/01-startup-to-normal.fo-msgs.txt"
    ))
    .unwrap();
    listing
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.get(1) == Some(&src))
        .map(|f| match f[4] {
            "STATE" => format!("STATE({})", f[6].trim_start_matches("state=")),
            "BNDUPD" => format!("BNDUPD({})", f[7].trim_start_matches("bs=")),
            t => t.to_string(),
        })
        .take_while(|t| t != "CONTACT")
        .collect()
}

#[test]
fn fresh_pair_reaches_normal_with_the_isc_message_sequence() {
    // Goal: two servers with empty storage go STARTUP → RECOVER → UPDREQALL both ways →
    // RECOVER-DONE → NORMAL, then the primary gives the secondary its share of the pool as
    // BACKUP — the message sequence of tests/data/isc-4.4.3/01-startup-to-normal.fo-msgs.txt,
    // direction by direction (runs of BNDUPD/BNDACK collapsed: their count follows the pool
    // size and the share).
    let net = normal_pair(Mode::HotStandby, 199);
    for (node, addr) in [(P, "192.0.2.1"), (S, "192.0.2.2")] {
        let ours: Vec<String> = shape(our_tokens(&net, node))
            .into_iter()
            .take_while(|t| t != "CONTACT")
            .collect();
        let theirs = shape(isc_tokens(addr));
        assert_eq!(ours, theirs, "messages from {addr}");
    }
    // Pool balancing: a hot-standby secondary holds its reserve, a tenth of the 100 addresses,
    // as BACKUP (ISC's capture has half: ISC has no hot standby, only a split).
    let backup = net
        .node(S)
        .leases()
        .iter()
        .filter(|b| b.state == BindingState::Backup)
        .count();
    assert_eq!(backup, 10);
    let backup_p = net
        .node(P)
        .leases()
        .iter()
        .filter(|b| b.state == BindingState::Backup)
        .count();
    assert_eq!(backup_p, 10);
}

#[test]
fn a_lease_on_the_primary_reaches_the_secondary_by_bndupd() {
    // Goal: a DORA on the primary is answered first, then sent lazily to the secondary, which
    // stores the binding; the BNDACK clears it on the primary.
    let mut net = normal_pair(Mode::HotStandby, 199);
    let ack = net.dora(P, 7).expect("the primary serves in NORMAL");
    let b = net.node(P).leases().binding(ack.yiaddr).unwrap().clone();
    assert!(b.unacked, "sent after the ACK, not yet acknowledged");
    net.run_for(secs(1));
    let on_s = net.node(S).leases().binding(ack.yiaddr).unwrap();
    assert_eq!(on_s.state, BindingState::Active);
    assert_eq!(on_s.expires_at.as_unix_secs(), b.expires_at.as_unix_secs());
    assert!(!net.node(P).leases().binding(ack.yiaddr).unwrap().unacked);
}

#[test]
fn first_lease_is_capped_at_mclt_and_renewals_get_the_full_lease_after_the_ack() {
    // Goal: draft-12 §5.2.1 — a new binding gets at most MCLT; once the partner has acked a
    // PET of now + desired + lease/2, the renewal at T1 gets the full desired time.
    let mut net = normal_pair(Mode::HotStandby, 199);
    let ack = net.dora(P, 7).unwrap();
    assert_eq!(lease_time(&ack), MCLT_S);
    net.run_for(secs(15));
    let renewed = net.renew(P, 7, ack.yiaddr).unwrap();
    assert_eq!(renewed.message_type(), Some(MessageType::Ack));
    assert_eq!(lease_time(&renewed), 3600);
}

#[test]
fn partner_crash_then_both_serve_from_their_own_pools_and_reconnect_flushes_updates() {
    // Goal: the secondary crashes → the primary goes COMMUNICATIONS-INTERRUPTED and keeps
    // serving from FREE with MCLT-limited leases; the secondary restarts, reconnects, and the
    // update queued meanwhile reaches it; both return to NORMAL.
    let mut net = normal_pair(Mode::HotStandby, 199);
    net.crash(S, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    assert_eq!(net.state(P), Some(FoState::CommunicationsInterrupted));
    let ack = net.dora(P, 9).expect("COMM-INT is responsive");
    assert_eq!(lease_time(&ack), MCLT_S, "no partner ack: MCLT");
    let addr = ack.yiaddr;
    assert_eq!(
        net.node(P).leases().binding(addr).unwrap().state,
        BindingState::Active
    );
    net.boot(S);
    net.run_for(secs(20));
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert_eq!(net.state(S), Some(FoState::Normal));
    assert_eq!(
        net.node(S).leases().binding(addr).unwrap().state,
        BindingState::Active,
        "the queued update was flushed on reconnect"
    );
}

#[test]
fn the_secondary_in_comm_interrupted_serves_from_its_backup_pool() {
    // Goal: while cut off, the secondary answers new clients from BACKUP addresses only.
    let mut net = normal_pair(Mode::HotStandby, 199);
    net.crash(P, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    assert_eq!(net.state(S), Some(FoState::CommunicationsInterrupted));
    let ack = net.dora(S, 11).expect("COMM-INT serves");
    let addr = ack.yiaddr;
    // The address was one the primary had given it.
    assert!(net.node(S).leases().binding(addr).unwrap().state == BindingState::Active);
    assert_eq!(lease_time(&ack), MCLT_S);
}

#[test]
fn partner_down_takes_the_partners_pool_only_after_mclt() {
    // Goal: draft-12 §9.4.2 — an operator declares PARTNER-DOWN on the primary; it may hand out
    // the secondary's BACKUP addresses only MCLT after entering PARTNER-DOWN.
    let mut net = normal_pair(Mode::HotStandby, 101);
    // Two addresses: one FREE (primary's), one BACKUP (secondary's).
    net.crash(S, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    net.admin(P, Admin::PartnerDown);
    assert_eq!(net.state(P), Some(FoState::PartnerDown));
    assert!(net.dora(P, 1).is_some(), "own pool at once");
    assert!(net.dora(P, 2).is_none(), "the partner's pool waits");
    net.run_for(secs(u64::from(MCLT_S)));
    assert!(
        net.dora(P, 2).is_some(),
        "after MCLT the partner's pool is ours"
    );
}

#[test]
fn restart_with_lost_storage_recovers_through_updreqall_and_recover_wait() {
    // Goal: the secondary loses its whole database → RECOVER → UPDREQALL → RECOVER-WAIT until
    // every lease its earlier life could have granted has ended (the longest lease, 7 200 s
    // here, not just the MCLT) → RECOVER-DONE → NORMAL, with the primary's bindings restored.
    let mut net = normal_pair(Mode::HotStandby, 199);
    let ack = net.dora(P, 5).unwrap();
    net.run_for(secs(1));
    net.crash(S, CrashMode::LoseEverything);
    net.run_for(secs(1));
    net.seen.clear();
    net.boot(S);
    net.run_for(secs(5));
    assert!(net.types_from(S).contains(&Fo::UpdReqAll));
    assert_eq!(net.state(S), Some(FoState::RecoverWait));
    assert_eq!(
        net.node(S).leases().binding(ack.yiaddr).unwrap().state,
        BindingState::Active,
        "learned from the primary"
    );
    net.run_for(secs(u64::from(MCLT_S)));
    assert_eq!(
        net.state(S),
        Some(FoState::RecoverWait),
        "the MCLT alone does not cover a renewal the primary never heard of"
    );
    net.run_for(secs(7200));
    assert_eq!(net.state(S), Some(FoState::Normal));
    assert_eq!(net.state(P), Some(FoState::Normal));
}

#[test]
fn partner_down_grants_reach_a_partner_waiting_in_recover_wait() {
    // Goal: the swarm's seed 5125. The secondary lost its database and waits in RECOVER-WAIT
    // with the link up while the primary, in PARTNER-DOWN, grants: each grant's BNDUPD reaches
    // the secondary at once (draft-12 §9.6, Fig 9.5.2-1), not after the pair is NORMAL again.
    // With the catalogued bug the update waits in the primary's queue.
    for bug in [false, true] {
        let mut net = pair_with(Mode::HotStandby, 199, |c| {
            if bug {
                c.bugs = c.bugs.with(Bug::PartnerDownHoldsUpdates);
            }
        });
        net.crash(S, CrashMode::LoseEverything);
        net.run_for(secs(1));
        net.admin(P, Admin::PartnerDown);
        net.boot(S);
        net.run_for(secs(5));
        assert_eq!(net.state(S), Some(FoState::RecoverWait));
        assert_eq!(net.state(P), Some(FoState::PartnerDown));
        net.seen.clear();
        let ack = net.dora(P, 9).expect("PARTNER-DOWN serves");
        net.run_for(secs(1));
        let sent = updates_from(&net, P, BindingState::Active).contains(&ack.yiaddr);
        let known = net.node(S).leases().binding(ack.yiaddr).map(|b| b.state);
        assert_eq!(sent, !bug, "bug {bug}: the grant's BNDUPD left");
        assert_eq!(
            known == Some(BindingState::Active),
            !bug,
            "bug {bug}: the recovering secondary knows the grant"
        );
    }
}

#[test]
fn a_primary_that_lost_its_storage_serves_no_new_client_until_its_earlier_leases_have_ended() {
    // Goal: flaw 2 of issue 13. The primary loses its database and restarts while the
    // secondary is cut off from it: it must not give an address to a new client before every
    // lease of its earlier life can have ended. With the catalogued bug it serves after the
    // MCLT.
    for bug in [false, true] {
        let mut net = normal_pair(Mode::HotStandby, 199);
        if bug {
            for n in [P, S] {
                net.configs[n].bugs = net.configs[n].bugs.with(Bug::LostStorageGrantsEarly);
            }
        }
        assert!(net.dora(P, 5).is_some());
        net.run_for(secs(1));
        net.crash(P, CrashMode::LoseEverything);
        net.run_for(secs(1));
        net.boot(P);
        net.run_for(secs(5));
        assert_eq!(net.state(P), Some(FoState::RecoverWait));
        net.run_for(secs(u64::from(MCLT_S) + 1));
        let served_early = net.dora(P, 6).is_some();
        assert_eq!(
            served_early, bug,
            "bug {bug}: served a new client after the MCLT"
        );
        net.run_for(secs(7200));
        assert!(
            net.dora(P, 7).is_some(),
            "bug {bug}: serves once the wait is over"
        );
    }
}

#[test]
fn a_partition_where_both_serve_heals_through_potential_conflict() {
    // Goal: both servers cut off, each in COMM-INT, an operator moves the primary to
    // PARTNER-DOWN; on heal the primary goes POTENTIAL-CONFLICT, asks with UPDREQ, gets the
    // secondary's bindings, goes CONFLICT-DONE; the secondary asks back; both reach NORMAL and
    // agree on every binding.
    let mut net = normal_pair(Mode::HotStandby, 199);
    net.partitioned = true;
    net.run_for(secs(40));
    assert_eq!(net.state(P), Some(FoState::CommunicationsInterrupted));
    assert_eq!(net.state(S), Some(FoState::CommunicationsInterrupted));
    let a = net.dora(P, 21).unwrap().yiaddr;
    let b = net.dora(S, 22).unwrap().yiaddr;
    net.admin(P, Admin::PartnerDown);
    net.partitioned = false;
    net.seen.clear();
    // The connections of before the partition are dead: the next dial after the retry timer
    // meets the partner (the 30 s leases granted in the partition are still running).
    net.run_for(secs(10));
    let types: Vec<Fo> = net.seen.iter().map(|s| s.msg.msg_type).collect();
    assert!(types.contains(&Fo::UpdReq), "{types:?}");
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert_eq!(net.state(S), Some(FoState::Normal));
    for addr in [a, b] {
        let p = net.node(P).leases().binding(addr).unwrap();
        let s = net.node(S).leases().binding(addr).unwrap();
        assert_eq!((p.state, p.client()), (s.state, s.client()), "{addr}");
        assert_eq!(p.state, BindingState::Active);
    }
}

#[test]
fn load_balancing_splits_discovers_by_hash() {
    // Goal: with split 128 each server answers the DISCOVERs whose RFC 3074 hash falls in its
    // half, and exactly one answers each.
    let mode = Mode::LoadBalance {
        split: Some(128),
        hba: None,
        max_secs: 3,
    };
    let mut net = normal_pair(mode, 199);
    let (mut by_p, mut by_s) = (0, 0);
    for mac in 1..=40u8 {
        let d = client(mac, MessageType::Discover);
        let p = net.client(P, &d).len();
        let s = net.client(S, &d).len();
        assert_eq!(p + s, 1, "exactly one server answers client {mac}");
        by_p += p;
        by_s += s;
    }
    assert!(by_p > 5 && by_s > 5, "{by_p} vs {by_s}");
    // A client that has waited past max_secs is answered by both.
    let mut d = client(1, MessageType::Discover);
    d.secs = 10;
    assert_eq!(net.client(P, &d).len() + net.client(S, &d).len(), 2);
}

#[test]
fn hot_standby_leaves_discovers_to_the_primary() {
    // Goal: in hot standby the secondary in NORMAL answers no DISCOVER.
    let mut net = normal_pair(Mode::HotStandby, 199);
    assert!(net.client(S, &client(3, MessageType::Discover)).is_empty());
    assert_eq!(net.node(S).counters().load_balanced_away, 1);
    assert_eq!(net.client(P, &client(3, MessageType::Discover)).len(), 1);
}

#[test]
fn rebalancing_gives_the_secondary_back_half_of_what_is_free() {
    // Goal: load balancing — after the secondary spends its BACKUP addresses, the primary's
    // rebalancing timer hands it half of what is free again.
    let mode = Mode::LoadBalance {
        split: Some(128),
        hba: None,
        max_secs: 3,
    };
    let mut net = normal_pair(mode, 119);
    assert_eq!(count(&net, S, BindingState::Backup), 10);
    // The secondary's pool is used up while the primary is away.
    net.crash(P, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    for mac in 30..40u8 {
        assert!(net.dora(S, mac).is_some());
    }
    assert_eq!(count(&net, S, BindingState::Backup), 0);
    net.boot(P);
    net.run_for(secs(130));
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert!(count(&net, S, BindingState::Backup) >= 4, "rebalanced");
}

fn count(net: &Net, node: usize, state: BindingState) -> usize {
    net.node(node)
        .leases()
        .iter()
        .filter(|b| b.state == state)
        .count()
}

/// A pair started afresh with `change` made to both configurations, in NORMAL, with the
/// messages of its start forgotten.
fn pair_with(mode: Mode, pool_last: u8, change: impl Fn(&mut ServerConfig)) -> Net {
    let mut net = Net::new(mode, pool_last);
    for c in &mut net.configs {
        change(c);
    }
    net.nodes = [None, None];
    net.queue.clear();
    net.conns.clear();
    net.seen.clear();
    net.boot(P);
    net.boot(S);
    net.run_for(secs(5));
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert_eq!(net.state(S), Some(FoState::Normal));
    net.run_for(secs(1));
    net.seen.clear();
    net
}

fn hoarding(c: &mut ServerConfig) {
    c.bugs = crate::bugs::Bugs::NONE.with(crate::bugs::Bug::HotStandbyHoardsBackup);
}

/// An hour's MCLT, so that first leases last an hour: no address comes back by expiring
/// while a test watches the pools.
fn long_leases(c: &mut ServerConfig) {
    if let Some(f) = c.failover.as_mut() {
        f.mclt_s = 3600;
    }
}

/// The addresses of every binding `from` sent in a BNDUPD with binding-status `state`.
fn updates_from(net: &Net, from: usize, state: BindingState) -> Vec<Ipv4Addr> {
    use crate::wire::failover::FoOption;
    net.seen
        .iter()
        .filter(|m| m.from == from && m.msg.msg_type == Fo::BndUpd)
        .flat_map(|m| m.msg.bindings())
        .filter(
            |b| matches!(b.option(3), Some(FoOption::BindingStatus(v)) if v.0 == state.to_d12()),
        )
        .map(|b| b.address)
        .collect()
}

/// The addresses-transferred of every POOLRESP `from` sent.
fn poolresps_from(net: &Net, from: usize) -> Vec<u32> {
    use crate::wire::failover::FoOption;
    net.seen
        .iter()
        .filter(|m| m.from == from && m.msg.msg_type == Fo::PoolResp)
        .map(|m| {
            match m
                .msg
                .option(crate::wire::failover::option::code::ADDRESSES_TRANSFERRED)
            {
                Some(FoOption::AddressesTransferred(n)) => *n,
                _ => u32::MAX,
            }
        })
        .collect()
}

/// DORA against `node` with client after client from `macs`, waiting a little between tries
/// when the pool is momentarily empty; how many got a lease.
fn lease_all(net: &mut Net, node: usize, macs: std::ops::RangeInclusive<u8>) -> usize {
    let mut leased = 0;
    for mac in macs {
        // Bound: a few tries per client, each after a rebalancing gap.
        for _ in 0..4 {
            if net.dora(node, mac).is_some() {
                leased += 1;
                break;
            }
            net.run_for(secs(6));
        }
        net.run_for(Duration::from_millis(10));
    }
    leased
}

#[test]
fn hot_standby_secondary_returns_surplus_backup() {
    // Goal: draft-12.md §7.1 — a hot-standby secondary that holds half the pool (as the flaw
    // left it) returns all but its reserve, a tenth, once both run without the flaw: BNDUPD
    // (FREE) from the secondary, durable before it is sent, and never used by the secondary
    // again.
    let mut net = pair_with(Mode::HotStandby, 199, hoarding);
    assert_eq!(count(&net, S, BindingState::Backup), 50, "the flaw: half");
    // The upgrade, one server at a time: first the primary (which resends the gifts whose
    // acknowledgement it did not keep), then the secondary.
    for n in [P, S] {
        net.configs[n].bugs = crate::bugs::Bugs::NONE;
        net.crash(n, CrashMode::LoseUnsynced);
        net.run_for(secs(1));
        net.seen.clear();
        net.boot(n);
        net.run_for(secs(10));
    }
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert_eq!(net.state(S), Some(FoState::Normal));
    let returned = updates_from(&net, S, BindingState::Free);
    assert_eq!(returned.len(), 40);
    assert!(
        updates_from(&net, P, BindingState::Backup).is_empty(),
        "nothing given back"
    );
    assert_eq!(count(&net, S, BindingState::Backup), 10);
    assert_eq!(
        count(&net, P, BindingState::Backup),
        10,
        "the primary agrees"
    );
    for &a in &returned {
        assert_eq!(
            net.node(P).leases().binding(a).unwrap().state,
            BindingState::Free
        );
    }
    // Durable: the secondary restarted from what it synced still has them FREE.
    net.crash(S, CrashMode::LoseUnsynced);
    net.boot(S);
    for &a in &returned {
        assert_eq!(
            net.node(S).leases().binding(a).unwrap().state,
            BindingState::Free
        );
    }
    // Never used again: cut off from the primary, the secondary serves its reserve and no
    // more, and none of what it returned.
    net.run_for(secs(10));
    net.crash(P, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    assert_eq!(net.state(S), Some(FoState::CommunicationsInterrupted));
    for mac in 1..=10u8 {
        let ack = net.dora(S, mac).expect("the reserve serves");
        assert!(!returned.contains(&ack.yiaddr));
    }
    assert!(net.dora(S, 11).is_none(), "the reserve is all it has");
}

#[test]
fn hot_standby_primary_serves_every_address_of_the_pool() {
    // Goal: the liveness failure — in hot standby, with no fault, the primary leases
    // every address of the pool: the secondary hands back its reserve as the pool runs out,
    // down to the last address. With the hoarding flaw the primary runs dry at half.
    let mut net = pair_with(Mode::HotStandby, 119, long_leases);
    assert_eq!(count(&net, S, BindingState::Backup), 2);
    assert_eq!(lease_all(&mut net, P, 1..=20), 20);
    net.run_for(secs(10));
    assert_eq!(count(&net, S, BindingState::Backup), 0);
    assert_eq!(count(&net, P, BindingState::Active), 20);

    let mut net = pair_with(Mode::HotStandby, 119, |c| {
        long_leases(c);
        hoarding(c);
    });
    assert_eq!(lease_all(&mut net, P, 1..=20), 10);
    assert_eq!(count(&net, S, BindingState::Backup), 10);
}

#[test]
fn load_balance_pools_converge_without_ping_pong() {
    // Goal: bug-catalogue I14 — the primary's clients use up most of its half; the secondary
    // returns the difference once (BNDUPD FREE), the halves are even again within the
    // misbalance threshold, and for the next half hour not one address moves either way.
    let mode = Mode::LoadBalance {
        split: Some(128),
        hba: None,
        max_secs: 3,
    };
    let mut net = pair_with(mode, 199, long_leases);
    assert_eq!(count(&net, S, BindingState::Backup), 50);
    let mut leased = 0;
    for mac in 1..=255u8 {
        if leased == 40 {
            break;
        }
        if net.dora(P, mac).is_some() {
            leased += 1;
        }
    }
    assert_eq!(leased, 40, "the primary's clients");
    net.run_for(secs(120));
    let (free, backup) = (
        count(&net, P, BindingState::Free),
        count(&net, P, BindingState::Backup),
    );
    assert_eq!(free + backup, 60);
    assert!(free.abs_diff(backup) <= 2, "{free} FREE vs {backup} BACKUP");
    assert_eq!(updates_from(&net, S, BindingState::Free).len(), 20);
    assert_eq!(net.node(S).counters().pool_moves, 20);
    assert_eq!(net.node(P).counters().pool_moves, 50, "only the first gift");
    net.seen.clear();
    net.run_for(secs(1800));
    assert!(updates_from(&net, S, BindingState::Free).is_empty());
    assert!(updates_from(&net, P, BindingState::Backup).is_empty());
    assert!(!net.types_from(P).contains(&Fo::PoolReq));
    assert!(!net.types_from(S).contains(&Fo::PoolReq));
}

#[test]
fn poolreq_from_either_role_is_answered() {
    // Goal: draft-12.md §7.1 (ISC) — whichever side runs low asks with POOLREQ, and the other
    // answers with a balance of its own and POOLRESP(addresses moved), in either role.
    // A hot-standby primary running out asks the secondary for its surplus.
    let mut net = pair_with(Mode::HotStandby, 119, long_leases);
    assert_eq!(lease_all(&mut net, P, 1..=8), 8);
    net.run_for(secs(1));
    assert!(net.types_from(P).contains(&Fo::PoolReq));
    let answers = poolresps_from(&net, S);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0] >= 1, "{answers:?}");
    assert_eq!(
        updates_from(&net, S, BindingState::Free).len() as u32,
        answers[0]
    );

    // A load-balancing secondary that spent its half asks the primary for more.
    let mode = Mode::LoadBalance {
        split: Some(128),
        hba: None,
        max_secs: 3,
    };
    let mut net = pair_with(mode, 119, long_leases);
    // Past the secondary's last balancing pass by the gap, so that it may ask at once.
    net.run_for(secs(6));
    let mut leased = 0;
    for mac in 1..=255u8 {
        if leased == 10 {
            break;
        }
        if net.dora(S, mac).is_some() {
            leased += 1;
        }
    }
    assert_eq!(leased, 10);
    assert_eq!(count(&net, S, BindingState::Backup), 0);
    net.run_for(secs(1));
    assert!(net.types_from(S).contains(&Fo::PoolReq));
    let answers = poolresps_from(&net, P);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert!(answers[0] >= 1, "{answers:?}");
    assert_eq!(count(&net, S, BindingState::Backup), answers[0] as usize);
}

#[test]
fn microsoft_dialect_balances_without_poolreq() {
    // Goal: MS-DHCPF §3.2.5.2 and §3.3.5.2 drop POOLREQ and POOLRESP, so neither is sent;
    // the secondary still returns its surplus by BNDUPD, and the primary leases the whole pool.
    let mut net = pair_with(Mode::HotStandby, 119, |c| {
        long_leases(c);
        if let Some(f) = c.failover.as_mut() {
            f.dialect = crate::failover::DialectName::Microsoft;
        }
    });
    assert_eq!(lease_all(&mut net, P, 1..=20), 20);
    for n in [P, S] {
        assert_eq!(net.node(n).counters().pool_requests, 0);
    }
    assert!(net.node(S).counters().pool_moves >= 2);
}

#[test]
fn a_wrong_relationship_name_is_rejected_with_reason_8() {
    // Goal: draft-12 §7.8.2 — the secondary refuses a CONNECT naming another relationship.
    let mut net = Net::new(Mode::HotStandby, 199);
    if let Some(f) = net.configs[P].failover.as_mut() {
        f.name = "other".into();
    }
    net.nodes[P] = None;
    net.boot(P);
    net.run_for(secs(3));
    let reject = net
        .seen
        .iter()
        .find(|s| s.msg.msg_type == Fo::ConnectAck)
        .expect("a CONNECTACK");
    assert_eq!(
        reject.msg.reject_reason(),
        Some(crate::wire::failover::RejectReason(8))
    );
    assert_ne!(net.state(S), Some(FoState::Normal));
}

#[test]
fn a_clock_skew_of_120_s_is_rejected_with_reason_4() {
    // Goal: draft-12 §7.8.2 / ISC's 60 s limit — a primary 120 s ahead is refused.
    let mut net = Net::new(Mode::HotStandby, 199);
    net.clocks_s[P] = 120;
    net.nodes = [None, None];
    net.boot(P);
    net.boot(S);
    net.run_for(secs(3));
    let reject = net
        .seen
        .iter()
        .find(|s| s.msg.msg_type == Fo::ConnectAck)
        .expect("a CONNECTACK");
    assert_eq!(
        reject.msg.reject_reason(),
        Some(crate::wire::failover::RejectReason(4))
    );
    assert_ne!(net.state(S), Some(FoState::Normal));
}

#[test]
fn a_missing_or_wrong_digest_drops_the_connection() {
    // Goal: MS-DHCPF §3.1.5 — with a shared secret, a peer without it (or with another) never
    // gets past CONNECT; with the same secret the pair reaches NORMAL.
    for (p_secret, s_secret, ok) in [
        (Some("s3cret"), Some("s3cret"), true),
        (None, Some("s3cret"), false),
        (Some("other"), Some("s3cret"), false),
    ] {
        let mut net = Net::new(Mode::HotStandby, 199);
        net.configs[P].failover.as_mut().unwrap().shared_secret = p_secret.map(String::from);
        net.configs[S].failover.as_mut().unwrap().shared_secret = s_secret.map(String::from);
        net.nodes = [None, None];
        net.boot(P);
        net.boot(S);
        net.run_for(secs(5));
        assert_eq!(
            net.state(S) == Some(FoState::Normal),
            ok,
            "{p_secret:?} vs {s_secret:?}"
        );
        if !ok {
            assert!(net.node(S).counters().peer_bad_digest > 0);
        }
    }
}

#[test]
fn an_active_update_without_its_pet_is_rejected_with_3_unless_incomplete_updates_are_taken() {
    // Goal: draft-12 §7.1.3 — "If the BNDUPD lacks information ⇒ reject 3", for every BNDUPD.
    // A sloppy partner's ACTIVE for the primary's own client, with a later lease end but no
    // potential-expiration-time, is rejected with 3 and changes nothing; with the catalogued
    // bug `accept-incomplete-update` it is acknowledged without a reject (and its lease end
    // taken).
    use crate::failover::messages;
    use crate::lease::{Binding, HwAddr};
    use crate::wire::failover::{FoOption, RejectReason};
    const SLOPPY_XID: u32 = 0xf0f0_0000;
    for bug in [false, true] {
        let mut net = pair_with(Mode::HotStandby, 199, |c| {
            if bug {
                c.bugs = crate::bugs::Bugs::NONE.with(Bug::AcceptIncompleteUpdate);
            }
        });
        let ack = net.dora(P, 7).expect("the primary serves in NORMAL");
        net.run_for(secs(2));
        let conn = net
            .node(P)
            .relationship()
            .and_then(|r| r.established())
            .map(|l| l.conn)
            .expect("an established link");
        let before = net.node(P).leases().binding(ack.yiaddr).unwrap().clone();
        let at = net.clock(S);
        let mut b = Binding::new(ack.yiaddr, BindingState::Active);
        b.hw = Some(HwAddr {
            htype: 1,
            addr: vec![0x02, 0, 0, 0, 0, 7],
        });
        let end = before.expires_at + secs(600);
        (b.cltt, b.state_since, b.expires_at) = (at, at, end);
        let mut upd = messages::bndupd(
            at.as_unix_secs(),
            SLOPPY_XID,
            &[(&b, end, Ipv4Addr::new(255, 255, 255, 0))],
            Dialect::Isc,
        );
        upd.options
            .retain(|o| !matches!(o, FoOption::PotentialExpirationTime(_)));
        net.deliver(Event::Bytes {
            node: P,
            conn,
            bytes: messages::encode(&upd, None),
        });
        let answer = net
            .seen
            .iter()
            .find(|s| s.from == P && s.msg.msg_type == Fo::BndAck && s.msg.xid == SLOPPY_XID)
            .map(|s| messages::decode_bndack(&s.msg))
            .expect("the update is answered");
        let after = net.node(P).leases().binding(ack.yiaddr).unwrap();
        if bug {
            assert_eq!(
                answer,
                [(ack.yiaddr, None)],
                "acknowledged without a reject"
            );
            assert_eq!(after.expires_at, end, "its lease end was taken");
        } else {
            assert_eq!(
                answer,
                [(ack.yiaddr, Some(RejectReason::MISSING_BINDING_INFORMATION))]
            );
            assert_eq!(after, &before, "nothing changed");
        }
    }
}

#[test]
fn a_forged_release_drops_the_connection_unless_digests_go_unchecked() {
    // Goal: MS-DHCPF §3.1.5 — on an established, signed link, a BNDUPD from someone without
    // the secret (one saying client 7 released its address, signed with another key) closes
    // the connection and changes nothing. With the catalogued bug `accept-bad-digest` the
    // primary takes it for its partner's word: the address goes FREE while client 7 still
    // holds it, the BNDACK goes back on the link, and the secondary ignores that answer to a
    // BNDUPD it never sent.
    use crate::failover::messages;
    use crate::lease::{Binding, HwAddr};
    const FORGED_XID: u32 = 0xf0f0_0000;
    for bug in [false, true] {
        let mut net = pair_with(Mode::HotStandby, 199, |c| {
            if let Some(f) = c.failover.as_mut() {
                f.dialect = crate::failover::DialectName::Microsoft;
                f.shared_secret = Some("s3cret".into());
            }
            if bug {
                c.bugs = crate::bugs::Bugs::NONE.with(Bug::AcceptBadDigest);
            }
        });
        let ack = net.dora(P, 7).expect("the primary serves in NORMAL");
        net.run_for(secs(2));
        let link = |net: &Net| {
            net.node(P)
                .relationship()
                .and_then(|r| r.established())
                .map(|l| l.conn)
        };
        let conn = link(&net).expect("an established link");
        // What a real release through the secondary would say, a couple of seconds later.
        let at = net.clock(S);
        let mut b = Binding::new(ack.yiaddr, BindingState::Released);
        b.hw = Some(HwAddr {
            htype: 1,
            addr: vec![0x02, 0, 0, 0, 0, 7],
        });
        (b.cltt, b.state_since, b.expires_at) = (at, at, at);
        let mask = Ipv4Addr::new(255, 255, 255, 0);
        let forged = messages::bndupd(
            at.as_unix_secs(),
            FORGED_XID,
            &[(&b, at, mask)],
            Dialect::Microsoft,
        );
        let bytes = messages::encode(&forged, Some(b"attacker"));
        net.deliver(Event::Bytes {
            node: P,
            conn,
            bytes,
        });
        assert_eq!(net.node(P).counters().peer_bad_digest, 1, "bug: {bug}");
        let state = net.node(P).leases().binding(ack.yiaddr).unwrap().state;
        let answered = net
            .seen
            .iter()
            .any(|s| s.from == P && s.msg.msg_type == Fo::BndAck && s.msg.xid == FORGED_XID);
        if bug {
            assert_eq!(state, BindingState::Free, "the forged release was applied");
            assert!(answered, "the forged BNDUPD was acknowledged");
            assert_eq!(link(&net), Some(conn), "the link stays up");
        } else {
            assert_eq!(state, BindingState::Active, "nothing changed");
            assert!(!answered);
            assert_eq!(link(&net), None, "the connection was dropped");
        }
        // Either way the pair goes on: reconnected after MS-DHCPF's one-minute retry, or
        // undisturbed by the stray BNDACK.
        net.run_for(secs(90));
        assert_eq!(net.state(P), Some(FoState::Normal), "bug: {bug}");
        assert_eq!(net.state(S), Some(FoState::Normal), "bug: {bug}");
    }
}

/// Regression tests from an independent review of the first cut: each reproduces a bug that
/// was found and fixed.
mod review {
    use super::*;

    fn ack_of(msgs: Vec<DhcpMessage>) -> Option<DhcpMessage> {
        msgs.into_iter()
            .find(|m| m.message_type() == Some(MessageType::Ack))
    }

    fn dora_with(
        net: &mut Net,
        node: usize,
        mac: u8,
        secs_field: u16,
        asked: Option<Ipv4Addr>,
        lease: Option<u32>,
    ) -> Option<DhcpMessage> {
        let mut d = client(mac, MessageType::Discover);
        d.secs = secs_field;
        if let Some(a) = asked {
            d = with(d, DhcpOption::RequestedIp(a));
        }
        let offer = net.client(node, &d).pop()?;
        let mut req = with(
            with(
                client(mac, MessageType::Request),
                DhcpOption::ServerId(ADDR[node]),
            ),
            DhcpOption::RequestedIp(offer.yiaddr),
        );
        req.secs = secs_field;
        if let Some(l) = lease {
            req = with(req, DhcpOption::LeaseTime(l));
        }
        ack_of(net.client(node, &req))
    }

    fn init_reboot(net: &mut Net, node: usize, mac: u8, addr: Ipv4Addr) -> Vec<DhcpMessage> {
        let r = with(
            client(mac, MessageType::Request),
            DhcpOption::RequestedIp(addr),
        );
        net.client(node, &r)
    }

    fn release(net: &mut Net, node: usize, mac: u8, addr: Ipv4Addr) {
        let mut r = with(
            client(mac, MessageType::Release),
            DhcpOption::ServerId(ADDR[node]),
        );
        r.ciaddr = addr;
        net.client(node, &r);
    }

    fn renew_with(
        net: &mut Net,
        node: usize,
        mac: u8,
        addr: Ipv4Addr,
        lease: Option<u32>,
    ) -> Option<DhcpMessage> {
        let mut r = client(mac, MessageType::Request);
        r.ciaddr = addr;
        if let Some(l) = lease {
            r = with(r, DhcpOption::LeaseTime(l));
        }
        net.client(node, &r).pop()
    }

    /// A: the secondary keeps the client on an address that went FREE (the primary's pool) and
    /// may_lease lets that client have it back: no fault needed.
    #[test]
    fn review_a_secondary_regrants_a_free_address_to_its_old_client() {
        // Four addresses: with two, pool balancing would hand the expired one to the
        // secondary as its reserve.
        let mut net = normal_pair(Mode::HotStandby, 103);
        let x = net.dora(P, 1).expect("P serves").yiaddr;
        net.run_for(secs(1));
        net.run_for(secs(40)); // A's 30 s lease runs out on both
        let on_s = net.node(S).leases().binding(x).unwrap().clone();
        eprintln!(
            "S after expiry: {:?} client {:?}",
            on_s.state,
            on_s.client()
        );
        // Client 2 asks for x, which P would otherwise keep for later (least recently used
        // first).
        let b2 = dora_with(&mut net, P, 2, 0, Some(x), None).expect("P re-allocates x");
        assert_eq!(b2.yiaddr, x);
        // Client 1 reboots and asks for its old address; the secondary answers first.
        let r = init_reboot(&mut net, S, 1, x);
        let got = r
            .iter()
            .find(|m| m.message_type() == Some(MessageType::Ack));
        net.run_for(secs(1));
        eprintln!(
            "S replied {:?}; P={:?} S={:?}",
            r.iter().map(|m| m.message_type()).collect::<Vec<_>>(),
            net.node(P)
                .leases()
                .binding(x)
                .map(|b| (b.state, b.client())),
            net.node(S)
                .leases()
                .binding(x)
                .map(|b| (b.state, b.client()))
        );
        assert!(
            got.is_none(),
            "DUPLICATE: client 2 holds {x} from P, client 1 got an ACK for it from S"
        );
    }

    /// B: rewind after the BNDUPD(RELEASED) was sent and accepted: the secondary gives the
    /// released address back to its client while the primary has already reused it.
    #[test]
    fn review_b_rewind_after_bndupd_sent() {
        let mode = Mode::LoadBalance {
            split: Some(256),
            hba: None,
            max_secs: 3,
        };
        let mut net = normal_pair(mode, 101);
        let y = net.dora(P, 3).expect("P").yiaddr;
        let x = dora_with(&mut net, S, 1, 10, None, None)
            .expect("S serves a waited client")
            .yiaddr;
        assert_ne!(x, y);
        net.run_for(secs(1));
        release(&mut net, S, 1, x);
        net.partitioned = true; // the BNDUPD(RELEASED) is on its way; its BNDACK is lost
        net.run_for(Duration::from_millis(10));
        eprintln!(
            "P's view of x: {:?}",
            net.node(P).leases().binding(x).map(|b| b.state)
        );
        let b2 = net.dora(P, 2).expect("P reuses x");
        assert_eq!(b2.yiaddr, x);
        let again = dora_with(&mut net, S, 1, 10, None, None);
        eprintln!("S gave client 1: {:?}", again.as_ref().map(|m| m.yiaddr));
        assert!(
            again.is_none_or(|m| m.yiaddr != x),
            "DUPLICATE: {x} held by client 2 (P) and client 1 (S)"
        );
    }

    /// C: in PARTNER-DOWN a client that names an address gets the partner's pool at once.
    #[test]
    fn review_c_partner_down_requested_address_skips_the_mclt_wait() {
        let mut net = normal_pair(Mode::HotStandby, 101);
        net.partitioned = true;
        net.run_for(secs(40));
        assert_eq!(net.state(S), Some(FoState::CommunicationsInterrupted));
        net.admin(S, Admin::PartnerDown);
        assert_eq!(net.state(S), Some(FoState::PartnerDown));
        let y = net
            .dora(P, 1)
            .expect("P in COMM-INT serves its FREE address")
            .yiaddr;
        let got = dora_with(&mut net, S, 2, 0, Some(y), None);
        eprintln!(
            "S in PARTNER-DOWN gave {:?} right away",
            got.as_ref().map(|m| m.yiaddr)
        );
        assert!(
            got.is_none_or(|m| m.yiaddr != y),
            "DUPLICATE: {y} from the partner's pool before entry+MCLT"
        );
    }

    /// D: a BNDACK for an older BNDUPD marks the newer sent PET as acknowledged.
    #[test]
    fn review_d_ack_of_old_update_acks_newer_pet() {
        let mut net = normal_pair(Mode::HotStandby, 101);
        let x = dora_with(&mut net, P, 1, 0, None, Some(10))
            .expect("P")
            .yiaddr;
        let r = renew_with(&mut net, P, 1, x, Some(7200)).unwrap();
        assert_eq!(r.message_type(), Some(MessageType::Ack));
        // The path breaks between the two BNDUPDs: drop the second in transit.
        let last = net
            .queue
            .iter()
            .filter(|(_, e)| matches!(e, Event::Bytes { node, .. } if *node == S))
            .map(|(k, _)| *k)
            .max()
            .unwrap();
        net.queue.remove(&last);
        net.run_for(Duration::from_millis(10));
        net.partitioned = true;
        let b = net.node(P).leases().binding(x).unwrap().clone();
        let s_pet = net.node(S).leases().binding(x).unwrap().received_pet;
        eprintln!(
            "P acked_pet={:?} sent_pet={:?}; S knows PET {:?}",
            b.acked_pet, b.sent_pet, s_pet
        );
        net.run_for(secs(5));
        let r = renew_with(&mut net, P, 1, x, Some(7200)).unwrap();
        let lease = lease_time(&r);
        let end = u64::from(net.now.as_unix_secs()) + u64::from(lease);
        eprintln!(
            "renewal lease {lease}s ends {end}; S's PET + MCLT = {}",
            u64::from(s_pet.as_unix_secs()) + u64::from(MCLT_S)
        );
        // S goes PARTNER-DOWN and reuses x after its MCLT waits.
        net.run_for(secs(40));
        net.admin(S, Admin::PartnerDown);
        assert_eq!(net.state(S), Some(FoState::PartnerDown));
        net.dora(S, 3); // S's own BACKUP address
        net.run_for(secs(35));
        let got = net.dora(S, 2);
        eprintln!(
            "S gave client 2 {:?} at {}",
            got.as_ref().map(|m| m.yiaddr),
            net.now.as_unix_secs()
        );
        assert!(
            end <= u64::from(s_pet.as_unix_secs()) + u64::from(MCLT_S),
            "MCLT VIOLATION: lease to {end} > partner PET + MCLT"
        );
    }

    /// E: a paused (or shut down) server comes back to PAUSED after a restart and stays there.
    #[test]
    fn review_e_paused_restart_is_stuck() {
        let mut net = normal_pair(Mode::HotStandby, 199);
        net.admin(S, Admin::Pause);
        net.run_for(secs(1));
        net.crash(S, CrashMode::LoseUnsynced);
        net.run_for(secs(1));
        net.boot(S);
        net.run_for(secs(600));
        eprintln!("P={:?} S={:?}", net.state(P), net.state(S));
        assert_eq!(
            net.state(S),
            Some(FoState::Normal),
            "S never leaves {:?}",
            net.state(S)
        );
    }

    /// F: after a refused handshake nobody dials again (clock fixed later).
    #[test]
    fn review_f_no_reconnect_after_a_refused_handshake() {
        let mut net = Net::new(Mode::HotStandby, 199);
        net.clocks_s[P] = 120;
        net.nodes = [None, None];
        net.boot(P);
        net.boot(S);
        net.run_for(secs(30));
        // NTP fixes the clock.
        net.clocks_s[P] = 0;
        let before = net.seen.len();
        net.run_for(secs(600));
        eprintln!(
            "messages after the fix: {}; P={:?} S={:?}",
            net.seen.len() - before,
            net.state(P),
            net.state(S)
        );
        assert_eq!(net.state(P), Some(FoState::Normal));
    }
}

mod review_g {
    use super::*;
    /// G: both in PARTNER-DOWN, the secondary restarts: RECOVER's UPDREQ is answered while the
    /// secondary is already in POTENTIAL-CONFLICT, its UPDDONE ends POTENTIAL-CONFLICT early,
    /// and the pair oscillates NORMAL <-> POTENTIAL-CONFLICT <-> CONFLICT-DONE forever.
    #[test]
    fn review_g_potential_conflict_livelock_after_restart_in_partner_down() {
        let mut net = normal_pair(Mode::HotStandby, 199);
        net.partitioned = true;
        net.run_for(secs(40));
        for n in [S, P] {
            net.admin(n, Admin::PartnerDown);
            net.run_for(secs(1));
        }
        assert_eq!(net.state(P), Some(FoState::PartnerDown));
        assert_eq!(net.state(S), Some(FoState::PartnerDown));
        net.crash(S, CrashMode::LoseUnsynced);
        net.crash(P, CrashMode::LoseUnsynced);
        net.partitioned = false;
        net.run_for(secs(30));
        net.boot(P);
        net.boot(S);
        let before = net.seen.len();
        net.run_for(Duration::from_millis(200));
        let n = net.seen.len() - before;
        let states: Vec<String> = net.seen[before..]
            .iter()
            .filter(|s| s.msg.msg_type == Fo::State)
            .take(30)
            .map(|s| {
                format!(
                    "{}:{}",
                    if s.from == P { "P" } else { "S" },
                    s.msg.server_state().unwrap().name()
                )
            })
            .collect();
        eprintln!(
            "{n} failover messages in 200 ms; STATEs: {states:?}; now P={:?} S={:?}",
            net.state(P),
            net.state(S)
        );
        assert!(n < 200, "message storm");
    }
}
/// Random client traffic, partitions, crashes and operator commands against a pair, checking
/// after every step that no two clients hold an unexpired lease on one address (ground truth:
/// the ACKs the test's clients received) and, at the end, that the healed pair reaches NORMAL.
mod review_random {
    use super::*;

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const CLIENTS: usize = 12;

    fn heal(net: &mut Net) {
        net.partitioned = false;
        let at = net.now + LATENCY;
        for e in std::mem::take(&mut net.held) {
            net.schedule(at, e);
        }
    }

    /// Returns the first violation found, as text.
    fn run_seed(seed: u64, steps: usize, allow_admin: bool, log: bool) -> Option<String> {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mode = Mode::LoadBalance {
            split: Some(128),
            hba: None,
            max_secs: 3,
        };
        let mut net = Net::new(mode, 107);
        net.hold = true;
        net.run_for(secs(6));
        // client mac -> (addr, expiry ms, from node)
        let mut lease: [Option<(Ipv4Addr, u64, usize, usize)>; CLIENTS] = [None; CLIENTS];
        let mut last: [Option<Ipv4Addr>; CLIENTS] = [None; CLIENTS];
        let mut down: [bool; 2] = [false, false];
        for step in 0..steps {
            let now_ms = net.now.as_millis();
            let c = rng.below(CLIENTS as u64) as usize;
            let mac = c as u8 + 1;
            let node = rng.below(2) as usize;
            let asked_lease = match rng.below(3) {
                0 => None,
                1 => Some(60),
                _ => Some(20),
            };
            let secs_field = if rng.below(3) == 0 { 10 } else { 0 };
            let action = rng.below(100);
            let mut what = String::new();
            let mut got: Option<DhcpMessage> = None;
            let mut nak = false;
            if action < 25 {
                if !down[node] {
                    let asked = if rng.below(2) == 0 { last[c] } else { None };
                    let mut d = client(mac, MessageType::Discover);
                    d.secs = secs_field;
                    if let Some(a) = asked {
                        d = with(d, DhcpOption::RequestedIp(a));
                    }
                    if let Some(offer) = net.client(node, &d).pop() {
                        let mut req = with(
                            with(
                                client(mac, MessageType::Request),
                                DhcpOption::ServerId(ADDR[node]),
                            ),
                            DhcpOption::RequestedIp(offer.yiaddr),
                        );
                        req.secs = secs_field;
                        if let Some(l) = asked_lease {
                            req = with(req, DhcpOption::LeaseTime(l));
                        }
                        let r = net.client(node, &req);
                        got = r
                            .iter()
                            .find(|m| m.message_type() == Some(MessageType::Ack))
                            .cloned();
                        nak = r.iter().any(|m| m.message_type() == Some(MessageType::Nak));
                    }
                    lease[c] = None; // INIT: the client gave up any old lease
                    what = format!("DORA c{mac}@{node}");
                }
            } else if action < 45 {
                if let Some((a, exp, _, _)) = lease[c]
                    && exp > now_ms
                    && !down[node]
                {
                    let mut r = client(mac, MessageType::Request);
                    r.ciaddr = a;
                    if let Some(l) = asked_lease {
                        r = with(r, DhcpOption::LeaseTime(l));
                    }
                    let rep = net.client(node, &r);
                    got = rep
                        .iter()
                        .find(|m| m.message_type() == Some(MessageType::Ack))
                        .cloned();
                    nak = rep
                        .iter()
                        .any(|m| m.message_type() == Some(MessageType::Nak));
                    what = format!("RENEW c{mac}@{node} {a}");
                }
            } else if action < 55 {
                if let Some(a) = last[c]
                    && !down[node]
                {
                    let mut r = with(
                        client(mac, MessageType::Request),
                        DhcpOption::RequestedIp(a),
                    );
                    if let Some(l) = asked_lease {
                        r = with(r, DhcpOption::LeaseTime(l));
                    }
                    let rep = net.client(node, &r);
                    got = rep
                        .iter()
                        .find(|m| m.message_type() == Some(MessageType::Ack))
                        .cloned();
                    nak = rep
                        .iter()
                        .any(|m| m.message_type() == Some(MessageType::Nak));
                    if got.is_none() && !nak { /* silence: client keeps trying later */ }
                    what = format!("REBOOT c{mac}@{node} {a}");
                }
            } else if action < 62 {
                if let Some((a, exp, from, _)) = lease[c]
                    && exp > now_ms
                {
                    // release to the server that granted it
                    if !down[from] {
                        let mut r = with(
                            client(mac, MessageType::Release),
                            DhcpOption::ServerId(ADDR[from]),
                        );
                        r.ciaddr = a;
                        net.client(from, &r);
                    }
                    lease[c] = None;
                    what = format!("RELEASE c{mac}@{from} {a}");
                }
            } else if action < 67 {
                if net.partitioned {
                    heal(&mut net);
                    what = "HEAL".into();
                } else {
                    net.partitioned = true;
                    what = "PARTITION".into();
                }
            } else if action < 70 {
                if down[node] {
                    if !(net.partitioned && net.state(1 - node) == Some(FoState::PartnerDown)) {
                        net.boot(node);
                        down[node] = false;
                        what = format!("BOOT {node}");
                    }
                } else {
                    net.crash(node, CrashMode::LoseUnsynced);
                    down[node] = true;
                    what = format!("CRASH {node}");
                }
            } else if action < 72 && allow_admin {
                let safe_only = std::env::var("RV_UNSAFE_ADMIN").is_err();
                if !down[node]
                    && (down[1 - node] || !safe_only)
                    && net.state(node) == Some(FoState::CommunicationsInterrupted)
                {
                    net.admin(node, Admin::PartnerDown);
                    what = format!("PARTNER-DOWN on {node}");
                }
            } else {
                let d = rng.below(30_000);
                net.run_for(Duration::from_millis(d));
                what = format!("WAIT {d}ms");
            }
            if nak {
                lease[c] = None;
            }
            if let Some(ack) = got {
                let l = u64::from(ack.lease_time_s().unwrap_or(0));
                let now_ms = net.now.as_millis();
                lease[c] = Some((ack.yiaddr, now_ms + l * 1000, node, step));
                last[c] = Some(ack.yiaddr);
                what = format!("{what} -> ACK {} {l}s", ack.yiaddr);
                for (o, other) in lease.iter().enumerate() {
                    if o != c
                        && let Some((a, exp, from, st)) = other
                        && *a == ack.yiaddr
                        && *exp > now_ms
                    {
                        let view = |n: usize| {
                            net.nodes[n]
                                .as_ref()
                                .and_then(|s| s.leases().binding(*a))
                                .map(|b| (b.state, b.client(), b.expires_at, b.unacked))
                        };
                        return Some(format!(
                            "seed {seed} step {step}: {what}: c{} also holds {a} until +{}s (granted by node {from} at step {st}); states P={:?} S={:?}; P has {:?}; S has {:?}",
                            o + 1,
                            (exp - now_ms) / 1000,
                            net.state(P),
                            net.state(S),
                            view(P),
                            view(S)
                        ));
                    }
                }
            }
            if net.looped {
                return Some(format!(
                    "seed {seed} step {step}: LIVELOCK (message storm) after {what}; P={:?} S={:?}",
                    net.state(P),
                    net.state(S)
                ));
            }
            if log && std::env::var("RV_ADDR").is_ok() {
                let a: Ipv4Addr = std::env::var("RV_ADDR").unwrap().parse().unwrap();
                let view = |n: usize| {
                    net.nodes[n]
                        .as_ref()
                        .and_then(|s| s.leases().binding(a))
                        .map(|b| {
                            (
                                b.state,
                                b.client().map(|c| c.hash_key().last().copied()),
                                b.expires_at.as_unix_secs() as i64 - net.now.as_unix_secs() as i64,
                                b.unacked,
                                b.acked_pet.as_unix_secs() as i64 - net.now.as_unix_secs() as i64,
                            )
                        })
                };
                eprintln!("   [{step}] {a}: P {:?} S {:?}", view(P), view(S));
                for m in net.seen.drain(..) {
                    if m.msg.bindings().any(|b| b.address == a) {
                        eprintln!(
                            "      msg from {} {:?} xid={} {:?}",
                            m.from,
                            m.msg.msg_type,
                            m.msg.xid,
                            m.msg
                                .options
                                .iter()
                                .filter(|o| matches!(
                                    o,
                                    crate::wire::failover::FoOption::BindingStatus(_)
                                        | crate::wire::failover::FoOption::RejectReason(_)
                                ))
                                .collect::<Vec<_>>()
                        );
                    }
                }
            }
            if log && !what.is_empty() {
                eprintln!(
                    "[{step}] t={} {what} P={:?} S={:?}",
                    (net.now.as_millis() - T0 * 1000) / 1000,
                    net.state(P),
                    net.state(S)
                );
            }
        }
        // liveness at the end: heal, boot, wait
        if net.partitioned {
            heal(&mut net);
        }
        for (n, was_down) in down.into_iter().enumerate() {
            if was_down {
                net.boot(n);
            }
        }
        net.run_for(secs(600));
        if net.state(P) != Some(FoState::Normal) || net.state(S) != Some(FoState::Normal) {
            if log {
                for m in net
                    .seen
                    .iter()
                    .rev()
                    .take(40)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                {
                    eprintln!(
                        "END from {} {:?} {:?} xid={}",
                        m.from,
                        m.msg.msg_type,
                        m.msg.server_state().map(|x| x.name()),
                        m.msg.xid
                    );
                }
            }
            return Some(format!(
                "seed {seed}: STUCK after heal: P={:?} S={:?}",
                net.state(P),
                net.state(S)
            ));
        }
        None
    }

    #[test]
    fn review_random_no_duplicates() {
        let seeds: u64 = std::env::var("RV_SEEDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100);
        let first: u64 = std::env::var("RV_FIRST")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let admin = std::env::var("RV_ADMIN").is_ok();
        let mut found = Vec::new();
        for seed in first..seeds {
            if std::env::var("RV_PRINT").is_ok() {
                eprintln!("seed {seed} start");
            }
            if let Some(v) = run_seed(seed, 300, admin, false) {
                found.push(v);
            }
        }
        for f in &found {
            eprintln!("{f}");
        }
        eprintln!("{} of {seeds} seeds failed", found.len());
        if let Ok(s) = std::env::var("RV_LOG") {
            run_seed(s.parse().unwrap(), 300, admin, true);
        }
        assert!(found.is_empty());
    }
}

#[test]
fn conflicting_bindings_from_a_partition_are_resolved_by_the_acceptance_rules() {
    // Goal: draft-12 §9.10 with §7.1.3 rule (5) — during a partition the primary is (wrongly)
    // put in PARTNER-DOWN, waits out the MCLT and hands one of the secondary's addresses to a
    // new client, while the secondary leases the same address to another client. On heal the
    // pair passes POTENTIAL-CONFLICT → CONFLICT-DONE → NORMAL, and both end with the same
    // binding: the secondary accepts the primary's ACTIVE, the primary rejects the
    // secondary's with reason 2.
    let mut net = normal_pair(Mode::HotStandby, 101);
    net.partitioned = true;
    net.run_for(secs(40));
    net.admin(P, Admin::PartnerDown);
    // The secondary's only BACKUP address goes to client 30.
    let on_s = net.dora(S, 30).expect("S serves from BACKUP").yiaddr;
    net.run_for(secs(15));
    net.renew(S, 30, on_s).expect("S renews its client at T1");
    net.run_for(secs(u64::from(MCLT_S) - 14));
    // The primary's own FREE address goes first; then the partner's after the MCLT.
    let mut on_p = Vec::new();
    for mac in 31..33u8 {
        if let Some(ack) = net.dora(P, mac) {
            on_p.push(ack.yiaddr);
        }
    }
    assert!(
        on_p.contains(&on_s),
        "P took {on_s} from the partner's pool: {on_p:?}"
    );
    // Client 30 keeps renewing with the secondary: a real conflict.
    net.renew(S, 30, on_s).expect("S renews its client");
    net.partitioned = false;
    net.run_for(secs(10));
    assert_eq!(net.state(P), Some(FoState::Normal));
    assert_eq!(net.state(S), Some(FoState::Normal));
    let p = net.node(P).leases().binding(on_s).unwrap();
    let s = net.node(S).leases().binding(on_s).unwrap();
    assert_eq!((p.state, p.client()), (s.state, s.client()));
    assert!(
        p.is_for(&crate::lease::ClientKey::from_hardware(
            1,
            &[2, 0, 0, 0, 0, 31]
        )) || p.is_for(&crate::lease::ClientKey::from_hardware(
            1,
            &[2, 0, 0, 0, 0, 32]
        )),
        "the primary's binding wins"
    );
    assert!(
        net.node(P).counters().bndupd_rejected > 0,
        "the primary rejected the secondary's"
    );
}

#[test]
fn a_restart_that_meets_no_partner_leaves_startup_by_its_timer_as_if_the_link_had_failed() {
    // Goal: draft-12.md §4.2 (STARTUP timer expires) — a server that was NORMAL restarts while its partner is down; it
    // stays in STARTUP (serving nothing) for the startup time, then takes the state the
    // previous one would take on a failed link: NORMAL → COMMUNICATIONS-INTERRUPTED.
    let mut net = normal_pair(Mode::HotStandby, 199);
    net.crash(S, CrashMode::LoseUnsynced);
    net.crash(P, CrashMode::LoseUnsynced);
    net.boot(P);
    let startup = net.node(P).relationship().unwrap().timers.startup;
    assert!(startup > secs(2), "the test needs a startup window");
    net.run_for(Duration::from_millis(startup.as_millis() - 1000));
    assert_eq!(
        net.state(P),
        Some(FoState::Startup),
        "the dial failures do not end it"
    );
    assert!(net.dora(P, 40).is_none(), "STARTUP serves nothing");
    net.run_for(secs(2));
    assert_eq!(net.state(P), Some(FoState::CommunicationsInterrupted));
    assert!(net.dora(P, 41).is_some(), "COMM-INT serves");
}

#[test]
fn an_operator_may_move_a_normal_server_to_partner_down() {
    // Goal: draft-12.md §4.2 (NORMAL, external command) — PARTNER-DOWN by command is allowed from NORMAL too (the operator
    // vouches that the partner is down); the server tells its partner with a STATE message.
    let mut net = normal_pair(Mode::HotStandby, 199);
    net.seen.clear();
    net.admin(P, Admin::PartnerDown);
    assert_eq!(net.state(P), Some(FoState::PartnerDown));
    assert!(
        net.types_from(P).contains(&Fo::State),
        "{:?}",
        net.types_from(P)
    );
}

#[test]
fn a_link_failure_during_potential_conflict_gives_resolution_interrupted() {
    // Goal: draft-12.md §4.2 (POTENTIAL-CONFLICT, comm failed) — the pair meets in POTENTIAL-CONFLICT after a partition in which the
    // primary was put in PARTNER-DOWN; the secondary crashes before the conflict is resolved,
    // and the primary goes to RESOLUTION-INTERRUPTED, where it renews a lease but gives out no
    // new address (the departure from draft-12 §9.11 that `FoState::service` explains).
    let mut net = normal_pair(Mode::HotStandby, 199);
    let held = net.dora(P, 7).expect("NORMAL serves").yiaddr;
    net.run_for(secs(5));
    net.partitioned = true;
    // The client renews as it goes (its leases are the MCLT, 30 s, while the partner cannot
    // acknowledge): its lease still runs when the conflict is interrupted.
    for _ in 0..2 {
        net.run_for(secs(20));
        assert!(net.renew(P, 7, held).is_some(), "COMM-INT renews");
    }
    net.admin(P, Admin::PartnerDown);
    net.partitioned = false;
    let mut met = false;
    for _ in 0..20_000 {
        net.run_for(Duration::from_millis(1));
        if net.state(P) == Some(FoState::PotentialConflict) {
            met = true;
            break;
        }
    }
    assert!(met, "the primary never reached POTENTIAL-CONFLICT");
    net.crash(S, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    assert_eq!(net.state(P), Some(FoState::ResolutionInterrupted));
    assert!(net.dora(P, 42).is_none(), "no new address");
    let renewed = net.renew(P, 7, held).expect("a renewal is answered");
    assert_eq!(renewed.message_type(), Some(MessageType::Ack));
    assert_eq!(renewed.yiaddr, held);
}

#[test]
fn a_shutdown_answered_by_partner_down_restarts_in_recover() {
    // Goal: draft-12.md §4.2 (operator "shutdown") — the secondary is shut down; the primary
    // answers its STATE(SHUTDOWN) by going PARTNER-DOWN; the secondary stores RECOVER as the
    // state to return to, so its restart asks the primary for what it missed.
    let mut net = normal_pair(Mode::HotStandby, 199);
    net.admin(S, Admin::Shutdown);
    net.run_for(secs(2));
    assert_eq!(net.state(S), Some(FoState::Shutdown));
    assert_eq!(net.state(P), Some(FoState::PartnerDown));
    net.crash(S, CrashMode::LoseUnsynced);
    net.run_for(secs(1));
    net.seen.clear();
    net.boot(S);
    net.run_for(secs(2));
    let sent = net.types_from(S);
    assert!(
        sent.contains(&Fo::UpdReq) || sent.contains(&Fo::UpdReqAll),
        "RECOVER asks for updates: {sent:?}"
    );
    assert!(
        matches!(net.state(S), Some(FoState::Recover | FoState::RecoverWait)),
        "{:?}",
        net.state(S)
    );
}
