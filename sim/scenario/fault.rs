//! Scheduled faults (STYLE.md 16): one verb each, written as one flat YAML mapping, and the
//! rules that make every fault of a schedule take effect.
//!
//! A [`Fault`] is `at` and a [`Verb`] with exactly the verb's arguments, so a crash cannot
//! carry a `node:` nor a restart a `storage:`; reading YAML rejects such keys with their line.
//! [`check_schedule`] then replays the schedule in the world's order and rejects a fault that
//! would do nothing where it stands (a restart of a server that is up, a heal of a cut never
//! made), or that would race the nemesis.
//!
//! A fault may wait for an event instead of a time ([`Trigger`], `when:` in place of `at:`): a
//! server entering a failover state, or a moment of its failover traffic (right after a
//! DHCPACK, between a BNDUPD and its BNDACK, during UPDREQALL). A triggered crash or cut carries
//! its own undo (`for:`), and owns its server or links for the whole window it may strike in.

use std::fmt;
use std::net::Ipv4Addr;

use dhcpfo_engine::time::Duration;
use serde::{Deserialize, Serialize};

use super::{Invalid, Nemesis, Span};

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

    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            Node::Primary => "primary",
            Node::Secondary => "secondary",
        }
    }

    /// The other server of the pair.
    pub fn partner(self) -> Node {
        match self {
            Node::Primary => Node::Secondary,
            Node::Secondary => Node::Primary,
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

impl StorageLoss {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageLoss::KeepSynced => "keep_synced",
            StorageLoss::LoseAll => "lose_all",
        }
    }
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

impl Command {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            Command::PartnerDown => "partner_down",
            Command::Pause => "pause",
            Command::Shutdown => "shutdown",
        }
    }
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

impl Cut {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            Cut::Servers => "servers",
            Cut::PrimaryToSecondary => "primary_to_secondary",
            Cut::SecondaryToPrimary => "secondary_to_primary",
            Cut::PrimaryClients => "primary_clients",
            Cut::SecondaryClients => "secondary_clients",
        }
    }

    /// The one-way links it cuts, one bit each (primary to secondary, secondary to primary,
    /// primary to and from its clients, secondary to and from its clients). Two cuts overlap
    /// when they share a bit: healing one would then heal part of the other.
    fn links(self) -> u8 {
        match self {
            Cut::Servers => 0b0011,
            Cut::PrimaryToSecondary => 0b0001,
            Cut::SecondaryToPrimary => 0b0010,
            Cut::PrimaryClients => 0b0100,
            Cut::SecondaryClients => 0b1000,
        }
    }
}

/// The address a forged release names ([`Verb::Forge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Victim {
    /// The address of the client quietest since its last DHCPACK when the fault happens (the
    /// lowest address on a tie), as the clients themselves see it (`leased`): whatever the
    /// seed, one in use, and the one whose release is the easiest to believe.
    Leased,
    /// This address of the pool, and the client that holds it then, if any.
    Address(Ipv4Addr),
}

impl fmt::Display for Victim {
    /// As a scenario writes it: `leased` or the address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Victim::Leased => f.write_str("leased"),
            Victim::Address(a) => write!(f, "{a}"),
        }
    }
}

impl Serialize for Victim {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Victim {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Victim, D::Error> {
        let text = String::deserialize(d)?;
        if text == "leased" {
            return Ok(Victim::Leased);
        }
        text.parse().map(Victim::Address).map_err(|_| {
            serde::de::Error::custom(format!("`{text}` is neither `leased` nor an IPv4 address"))
        })
    }
}

/// What a sloppy partner's update leaves out ([`Verb::Incomplete`]): each is required of an
/// ACTIVE update (draft-12 Table 7.1-1, Table 7.1.1-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Omit {
    /// The client: no client-identifier and no client-hardware-address.
    Client,
    /// The lease-expiration-time.
    LeaseEnd,
    /// The potential-expiration-time.
    Pet,
}

impl Omit {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            Omit::Client => "client",
            Omit::LeaseEnd => "lease_end",
            Omit::Pet => "pet",
        }
    }

    /// Every field, in the order a swarm draws them.
    pub const ALL: [Omit; 3] = [Omit::Client, Omit::LeaseEnd, Omit::Pet];
}

/// A failover state a trigger waits for a server to enter (`enters:`), as the trace names it
/// (`communications-interrupted` may also be written as the trace's `comm-interrupted`).
pub type State = dhcpfo_engine::failover::state::FoState;

/// Every failover state, in the order errors list them.
const STATES: [State; 12] = [
    State::Startup,
    State::Normal,
    State::CommunicationsInterrupted,
    State::PartnerDown,
    State::PotentialConflict,
    State::ResolutionInterrupted,
    State::ConflictDone,
    State::Recover,
    State::RecoverWait,
    State::RecoverDone,
    State::Paused,
    State::Shutdown,
];

/// A state's name in a scenario file.
pub fn state_name(s: State) -> &'static str {
    match s {
        State::CommunicationsInterrupted => "communications-interrupted",
        other => other.name(),
    }
}

fn parse_state(text: &str) -> Result<State, String> {
    STATES
        .into_iter()
        .find(|s| state_name(*s) == text || s.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = STATES.iter().map(|s| state_name(*s)).collect();
            format!(
                "`{text}` is not a failover state: give one of {}",
                names.join(", ")
            )
        })
}

/// A moment in a server's failover traffic that a trigger waits for (`after:`): where the
/// protocol's own bookkeeping is in flight, which a fault at a random time almost never hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    /// Right after the server sends a DHCPACK, before anything else it sends: before the
    /// BNDUPD that carries the binding to its partner leaves it.
    Dhcpack,
    /// A BNDUPD of the server's has crossed the wire and been taken in by its partner, whose
    /// BNDACK has not left yet: between the update and its acknowledgement.
    Bndupd,
    /// Right after the server sends UPDREQALL, while its UPDDONE has not come back (with a
    /// `delay`, only if the partner has not sent UPDDONE by then; otherwise the trigger waits
    /// for the next UPDREQALL).
    Updreqall,
}

impl Moment {
    /// Its name in a scenario file.
    pub fn as_str(self) -> &'static str {
        match self {
            Moment::Dhcpack => "dhcpack",
            Moment::Bndupd => "bndupd",
            Moment::Updreqall => "updreqall",
        }
    }
}

/// What a trigger waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerEvent {
    /// The server enters this failover state (`enters: recover-wait`).
    Enters(State),
    /// The server reaches this moment of its failover traffic (`after: dhcpack`).
    After(Moment),
}

/// The event that fires a triggered fault, instead of a time (`when:`), and how long the
/// fault lasts (`for:`).
///
/// In YAML: `when: { server: secondary, enters: recover-wait, nth: 2, delay: 5s, from: 1h,
/// until: 3h }` (one of `enters` and `after`; the rest optional), beside the verb and `for`. The
/// trigger is armed from `from` (the fault's [`Fault::at`]; the run's start by default) until
/// `until` (the run's end by default) and fires on the `nth` occurrence of its event while
/// armed (the first by default), `delay` after it (none by default: with no delay the fault
/// strikes at that very instant, between two of the server's outputs).
///
/// A triggered crash or cut carries its own undo, `for: SPAN`: the restart or heal that long
/// after it struck. A scheduled restart could not know whether the crash happened, so a
/// triggered crash or cut owns its server or its links from `from` until `until + delay + for`,
/// and no other fault may touch them in that window ([`check_schedule`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trigger {
    /// The server whose event it waits for.
    pub server: Node,
    /// The event.
    pub event: TriggerEvent,
    /// Which occurrence fires it, counting from 1 while armed.
    pub nth: u32,
    /// How long after the event the fault strikes.
    pub delay: Span,
    /// When it is disarmed (none: at the end of the run).
    pub until: Option<Span>,
    /// How long a crash or cut lasts before its restart or heal (`for`).
    pub undo_after: Option<Span>,
}

impl fmt::Display for Trigger {
    /// As a scenario writes it, without `from` (the fault's `at`) and `for`: `{ server:
    /// primary, after: dhcpack, nth: 2 }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{ server: {}, ", self.server.as_str())?;
        match self.event {
            TriggerEvent::Enters(s) => write!(f, "enters: {}", state_name(s))?,
            TriggerEvent::After(m) => write!(f, "after: {}", m.as_str())?,
        }
        if self.nth != 1 {
            write!(f, ", nth: {}", self.nth)?;
        }
        if self.delay.0 > Duration::ZERO {
            write!(f, ", delay: {}", self.delay)?;
        }
        Ok(())
    }
}

impl Trigger {
    /// When it is disarmed: `until`, or by default the last instant from which its delay and
    /// its `for` still end within a run of `duration`.
    pub fn disarm_at(&self, duration: Span) -> Duration {
        match self.until {
            Some(u) => u.0,
            None => Duration::from_millis(
                duration
                    .0
                    .as_millis()
                    .saturating_sub(self.delay.0.as_millis() + self.undo().as_millis()),
            ),
        }
    }

    /// How long its crash or cut lasts (zero for an operator command).
    pub fn undo(&self) -> Duration {
        self.undo_after.map_or(Duration::ZERO, |f| f.0)
    }

