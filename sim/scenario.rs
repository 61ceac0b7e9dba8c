//! Scenario files: what a run simulates, in YAML (serde_yaml), checked before anything runs.
//!
//! ```yaml
//! # One line saying what the scenario shows.
//! name: hot-standby-primary-crash
//! description: the primary crashes for 20 minutes; clients keep their addresses
//! duration: 2h                 # virtual time; units ms, s, m, h, d
//! expect: pass                 # or: violation
//! # violates: no-duplicate-lease  # with expect: violation, the property that must break
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
//! checks:
//!   converge_within: 10m
//! ```
//!
//! Unknown keys are errors; a bad file is reported with its line and column.

use std::fmt;
use std::path::Path;

use dhcpfo_engine::bugs::Bugs;
use dhcpfo_engine::time::Duration;
use serde::{Deserialize, Serialize};

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
    /// `no-duplicate-lease`, `durability`, `lease-stability`, `liveness`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub violates: Option<String>,
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms.is_multiple_of(3_600_000) {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms.is_multiple_of(60_000) {
            write!(f, "{}m", ms / 60_000)
        } else if ms.is_multiple_of(1000) {
            write!(f, "{}s", ms / 1000)
        } else {
            write!(f, "{ms}ms")
        }
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
        }
    }
}

/// A server of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// The primary.
    Primary,
    /// The secondary.
    Secondary,
}

impl Node {
    /// Index in the world's server array.
    pub fn index(self) -> usize {
        match self {
            Node::Primary => 0,
            Node::Secondary => 1,
        }
    }
}

/// What a crash keeps of a server's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorageLoss {
    /// Everything synced survives (the engine syncs before it answers).
    #[default]
    KeepSynced,
    /// The whole database is lost.
    LoseAll,
}

/// An operator command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Declare the partner down.
    PartnerDown,
    /// Pause the server's failover (STATE PAUSED, drop the link).
    Pause,
    /// Shut the server's failover down (STATE SHUTDOWN).
    Shutdown,
}

/// What a partition cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cut {
    /// The failover link between the servers, both ways.
    Servers,
    /// The failover link from the primary to the secondary only (one-way).
    PrimaryToSecondary,
    /// The failover link from the secondary to the primary only (one-way).
    SecondaryToPrimary,
    /// The primary from its clients.
    PrimaryClients,
    /// The secondary from its clients.
    SecondaryClients,
}

/// One scheduled fault: `at` and exactly one verb.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// When, from the start of the run.
    pub at: Span,
    /// Crash a server.
    #[serde(default)]
    pub crash: Option<Node>,
    /// What the crash keeps.
    #[serde(default)]
    pub storage: Option<StorageLoss>,
    /// Restart a crashed server.
    #[serde(default)]
    pub restart: Option<Node>,
    /// Cut part of the network.
    #[serde(default)]
    pub partition: Option<Cut>,
    /// Heal a cut.
    #[serde(default)]
    pub heal: Option<Cut>,
    /// Give an operator command to a server.
    #[serde(default)]
    pub admin: Option<Node>,
    /// The command for `admin`.
    #[serde(default)]
    pub command: Option<Command>,
    /// Set a server's clock offset, in seconds (to the node given).
    #[serde(default)]
    pub clock_offset_s: Option<i64>,
    /// The node for `clock_offset_s`.
    #[serde(default)]
    pub node: Option<Node>,
    /// Set the network's mean one-way delay from now on (a delay spike, and its end).
    #[serde(default)]
    pub delay_ms: Option<u32>,
    /// Make a server's clock drift by this many parts per million from now on (to the node
    /// given; 0 stops it).
    #[serde(default)]
    pub clock_drift_ppm: Option<i32>,
    /// Every running client reboots (a power cut on the clients' side): each confirms its
    /// address with INIT-REBOOT (RFC 2131 §4.4.2).
    #[serde(default)]
    pub reboot_clients: Option<bool>,
}

/// Checker bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checks {
    /// After the last fault, both servers must be NORMAL within this span.
    #[serde(default = "default_converge")]
    pub converge_within: Span,
}

fn default_converge() -> Span {
    Span(Duration::from_mins(10))
}

