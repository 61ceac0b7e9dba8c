//! A failover relationship's configuration: who the partner is, the MCLT, the mode, the timers.
//!
//! Timer defaults depend on the dialect, because the two reference implementations disagree
//! (draft-12.md §8, MS-DHCPF §3.1.2): an unset timer takes its dialect's default, and
//! [`RelationshipConfig::timers`] resolves them all. Every quantity carries its unit in its name.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, HexBytes};
use crate::time::Duration;
use crate::wire::failover::Dialect;
use crate::wire::hash_bucket::HashBuckets;

/// The IANA failover port (draft-12 §8.2).
pub const DEFAULT_PORT: u16 = 647;

/// Primary or secondary (draft-12 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Owns FREE addresses, sends CONNECT, configures the MCLT.
    Primary,
    /// Owns BACKUP addresses, answers CONNECT.
    Secondary,
}

/// How the partners share the clients.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Mode {
    /// The primary serves every client while both are in NORMAL; the secondary waits.
    HotStandby,
    /// RFC 3074 load balancing: each serves the clients whose hash falls in its buckets.
    LoadBalance {
        /// Buckets `0..split` belong to the primary (ISC's `split`); 128 halves them.
        #[serde(default)]
        split: Option<u16>,
        /// The 32-byte bitmap itself, colon-hex (ISC's `hba`), instead of `split`.
        #[serde(default)]
        hba: Option<HexBytes>,
        /// A request whose `secs` field exceeds this is served by either server (ISC's
        /// `load balance max seconds`; draft-12.md §7.3). 0 leaves the split absolute.
        #[serde(default = "default_lb_max_secs")]
        max_secs: u16,
    },
}

fn default_lb_max_secs() -> u16 {
    // The ISC man page recommends 3 to 5.
    3
}

/// One failover relationship, as one of its two servers sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationshipConfig {
    /// The relationship name sent in CONNECT (byte-compared by the partner).
    pub name: String,
    /// This server's role.
    pub role: Role,
    /// This server's failover address.
    pub local_address: Ipv4Addr,
    /// The port this server listens on.
    #[serde(default = "default_port")]
    pub local_port: u16,
    /// The partner's failover address; connections from elsewhere are refused.
    pub peer_address: Ipv4Addr,
    /// The port the partner listens on.
    #[serde(default = "default_port")]
    pub peer_port: u16,
    /// Maximum client lead time. Required on the primary; a secondary uses its own value until
    /// the primary's CONNECT tells it the real one (draft-12 §5.2; ISC learns it the same way).
    pub mclt_s: u32,
    /// Hot standby or load balancing.
    #[serde(default = "default_mode")]
    pub mode: Mode,
    /// How many BNDUPDs may await their BNDACK (draft-12 §12.14: SHOULD be over 10, under 100).
    #[serde(default = "default_max_unacked")]
    pub max_unacked_bndupd: u32,
    /// ISC or Microsoft.
    #[serde(default)]
    pub dialect: DialectName,
    /// Message-digest secret; with one, every message is signed and checked (MS-DHCPF §5.1).
    #[serde(default)]
    pub shared_secret: Option<String>,
    /// Largest tolerated difference between the partner's clock and ours (MS-DHCPF §3.1.5;
    /// ISC's 60 s check at CONNECT).
    #[serde(default = "default_max_clock_delta_s")]
    pub max_clock_delta_s: u32,
    /// How the partner's absolute times are read: corrected by the measured clock delta
    /// (draft-12 §5.10, the default) or raw (ISC's behaviour).
    #[serde(default)]
    pub time_correction: super::skew::TimeCorrection,
    /// tReceive: the connection is dropped when nothing arrives for this long.
    #[serde(default)]
    pub receive_timer_s: Option<u32>,
    /// Safe period: COMMUNICATIONS-INTERRUPTED becomes PARTNER-DOWN after this long. `0`
    /// disables it (ISC's default); unset takes the dialect's default.
    #[serde(default)]
    pub safe_period_s: Option<u32>,
    /// How long STARTUP waits for the partner before taking the previous state.
    #[serde(default)]
    pub startup_s: Option<u32>,
    /// How long after a failed or lost connection to dial again.
    #[serde(default)]
    pub connect_retry_s: Option<u32>,
    /// How long an UPDREQ/UPDREQALL may go without a BNDUPD or UPDDONE before the connection is
    /// dropped (MS-DHCPF §3.1.2.6). `0` disables it.
    #[serde(default)]
    pub sync_timer_s: Option<u32>,
    /// How often each server rebalances the pools while NORMAL (MS-DHCPF §3.2.2.1 gives the
    /// primary this timer; ISC runs it on both sides, draft-12.md §7.1).
    #[serde(default)]
    pub rebalance_s: Option<u32>,
    /// How the pools are shared between the partners (draft-12 §5.4, §7.6; draft-12.md §7.1).
    #[serde(default)]
    pub pool_balance: PoolBalance,
    /// Which server a set hash bucket names. draft-12 §12.11 says the secondary; ISC says the
    /// primary (draft-12.md §7.2). Defaults to ISC's reading.
    #[serde(default)]
    pub set_bucket_serves: BucketOwner,
}