    /// What it waits for, in words for the trace: `the secondary entered recover-wait,
    /// occurrence 2`.
    pub fn describe(&self) -> String {
        let what = match self.event {
            TriggerEvent::Enters(s) => {
                format!("the {} entered {}", self.server.as_str(), state_name(s))
            }
            TriggerEvent::After(Moment::Dhcpack) => format!(
                "the {} sent a DHCPACK (before the BNDUPD carrying it left)",
                self.server.as_str()
            ),
            TriggerEvent::After(Moment::Bndupd) => format!(
                "a BNDUPD of the {}'s reached its partner (before the BNDACK left)",
                self.server.as_str()
            ),
            TriggerEvent::After(Moment::Updreqall) => format!(
                "the {} sent UPDREQALL (before its UPDDONE)",
                self.server.as_str()
            ),
        };
        let nth = match self.nth {
            1 => String::new(),
            n => format!(", occurrence {n}"),
        };
        format!("{what}{nth}")
    }
}

/// A trigger as written inside `when:`.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TriggerKeys {
    server: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    enters: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<Moment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nth: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    until: Option<Span>,
}

impl TriggerKeys {
    /// The trigger these keys describe for `verb`, with its `for`, or what is wrong.
    fn into_trigger(self, verb: &Verb, undo_after: Option<Span>) -> Result<Trigger, String> {
        let server = self
            .server
            .ok_or("`when` needs a `server` (primary or secondary): whose event fires the fault")?;
        let event = match (self.enters, self.after) {
            (Some(s), None) => TriggerEvent::Enters(parse_state(&s)?),
            (None, Some(m)) => TriggerEvent::After(m),
            (Some(_), Some(_)) => {
                return Err("`when` waits for one event: `enters` or `after`, not both \
                            (write one fault for each)"
                    .to_string());
            }
            (None, None) => {
                return Err(
                    "`when` needs an event: `enters: STATE` (a failover state) or \
                            `after: dhcpack`, `after: bndupd` or `after: updreqall`"
                        .to_string(),
                );
            }
        };
        if self.nth == Some(0) {
            return Err("`nth: 0` never fires: occurrences count from 1".to_string());
        }
        let kind = match verb {
            Verb::Crash { .. } => "crash",
            Verb::Partition { .. } => "partition",
            Verb::Admin { .. } => "admin",
            other => {
                let text = other.to_string();
                let name = text.split(':').next().unwrap_or_default().to_string();
                return Err(format!(
                    "`{name}` cannot be triggered: `when` fires only `crash`, `partition` and \
                     `admin` (give `{name}` an `at`)"
                ));
            }
        };
        match (kind, undo_after) {
            ("admin", Some(_)) => {
                return Err(
                    "`for` does nothing on `admin`: only a triggered `crash` (its \
                            restart) and `partition` (its heal) take it"
                        .to_string(),
                );
            }
            ("crash" | "partition", None) => {
                return Err(format!(
                    "a triggered `{kind}` needs `for`, how long until its {} (a restart or \
                     heal at a time cannot know whether the trigger fired)",
                    if kind == "crash" { "restart" } else { "heal" }
                ));
            }
            _ => {}
        }
        Ok(Trigger {
            server,
            event,
            nth: self.nth.unwrap_or(1),
            delay: self.delay.unwrap_or(Span(Duration::ZERO)),
            until: self.until,
            undo_after,
        })
    }
}

/// One scheduled fault: when, and the one thing it does.
///
/// In YAML a fault is one flat mapping, `at` and the verb's own keys:
/// `{ at: 30m, crash: primary, storage: keep_synced }`, `{ at: 40m, clock_offset_s: 120, node:
/// secondary }`. A key the verb does not take, a second verb, or a verb without what it needs is
/// an error naming the key, the verb and the line.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// When, from the start of the run; for a triggered fault, when its trigger is armed
    /// (`when: { from: … }`).
    pub at: Span,
    /// What it does.
    pub verb: Verb,
    /// The event that fires it, if an event does and not the time (see [`Trigger`]).
    pub when: Option<Trigger>,
}

impl Fault {
    /// A fault at a time.
    pub fn at(at: Span, verb: Verb) -> Fault {
        Fault {
            at,
            verb,
            when: None,
        }
    }

    /// The last instant it may act, from the start of the run: its time, or for a triggered
    /// fault the end of its window (disarmed, delayed, then undone).
    pub fn last_effect(&self, duration: Span) -> Duration {
        match &self.when {
            None => self.at.0,
            Some(t) => t.disarm_at(duration) + t.delay.0 + t.undo(),
        }
    }

    /// The verb that undoes a triggered crash or cut (its restart or heal).
    pub fn undo(&self) -> Option<Verb> {
        match self.verb {
            Verb::Crash { node, .. } => Some(Verb::Restart { node }),
            Verb::Partition { cut } => Some(Verb::Heal { cut }),
            _ => None,
        }
    }
}

/// What a fault does: one verb with exactly its arguments (STYLE.md 16), so that a fault with
/// two verbs, or an argument its verb ignores, cannot be written down.
#[derive(Debug, Clone, PartialEq)]
pub enum Verb {
    /// Crash a running server (`crash: NODE`, `storage:` optional, `keep_synced` by default).
    Crash {
        /// The server.
        node: Node,
        /// What the crash keeps of its storage.
        storage: StorageLoss,
    },
    /// Boot a crashed server from what its storage kept (`restart: NODE`).
    Restart {
        /// The server.
        node: Node,
    },
    /// Cut part of the network (`partition: CUT`).
    Partition {
        /// What is cut.
        cut: Cut,
    },
    /// Lift a cut made earlier (`heal: CUT`).
    Heal {
        /// The cut to lift.
        cut: Cut,
    },
    /// Give an operator command to a running server (`admin: NODE, command: COMMAND`).
    Admin {
        /// The server.
        node: Node,
        /// The command.
        command: Command,
    },
    /// Set a server's clock offset from true time (`clock_offset_s: S, node: NODE`).
    ClockOffset {
        /// The server.
        node: Node,
        /// The offset, in seconds.
        offset_s: i64,
    },
    /// Make a server's clock drift from now on (`clock_drift_ppm: P, node: NODE`; 0 stops it).
    ClockDrift {
        /// The server.
        node: Node,
        /// Parts per million; the drift so far is kept in the offset.
        ppm: i32,
    },
    /// Set the network's mean one-way delay from now on (`delay_ms: MS`): a delay spike, and
    /// its end.
    DelaySpike {
        /// The new mean delay, in milliseconds.
        delay_ms: u32,
    },
    /// Every running client reboots (`reboot_clients: true`; a power cut on the clients' side):
    /// each confirms its address with INIT-REBOOT (RFC 2131 §4.4.2).
    RebootClients,
    /// An attacker on the failover link who does not know the shared secret injects into the
    /// established failover connection of server `to` one BNDUPD, in the relationship's dialect
    /// and as if from its partner, saying the client of `release` released it (`forge: NODE,
    /// release: leased` or `release: ADDRESS`). Accepted, it frees an address still in use.
    ///
    /// * The update names the client that holds the address then (from the clients' own view,
    ///   as the attacker read it off the wire), or none if nobody does. It dates the release
    ///   one second after that client's last DHCPACK (the transaction time the attacker saw in
    ///   the update that carried it), on the partner's clock: later than the target's record,
    ///   so it passes the acceptance rules (draft-12 §7.1.3 time(1)) as a real release would,
    ///   and old, so the target gives the address out before any it freed since (least
    ///   recently used first). A RELEASED, not a FREE: the rules refuse a FREE over a lease
    ///   that has not run out (time(2)), digest or not.
    /// * With a `shared_secret` it carries a digest made with the key `attacker` (a wrong
    ///   guess, unless that is the secret); without one it is unsigned like every message on
    ///   that link, and the correct engine takes it: the demonstration that an unsigned
    ///   relationship trusts anyone on the path.
    /// * Its xid is far above any a server reaches by counting, so the target's BNDACK answers
    ///   nothing the partner sent: the partner ignores it, and the checkers never take the
    ///   forged update for the partner's.
    /// * The attacker sits at the target's end of the link: a cut does not stop it, but with
    ///   no established connection (the link dropped and not yet back, a server down by the
    ///   nemesis) there is nothing to inject into, and the trace says `forge: no connection`;
    ///   with `leased` and no client holding an address, `forge: no address leased`.
    Forge {
        /// The server that receives the forged update.
        to: Node,
        /// The address it says was released.
        release: Victim,
    },
    /// A sloppy partner: a foreign implementation that sends server `to`, on their established
    /// failover connection and signed as the partner signs (with the shared secret, if there
    /// is one), an update missing what its status requires (`incomplete: NODE, omit: client`,
    /// `lease_end` or `pet`). It is the ACTIVE binding of the client quietest since its last
    /// DHCPACK, as the partner would send it (the client, the lease end, a PET at the lease end
    /// and the transaction time, on the partner's clock), less the omitted field. The receiver
    /// must reject it with reason 3 (draft-12 §7.1.3: "If the BNDUPD lacks information"); the
    /// checkers judge its BNDACK (property `update-validation`).
    ///
    /// Its xid, like a forgery's, is far above any a server reaches by counting, so the
    /// partner drops the BNDACK; with no established connection, or no client holding an
    /// address, the trace says so and nothing is sent.
    Incomplete {
        /// The server that receives the incomplete update.
        to: Node,
        /// What the update leaves out.
        omit: Omit,
    },
}

