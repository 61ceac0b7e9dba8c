//! The simulated world: two real engine servers, many simulated clients on broadcast segments
//! (the servers' own, and others behind relay agents),
//! the failover link, faults, and the checkers — on one virtual clock.
//!
//! **Kernel.** One event queue ordered by (virtual time, insertion sequence) (STYLE.md 14); the
//! loop jumps to the next event (STYLE.md 15). Node timers are events too: after every input
//! the node's `poll_timeout` is scheduled, and a timer event that no longer matches the node's
//! armed deadline is stale and skipped.
//!
//! **Randomness.** One seed per run, split into named streams (network, each client) so that
//! adding a client does not change what the network draws (STYLE.md 6). With
//! `network.per_client_streams` each client's datagrams draw from a network stream of the
//! client's own, so that removing a client does not change what the others' datagrams draw
//! either (what `dhcpfo shrink` needs).
//!
//! **Network.** Clients on the servers' segment broadcast to both servers; clients on another
//! segment reach them through its relay agent, which sets giaddr and unicasts; a reply reaches the one client whose hardware address it carries (the others
//! would drop it on the xid/chaddr check, so it is not delivered to them: a shortcut that
//! changes no outcome and keeps a broadcast O(1)). UDP has delay, jitter and loss; the
//! failover link is TCP: in order, fixed delay, held by a partition (only the protocol's own
//! timers notice) and retransmitted at the heal if the connection still stands, closed towards
//! the partner when a server crashes.
//! Every message crosses as encoded bytes through the real codecs.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};

use dhcpfo_engine::config::{AddressRange, LeaseTimes, ServerConfig, Subnet};
use dhcpfo_engine::failover::messages;
use dhcpfo_engine::failover::state::FoState;
use dhcpfo_engine::failover::{BucketOwner, Mode, RelationshipConfig, Role};
use dhcpfo_engine::lease::{Binding, BindingState, HwAddr};
use dhcpfo_engine::server::{Admin, Direction, Output, Received, Server};
use dhcpfo_engine::storage::{CrashMode, MemStorage};
use dhcpfo_engine::time::{Duration, Time};
use dhcpfo_engine::wire::dhcp::{DhcpMessage, DhcpSummary, MessageType};
use dhcpfo_engine::wire::failover::{FoOption, Message, MessageType as FoMessageType};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::check::{BindingView, Checker, Endpoint, Link, StoredLease};
use crate::client::{Client, ClientConfig, ClientOutput};
use crate::clock::Clock;
use crate::names::{Pair, RelationshipName, ServerName};
use crate::queue::Queue;
use crate::scenario::{
    Command, Cut, Fault, Moment, Node, Omit, PairMode, Scenario, StorageLoss, TriggerEvent, Verb,
    Victim,
};
use crate::tracing;
use dhcpfo_reports::event::{
    Counts as CountsEvent, End, Property, ServerCounts, Violation as ViolationEvent,
};
use dhcpfo_reports::{Event, TraceWriter};

/// The virtual epoch: runs start here (2027-01-15T08:00:00Z).
pub const START: Time = Time::from_secs(1_800_000_000);
const SERVER_ADDR: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2)];
/// The servers' names, as the trace and the checkers name them: server `n` is `NAMES[n]`.
pub const NAMES: [&str; 2] = ["primary", "secondary"];
/// The name of the servers' failover relationship (sent in CONNECT).
const RELATIONSHIP: &str = "sim";
/// The servers' relationship as the checkers know it: by name, with its servers by name.
const PAIR: Pair = Pair {
    relationship: RelationshipName::new(RELATIONSHIP),
    primary: ServerName::new(NAMES[0]),
    secondary: ServerName::new(NAMES[1]),
};

/// Server `n`, as the checkers name it.
fn server_name(n: usize) -> ServerName {
    ServerName::new(NAMES[n])
}
/// The first xid of forged updates ([`Verb::Forge`]), the next one each: far above any xid a
/// server reaches counting from 0, so that the target's BNDACK answers nothing its partner
/// sent, and neither the partner nor the checkers take it for the answer to a real update.
const FORGED_XID_BASE: u32 = 0xf0f0_0000;
/// The key an attacker who does not know the shared secret signs forged messages with.
const ATTACKER_SECRET: &[u8] = b"attacker";

/// The most events one run may process: a bound on every loop (house rules).
pub const MAX_EVENTS: u64 = 500_000_000;

/// The most events one virtual second may hold. The busiest shipped scenario (the starvation
/// flood) stays far below it; a run above it is spinning, and ends as unfinished in about a
/// second of wall time instead of at [`MAX_EVENTS`].
pub const MAX_EVENTS_PER_VIRTUAL_SECOND: u64 = 2_000_000;

/// A time as people read it in this tool: relative to the run's start, `+1h20m00.007s`.
pub fn fmt_at(t: Time) -> String {
    dhcpfo_reports::time::fmt_ms(tracing::ms(t))
}
/// How many events pass between two calls of a progress hook ([`World::run_with_progress`]):
/// a 10 000-client day shows progress several times a second, and the check costs one
/// comparison per event.
pub const PROGRESS_EVERY_EVENTS: u64 = 1 << 16;

/// A stream of the run's randomness, derived from the seed and a name.
pub fn stream(seed: u64, name: &str, index: u64) -> ChaCha8Rng {
    // FNV-1a over the name, mixed with the seed and index by SplitMix64's finaliser.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = seed ^ h ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ChaCha8Rng::seed_from_u64(z ^ (z >> 31))
}

enum Ev {
    ServerTimer(usize),
    ClientTimer(usize),
    ClientStart(usize),
    ClientDepart(usize),
    /// `ipconfig /release` then `/renew` (`clients.mix.release_renew`).
    ClientReleaseRenew(usize),
    ToServer {
        server: usize,
        rx: Received,
        bytes: Vec<u8>,
    },
    ToClient {
        client: usize,
        bytes: Vec<u8>,
    },
    PeerConnected {
        node: usize,
        conn: u64,
        dir: Direction,
    },
    PeerBytes {
        node: usize,
        conn: u64,
        bytes: Vec<u8>,
    },
    PeerClosed {
        node: usize,
        conn: u64,
    },
    PeerConnectFailed {
        node: usize,
    },
    Fault(usize),
    /// Triggered fault `.0` of [`World::triggers`] strikes, its delay after its event.
    Strike(usize),
    /// Triggered fault `.0` of [`World::triggers`] is undone (`for` after it struck).
    Undo(usize),
    /// The next spoofed DISCOVER of a flood.
    Flood,
    /// Judge liveness: the converge bound has passed since the world last became healthy,
    /// in fault generation `generation` (void if a fault came since).
    Liveness {
        generation: u64,
        healed_at: Time,
    },
    /// The second look at the pair's databases ([`AGREEMENT_GRACE`] after liveness found
    /// `differ`): the addresses that still differ disagree.
    SecondLook {
        generation: u64,
        differ: Vec<Ipv4Addr>,
    },
}

/// How long a `release_renew` client of `scenario` waits between its RELEASE and its DISCOVER,
/// as a person typing `/renew` a while later: longer than any delay the network gives a
/// datagram (a delay spike lasts seconds), so the RELEASE arrives first; and, where a fault
/// steps or drifts a server's clock, longer than the tolerated clock delta, since the two
/// servers' clocks may then disagree by up to that much (each within half of it of true time,
/// draft-12 §5.10): the protocol orders a client's transactions by their times (draft-12
/// §7.1.3) and cannot order a release at one server and a new lease at the other that are
/// closer than its servers' clocks agree. Clocks that no fault moves stay together.
fn release_renew_pause(scenario: &Scenario) -> Duration {
    let clocks_move = scenario
        .faults
        .iter()
        .any(|f| matches!(f.verb, Verb::ClockOffset { .. } | Verb::ClockDrift { .. }));
    if clocks_move {
        scenario.servers.max_clock_delta.0 + RELEASE_RENEW_PAUSE
    } else {
        RELEASE_RENEW_PAUSE
    }
}

/// The shortest wait before a `release_renew` client gives its lease back (and between two
/// such moments); the longest is two lease times.
const RELEASE_RENEW_MIN_WAIT_MS: u64 = 5 * 60_000;

/// How long a `release_renew` client waits between its RELEASE and its DISCOVER where no fault
/// moves a server's clock, and how much longer than the tolerated clock delta where one does.
const RELEASE_RENEW_PAUSE: Duration = Duration::from_secs(10);

/// How long after liveness finds the pair's databases apart it looks again: a lease ending
/// as the pair is judged ends on each server's clock a moment apart (the clock delta's error,
/// a few seconds), and the update that tells it takes a round trip; a real disagreement
/// outlasts any wait.
const AGREEMENT_GRACE: Duration = Duration::from_secs(30);

struct ServerSlot {
    server: Option<Server<MemStorage>>,
    config: ServerConfig,
    disk: MemStorage,
    /// The server's own clock: the engine sees only this.
    clock: Clock,
    armed: Option<Time>,
    state: Option<FoState>,
}

struct ClientSlot {
    client: Client,
    /// The client's own clock: the client sees only this.
    clock: Clock,
    armed: Option<Time>,
    /// Since when the running client has held no lease (`None` while it holds one, or before
    /// it starts).
    unleased_since: Option<Time>,
    /// When it last accepted a lease (its last DHCPACK), in true time: the transaction a
    /// forged release claims to follow ([`Verb::Forge`]).
    leased_at: Option<Time>,
}

/// A triggered fault's progress ([`crate::scenario::Trigger`]).
struct Armed {
    /// The fault's index in the scenario.
    fault: usize,
    /// Occurrences of its event seen while it was armed.
    seen: u32,
    /// Its nth occurrence came (it is struck, or will be after its delay).
    fired: bool,
    /// It struck; its trace detail says what fired it.
    struck: bool,
    /// What fired it, for the trace.
    detail: String,
}

/// Counts of what a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Events processed.
    pub events: u64,
    /// DHCP datagrams sent (both ways).
    pub dhcp_messages: u64,
    /// Failover messages sent.
    pub failover_messages: u64,
    /// Datagrams lost by the network model.
    pub lost_datagrams: u64,
    /// Faults applied.
    pub faults: u64,
}

/// A binding as the trace last recorded it: its state and its client's hardware address.
type TracedBinding = (BindingState, Option<Vec<u8>>);

/// Messages sent since the last counts sample.
#[derive(Debug, Clone, Copy, Default)]
struct Period {
    dhcp_requests: u64,
    dhcp_replies: u64,
    failover_messages: u64,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Pass,
    /// A property was violated.
    Violation(crate::check::Violation),
    /// The run hit a bound on its work before its end; the text says which.
    Unfinished(String),
}

