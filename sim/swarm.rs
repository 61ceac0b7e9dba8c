//! Swarm testing (STYLE.md 17; TigerBeetle's VOPR `options_swarm`): the seed draws the whole
//! world, not only its faults. A scenario with a `swarm:` block names the run (name, duration,
//! expectation) and the swarm's bounds; [`draw`] turns it and a seed into a concrete scenario —
//! pair mode, MCLT, lease time, pool against client count, dialect, the clients' mix of traits,
//! the network, and which fault kinds are on and how often — as a pure function of the two,
//! from the run's own `swarm` streams. Each seed explores a different world, and some fault
//! kinds are off in each, so that a flaw one kind would mask is not always masked.
//!
//! **Safe settings only**, so that the correct engine must pass every seed: no safe period (an
//! automatic PARTNER-DOWN while the partner is merely cut off is a documented hazard, I18), no
//! operator PARTNER-DOWN or SHUTDOWN except on a partner that has really crashed, with the
//! failover link whole from then until ten minutes after it is back (the operator's promise
//! that it is down and cannot serve meanwhile), or on one isolated from its partner and its
//! clients alike, which meets its clients again only minutes after its partner ([`isolated`]:
//! the conflict resolution of draft-12 §9.10 on real conflicts); clock offsets and drift that keep each server
//! within half the tolerated delta of true time; the clock delta corrected (draft-12 §5.10);
//! at most one crash that loses the whole database (the checkers account for it); and time
//! after the last fault for the pair to converge. Faults are written out as scheduled faults
//! in lanes — the servers' processes, the failover link, the servers' client sides, each
//! server's clock, the network's delay, client reboots — each lane a sequence of episodes that
//! never overlap, so the schedule passes [`Scenario::validate`] like a hand-written one. An edge
//! lane (its own stream) adds faults triggered by the protocol's events, with their undo
//! ([`EdgeLane`]); a signed Microsoft world may have an attacker forging releases.
//!
//! The repro of a swarm seed holds the drawn scenario ([`concrete`]), with no `swarm:` block:
//! replay and shrink work on it unchanged.

use dhcpfo_engine::failover::DialectName;
use dhcpfo_engine::time::Duration;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::client::{ClientConfig, PARAMETER_REQUEST_LIST};
use crate::scenario::{
    Checks, ClientMix, Clients, Command, Cut, Fault, Moment, Network, Node, Omit, PairMode,
    Scenario, Servers, Span, State, StorageLoss, Trigger, TriggerEvent, Verb, Victim,
};
use crate::world::stream;

/// The `swarm:` block: the bounds of the worlds drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Swarm {
    /// The most clients a drawn world has (it draws from 10 to this).
    #[serde(default = "default_max_clients")]
    pub max_clients: u32,
    /// The most fault episodes a drawn world has (a crash and its restart, a cut and its heal,
    /// a clock set and set back are one episode each).
    #[serde(default = "default_max_faults")]
    pub max_faults: u32,
}

fn default_max_clients() -> u32 {
    200
}
fn default_max_faults() -> u32 {
    40
}

impl Default for Swarm {
    fn default() -> Self {
        Swarm {
            max_clients: default_max_clients(),
            max_faults: default_max_faults(),
        }
    }
}

/// The shortest run a swarm draws for: enough for faults and, after them, the longest
/// convergence a drawn world may need.
pub const MIN_DURATION: Duration = Duration::from_mins(240);

/// When the drawn faults may start.
const FAULTS_FROM: Duration = Duration::from_mins(10);

/// Check a scenario's `swarm:` block: its bounds, and that the sections it draws are left out
/// (they would be overwritten: every field takes effect or is an error).
pub fn check(s: &Scenario, sw: &Swarm) -> Result<(), String> {
    if !(10..=5000).contains(&sw.max_clients) {
        return Err(format!(
            "swarm.max_clients {} must be 10..=5000",
            sw.max_clients
        ));
    }
    if !(1..=500).contains(&sw.max_faults) {
        return Err(format!(
            "swarm.max_faults {} must be 1..=500",
            sw.max_faults
        ));
    }
    if s.duration.0 < MIN_DURATION {
        return Err(format!(
            "a swarm run needs a duration of at least {} (faults, then time to converge)",
            Span(MIN_DURATION)
        ));
    }
    let drawn = [
        ("servers", s.servers == Servers::default()),
        ("clients", s.clients == Clients::default()),
        ("network", s.network == Network::default()),
        ("faults", s.faults.is_empty()),
        ("nemesis", s.nemesis.is_none()),
        ("checks", s.checks == Checks::default()),
    ];
    if let Some((name, _)) = drawn.iter().find(|(_, default)| !default) {
        return Err(format!(
            "`{name}:` does nothing in a swarm scenario: the swarm draws it from the seed \
             (leave it out, or drop `swarm:`)"
        ));
    }
    Ok(())
}

/// The scenario a seed of `s` runs: the drawn one for a swarm scenario, `s` itself otherwise.
pub fn concrete(s: &Scenario, seed: u64) -> Scenario {
    match &s.swarm {
        Some(sw) => draw(s, sw, seed),
        None => s.clone(),
    }
}

