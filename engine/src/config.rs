//! Server configuration: subnets and their address ranges, lease times, reservations.
//!
//! It is plain serde data (YAML in scenarios and `dhcpfo serve`), checked once by
//! [`ServerConfig::validate`], which names the first problem in words a person can act on.
//! Every field with a unit carries it in its name (`default_s`, `t1_permille`).

use std::fmt;
use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

/// Everything one DHCP server needs to serve.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// The server identifier (option 54) and the source of its replies.
    pub server_id: Ipv4Addr,
    /// Lease times for every subnet.
    #[serde(default)]
    pub lease: LeaseTimes,
    /// The subnets served, each with its dynamic ranges.
    pub subnets: Vec<Subnet>,
    /// Fixed addresses for known clients.
    #[serde(default)]
    pub reservations: Vec<Reservation>,
    /// How long an offered address stays held for the client it was offered to.
    #[serde(default = "default_offer_hold_s")]
    pub offer_hold_s: u32,
    /// The failover relationship every subnet of this server belongs to, if any.
    #[serde(default)]
    pub failover: Option<crate::failover::RelationshipConfig>,
    /// Test-only: deliberate flaws switched on (see [`crate::bugs`]). Empty unless a test or
    /// the testbed's `--bug` asks for one.
    #[serde(default, skip_serializing_if = "crate::bugs::Bugs::is_empty")]
    pub bugs: crate::bugs::Bugs,
}

fn default_offer_hold_s() -> u32 {
    // Long enough for a client's REQUEST after its SELECTING wait (RFC 2131 §4.4.1), short
    // enough that an abandoned offer does not starve the pool.
    60
}

/// Lease durations and renewal points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaseTimes {
    /// Given when the client asks for no particular time.
    #[serde(default = "LeaseTimes::default_default_s")]
    pub default_s: u32,
    /// The shortest lease given, whatever the client asks.
    #[serde(default = "LeaseTimes::default_min_s")]
    pub min_s: u32,
    /// The longest lease given, whatever the client asks.
    #[serde(default = "LeaseTimes::default_max_s")]
    pub max_s: u32,
    /// T1 (renewal, option 58) as thousandths of the lease; RFC 2131 §4.4.5 suggests 500.
    #[serde(default = "LeaseTimes::default_t1_permille")]
    pub t1_permille: u16,
    /// T2 (rebinding, option 59) as thousandths of the lease; RFC 2131 §4.4.5 suggests 875.
    #[serde(default = "LeaseTimes::default_t2_permille")]
    pub t2_permille: u16,
}

impl LeaseTimes {
    fn default_default_s() -> u32 {
        3600
    }
    fn default_min_s() -> u32 {
        60
    }
    fn default_max_s() -> u32 {
        86_400
    }
    fn default_t1_permille() -> u16 {
        500
    }
    fn default_t2_permille() -> u16 {
        875
    }
}

impl Default for LeaseTimes {
    fn default() -> Self {
        LeaseTimes {
            default_s: Self::default_default_s(),
            min_s: Self::default_min_s(),
            max_s: Self::default_max_s(),
            t1_permille: Self::default_t1_permille(),
            t2_permille: Self::default_t2_permille(),
        }
    }
}

/// One subnet (scope): its network, its dynamic ranges and the options its clients get.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// The network address.
    pub network: Ipv4Addr,
    /// The subnet mask (option 1).
    pub mask: Ipv4Addr,
    /// Inclusive address ranges given out dynamically.
    pub ranges: Vec<AddressRange>,
    /// Routers (option 3).
    #[serde(default)]
    pub routers: Vec<Ipv4Addr>,
    /// DNS servers (option 6).
    #[serde(default)]
    pub dns_servers: Vec<Ipv4Addr>,
    /// Domain name (option 15).
    #[serde(default)]
    pub domain_name: Option<String>,
}