/// The world.
pub struct World {
    scenario: Scenario,
    seed: u64,
    now: Time,
    end: Time,
    /// The queue holds slot numbers in (time, seq) order; the events themselves sit in `slab`.
    queue: Queue,
    slab: Vec<Option<Ev>>,
    free_slots: Vec<u32>,
    servers: [ServerSlot; 2],
    clients: Vec<ClientSlot>,
    conns: BTreeMap<u64, (usize, usize)>,
    next_conn: u64,
    /// `cut_servers[n]`: what server `n` sends its partner is black-holed.
    cut_servers: [bool; 2],
    /// What server `n` sent its partner across a cut, in order: TCP keeps unacknowledged
    /// bytes and retransmits them, so a connection that outlives the cut delivers them at the
    /// heal, before anything sent after (`Some(bytes)`, or `None` for the close, a FIN). A
    /// stream has no holes: dropping them while later bytes got through left the partners
    /// each waiting for an answer that never came (swarm seed 671).
    held: [Vec<(u64, Option<Vec<u8>>)>; 2],
    cut_clients: [bool; 2],
    net: ChaCha8Rng,
    /// Each client's own network stream, with `network.per_client_streams` (else empty).
    client_net: Vec<ChaCha8Rng>,
    flood: ChaCha8Rng,
    mclt: Duration,
    /// The checkers.
    pub checker: Checker,
    /// The pool-balance checker (its violations join the checkers').
    pub pool_balance: crate::pool_balance::PoolBalance,
    /// The trace, written as the run goes ([`World::with_trace`]; only hashed by default).
    pub trace: TraceWriter,
    /// Each server's bindings as the trace last recorded them (state and client), so that a
    /// binding event is written only for a real change; an address not in it is FREE.
    traced_bindings: [BTreeMap<Ipv4Addr, TracedBinding>; 2],
    /// The next instant counts are sampled at, and the interval.
    next_sample: Time,
    sample_every: Duration,
    /// What was sent since the last sample.
    period: Period,
    /// Violations already written to the trace.
    traced_violations: usize,
    /// Counts.
    pub counts: Counts,
    /// The virtual second being counted for [`MAX_EVENTS_PER_VIRTUAL_SECOND`], and its events.
    spin_second: u64,
    spin_events: u64,
    /// Counts the faults applied: a liveness judgement scheduled in an older generation is
    /// void.
    fault_generation: u64,
    /// Second looks at the pair's databases scheduled and not yet taken ([`Ev::SecondLook`]).
    second_looks_pending: u32,
    /// Forged updates injected so far (each takes the next xid from [`FORGED_XID_BASE`]).
    forged: u32,
    /// What the run reached ([`World::coverage`]); an observer, fed by a few hook lines.
    coverage: crate::coverage::Probe,
    /// The triggered faults, in scenario order (empty when there are none: the hooks then
    /// cost one comparison).
    triggers: Vec<Armed>,
    /// Each server: it sent UPDREQALL and its partner has not sent UPDDONE since.
    awaiting_upddone: [bool; 2],
    /// When a triggered fault or its undo last acted (liveness at the end waits the converge
    /// bound after it).
    triggered_last_at: Option<Time>,
    /// How long a `release_renew` client waits between its RELEASE and its DISCOVER.
    release_renew_pause: Duration,
}

impl World {
    /// Build the world of a scenario for one seed.
    pub fn new(scenario: Scenario, seed: u64) -> World {
        World::with_trace(scenario, seed, TraceWriter::hash_only())
    }

    /// Build the world and write its trace to `trace` as the run goes (at the trace's level:
    /// a full trace holds every message too).
    pub fn with_trace(scenario: Scenario, seed: u64, trace: TraceWriter) -> World {
        // A swarm scenario runs the world its seed draws.
        let mut scenario = match scenario.swarm {
            Some(_) => crate::swarm::concrete(&scenario, seed),
            None => scenario,
        };
        if let Some(n) = scenario.nemesis.clone() {
            let drawn = nemesis_faults(&n, seed);
            scenario.faults.extend(drawn);
        }
        let mclt = scenario.servers.mclt.0;
        let configs = [0, 1].map(|i| server_config(&scenario, i));
        let servers = configs.map(|config| ServerSlot {
            server: None,
            config,
            disk: MemStorage::default(),
            clock: Clock::new(0, 0, START),
            armed: None,
            state: None,
        });
        // Varied clients (`clients.mix`): each draws its traits from its own stream.
        let mut bursts = vec![false; scenario.clients.count as usize];
        let mut release_renews = vec![false; scenario.clients.count as usize];
        let clients = (0..scenario.clients.count as usize)
            .map(|i| {
                let mac = mac_of(i);
                let cfg = match &scenario.clients.mix {
                    Some(mix) => {
                        let p = crate::swarm::client_profile(mix, seed, i, mac);
                        bursts[i] = p.burst;
                        release_renews[i] = p.release_renew;
                        p.cfg
                    }
                    None => ClientConfig::new(mac),
                };
                ClientSlot {
                    client: Client::new(cfg, stream(seed, "client", i as u64).random::<u64>()),
                    clock: client_clock(&scenario.clients, seed, i),
                    armed: None,
                    unleased_since: None,
                    leased_at: None,
                }
            })
            .collect();
        let end = START + scenario.duration.0;
        let pool_balance = pool_balance_checker(&scenario);
        let release_renew_pause = release_renew_pause(&scenario);
        let mut w = World {
            coverage: crate::coverage::Probe::new(mclt, scenario.servers.dialect.dialect()),
            net: stream(seed, "network", 0),
            client_net: if scenario.network.per_client_streams {
                (0..u64::from(scenario.clients.count))
                    .map(|i| stream(seed, "client-network", i))
                    .collect()
            } else {
                Vec::new()
            },
            flood: stream(seed, "flood", 0),
            scenario,
            seed,
            now: START,
            end,
            queue: Queue::new(START),
            slab: Vec::new(),
            free_slots: Vec::new(),
            servers,
            clients,
            conns: BTreeMap::new(),
            next_conn: 1,
            cut_servers: [false, false],
            held: [Vec::new(), Vec::new()],
            cut_clients: [false, false],
            mclt,
            checker: Checker::default(),
            pool_balance,
            trace,
            traced_bindings: [BTreeMap::new(), BTreeMap::new()],
            next_sample: START,
            sample_every: Duration::from_millis(tracing::sample_interval_ms(
                end.saturating_since(START).as_millis(),
            )),
            period: Period::default(),
            traced_violations: 0,
            counts: Counts::default(),
            spin_second: 0,
            spin_events: 0,
            fault_generation: 0,
            second_looks_pending: 0,
            forged: 0,
            triggers: Vec::new(),
            awaiting_upddone: [false; 2],
            triggered_last_at: None,
            release_renew_pause,
        };
        let ranges = w.scenario.pool_ranges();
        w.checker.pools_at_start(PAIR, &ranges);
        let header = tracing::header(
            &w.scenario,
            seed,
            w.trace.level(),
            &[(NAMES[0], SERVER_ADDR[0]), (NAMES[1], SERVER_ADDR[1])],
            RELATIONSHIP,
            w.sample_every.as_millis(),
        );
        w.trace.write(0, Event::Run(header));
        for n in 0..2 {
            w.boot(n);
        }
        let count = w.clients.len() as u64;
        let over = w.scenario.clients.arrive_over.0.as_millis();
        let stay = w.scenario.clients.stay.map(|s| s.0.as_millis());
        let only = w.scenario.clients.only.clone();
        let lease_ms = w.scenario.servers.lease_time.0.as_millis();
        for i in 0..w.clients.len() {
            if only.as_ref().is_some_and(|o| !o.contains(&(i as u32))) {
                continue;
            }
            // A bursting client arrives at the start of its quarter of the arrival span,
            // together with the other bursting clients of that quarter.
            let at = if bursts.get(i) == Some(&true) {
                START + Duration::from_millis(over * (4 * i as u64 / count.max(1)) / 4)
            } else {
                START + Duration::from_millis(over * i as u64 / count.max(1))
            };
            w.schedule(at, Ev::ClientStart(i));
            if release_renews.get(i) == Some(&true) {
                // Its own stream: the waits between its releases change nothing else drawn.
                let mut rng = stream(seed, "release-renew", i as u64);
                let longest = (2 * lease_ms).max(RELEASE_RENEW_MIN_WAIT_MS);
                let mut next = at;
                loop {
                    next += Duration::from_millis(
                        rng.random_range(RELEASE_RENEW_MIN_WAIT_MS..=longest),
                    );
                    if next >= end {
                        break;
                    }
                    w.schedule(next, Ev::ClientReleaseRenew(i));
                }
            }
            if let Some(stay) = stay {
                // Its own stream: adding a departure never changes what else is drawn.
                let factor = stream(seed, "stay", i as u64).random_range(500..=1500u64);
                let leave = at + Duration::from_millis(stay / 1000 * factor);
                w.schedule(leave, Ev::ClientDepart(i));
            }
        }
        for (i, f) in w.scenario.faults.clone().iter().enumerate() {
            if f.when.is_some() {
                // Armed from `at`: its event, not the clock, fires it.
                w.triggers.push(Armed {
                    fault: i,
                    seen: 0,
                    fired: false,
                    struck: false,
                    detail: String::new(),
                });
            } else {
                w.schedule(START + f.at.0, Ev::Fault(i));
            }
        }
        w.schedule_liveness();
        if let Some(f) = w.scenario.clients.flood.clone() {
            w.schedule(START + f.start.0, Ev::Flood);
        }
        w
    }

