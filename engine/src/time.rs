//! The engine's own time: whole milliseconds since the Unix epoch, handed in with every input.
//!
//! Nothing in the engine reads a clock (smoltcp's `time.rs` habit). The simulator hands in its
//! node's virtual clock, the real host converts the OS clock at its edge. Wire times are u32
//! seconds (draft-12 §6.2; DHCP lease times are u32 seconds, RFC 2132 §9.2), so conversions to
//! and from seconds live here, each saturating rather than wrapping.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant: milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time(u64);

/// A span of time in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

impl Time {
    /// The epoch itself (a failover time of 0 means "never" on the wire).
    pub const EPOCH: Time = Time(0);
    /// The latest representable instant.
    pub const MAX: Time = Time(u64::MAX);

    /// From milliseconds since the epoch.
    pub const fn from_millis(ms: u64) -> Time {
        Time(ms)
    }

    /// From whole seconds since the epoch.
    pub const fn from_secs(s: u64) -> Time {
        Time(s.saturating_mul(1000))
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds since the epoch, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Seconds since the epoch as a wire u32 (rounded down, saturating in 2106).
    pub fn as_unix_secs(self) -> u32 {
        u32::try_from(self.as_secs()).unwrap_or(u32::MAX)
    }

    /// The span since `earlier`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: Time) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, saturating at [`Time::MAX`].
    pub fn saturating_add(self, d: Duration) -> Time {
        Time(self.0.saturating_add(d.0))
    }

    /// `self - d`, saturating at the epoch.
    pub fn saturating_sub(self, d: Duration) -> Time {
        Time(self.0.saturating_sub(d.0))
    }
}

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);
    /// The longest representable span.
    pub const MAX: Duration = Duration(u64::MAX);

    /// From milliseconds.
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms)
    }

    /// From whole seconds.
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1000))
    }

    /// From whole minutes.
    pub const fn from_mins(m: u64) -> Duration {
        Duration::from_secs(m.saturating_mul(60))
    }

    /// Milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Whole seconds, rounded down.
    pub const fn as_secs(self) -> u64 {
        self.0 / 1000
    }

    /// Whole seconds as a wire u32 (saturating; 0xffffffff means "infinite" in DHCP).
    pub fn as_secs_u32(self) -> u32 {
        u32::try_from(self.as_secs()).unwrap_or(u32::MAX)
    }

    /// `self * num / den`, for ratios such as T1 = lease × 0.5 (den must not be 0; a 0 gives 0).
    pub fn mul_ratio(self, num: u64, den: u64) -> Duration {
        if den == 0 {
            return Duration::ZERO;
        }
        Duration(((u128::from(self.0) * u128::from(num)) / u128::from(den)) as u64)
    }
}

impl Add<Duration> for Time {
    type Output = Time;
    fn add(self, d: Duration) -> Time {
        self.saturating_add(d)
    }
}

impl AddAssign<Duration> for Time {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Time {
    type Output = Time;
    fn sub(self, d: Duration) -> Time {
        self.saturating_sub(d)
    }
}

impl Add for Duration {
    type Output = Duration;
    fn add(self, d: Duration) -> Duration {
        Duration(self.0.saturating_add(d.0))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_seconds_round_down_and_saturate() {
        assert_eq!(Time::from_millis(1999).as_unix_secs(), 1);
        assert_eq!(
            Time::from_secs(u64::from(u32::MAX) + 5).as_unix_secs(),
            u32::MAX
        );
        assert_eq!(Duration::from_secs(1 << 40).as_secs_u32(), u32::MAX);
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(Time::MAX + Duration::from_secs(1), Time::MAX);
        assert_eq!(Time::EPOCH - Duration::from_secs(1), Time::EPOCH);
        assert_eq!(
            Time::from_secs(5).saturating_since(Time::from_secs(9)),
            Duration::ZERO
        );
    }

    #[test]
    fn ratios_use_wide_arithmetic() {
        assert_eq!(
            Duration::from_secs(3600).mul_ratio(1, 2),
            Duration::from_secs(1800)
        );
        assert_eq!(
            Duration::from_secs(3600).mul_ratio(7, 8),
            Duration::from_secs(3150)
        );
        assert_eq!(Duration::MAX.mul_ratio(1, 2).as_millis(), u64::MAX / 2);
        assert_eq!(Duration::from_secs(1).mul_ratio(1, 0), Duration::ZERO);
    }
}