/// Pick one of `items`.
fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A probability in `lo..=hi`, rounded to thousandths (so that it reads and writes back
/// exactly as printed).
fn probability(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    let p = rng.random_range(lo..=hi);
    (p * 1000.0).round() / 1000.0
}

fn mins(m: u64) -> Span {
    Span(Duration::from_mins(m))
}

fn secs(s: u64) -> Span {
    Span(Duration::from_secs(s))
}

/// Draw the world of `seed` for swarm scenario `base` (see the module doc). A pure function of
/// (`base`, `swarm`, `seed`); the result has no `swarm:` block and passes
/// [`Scenario::validate`].
pub fn draw(base: &Scenario, swarm: &Swarm, seed: u64) -> Scenario {
    let mut rng = stream(seed, "swarm", 0);
    let mut lease_m = pick(&mut rng, &[10u64, 15, 20, 30, 45, 60]);
    let mclt_s = rng.random_range(60..=(lease_m * 60).min(15 * 60));
    let dialect = if rng.random_bool(0.3) {
        DialectName::Microsoft
    } else {
        DialectName::Isc
    };
    let mut servers = Servers {
        mode: if rng.random_bool(0.5) {
            PairMode::LoadBalance
        } else {
            PairMode::HotStandby
        },
        mclt: secs(mclt_s),
        lease_time: mins(lease_m),
        receive_timer: secs(pick(&mut rng, &[10, 30, 60])),
        dialect,
        shared_secret: rng.random_bool(0.4).then(|| "swarm-secret".to_string()),
        ..Servers::default()
    };
    let count = rng.random_range(10..=swarm.max_clients);
    let ratio = rng.random_range(1.2..=3.0f64);
    let segments = rng.random_range(1..=3u32);
    servers.pool_size = ((f64::from(count) * ratio).ceil() as u32).clamp(segments.max(8), 60_000);
    let stay = rng
        .random_bool(0.4)
        .then(|| mins(rng.random_range(20..=180)));
    let clock_offset_max = if rng.random_bool(0.3) {
        secs(rng.random_range(1..=600))
    } else {
        secs(0)
    };
    let clock_drift_max_ppm = if rng.random_bool(0.3) {
        rng.random_range(1..=500)
    } else {
        0
    };
    let mix = rng
        .random_bool(0.8)
        .then(|| draw_mix(&mut stream(seed, "swarm", 1), stay.is_some()))
        .filter(|m| m.traits().iter().any(|(_, p)| *p > 0.0));
    let mut clients = Clients {
        count,
        arrive_over: mins(rng.random_range(1..=90)),
        segments,
        flood: None,
        stay,
        arp_probe: rng.random_bool(0.3),
        clock_offset_max,
        clock_drift_max_ppm,
        only: None,
        mix,
    };
    let network = Network {
        delay_ms_mean: rng.random_range(1..=20),
        jitter_ms: rng.random_range(0..=20),
        loss_probability: if rng.random_bool(0.4) {
            probability(&mut rng, 0.001, 0.05)
        } else {
            0.0
        },
        duplicate_probability: if rng.random_bool(0.3) {
            probability(&mut rng, 0.001, 0.05)
        } else {
            0.0
        },
        per_client_streams: false,
    };
    // An attacker on the failover link, only where a digest can stop it (the Microsoft
    // dialect, signed), from its own stream. It forges releases of held addresses while
    // clients come and go, as `microsoft-dialect-forged-update` does: leases of hours, so that
    // the client quietest since its DHCPACK (the attacker's victim) is not about to renew, and
    // churn that uses every address of the pool, so that a release taken for true would give
    // the address, the least recently used, to the next client.
    let mut attack = stream(seed, "swarm", 4);
    let attacker = (dialect == DialectName::Microsoft
        && servers.shared_secret.is_some()
        && attack.random_bool(0.6))
    .then(|| {
        lease_m = attack.random_range(4..=6u64) * 60;
        servers.lease_time = mins(lease_m);
        let arrive_m = attack.random_range(60..=150u64);
        let stay_m = attack.random_range(20..=60u64);
        clients.arrive_over = mins(arrive_m);
        clients.stay = Some(mins(stay_m));
        // Every client releases its address as it leaves.
        if let Some(m) = clients.mix.as_mut() {
            m.no_release = 0.0;
        }
        clients.mix = clients
            .mix
            .take()
            .filter(|m| m.traits().iter().any(|(_, p)| *p > 0.0));
        // Clients present at once: those that arrived within a stay (each stays half to one
        // and a half times `stay`, a stay on average). The pool holds 1.5 to 2 times that:
        // fewer addresses than clients, each given out again and again.
        let present = stay_m as f64 / arrive_m as f64;
        let ratio = attack.random_range(1.5..=2.0f64);
        servers.pool_size = ((f64::from(count) * present.min(1.0) * ratio).ceil() as u32)
            .clamp(segments.max(8), 60_000);
        let over = arrive_m * 60_000;
        // Forges in the second half of the arrivals, each quiet for the longest stay before.
        (over / 2, over, stay_m * 90_000)
    });
    // Churn, in some other worlds too: clients come and go over a pool sized for those present
    // at once (and a lease more, for those that leave without a release), so that addresses
    // are given out again and again and the pool runs short at times (where offers go stale,
    // and an address a server could not know was leased goes to a new client at once).
    let mut churn = stream(seed, "swarm", 5);
    if attacker.is_none() && churn.random_bool(0.3) {
        let arrive_m = churn.random_range(60..=150u64);
        let stay_m = churn.random_range(20..=60u64);
        clients.arrive_over = mins(arrive_m);
        clients.stay = Some(mins(stay_m));
        let present = (stay_m + lease_m) as f64 / arrive_m as f64;
        let ratio = churn.random_range(1.5..=2.0f64);
        servers.pool_size = ((f64::from(count) * present.min(1.0) * ratio).ceil() as u32)
            .clamp(segments.max(8), 60_000);
    }
    // After the last fault: the longest lease (a server that lost its database waits that out
    // in RECOVER-WAIT), the MCLT, and time for the clients' retransmissions to find a server.
    let converge = Duration::from_millis((lease_m * 60 + mclt_s + 20 * 60) * 1000);
    let checks = Checks {
        converge_within: Span(converge),
        ..Checks::default()
    };
    let heal_by = Duration::from_millis(
        base.duration
            .0
            .as_millis()
            .saturating_sub(converge.as_millis() + 10 * 60_000),
    );
    let faults = draw_faults(
        &mut stream(seed, "swarm", 2),
        &mut stream(seed, "swarm", 3),
        &mut stream(seed, "swarm", 4),
        servers.lease_time.0,
        swarm.max_faults,
        FAULTS_FROM,
        heal_by,
        network.delay_ms_mean,
        servers.max_clock_delta.0,
        attacker,
        servers.mode == PairMode::HotStandby,
    );
    let mut faults = faults;
    isolated(
        &mut stream(seed, "swarm", 6),
        &servers,
        clients.arrive_over.0.as_millis(),
        (FAULTS_FROM.as_millis(), heal_by.as_millis()),
        &mut faults,
    );
    let mut drawn = Scenario {
        name: base.name.clone(),
        description: base.description.clone(),
        duration: base.duration,
        expect: base.expect,
        why: base.why.clone(),
        violates: base.violates.clone(),
        violates_after: base.violates_after,
        servers,
        clients,
        network,
        faults,
        checks,
        nemesis: None,
        swarm: None,
        bugs: base.bugs,
    };
    // While clients hold leases: the updates are of a client's lease.
    let leased_until = drawn.clients.stay.map_or(u64::MAX, |stay| {
        drawn.clients.arrive_over.0.as_millis() + stay.0.as_millis()
    });
    sloppy_partner(
        &mut stream(seed, "swarm", 7),
        (
            FAULTS_FROM.as_millis(),
            heal_by.as_millis().min(leased_until),
        ),
        &mut drawn,
    );
    drawn
}

/// A sloppy partner, in a fifth of the worlds: one to four times it sends a server an ACTIVE
/// update lacking its client, lease end or PET ([`Verb::Incomplete`]), which the server must
/// reject (draft-12 §7.1.3). Each lands at a time drawn in `(from, until)` where the scenario
/// stays valid with it (both servers up and no triggered fault's window holding them), or is
/// left out. Its own stream: the other draws are the same with or without it.
fn sloppy_partner(rng: &mut ChaCha8Rng, (from, until): (u64, u64), s: &mut Scenario) {
    if until <= from || !rng.random_bool(0.2) {
        return;
    }
    for _ in 0..rng.random_range(1..=4u32) {
        let at = rng.random_range(from..until);
        let verb = Verb::Incomplete {
            to: node(rng),
            omit: pick(rng, &Omit::ALL),
        };
        let i = s.faults.partition_point(|f| f.at.0.as_millis() <= at);
        s.faults.insert(i, fault(at, verb));
        if s.validate().is_err() {
            s.faults.remove(i);
        }
    }
}

/// The clients' mix: each trait on for about half the seeds, with a drawn probability.
fn draw_mix(rng: &mut ChaCha8Rng, stay: bool) -> ClientMix {
    let p = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.5) {
            probability(rng, 0.05, 1.0)
        } else {
            0.0
        }
    };
    ClientMix {
        client_id: p(rng),
        hostname: p(rng),
        parameter_list: p(rng),
        broadcast_flag: p(rng),
        secs_byte_swapped: p(rng),
        keep_lease_on_silent_reboot: p(rng),
        no_release: if stay { p(rng) } else { 0.0 },
        burst: p(rng),
        release_renew: p(rng),
    }
}

/// Options a client with its own parameter list may ask for.
const PARAMETER_CODES: [u8; 14] = [1, 3, 6, 12, 15, 28, 31, 33, 42, 51, 58, 59, 119, 121];

/// What a client is like under a mix, beyond its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// Its configuration.
    pub cfg: ClientConfig,
    /// It arrives in a burst.
    pub burst: bool,
    /// It releases and rediscovers now and then (`ClientMix::release_renew`).
    pub release_renew: bool,
}

/// What client `i` is like under `mix`. Drawn from the client's own stream (`profile`, `i`),
/// so the mix changes nothing else a run draws.
pub fn client_profile(mix: &ClientMix, seed: u64, i: usize, mac: [u8; 6]) -> Profile {
    let mut rng = stream(seed, "profile", i as u64);
    let mut has = |p: f64| p > 0.0 && rng.random_bool(p);
    let (id, host, list, bcast, swapped, keep, no_release, burst) = (
        has(mix.client_id),
        has(mix.hostname),
        has(mix.parameter_list),
        has(mix.broadcast_flag),
        has(mix.secs_byte_swapped),
        has(mix.keep_lease_on_silent_reboot),
        has(mix.no_release),
        has(mix.burst),
    );
    let release_renew = has(mix.release_renew);
    let mut cfg = ClientConfig::new(mac);
    if id {
        // Type 0: not a hardware address (RFC 2132 §9.14), so the identity is the id alone.
        let mut v = vec![0u8];
        v.extend_from_slice(format!("swarm-client-{i}").as_bytes());
        cfg.client_id = Some(v);
    }
    if host {
        cfg.hostname = Some(format!("host-{i}").into_bytes());
    }
    if list {
        let mut codes = PARAMETER_CODES.to_vec();
        // A drawn order (Fisher-Yates), then a drawn length: 0 leaves option 55 out.
        for k in (1..codes.len()).rev() {
            codes.swap(k, rng.random_range(0..=k));
        }
        codes.truncate(rng.random_range(0..=codes.len()));
        cfg.parameter_request_list = codes;
    } else {
        cfg.parameter_request_list = PARAMETER_REQUEST_LIST.to_vec();
    }
    cfg.broadcast_flag = bcast;
    cfg.secs_byte_swapped = swapped;
    cfg.keep_lease_on_silent_reboot = keep;
    cfg.release_on_departure = !no_release;
    Profile {
        cfg,
        burst,
        release_renew,
    }
}