impl Default for Checks {
    fn default() -> Self {
        Checks {
            converge_within: default_converge(),
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
        s.validate()
            .map_err(|e| ScenarioError(format!("{} with --set: {}", path.display(), e.0)))?;
        Ok(s)
    }

    /// Parse and check scenario text.
    pub fn parse(text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = serde_yaml::from_str(text).map_err(|e| {
            let place = e
                .location()
                .map(|l| format!("line {}, column {}: ", l.line(), l.column()))
                .unwrap_or_default();
            ScenarioError(format!("{place}{e}"))
        })?;
        s.validate()?;
        Ok(s)
    }

    /// Check what the types cannot.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let err = |m: String| Err(ScenarioError(m));
        if self.duration.0 == Duration::ZERO {
            return err("duration must be positive".into());
        }
        if !(1..=60_000).contains(&self.servers.pool_size) {
            return err(format!(
                "servers.pool_size {} must be 1..=60000",
                self.servers.pool_size
            ));
        }
        if let Some(p) = &self.violates {
            if self.expect != Expect::Violation {
                return err("violates: is for scenarios that expect a violation".into());
            }
            if !crate::check::PROPERTIES.contains(&p.as_str()) {
                return err(format!(
                    "violates: {p} is not a property; one of {}",
                    crate::check::PROPERTIES.join(", ")
                ));
            }
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
        if let Some(n) = &self.nemesis {
            if n.faults > 1000 {
                return err(format!("nemesis.faults {} is above 1000", n.faults));
            }
            if !(n.start < n.heal_by && n.heal_by <= self.duration) {
                return err("nemesis needs start < heal_by <= duration".into());
            }
            if n.max_outage.0 < Duration::from_secs(1) {
                return err("nemesis.max_outage must be at least 1s".into());
            }
        }
        for (i, f) in self.faults.iter().enumerate() {
            let verbs = [
                f.crash.is_some(),
                f.restart.is_some(),
                f.partition.is_some(),
                f.heal.is_some(),
                f.admin.is_some(),
                f.clock_offset_s.is_some(),
                f.delay_ms.is_some(),
                f.clock_drift_ppm.is_some(),
                f.reboot_clients.is_some(),
            ]
            .iter()
            .filter(|&&v| v)
            .count();
            if verbs != 1 {
                return err(format!(
                    "faults[{i}] (at {}) must have exactly one of crash, restart, partition, heal, \
                     admin, clock_offset_s, clock_drift_ppm, delay_ms, reboot_clients",
                    f.at
                ));
            }
            if f.admin.is_some() && f.command.is_none() {
                return err(format!("faults[{i}]: admin needs a command"));
            }
            if (f.clock_offset_s.is_some() || f.clock_drift_ppm.is_some()) && f.node.is_none() {
                return err(format!("faults[{i}]: a clock fault needs a node"));
            }
            if f.clock_drift_ppm
                .is_some_and(|p| p.unsigned_abs() > 100_000)
            {
                return err(format!("faults[{i}]: clock_drift_ppm is beyond ±100000"));
            }
            if f.at > self.duration {
                return err(format!(
                    "faults[{i}] at {} is after the end of the run",
                    f.at
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violates_names_a_known_property_of_a_violation_scenario() {
        let base = "name: x\ndescription: d\nduration: 1h\nwhy: w\n";
        let ok = Scenario::parse(&format!("{base}expect: violation\nviolates: liveness\n"));
        assert_eq!(ok.map(|s| s.violates), Ok(Some("liveness".into())));
        let e = Scenario::parse(&format!("{base}expect: pass\nviolates: liveness\n"));
        assert!(e.unwrap_err().to_string().contains("expect a violation"));
        let e = Scenario::parse(&format!("{base}expect: violation\nviolates: speed\n"));
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
    fn a_fault_has_exactly_one_verb() {
        let e = Scenario::parse(
            "name: x\ndescription: d\nduration: 1h\nexpect: pass\nwhy: w\nfaults:\n  - { at: 5m, crash: primary, restart: primary }\n",
        )
        .unwrap_err();
        assert!(e.0.contains("exactly one"), "{}", e.0);
    }
}