impl Subnet {
    /// Whether `addr` is inside this subnet.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        u32::from(addr) & u32::from(self.mask) == u32::from(self.network)
    }

    /// The subnet's broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !u32::from(self.mask))
    }
}

/// An inclusive range of addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressRange {
    /// The first address.
    pub first: Ipv4Addr,
    /// The last address (inclusive).
    pub last: Ipv4Addr,
}

impl AddressRange {
    /// How many addresses the range holds (0 if it is reversed).
    pub fn len(&self) -> u32 {
        (u32::from(self.last).wrapping_sub(u32::from(self.first))).wrapping_add(1)
            * u32::from(self.first <= self.last)
    }

    /// Whether the range holds no address.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `addr` is in the range.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        self.first <= addr && addr <= self.last
    }
}

/// A fixed address for one client, named by hardware address or client-identifier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reservation {
    /// The address the client always gets.
    pub address: Ipv4Addr,
    /// The client's Ethernet address, `aa:bb:cc:dd:ee:ff`.
    #[serde(default)]
    pub hw_address: Option<HexBytes>,
    /// The client's client-identifier (option 61), as colon-separated hex.
    #[serde(default)]
    pub client_id: Option<HexBytes>,
}

/// Bytes written as colon-separated hex (`01:aa:bb`), as MAC addresses usually are.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HexBytes(pub Vec<u8>);

impl TryFrom<String> for HexBytes {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.split(':')
            .map(|part| match part.len() {
                1 | 2 => u8::from_str_radix(part, 16).ok(),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .filter(|b| !b.is_empty())
            .map(HexBytes)
            .ok_or_else(|| format!("`{s}` is not colon-separated hex bytes (like 00:11:22:aa)"))
    }
}

impl From<HexBytes> for String {
    fn from(h: HexBytes) -> String {
        h.to_string()
    }
}

impl fmt::Display for HexBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// What is wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The most addresses one server's ranges may hold (4 Mi): each is a binding in memory.
pub const MAX_POOL_ADDRESSES: u64 = 1 << 22;

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(msg.into()))
}

impl ServerConfig {
    /// Check the configuration; the error names the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.server_id.is_unspecified() || self.server_id.is_broadcast() {
            return err(format!(
                "server_id {} is not a usable address",
                self.server_id
            ));
        }
        self.lease.validate()?;
        if self.subnets.is_empty() {
            return err("no subnets: a server needs at least one subnet to serve");
        }
        for s in &self.subnets {
            s.validate()?;
        }
        for (i, a) in self.subnets.iter().enumerate() {
            for b in &self.subnets[i + 1..] {
                if a.contains(b.network) || b.contains(a.network) {
                    return err(format!(
                        "subnets {}/{} and {}/{} overlap",
                        a.network, a.mask, b.network, b.mask
                    ));
                }
            }
        }
        let mut ranges: Vec<AddressRange> = self
            .subnets
            .iter()
            .flat_map(|s| s.ranges.iter().copied())
            .collect();
        ranges.sort();
        let total: u64 = ranges.iter().map(|r| u64::from(r.len())).sum();
        if total > MAX_POOL_ADDRESSES {
            return err(format!(
                "the ranges hold {total} addresses; at most {MAX_POOL_ADDRESSES} are supported"
            ));
        }
        if let Some(r) = ranges.iter().find(|r| r.contains(self.server_id)) {
            return err(format!(
                "range {}-{} includes the server's own address {}",
                r.first, r.last, self.server_id
            ));
        }
        for w in ranges.windows(2) {
            if w[1].first <= w[0].last {
                return err(format!(
                    "ranges {}-{} and {}-{} overlap",
                    w[0].first, w[0].last, w[1].first, w[1].last
                ));
            }
        }
        for (i, r) in self.reservations.iter().enumerate() {
            if r.hw_address.is_none() && r.client_id.is_none() {
                return err(format!(
                    "reservation for {} names no client: give hw_address or client_id",
                    r.address
                ));
            }
            let Some(home) = self.subnets.iter().find(|s| s.contains(r.address)) else {
                return err(format!("reservation {} is outside every subnet", r.address));
            };
            if r.address == home.network || r.address == home.broadcast() {
                return err(format!(
                    "reservation {} is the network or broadcast address of its subnet",
                    r.address
                ));
            }
            for other in &self.reservations[i + 1..] {
                if other.address == r.address {
                    return err(format!("address {} is reserved twice", r.address));
                }
                let same_hw = r.hw_address.is_some() && r.hw_address == other.hw_address;
                let same_id = r.client_id.is_some() && r.client_id == other.client_id;
                if same_hw || same_id {
                    return err(format!(
                        "one client holds two reservations ({} and {})",
                        r.address, other.address
                    ));
                }
            }
        }
        if self.offer_hold_s == 0 {
            return err("offer_hold_s must be at least 1");
        }
        if let Some(f) = &self.failover {
            f.validate()?;
        }
        Ok(())
    }
}

