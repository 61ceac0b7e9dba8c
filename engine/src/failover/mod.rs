//! The DHCP Failover Protocol (draft-ietf-dhc-failover-12, with MS-DHCPF's extensions): the
//! relationship configuration, the endpoint state machine, binding updates and their acceptance
//! rules, the MCLT, recovery, conflict resolution, pool and load balancing.

pub mod acceptance;
pub mod balance;
pub mod config;
pub mod mclt;
pub mod messages;
pub mod relationship;
pub mod skew;
pub mod state;

pub use config::{BucketOwner, DialectName, Mode, PoolBalance, RelationshipConfig, Role, Timers};
