//! The names the checkers know servers and failover relationships by.
//!
//! A server may belong to several relationships (DESIGN.md: "key relationships by name"), so no
//! checker keeps a server at an index or finds its partner as "the other one": per-server state
//! is keyed by [`ServerName`], every property of a pair by [`RelationshipName`], and a pair
//! knows its two servers by name ([`Pair`]). A name is fixed for the whole run, so it is kept
//! as a `&'static str`: keys stay `Copy`, and ordered maps keyed by them iterate in the same
//! order on every run.

use std::fmt;

/// A server, as the scenario and the trace name it (`primary`, `secondary`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerName(&'static str);

impl ServerName {
    /// The server called `name`.
    pub const fn new(name: &'static str) -> ServerName {
        ServerName(name)
    }

    /// The name as written.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A failover relationship, by the name its servers exchange in CONNECT
/// (`RelationshipConfig::name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelationshipName(&'static str);

impl RelationshipName {
    /// The relationship called `name`.
    pub const fn new(name: &'static str) -> RelationshipName {
        RelationshipName(name)
    }

    /// The name as written.
    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for RelationshipName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// One failover relationship and its two servers, by role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// The relationship's name.
    pub relationship: RelationshipName,
    /// Its primary server.
    pub primary: ServerName,
    /// Its secondary server.
    pub secondary: ServerName,
}

impl Pair {
    /// Both servers, the primary first.
    pub fn servers(&self) -> [ServerName; 2] {
        [self.primary, self.secondary]
    }

    /// The partner of `server` in this relationship, if `server` belongs to it.
    pub fn partner(&self, server: ServerName) -> Option<ServerName> {
        if server == self.primary {
            Some(self.secondary)
        } else if server == self.secondary {
            Some(self.primary)
        } else {
            None
        }
    }
}