/// The fault kinds a swarm draws, each on or off per seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Crash,
    Operator,
    ServerCut,
    ClientCut,
    Clock,
    Delay,
    Reboot,
}

const KINDS: [Kind; 7] = [
    Kind::Crash,
    Kind::Operator,
    Kind::ServerCut,
    Kind::ClientCut,
    Kind::Clock,
    Kind::Delay,
    Kind::Reboot,
];

/// One lane of episodes: where the next may start, the mean gap before it, the longest.
struct Lane {
    at: u64,
    mean_gap: u64,
    max_len: u64,
}

impl Lane {
    fn new(rng: &mut ChaCha8Rng, from: u64, max_outage: u64) -> Lane {
        Lane {
            at: from,
            mean_gap: rng.random_range(5 * 60_000..=120 * 60_000),
            max_len: max_outage,
        }
    }

    /// The next episode's start and length, within `..=until`; `None` when the lane is full.
    fn next(&mut self, rng: &mut ChaCha8Rng, until: u64) -> Option<(u64, u64)> {
        let start = self.at + rng.random_range(1000..=2 * self.mean_gap);
        let len = rng.random_range(1000..=self.max_len.max(1000));
        (start + len <= until).then(|| {
            self.at = start + len;
            (start, len)
        })
    }
}

fn fault(at_ms: u64, verb: Verb) -> Fault {
    Fault::at(Span(Duration::from_millis(at_ms)), verb)
}

fn node(rng: &mut ChaCha8Rng) -> Node {
    if rng.random_bool(0.5) {
        Node::Primary
    } else {
        Node::Secondary
    }
}

