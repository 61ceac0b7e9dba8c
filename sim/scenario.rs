//! Scenario files: what a run simulates, in YAML (serde_yaml), checked before anything runs.
//!
//! ```yaml
//! # One line saying what the scenario shows.
//! name: hot-standby-primary-crash
//! description: the primary crashes for 20 minutes; clients keep their addresses
//! duration: 3h                 # virtual time; units ms, s, m, h, d
//! expect: pass                 # or: violation
//! # violates: no-duplicate-lease  # with expect: violation, the property that must break,
//! # violates_after: 1h           # and the time from which it may (the fault that breaks it)
//! why: the secondary serves from its BACKUP pool with MCLT-limited leases
//! servers:
//!   mode: hot_standby          # or: load_balance (split 128)
//!   mclt: 5m
//!   lease_time: 1h
//!   pool_size: 200
//! clients:
//!   count: 100
//!   arrive_over: 10m
//! network:
//!   delay_ms_mean: 1
//!   jitter_ms: 1
//!   loss_probability: 0.0
//! faults:
//!   - { at: 30m, crash: primary, storage: keep_synced }
//!   - { at: 50m, restart: primary }
//!   - { at: 1h, partition: servers }
//!   - { at: 1h20m, heal: servers }
//!   - { at: 1h5m, admin: secondary, command: partner_down }
//!   - { at: 2h, partition: primary_to_secondary }   # one-way
//!   - { at: 2h30m, delay_ms: 500 }                   # a delay spike (set back later)
//!   - { at: 40m, clock_offset_s: 120, node: secondary }
//!   - { at: 1h40m, clock_drift_ppm: 2000, node: primary }   # 0 stops it
//!   - { at: 2h40m, reboot_clients: true }            # every client INIT-REBOOTs
//!   - { at: 2h50m, forge: primary, release: leased } # a forged BNDUPD (or release: ADDRESS)
//!   - { at: 2h55m, incomplete: secondary, omit: pet } # a sloppy partner's update (client, lease_end)
//! checks:
//!   converge_within: 10m
//!   pool_balance_within: 10m  # how long the serving server may have no address to give
//! ```
//!
//! Unknown keys are errors; a bad file is reported with its line and column. Every field takes
//! effect or is an error: each fault is one verb with only its own keys, and the schedule is
//! replayed before the run so that a fault that would do nothing (a restart of a server that
//! is up, a heal of a cut never made) or would race the nemesis is reported with its line
//! (module `fault`).

use std::fmt;
use std::net::Ipv4Addr;
use std::path::Path;

use dhcpfo_engine::bugs::Bugs;
use dhcpfo_engine::time::Duration;
use serde::{Deserialize, Serialize};

mod fault;

pub use fault::{
    Command, Cut, Fault, Moment, Node, Omit, State, StorageLoss, Trigger, TriggerEvent, Verb,
    Victim, state_name,
};

/// A whole scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name, used in output paths.
    pub name: String,
    /// One line saying what it shows.
    pub description: String,
    /// How long the run lasts (virtual time).
    pub duration: Span,
    /// What the checks should conclude.
    pub expect: Expect,
    /// Why that outcome is expected.
    pub why: String,
    /// With `expect: violation`: the property that must be the one broken (`mclt`,
    /// `no-duplicate-lease`, `durability`, `lease-stability`, `liveness`, `pool-balance`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violates: Option<String>,
    /// With `expect: violation`: the violation must come at or after this time (the fault
    /// that should cause it). A run that breaks the property earlier, for another reason, does
    /// not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violates_after: Option<Span>,
    /// The failover pair.
    #[serde(default)]
    pub servers: Servers,
    /// The DHCP clients.
    #[serde(default)]
    pub clients: Clients,
    /// Network behaviour.
    #[serde(default)]
    pub network: Network,
    /// Scheduled faults.
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Checker bounds.
    #[serde(default)]
    pub checks: Checks,
    /// Random faults drawn from the seed, besides the scheduled ones.
    #[serde(default)]
    pub nemesis: Option<Nemesis>,
    /// Draw the world from the seed (swarm testing): servers, clients, network, checks and
    /// faults all come from the seed, within safe bounds (`crate::swarm`). A swarm scenario
    /// leaves those sections out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swarm: Option<crate::swarm::Swarm>,
    /// Test-only: catalogued flaws switched on in both servers (`dhcpfo bugs` lists them;
    /// `dhcpfo run --bug NAME` adds one). Empty: the correct engine.
    #[serde(default, skip_serializing_if = "Bugs::is_empty")]
    pub bugs: Bugs,
}