/// How pool balancing shares the available addresses (FREE and BACKUP) of each subnet between
/// the partners (draft-12 §5.4; ISC's `max-lease-ownership` and `max-lease-misbalance`,
/// draft-12.md §7.1 and §8). The arithmetic is in [`crate::failover::balance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolBalance {
    /// Hot standby: the share of the available addresses the secondary keeps as BACKUP, in
    /// percent (at least one address while two or more are available). The secondary answers
    /// no new client in NORMAL, so this is only its reserve for COMMUNICATIONS-INTERRUPTED and
    /// for the MCLT at the start of PARTNER-DOWN; the rest goes back to the primary. Default 10
    /// (ISC's `max-lease-ownership`; Windows' standby reserve defaults to 5). At most 50.
    #[serde(default = "default_standby_reserve_percent")]
    pub standby_reserve_percent: u8,
    /// How far, in percent, a partner's holding may stray from its share before addresses
    /// move: of the available addresses in load balancing (ISC's `max-lease-misbalance`,
    /// default 15), of the standby reserve in hot standby. It keeps the two sides from moving
    /// addresses back and forth over a difference of one (bug-catalogue I14). At most 100.
    #[serde(default = "default_max_misbalance_percent")]
    pub max_misbalance_percent: u8,
}

fn default_standby_reserve_percent() -> u8 {
    10
}
fn default_max_misbalance_percent() -> u8 {
    15
}

impl Default for PoolBalance {
    fn default() -> Self {
        PoolBalance {
            standby_reserve_percent: default_standby_reserve_percent(),
            max_misbalance_percent: default_max_misbalance_percent(),
        }
    }
}

/// The dialect, as configuration spells it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum DialectName {
    /// draft-12 as ISC dhcpd 4.4 speaks it.
    #[default]
    Isc,
    /// MS-DHCPF.
    Microsoft,
}

impl DialectName {
    /// The wire dialect.
    pub fn dialect(self) -> Dialect {
        match self {
            DialectName::Isc => Dialect::Isc,
            DialectName::Microsoft => Dialect::Microsoft,
        }
    }
}

/// Which server a set HBA bit assigns a bucket to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum BucketOwner {
    /// ISC: a set bit means the primary serves (its man page; `load_balance_mine`).
    #[default]
    Primary,
    /// draft-12 §12.11: a set bit means the secondary serves.
    Secondary,
}

fn default_port() -> u16 {
    DEFAULT_PORT
}
fn default_mode() -> Mode {
    Mode::HotStandby
}
fn default_max_unacked() -> u32 {
    10
}
fn default_max_clock_delta_s() -> u32 {
    60
}

/// Every timer of a relationship, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timers {
    /// tReceive.
    pub receive: Duration,
    /// Safe period, if enabled.
    pub safe_period: Option<Duration>,
    /// STARTUP wait.
    pub startup: Duration,
    /// Reconnect delay.
    pub connect_retry: Duration,
    /// UPDREQ progress limit, if enabled.
    pub sync: Option<Duration>,
    /// Pool rebalancing period.
    pub rebalance: Duration,
    /// How long a new connection may wait for CONNECT or CONNECTACK (ISC: 15 s).
    pub handshake: Duration,
}