/// The drawn fault schedule (see the module doc): lanes of non-overlapping episodes, each lane
/// on or off, at most `max_faults` episodes, all undone by `heal_by`.
#[allow(clippy::too_many_arguments)]
fn draw_faults(
    rng: &mut ChaCha8Rng,
    edge_rng: &mut ChaCha8Rng,
    stranded_rng: &mut ChaCha8Rng,
    lease_time: Duration,
    max_faults: u32,
    from: Duration,
    heal_by: Duration,
    delay_ms_mean: u32,
    max_clock_delta: Duration,
    attacker: Option<(u64, u64, u64)>,
    hot_standby: bool,
) -> Vec<Fault> {
    let (from, until) = (from.as_millis(), heal_by.as_millis());
    let mut on: Vec<Kind> = KINDS.into_iter().filter(|_| rng.random_bool(0.6)).collect();
    if on.is_empty() {
        on.push(pick(rng, &KINDS));
    }
    let max_outage = rng.random_range(60_000..=60 * 60_000u64);
    let mut budget = rng.random_range(1..=max_faults);
    let mut out: Vec<Fault> = Vec::new();
    // Windows the failover link must stay whole in: an operator's PARTNER-DOWN or SHUTDOWN
    // promises that the partner is down, and keeps that promise only while the two can talk
    // once it is back.
    let mut link_whole: Vec<(u64, u64)> = Vec::new();
    let mut lost_database = false;
    // What the timed lanes occupy, for the edge lane and the attacker to keep clear of: the
    // crash episodes (either server down, or about to be), and the cuts with their links.
    let mut down: Vec<(u64, u64)> = Vec::new();
    let mut cut: Vec<(u64, u64, u8)> = Vec::new();

    if on.contains(&Kind::Crash) {
        let mut lane = Lane::new(rng, from, max_outage);
        while budget > 0 {
            let Some((start, len)) = lane.next(rng, until) else {
                break;
            };
            budget -= 1;
            let n = node(rng);
            let storage = if !lost_database && rng.random_bool(0.15) {
                lost_database = true;
                StorageLoss::LoseAll
            } else {
                StorageLoss::KeepSynced
            };
            let (crash_at, restart_at) = (start + 500, start + len);
            down.push((start, restart_at));
            let operator = on.contains(&Kind::Operator) && len > 20_000 && rng.random_bool(0.5);
            if operator {
                match rng.random_range(0..3u8) {
                    // A planned restart: paused first (draft-12 §9.9), then down.
                    0 => out.push(fault(
                        start,
                        Verb::Admin {
                            node: n,
                            command: Command::Pause,
                        },
                    )),
                    // A planned shutdown: the partner is told (draft-12 §9.10).
                    1 => {
                        out.push(fault(
                            start,
                            Verb::Admin {
                                node: n,
                                command: Command::Shutdown,
                            },
                        ));
                        link_whole.push((start, restart_at + 10 * 60_000));
                    }
                    // The operator, rightly, declares the crashed server down: ten seconds after
                    // the crash at the soonest, so that the restarted server can tell the
                    // PARTNER-DOWN came after it stopped (draft-12 §9.3.3).
                    _ => {
                        let mut at =
                            crash_at + rng.random_range(10_000..=(len - 10_000).max(10_000));
                        // Often soon after: within a heartbeat, where a restarted server that
                        // kept its last operating time only to a heartbeat cannot tell.
                        if edge_rng.random_bool(0.5) {
                            at = at.min(crash_at + edge_rng.random_range(10_000..=30_000));
                        }
                        out.push(fault(
                            at,
                            Verb::Admin {
                                node: n.partner(),
                                command: Command::PartnerDown,
                            },
                        ));
                        let mut whole_until = restart_at + 10 * 60_000;
                        // An edge: the failover link cut just as the restarted server takes
                        // POTENTIAL-CONFLICT, which it must not (it went down before the
                        // PARTNER-DOWN, so it recovers): armed from its restart for ten minutes.
                        let for_ms = edge_rng.random_range(60_000..=20 * 60_000u64);
                        if edge_rng.random_bool(0.5) && whole_until + for_ms <= until {
                            out.push(Fault {
                                at: Span(Duration::from_millis(restart_at)),
                                verb: Verb::Partition { cut: Cut::Servers },
                                when: Some(Trigger {
                                    server: n,
                                    event: TriggerEvent::Enters(State::PotentialConflict),
                                    nth: 1,
                                    delay: secs(0),
                                    until: Some(Span(Duration::from_millis(whole_until))),
                                    undo_after: Some(Span(Duration::from_millis(for_ms))),
                                }),
                            });
                            whole_until += for_ms;
                        }
                        link_whole.push((start, whole_until));
                    }
                }
            }
            out.push(fault(crash_at, Verb::Crash { node: n, storage }));
            out.push(fault(restart_at, Verb::Restart { node: n }));
        }
    }
    if on.contains(&Kind::ServerCut) {
        let mut lane = Lane::new(rng, from, max_outage);
        while budget > 0 {
            let Some((start, len)) = lane.next(rng, until) else {
                break;
            };
            if let Some(&(_, end)) = link_whole
                .iter()
                .find(|(a, b)| start <= *b && *a <= start + len)
            {
                // Not while an operator's promise holds: start again after it.
                lane.at = end;
                continue;
            }
            budget -= 1;
            let c = pick(
                rng,
                &[
                    Cut::Servers,
                    Cut::PrimaryToSecondary,
                    Cut::SecondaryToPrimary,
                ],
            );
            out.push(fault(start, Verb::Partition { cut: c }));
            out.push(fault(start + len, Verb::Heal { cut: c }));
            cut.push((start, start + len, cut_links(c)));
        }
    }
    if on.contains(&Kind::ClientCut) {
        // One lane for both servers' client sides, or in half the worlds a lane each, whose
        // cuts may overlap: clients cut off from both servers, whose leases may run out
        // meanwhile, and who then find one server back before the other (where an offer can
        // go stale).
        let lanes: &[Option<Cut>] = if edge_rng.random_bool(0.5) {
            &[Some(Cut::PrimaryClients), Some(Cut::SecondaryClients)]
        } else {
            &[None]
        };
        for &side in lanes {
            let mut lane = Lane::new(rng, from, max_outage);
            while budget > 0 {
                let Some((start, len)) = lane.next(rng, until) else {
                    break;
                };
                budget -= 1;
                let c = side
                    .unwrap_or_else(|| pick(rng, &[Cut::PrimaryClients, Cut::SecondaryClients]));
                out.push(fault(start, Verb::Partition { cut: c }));
                out.push(fault(start + len, Verb::Heal { cut: c }));
                cut.push((start, start + len, cut_links(c)));
            }
        }
    }
    if on.contains(&Kind::Clock) {
        // Each server within half the tolerated delta of true time: the two within the delta.
        let limit_s = (max_clock_delta.as_secs() / 2).saturating_sub(1).max(1) as i64;
        for n in [Node::Primary, Node::Secondary] {
            let mut lane = Lane::new(rng, from, max_outage);
            while budget > 0 {
                let Some((start, len)) = lane.next(rng, until) else {
                    break;
                };
                budget -= 1;
                if rng.random_bool(0.5) {
                    let mut offset_s = rng.random_range(-limit_s..=limit_s);
                    if offset_s == 0 {
                        offset_s = 1;
                    }
                    out.push(fault(start, Verb::ClockOffset { node: n, offset_s }));
                    out.push(fault(
                        start + len,
                        Verb::ClockOffset {
                            node: n,
                            offset_s: 0,
                        },
                    ));
                } else {
                    // Drift that stays within the limit over the episode, and within the rate
                    // the engine's clock-delta estimate follows (draft-12 §5.10 leaves the rate
                    // open; `skew::MAX_DRIFT_PPM`, 2 000 ppm, twenty times a poor crystal's):
                    // beyond it the partners read each other's times off by more than the
                    // wire's precision, which no safe setting promises to absorb.
                    let max_ppm = (limit_s as u64 * 1_000_000_000 / len.max(1))
                        .clamp(1, dhcpfo_engine::failover::skew::MAX_DRIFT_PPM as u64);
                    let mut ppm = rng.random_range(-(max_ppm as i32)..=max_ppm as i32);
                    if ppm == 0 {
                        ppm = 1;
                    }
                    out.push(fault(start, Verb::ClockDrift { node: n, ppm }));
                    out.push(fault(
                        start + len - 500,
                        Verb::ClockDrift { node: n, ppm: 0 },
                    ));
                    out.push(fault(
                        start + len,
                        Verb::ClockOffset {
                            node: n,
                            offset_s: 0,
                        },
                    ));
                }
            }
        }
    }
    if on.contains(&Kind::Delay) {
        let mut lane = Lane::new(rng, from, max_outage.min(20 * 60_000));
        while budget > 0 {
            let Some((start, len)) = lane.next(rng, until) else {
                break;
            };
            budget -= 1;
            let delay_ms = rng.random_range(50..=2000);
            out.push(fault(start, Verb::DelaySpike { delay_ms }));
            out.push(fault(
                start + len,
                Verb::DelaySpike {
                    delay_ms: delay_ms_mean,
                },
            ));
        }
    }
    if on.contains(&Kind::Reboot) {
        let mut lane = Lane::new(rng, from, 1000);
        while budget > 0 {
            let Some((start, _)) = lane.next(rng, until) else {
                break;
            };
            budget -= 1;
            out.push(fault(start, Verb::RebootClients));
        }
    }
    let mut edges = EdgeLane {
        rng: edge_rng,
        until,
        max_outage,
        down: &mut down,
        cut: &mut cut,
        link_whole: &mut link_whole,
        lost_database: &mut lost_database,
    };
    if edges.rng.random_bool(0.6) {
        let budget = edges.rng.random_range(1..=(max_faults / 4).max(1));
        edges.draw(from, budget, &mut out);
    }
    // The attacker: forged releases while both servers are up (else there is no connection to
    // forge into), signed with a key of its own; the digest must stop it.
    // It reads the victim's last DHCPACK off the clients' side, so it forges only where the
    // servers heard every client for a lease before: no crash nor client cut in that time.
    if let Some((first, last, quiet_ms)) = attacker {
        for _ in 0..edge_rng.random_range(1..=6u32) {
            let start = edge_rng.random_range(first..=last.max(first));
            let quiet_from = start.saturating_sub(quiet_ms);
            let clients_cut = cut
                .iter()
                .any(|&(a, b, l)| l & 0b1100 != 0 && a <= start && quiet_from <= b);
            if start > until
                || clients_cut
                || down
                    .iter()
                    .any(|&(a, b)| a <= start + 1000 && quiet_from <= b + 1000)
            {
                continue;
            }
            // Toward a server that gives out new addresses: in hot standby, the primary.
            let to = if hot_standby {
                Node::Primary
            } else {
                node(edge_rng)
            };
            out.push(fault(
                start,
                Verb::Forge {
                    to,
                    release: Victim::Leased,
                },
            ));
        }
    }
    if stranded_rng.random_bool(0.3) {
        stranded(
            stranded_rng,
            lease_time.as_millis(),
            (from, until),
            &down,
            &cut,
            &mut out,
        );
    }
    // In time order (stable: an episode's own faults keep theirs).
    out.sort_by_key(|f| f.at);
    out
}

/// Clients stranded, an edge of time rather than of the protocol. The clients reboot together,
/// so that their leases run on one schedule; a minute later the primary crashes and the
/// secondary is cut from its clients, so that their renewals and rebindings all go
/// unanswered; the cut heals a few seconds before the leases end, after the clients' last
/// rebinding, while the primary is still down. Each client then discovers a few milliseconds
/// before the secondary expires its lease, on a server in COMMUNICATIONS-INTERRUPTED that cannot
/// free what expires (draft-12 §9.9.2): where an offer goes stale (bug-catalogue W1). Safe as the
/// timed lanes are: it keeps clear of every crash episode and of every cut of the secondary's
/// clients, and comes after every crash. Its own stream: the other draws are the same with or
/// without it.
fn stranded(
    rng: &mut ChaCha8Rng,
    lease_ms: u64,
    (from, until): (u64, u64),
    down: &[(u64, u64)],
    cut: &[(u64, u64, u8)],
    out: &mut Vec<Fault>,
) {
    let heal_ms = lease_ms.saturating_sub(rng.random_range(5_000..=50_000u64));
    let down_ms = lease_ms + rng.random_range(60_000..=10 * 60_000u64);
    let Some(last) = until.checked_sub(down_ms) else {
        return;
    };
    if last <= from {
        return;
    }
    // Last of all, so that no later crash clears the secondary's offers before the pair has
    // settled and is judged.
    let start = last
        .saturating_sub(rng.random_range(0..=10 * 60_000u64))
        .max(from);
    let end = start + down_ms;
    let links = cut_links(Cut::SecondaryClients);
    let busy = down.iter().any(|&(a, b)| a <= end && start <= b)
        || down.iter().any(|&(a, _)| a >= start)
        || cut
            .iter()
            .any(|&(a, b, l)| l & links != 0 && a <= end && start <= b);
    if busy {
        return;
    }
    out.push(fault(start, Verb::RebootClients));
    out.push(fault(
        start + 60_000,
        Verb::Crash {
            node: Node::Primary,
            storage: StorageLoss::KeepSynced,
        },
    ));
    out.push(fault(
        start + 60_000,
        Verb::Partition {
            cut: Cut::SecondaryClients,
        },
    ));
    out.push(fault(
        start + heal_ms,
        Verb::Heal {
            cut: Cut::SecondaryClients,
        },
    ));
    out.push(fault(
        end,
        Verb::Restart {
            node: Node::Primary,
        },
    ));
}