/// A random fault schedule drawn from the run's seed (its own stream, so it does not change
/// what the clients or the network draw). Only "safe" faults: crashes that keep synced storage
/// (each followed by a restart), partitions of the failover link or of one server from its
/// clients (each followed by a heal), clock offsets within the tolerated delta. Operator
/// commands and the safe period are left out: they are promises about the world that the
/// nemesis does not keep.
///
/// The nemesis and the scheduled `faults` never act on the same thing at once; a scenario
/// where they would is an error, not a run whose outcome depends on which came first. From
/// `start` to `heal_by` (both included) the nemesis owns the servers' processes, the cuts and
/// the clocks: no scheduled crash, restart, partition, heal, operator command (its server may
/// be down by the nemesis) or clock setting may fall in that window, and none may still be in
/// force when it opens (a server down, a cut in place, a clock off true time), since a drawn
/// restart, heal or clock reset would end it at a time drawn from the seed. Delay spikes,
/// client reboots and forged messages may fall anywhere: the nemesis does not touch them (a
/// forge that finds no connection, its server down by the nemesis, says so in the trace). By `heal_by` the
/// nemesis has undone all it did, so scheduled faults after it start from a whole world.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nemesis {
    /// How many faults.
    pub faults: u32,
    /// Faults start after this long.
    #[serde(default = "default_nemesis_start")]
    pub start: Span,
    /// All faults are healed by this time, leaving the rest of the run to converge.
    pub heal_by: Span,
    /// The longest a fault lasts before its heal or restart.
    #[serde(default = "default_nemesis_max")]
    pub max_outage: Span,
}

fn default_nemesis_start() -> Span {
    Span(Duration::from_mins(10))
}
fn default_nemesis_max() -> Span {
    Span(Duration::from_mins(30))
}

/// The expected outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Every check holds.
    Pass,
    /// A safety property is violated.
    Violation,
}

/// A span of virtual time written with a unit: `250ms`, `30s`, `5m`, `2h`, `1d`, `1h30m`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

impl Span {
    /// Parse `1h30m`, `90s`, `250ms`.
    pub fn parse(s: &str) -> Result<Span, String> {
        let bad = || format!("`{s}` is not a duration (like 250ms, 30s, 5m, 2h, 1d, 1h30m)");
        let mut total: u64 = 0;
        let mut rest = s.trim();
        if rest.is_empty() {
            return Err(bad());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(bad());
            }
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let ms = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(bad()),
            };
            rest = &rest[unit_len..];
            total = n
                .checked_mul(ms)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
        }
        Ok(Span(Duration::from_millis(total)))
    }
}