impl LeaseTimes {
    /// Check the lease times.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.min_s == 0 {
            return err("lease min_s must be at least 1 second");
        }
        if !(self.min_s <= self.default_s && self.default_s <= self.max_s) {
            return err(format!(
                "lease times must satisfy min_s <= default_s <= max_s (got {} <= {} <= {})",
                self.min_s, self.default_s, self.max_s
            ));
        }
        if self.t1_permille == 0 || self.t1_permille >= self.t2_permille {
            return err(format!(
                "T1 must be positive and below T2 (t1_permille {} vs t2_permille {})",
                self.t1_permille, self.t2_permille
            ));
        }
        let t1_s = u64::from(self.min_s) * u64::from(self.t1_permille) / 1000;
        let t2_s = u64::from(self.min_s) * u64::from(self.t2_permille) / 1000;
        if t1_s == 0 || t2_s <= t1_s {
            return err(format!(
                "min_s {} is too short for distinct T1 and T2 of at least 1 s",
                self.min_s
            ));
        }
        if self.t2_permille >= 1000 {
            return err(format!(
                "T2 must come before the lease ends (t2_permille {} >= 1000)",
                self.t2_permille
            ));
        }
        Ok(())
    }
}

impl Subnet {
    /// Check one subnet on its own.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let mask = u32::from(self.mask);
        if mask.leading_ones() + mask.trailing_zeros() != 32 {
            return err(format!("subnet mask {} is not contiguous", self.mask));
        }
        if u32::from(self.network) & !mask != 0 {
            return err(format!(
                "network {} has host bits set for mask {}",
                self.network, self.mask
            ));
        }
        if self.ranges.is_empty() {
            return err(format!("subnet {} has no ranges", self.network));
        }
        for r in &self.ranges {
            if r.first > r.last {
                return err(format!("range {}-{} is reversed", r.first, r.last));
            }
            if !self.contains(r.first) || !self.contains(r.last) {
                return err(format!(
                    "range {}-{} is outside subnet {}/{}",
                    r.first, r.last, self.network, self.mask
                ));
            }
            if r.contains(self.network) || r.contains(self.broadcast()) {
                return err(format!(
                    "range {}-{} includes the network or broadcast address of {}",
                    r.first, r.last, self.network
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ServerConfig {
        ServerConfig {
            server_id: Ipv4Addr::new(192, 0, 2, 1),
            lease: LeaseTimes::default(),
            subnets: vec![Subnet {
                network: Ipv4Addr::new(192, 0, 2, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0),
                ranges: vec![AddressRange {
                    first: Ipv4Addr::new(192, 0, 2, 100),
                    last: Ipv4Addr::new(192, 0, 2, 199),
                }],
                routers: vec![Ipv4Addr::new(192, 0, 2, 254)],
                dns_servers: vec![],
                domain_name: None,
            }],
            reservations: vec![],
            offer_hold_s: 60,
            failover: None,
            bugs: Default::default(),
        }
    }

    fn problem(edit: impl FnOnce(&mut ServerConfig)) -> String {
        let mut c = base();
        edit(&mut c);
        c.validate().unwrap_err().0
    }

    #[test]
    fn a_plain_subnet_is_valid() {
        assert_eq!(base().validate(), Ok(()));
    }

    #[test]
    fn each_mistake_is_named() {
        let r = |a: u8, b: u8| AddressRange {
            first: Ipv4Addr::new(192, 0, 2, a),
            last: Ipv4Addr::new(192, 0, 2, b),
        };
        assert!(problem(|c| c.subnets[0].ranges.push(r(150, 160))).contains("overlap"));
        assert!(problem(|c| c.subnets[0].ranges[0] = r(10, 5)).contains("reversed"));
        assert!(
            problem(|c| c.subnets[0].ranges[0].last = Ipv4Addr::new(192, 0, 3, 5))
                .contains("outside subnet")
        );
        assert!(problem(|c| c.subnets[0].ranges[0] = r(0, 5)).contains("network or broadcast"));
        assert!(problem(|c| c.lease.t1_permille = 900).contains("T1"));
        assert!(problem(|c| c.lease.t2_permille = 1000).contains("T2"));
        assert!(problem(|c| c.lease.min_s = 7200).contains("min_s <= default_s"));
        assert!(
            problem(|c| c.subnets[0].mask = Ipv4Addr::new(255, 0, 255, 0))
                .contains("not contiguous")
        );
        assert!(
            problem(|c| c.subnets[0].network = Ipv4Addr::new(192, 0, 2, 7)).contains("host bits")
        );
        assert!(problem(|c| c.subnets.clear()).contains("no subnets"));
        let twin = base().subnets[0].clone();
        assert!(problem(|c| c.subnets.push(twin)).contains("overlap"));
        assert!(problem(|c| c.server_id = Ipv4Addr::UNSPECIFIED).contains("server_id"));
    }

    #[test]
    fn reservations_need_a_client_and_a_subnet() {
        let res = |a: Ipv4Addr, hw: Option<&str>| Reservation {
            address: a,
            hw_address: hw.map(|h| HexBytes::try_from(h.to_string()).unwrap()),
            client_id: None,
        };
        assert!(
            problem(|c| c.reservations.push(res(Ipv4Addr::new(192, 0, 2, 5), None)))
                .contains("names no client")
        );
        assert!(
            problem(|c| c
                .reservations
                .push(res(Ipv4Addr::new(10, 0, 0, 5), Some("00:11:22:33:44:55"))))
            .contains("outside every subnet")
        );
        assert!(
            problem(|c| {
                c.reservations
                    .push(res(Ipv4Addr::new(192, 0, 2, 5), Some("00:11:22:33:44:55")));
                c.reservations
                    .push(res(Ipv4Addr::new(192, 0, 2, 6), Some("00:11:22:33:44:55")));
            })
            .contains("two reservations")
        );
    }

    #[test]
    fn hex_bytes_parse_and_print_colon_separated() {
        let h = HexBytes::try_from("0:1a:FF".to_string()).unwrap();
        assert_eq!(h.0, vec![0, 0x1a, 0xff]);
        assert_eq!(h.to_string(), "00:1a:ff");
        assert!(HexBytes::try_from("zz".to_string()).is_err());
        assert!(HexBytes::try_from("".to_string()).is_err());
        assert!(HexBytes::try_from("123".to_string()).is_err());
    }

    #[test]
    fn range_length_counts_both_ends() {
        let r = AddressRange {
            first: Ipv4Addr::new(10, 0, 0, 1),
            last: Ipv4Addr::new(10, 0, 0, 1),
        };
        assert_eq!(r.len(), 1);
        let reversed = AddressRange {
            first: Ipv4Addr::new(10, 0, 0, 2),
            last: Ipv4Addr::new(10, 0, 0, 1),
        };
        assert!(reversed.is_empty());
    }
}