/// The verbs' keys, in the order errors list them.
const VERB_KEYS: &str = "crash, restart, partition, heal, admin, clock_offset_s, clock_drift_ppm, delay_ms, \
     reboot_clients, forge, incomplete";

impl fmt::Display for Verb {
    /// The verb as it is written in a scenario: `crash: primary, storage: keep_synced`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verb::Crash { node, storage } => {
                write!(f, "crash: {}, storage: {}", node.as_str(), storage.as_str())
            }
            Verb::Restart { node } => write!(f, "restart: {}", node.as_str()),
            Verb::Partition { cut } => write!(f, "partition: {}", cut.as_str()),
            Verb::Heal { cut } => write!(f, "heal: {}", cut.as_str()),
            Verb::Admin { node, command } => {
                write!(f, "admin: {}, command: {}", node.as_str(), command.as_str())
            }
            Verb::ClockOffset { node, offset_s } => {
                write!(f, "clock_offset_s: {offset_s}, node: {}", node.as_str())
            }
            Verb::ClockDrift { node, ppm } => {
                write!(f, "clock_drift_ppm: {ppm}, node: {}", node.as_str())
            }
            Verb::DelaySpike { delay_ms } => write!(f, "delay_ms: {delay_ms}"),
            Verb::RebootClients => f.write_str("reboot_clients: true"),
            Verb::Forge { to, release } => {
                write!(f, "forge: {}, release: {release}", to.as_str())
            }
            Verb::Incomplete { to, omit } => {
                write!(f, "incomplete: {}, omit: {}", to.as_str(), omit.as_str())
            }
        }
    }
}

impl fmt::Display for Fault {
    /// The fault as it is written in a scenario: `{ at: 30m, crash: primary, storage:
    /// keep_synced }`, `{ when: { server: primary, after: dhcpack, from: 1h }, crash: primary,
    /// storage: keep_synced, for: 30s }`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(t) = &self.when else {
            return write!(f, "{{ at: {}, {} }}", self.at, self.verb);
        };
        let shown = t.to_string();
        let mut when = shown.trim_end_matches(" }").to_string();
        if self.at.0 > Duration::ZERO {
            when.push_str(&format!(", from: {}", self.at));
        }
        if let Some(u) = t.until {
            when.push_str(&format!(", until: {u}"));
        }
        write!(f, "{{ when: {when} }}, {}", self.verb)?;
        if let Some(d) = t.undo_after {
            write!(f, ", for: {d}")?;
        }
        f.write_str(" }")
    }
}

/// A fault as written: every key any verb takes, each optional (and `null` the same as
/// absent, which older repro files wrote for every unused key). [`Fault`] reads and writes
/// through it so that the YAML stays one flat mapping.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultKeys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    at: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    when: Option<TriggerKeys>,
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    undo_after: Option<Span>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    crash: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    storage: Option<StorageLoss>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restart: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    partition: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    heal: Option<Cut>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    admin: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<Command>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock_offset_s: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    node: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    clock_drift_ppm: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reboot_clients: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    forge: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    release: Option<Victim>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    incomplete: Option<Node>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    omit: Option<Omit>,
}