impl fmt::Display for Span {
    /// The way a scenario writes it, largest unit first: `2h`, `1h5m`, `10m30s`, `40m12ms`,
    /// `0s`. [`Span::parse`] reads it back, so a scenario written out reads as it was written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        let parts = [
            (ms / 3_600_000, "h"),
            (ms / 60_000 % 60, "m"),
            (ms / 1000 % 60, "s"),
            (ms % 1000, "ms"),
        ];
        for (n, unit) in parts {
            if n > 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Span, D::Error> {
        let s = String::deserialize(d)?;
        Span::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// How the two servers share the clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PairMode {
    /// The primary serves; the secondary stands by.
    #[default]
    HotStandby,
    /// RFC 3074 load balancing, split 128.
    LoadBalance,
}

/// The failover pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Servers {
    /// Hot standby or load balancing.
    #[serde(default)]
    pub mode: PairMode,
    /// Maximum client lead time.
    #[serde(default = "default_mclt")]
    pub mclt: Span,
    /// The lease time clients are given.
    #[serde(default = "default_lease")]
    pub lease_time: Span,
    /// Addresses in the pool.
    #[serde(default = "default_pool")]
    pub pool_size: u32,
    /// tReceive.
    #[serde(default = "default_receive")]
    pub receive_timer: Span,
    /// Automatic PARTNER-DOWN after this long in COMMUNICATIONS-INTERRUPTED (off if unset).
    #[serde(default)]
    pub safe_period: Option<Span>,
    /// Largest tolerated clock difference between the partners.
    #[serde(default = "default_delta")]
    pub max_clock_delta: Span,
    /// The failover dialect both servers speak.
    #[serde(default)]
    pub dialect: dhcpfo_engine::failover::DialectName,
    /// A shared secret: every failover message is signed (HMAC-SHA256) and checked.
    #[serde(default)]
    pub shared_secret: Option<String>,
    /// How each server reads its partner's absolute times: `delta` corrects them by the
    /// measured clock difference (draft-12 §5.10), `none` uses them raw as ISC dhcpd does.
    #[serde(default)]
    pub time_correction: dhcpfo_engine::failover::skew::TimeCorrection,
}

fn default_mclt() -> Span {
    Span(Duration::from_mins(5))
}
fn default_lease() -> Span {
    Span(Duration::from_mins(60))
}
fn default_pool() -> u32 {
    200
}
fn default_receive() -> Span {
    Span(Duration::from_secs(30))
}
fn default_delta() -> Span {
    Span(Duration::from_secs(60))
}

impl Default for Servers {
    fn default() -> Self {
        Servers {
            mode: PairMode::default(),
            mclt: default_mclt(),
            lease_time: default_lease(),
            pool_size: default_pool(),
            receive_timer: default_receive(),
            safe_period: None,
            max_clock_delta: default_delta(),
            dialect: Default::default(),
            shared_secret: None,
            time_correction: Default::default(),
        }
    }
}

/// The clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clients {
    /// How many.
    #[serde(default = "default_clients")]
    pub count: u32,
    /// Their arrivals are spread evenly over this span from the start.
    #[serde(default = "default_arrive")]
    pub arrive_over: Span,
    /// Broadcast segments the clients are spread over (round robin). Segment 0 holds the
    /// servers; each other one reaches them through a relay agent that sets giaddr (RFC 1542)
    /// and has its own subnet and share of the pool.
    #[serde(default = "default_segments")]
    pub segments: u32,
    /// A hostile client flooding DISCOVERs from spoofed hardware addresses (pool starvation).
    #[serde(default)]
    pub flood: Option<Flood>,
    /// How long a client stays before it departs (RELEASE), varied ±50% per client; unset:
    /// clients stay for the whole run.
    #[serde(default)]
    pub stay: Option<Span>,
    /// Clients probe a newly offered address (a simulated ARP, after a SELECTING REQUEST's ACK)
    /// and DECLINE it when another client is configured with it (RFC 2131 §4.4.1). Off by
    /// default. On, it shows how DECLINE contains a duplicate; each one caught is still
    /// reported, as `duplicate-grant-declined`.
    #[serde(default)]
    pub arp_probe: bool,
    /// Each client's clock is off true time by an amount drawn from ±this (the checkers judge
    /// the client's view in true time; DHCP lease times are relative, so only drift changes
    /// when a lease ends in true time).
    #[serde(default = "zero_span", skip_serializing_if = "is_zero_span")]
    pub clock_offset_max: Span,
    /// Each client's clock drifts by a rate drawn from ±this many parts per million.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub clock_drift_max_ppm: u32,
    /// Only these clients run (by number, 0 to count-1); the others never start. Each keeps
    /// its number, its arrival time and its randomness, so the run is the same run without
    /// the others: `dhcpfo shrink` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only: Option<Vec<u32>>,
    /// Varied clients: each client draws its traits from its own stream with these
    /// probabilities. Unset: every client is the plain default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mix: Option<ClientMix>,
}