/// A server isolated: up, but cut from its partner and from its clients, and declared down by
/// the operator on its partner (and in half the worlds by the operator on itself too: both in
/// PARTNER-DOWN). The operator's promise holds, since the isolated server answers no client
/// (draft-12 §9.4: PARTNER-DOWN means the partner serves none), yet it kept its database and
/// its own view, in COMMUNICATIONS-INTERRUPTED or PARTNER-DOWN (or NORMAL, if the isolation was
/// shorter than a receive timer). When the failover link heals the two must go to
/// POTENTIAL-CONFLICT and resolve it (draft-12 §9.10): the acceptance rules on real conflicts
/// (§7.1.3: addresses of the isolated server's pool and expired leases that its partner gave to
/// new clients after the MCLT, leases it renewed that the isolated one saw expire). The
/// isolated server meets its clients again only minutes later: before it has heard of the
/// PARTNER-DOWN it would answer them as before, from addresses its partner may have given out
/// (the sweep that first healed both at once found exactly that duplicate, in both states).
/// In half of them the link is cut again as the resolution begins: RESOLUTION-INTERRUPTED,
/// which must give out no address its partner's PARTNER-DOWN may have taken (draft-12 §9.11
/// says it allocates like COMMUNICATIONS-INTERRUPTED; `FoState::service` says why not).
/// Placed while clients still arrive, with no other fault from half an hour before it to half
/// an hour after: the other lanes' episodes there make way. Its own stream: a world without it
/// draws every other fault the same.
fn isolated(
    rng: &mut ChaCha8Rng,
    servers: &Servers,
    arriving_until: u64,
    (from, until): (u64, u64),
    out: &mut Vec<Fault>,
) {
    if !rng.random_bool(0.25) {
        return;
    }
    let mclt = servers.mclt.0.as_millis();
    let lease = servers.lease_time.0.as_millis();
    let victim = node(rng);
    // Short in some worlds: over before the partners notice the link is gone (the isolated one
    // still in NORMAL meets a partner in PARTNER-DOWN); else long enough that the partner
    // takes the isolated one's pool and its expired leases after the MCLT.
    let short = rng.random_bool(0.2);
    let declared = if short {
        rng.random_range(1_000..=60_000u64)
    } else {
        rng.random_range(1_000..=10 * 60_000u64)
    };
    let len = if short {
        declared + rng.random_range(1_000..=30_000u64)
    } else {
        declared + mclt + rng.random_range(60_000..=(2 * lease).max(60_000))
    };
    let both = rng.random_bool(0.5);
    let self_declared = rng.random_range(1_000..len);
    // The isolated server meets its clients again only minutes after its partner: until it has
    // heard that the partner took over, it would answer them as before (in
    // COMMUNICATIONS-INTERRUPTED from its own pool, or in PARTNER-DOWN from both), which the
    // partner in PARTNER-DOWN may have given out (the operator's promise includes that).
    let rejoin = rng.random_range(5 * 60_000..=15 * 60_000u64);
    // While clients still arrive (new clients are what takes the isolated server's pool), with
    // no other fault from half an hour before to half an hour after (the operators' promises
    // about the link end ten minutes after a restart): the episodes there make way.
    let Some(last) = until.checked_sub(len + rejoin).filter(|&l| l > from) else {
        return;
    };
    let start = rng.random_range(from..=last.min(arriving_until.max(from + 1)));
    let end = start + len;
    let margin = 30 * 60_000;
    let (a, b) = (start.saturating_sub(margin), end + rejoin + margin);
    let episode = episodes(out);
    let mut span: Vec<(u64, u64)> = vec![(u64::MAX, 0); out.len()];
    for (f, &e) in out.iter().zip(&episode) {
        span[e].0 = span[e].0.min(f.at.0.as_millis());
        span[e].1 = span[e].1.max(fault_end(f));
    }
    let mut keep = episode.iter().map(|&e| span[e].0 > b || span[e].1 < a);
    out.retain(|_| keep.next().unwrap_or(true));
    let clients = match victim {
        Node::Primary => Cut::PrimaryClients,
        Node::Secondary => Cut::SecondaryClients,
    };
    out.push(fault(start, Verb::Partition { cut: Cut::Servers }));
    out.push(fault(start, Verb::Partition { cut: clients }));
    let mut admin = vec![(
        start + declared,
        Verb::Admin {
            node: victim.partner(),
            command: Command::PartnerDown,
        },
    )];
    if both {
        admin.push((
            start + self_declared,
            Verb::Admin {
                node: victim,
                command: Command::PartnerDown,
            },
        ));
    }
    admin.sort_by_key(|&(at, _)| at);
    out.extend(admin.into_iter().map(|(at, verb)| fault(at, verb)));
    out.push(fault(end, Verb::Heal { cut: Cut::Servers }));
    out.push(fault(end + rejoin, Verb::Heal { cut: clients }));
    // In half of them the link is cut again as one of them enters POTENTIAL-CONFLICT, for up to
    // twenty minutes (within the half hour the other lanes keep clear): both wait in
    // RESOLUTION-INTERRUPTED, often still there when the isolated server's clients come back,
    // which may get no address that the PARTNER-DOWN could have given out
    // (`resolution-interrupted-allocates`).
    if rng.random_bool(0.5) {
        let whose = node(rng);
        let cut_ms = rng.random_range(60_000..=20 * 60_000u64);
        out.push(Fault {
            at: Span(Duration::from_millis(end + 1)),
            verb: Verb::Partition { cut: Cut::Servers },
            when: Some(Trigger {
                server: whose,
                event: TriggerEvent::Enters(State::PotentialConflict),
                nth: 1,
                delay: secs(0),
                until: Some(Span(Duration::from_millis(end + 5 * 60_000))),
                undo_after: Some(Span(Duration::from_millis(cut_ms))),
            }),
        });
    }
    out.sort_by_key(|f| f.at);
}

/// Which episode each fault of a drawn schedule belongs to (an index below the faults'
/// count): a crash with its restart and the operator's commands about it, a cut with its heal,
/// a clock set off true time with what sets it back, a delay spike with its end; a triggered
/// fault, a reboot and a forged message alone. `faults` in time order.
pub(crate) fn episodes(faults: &[Fault]) -> Vec<usize> {
    let mut ids = Vec::with_capacity(faults.len());
    let mut next = 0;
    let mut new = || {
        next += 1;
        next - 1
    };
    let side = |n: Node| usize::from(n == Node::Secondary);
    let (mut crash, mut admin, mut clock) = ([None; 2], [None; 2], [None; 2]);
    let mut cut: Vec<(Cut, usize)> = Vec::new();
    let mut spike = None;
    for f in faults {
        let id = if f.when.is_some() {
            new()
        } else {
            match &f.verb {
                Verb::Admin {
                    node,
                    command: Command::PartnerDown,
                } => *crash[side(node.partner())].get_or_insert_with(&mut new),
                Verb::Admin { node, .. } => *admin[side(*node)].insert(new()),
                Verb::Crash { node, .. } => {
                    let id = admin[side(*node)].take().unwrap_or_else(&mut new);
                    *crash[side(*node)].insert(id)
                }
                Verb::Restart { node } => crash[side(*node)].take().unwrap_or_else(&mut new),
                Verb::Partition { cut: c } => {
                    let id = new();
                    cut.push((*c, id));
                    id
                }
                Verb::Heal { cut: c } => match cut.iter().position(|(k, _)| k == c) {
                    Some(i) => cut.remove(i).1,
                    None => new(),
                },
                Verb::ClockOffset { node, offset_s: 0 } => {
                    clock[side(*node)].take().unwrap_or_else(&mut new)
                }
                Verb::ClockOffset { node, .. } | Verb::ClockDrift { node, .. } => {
                    *clock[side(*node)].get_or_insert_with(&mut new)
                }
                Verb::DelaySpike { .. } => match spike.take() {
                    Some(id) => id,
                    None => *spike.insert(new()),
                },
                Verb::RebootClients | Verb::Forge { .. } | Verb::Incomplete { .. } => new(),
            }
        };
        ids.push(id);
    }
    ids
}