    /// Write one event to the trace at the current time.
    fn note(&mut self, event: Event) {
        let t = tracing::ms(self.now);
        self.trace.write(t, event);
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The current virtual time.
    pub fn now(&self) -> Time {
        self.now
    }

    /// A server's failover state, if it is running.
    pub fn server_state(&self, n: usize) -> Option<FoState> {
        self.servers[n]
            .server
            .as_ref()
            .and_then(Server::failover_state)
    }

    /// What the run has reached so far (states, transitions, messages, reject reasons,
    /// sometimes-events): see [`crate::coverage`].
    pub fn coverage(&self) -> crate::coverage::Coverage {
        self.coverage.coverage(self.seed, &self.checker.rejects)
    }

    fn schedule(&mut self, at: Time, e: Ev) {
        let slot = match self.free_slots.pop() {
            Some(i) => {
                self.slab[i as usize] = Some(e);
                i
            }
            None => {
                self.slab.push(Some(e));
                (self.slab.len() - 1) as u32
            }
        };
        self.queue.push(at, slot);
    }

    /// A server's clock: network time, plus its offset, plus its drift so far.
    fn server_clock(&self, n: usize) -> Time {
        self.servers[n].clock.local(self.now)
    }

    fn clock_skew_ms(&self, n: usize) -> i64 {
        self.servers[n].clock.skew_ms(self.now)
    }

    /// A client's clock now.
    fn client_clock(&self, c: usize) -> Time {
        self.clients[c].clock.local(self.now)
    }

    /// The delays of one datagram to or from `client`: none if lost, two if duplicated. Jitter
    /// makes datagrams overtake each other (reordering).
    fn udp_delays(&mut self, client: usize) -> impl Iterator<Item = Duration> + use<> {
        let n = &self.scenario.network;
        let (loss, duplicate) = (n.loss_probability, n.duplicate_probability);
        let (mean, jitter) = (n.delay_ms_mean, n.jitter_ms);
        let net = self.client_net.get_mut(client).unwrap_or(&mut self.net);
        if loss > 0.0 && net.random_bool(loss) {
            self.counts.lost_datagrams += 1;
            return [None, None].into_iter().flatten();
        }
        let one = |net: &mut ChaCha8Rng| {
            let jitter = if jitter > 0 {
                net.random_range(0..=jitter)
            } else {
                0
            };
            Duration::from_millis(u64::from(mean + jitter))
        };
        let first = one(net);
        let second = (duplicate > 0.0 && net.random_bool(duplicate))
            .then(|| one(net) + Duration::from_millis(1));
        [Some(first), second].into_iter().flatten()
    }

    fn tcp_delay(&self) -> Duration {
        Duration::from_millis(u64::from(self.scenario.network.delay_ms_mean.max(1)))
    }

    /// Run to the end, or to the first safety violation.
    pub fn run(&mut self) -> Outcome {
        self.run_with(false)
    }

    /// Run to the end. With `keep_going`, violations are recorded in the trace as they happen
    /// and the run continues; the outcome is the first one.
    pub fn run_with(&mut self, keep_going: bool) -> Outcome {
        self.run_with_progress(keep_going, &mut |_| {})
    }

    /// [`World::run_with`], showing the world to `progress` every [`PROGRESS_EVERY_EVENTS`]
    /// events so that a display can follow a long run. The hook sees the world read-only, so it
    /// cannot change the run.
    pub fn run_with_progress(
        &mut self,
        keep_going: bool,
        progress: &mut dyn FnMut(&World),
    ) -> Outcome {
        let outcome = self.run_events(keep_going, progress);
        self.close_trace(&outcome);
        outcome
    }

    /// The event loop of [`World::run_with_progress`], then the final checks.
    fn run_events(&mut self, keep_going: bool, progress: &mut dyn FnMut(&World)) -> Outcome {
        if let Some(early) = self.run_to_end(keep_going, progress) {
            return early;
        }
        self.pool_balance
            .finish(self.end, &mut self.checker.violations);
        if let Some(v) = self.checker.violations.first().cloned() {
            self.now = self.end;
            return Outcome::Violation(v);
        }
        self.now = self.end;
        let outcome = self.final_checks();
        if outcome == Outcome::Pass && self.second_looks_pending > 0 {
            // The final judgement found the databases apart: the world runs on for the second
            // look ([`AGREEMENT_GRACE`]), which judges them.
            self.end += AGREEMENT_GRACE;
            if let Some(early) = self.run_to_end(keep_going, progress) {
                return early;
            }
            self.now = self.end;
            if let Some(v) = self.checker.violations.first().cloned() {
                return Outcome::Violation(v);
            }
        }
        outcome
    }

    /// Handle events up to the end; `Some` when the run stops before it (a violation without
    /// `keep_going`, or a bound).
    fn run_to_end(
        &mut self,
        keep_going: bool,
        progress: &mut dyn FnMut(&World),
    ) -> Option<Outcome> {
        while let Some(at) = self.queue.peek_time() {
            if at > self.end {
                break;
            }
            if self.counts.events >= MAX_EVENTS {
                return Some(Outcome::Unfinished(format!(
                    "the run reached its bound of {MAX_EVENTS} events at {}",
                    fmt_at(self.now)
                )));
            }
            let Some((at, slot)) = self.queue.pop() else {
                break;
            };
            // A run that stops advancing in virtual time (a server handing out zero-length
            // leases, a retransmission with no backoff) would spin to MAX_EVENTS for minutes;
            // no sane run needs this many events inside one virtual second.
            let second = at.as_millis() / 1000;
            if second == self.spin_second {
                self.spin_events += 1;
                if self.spin_events > MAX_EVENTS_PER_VIRTUAL_SECOND {
                    return Some(Outcome::Unfinished(format!(
                        "more than {MAX_EVENTS_PER_VIRTUAL_SECOND} events within one virtual \
                         second at {}: the run is spinning without time passing",
                        fmt_at(at)
                    )));
                }
            } else {
                self.spin_second = second;
                self.spin_events = 1;
            }
            let Some(ev) = self.slab.get_mut(slot as usize).and_then(Option::take) else {
                break;
            };
            self.free_slots.push(slot);
            // Counts are sampled at the instants between events: nothing changes in between.
            while self.next_sample <= at && self.next_sample <= self.end {
                self.now = self.next_sample;
                self.sample_counts();
                self.next_sample += self.sample_every;
            }
            self.now = at;
            self.counts.events += 1;
            if self.counts.events.is_multiple_of(PROGRESS_EVERY_EVENTS) {
                progress(self);
            }
            self.handle(ev);
            if self.traced_violations < self.checker.violations.len() {
                self.trace_violations();
                // Bound: with keep_going, the run stops once 10 000 violations are traced.
                if !keep_going || self.traced_violations >= 10_000 {
                    self.checker.stopped_at = Some(self.now);
                    return Some(Outcome::Violation(self.checker.violations[0].clone()));
                }
            }
        }
        None
    }

    /// Every property's end of the run (see [`crate::check::Checker::judgements`]).
    pub fn judgements(&mut self) -> Vec<crate::check::Judgement> {
        self.checker.pool_balance_periods = self.pool_balance.normal_periods();
        self.checker.judgements()
    }

    /// Server `n`'s binding database as the liveness check compares it.
    fn binding_views(&self, n: usize) -> Vec<BindingView> {
        let Some(server) = self.servers[n].server.as_ref() else {
            return Vec::new();
        };
        server
            .leases()
            .iter()
            .map(|b| BindingView {
                address: b.address,
                state: b.state,
                client: b.client().map(|k| {
                    let hex: Vec<String> =
                        k.hash_key().iter().map(|x| format!("{x:02x}")).collect();
                    hex.join(":")
                }),
                // On its way (sent and unanswered), or changed and not yet sent; a rejected
                // update is neither: the partners disagree, and that is judged.
                in_flight: self.checker.update_in_flight(PAIR.relationship, b.address)
                    || (b.unacked && !self.checker.update_rejected(PAIR.relationship, b.address)),
            })
            .collect()
    }

    /// Liveness at the end (DESIGN.md): with both servers up, every cut healed and the
    /// scenario's converge bound passed since the last fault, the pair must have converged.
    /// When the run cannot be judged at its end, the reason is recorded, never a pass.
    fn final_checks(&mut self) -> Outcome {
        // A triggered fault counts where it acted, if it did.
        let last_fault = self
            .scenario
            .faults
            .iter()
            .filter(|f| f.when.is_none())
            .map(|f| f.at.0)
            .chain(self.triggered_last_at.map(|t| t.saturating_since(START)))
            .max()
            .unwrap_or(Duration::ZERO);
        let bound = self.scenario.checks.converge_within.0;
        let settled = START + last_fault + bound <= self.end;
        match (self.unhealthy(), settled) {
            (Some(why), _) => {
                self.checker.liveness_not_judged = Some(format!("the run ended unhealed: {why}"))
            }
            (None, false) if self.checker.liveness_checks == 0 => {
                self.checker.liveness_not_judged = Some(format!(
                    "the converge bound ({}) after the last fault at {} runs past the end at {}",
                    crate::scenario::Span(bound),
                    fmt_at(START + last_fault),
                    fmt_at(self.end)
                ))
            }
            (None, false) => {}
            (None, true) => self.judge_liveness(START + last_fault),
        }
        if let Some(v) = self.checker.violations.first().cloned() {
            return Outcome::Violation(v);
        }
        Outcome::Pass
    }

    /// Write the violations not yet in the trace (each at its own time).
    fn trace_violations(&mut self) {
        while self.traced_violations < self.checker.violations.len() {
            let v = &self.checker.violations[self.traced_violations];
            self.traced_violations += 1;
            let event = Event::Violation(ViolationEvent {
                property: v.property.to_string(),
                detail: v.detail.clone(),
                addresses: v.addresses.iter().map(|a| a.to_string()).collect(),
                clients: v.clients.iter().map(|&c| c as u32).collect(),
            });
            self.trace.write(tracing::ms(v.at), event);
        }
    }

    /// The trace's last lines: violations not yet written, every property's status, and how
    /// the run ended.
    fn close_trace(&mut self, outcome: &Outcome) {
        self.trace_violations();
        // A trigger that never fired is said so, never passed over in silence.
        for k in 0..self.triggers.len() {
            if self.triggers[k].struck {
                continue;
            }
            let f = self.scenario.faults[self.triggers[k].fault].clone();
            let Some(t) = f.when else { continue };
            let mut e = tracing::fault(&f.verb, &NAMES);
            e.text = f.to_string();
            e.window = None;
            e.detail = Some(format!(
                "never fired: {} ({} of {} occurrence(s) seen while armed, {}..{}{})",
                t.describe(),
                self.triggers[k].seen.min(t.nth),
                t.nth,
                fmt_at(START + f.at.0),
                fmt_at(START + t.disarm_at(self.scenario.duration)),
                if self.now < self.end {
                    format!("; the run stopped at {}", fmt_at(self.now))
                } else {
                    String::new()
                }
            ));
            self.note(Event::Fault(e));
        }
        for j in self.judgements() {
            self.note(Event::Property(Property {
                property: j.property.to_string(),
                status: j.status.word().to_string(),
                basis: j.basis.clone(),
            }));
        }
        let matched = crate::run::judge_expectation(&self.scenario, outcome);
        let c = self.counts;
        let end = End {
            outcome: match outcome {
                Outcome::Pass => "pass",
                Outcome::Violation(_) => "violation",
                Outcome::Unfinished(_) => "unfinished",
            }
            .into(),
            unfinished: match outcome {
                Outcome::Unfinished(why) => Some(why.clone()),
                _ => None,
            },
            matches: matched.is_ok(),
            mismatch: matched.err(),
            events: c.events,
            dhcp_messages: c.dhcp_messages,
            failover_messages: c.failover_messages,
            faults: c.faults,
            leases: self.checker.leases,
            mclt_checked: self.checker.mclt_checked,
            durable_checked: self.checker.durable_checked,
            duplicates_declined: self.checker.duplicates_declined,
            rejects: self
                .checker
                .rejects
                .iter()
                .map(|(r, n)| (crate::run::reject_name(*r), *n))
                .collect(),
        };
        self.note(Event::End(end));
    }

    /// One counts sample (see [`CountsEvent`]).
    fn sample_counts(&mut self) {
        let servers = (0..2)
            .map(|n| {
                let mut c = ServerCounts {
                    server: NAMES[n].into(),
                    ..ServerCounts::default()
                };
                if let Some(s) = self.servers[n].server.as_ref() {
                    c.up = true;
                    for b in s.leases().iter() {
                        match b.state {
                            BindingState::Active => c.active += 1,
                            BindingState::Free => c.free += 1,
                            BindingState::Backup => c.backup += 1,
                            _ => c.other += 1,
                        }
                        c.unacked += u32::from(b.unacked);
                    }
                }
                c
            })
            .collect();
        let (mut bound, mut waiting) = (0, 0);
        for slot in &self.clients {
            if slot.client.lease().is_some() {
                bound += 1;
            } else if slot.unleased_since.is_some() && slot.client.is_running() {
                waiting += 1;
            }
        }
        let p = std::mem::take(&mut self.period);
        self.note(Event::Counts(CountsEvent {
            servers,
            clients_bound: bound,
            clients_waiting: waiting,
            dhcp_requests: p.dhcp_requests,
            dhcp_replies: p.dhcp_replies,
            failover_messages: p.failover_messages,
        }));
    }

    /// Write a binding event for every binding of server `n` whose state or client changed
    /// since the trace last recorded it.
    fn trace_bindings(&mut self, n: usize, all: bool) {
        let skew = self.clock_skew_ms(n);
        let Some(s) = self.servers[n].server.as_mut() else {
            return;
        };
        let changed: Vec<&dhcpfo_engine::lease::Binding> = if all {
            s.leases().iter().collect()
        } else {
            s.take_binding_changes()
        };
        let mut events = Vec::new();
        for b in changed {
            let now = (b.state, b.hw.as_ref().map(|h| h.addr.clone()));
            let before = self.traced_bindings[n].get(&b.address);
            let unchanged = match before {
                Some(prev) => *prev == now,
                None => now == (BindingState::Free, None),
            };
            if unchanged {
                continue;
            }
            self.coverage.binding(b.state);
            events.push(Event::Binding {
                server: NAMES[n].into(),
                address: b.address.to_string(),
                state: b.state.name().into(),
                chaddr: b.hw.as_ref().map(|h| tracing::mac(&h.addr)),
                ends_ms: (b.state == BindingState::Active)
                    .then(|| tracing::true_ms(b.expires_at, skew)),
            });
            self.traced_bindings[n].insert(b.address, now);
        }
        for e in events {
            self.note(e);
        }
    }

    /// Why the world is not in a state where the pair must converge, if it is not: a server
    /// down, paused or shut down, a cut in place, or clocks further apart than the partners
    /// tolerate.
    fn unhealthy(&self) -> Option<String> {
        for (slot, name) in self.servers.iter().zip(NAMES) {
            match slot.server.as_ref() {
                None => return Some(format!("the {name} is down")),
                Some(s) => {
                    if let Some(st @ (FoState::Paused | FoState::Shutdown)) = s.failover_state() {
                        return Some(format!("the {name} is {}", st.name()));
                    }
                }
            }
        }
        if self.cut_servers.iter().any(|c| *c) {
            return Some("the failover link is cut".into());
        }
        if let Some(n) = self.cut_clients.iter().position(|c| *c) {
            return Some(format!("the {} is cut from its clients", NAMES[n]));
        }
        let apart_ms = (self.clock_skew_ms(0) - self.clock_skew_ms(1)).unsigned_abs();
        let tolerated_ms = self.scenario.servers.max_clock_delta.0.as_millis();
        if apart_ms > tolerated_ms {
            return Some(format!(
                "the clocks are {:.1} s apart, beyond the tolerated {}",
                apart_ms as f64 / 1000.0,
                self.scenario.servers.max_clock_delta
            ));
        }
        None
    }

    /// After a fault: count what it gives the checkers to judge, and if the world is now
    /// healthy, judge liveness once the converge bound has passed without another fault.
    fn after_fault(&mut self, verb: &Verb) {
        if matches!(verb, Verb::Crash { .. } | Verb::Partition { .. }) {
            self.checker.failures += 1;
        }
        self.fault_generation += 1;
        self.schedule_liveness();
    }

    /// If the world is healthy now, judge liveness after the converge bound (hole 10 of issue
    /// 13: after every heal, not only at the end).
    fn schedule_liveness(&mut self) {
        if self.unhealthy().is_some() {
            return;
        }
        let at = self.now.max(START) + self.scenario.checks.converge_within.0;
        if at <= self.end {
            let e = Ev::Liveness {
                generation: self.fault_generation,
                healed_at: self.now.max(START),
            };
            self.schedule(at, e);
        }
    }

    /// Liveness, judged now: the pair is in NORMAL, its databases agree on every address
    /// not still in flight, and no running client has waited the converge bound since
    /// `healed_at` (or since it started wanting one, if later) without an address.
    fn judge_liveness(&mut self, healed_at: Time) {
        self.checker.liveness_checks += 1;
        let now = self.now.max(START);
        let before = self.checker.violations.len();
        let states = [0, 1].map(|n| (server_name(n), self.server_state(n)));
        self.checker.stuck_pair(now, PAIR.relationship, states);
        if self.checker.violations.len() == before {
            let views = [0, 1].map(|n| (server_name(n), self.binding_views(n)));
            let differ: Vec<Ipv4Addr> = Checker::database_differences(views)
                .into_iter()
                .map(|(a, _)| a)
                .collect();
            if !differ.is_empty() {
                let e = Ev::SecondLook {
                    generation: self.fault_generation,
                    differ,
                };
                self.second_looks_pending += 1;
                self.schedule(now + AGREEMENT_GRACE, e);
            }
        }
        if self.checker.violations.len() == before {
            let waiting: Vec<(usize, Time)> = self
                .clients
                .iter()
                .enumerate()
                .filter_map(|(c, slot)| {
                    let since = slot.unleased_since?;
                    slot.client
                        .is_running()
                        .then_some((c, since.max(healed_at)))
                })
                .collect();
            let bound = self.scenario.checks.converge_within.0;
            self.checker.clients_served(now, bound, waiting);
        }
    }

    fn handle(&mut self, ev: Ev) {
        match ev {
            Ev::ServerTimer(n) => {
                if self.servers[n].armed != Some(self.now) {
                    return;
                }
                self.servers[n].armed = None;
                let clock = self.server_clock(n);
                if let Some(s) = self.servers[n].server.as_mut() {
                    s.handle_timeout(clock);
                }
                self.drain_server(n);
            }
            Ev::ClientTimer(c) => {
                if self.clients[c].armed != Some(self.now) {
                    return;
                }
                self.clients[c].armed = None;
                let now = self.client_clock(c);
                self.clients[c].client.handle_timeout(now);
                self.drain_client(c);
            }
            Ev::ClientStart(c) => {
                let now = self.now;
                self.clients[c].unleased_since = Some(now);
                let local = self.client_clock(c);
                self.clients[c].client.start(local);
                self.drain_client(c);
            }
            Ev::ClientDepart(c) => {
                let local = self.client_clock(c);
                self.clients[c].client.depart(local);
                self.drain_client(c);
            }
            Ev::ClientReleaseRenew(c) => {
                let local = self.client_clock(c);
                let pause = self.release_renew_pause;
                self.clients[c].client.release_and_rediscover(local, pause);
                self.drain_client(c);
            }
            Ev::ToServer { server, rx, bytes } => {
                let clock = self.server_clock(server);
                if let Some(s) = self.servers[server].server.as_mut() {
                    s.handle_dhcp(clock, rx, &bytes);
                    self.observe_release(server, &bytes);
                }
                self.drain_server(server);
            }
            Ev::ToClient { client, bytes } => {
                let local = self.client_clock(client);
                self.clients[client].client.handle_datagram(local, &bytes);
                self.drain_client(client);
            }
            Ev::PeerConnected { node, conn, dir } => {
                if !self.conns.contains_key(&conn) {
                    return;
                }
                let clock = self.server_clock(node);
                let peer = SocketAddrV4::new(SERVER_ADDR[1 - node], 647);
                if let Some(s) = self.servers[node].server.as_mut() {
                    s.handle_peer_connected(clock, conn, peer, dir);
                }
                self.drain_server(node);
            }
            Ev::PeerBytes { node, conn, bytes } => {
                if !self.conns.contains_key(&conn) {
                    return;
                }
                let clock = self.server_clock(node);
                if let Some(s) = self.servers[node].server.as_mut() {
                    s.handle_peer_bytes(clock, conn, &bytes);
                }
                self.drain_server(node);
            }
            Ev::PeerClosed { node, conn } => {
                let clock = self.server_clock(node);
                if let Some(s) = self.servers[node].server.as_mut() {
                    s.handle_peer_closed(clock, conn);
                }
                self.drain_server(node);
            }
            Ev::PeerConnectFailed { node } => {
                let clock = self.server_clock(node);
                if let Some(s) = self.servers[node].server.as_mut() {
                    s.handle_peer_connect_failed(clock);
                }
                self.drain_server(node);
            }
            Ev::Fault(i) => {
                let f = self.scenario.faults[i].clone();
                self.fault(&f.verb, None);
                self.after_fault(&f.verb);
            }
            Ev::Strike(k) => self.strike(k),
            Ev::Undo(k) => {
                let f = self.scenario.faults[self.triggers[k].fault].clone();
                if let (Some(undo), Some(t)) = (f.undo(), f.when) {
                    let detail = format!(
                        "the undo of faults[{}] {}, `for: {}` after it struck",
                        self.triggers[k].fault,
                        f,
                        t.undo_after.map_or(String::new(), |d| d.to_string())
                    );
                    self.triggered_last_at = Some(self.now);
                    self.fault(&undo, Some(detail));
                    self.after_fault(&undo);
                }
            }
            Ev::Flood => self.flood(),
            Ev::Liveness {
                generation,
                healed_at,
            } => {
                if generation == self.fault_generation && self.unhealthy().is_none() {
                    self.judge_liveness(healed_at);
                }
            }
            Ev::SecondLook { generation, differ } => {
                self.second_looks_pending -= 1;
                if generation == self.fault_generation && self.unhealthy().is_none() {
                    let views = [0, 1].map(|n| (server_name(n), self.binding_views(n)));
                    let still: Vec<(Ipv4Addr, String)> = Checker::database_differences(views)
                        .into_iter()
                        .filter(|(a, _)| differ.contains(a))
                        .collect();
                    let now = self.now;
                    self.checker.databases_agree(now, PAIR.relationship, still);
                }
            }
        }
    }

    /// One spoofed DISCOVER (hardware address 02:01:random, never a simulated client's), then
    /// the next one. Replies to it reach nobody.
    fn flood(&mut self) {
        let Some(f) = self.scenario.clients.flood.clone() else {
            return;
        };
        if self.now >= START + f.stop.0 {
            return;
        }
        let mut m = DhcpMessage::new(
            dhcpfo_engine::wire::dhcp::Op::Request,
            self.flood.random::<u32>(),
        );
        let r = self.flood.random::<u32>().to_be_bytes();
        m.chaddr[..6].copy_from_slice(&[0x02, 0x01, r[0], r[1], r[2], r[3]]);
        m.options
            .push(dhcpfo_engine::wire::dhcp::DhcpOption::MessageType(
                MessageType::Discover,
            ));
        let bytes = m.to_bytes();
        self.counts.dhcp_messages += 1;
        self.period.dhcp_requests += 1;
        if self.trace.wants_messages() {
            let src = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
            let dst = SocketAddrV4::new(Ipv4Addr::BROADCAST, 67);
            if let Some(m) =
                tracing::dhcp("flood".into(), "broadcast".into(), src, dst, None, &bytes)
            {
                self.note(Event::Dhcp(m));
            }
        }
        for (n, server_addr) in SERVER_ADDR.into_iter().enumerate() {
            if self.cut_clients[n] {
                continue;
            }
            let rx = Received {
                src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
                broadcast: true,
                interface: server_addr,
            };
            let at = self.now + Duration::from_millis(1);
            self.schedule(
                at,
                Ev::ToServer {
                    server: n,
                    rx,
                    bytes: bytes.clone(),
                },
            );
        }
        let gap = Duration::from_millis(1000 / u64::from(f.per_second.max(1)));
        let at = self.now + gap.max(Duration::from_millis(1));
        self.schedule(at, Ev::Flood);
    }

    fn boot(&mut self, n: usize) {
        let mut disk = self.servers[n].disk.clone();
        let records = match disk.load() {
            Ok(l) => l.records,
            Err(_) => Vec::new(),
        };
        let clock = self.server_clock(n);
        let config = self.servers[n].config.clone();
        match Server::new(config, disk, &records, clock) {
            Ok(s) => {
                // Durability: what the (re)started server holds, before it handles anything.
                let db: Vec<StoredLease> = s
                    .leases()
                    .iter()
                    .map(|b| StoredLease {
                        address: b.address,
                        state: b.state,
                        // The hardware address, as the checkers know a client, also for a
                        // binding the server keys by a client identifier (option 61).
                        client: b
                            .hw
                            .as_ref()
                            .map(|h| h.addr.clone())
                            .or_else(|| b.client().map(|k| k.hash_key().to_vec())),
                        expires_at: b.expires_at,
                    })
                    .collect();
                self.checker.restarted(self.now, server_name(n), &db);
                let mut s = s;
                s.watch_binding_changes();
                self.servers[n].server = Some(s);
            }
            Err(e) => {
                self.note(Event::BootFailed {
                    server: NAMES[n].into(),
                    error: e.to_string(),
                });
                return;
            }
        }
        self.servers[n].armed = None;
        self.coverage.booted(n);
        self.note(Event::Boot {
            server: NAMES[n].into(),
        });
        // What the server booted with: every binding that differs from what the trace last
        // recorded for it (a fresh database, or one restored from storage).
        self.trace_bindings(n, true);
        self.drain_server(n);
    }

    /// Server `n` reached `event`: count it for every armed trigger that waits for it, and fire
    /// those whose nth occurrence it is: at once without a delay (between two of the server's
    /// outputs: before what it sends next), else after the delay ([`Ev::Strike`]). `what` says
    /// more about the occurrence, for the trace.
    fn trigger(&mut self, n: usize, event: TriggerEvent, what: &str) {
        for k in 0..self.triggers.len() {
            let armed = &self.triggers[k];
            let f = &self.scenario.faults[armed.fault];
            let Some(t) = f.when else { continue };
            if armed.fired || t.server.index() != n || t.event != event {
                continue;
            }
            let disarm = START + t.disarm_at(self.scenario.duration);
            if self.now < START + f.at.0 || self.now > disarm {
                continue;
            }
            let armed = &mut self.triggers[k];
            armed.seen += 1;
            if armed.seen < t.nth {
                continue;
            }
            armed.fired = true;
            let delayed = if t.delay.0 > Duration::ZERO {
                format!(", struck {} later", t.delay)
            } else {
                String::new()
            };
            armed.detail = format!(
                "triggered: {} at {}{what}{delayed}",
                t.describe(),
                fmt_at(self.now)
            );
            if t.delay.0 == Duration::ZERO {
                self.strike(k);
            } else {
                let at = self.now + t.delay.0;
                self.schedule(at, Ev::Strike(k));
            }
        }
    }

    /// Triggered fault `k` strikes now, and its undo is scheduled `for` after. An UPDREQALL
    /// trigger whose exchange ended during the delay has missed: it waits for the next one.
    fn strike(&mut self, k: usize) {
        let f = self.scenario.faults[self.triggers[k].fault].clone();
        let Some(t) = f.when else { return };
        if t.event == TriggerEvent::After(Moment::Updreqall)
            && !self.awaiting_upddone[t.server.index()]
        {
            let armed = &mut self.triggers[k];
            armed.fired = false;
            armed.seen = t.nth - 1;
            return;
        }
        self.triggers[k].struck = true;
        self.triggered_last_at = Some(self.now);
        let detail = self.triggers[k].detail.clone();
        self.fault(&f.verb, Some(detail));
        self.after_fault(&f.verb);
        if f.undo().is_some() {
            let at = self.now + t.undo();
            self.schedule(at, Ev::Undo(k));
        }
    }

    /// Apply one fault (`detail`: what fired a triggered one, for the trace). Scheduled faults
    /// were checked to take effect ([`Scenario::validate`]); the nemesis's may overlap one
    /// another, so a crash of a server already down, or a restart of one already up, is a
    /// harmless no-op here.
    fn fault(&mut self, verb: &Verb, detail: Option<String>) {
        self.counts.faults += 1;
        // A forgery or a sloppy update is traced with what it did (see `note_injected`).
        if !matches!(verb, Verb::Forge { .. } | Verb::Incomplete { .. }) {
            let mut e = tracing::fault(verb, &NAMES);
            e.detail = detail;
            self.note(Event::Fault(e));
        }
        match *verb {
            Verb::Crash { node, storage } => self.crash(node.index(), storage),
            Verb::Restart { node } => {
                let n = node.index();
                if self.servers[n].server.is_none() {
                    self.boot(n);
                }
            }
            Verb::Partition { cut } => self.set_cut(cut, true),
            Verb::Heal { cut } => self.set_cut(cut, false),
            Verb::Admin { node, command } => {
                let n = node.index();
                let clock = self.server_clock(n);
                if let Some(s) = self.servers[n].server.as_mut() {
                    match command {
                        Command::PartnerDown => s.handle_admin(clock, Admin::PartnerDown),
                        Command::Pause => s.handle_admin(clock, Admin::Pause),
                        Command::Shutdown => s.handle_admin(clock, Admin::Shutdown),
                    }
                }
                self.drain_server(n);
            }
            Verb::ClockDrift { node, ppm } => {
                let n = node.index();
                // Fold the drift so far into the offset, then drift at the new rate.
                let now = self.now;
                self.servers[n].clock.set_drift(now, ppm);
                self.servers[n].armed = None;
                self.drain_server(n);
            }
            Verb::RebootClients => {
                for c in 0..self.clients.len() {
                    if self.clients[c].client.is_running() {
                        let local = self.client_clock(c);
                        self.clients[c].client.reboot(local);
                        self.drain_client(c);
                    }
                }
            }
            Verb::DelaySpike { delay_ms } => {
                self.scenario.network.delay_ms_mean = delay_ms;
            }
            Verb::Forge { to, release } => self.forge(to.index(), release),
            Verb::Incomplete { to, omit } => self.incomplete(to, omit),
            Verb::ClockOffset { node, offset_s } => {
                let n = node.index();
                let now = self.now;
                self.servers[n]
                    .clock
                    .set_offset(now, offset_s.saturating_mul(1000));
                // The node's timers were set on the old clock: let it look again.
                self.servers[n].armed = None;
                self.drain_server(n);
            }
        }
    }

    /// The trace's record of a forgery at `to`: the fault, with what it did.
    fn note_forge(&mut self, to: usize, victim: Victim, detail: String) {
        let to = if to == 0 {
            crate::scenario::Node::Primary
        } else {
            crate::scenario::Node::Secondary
        };
        let verb = Verb::Forge {
            to,
            release: victim,
        };
        self.note_injected(&verb, detail);
    }

    /// The trace's record of an injected update's fault (`verb`), with what it did.
    fn note_injected(&mut self, verb: &Verb, detail: String) {
        let mut f = tracing::fault(verb, &NAMES);
        f.detail = Some(detail);
        self.note(Event::Fault(f));
    }

    /// A BNDUPD of binding `b` with `pet`, in the run's dialect and dated now on the clock of
    /// server `from`, that no server sent: its xid the next from [`FORGED_XID_BASE`], so that
    /// the partner drops the BNDACK that answers it.
    fn injected_update(&mut self, b: &Binding, pet: Time, from: usize) -> Message {
        let mask = subnets(&self.scenario)
            .iter()
            .find(|net| net.contains(b.address))
            .map_or(Ipv4Addr::UNSPECIFIED, |net| net.mask);
        let xid = FORGED_XID_BASE.wrapping_add(self.forged);
        self.forged = self.forged.wrapping_add(1);
        let dialect = self.scenario.servers.dialect.dialect();
        let at = self.server_clock(from).as_unix_secs();
        messages::bndupd(at, xid, &[(b, pet, mask)], dialect)
    }

    /// Server `to`'s established failover connection, if it has one the world still carries.
    fn established_conn(&self, to: usize) -> Option<u64> {
        self.servers[to]
            .server
            .as_ref()
            .and_then(Server::relationship)
            .and_then(|r| r.established())
            .map(|l| l.conn)
            .filter(|c| self.conns.contains_key(c))
    }

    /// The address of the client quietest since its last DHCPACK, and that client (the
    /// lowest address on a tie), as the clients themselves see it.
    fn quietest_lease(&self) -> Option<(Ipv4Addr, usize)> {
        self.clients
            .iter()
            .enumerate()
            .filter_map(|(c, slot)| Some((slot.leased_at?, slot.client.lease()?.address, c)))
            .min()
            .map(|(_, address, c)| (address, c))
    }

    /// A sloppy partner sends server `to` an ACTIVE update missing `omit` (see
    /// [`Verb::Incomplete`]). Unlike a forgery it is the partner's word: it is signed as the
    /// partner signs, and the checkers read it as the partner's, so they judge the target's
    /// BNDACK (an update the draft says to reject must be rejected).
    fn incomplete(&mut self, to: Node, omit: Omit) {
        let verb = Verb::Incomplete { to, omit };
        let (n, from) = (to.index(), to.partner().index());
        let Some(conn) = self.established_conn(n) else {
            self.note_injected(&verb, "no connection".into());
            return;
        };
        let Some((address, holder)) = self.quietest_lease() else {
            self.note_injected(&verb, "no address leased".into());
            return;
        };
        // The holder's lease as the partner would send it, on the partner's clock (the
        // quietest lease has both times).
        let slot = &self.clients[holder];
        let (acked, ends) = (
            slot.leased_at.unwrap_or(self.now),
            slot.client.lease().map_or(self.now, |l| l.expires_at),
        );
        let clock = &self.servers[from].clock;
        let (cltt, end) = (clock.local(acked), clock.local(ends));
        let mut b = Binding::new(address, BindingState::Active);
        b.hw = Some(HwAddr {
            htype: 1,
            addr: mac_of(holder).to_vec(),
        });
        b.client_id = self.clients[holder].client.client_id().map(<[u8]>::to_vec);
        if omit == Omit::Client {
            // An empty hardware address, as Microsoft's servers send when they have none: an
            // update without the option at all is refused by the decoder already.
            (b.client_id, b.hw) = (
                None,
                Some(HwAddr {
                    htype: 0,
                    addr: Vec::new(),
                }),
            );
        }
        (b.cltt, b.state_since, b.expires_at) = (cltt, cltt, end);
        let dialect = self.scenario.servers.dialect.dialect();
        let mut msg = self.injected_update(&b, end, from);
        let xid = msg.xid;
        msg.options.retain(|o| match omit {
            Omit::Client => true,
            Omit::LeaseEnd => !matches!(o, FoOption::LeaseExpirationTime(_)),
            Omit::Pet => !matches!(o, FoOption::PotentialExpirationTime(_)),
        });
        let secret = self.scenario.servers.shared_secret.as_deref();
        let bytes = messages::encode(&msg, secret.map(str::as_bytes));
        let field = match omit {
            Omit::Client => "client",
            Omit::LeaseEnd => "lease-expiration-time",
            Omit::Pet => "potential-expiration-time",
        };
        self.note_injected(
            &verb,
            format!("ACTIVE {address} (client {holder}) without its {field}, xid {xid:#010x}"),
        );
        let end_of = |w: &World, k: usize| Endpoint {
            server: server_name(k),
            skew_ms: w.clock_skew_ms(k),
        };
        let link = Link {
            conn,
            pair: PAIR,
            from: end_of(self, from),
            to: end_of(self, n),
        };
        if self.trace.wants_messages() {
            let skew = self.clock_skew_ms(from);
            let sender = NAMES[from];
            if let Some(mut m) =
                tracing::failover(RELATIONSHIP, sender, NAMES[n], conn, &bytes, dialect, skew)
            {
                // Injected at the receiver's end of the link: it arrives at once.
                m.delivered_ms = Some(tracing::ms(self.now));
                self.note(Event::Failover(m));
            }
        }
        let now = self.now;
        self.checker.failover_message(now, &link, &msg, dialect);
        let clock = self.server_clock(n);
        if let Some(s) = self.servers[n].server.as_mut() {
            s.handle_peer_bytes(clock, conn, &bytes);
        }
        self.drain_server(n);
    }

    /// An attacker injects into server `to`'s established failover connection a BNDUPD as if
    /// from its partner, saying the client of `victim` released it (see [`Verb::Forge`]).
    ///
    /// The forged update goes straight into the target's byte stream (the attacker sits at the
    /// target's end of the link) as one whole frame between the partner's. It is not fed to
    /// the checkers: they judge what the servers send, and this is not the partner's word. The
    /// target's answer leaves through [`World::drain_server`] like any other; its xid matches
    /// no update the partner sent, so the checkers and the partner drop it.
    fn forge(&mut self, to: usize, victim: Victim) {
        let target = NAMES[to];
        let Some(conn) = self.established_conn(to) else {
            self.note_forge(to, victim, "no connection".into());
            return;
        };
        // The address and its holder, as the clients see them.
        let picked = match victim {
            // The lease longest unrenewed: the quietest client, whose release is the easiest
            // to believe, and whose address, released so long ago, is given out first.
            Victim::Leased => self.quietest_lease().map(|(address, c)| (address, Some(c))),
            Victim::Address(address) => {
                let holder = self
                    .clients
                    .iter()
                    .position(|slot| slot.client.lease().is_some_and(|l| l.address == address));
                Some((address, holder))
            }
        };
        let Some((address, holder)) = picked else {
            self.note_forge(to, victim, "no address leased".into());
            return;
        };
        // What a real release relayed by the partner carries, on the partner's clock: the
        // client, and as the time of the release one second after the client's last DHCPACK
        // (the attacker read that transaction time off the wire in the update that carried it).
        let from = 1 - to;
        let released = holder
            .and_then(|c| self.clients[c].leased_at)
            .map_or(self.now, |t| (t + Duration::from_secs(1)).min(self.now));
        let released_at = self.servers[from].clock.local(released);
        let mut b = Binding::new(address, BindingState::Released);
        b.hw = holder.map(|c| HwAddr {
            htype: 1,
            addr: mac_of(c).to_vec(),
        });
        (b.cltt, b.state_since, b.expires_at) = (released_at, released_at, released_at);
        let dialect = self.scenario.servers.dialect.dialect();
        let msg = self.injected_update(&b, released_at, from);
        let xid = msg.xid;
        let signed = self.scenario.servers.shared_secret.is_some();
        let bytes = messages::encode(&msg, signed.then_some(ATTACKER_SECRET));
        let detail = format!(
            "released {address} (client {}) dated {}, xid {xid:#010x}, digest {}",
            holder.map_or("none".into(), |c| c.to_string()),
            fmt_at(released),
            if signed {
                "signed with the wrong key"
            } else {
                "none"
            }
        );
        self.note_forge(to, victim, detail);
        if self.trace.wants_messages() {
            // On the wire it is a segment of the partner's stream: that is the forgery. The
            // trace names its real sender.
            let skew = self.clock_skew_ms(from);
            if let Some(mut m) = tracing::failover(
                RELATIONSHIP,
                "attacker",
                target,
                conn,
                &bytes,
                dialect,
                skew,
            ) {
                // Injected at the victim's end of the link: it arrives at once.
                m.delivered_ms = Some(tracing::ms(self.now));
                self.note(Event::Failover(m));
            }
        }
        let clock = self.server_clock(to);
        if let Some(s) = self.servers[to].server.as_mut() {
            s.handle_peer_bytes(clock, conn, &bytes);
        }
        self.drain_server(to);
    }

    /// Crash server `n` (if it runs): its storage keeps what `storage` says, its connections
    /// close.
    fn crash(&mut self, n: usize, storage: StorageLoss) {
        if let Some(s) = self.servers[n].server.take() {
            let mut disk = s.storage().clone();
            disk.crash(match storage {
                StorageLoss::KeepSynced => CrashMode::LoseUnsynced,
                StorageLoss::LoseAll => CrashMode::LoseEverything,
            });
            if storage == StorageLoss::LoseAll {
                self.checker.storage_lost(server_name(n));
            }
            self.servers[n].disk = disk;
            self.servers[n].state = None;
            self.awaiting_upddone[n] = false;
            self.coverage.crashed(n, storage == StorageLoss::LoseAll);
            let now = self.now;
            let skew = self.clock_skew_ms(n);
            self.checker
                .state(now, PAIR.relationship, server_name(n), None, skew);
            self.pool_balance.state(
                now,
                PAIR.relationship,
                server_name(n),
                None,
                &mut self.checker.violations,
            );
            // The process died: the kernel closes its sockets; the partner sees a close
            // unless a partition swallows it.
            let dead: Vec<u64> = self
                .conns
                .iter()
                .filter(|(_, (a, b))| *a == n || *b == n)
                .map(|(c, _)| *c)
                .collect();
            // What the dead process had sent across a cut dies with it.
            self.held[n].clear();
            for c in dead {
                self.conns.remove(&c);
                self.checker.connection_closed(c);
                let blackholed = self.cut_servers[n];
                let delivered_ms = (!blackholed).then(|| tracing::ms(self.now + self.tcp_delay()));
                self.note(Event::ConnClose {
                    conn: c,
                    by: NAMES[n].into(),
                    delivered_ms,
                    blackholed,
                });
                if !blackholed {
                    let at = self.now + self.tcp_delay();
                    self.schedule(
                        at,
                        Ev::PeerClosed {
                            node: 1 - n,
                            conn: c,
                        },
                    );
                }
            }
        }
    }

    fn set_cut(&mut self, cut: Cut, on: bool) {
        match cut {
            Cut::Servers => self.cut_servers = [on, on],
            Cut::PrimaryToSecondary => self.cut_servers[0] = on,
            Cut::SecondaryToPrimary => self.cut_servers[1] = on,
            Cut::PrimaryClients => self.cut_clients[0] = on,
            Cut::SecondaryClients => self.cut_clients[1] = on,
        }
        for n in 0..2 {
            if !self.cut_servers[n] {
                self.release_held(n);
            }
        }
    }

    /// The cut from server `n` is gone: TCP retransmits what it held, in order, one link delay
    /// from now. Bytes of a connection closed meanwhile reach nobody ([`Ev::PeerBytes`]).
    fn release_held(&mut self, n: usize) {
        let at = self.now + self.tcp_delay();
        for (conn, what) in std::mem::take(&mut self.held[n]) {
            let node = 1 - n;
            let e = match what {
                Some(bytes) => Ev::PeerBytes { node, conn, bytes },
                None => Ev::PeerClosed { node, conn },
            };
            self.schedule(at, e);
        }
    }

    /// Carry out every output of a server, then arm its timer.
    fn drain_server(&mut self, n: usize) {
        // Bound: a server's output queue is itself bounded (4 096).
        while let Some(out) = self.servers[n]
            .server
            .as_mut()
            .and_then(Server::poll_output)
        {
            match out {
                Output::Dhcp(t) => {
                    self.counts.dhcp_messages += 1;
                    self.period.dhcp_replies += 1;
                    // Read through the codec (STYLE.md 19a): its cheap view of the reply.
                    let reply = DhcpSummary::read(&t.bytes);
                    // The reply carries the client's hardware address (RFC 2131 chaddr).
                    let client = reply.and_then(|r| client_of_mac(&r.chaddr[..6]));
                    if let Some(r) = reply {
                        self.observe_reply(n, &r);
                    }
                    let acked = reply
                        .filter(|r| r.kind == Some(MessageType::Ack))
                        .map(|r| r.yiaddr);
                    if self.trace.wants_messages() {
                        let to = client.map_or("unknown".into(), |c| format!("client {c}"));
                        let src = SocketAddrV4::new(SERVER_ADDR[n], 67);
                        if let Some(m) =
                            tracing::dhcp(NAMES[n].into(), to, src, t.to, client, &t.bytes)
                        {
                            self.note(Event::Dhcp(m));
                        }
                    }
                    if let Some(client) = client.filter(|&c| c < self.clients.len())
                        && !self.cut_clients[n]
                    {
                        for d in self.udp_delays(client) {
                            let at = self.now + d;
                            self.schedule(
                                at,
                                Ev::ToClient {
                                    client,
                                    bytes: t.bytes.clone(),
                                },
                            );
                        }
                    }
                    // Gone to the client: the moment before the BNDUPD that carries it.
                    if let Some(address) = acked
                        && !self.triggers.is_empty()
                    {
                        let to = client.map_or(String::new(), |c| format!(" to client {c}"));
                        let what = format!(" (DHCPACK of {address}{to})");
                        self.trigger(n, TriggerEvent::After(Moment::Dhcpack), &what);
                    }
                }
                Output::PeerConnect { .. } => {
                    let peer = 1 - n;
                    let at = self.now + self.tcp_delay();
                    // A handshake needs both directions.
                    let cut = self.cut_servers.iter().any(|c| *c);
                    if self.servers[peer].server.is_some() && !cut {
                        let conn = self.next_conn;
                        self.next_conn += 1;
                        self.conns.insert(conn, (n, peer));
                        if self.trace.wants_messages() {
                            // An ephemeral port per connection on the dialing side.
                            let from =
                                SocketAddrV4::new(SERVER_ADDR[n], 40_000 + (conn % 20_000) as u16);
                            let to = SocketAddrV4::new(SERVER_ADDR[peer], 647);
                            self.note(Event::ConnOpen {
                                conn,
                                dialer: NAMES[n].into(),
                                acceptor: NAMES[peer].into(),
                                from: from.to_string(),
                                to: to.to_string(),
                            });
                        }
                        self.schedule(
                            at,
                            Ev::PeerConnected {
                                node: n,
                                conn,
                                dir: Direction::Dialed,
                            },
                        );
                        self.schedule(
                            at,
                            Ev::PeerConnected {
                                node: peer,
                                conn,
                                dir: Direction::Accepted,
                            },
                        );
                    } else {
                        // Refused (nobody listens) or, across a partition, a SYN timeout.
                        let at = if cut {
                            self.now + Duration::from_secs(3)
                        } else {
                            at
                        };
                        self.schedule(at, Ev::PeerConnectFailed { node: n });
                    }
                }
                Output::PeerSend { conn, bytes } => {
                    let kind = Message::peek_type(&bytes);
                    if !self.triggers.is_empty() {
                        self.peer_send_triggers(n, kind, &bytes);
                        if self.servers[n].server.is_none() {
                            // A triggered crash took the sender down before this left it.
                            continue;
                        }
                    }
                    self.counts.failover_messages += 1;
                    self.period.failover_messages += 1;
                    self.coverage.message(n, conn, &bytes);
                    if self.trace.wants_messages() && self.conns.contains_key(&conn) {
                        let dialect = self.scenario.servers.dialect.dialect();
                        let skew = self.clock_skew_ms(n);
                        if let Some(mut m) = tracing::failover(
                            RELATIONSHIP,
                            NAMES[n],
                            NAMES[1 - n],
                            conn,
                            &bytes,
                            dialect,
                            skew,
                        ) {
                            // Where it goes, decided below: the partner after the link's
                            // delay, or nowhere across a cut.
                            m.blackholed = self.cut_servers[n];
                            m.delivered_ms =
                                (!m.blackholed).then(|| tracing::ms(self.now + self.tcp_delay()));
                            self.note(Event::Failover(m));
                        }
                    }
                    // The MCLT checker reads BNDUPD and BNDACK only.
                    if matches!(
                        Message::peek_type(&bytes),
                        Some(FoMessageType::BndUpd | FoMessageType::BndAck)
                    ) && let Ok(msg) =
                        Message::parse(&bytes, self.scenario.servers.dialect.dialect())
                    {
                        let end = |k: usize| Endpoint {
                            server: server_name(k),
                            skew_ms: self.clock_skew_ms(k),
                        };
                        // Every failover connection joins the pair: it carries the message
                        // to the sender's partner.
                        let link = Link {
                            conn,
                            pair: PAIR,
                            from: end(n),
                            to: end(1 - n),
                        };
                        let now = self.now;
                        let dialect = self.scenario.servers.dialect.dialect();
                        self.checker.failover_message(now, &link, &msg, dialect);
                        self.pool_balance.failover_message(
                            now,
                            &link,
                            &msg,
                            &mut self.checker.violations,
                        );
                    }
                    let Some(&(a, b)) = self.conns.get(&conn) else {
                        continue;
                    };
                    let to = if a == n { b } else { a };
                    if self.cut_servers[n] {
                        self.held[n].push((conn, Some(bytes)));
                    } else {
                        let at = self.now + self.tcp_delay();
                        self.schedule(
                            at,
                            Ev::PeerBytes {
                                node: to,
                                conn,
                                bytes,
                            },
                        );
                    }
                    // Sent: the exchange it opens is under way.
                    if kind == Some(FoMessageType::UpdReqAll) && !self.triggers.is_empty() {
                        self.trigger(n, TriggerEvent::After(Moment::Updreqall), "");
                    }
                }
                Output::PeerClose { conn } => {
                    if self.conns.contains_key(&conn) {
                        let blackholed = self.cut_servers[n];
                        let delivered_ms =
                            (!blackholed).then(|| tracing::ms(self.now + self.tcp_delay()));
                        self.note(Event::ConnClose {
                            conn,
                            by: NAMES[n].into(),
                            delivered_ms,
                            blackholed,
                        });
                    }
                    self.checker.connection_closed(conn);
                    if let Some((a, b)) = self.conns.remove(&conn) {
                        let to = if a == n { b } else { a };
                        if self.cut_servers[n] {
                            self.held[n].push((conn, None));
                        } else {
                            let at = self.now + self.tcp_delay();
                            self.schedule(at, Ev::PeerClosed { node: to, conn });
                        }
                    }
                }
                Output::FailoverState { from, to } => {
                    self.servers[n].state = Some(to);
                    let now = self.now;
                    self.coverage.state(now, n, from, to);
                    let skew = self.clock_skew_ms(n);
                    self.checker
                        .state(now, PAIR.relationship, server_name(n), Some(to), skew);
                    self.pool_balance.state(
                        now,
                        PAIR.relationship,
                        server_name(n),
                        Some(to),
                        &mut self.checker.violations,
                    );
                    let relationship = RELATIONSHIP.to_string();
                    self.note(Event::State {
                        server: NAMES[n].into(),
                        relationship,
                        from: from.name().into(),
                        to: to.name().into(),
                    });
                    if !self.triggers.is_empty() {
                        let what = format!(" (from {})", from.name());
                        self.trigger(n, TriggerEvent::Enters(to), &what);
                    }
                }
            }
        }
        self.trace_bindings(n, false);
        let next = self.servers[n]
            .server
            .as_ref()
            .and_then(Server::poll_timeout);
        if let Some(t) = next {
            // Back from the server's clock (drift is slow: the skew at now is close enough, and
            // a timer a few ms early is a harmless no-op for the engine).
            let net_t =
                Time::from_millis((t.as_millis() as i64 - self.clock_skew_ms(n)).max(0) as u64);
            let net_t = net_t.max(self.now);
            if self.servers[n].armed != Some(net_t) {
                self.servers[n].armed = Some(net_t);
                self.schedule(net_t, Ev::ServerTimer(n));
            }
        }
    }

    /// The triggers of a failover message server `n` is about to send: a BNDACK is the moment
    /// between its partner's BNDUPD and the acknowledgement (a forged update's is not: no
    /// partner sent it); UPDREQALL opens the exchange its partner's UPDDONE closes.
    fn peer_send_triggers(&mut self, n: usize, kind: Option<FoMessageType>, bytes: &[u8]) {
        match kind {
            Some(FoMessageType::BndAck) => {
                let dialect = self.scenario.servers.dialect.dialect();
                let forged = Message::parse(bytes, dialect).is_ok_and(|m| m.xid >= FORGED_XID_BASE);
                if !forged {
                    let what = format!(" (the {}'s BNDACK not yet sent)", NAMES[n]);
                    self.trigger(1 - n, TriggerEvent::After(Moment::Bndupd), &what);
                }
            }
            Some(FoMessageType::UpdReqAll) => self.awaiting_upddone[n] = true,
            Some(FoMessageType::UpdDone) => self.awaiting_upddone[1 - n] = false,
            _ => {}
        }
    }

    /// A DHCPACK leaving a server is checked against the MCLT rule and kept for durability; a
    /// NAK is checked against the durability and lease-stability rules for the address its
    /// client's REQUEST asked for.
    fn observe_reply(&mut self, n: usize, r: &DhcpSummary) {
        self.coverage.reply(n, r.kind);
        let Some(client) = client_of_mac(&r.chaddr[..6]) else {
            return;
        };
        // In true time: the lease a reply grants is relative (RFC 2132 option 51), so it ends
        // its length after the moment it leaves, whatever the server's clock says.
        let now = self.now;
        match r.kind {
            Some(MessageType::Ack) => {
                if let Some(secs) = r.lease_time_s {
                    let end = now + Duration::from_secs(u64::from(secs));
                    let mclt = self.mclt;
                    let skew = self.clock_skew_ms(n);
                    let (rel, server) = (PAIR.relationship, server_name(n));
                    self.checker
                        .granted(now, rel, server, skew, client, r.yiaddr, end, mclt);
                    self.checker.ack_sent(now, server, client, r.yiaddr, skew);
                }
            }
            Some(MessageType::Nak) => {
                // A NAK names no address (RFC 2131 Table 3): it answers the REQUEST with its xid,
                // so it refuses what the client's REQUEST in flight asks for. A NAK for an
                // exchange the client has left is ignored by it and judged by nobody.
                let asked = self
                    .clients
                    .get(client)
                    .and_then(|s| s.client.request_in_flight());
                if let Some((xid, address)) = asked
                    && xid == r.xid
                {
                    let mac = mac_of(client);
                    let (rel, server) = (PAIR.relationship, server_name(n));
                    self.checker.nak(now, rel, server, client, &mac, address);
                }
            }
            _ => {}
        }
    }

    /// A client's RELEASE reached server `n`: from now on the server knows the client gave
    /// that lease up, whatever its partner told it before.
    /// Cheap first: a RELEASE names its address in ciaddr (RFC 2131 §4.4.6, bytes 12..16),
    /// which a DISCOVER or a SELECTING REQUEST leaves zero, so most datagrams stop there.
    fn observe_release(&mut self, n: usize, bytes: &[u8]) {
        let Some(&[a, b, c, d]) = bytes.get(12..16) else {
            return;
        };
        let ciaddr = Ipv4Addr::new(a, b, c, d);
        if ciaddr.is_unspecified() {
            return;
        }
        let Some(m) = DhcpSummary::read(bytes) else {
            return;
        };
        if m.kind != Some(MessageType::Release) {
            return;
        }
        let (rel, server) = (PAIR.relationship, server_name(n));
        self.checker
            .release_received(rel, server, &m.chaddr[..6], ciaddr);
    }

    /// The client other than `c` configured with `address`, if any: what an ARP probe for it
    /// would hear from (a client holds its lease's address in BOUND, RENEWING and REBINDING).
    /// One pass over the clients, paid only by scenarios that probe, once per new address.
    fn configured_with(&self, c: usize, address: Ipv4Addr) -> Option<usize> {
        self.clients.iter().enumerate().find_map(|(i, slot)| {
            let held = slot.client.lease().is_some_and(|l| l.address == address);
            (i != c && held).then_some(i)
        })
    }

    /// Carry out every output of a client, then arm its timer.
    fn drain_client(&mut self, c: usize) {
        while let Some(out) = self.clients[c].client.poll_output() {
            match out {
                ClientOutput::Send {
                    bytes,
                    broadcast,
                    to,
                } => {
                    self.counts.dhcp_messages += 1;
                    // A client that has an address sends from it: it fills ciaddr then
                    // (RFC 2131 §4.4.5 RENEWING and REBINDING, a RELEASE), and a RELEASE has
                    // already dropped the lease by the time its datagram leaves.
                    let ciaddr =
                        DhcpMessage::parse(&bytes).map_or(Ipv4Addr::UNSPECIFIED, |m| m.ciaddr);
                    let src_ip = if ciaddr.is_unspecified() {
                        to.map_or(Ipv4Addr::UNSPECIFIED, |_| {
                            self.clients[c]
                                .client
                                .lease()
                                .map_or(Ipv4Addr::UNSPECIFIED, |l| l.address)
                        })
                    } else {
                        ciaddr
                    };
                    let segment = c % self.scenario.clients.segments.max(1) as usize;
                    // A broadcast from a remote segment reaches the servers through its relay:
                    // unicast, from the relay's port 67, with giaddr and hops set (RFC 1542).
                    let relayed = broadcast && segment > 0;
                    let (bytes, src) = if relayed {
                        let mut b = bytes;
                        if let Some(g) = b.get_mut(24..28) {
                            g.copy_from_slice(&relay_of(segment).octets());
                        }
                        if let Some(h) = b.get_mut(3) {
                            *h = h.saturating_add(1);
                        }
                        (b, SocketAddrV4::new(relay_of(segment), 67))
                    } else {
                        (bytes, SocketAddrV4::new(src_ip, 68))
                    };
                    self.period.dhcp_requests += 1;
                    // What the segment carries: the client's broadcast, or its unicast to a
                    // server; a relay's forwards are recorded per server below.
                    if self.trace.wants_messages() && !relayed {
                        let (name, dst) = match to {
                            Some(ip) if !broadcast => (
                                SERVER_ADDR
                                    .iter()
                                    .position(|a| *a == ip)
                                    .map_or_else(|| ip.to_string(), |k| NAMES[k].to_string()),
                                SocketAddrV4::new(ip, 67),
                            ),
                            _ => (
                                "broadcast".to_string(),
                                SocketAddrV4::new(Ipv4Addr::BROADCAST, 67),
                            ),
                        };
                        if let Some(m) =
                            tracing::dhcp(format!("client {c}"), name, src, dst, Some(c), &bytes)
                        {
                            self.note(Event::Dhcp(m));
                        }
                    }
                    for (n, server_addr) in SERVER_ADDR.into_iter().enumerate() {
                        let addressed = broadcast || to == Some(server_addr);
                        if !addressed || self.cut_clients[n] {
                            continue;
                        }
                        if relayed && self.trace.wants_messages() {
                            let dst = SocketAddrV4::new(server_addr, 67);
                            let from = format!("relay {segment}");
                            if let Some(m) =
                                tracing::dhcp(from, NAMES[n].into(), src, dst, Some(c), &bytes)
                            {
                                self.note(Event::Dhcp(m));
                            }
                        }
                        for d in self.udp_delays(c) {
                            let rx = Received {
                                src,
                                broadcast: broadcast && !relayed,
                                interface: server_addr,
                            };
                            // The relay's hop costs one more network delay.
                            let at = self.now + d + if relayed { d } else { Duration::ZERO };
                            self.schedule(
                                at,
                                Ev::ToServer {
                                    server: n,
                                    rx,
                                    bytes: bytes.clone(),
                                },
                            );
                        }
                    }
                }
                ClientOutput::Leased(l) => {
                    let now = self.now;
                    // The lease ends when the client's own clock says so: in true time for
                    // the checkers.
                    let until = self.clients[c].clock.to_true(l.expires_at);
                    // What the server granted, in true time: the lease's length from now. A
                    // server owes that, not the extra a slow client clock adds.
                    let granted_until = now + l.expires_at.saturating_since(self.client_clock(c));
                    // The ACK's server identifier names the server that sent it.
                    if let Some(k) = SERVER_ADDR.iter().position(|a| *a == l.server_id) {
                        let mac = mac_of(c);
                        self.checker.received(
                            c,
                            server_name(k),
                            &mac,
                            l.address,
                            granted_until.min(until),
                        );
                    }
                    let holder = if self.scenario.clients.arp_probe && l.newly_offered {
                        self.checker.probes += 1;
                        self.configured_with(c, l.address)
                    } else {
                        None
                    };
                    if let Some(holder) = holder {
                        // The probe is answered: DECLINE (RFC 2131 §4.4.1). The servers still
                        // granted one address twice: that is reported, not hidden.
                        self.checker.duplicate_declined(now, c, holder, l.address);
                        self.note(Event::Declined {
                            client: c as u32,
                            address: l.address.to_string(),
                            holder: holder as u32,
                        });
                        let local = self.client_clock(c);
                        self.clients[c].client.address_in_use(local);
                        continue;
                    }
                    self.clients[c].unleased_since = None;
                    self.clients[c].leased_at = Some(now);
                    self.checker.leased(now, c, l.address, until);
                    self.coverage.client_leased(c, &l);
                    self.note(Event::Lease {
                        client: c as u32,
                        address: l.address.to_string(),
                        until_ms: tracing::ms(until),
                    });
                }
                ClientOutput::Lost { address, why } => {
                    self.clients[c].unleased_since = Some(self.now);
                    self.coverage.client_lost(c, address, why);
                    self.checker.lost(c, address, why);
                    self.note(Event::Lost {
                        client: c as u32,
                        address: address.to_string(),
                        why: format!("{why:?}"),
                    });
                }
            }
        }
        if let Some(t) = self.clients[c].client.poll_timeout() {
            // Back from the client's clock; a timer a millisecond early is a no-op for it.
            let t = self.clients[c].clock.to_true(t).max(self.now);
            if self.clients[c].armed != Some(t) {
                self.clients[c].armed = Some(t);
                self.schedule(t, Ev::ClientTimer(c));
            }
        }
    }
}

/// Client `i`'s clock: true time, unless the scenario gives clients clocks of their own
/// (`clients.clock_offset_max`, `clients.clock_drift_max_ppm`), drawn from the client's own
/// stream so that the setting changes nothing else a run draws.
fn client_clock(clients: &crate::scenario::Clients, seed: u64, i: usize) -> Clock {
    let (offset_max_ms, drift_max) = (
        clients.clock_offset_max.0.as_millis() as i64,
        i32::try_from(clients.clock_drift_max_ppm).unwrap_or(i32::MAX),
    );
    if offset_max_ms == 0 && drift_max == 0 {
        return Clock::new(0, 0, START);
    }
    let mut rng = stream(seed, "client-clock", i as u64);
    let offset_ms = rng.random_range(-offset_max_ms..=offset_max_ms);
    let drift_ppm = rng.random_range(-drift_max..=drift_max);
    Clock::new(offset_ms, drift_ppm, START)
}

/// The nemesis's faults for a seed (see [`crate::scenario::Nemesis`]): each a fault and its
/// undo, drawn from the "nemesis" stream. Drawn faults may overlap one another (two crashes of
/// one server, two cuts of one link); `World::fault` takes the second crash, restart,
/// partition or heal as a no-op: the scheduled faults' rules (`Scenario::validate`) are not
/// the nemesis's, whose own overlaps are part of what it draws.
pub fn nemesis_faults(n: &crate::scenario::Nemesis, seed: u64) -> Vec<Fault> {
    use crate::scenario::{Node, Span};
    let mut rng = stream(seed, "nemesis", 0);
    let (start, last) = (n.start.0.as_millis(), n.heal_by.0.as_millis());
    let max = n.max_outage.0.as_millis().max(1000);
    let mut out = Vec::new();
    for _ in 0..n.faults {
        let length = rng.random_range(1000..=max);
        let begin = rng.random_range(start..=last.saturating_sub(length).max(start));
        let (at, until) = (
            Span(Duration::from_millis(begin)),
            Span(Duration::from_millis((begin + length).min(last))),
        );
        let node = if rng.random_bool(0.5) {
            Node::Primary
        } else {
            Node::Secondary
        };
        let (verb, undo) = match rng.random_range(0..4u8) {
            0 => (
                Verb::Crash {
                    node,
                    storage: StorageLoss::KeepSynced,
                },
                Verb::Restart { node },
            ),
            1 => (
                Verb::Partition { cut: Cut::Servers },
                Verb::Heal { cut: Cut::Servers },
            ),
            2 => {
                let cut = match node {
                    Node::Primary => Cut::PrimaryClients,
                    Node::Secondary => Cut::SecondaryClients,
                };
                (Verb::Partition { cut }, Verb::Heal { cut })
            }
            _ => (
                Verb::ClockOffset {
                    node,
                    offset_s: rng.random_range(-30..=30),
                },
                Verb::ClockOffset { node, offset_s: 0 },
            ),
        };
        out.push(Fault::at(at, verb));
        out.push(Fault::at(until, undo));
    }
    out
}

/// The MAC of client `i`: 02:00 (locally administered) + the index.
pub fn mac_of(i: usize) -> [u8; 6] {
    let b = (i as u32).to_be_bytes();
    [0x02, 0x00, b[0], b[1], b[2], b[3]]
}

fn client_of_mac(mac: &[u8]) -> Option<usize> {
    match mac {
        [0x02, 0x00, a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d]) as usize),
        _ => None,
    }
}