/// How often each trait is found among the clients: for each client and trait, a draw from
/// the client's own stream (`profile`, its number) with this probability. 0 (the default) is
/// never, 1 always.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMix {
    /// Sends a client identifier (option 61, type 0 and a name of its own), so the servers
    /// key its binding by it rather than by the hardware address.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub client_id: f64,
    /// Sends a host name (option 12).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub hostname: f64,
    /// Asks for a parameter request list of its own (option 55: drawn codes in a drawn order,
    /// or none at all) instead of the standard one.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub parameter_list: f64,
    /// Sets the BROADCAST flag (RFC 2131 §4.1).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub broadcast_flag: f64,
    /// Writes `secs` byte-swapped (the ISC field bug I17).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub secs_byte_swapped: f64,
    /// Keeps using an unexpired lease when nobody answers its INIT-REBOOT (RFC 2131 §3.2).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub keep_lease_on_silent_reboot: f64,
    /// Departs without a RELEASE (needs `clients.stay`).
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub no_release: f64,
    /// Arrives in a burst: at the start of its quarter of `arrive_over`, together with the
    /// other bursting clients of that quarter, instead of at its own evenly spread time.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub burst: f64,
    /// Now and then gives its lease back and soon asks for one again (`ipconfig /release`,
    /// then `ipconfig /renew` 10 s later, or `servers.max_clock_delta` + 10 s later where a
    /// fault moves a server's clock): first 5 min to two lease times after it arrives, then
    /// again after each such wait (drawn from its own stream), while it is on the network.
    #[serde(default, skip_serializing_if = "is_zero_f64")]
    pub release_renew: f64,
}

fn is_zero_f64(v: &f64) -> bool {
    *v == 0.0
}

impl ClientMix {
    /// Each trait's name and probability, in the order a client draws them.
    pub fn traits(&self) -> [(&'static str, f64); 9] {
        [
            ("client_id", self.client_id),
            ("hostname", self.hostname),
            ("parameter_list", self.parameter_list),
            ("broadcast_flag", self.broadcast_flag),
            ("secs_byte_swapped", self.secs_byte_swapped),
            (
                "keep_lease_on_silent_reboot",
                self.keep_lease_on_silent_reboot,
            ),
            ("no_release", self.no_release),
            ("burst", self.burst),
            ("release_renew", self.release_renew),
        ]
    }
}

fn zero_span() -> Span {
    Span(Duration::ZERO)
}

fn is_zero_span(s: &Span) -> bool {
    s.0 == Duration::ZERO
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// A starvation attack: DISCOVERs from a new random MAC each time, never completing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flood {
    /// DISCOVERs per second.
    pub per_second: u32,
    /// When the flood starts.
    pub start: Span,
    /// When it stops.
    pub stop: Span,
}

fn default_segments() -> u32 {
    1
}

fn default_clients() -> u32 {
    50
}
fn default_arrive() -> Span {
    Span(Duration::from_mins(5))
}

impl Default for Clients {
    fn default() -> Self {
        Clients {
            count: default_clients(),
            arrive_over: default_arrive(),
            segments: default_segments(),
            flood: None,
            stay: None,
            arp_probe: false,
            clock_offset_max: zero_span(),
            clock_drift_max_ppm: 0,
            only: None,
            mix: None,
        }
    }
}

/// Network behaviour for UDP between clients and servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Mean one-way delay.
    #[serde(default = "default_delay")]
    pub delay_ms_mean: u32,
    /// Uniform jitter added to the delay, 0..=jitter.
    #[serde(default = "default_jitter")]
    pub jitter_ms: u32,
    /// Probability that a datagram is lost.
    #[serde(default)]
    pub loss_probability: f64,
    /// Probability that a datagram is delivered twice (the copy a little later).
    #[serde(default)]
    pub duplicate_probability: f64,
    /// Each client's datagrams, both ways, draw their loss, duplication and jitter from the
    /// client's own stream rather than from one stream for the whole network, so that a client
    /// removed (or a datagram more from one) changes no other client's network. Off by default:
    /// the runs recorded so far draw from the shared stream. `dhcpfo shrink` switches it on.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub per_client_streams: bool,
}