/// When a fault's effect is over at the latest: its time, or for a triggered one the end of
/// its arming, its delay and its undo (a trigger armed to the end of the run never ends).
fn fault_end(f: &Fault) -> u64 {
    let at = f.at.0.as_millis();
    match &f.when {
        None => at,
        Some(t) => match t.until {
            None => u64::MAX,
            Some(u) => {
                u.0.as_millis()
                    .max(at)
                    .saturating_add(t.delay.0.as_millis())
                    .saturating_add(t.undo_after.map_or(0, |d| d.0.as_millis()))
            }
        },
    }
}

/// The links a cut takes (as [`Cut`] counts them: primary to secondary, secondary to primary,
/// the primary's clients, the secondary's).
fn cut_links(c: Cut) -> u8 {
    match c {
        Cut::Servers => 0b0011,
        Cut::PrimaryToSecondary => 0b0001,
        Cut::SecondaryToPrimary => 0b0010,
        Cut::PrimaryClients => 0b0100,
        Cut::SecondaryClients => 0b1000,
    }
}

/// The failover states an edge fault may wait for, the likelier first.
const EDGE_STATES: [State; 12] = [
    State::CommunicationsInterrupted,
    State::Recover,
    State::RecoverWait,
    State::RecoverDone,
    State::Normal,
    State::Startup,
    State::PartnerDown,
    State::Paused,
    State::Shutdown,
    State::PotentialConflict,
    State::ResolutionInterrupted,
    State::ConflictDone,
];

/// The edge lane: faults triggered by the protocol's own events ([`Trigger`]) — a crash or a
/// cut on entering a failover state, right after a DHCPACK (before its BNDUPD), between a
/// BNDUPD and its BNDACK, during UPDREQALL — each carrying its undo (`for`). Safe as the timed
/// lanes are: each episode's whole window (armed, delayed, undone) keeps clear of every crash
/// episode (so at most one server is down at once) for a crash, and of every cut of the same
/// links and every operator's promise for a cut; the one operator's PARTNER-DOWN it draws is
/// for the server its crash took down, with the link whole until ten minutes after the restart.
struct EdgeLane<'a> {
    rng: &'a mut ChaCha8Rng,
    until: u64,
    max_outage: u64,
    down: &'a mut Vec<(u64, u64)>,
    cut: &'a mut Vec<(u64, u64, u8)>,
    link_whole: &'a mut Vec<(u64, u64)>,
    lost_database: &'a mut bool,
}

impl EdgeLane<'_> {
    /// Up to `budget` episodes after `from`, into `out`.
    fn draw(&mut self, from: u64, budget: u32, out: &mut Vec<Fault>) {
        // Edges come often: a gap of 1 to 20 minutes on average, so that some strike while
        // clients still arrive (a lease the partner never heard of matters to a new client).
        let mut lane = Lane {
            at: from,
            mean_gap: self.rng.random_range(60_000..=20 * 60_000),
            max_len: self.max_outage,
        };
        let mut left = budget;
        // Bound: each turn moves the lane on; at most four times the budget.
        for _ in 0..budget * 4 {
            if left == 0 {
                break;
            }
            let Some((start, len)) = lane.next(self.rng, self.until) else {
                break;
            };
            let server = node(self.rng);
            let (event, nth) = match self.rng.random_range(0..5u8) {
                0 => {
                    let likely = self.rng.random_range(5..=EDGE_STATES.len());
                    let mut s = pick(self.rng, &EDGE_STATES[..likely]);
                    if s == State::ConflictDone && server == Node::Secondary {
                        s = State::PotentialConflict;
                    }
                    (TriggerEvent::Enters(s), 1)
                }
                1 | 4 => (
                    TriggerEvent::After(Moment::Dhcpack),
                    self.rng.random_range(1..=20),
                ),
                2 => (
                    TriggerEvent::After(Moment::Bndupd),
                    self.rng.random_range(1..=20),
                ),
                _ => (TriggerEvent::After(Moment::Updreqall), 1),
            };
            let delay_ms = if self.rng.random_bool(0.7) {
                0
            } else {
                self.rng.random_range(1..=30_000u64)
            };
            let undo_ms = self.rng.random_range(1000..=(len / 2).max(1000));
            let Some(armed_until) = (start + len).checked_sub(undo_ms + delay_ms) else {
                continue;
            };
            if armed_until < start {
                continue;
            }
            let end = start + len;
            let crash = self.rng.random_bool(0.5);
            let mut verbs = Vec::new();
            // The cut armed for a POTENTIAL-CONFLICT after an operator's PARTNER-DOWN: whose,
            // and until when.
            let mut conflict_cut: Option<(Node, u64)> = None;
            if crash {
                if let Some(&(_, b)) = self.down.iter().find(|&&(a, b)| a <= end && start <= b) {
                    lane.at = lane.at.max(b);
                    continue;
                }
                // Crash the server whose event it is, or (between a BNDUPD and its BNDACK, or
                // on its partner's state) the other.
                let victim = if self.rng.random_bool(0.6) {
                    server
                } else {
                    server.partner()
                };
                let storage = if !*self.lost_database && self.rng.random_bool(0.2) {
                    *self.lost_database = true;
                    StorageLoss::LoseAll
                } else {
                    StorageLoss::KeepSynced
                };
                verbs.push((
                    Verb::Crash {
                        node: victim,
                        storage,
                    },
                    Some(undo_ms),
                    delay_ms,
                ));
                // The operator, rightly, declares the crashed server down: after its crash
                // (ten seconds at the soonest, draft-12 §9.3.3), while it is down, with the
                // link whole until ten minutes after its restart.
                let whole = (start, end + 10 * 60_000);
                if undo_ms > 30_000
                    && whole.1 <= self.until
                    && !self
                        .cut
                        .iter()
                        .any(|&(a, b, l)| l & 0b11 != 0 && a <= whole.1 && whole.0 <= b)
                    && self.rng.random_bool(0.5)
                {
                    let soon = if self.rng.random_bool(0.5) {
                        30_000
                    } else {
                        undo_ms - 10_000
                    };
                    let pd_delay = delay_ms + self.rng.random_range(10_000..=soon);
                    verbs.push((
                        Verb::Admin {
                            node: victim.partner(),
                            command: Command::PartnerDown,
                        },
                        None,
                        pd_delay,
                    ));
                    let mut whole = whole;
                    // And the link cut as the restarted server enters POTENTIAL-CONFLICT,
                    // which it must not (it recovers: the PARTNER-DOWN came after its crash).
                    let cut_ms = self.rng.random_range(60_000..=20 * 60_000u64);
                    let ext = whole.1 + cut_ms;
                    let clear = !self
                        .cut
                        .iter()
                        .any(|&(a, b, l)| l & 0b11 != 0 && a <= ext && whole.0 <= b);
                    if self.rng.random_bool(0.5) && ext <= self.until && clear {
                        verbs.push((Verb::Partition { cut: Cut::Servers }, Some(cut_ms), 0));
                        conflict_cut = Some((victim, whole.1));
                        whole.1 += cut_ms;
                    }
                    self.link_whole.push(whole);
                    self.cut.push((whole.0, whole.1, 0b11));
                }
                self.down.push((start, end));
            } else {
                let c = pick(
                    self.rng,
                    &[
                        Cut::Servers,
                        Cut::PrimaryToSecondary,
                        Cut::SecondaryToPrimary,
                        Cut::PrimaryClients,
                        Cut::SecondaryClients,
                    ],
                );
                let links = cut_links(c);
                let clash = self
                    .cut
                    .iter()
                    .filter(|&&(a, b, l)| l & links != 0 && a <= end && start <= b)
                    .map(|&(_, b, _)| b)
                    .chain(
                        self.link_whole
                            .iter()
                            .filter(|&&(a, b)| links & 0b11 != 0 && a <= end && start <= b)
                            .map(|&(_, b)| b),
                    )
                    .max();
                if let Some(b) = clash {
                    lane.at = lane.at.max(b);
                    continue;
                }
                verbs.push((Verb::Partition { cut: c }, Some(undo_ms), delay_ms));
                self.cut.push((start, end, links));
            }
            left -= 1;
            for (verb, undo, delay) in verbs {
                let (server, event, nth, armed_until) = match (&verb, conflict_cut) {
                    (Verb::Partition { .. }, Some((victim, until))) => (
                        victim,
                        TriggerEvent::Enters(State::PotentialConflict),
                        1,
                        until,
                    ),
                    _ => (server, event, nth, armed_until),
                };
                out.push(Fault {
                    at: Span(Duration::from_millis(start)),
                    verb,
                    when: Some(Trigger {
                        server,
                        event,
                        nth,
                        delay: Span(Duration::from_millis(delay)),
                        until: Some(Span(Duration::from_millis(armed_until))),
                        undo_after: undo.map(|u| Span(Duration::from_millis(u))),
                    }),
                });
            }
        }
    }
}