/// The relay agent of segment `k` (k ≥ 1): its address, the giaddr of what it forwards.
pub(crate) fn relay_of(k: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, k as u8, 0, 1)
}

/// One subnet per segment: 10.k.0.0/16, its share of the pool from 10.k.1.0
/// ([`Scenario::pool_ranges`]).
pub(crate) fn subnets(s: &Scenario) -> Vec<Subnet> {
    s.pool_ranges()
        .into_iter()
        .enumerate()
        .map(|(k, (first, last))| Subnet {
            network: Ipv4Addr::new(10, k as u8, 0, 0),
            mask: Ipv4Addr::new(255, 255, 0, 0),
            ranges: vec![AddressRange { first, last }],
            routers: vec![if k == 0 {
                Ipv4Addr::new(10, 0, 0, 254)
            } else {
                relay_of(k)
            }],
            dns_servers: vec![],
            domain_name: None,
        })
        .collect()
}

/// The pool-balance checker for a scenario's pair, pools and bound.
fn pool_balance_checker(s: &Scenario) -> crate::pool_balance::PoolBalance {
    use crate::pool_balance::{PoolBalance, Serving};
    let serving = match s.servers.mode {
        PairMode::HotStandby => Serving::HotStandby,
        PairMode::LoadBalance => Serving::LoadBalance,
    };
    let pools: Vec<Vec<(Ipv4Addr, Ipv4Addr)>> = subnets(s)
        .iter()
        .map(|n| n.ranges.iter().map(|r| (r.first, r.last)).collect())
        .collect();
    let dialect = s.servers.dialect.dialect();
    let bound = s.checks.pool_balance_within.0;
    PoolBalance::new(PAIR, serving, dialect, &pools, bound)
}