impl RelationshipConfig {
    /// The wire dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect.dialect()
    }

    /// Resolve every timer: the configured value, else the dialect's default.
    pub fn timers(&self) -> Timers {
        let s = |v: u32| Duration::from_secs(u64::from(v));
        let opt = |v: u32| (v > 0).then(|| s(v));
        let isc = self.dialect == DialectName::Isc;
        Timers {
            // ISC `max-response-delay` 20 s; MS-DHCPF §3.1.2.4: 3 minutes.
            receive: s(self.receive_timer_s.unwrap_or(if isc { 20 } else { 180 })),
            // ISC `auto-partner-down` 0 (off); MS-DHCPF §3.1.2.1: 60 minutes.
            safe_period: opt(self.safe_period_s.unwrap_or(if isc { 0 } else { 3600 })),
            // ISC: a fixed 15 s; MS-DHCPF §3.1.2.3: 5 minutes.
            startup: s(self.startup_s.unwrap_or(if isc { 15 } else { 300 })),
            // ISC: 5 s after a loss; MS-DHCPF §3.1.2.2: 1 minute.
            connect_retry: s(self.connect_retry_s.unwrap_or(if isc { 5 } else { 60 })),
            // Windows does not implement it (MS-DHCPF <8>); off unless configured.
            sync: opt(self.sync_timer_s.unwrap_or(0)),
            // ISC max-balance 3600 s (min 60 s); MS-DHCPF §3.2.2.1: 5 minutes.
            rebalance: s(self.rebalance_s.unwrap_or(if isc { 60 } else { 300 })),
            handshake: s(15),
        }
    }

    /// The hash buckets the *primary* serves under this configuration, or `None` in hot
    /// standby (where the primary serves all).
    pub fn primary_buckets(&self) -> Option<HashBuckets> {
        let Mode::LoadBalance { split, hba, .. } = &self.mode else {
            return None;
        };
        let set = match (split, hba) {
            (Some(n), _) => HashBuckets::split(*n),
            (None, Some(h)) => HashBuckets(h.0.as_slice().try_into().ok()?),
            (None, None) => HashBuckets::split(128),
        };
        Some(match self.set_bucket_serves {
            BucketOwner::Primary => set,
            BucketOwner::Secondary => set.inverted(),
        })
    }

    /// Check the relationship on its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let e = |m: String| {
            Err(ConfigError(format!(
                "failover relationship {:?}: {m}",
                self.name
            )))
        };
        if self.name.is_empty() {
            return e("the name is empty".into());
        }
        if self.name.len() > 255 {
            return e("the name is longer than 255 bytes".into());
        }
        if self.peer_address == self.local_address {
            return e("peer_address and local_address are the same".into());
        }
        if self.peer_address.is_unspecified() || self.local_address.is_unspecified() {
            return e("peer_address and local_address must be real addresses".into());
        }
        if self.role == Role::Primary && self.mclt_s == 0 {
            return e("the primary needs an MCLT (mclt_s > 0)".into());
        }
        if self.max_unacked_bndupd == 0 {
            return e("max_unacked_bndupd must be at least 1 (draft-12 §12.14)".into());
        }
        if self.receive_timer_s == Some(0) {
            return e("receive_timer_s must be at least 1 s".into());
        }
        if self.startup_s == Some(0)
            || self.connect_retry_s == Some(0)
            || self.rebalance_s == Some(0)
        {
            return e("startup_s, connect_retry_s and rebalance_s must be at least 1 s".into());
        }
        if self.pool_balance.standby_reserve_percent > 50 {
            return e("pool_balance.standby_reserve_percent must be at most 50".into());
        }
        if self.pool_balance.max_misbalance_percent > 100 {
            return e("pool_balance.max_misbalance_percent must be at most 100".into());
        }
        if self.shared_secret.as_deref() == Some("") {
            return e("shared_secret is empty: remove it or give a secret".into());
        }
        if let Mode::LoadBalance { split, hba, .. } = &self.mode {
            if self.role == Role::Secondary && (split.is_some() || hba.is_some()) {
                return e(
                    "split/hba belong on the primary; the secondary learns them from CONNECT"
                        .into(),
                );
            }
            if split.is_some() && hba.is_some() {
                return e("give split or hba, not both".into());
            }
            if split.is_some_and(|n| n > 256) {
                return e("split must be 0..=256".into());
            }
            if hba.as_ref().is_some_and(|h| h.0.len() != 32) {
                return e("hba must be exactly 32 bytes".into());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
impl RelationshipConfig {
    /// The ISC-dialect relationship "fo-test" between 192.0.2.1 (primary) and 192.0.2.2, MCLT
    /// 30 s, timers at their defaults: the base the engine's tests vary.
    pub(crate) fn for_tests(role: Role, mode: Mode) -> RelationshipConfig {
        let primary = Ipv4Addr::new(192, 0, 2, 1);
        let secondary = Ipv4Addr::new(192, 0, 2, 2);
        let (local_address, peer_address) = match role {
            Role::Primary => (primary, secondary),
            Role::Secondary => (secondary, primary),
        };
        RelationshipConfig {
            name: "fo-test".into(),
            role,
            local_address,
            local_port: 647,
            peer_address,
            peer_port: 647,
            mclt_s: 30,
            mode,
            max_unacked_bndupd: 10,
            dialect: DialectName::Isc,
            shared_secret: None,
            max_clock_delta_s: 60,
            time_correction: Default::default(),
            receive_timer_s: None,
            safe_period_s: None,
            startup_s: None,
            connect_retry_s: None,
            sync_timer_s: None,
            rebalance_s: None,
            pool_balance: PoolBalance::default(),
            set_bucket_serves: BucketOwner::Primary,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary() -> RelationshipConfig {
        RelationshipConfig::for_tests(Role::Primary, Mode::HotStandby)
    }

    #[test]
    fn timers_default_by_dialect() {
        let isc = primary().timers();
        assert_eq!(isc.receive, Duration::from_secs(20));
        assert_eq!(isc.safe_period, None);
        assert_eq!(isc.startup, Duration::from_secs(15));
        let ms = RelationshipConfig {
            dialect: DialectName::Microsoft,
            ..primary()
        }
        .timers();
        assert_eq!(ms.receive, Duration::from_mins(3));
        assert_eq!(ms.safe_period, Some(Duration::from_mins(60)));
        assert_eq!(ms.startup, Duration::from_mins(5));
        assert_eq!(ms.connect_retry, Duration::from_mins(1));
        assert_eq!(ms.rebalance, Duration::from_mins(5));
        let off = RelationshipConfig {
            safe_period_s: Some(0),
            dialect: DialectName::Microsoft,
            ..primary()
        };
        assert_eq!(off.timers().safe_period, None);
    }

    #[test]
    fn split_128_gives_the_primary_the_low_half_by_isc_polarity() {
        let lb = RelationshipConfig {
            mode: Mode::LoadBalance {
                split: Some(128),
                hba: None,
                max_secs: 3,
            },
            ..primary()
        };
        assert_eq!(lb.primary_buckets(), Some(HashBuckets::split(128)));
        let d12 = RelationshipConfig {
            set_bucket_serves: BucketOwner::Secondary,
            ..lb
        };
        assert_eq!(
            d12.primary_buckets(),
            Some(HashBuckets::split(128).inverted())
        );
        assert_eq!(primary().primary_buckets(), None);
    }

    #[test]
    fn invalid_combinations_are_named() {
        let bad = |c: RelationshipConfig| c.validate().unwrap_err().0;
        assert!(
            bad(RelationshipConfig {
                mclt_s: 0,
                ..primary()
            })
            .contains("MCLT")
        );
        assert!(
            bad(RelationshipConfig {
                max_unacked_bndupd: 0,
                ..primary()
            })
            .contains("max_unacked")
        );
        assert!(
            bad(RelationshipConfig {
                peer_address: Ipv4Addr::new(192, 0, 2, 1),
                ..primary()
            })
            .contains("same")
        );
        assert!(
            bad(RelationshipConfig {
                role: Role::Secondary,
                mode: Mode::LoadBalance {
                    split: Some(128),
                    hba: None,
                    max_secs: 3
                },
                ..primary()
            })
            .contains("belong on the primary")
        );
        assert!(
            bad(RelationshipConfig {
                mode: Mode::LoadBalance {
                    split: Some(300),
                    hba: None,
                    max_secs: 3
                },
                ..primary()
            })
            .contains("0..=256")
        );
        assert!(
            bad(RelationshipConfig {
                pool_balance: PoolBalance {
                    standby_reserve_percent: 60,
                    ..PoolBalance::default()
                },
                ..primary()
            })
            .contains("standby_reserve_percent")
        );
        assert!(
            bad(RelationshipConfig {
                shared_secret: Some(String::new()),
                ..primary()
            })
            .contains("empty")
        );
        assert_eq!(
            RelationshipConfig {
                role: Role::Secondary,
                mclt_s: 0,
                ..primary()
            }
            .validate(),
            Ok(()),
            "a secondary learns the MCLT"
        );
    }
}