/// The drawn settings of a concrete scenario, a few lines for `dhcpfo run` to print.
pub fn describe(s: &Scenario) -> Vec<String> {
    let sv = &s.servers;
    let c = &s.clients;
    let n = &s.network;
    let mode = match sv.mode {
        PairMode::HotStandby => "hot_standby",
        PairMode::LoadBalance => "load_balance",
    };
    let dialect = match sv.dialect {
        DialectName::Isc => "isc",
        DialectName::Microsoft => "microsoft",
    };
    let mut lines = vec![format!(
        "servers: {mode}, {dialect} dialect{}, mclt {}, lease {}, tReceive {}",
        if sv.shared_secret.is_some() {
            " signed"
        } else {
            ""
        },
        sv.mclt,
        sv.lease_time,
        sv.receive_timer
    )];
    let mut extra = Vec::new();
    if let Some(stay) = c.stay {
        extra.push(format!("stay {stay}"));
    }
    if c.arp_probe {
        extra.push("arp probe".into());
    }
    if c.clock_offset_max.0 > Duration::ZERO || c.clock_drift_max_ppm > 0 {
        extra.push(format!(
            "clocks ±{} ±{} ppm",
            c.clock_offset_max, c.clock_drift_max_ppm
        ));
    }
    lines.push(format!(
        "clients: {} on {} segment(s), pool {}, arriving over {}{}{}",
        c.count,
        c.segments,
        sv.pool_size,
        c.arrive_over,
        if extra.is_empty() { "" } else { ", " },
        extra.join(", ")
    ));
    let mix = c.mix.as_ref().map_or_else(
        || "none".to_string(),
        |m| {
            let on: Vec<String> = m
                .traits()
                .iter()
                .filter(|(_, p)| *p > 0.0)
                .map(|(k, p)| format!("{k} {p}"))
                .collect();
            on.join(", ")
        },
    );
    lines.push(format!("client mix: {mix}"));
    lines.push(format!(
        "network: delay {} ms + 0..{} ms jitter, loss {}, duplicates {}",
        n.delay_ms_mean, n.jitter_ms, n.loss_probability, n.duplicate_probability
    ));
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for f in &s.faults {
        let k = match &f.verb {
            Verb::Crash { storage, .. } => format!("crash {}", storage.as_str()),
            Verb::Admin { command, .. } => command.as_str().to_string(),
            Verb::Partition { cut } => format!("partition {}", cut.as_str()),
            Verb::ClockOffset { offset_s: 0, .. } | Verb::Restart { .. } | Verb::Heal { .. } => {
                continue;
            }
            Verb::ClockOffset { .. } => "clock offset".into(),
            Verb::ClockDrift { ppm: 0, .. } => continue,
            Verb::ClockDrift { .. } => "clock drift".into(),
            Verb::DelaySpike { delay_ms } if *delay_ms == n.delay_ms_mean => continue,
            Verb::DelaySpike { .. } => "delay spike".into(),
            Verb::RebootClients => "reboot clients".into(),
            Verb::Forge { .. } => "forge".into(),
            Verb::Incomplete { .. } => "incomplete update".into(),
        };
        match kinds.iter_mut().find(|(name, _)| *name == k) {
            Some((_, count)) => *count += 1,
            None => kinds.push((k, 1)),
        }
    }
    // An instant, in the one format people read (`+6h46m38.256s`).
    let last = crate::world::fmt_at(
        crate::world::START + s.faults.last().map_or(Duration::ZERO, |f| f.at.0),
    );
    let list: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    lines.push(format!(
        "faults: {} until {last}: {}; converge within {}",
        s.faults.len(),
        if list.is_empty() {
            "none".to_string()
        } else {
            list.join(", ")
        },
        s.checks.converge_within
    ));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn swarm_scenario() -> Scenario {
        Scenario::parse(
            "name: swarm\ndescription: d\nduration: 8h\nexpect: pass\nwhy: w\nswarm: {}\n",
        )
        .unwrap()
    }

    #[test]
    fn the_same_seed_draws_the_same_world_and_different_seeds_differ() {
        let s = swarm_scenario();
        assert_eq!(concrete(&s, 7), concrete(&s, 7));
        assert_ne!(concrete(&s, 7), concrete(&s, 8));
        let drawn = concrete(&s, 7);
        assert!(drawn.swarm.is_none());
        assert_eq!((drawn.name.as_str(), drawn.duration), ("swarm", s.duration));
    }

    #[test]
    fn every_drawn_world_validates_and_reads_back_as_written() {
        let s = swarm_scenario();
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..300 {
            let drawn = concrete(&s, seed);
            if let Err(e) = drawn.validate() {
                panic!(
                    "seed {seed}: {e}\n{}",
                    serde_yaml::to_string(&drawn).unwrap()
                );
            }
            let text = serde_yaml::to_string(&drawn).unwrap();
            assert_eq!(Scenario::parse(&text).unwrap(), drawn, "seed {seed}");
            for f in &drawn.faults {
                kinds.insert(describe_kind(&f.verb));
                // Safe: no server clock drifts faster than the engine's delta estimate follows.
                if let Verb::ClockDrift { ppm, .. } = f.verb {
                    let bound = dhcpfo_engine::failover::skew::MAX_DRIFT_PPM;
                    assert!(i64::from(ppm).abs() <= bound, "seed {seed}: {ppm} ppm");
                }
            }
        }
        // Over many seeds, every kind the swarm knows is drawn.
        for k in [
            "crash keep_synced",
            "crash lose_all",
            "partner_down",
            "pause",
            "shutdown",
            "partition servers",
            "partition primary_to_secondary",
            "partition secondary_clients",
            "clock_offset",
            "clock_drift",
            "delay",
            "reboot",
        ] {
            assert!(kinds.contains(k), "{k} never drawn: {kinds:?}");
        }
    }

    fn describe_kind(v: &Verb) -> String {
        match v {
            Verb::Crash { storage, .. } => format!("crash {}", storage.as_str()),
            Verb::Admin { command, .. } => command.as_str().into(),
            Verb::Partition { cut } => format!("partition {}", cut.as_str()),
            Verb::ClockOffset { .. } => "clock_offset".into(),
            Verb::ClockDrift { .. } => "clock_drift".into(),
            Verb::DelaySpike { .. } => "delay".into(),
            Verb::RebootClients => "reboot".into(),
            _ => "other".into(),
        }
    }

    #[test]
    fn a_drawn_worlds_repro_replays_exactly_and_the_found_seeds_pass() {
        use crate::world::{Outcome, World};
        let s = swarm_scenario();
        // Seed 3: a client identifier made the durability check miss its lease (a checker
        // false alarm); seed 122: a second crash during recovery forgot the lost storage.
        for seed in [3, 122] {
            let mut w = World::new(s.clone(), seed);
            assert_eq!(w.run(), Outcome::Pass, "seed {seed}");
            let hash = w.trace.hash();
            let repro = crate::run::Repro::new(&s, seed, false, Some(hash));
            assert!(repro.scenario.swarm.is_none());
            let text = serde_yaml::to_string(&repro).unwrap();
            let back: crate::run::Repro = serde_yaml::from_str(&text).unwrap();
            back.scenario.validate().unwrap();
            let mut again = World::new(back.scenario, seed);
            assert_eq!(again.run(), Outcome::Pass);
            assert_eq!(again.trace.hash(), hash, "seed {seed}");
        }
    }

    #[test]
    fn a_swarm_scenario_may_not_set_what_the_swarm_draws() {
        let base = "name: x\ndescription: d\nduration: 8h\nexpect: pass\nwhy: w\nswarm: {}\n";
        for extra in [
            "servers:\n  mclt: 1m\n",
            "clients:\n  count: 3\n",
            "network:\n  delay_ms_mean: 3\n",
            "faults:\n  - { at: 1h, reboot_clients: true }\n",
        ] {
            let e = Scenario::parse(&format!("{base}{extra}")).unwrap_err();
            assert!(e.0.contains("does nothing in a swarm"), "{e}");
        }
        let short = base.replace("8h", "1h");
        assert!(Scenario::parse(&short).unwrap_err().0.contains("at least"));
        let e = Scenario::parse(&base.replace("{}", "{ max_clients: 2 }")).unwrap_err();
        assert!(e.0.contains("max_clients"), "{e}");
    }

    /// The isolated server (see [`isolated`]): cut from its partner and its clients at one
    /// instant, declared down by its partner while cut off, its link healed before its
    /// clients, and no other fault from half an hour before it to half an hour after; both
    /// sides declaring and isolations shorter than a receive timer are drawn too.
    #[test]
    fn an_isolated_server_is_declared_down_alone_and_meets_its_partner_before_its_clients() {
        let s = swarm_scenario();
        let (mut found, mut both, mut short, mut cut_again) = (0, 0, 0, 0);
        for seed in 0..300 {
            let drawn = concrete(&s, seed);
            let f = &drawn.faults;
            let ms = |i: usize| f[i].at.0.as_millis();
            let Some(i) = (0..f.len().saturating_sub(1)).find(|&i| {
                matches!(f[i].verb, Verb::Partition { cut: Cut::Servers })
                    && matches!(
                        f[i + 1].verb,
                        Verb::Partition {
                            cut: Cut::PrimaryClients | Cut::SecondaryClients
                        }
                    )
                    && f[i].at == f[i + 1].at
                    && f[i].when.is_none()
            }) else {
                continue;
            };
            found += 1;
            let Verb::Partition { cut: clients } = f[i + 1].verb else {
                unreachable!()
            };
            let victim = if clients == Cut::PrimaryClients {
                Node::Primary
            } else {
                Node::Secondary
            };
            let start = ms(i);
            let heal = |c: Cut| {
                (i..f.len())
                    .find(|&j| f[j].verb == Verb::Heal { cut: c })
                    .map(ms)
                    .unwrap_or_else(|| panic!("seed {seed}: {c:?} never healed"))
            };
            let (link, rejoin) = (heal(Cut::Servers), heal(clients));
            assert!(
                link + 5 * 60_000 <= rejoin,
                "seed {seed}: clients back too soon"
            );
            if let Some(again) = f
                .iter()
                .find(|g| g.when.is_some() && g.at.0.as_millis() == link + 1)
            {
                cut_again += 1;
                let t = again.when.as_ref().unwrap();
                assert_eq!(t.event, TriggerEvent::Enters(State::PotentialConflict));
                assert_eq!(again.verb, Verb::Partition { cut: Cut::Servers });
                assert!(fault_end(again) < rejoin + 30 * 60_000, "seed {seed}");
            }
            let declared = |n: Node| {
                f.iter().any(|g| {
                    g.verb
                        == Verb::Admin {
                            node: n,
                            command: Command::PartnerDown,
                        }
                        && (start..link).contains(&g.at.0.as_millis())
                })
            };
            assert!(declared(victim.partner()), "seed {seed}: not declared down");
            both += usize::from(declared(victim));
            short += usize::from(link - start < 120_000);
            let (a, b) = (start.saturating_sub(30 * 60_000), rejoin + 30 * 60_000);
            let episode = episodes(f);
            for (j, g) in f.iter().enumerate() {
                let ours = (i..=i + 1).contains(&j)
                    || g.verb == Verb::Heal { cut: Cut::Servers } && ms(j) == link
                    || g.verb == Verb::Partition { cut: Cut::Servers } && ms(j) == link + 1
                    || g.verb == Verb::Heal { cut: clients } && ms(j) == rejoin;
                // A sloppy partner's update may land anywhere: rejected, it changes nothing.
                if ours
                    || matches!(g.verb, Verb::Incomplete { .. })
                    || matches!(g.verb, Verb::Admin { .. }) && (start..link).contains(&ms(j))
                {
                    continue;
                }
                assert!(
                    g.at.0.as_millis() > b || fault_end(g) < a,
                    "seed {seed}: fault {j} ({:?}) within the isolation's margin",
                    g.verb
                );
                // Nor is an episode open across it.
                let span = f
                    .iter()
                    .zip(&episode)
                    .filter(|(_, e)| **e == episode[j])
                    .map(|(h, _)| h.at.0.as_millis());
                let (lo, hi) = (span.clone().min().unwrap(), span.max().unwrap());
                assert!(
                    !(lo < a && hi > b),
                    "seed {seed}: episode of fault {j} spans it"
                );
            }
        }
        assert!(found > 60, "{found} isolations in 300 worlds");
        assert!(
            both > 10 && short > 5 && cut_again > 10,
            "both {both}, short {short}, cut again {cut_again} of {found}"
        );
    }

    #[test]
    fn episodes_pair_each_fault_with_its_undo() {
        let s = swarm_scenario();
        for seed in 0..100 {
            let drawn = concrete(&s, seed);
            let f = &drawn.faults;
            let e = episodes(f);
            for (i, g) in f.iter().enumerate() {
                if g.when.is_some() {
                    continue;
                }
                let partner = |pred: &dyn Fn(&Verb) -> bool| {
                    (i + 1..f.len()).find(|&j| f[j].when.is_none() && pred(&f[j].verb))
                };
                let undo = match &g.verb {
                    Verb::Crash { node, .. } => {
                        let n = *node;
                        partner(&|v| *v == Verb::Restart { node: n })
                    }
                    Verb::Partition { cut } => {
                        let c = *cut;
                        partner(&|v| *v == Verb::Heal { cut: c })
                    }
                    _ => continue,
                };
                let j = undo.unwrap_or_else(|| panic!("seed {seed}: fault {i} never undone"));
                assert_eq!(e[i], e[j], "seed {seed}: faults {i} and {j}");
            }
        }
    }

    #[test]
    fn profiles_follow_the_mix() {
        let all = ClientMix {
            client_id: 1.0,
            hostname: 1.0,
            parameter_list: 0.0,
            broadcast_flag: 1.0,
            secs_byte_swapped: 1.0,
            keep_lease_on_silent_reboot: 1.0,
            no_release: 1.0,
            burst: 1.0,
            release_renew: 1.0,
        };
        let Profile {
            cfg,
            burst,
            release_renew,
        } = client_profile(&all, 1, 3, [2, 0, 0, 0, 0, 3]);
        assert!(burst && release_renew && cfg.broadcast_flag && cfg.secs_byte_swapped);
        assert!(cfg.keep_lease_on_silent_reboot && !cfg.release_on_departure);
        assert_eq!(cfg.client_id.as_deref(), Some(&b"\0swarm-client-3"[..]));
        assert_eq!(cfg.hostname.as_deref(), Some(&b"host-3"[..]));
        assert_eq!(cfg.parameter_request_list, PARAMETER_REQUEST_LIST.to_vec());
        let none = ClientMix {
            parameter_list: 1.0,
            ..ClientMix::default()
        };
        let Profile {
            cfg,
            burst,
            release_renew,
        } = client_profile(&none, 1, 3, [2, 0, 0, 0, 0, 3]);
        assert!(!burst && !release_renew && cfg.client_id.is_none() && cfg.release_on_departure);
        assert_ne!(cfg.parameter_request_list, PARAMETER_REQUEST_LIST.to_vec());
    }
}