fn server_config(s: &Scenario, i: usize) -> ServerConfig {
    let role = if i == 0 {
        Role::Primary
    } else {
        Role::Secondary
    };
    let lease_s = s.servers.lease_time.0.as_secs() as u32;
    let mode = match (s.servers.mode, role) {
        (PairMode::HotStandby, _) => Mode::HotStandby,
        (PairMode::LoadBalance, Role::Primary) => Mode::LoadBalance {
            split: Some(128),
            hba: None,
            max_secs: 3,
        },
        (PairMode::LoadBalance, Role::Secondary) => Mode::LoadBalance {
            split: None,
            hba: None,
            max_secs: 3,
        },
    };
    ServerConfig {
        server_id: SERVER_ADDR[i],
        lease: LeaseTimes {
            default_s: lease_s,
            min_s: lease_s.min(60),
            max_s: lease_s.max(60),
            t1_permille: 500,
            t2_permille: 875,
        },
        subnets: subnets(s),
        reservations: vec![],
        offer_hold_s: 60,
        failover: Some(RelationshipConfig {
            name: RELATIONSHIP.into(),
            role,
            local_address: SERVER_ADDR[i],
            local_port: 647,
            peer_address: SERVER_ADDR[1 - i],
            peer_port: 647,
            mclt_s: s.servers.mclt.0.as_secs() as u32,
            mode,
            max_unacked_bndupd: 10,
            dialect: s.servers.dialect,
            shared_secret: s.servers.shared_secret.clone(),
            max_clock_delta_s: s.servers.max_clock_delta.0.as_secs() as u32,
            time_correction: s.servers.time_correction,
            receive_timer_s: Some(s.servers.receive_timer.0.as_secs().max(1) as u32),
            safe_period_s: Some(s.servers.safe_period.map_or(0, |p| p.0.as_secs() as u32)),
            startup_s: None,
            connect_retry_s: None,
            sync_timer_s: None,
            rebalance_s: None,
            pool_balance: Default::default(),
            set_bucket_serves: BucketOwner::Primary,
        }),
        bugs: s.bugs,
    }
}