fn default_delay() -> u32 {
    1
}
fn default_jitter() -> u32 {
    1
}

impl Default for Network {
    fn default() -> Self {
        Network {
            delay_ms_mean: default_delay(),
            jitter_ms: default_jitter(),
            loss_probability: 0.0,
            duplicate_probability: 0.0,
            per_client_streams: false,
        }
    }
}

/// Checker bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// After the last fault, both servers must be NORMAL within this span.
    #[serde(default = "default_converge")]
    pub converge_within: Span,
    /// While both servers are in NORMAL, the one that must serve new clients may go without
    /// an address to give, while its partner holds some, for at most this long (the
    /// pool-balance property, `crate::pool_balance`). The default, 10 minutes, is the longest
    /// default rebalance period (MS-DHCPF §3.2.2.1: 5 minutes) and as much again of slack.
    #[serde(default = "default_pool_balance_within")]
    pub pool_balance_within: Span,
}

fn default_converge() -> Span {
    Span(Duration::from_mins(10))
}

fn default_pool_balance_within() -> Span {
    Span(Duration::from_mins(10))
}

impl Default for Checks {
    fn default() -> Self {
        Checks {
            converge_within: default_converge(),
            pool_balance_within: default_pool_balance_within(),
        }
    }
}

/// A scenario that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError(pub String);

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Read and check a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError(format!("{}: {e}", path.display())))?;
        Scenario::parse(&text).map_err(|e| ScenarioError(format!("{}: {}", path.display(), e.0)))
    }

    /// Read a scenario and apply `key.path=value` overrides (`--set clients.count=500`) before
    /// checking it. Each value is read as YAML (`500`, `2h`, `load_balance`).
    pub fn load_with(path: &Path, overrides: &[String]) -> Result<Scenario, ScenarioError> {
        if overrides.is_empty() {
            return Scenario::load(path);
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScenarioError(format!("{}: {e}", path.display())))?;
        let mut doc: serde_yaml::Value = serde_yaml::from_str(&text)
            .map_err(|e| ScenarioError(format!("{}: {e}", path.display())))?;
        for o in overrides {
            let Some((key, value)) = o.split_once('=') else {
                return Err(ScenarioError(format!("--set {o}: expected key.path=value")));
            };
            let value: serde_yaml::Value = serde_yaml::from_str(value)
                .map_err(|e| ScenarioError(format!("--set {o}: {e}")))?;
            let mut node = &mut doc;
            let parts: Vec<&str> = key.split('.').collect();
            for (i, part) in parts.iter().enumerate() {
                let serde_yaml::Value::Mapping(map) = node else {
                    return Err(ScenarioError(format!(
                        "--set {o}: `{part}` is not inside a mapping"
                    )));
                };
                let k = serde_yaml::Value::String((*part).to_string());
                if i + 1 == parts.len() {
                    map.insert(k, value.clone());
                    break;
                }
                node = map
                    .entry(k)
                    .or_insert_with(|| serde_yaml::Value::Mapping(Default::default()));
            }
        }
        let s: Scenario = serde_yaml::from_value(doc)
            .map_err(|e| ScenarioError(format!("{} with --set: {e}", path.display())))?;
        // The faults' lines are those of the file unless an override rewrote the list.
        let text = (!overrides.iter().any(|o| o.starts_with("faults"))).then_some(text.as_str());
        s.check().map_err(|e| {
            let e = e.placed(text);
            ScenarioError(format!("{} with --set: {}", path.display(), e.0))
        })?;
        Ok(s)
    }

    /// Parse and check scenario text. A broken rule about a fault names the fault's line.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = serde_yaml::from_str(text).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            ScenarioError(format!("{place}{e}"))
        })?;
        s.check().map_err(|e| e.placed(Some(text)))?;
        Ok(s)
    }

    /// Check what the types cannot: bounds, and that every scheduled fault takes effect where
    /// it stands in the schedule: a crash needs its server up, a restart needs it down, an
    /// operator command needs it up, a partition needs its links whole (cuts may not overlap),
    /// a heal needs that very cut in place, a clock or delay setting must change something, and
    /// nothing may race the nemesis (see [`Nemesis`]). Errors name `faults[i]` and its time.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        self.check().map_err(|e| e.placed(None))
    }

    fn check(&self) -> Result<(), Invalid> {
        let err = |m: String| Err(Invalid::scenario(m));
        if self.duration.0 == Duration::ZERO {
            return err("duration must be positive".into());
        }
        // Each segment's share of the pool lives in its own /16, from 10.k.1.0 to 10.k.255.255.
        let per_segment = u32::from(u16::MAX) + 1 - 256;
        let segments = self.clients.segments.max(1);
        let largest = self.servers.pool_size - self.servers.pool_size / segments * (segments - 1);
        if self.servers.pool_size == 0 || largest > per_segment {
            return err(format!(
                "servers.pool_size {} must be at least 1 and at most {per_segment} per segment \
                 (clients.segments is {segments}): give more segments for a bigger pool",
                self.servers.pool_size
            ));
        }
        match (self.expect, &self.violates, self.violates_after) {
            (Expect::Pass, None, None) => {}
            (Expect::Pass, _, _) => {
                return err(
                    "violates: and violates_after: are for scenarios that expect a violation"
                        .into(),
                );
            }
            (Expect::Violation, Some(_), Some(_)) => {}
            (Expect::Violation, _, _) => {
                return err(
                    "expect: violation needs violates: (the property that must break) \
                     and violates_after: (when the fault that breaks it comes), so that a run \
                     breaking something else, or earlier, does not match"
                        .into(),
                );
            }
        }
        if let Some(p) = &self.violates
            && !crate::check::PROPERTIES.contains(&p.as_str())
        {
            return err(format!(
                "violates: {p} is not a property; one of {}",
                crate::check::PROPERTIES.join(", ")
            ));
        }
        // Bounds that keep a client's clock arithmetic finite (a drift of −10⁶ ppm would stop
        // the clock; an offset past i64 milliseconds would wrap), as the clock fault verbs have.
        if let Some(only) = &self.clients.only
            && let Some(c) = only.iter().find(|&&c| c >= self.clients.count)
        {
            return err(format!(
                "clients.only names client {c}, but clients are numbered 0 to {}",
                self.clients.count.saturating_sub(1)
            ));
        }
        if self.clients.clock_drift_max_ppm > 100_000 {
            return err("clients.clock_drift_max_ppm is beyond 100000".into());
        }
        if self.clients.clock_offset_max.0.as_secs() > fault::MAX_CLOCK_OFFSET_S {
            return err("clients.clock_offset_max is beyond ten years".into());
        }
        if self.servers.mclt.0 < Duration::from_secs(1) {
            return err("servers.mclt must be at least 1s".into());
        }
        if self.servers.lease_time.0 < Duration::from_secs(20) {
            return err("servers.lease_time must be at least 20s".into());
        }
        if self.clients.count > 100_000 {
            return err(format!(
                "clients.count {} is above 100000",
                self.clients.count
            ));
        }
        if !(1..=16).contains(&self.clients.segments)
            || self.servers.pool_size < self.clients.segments
        {
            return err(format!(
                "clients.segments {} must be 1..=16 and at most servers.pool_size",
                self.clients.segments
            ));
        }
        if let Some(f) = &self.clients.flood
            && (!(1..=10_000).contains(&f.per_second) || f.start >= f.stop)
        {
            return err("clients.flood needs per_second in 1..=10000 and start < stop".into());
        }
        if !(0.0..=1.0).contains(&self.network.loss_probability)
            || !(0.0..=1.0).contains(&self.network.duplicate_probability)
        {
            return err("network probabilities must be within 0..=1".into());
        }
        if let Some(m) = &self.clients.mix {
            if let Some((name, p)) = m
                .traits()
                .into_iter()
                .find(|(_, p)| !(0.0..=1.0).contains(p))
            {
                return err(format!("clients.mix.{name} {p} must be within 0..=1"));
            }
            if m.traits().iter().all(|(_, p)| *p == 0.0) {
                return err("clients.mix gives every trait probability 0: leave it out".into());
            }
            if m.no_release > 0.0 && self.clients.stay.is_none() {
                return err(
                    "clients.mix.no_release does nothing without clients.stay (nobody departs)"
                        .into(),
                );
            }
        }
        if let Some(sw) = &self.swarm {
            crate::swarm::check(self, sw).map_err(Invalid::scenario)?;
        }
        if let Some(n) = &self.nemesis {
            if !(1..=1000).contains(&n.faults) {
                return err(format!(
                    "nemesis.faults {} must be 1..=1000 (leave the nemesis out for none)",
                    n.faults
                ));
            }
            if !(n.start < n.heal_by && n.heal_by <= self.duration) {
                return err("nemesis needs start < heal_by <= duration".into());
            }
            if n.max_outage.0 < Duration::from_secs(1) {
                return err("nemesis.max_outage must be at least 1s".into());
            }
        }
        self.check_faults()
    }

    /// Every scheduled fault must take effect: see [`fault::check_schedule`].
    fn check_faults(&self) -> Result<(), Invalid> {
        fault::check_schedule(
            &self.faults,
            self.duration,
            self.network.delay_ms_mean,
            self.nemesis.as_ref(),
            &self.pool_ranges(),
        )
    }

    /// The pool, one range of addresses per client segment: segment k's subnet is 10.k.0.0/16
    /// and its share starts at 10.k.1.0; the segments share `servers.pool_size` evenly and
    /// segment 0, the servers' own, takes what the division leaves over.
    pub fn pool_ranges(&self) -> Vec<(Ipv4Addr, Ipv4Addr)> {
        let segments = self.clients.segments.max(1);
        let share = (self.servers.pool_size / segments).max(1);
        (0..segments)
            .map(|k| {
                let first = u32::from(Ipv4Addr::new(10, k as u8, 1, 0));
                let size = if k == 0 {
                    self.servers.pool_size - share * (segments - 1)
                } else {
                    share
                };
                (Ipv4Addr::from(first), Ipv4Addr::from(first + size - 1))
            })
            .collect()
    }
}

