//! The exit codes every dhcpfo command shares.

/// Every check held.
pub const OK: u8 = 0;
/// A property was violated, or a decode failed.
pub const VIOLATION: u8 = 1;
/// Bad usage or bad input (a flag, a file, a scenario).
pub const BAD_INPUT: u8 = 2;
/// A run did not finish within its bound.
pub const UNFINISHED: u8 = 3;