impl FaultKeys {
    /// The fault these keys describe, or what is wrong with them.
    fn into_fault(mut self) -> Result<Fault, String> {
        let when = self.when.take();
        let at = match (&when, self.at) {
            (Some(_), Some(_)) => {
                return Err(
                    "a fault has `at` (a time) or `when` (an event), not both: to arm a \
                            trigger only from a time, write `when: { from: … }`"
                        .to_string(),
                );
            }
            (Some(w), None) => w.from.unwrap_or(Span(Duration::ZERO)),
            (None, Some(at)) => at,
            (None, None) => {
                return Err(
                    "a fault needs `at`, when it happens, or `when`, the event that \
                            fires it"
                        .to_string(),
                );
            }
        };
        let verbs: Vec<&str> = [
            ("crash", self.crash.is_some()),
            ("restart", self.restart.is_some()),
            ("partition", self.partition.is_some()),
            ("heal", self.heal.is_some()),
            ("admin", self.admin.is_some()),
            ("clock_offset_s", self.clock_offset_s.is_some()),
            ("clock_drift_ppm", self.clock_drift_ppm.is_some()),
            ("delay_ms", self.delay_ms.is_some()),
            ("reboot_clients", self.reboot_clients.is_some()),
            ("forge", self.forge.is_some()),
            ("incomplete", self.incomplete.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        let verb = match verbs.as_slice() {
            [] => {
                return Err(format!(
                    "the fault at {at} has no verb: give one of {VERB_KEYS}"
                ));
            }
            [one] => *one,
            [first, second, ..] => {
                return Err(format!(
                    "the fault at {at} has two verbs, `{first}` and `{second}`: a fault does one \
                     thing (write one fault for each)"
                ));
            }
        };
        // The arguments some verbs take; on any other verb they would do nothing.
        let arguments: [(&str, bool, &[&str]); 5] = [
            ("storage", self.storage.is_some(), &["crash"]),
            ("command", self.command.is_some(), &["admin"]),
            ("release", self.release.is_some(), &["forge"]),
            ("omit", self.omit.is_some(), &["incomplete"]),
            (
                "node",
                self.node.is_some(),
                &["clock_offset_s", "clock_drift_ppm"],
            ),
        ];
        for (key, set, takers) in arguments {
            if set && !takers.contains(&verb) {
                let takers: Vec<String> = takers.iter().map(|t| format!("`{t}`")).collect();
                return Err(format!(
                    "`{key}` does nothing on `{verb}`: only {} {} it",
                    takers.join(" and "),
                    if takers.len() == 1 { "takes" } else { "take" }
                ));
            }
        }
        let needs_node = || {
            self.node
                .ok_or_else(|| format!("`{verb}` needs a `node` (primary or secondary)"))
        };
        let verb = if let Some(node) = self.crash {
            Verb::Crash {
                node,
                storage: self.storage.unwrap_or_default(),
            }
        } else if let Some(node) = self.restart {
            Verb::Restart { node }
        } else if let Some(cut) = self.partition {
            Verb::Partition { cut }
        } else if let Some(cut) = self.heal {
            Verb::Heal { cut }
        } else if let Some(node) = self.admin {
            let command = self
                .command
                .ok_or("`admin` needs a `command` (partner_down, pause or shutdown)".to_string())?;
            Verb::Admin { node, command }
        } else if let Some(offset_s) = self.clock_offset_s {
            Verb::ClockOffset {
                node: needs_node()?,
                offset_s,
            }
        } else if let Some(ppm) = self.clock_drift_ppm {
            Verb::ClockDrift {
                node: needs_node()?,
                ppm,
            }
        } else if let Some(delay_ms) = self.delay_ms {
            Verb::DelaySpike { delay_ms }
        } else if let Some(to) = self.forge {
            let release = self.release.ok_or(
                "`forge` needs a `release`: the address its forged update says was released \
                 (`leased`, that of the client quietest since its last DHCPACK, or an address \
                 of the pool)"
                    .to_string(),
            )?;
            Verb::Forge { to, release }
        } else if let Some(to) = self.incomplete {
            let omit = self.omit.ok_or(
                "`incomplete` needs an `omit`: what the update leaves out (`client`, \
                 `lease_end` or `pet`)"
                    .to_string(),
            )?;
            Verb::Incomplete { to, omit }
        } else if self.reboot_clients == Some(true) {
            Verb::RebootClients
        } else {
            return Err("`reboot_clients: false` does nothing: leave the fault out".to_string());
        };
        let when = match when {
            Some(w) => Some(w.into_trigger(&verb, self.undo_after)?),
            None if self.undo_after.is_some() => {
                return Err(
                    "`for` needs `when`: a fault at a time is undone by a restart or \
                            heal of its own"
                        .to_string(),
                );
            }
            None => None,
        };
        Ok(Fault { at, verb, when })
    }

    /// The keys that write `fault`.
    fn of(fault: &Fault) -> FaultKeys {
        let mut k = FaultKeys {
            at: Some(fault.at),
            ..FaultKeys::default()
        };
        if let Some(t) = &fault.when {
            k.at = None;
            k.undo_after = t.undo_after;
            k.when = Some(TriggerKeys {
                server: Some(t.server),
                enters: match t.event {
                    TriggerEvent::Enters(s) => Some(state_name(s).to_string()),
                    TriggerEvent::After(_) => None,
                },
                after: match t.event {
                    TriggerEvent::After(m) => Some(m),
                    TriggerEvent::Enters(_) => None,
                },
                nth: (t.nth != 1).then_some(t.nth),
                delay: (t.delay.0 > Duration::ZERO).then_some(t.delay),
                from: (fault.at.0 > Duration::ZERO).then_some(fault.at),
                until: t.until,
            });
        }
        match fault.verb {
            Verb::Crash { node, storage } => {
                k.crash = Some(node);
                k.storage = Some(storage);
            }
            Verb::Restart { node } => k.restart = Some(node),
            Verb::Partition { cut } => k.partition = Some(cut),
            Verb::Heal { cut } => k.heal = Some(cut),
            Verb::Admin { node, command } => {
                k.admin = Some(node);
                k.command = Some(command);
            }
            Verb::ClockOffset { node, offset_s } => {
                k.clock_offset_s = Some(offset_s);
                k.node = Some(node);
            }
            Verb::ClockDrift { node, ppm } => {
                k.clock_drift_ppm = Some(ppm);
                k.node = Some(node);
            }
            Verb::DelaySpike { delay_ms } => k.delay_ms = Some(delay_ms),
            Verb::RebootClients => k.reboot_clients = Some(true),
            Verb::Forge { to, release } => {
                k.forge = Some(to);
                k.release = Some(release);
            }
            Verb::Incomplete { to, omit } => {
                k.incomplete = Some(to);
                k.omit = Some(omit);
            }
        }
        k
    }
}

impl Serialize for Fault {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FaultKeys::of(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Fault {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Fault, D::Error> {
        /// Reads the mapping and builds the verb inside `visit_map`, so that serde_yaml
        /// places an error about the combination of keys at the fault's own line.
        struct FaultVisitor;
        impl<'de> serde::de::Visitor<'de> for FaultVisitor {
            type Value = Fault;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fault: a mapping of `at` and one verb")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Fault, A::Error> {
                let keys =
                    FaultKeys::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                keys.into_fault().map_err(serde::de::Error::custom)
            }
        }
        d.deserialize_map(FaultVisitor)
    }
}

/// Every scheduled fault must take effect. Each one alone: within the run, its values
/// within bounds (a forged release names an address of `pool`, the ranges the servers lease
/// from). Then the schedule, replayed in the order the world applies it (by time, then as
/// listed): a crash needs its server up, a restart needs it down, an operator command needs
/// it up, a forge needs both servers up (else there is no failover connection); a partition
/// needs its links whole (cuts may not overlap, since a heal lifts its whole cut) and a heal
/// needs that very cut in place; a clock or delay setting must change something. Last, the
/// nemesis rule (see [`Nemesis`]).
pub(super) fn check_schedule(
    faults: &[Fault],
    duration: Span,
    delay_ms_mean: u32,
    nemesis: Option<&Nemesis>,
    pool: &[(Ipv4Addr, Ipv4Addr)],
) -> Result<(), Invalid> {
    for (i, f) in faults.iter().enumerate() {
        let bad = |what: &str| Err(Invalid::fault(i, f, what));
        if f.at > duration {
            return bad(&format!("it is after the end of the run ({duration})"));
        }
        if let Some(t) = &f.when {
            let disarm = Span(t.disarm_at(duration));
            if disarm < f.at {
                return bad(&match t.until {
                    Some(u) => format!("`until` {u} is before `from` {}", f.at),
                    None => format!(
                        "from {} its delay and `for` run past the end of the run ({duration})",
                        f.at
                    ),
                });
            }
            if f.last_effect(duration) > duration.0 {
                return bad(&format!(
                    "disarmed at {disarm}, then delayed and undone, it may act until {}, after \
                     the end of the run ({duration}): end `until` earlier",
                    Span(f.last_effect(duration))
                ));
            }
            if t.event == TriggerEvent::Enters(State::ConflictDone) && t.server == Node::Secondary {
                return bad(
                    "the secondary never enters conflict-done: only the primary does (draft-12 \
                     §9.11)",
                );
            }
        }
        match f.verb {
            Verb::ClockDrift { ppm, .. } if ppm.unsigned_abs() > 100_000 => {
                return bad("clock_drift_ppm is beyond ±100000");
            }
            Verb::ClockOffset { offset_s, .. } if offset_s.unsigned_abs() > MAX_CLOCK_OFFSET_S => {
                return bad(&format!(
                    "clock_offset_s is beyond ±{MAX_CLOCK_OFFSET_S} (ten years)"
                ));
            }
            Verb::Forge {
                release: Victim::Address(a),
                ..
            } if !pool
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&a)) =>
            {
                let ranges: Vec<String> = pool.iter().map(|(f, l)| format!("{f}-{l}")).collect();
                return bad(&format!(
                    "{a} is not in the pool ({}): no server holds a binding for it",
                    ranges.join(", ")
                ));
            }
            _ => {}
        }
    }
    let mut order: Vec<usize> = (0..faults.len()).collect();
    // Stable: faults at the same time happen as listed, as the world's queue runs them.
    order.sort_by_key(|&i| faults[i].at);
    let mut world = Replay::new(delay_ms_mean);
    let mut nemesis_checked = false;
    for &i in &order {
        let f = &faults[i];
        if f.when.is_some() {
            // Judged below, against the window it may strike in.
            continue;
        }
        if let Some(n) = nemesis {
            if !nemesis_checked && f.at >= n.start {
                world.clear_at(n, faults)?;
                nemesis_checked = true;
            }
            if n.start <= f.at && f.at <= n.heal_by && nemesis_owns(&f.verb) {
                return Err(Invalid::fault(
                    i,
                    f,
                    &format!(
                        "it falls inside the nemesis's window {}..{}, where the nemesis \
                         crashes and restarts the servers, cuts and heals the network and \
                         sets the clocks at random: move it before {} or after {}",
                        n.start, n.heal_by, n.start, n.heal_by
                    ),
                ));
            }
        }
        world
            .apply(i, f, faults)
            .map_err(|what| Invalid::fault(i, f, &what))?;
    }
    if let Some(n) = nemesis
        && !nemesis_checked
    {
        world.clear_at(n, faults)?;
    }
    check_triggered(faults, &order, duration, delay_ms_mean, nemesis)
}

/// What a fault acts on: the servers' processes (one bit each) and the one-way links
/// ([`Cut::links`]).
#[derive(Clone, Copy, Default)]
struct Touches {
    servers: [bool; 2],
    links: u8,
}

impl Touches {
    fn of(verb: &Verb) -> Touches {
        let mut t = Touches::default();
        match *verb {
            Verb::Crash { node, .. } | Verb::Restart { node } | Verb::Admin { node, .. } => {
                t.servers[node.index()] = true;
            }
            Verb::Forge { .. } | Verb::Incomplete { .. } => t.servers = [true, true],
            Verb::Partition { cut } | Verb::Heal { cut } => t.links = cut.links(),
            _ => {}
        }
        t
    }

    /// What a triggered fault holds for its whole window: the server it crashes or the links
    /// it cuts (an operator command holds nothing, but needs its server up).
    fn owned_by(verb: &Verb) -> Touches {
        match verb {
            Verb::Admin { .. } => Touches::default(),
            v => Touches::of(v),
        }
    }