/// A broken rule: what is wrong, and which scheduled fault it is about (to find its line).
struct Invalid {
    fault: Option<usize>,
    message: String,
}

impl Invalid {
    fn scenario(message: String) -> Invalid {
        Invalid {
            fault: None,
            message,
        }
    }

    fn fault(index: usize, fault: &Fault, what: &str) -> Invalid {
        Invalid {
            fault: Some(index),
            message: format!("faults[{index}] {fault}: {what}"),
        }
    }

    /// The error, with the fault's line and column when the text is at hand.
    fn placed(self, text: Option<&str>) -> ScenarioError {
        let place = text
            .zip(self.fault)
            .and_then(|(t, i)| fault::fault_location(t, i))
            .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
            .unwrap_or_default();
        ScenarioError(format!("{place}{}", self.message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violates_names_a_known_property_of_a_violation_scenario() {
        let base = "name: x\ndescription: d\nduration: 1h\nwhy: w\n";
        let ok = Scenario::parse(&format!(
            "{base}expect: violation\nviolates: liveness\nviolates_after: 1h\n"
        ));
        assert_eq!(ok.map(|s| s.violates), Ok(Some("liveness".into())));
        let e = Scenario::parse(&format!("{base}expect: pass\nviolates: liveness\n"));
        assert!(e.unwrap_err().to_string().contains("expect a violation"));
        let e = Scenario::parse(&format!(
            "{base}expect: violation\nviolates: speed\nviolates_after: 1h\n"
        ));
        assert!(e.unwrap_err().to_string().contains("not a property"));
    }

    #[test]
    fn spans_parse_with_units() {
        assert_eq!(Span::parse("90s").unwrap().0, Duration::from_secs(90));
        assert_eq!(Span::parse("1h30m").unwrap().0, Duration::from_mins(90));
        assert_eq!(Span::parse("250ms").unwrap().0, Duration::from_millis(250));
        assert!(Span::parse("10").is_err());
        assert!(Span::parse("5y").is_err());
        assert!(Span::parse("").is_err());
        assert!(Span::parse("99999999999999999999d").is_err());
    }

    #[test]
    fn spans_print_as_scenarios_write_them() {
        for text in [
            "0s", "250ms", "90s", "1m30s", "2h", "1h5m", "10m30s", "40m12ms", "25h",
        ] {
            let span = Span::parse(text).unwrap();
            assert_eq!(span.to_string(), if text == "90s" { "1m30s" } else { text });
        }
    }

    #[test]
    fn the_example_at_the_top_of_this_file_is_a_valid_scenario() {
        let source = include_str!("scenario.rs");
        let (_, rest) = source.split_once("//! ```yaml\n").unwrap();
        let (example, _) = rest.split_once("//! ```").unwrap();
        let text: String = example
            .lines()
            .map(|l| format!("{}\n", l.strip_prefix("//! ").unwrap_or("")))
            .collect();
        let s = Scenario::parse(&text).unwrap();
        assert_eq!(s.faults.len(), 12);
    }

    #[test]
    fn a_minimal_scenario_takes_defaults() {
        let s =
            Scenario::parse("name: x\ndescription: d\nduration: 1h\nexpect: pass\nwhy: because\n")
                .unwrap();
        assert_eq!(s.servers.pool_size, 200);
        assert_eq!(s.clients.count, 50);
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = Scenario::parse("name: x\ndescription: d\nduration: 1h\nexpect: maybe\nwhy: w\n")
            .unwrap_err();
        assert!(e.0.contains("line 4"), "{}", e.0);
        let e = Scenario::parse(
            "name: x\ndescription: d\nduration: 1h\nexpect: pass\nwhy: w\nbogus: 1\n",
        )
        .unwrap_err();
        assert!(e.0.contains("bogus"), "{}", e.0);
    }

    #[test]
    fn overrides_set_nested_keys_and_are_checked() {
        let dir = std::env::temp_dir().join(format!("dhcpfo-scen-set-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("s.yaml");
        std::fs::write(
            &f,
            "name: x\ndescription: d\nduration: 1h\nexpect: pass\nwhy: w\n",
        )
        .unwrap();
        let s =
            Scenario::load_with(&f, &["clients.count=7".into(), "servers.mclt=2m".into()]).unwrap();
        assert_eq!(s.clients.count, 7);
        assert_eq!(s.servers.mclt.0, Duration::from_mins(2));
        assert!(Scenario::load_with(&f, &["clients.bogus=1".into()]).is_err());
        assert!(Scenario::load_with(&f, &["clients.count=-3".into()]).is_err());
        assert!(Scenario::load_with(&f, &["nokey".into()]).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn client_clocks_beyond_their_bounds_are_errors_not_panics() {
        let base = "name: x\ndescription: d\nduration: 1h\nwhy: w\nexpect: pass\n";
        for (clients, want) in [
            ("clock_drift_max_ppm: 2000000", "clock_drift_max_ppm"),
            ("clock_offset_max: 200000000000d", "clock_offset_max"),
        ] {
            let e = Scenario::parse(&format!("{base}clients:\n  {clients}\n")).unwrap_err();
            assert!(e.to_string().contains(want), "{e}");
        }
        assert!(Scenario::parse(&format!("{base}clients:\n  clock_drift_max_ppm: 100\n")).is_ok());
    }
}
