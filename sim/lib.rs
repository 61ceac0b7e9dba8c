//! dhcpfo: the deterministic simulation testbed for DHCPv4 failover, and its command line.
//!
//! The simulator runs the real engine (crate `dhcpfo-engine`) on a virtual clock: [`world`]
//! (kernel, network, faults), [`client`] (RFC 2131 clients), [`check`] (the properties, keyed by
//! the [`names`] of servers and relationships), [`pool_balance`] (the pool-balance property),
//! [`scenario`] (YAML), [`tracing`] (the run's trace events), [`run`] (`dhcpfo run`),
//! [`sweep`] (`dhcpfo sweep`, many seeds on every core), [`shrink`] (`dhcpfo shrink`) and [`hunt`]
//! (`dhcpfo hunt`: each catalogued bug's first find, shrunk). The capture tooling (`dhcpfo
//! decode`) lives in [`capture`] and [`decode`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod bench;
pub mod capture;
pub mod check;
pub mod client;
pub mod clock;
pub mod coverage;
pub mod decode;
pub mod exit;
pub mod hunt;
pub mod names;
pub mod pool_balance;
pub mod queue;
pub mod record;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod swarm;
pub mod sweep;
pub mod tracing;
pub mod world;