    fn meets(self, other: Touches) -> bool {
        (self.servers[0] && other.servers[0])
            || (self.servers[1] && other.servers[1])
            || self.links & other.links != 0
    }
}

/// Triggered faults ([`Trigger`]): each may strike anywhere in its window, from `from` until
/// it is disarmed, delayed and undone. So at `from` what it acts on must be as it needs (its
/// server up, its links whole, by the scheduled faults before); in its window no other fault
/// may touch what it crashes or cuts, nor crash the server an operator command needs; and the
/// window stays out of the nemesis's.
fn check_triggered(
    faults: &[Fault],
    order: &[usize],
    duration: Span,
    delay_ms_mean: u32,
    nemesis: Option<&Nemesis>,
) -> Result<(), Invalid> {
    let window = |f: &Fault| (f.at.0, f.last_effect(duration));
    for (i, f) in faults.iter().enumerate() {
        if f.when.is_none() {
            continue;
        }
        let (from, last) = window(f);
        let shown = |d: Duration| Span(d).to_string();
        if let Some(n) = nemesis
            && from <= n.heal_by.0
            && n.start.0 <= last
        {
            return Err(Invalid::fault(
                i,
                f,
                &format!(
                    "it may strike from {} until {} (armed, delayed, undone), across the \
                     nemesis's window {}..{}: arm it after {} or end it before {}",
                    shown(from),
                    shown(last),
                    n.start,
                    n.heal_by,
                    n.heal_by,
                    n.start
                ),
            ));
        }
        // The world as the scheduled faults up to `from` leave it (those at `from` come first:
        // a trigger armed at a restart's time waits for the restarted server).
        let mut world = Replay::new(delay_ms_mean);
        for &j in order {
            let g = &faults[j];
            if g.when.is_none() && g.at.0 <= from {
                // Already judged: only its effect matters here.
                let _ = world.apply(j, g, faults);
            }
        }
        let by = |j: usize| format!("faults[{j}] {}", faults[j]);
        match f.verb {
            Verb::Crash { node, .. } | Verb::Admin { node, .. } => {
                if let Some(j) = world.down[node.index()] {
                    return Err(Invalid::fault(
                        i,
                        f,
                        &format!(
                            "the {} is down when it is armed at {} ({} crashed it)",
                            node.as_str(),
                            shown(from),
                            by(j)
                        ),
                    ));
                }
            }
            Verb::Partition { cut } => {
                if let Some(&(c, j)) = world
                    .cuts
                    .iter()
                    .find(|(c, _)| c.links() & cut.links() != 0)
                {
                    return Err(Invalid::fault(
                        i,
                        f,
                        &format!(
                            "{} is cut when it is armed at {} ({} cut it): its links must be \
                             whole",
                            c.as_str(),
                            shown(from),
                            by(j)
                        ),
                    ));
                }
            }
            _ => {}
        }
        let owned = Touches::owned_by(&f.verb);
        let needs = Touches::of(&f.verb);
        for (j, g) in faults.iter().enumerate() {
            if j == i {
                continue;
            }
            let apart = match g.when {
                None => g.at.0 <= from || last < g.at.0,
                Some(_) => {
                    let (g_from, g_last) = window(g);
                    g_last < from || last < g_from
                }
            };
            if apart {
                continue;
            }
            let (g_owned, g_needs) = match g.when {
                None => (Touches::of(&g.verb), Touches::of(&g.verb)),
                Some(_) => (Touches::owned_by(&g.verb), Touches::of(&g.verb)),
            };
            // A pair of triggered faults is reported once, at the later one.
            if g.when.is_some() && j > i {
                continue;
            }
            if owned.meets(g_needs) || g_owned.meets(needs) {
                return Err(Invalid::fault(
                    i,
                    f,
                    &format!(
                        "it may strike from {} until {} (armed, delayed, undone), and {} acts \
                         on what it {} in that window: a triggered fault's restart or heal \
                         comes with it (`for`), so nothing else may touch its server or links \
                         meanwhile",
                        shown(from),
                        shown(last),
                        by(j),
                        match f.verb {
                            Verb::Admin { .. } => "needs up",
                            Verb::Crash { .. } => "crashes",
                            _ => "cuts",
                        }
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The largest clock offset a fault may set, in seconds (ten years): far beyond any skew worth
/// simulating, and far from overflowing the simulator's millisecond clocks.
pub(crate) const MAX_CLOCK_OFFSET_S: u64 = 315_360_000;

/// Whether the nemesis acts on what `verb` acts on: the servers' processes, the cuts and the
/// clocks (an operator command too, since the nemesis may have its server down). A forge
/// touches none of them: with a server down by the nemesis it finds no connection, and the
/// trace says so.
fn nemesis_owns(verb: &Verb) -> bool {
    !matches!(
        verb,
        Verb::DelaySpike { .. }
            | Verb::RebootClients
            | Verb::Forge { .. }
            | Verb::Incomplete { .. }
    )
}

/// Where `faults[index]` starts in scenario text. serde_yaml keeps no positions in what it
/// builds, only in its errors: so the text is read once more by a visitor that fails on
/// purpose at that fault, and the failure's location is the fault's. Only called on an error.
pub(super) fn fault_location(text: &str, index: usize) -> Option<serde_yaml::Location> {
    use serde::de::{DeserializeSeed, Error, IgnoredAny, MapAccess, SeqAccess, Visitor};

    /// The document: skips every key but `faults`.
    struct Doc(usize);
    /// The fault list: skips the faults before the one sought.
    struct List(usize);
    /// The fault sought: fails where it starts.
    struct Here;

    impl<'de> DeserializeSeed<'de> for Doc {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_map(self)
        }
    }
    impl<'de> Visitor<'de> for Doc {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a scenario")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(key) = map.next_key::<String>()? {
                if key == "faults" {
                    map.next_value_seed(List(self.0))?;
                } else {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for List {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    impl<'de> Visitor<'de> for List {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of faults")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            for _ in 0..self.0 {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    return Ok(());
                }
            }
            seq.next_element_seed(Here)?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(())
        }
    }
    impl<'de> DeserializeSeed<'de> for Here {
        type Value = ();
        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Here {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a fault")
        }
        fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
            Err(A::Error::custom("found"))
        }
    }

    Doc(index)
        .deserialize(serde_yaml::Deserializer::from_str(text))
        .err()?
        .location()
}

/// A server's clock as the scheduled faults have set it.
#[derive(Clone, Copy)]
struct ClockSetting {
    /// Its offset from true time while that is known exactly: not while it drifts, nor after
    /// a drift was folded into it.
    offset_s: Option<i64>,
    /// Its drift.
    ppm: i32,
    /// The fault that set it last; none: as it started, on true time.
    set_by: Option<usize>,
}

/// What the scheduled faults have done to the world so far, replayed fault by fault so that
/// each is judged against the state it acts on. Each entry keeps the fault that made it, for
/// the messages.
struct Replay {
    /// The crash that took each server down, while it is down.
    down: [Option<usize>; 2],
    /// The restart that brought each server back last.
    restarted_by: [Option<usize>; 2],
    /// The cuts in place, each with its partition.
    cuts: Vec<(Cut, usize)>,
    /// The heals so far, each with its cut.
    healed: Vec<(Cut, usize)>,
    clocks: [ClockSetting; 2],
    /// The network's mean delay, and the fault that set it (none: the scenario's `network`).
    delay_ms: (u32, Option<usize>),
}

impl Replay {
    fn new(delay_ms_mean: u32) -> Replay {
        let clock = ClockSetting {
            offset_s: Some(0),
            ppm: 0,
            set_by: None,
        };
        Replay {
            down: [None; 2],
            restarted_by: [None; 2],
            cuts: Vec::new(),
            healed: Vec::new(),
            clocks: [clock; 2],
            delay_ms: (delay_ms_mean, None),
        }
    }

    /// Apply fault `i`, or say why it would do nothing.
    fn apply(&mut self, i: usize, f: &Fault, faults: &[Fault]) -> Result<(), String> {
        let by = |j: usize| format!("faults[{j}] {}", faults[j]);
        match f.verb {
            Verb::Crash { node, .. } => {
                let n = node.index();
                if let Some(j) = self.down[n] {
                    return Err(format!(
                        "{} is already down: {} crashed it and nothing restarted it",
                        node.as_str(),
                        by(j)
                    ));
                }
                self.down[n] = Some(i);
            }
            Verb::Restart { node } => {
                let n = node.index();
                if self.down[n].take().is_none() {
                    let why = match self.restarted_by[n] {
                        Some(j) => format!("{} restarted it already", by(j)),
                        None => "no fault crashed it before".to_string(),
                    };
                    return Err(format!("{} is not down then: {why}", node.as_str()));
                }
                self.restarted_by[n] = Some(i);
            }
            Verb::Admin { node, .. } => {
                if let Some(j) = self.down[node.index()] {
                    return Err(format!(
                        "{} is down then ({} crashed it): a down server takes no command",
                        node.as_str(),
                        by(j)
                    ));
                }
            }
            Verb::Forge { to, .. } | Verb::Incomplete { to, .. } => {
                for (node, whose) in [(to, "the target"), (to.partner(), "its partner")] {
                    if let Some(j) = self.down[node.index()] {
                        return Err(format!(
                            "{whose}, the {}, is down then ({} crashed it): there is no \
                             failover connection to send it on",
                            node.as_str(),
                            by(j)
                        ));
                    }
                }
            }
            Verb::Partition { cut } => {
                if let Some(&(c, j)) = self.cuts.iter().find(|(c, _)| c.links() & cut.links() != 0)
                {
                    return Err(if c == cut {
                        format!("{} is cut already: {} cut it", cut.as_str(), by(j))
                    } else {
                        format!(
                            "it overlaps {}, cut by {} and not healed: heal that first (a heal \
                             lifts its whole cut, so overlapping cuts cannot be healed one by one)",
                            c.as_str(),
                            by(j)
                        )
                    });
                }
                self.cuts.push((cut, i));
            }
            Verb::Heal { cut } => {
                if let Some(k) = self.cuts.iter().position(|(c, _)| *c == cut) {
                    self.cuts.remove(k);
                    self.healed.push((cut, i));
                    return Ok(());
                }
                let why = if let Some(&(c, j)) =
                    self.cuts.iter().find(|(c, _)| c.links() & cut.links() != 0)
                {
                    format!("{} made {} instead: heal that", by(j), c.as_str())
                } else if let Some(&(_, j)) = self.healed.iter().rev().find(|(c, _)| *c == cut) {
                    format!("{} healed it already", by(j))
                } else {
                    "no fault cut it before".to_string()
                };
                return Err(format!("{} is not cut then: {why}", cut.as_str()));
            }
            Verb::ClockOffset { node, offset_s } => {
                let clock = &mut self.clocks[node.index()];
                if clock.ppm == 0 && clock.offset_s == Some(offset_s) {
                    return Err(format!(
                        "{}'s clock is at offset {offset_s} s already{}",
                        node.as_str(),
                        clock
                            .set_by
                            .map(|j| format!(" ({})", by(j)))
                            .unwrap_or_default()
                    ));
                }
                *clock = ClockSetting {
                    offset_s: (clock.ppm == 0).then_some(offset_s),
                    ppm: clock.ppm,
                    set_by: Some(i),
                };
            }
            Verb::ClockDrift { node, ppm } => {
                let clock = &mut self.clocks[node.index()];
                if clock.ppm == ppm {
                    let now = if ppm == 0 {
                        "does not drift".to_string()
                    } else {
                        format!("drifts at {ppm} ppm")
                    };
                    return Err(format!(
                        "{}'s clock {now} already{}",
                        node.as_str(),
                        clock
                            .set_by
                            .map(|j| format!(" ({})", by(j)))
                            .unwrap_or_default()
                    ));
                }
                // The world folds the drift so far into the offset: from here on the offset is
                // no longer a number the scenario wrote.
                *clock = ClockSetting {
                    offset_s: None,
                    ppm,
                    set_by: Some(i),
                };
            }
            Verb::DelaySpike { delay_ms } => {
                if self.delay_ms.0 == delay_ms {
                    let from = match self.delay_ms.1 {
                        Some(j) => by(j),
                        None => "network.delay_ms_mean".to_string(),
                    };
                    return Err(format!(
                        "the network's mean delay is {delay_ms} ms already ({from})"
                    ));
                }
                self.delay_ms = (delay_ms, Some(i));
            }
            Verb::RebootClients => {}
        }
        Ok(())
    }

    /// The nemesis rule at its start: nothing scheduled may still be in force, or the nemesis
    /// would end it at a time drawn from the seed (a restart, a heal, a clock set back).
    fn clear_at(&self, n: &Nemesis, faults: &[Fault]) -> Result<(), Invalid> {
        let in_force = |j: usize, what: String, undo: &str| {
            Err(Invalid::fault(
                j,
                &faults[j],
                &format!(
                    "{what} when the nemesis starts at {start} ({undo} before {start}): the \
                     nemesis would end it at a time drawn from the seed",
                    start = n.start
                ),
            ))
        };
        for node in [Node::Primary, Node::Secondary] {
            if let Some(j) = self.down[node.index()] {
                return in_force(j, format!("{} is still down", node.as_str()), "restart it");
            }
        }
        if let Some(&(cut, j)) = self.cuts.first() {
            return in_force(j, format!("{} is still cut", cut.as_str()), "heal it");
        }
        for node in [Node::Primary, Node::Secondary] {
            let clock = self.clocks[node.index()];
            if let Some(j) = clock.set_by
                && (clock.ppm != 0 || clock.offset_s != Some(0))
            {
                return in_force(
                    j,
                    format!("{}'s clock is still off true time", node.as_str()),
                    "set it back to offset 0 and no drift",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use std::path::Path;

    /// A scenario whose `faults:` list is `faults` (one per line, the first on line 7) after
    /// `extra` lines (put them last, so the line numbers stay put).
    fn with_faults(faults: &[&str], extra: &str) -> Result<Scenario, String> {
        let mut text =
            String::from("name: x\ndescription: d\nduration: 4h\nexpect: pass\nwhy: w\nfaults:\n");
        for f in faults {
            text.push_str(&format!("  - {f}\n"));
        }
        text.push_str(extra);
        Scenario::parse(&text).map_err(|e| e.0)
    }

    /// `faults` must be rejected with a message that starts at `line` and holds `words`.
    fn rejected(faults: &[&str], extra: &str, line: usize, words: &[&str]) {
        let e = with_faults(faults, extra).expect_err("must be rejected");
        assert!(e.starts_with(&format!("line {line}, column 5: ")), "{e}");
        for w in words {
            assert!(e.contains(w), "`{w}` not in: {e}");
        }
    }

    #[test]
    fn a_fault_does_one_thing() {
        rejected(
            &["{ at: 5m, crash: primary, restart: primary }"],
            "",
            7,
            &["faults[0]", "two verbs", "`crash` and `restart`"],
        );
        rejected(&["{ at: 5m }"], "", 7, &["faults[0]", "no verb"]);
        rejected(&["{ crash: primary }"], "", 7, &["needs `at`"]);
    }

    #[test]
    fn an_argument_its_verb_does_not_take_is_an_error() {
        let ok = "{ at: 5m, crash: secondary }";
        rejected(
            &[ok, "{ at: 10m, restart: secondary, storage: lose_all }"],
            "",
            8,
            &[
                "faults[1]",
                "`storage` does nothing on `restart`",
                "only `crash`",
            ],
        );
        rejected(
            &["{ at: 5m, crash: primary, node: secondary }"],
            "",
            7,
            &[
                "`node` does nothing on `crash`",
                "`clock_offset_s` and `clock_drift_ppm`",
            ],
        );
        rejected(
            &["{ at: 5m, partition: servers, command: pause }"],
            "",
            7,
            &["`command` does nothing on `partition`", "only `admin`"],
        );
        rejected(
            &["{ at: 5m, delay_ms: 50, node: primary }"],
            "",
            7,
            &["`node` does nothing on `delay_ms`"],
        );
        rejected(
            &["{ at: 5m, reboot_clients: false }"],
            "",
            7,
            &["`reboot_clients: false` does nothing"],
        );
        let e = with_faults(&["{ at: 5m, crash: primary, bogus: 1 }"], "").unwrap_err();
        assert!(
            e.starts_with("line 7,") && e.contains("unknown field `bogus`"),
            "{e}"
        );
    }

    #[test]
    fn a_verb_without_what_it_needs_is_an_error() {
        rejected(
            &["{ at: 5m, admin: primary }"],
            "",
            7,
            &["`admin` needs a `command`"],
        );
        rejected(
            &["{ at: 5m, clock_offset_s: 30 }"],
            "",
            7,
            &["`clock_offset_s` needs a `node`"],
        );
        rejected(
            &["{ at: 5m, clock_drift_ppm: 30 }"],
            "",
            7,
            &["`clock_drift_ppm` needs a `node`"],
        );
    }

    #[test]
    fn an_incomplete_update_names_its_target_and_what_it_leaves_out() {
        let s = with_faults(
            &[
                "{ at: 1h, incomplete: primary, omit: client }",
                "{ at: 2h, incomplete: secondary, omit: lease_end }",
                "{ at: 3h, incomplete: primary, omit: pet }",
            ],
            "",
        )
        .unwrap();
        let omitted: Vec<(Node, Omit)> = s
            .faults
            .iter()
            .filter_map(|f| match f.verb {
                Verb::Incomplete { to, omit } => Some((to, omit)),
                _ => None,
            })
            .collect();
        assert_eq!(
            omitted,
            [
                (Node::Primary, Omit::Client),
                (Node::Secondary, Omit::LeaseEnd),
                (Node::Primary, Omit::Pet)
            ]
        );
        // Written back as read.
        assert_eq!(
            s.faults[1].to_string(),
            "{ at: 2h, incomplete: secondary, omit: lease_end }"
        );
        rejected(
            &["{ at: 1h, incomplete: primary }"],
            "",
            7,
            &["`incomplete` needs an `omit`", "`lease_end`"],
        );
        rejected(
            &["{ at: 1h, forge: primary, release: leased, omit: pet }"],
            "",
            7,
            &["`omit` does nothing on `forge`", "only `incomplete`"],
        );
        let e = with_faults(&["{ at: 1h, incomplete: primary, omit: xid }"], "").unwrap_err();
        assert!(e.starts_with("line 7,") && e.contains("xid"), "{e}");
        // Sent on the failover connection: both servers up.
        rejected(
            &[
                "{ at: 1h, crash: secondary }",
                "{ at: 2h, incomplete: primary, omit: pet }",
            ],
            "",
            8,
            &["its partner, the secondary, is down", "send it on"],
        );
    }

    #[test]
    fn a_forge_names_its_target_and_the_address_it_releases() {
        let s = with_faults(
            &[
                "{ at: 1h, forge: primary, release: leased }",
                "{ at: 2h, forge: secondary, release: 10.0.1.199 }",
            ],
            "",
        )
        .unwrap();
        assert_eq!(
            s.faults[0].verb,
            Verb::Forge {
                to: Node::Primary,
                release: Victim::Leased
            }
        );
        assert_eq!(
            s.faults[1].verb,
            Verb::Forge {
                to: Node::Secondary,
                release: Victim::Address(Ipv4Addr::new(10, 0, 1, 199))
            }
        );
        rejected(
            &["{ at: 1h, forge: primary }"],
            "",
            7,
            &["faults[0]", "`forge` needs a `release`", "`leased`"],
        );
        rejected(
            &["{ at: 1h, crash: primary, release: leased }"],
            "",
            7,
            &["`release` does nothing on `crash`", "only `forge`"],
        );
        let e = with_faults(&["{ at: 1h, forge: primary, release: nobody }"], "").unwrap_err();
        assert!(
            e.starts_with("line 7,") && e.contains("`nobody` is neither `leased` nor an IPv4"),
            "{e}"
        );
        // The default pool is 200 addresses from 10.0.1.0.
        rejected(
            &["{ at: 1h, forge: primary, release: 10.0.2.0 }"],
            "",
            7,
            &[
                "faults[0] { at: 1h, forge: primary, release: 10.0.2.0 }",
                "10.0.2.0 is not in the pool (10.0.1.0-10.0.1.199)",
            ],
        );
        // A forge needs a failover connection: both servers up.
        for (down, whose) in [
            ("primary", "the target, the primary, is down"),
            ("secondary", "its partner, the secondary, is down"),
        ] {
            let crash = format!("{{ at: 30m, crash: {down} }}");
            rejected(
                &[&crash, "{ at: 40m, forge: primary, release: leased }"],
                "",
                8,
                &["faults[1]", whose, "no failover connection"],
            );
        }
        // The nemesis does not own the link's traffic: a forge may fall in its window.
        let nemesis = "nemesis: { faults: 4, start: 1h, heal_by: 2h }\n";
        assert!(with_faults(&["{ at: 90m, forge: secondary, release: leased }"], nemesis).is_ok());
    }

    #[test]
    fn a_restart_needs_its_server_down_and_a_crash_needs_it_up() {
        rejected(
            &["{ at: 50m, restart: primary }"],
            "",
            7,
            &[
                "faults[0] { at: 50m, restart: primary }",
                "not down",
                "no fault crashed it",
            ],
        );
        rejected(
            &[
                "{ at: 30m, crash: primary, storage: lose_all }",
                "{ at: 40m, crash: primary }",
            ],
            "",
            8,
            &[
                "faults[1]",
                "already down",
                "faults[0] { at: 30m, crash: primary, storage: lose_all }",
            ],
        );
        rejected(
            &[
                "{ at: 30m, crash: secondary }",
                "{ at: 40m, restart: secondary }",
                "{ at: 50m, restart: secondary }",
            ],
            "",
            9,
            &[
                "faults[2]",
                "faults[1] { at: 40m, restart: secondary } restarted it already",
            ],
        );
        // Listed out of order, judged in time order: the restart comes first, with nothing down.
        rejected(
            &[
                "{ at: 40m, crash: primary }",
                "{ at: 30m, restart: primary }",
            ],
            "",
            8,
            &["faults[1]", "not down"],
        );
        rejected(
            &[
                "{ at: 30m, crash: secondary }",
                "{ at: 31m, admin: secondary, command: pause }",
            ],
            "",
            8,
            &["faults[1]", "secondary is down then", "takes no command"],
        );
        // At the same time, faults happen as listed.
        assert!(
            with_faults(
                &[
                    "{ at: 30m, crash: primary }",
                    "{ at: 30m, restart: primary }"
                ],
                ""
            )
            .is_ok()
        );
        rejected(
            &[
                "{ at: 30m, restart: primary }",
                "{ at: 30m, crash: primary }",
            ],
            "",
            7,
            &["faults[0]", "not down"],
        );
    }

    #[test]
    fn a_heal_needs_its_cut_and_cuts_do_not_overlap() {
        rejected(
            &["{ at: 1h, heal: servers }"],
            "",
            7,
            &["faults[0]", "servers is not cut then", "no fault cut it"],
        );
        rejected(
            &[
                "{ at: 1h, partition: servers }",
                "{ at: 2h, partition: servers }",
            ],
            "",
            8,
            &["faults[1]", "servers is cut already", "faults[0]"],
        );
        rejected(
            &[
                "{ at: 1h, partition: primary_to_secondary }",
                "{ at: 2h, partition: servers }",
            ],
            "",
            8,
            &["faults[1]", "overlaps primary_to_secondary"],
        );
        rejected(
            &[
                "{ at: 1h, partition: servers }",
                "{ at: 2h, heal: secondary_to_primary }",
            ],
            "",
            8,
            &[
                "faults[1]",
                "faults[0] { at: 1h, partition: servers } made servers instead",
            ],
        );
        rejected(
            &[
                "{ at: 1h, partition: primary_clients }",
                "{ at: 2h, heal: primary_clients }",
                "{ at: 3h, heal: primary_clients }",
            ],
            "",
            9,
            &["faults[2]", "healed it already"],
        );
        // Cuts of different links may stand together.
        assert!(
            with_faults(
                &[
                    "{ at: 1h, partition: primary_to_secondary }",
                    "{ at: 1h, partition: secondary_clients }",
                    "{ at: 2h, heal: secondary_clients }",
                    "{ at: 2h, heal: primary_to_secondary }",
                ],
                ""
            )
            .is_ok()
        );
    }

    #[test]
    fn a_setting_must_change_something() {
        rejected(
            &["{ at: 1h, delay_ms: 1 }"],
            "",
            7,
            &["faults[0]", "delay is 1 ms already (network.delay_ms_mean)"],
        );
        rejected(
            &["{ at: 1h, delay_ms: 500 }", "{ at: 2h, delay_ms: 500 }"],
            "",
            8,
            &["faults[1]", "500 ms already (faults[0]"],
        );
        rejected(
            &["{ at: 1h, clock_offset_s: 0, node: primary }"],
            "",
            7,
            &["primary's clock is at offset 0 s already"],
        );
        rejected(
            &["{ at: 1h, clock_drift_ppm: 0, node: secondary }"],
            "",
            7,
            &["secondary's clock does not drift already"],
        );
        rejected(
            &[
                "{ at: 1h, clock_drift_ppm: 50, node: primary }",
                "{ at: 2h, clock_drift_ppm: 50, node: primary }",
            ],
            "",
            8,
            &["drifts at 50 ppm already"],
        );
        // After a drift the offset is whatever the drift made it: setting it takes effect.
        assert!(
            with_faults(
                &[
                    "{ at: 1h, clock_drift_ppm: 50, node: primary }",
                    "{ at: 2h, clock_drift_ppm: 0, node: primary }",
                    "{ at: 3h, clock_offset_s: 0, node: primary }",
                ],
                ""
            )
            .is_ok()
        );
    }

    #[test]
    fn values_out_of_bounds_name_their_fault() {
        rejected(
            &["{ at: 5h, reboot_clients: true }"],
            "",
            7,
            &["faults[0]", "after the end of the run (4h)"],
        );
        rejected(
            &["{ at: 1h, clock_drift_ppm: 100001, node: primary }"],
            "",
            7,
            &["beyond ±100000"],
        );
        rejected(
            &["{ at: 1h, clock_offset_s: 9223372036854775807, node: primary }"],
            "",
            7,
            &["beyond ±315360000"],
        );
    }

    #[test]
    fn scheduled_faults_stay_out_of_the_nemesis_window() {
        let nemesis = "nemesis: { faults: 4, start: 1h, heal_by: 2h }\n";
        rejected(
            &["{ at: 90m, crash: primary }"],
            nemesis,
            7,
            &[
                "faults[0]",
                "inside the nemesis's window 1h..2h",
                "before 1h or after 2h",
            ],
        );
        for edge in ["1h", "2h"] {
            let f = format!("{{ at: {edge}, partition: servers }}");
            rejected(&[&f], nemesis, 7, &["inside the nemesis's window"]);
        }
        rejected(
            &["{ at: 90m, admin: primary, command: partner_down }"],
            nemesis,
            7,
            &["inside the nemesis's window"],
        );
        rejected(
            &[
                "{ at: 30m, crash: secondary }",
                "{ at: 3h, restart: secondary }",
            ],
            nemesis,
            7,
            &[
                "faults[0]",
                "secondary is still down when the nemesis starts at 1h",
                "restart it",
            ],
        );
        rejected(
            &["{ at: 30m, partition: primary_clients }"],
            nemesis,
            7,
            &["primary_clients is still cut", "heal it"],
        );
        rejected(
            &["{ at: 30m, clock_drift_ppm: 10, node: primary }"],
            nemesis,
            7,
            &["primary's clock is still off true time"],
        );
        // What the nemesis does not touch may happen in its window; the rest before or after.
        let s = with_faults(
            &[
                "{ at: 10m, crash: primary }",
                "{ at: 20m, restart: primary }",
                "{ at: 30m, clock_offset_s: 20, node: secondary }",
                "{ at: 40m, clock_offset_s: 0, node: secondary }",
                "{ at: 90m, delay_ms: 300 }",
                "{ at: 100m, reboot_clients: true }",
                "{ at: 3h, partition: servers }",
            ],
            nemesis,
        );
        assert!(s.is_ok(), "{s:?}");
        let e = with_faults(&[], "nemesis: { faults: 0, start: 1h, heal_by: 2h }\n").unwrap_err();
        assert!(e.contains("nemesis.faults 0"), "{e}");
    }

    #[test]
    fn faults_write_back_as_they_are_written() {
        let written = [
            "{ at: 30m, crash: primary, storage: lose_all }",
            "{ at: 50m, restart: primary }",
            "{ at: 1h, partition: servers }",
            "{ at: 1h5m, admin: secondary, command: partner_down }",
            "{ at: 1h20m, heal: servers }",
            "{ at: 1h30m, clock_offset_s: -120, node: secondary }",
            "{ at: 1h40m, clock_drift_ppm: 2000, node: primary }",
            "{ at: 2h, delay_ms: 500 }",
            "{ at: 2h30m, reboot_clients: true }",
            "{ at: 2h40m, forge: primary, release: leased }",
            "{ at: 2h50m, forge: secondary, release: 10.0.1.7 }",
        ];
        let s = with_faults(&written, "").unwrap();
        let yaml = serde_yaml::to_string(&s).unwrap();
        // One flat mapping per fault, with only its own keys.
        assert!(
            yaml.contains("- at: 30m\n  crash: primary\n  storage: lose_all\n- at: 50m\n"),
            "{yaml}"
        );
        assert!(yaml.contains("- at: 1h30m\n  clock_offset_s: -120\n  node: secondary\n"));
        assert!(
            yaml.contains("- at: 2h30m\n  reboot_clients: true\n"),
            "{yaml}"
        );
        assert!(
            !yaml.contains("null\n  - at") && !yaml.contains("restart: null"),
            "{yaml}"
        );
        assert_eq!(Scenario::parse(&yaml), Ok(s.clone()));
        // Each fault's Display is the text it was read from (a crash names its storage).
        let shown: Vec<String> = s.faults.iter().map(ToString::to_string).collect();
        assert_eq!(shown, written);
        // A crash without storage keeps what is synced.
        let s = with_faults(&["{ at: 5m, crash: primary }"], "").unwrap();
        assert_eq!(
            s.faults[0].verb,
            Verb::Crash {
                node: Node::Primary,
                storage: StorageLoss::KeepSynced
            }
        );
    }

    #[test]
    fn a_triggered_fault_reads_and_writes_back_as_written() {
        let written = [
            "{ when: { server: secondary, enters: recover-wait }, crash: secondary, storage: \
             lose_all, for: 30s }",
            "{ when: { server: primary, after: dhcpack, nth: 3, delay: 2s, from: 1h, until: 2h \
             }, partition: servers, for: 1m }",
            "{ when: { server: primary, after: bndupd }, admin: primary, command: partner_down \
             }",
            "{ when: { server: secondary, after: updreqall, until: 3h }, partition: \
             primary_clients, for: 2m }",
        ];
        let s = with_faults(&written, "").unwrap();
        let t = s.faults[1].when.unwrap();
        assert_eq!(s.faults[1].at, Span(Duration::from_mins(60)));
        assert_eq!(
            (t.server, t.event, t.nth, t.delay),
            (
                Node::Primary,
                TriggerEvent::After(Moment::Dhcpack),
                3,
                Span(Duration::from_secs(2))
            )
        );
        assert_eq!(
            s.faults[0].when.unwrap().event,
            TriggerEvent::Enters(State::RecoverWait)
        );
        let shown: Vec<String> = s.faults.iter().map(ToString::to_string).collect();
        assert_eq!(shown, written);
        let yaml = serde_yaml::to_string(&s).unwrap();
        assert!(!yaml.contains("at:"), "{yaml}");
        assert_eq!(Scenario::parse(&yaml), Ok(s));
        // The trace's short name of COMMUNICATIONS-INTERRUPTED reads too.
        let s = with_faults(
            &["{ when: { server: primary, enters: comm-interrupted }, crash: primary, for: 1m }"],
            "",
        )
        .unwrap();
        assert_eq!(
            s.faults[0].when.unwrap().event,
            TriggerEvent::Enters(State::CommunicationsInterrupted)
        );
    }

    #[test]
    fn a_bad_trigger_is_an_error_with_its_line() {
        let crash = "crash: primary, for: 1m";
        for (fault, words) in [
            (
                format!("{{ at: 1h, when: {{ server: primary, enters: normal }}, {crash} }}"),
                &["`at` (a time) or `when` (an event), not both"][..],
            ),
            (
                format!("{{ when: {{ enters: normal }}, {crash} }}"),
                &["`when` needs a `server`"],
            ),
            (
                format!("{{ when: {{ server: primary }}, {crash} }}"),
                &["`when` needs an event", "`after: dhcpack`"],
            ),
            (
                format!(
                    "{{ when: {{ server: primary, enters: normal, after: dhcpack }}, {crash} }}"
                ),
                &["`enters` or `after`, not both"],
            ),
            (
                format!("{{ when: {{ server: primary, enters: nirvana }}, {crash} }}"),
                &["`nirvana` is not a failover state", "recover-wait"],
            ),
            (
                format!("{{ when: {{ server: primary, enters: normal, nth: 0 }}, {crash} }}"),
                &["`nth: 0` never fires"],
            ),
            (
                "{ when: { server: primary, enters: normal }, crash: primary }".to_string(),
                &["a triggered `crash` needs `for`", "restart"],
            ),
            (
                "{ when: { server: primary, enters: normal }, partition: servers }".to_string(),
                &["a triggered `partition` needs `for`", "heal"],
            ),
            (
                "{ when: { server: primary, enters: normal }, admin: primary, command: pause, \
                 for: 1m }"
                    .to_string(),
                &["`for` does nothing on `admin`"],
            ),
            (
                "{ when: { server: primary, enters: normal }, delay_ms: 30 }".to_string(),
                &[
                    "`delay_ms` cannot be triggered",
                    "only `crash`, `partition` and `admin`",
                ],
            ),
            (
                "{ at: 1h, crash: primary, for: 1m }".to_string(),
                &["`for` needs `when`"],
            ),
        ] {
            rejected(&[&fault], "", 7, words);
        }
        let e = with_faults(
            &["{ when: { server: primary, after: offer }, crash: primary, for: 1m }"],
            "",
        )
        .unwrap_err();
        assert!(
            e.starts_with("line 7,") && e.contains("unknown variant `offer`"),
            "{e}"
        );
        let e = with_faults(
            &["{ when: { server: primary, enters: normal, bogus: 1 }, crash: primary, for: 1m }"],
            "",
        )
        .unwrap_err();
        assert!(
            e.starts_with("line 7,") && e.contains("unknown field `bogus`"),
            "{e}"
        );
    }

    #[test]
    fn a_triggered_fault_owns_its_window() {
        // The run is 4h long.
        rejected(
            &[
                "{ when: { server: primary, enters: normal, until: 3h59m }, crash: primary, for: \
               5m }",
            ],
            "",
            7,
            &["it may act until 4h4m, after the end of the run (4h)"],
        );
        rejected(
            &[
                "{ when: { server: primary, enters: normal, from: 2h, until: 1h }, crash: \
               primary, for: 5m }",
            ],
            "",
            7,
            &["`until` 1h is before `from` 2h"],
        );
        rejected(
            &["{ when: { server: secondary, enters: conflict-done }, crash: primary, for: 1m }"],
            "",
            7,
            &["the secondary never enters conflict-done"],
        );
        // A timed fault on the same server, or the same links, inside the window.
        rejected(
            &[
                "{ when: { server: secondary, enters: recover-wait, until: 2h }, crash: \
                 secondary, for: 30s }",
                "{ at: 1h, crash: secondary }",
                "{ at: 3h, restart: secondary }",
            ],
            "",
            7,
            &[
                "faults[0]",
                "from 0s until 2h30s",
                "faults[1] { at: 1h, crash: secondary, storage: keep_synced } acts on what it \
                 crashes",
            ],
        );
        rejected(
            &[
                "{ at: 1h, partition: primary_to_secondary }",
                "{ at: 2h, heal: primary_to_secondary }",
                "{ when: { server: primary, after: dhcpack, from: 30m, until: 3h }, partition: \
                 servers, for: 1m }",
            ],
            "",
            9,
            &[
                "faults[2]",
                "faults[0] { at: 1h, partition: primary_to_secondary }",
            ],
        );
        rejected(
            &[
                "{ when: { server: primary, after: dhcpack, until: 2h }, crash: primary, for: \
                 1m }",
                "{ when: { server: secondary, after: bndupd, until: 1h }, admin: primary, \
                 command: partner_down }",
            ],
            "",
            8,
            &["faults[1]", "faults[0]", "needs up"],
        );
        // Armed where the server is down, or the links are cut.
        rejected(
            &[
                "{ at: 1h, crash: secondary }",
                "{ when: { server: primary, enters: normal, from: 1h30m }, crash: secondary, \
                 for: 1m }",
            ],
            "",
            8,
            &["the secondary is down when it is armed at 1h30m"],
        );
        // Different servers and links may go together, and a trigger armed at a restart's
        // time waits for the restarted server.
        let ok = with_faults(
            &[
                "{ at: 1h, crash: secondary, storage: lose_all }",
                "{ at: 1h10m, restart: secondary }",
                "{ when: { server: secondary, enters: recover-wait, from: 1h10m }, crash: \
                 secondary, for: 30s }",
                "{ when: { server: primary, after: dhcpack }, partition: primary_clients, for: \
                 1m }",
                "{ when: { server: primary, after: dhcpack, until: 50m }, crash: primary, for: \
                 1m }",
            ],
            "",
        );
        assert!(ok.is_ok(), "{ok:?}");
        let nemesis = "nemesis: { faults: 4, start: 1h, heal_by: 2h }\n";
        rejected(
            &[
                "{ when: { server: primary, enters: normal, until: 30m }, crash: primary, for: \
               31m }",
            ],
            nemesis,
            7,
            &["across the nemesis's window 1h..2h"],
        );
    }

    #[test]
    fn older_repro_files_with_null_keys_still_load() {
        let s = with_faults(
            &["{ at: 20m, crash: null, storage: null, partition: servers, heal: null, node: null, \
               reboot_clients: null }"],
            "",
        )
        .unwrap();
        assert_eq!(s.faults[0].verb, Verb::Partition { cut: Cut::Servers });
    }

    #[test]
    fn every_shipped_scenario_writes_back_to_itself() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "yaml") {
                continue;
            }
            let s = Scenario::load(&path).unwrap();
            let again = Scenario::parse(&serde_yaml::to_string(&s).unwrap());
            assert_eq!(again.as_ref(), Ok(&s), "{}", path.display());
            seen += 1;
        }
        assert!(seen > 10);
    }

    #[test]
    fn set_overrides_keep_the_faults_lines() {
        let dir = std::env::temp_dir().join(format!("dhcpfo-scen-faults-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("s.yaml");
        std::fs::write(
            &f,
            "name: x\ndescription: d\nduration: 1h\nexpect: pass\nwhy: w\nfaults:\n  - { at: 5m, crash: primary }\n  - { at: 2h, restart: primary }\n",
        )
        .unwrap();
        let e = Scenario::load_with(&f, &["clients.count=7".into()]).unwrap_err();
        assert!(
            e.0.contains("with --set: line 8, column 5: faults[1]"),
            "{}",
            e.0
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
