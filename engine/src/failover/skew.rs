//! The partner's clock as seen from ours (draft-12 §5.10, §7.8.2 step 6, §7.9.2 step 6): the
//! delta `local receive time − message time`, set at CONNECT/CONNECTACK, refined with every
//! message, and applied to every absolute time the partner sends (lease-expiration-time,
//! potential-expiration-time, start-time-of-state, client-last-transaction-time).
//!
//! # The estimate
//!
//! A sample `now − msg.time` is the true delta plus the transit time plus the part of a second
//! the sender's whole-second time field dropped: it is never below the true delta, and often
//! close to it. So the estimate is a minimum filter: a lower sample replaces it at once, and
//! between samples it may rise by at most [`MAX_DRIFT_PPM`] of the time elapsed, which follows
//! a partner clock that runs slower than ours. The estimate therefore never falls below the true
//! delta (given drift within the bound) and sits above it by the smallest transit-plus-rounding
//! seen lately: under a second, and a few milliseconds once a few messages have passed.
//!
//! A sample more than [`STEP_MS`] above the estimate means the partner's clock stepped back
//! (or ours forward): the draft's "drastic change", which resets the estimate to the sample.

use crate::time::Time;

/// The fastest relative drift the estimate follows upward between samples (parts per million).
/// Crystal oscillators are specified to ±100 ppm; the margin covers a badly disciplined clock
/// (the simulator's drift faults reach 2 000 ppm).
pub const MAX_DRIFT_PPM: i64 = 2_000;

/// A sample this far above the estimate is a clock step, not transit time.
pub const STEP_MS: i64 = 5_000;

/// How this server reads the partner's absolute times.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum TimeCorrection {
    /// Apply the delta, as draft-12 §5.10 requires.
    #[default]
    Delta,
    /// Use them raw, as ISC dhcpd does (draft-12.md §9: "no skew is computed"); safe only with
    /// synchronised clocks.
    None,
}

/// The estimated delta between the partner's clock and ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClockDelta {
    /// Our clock minus the partner's, in milliseconds.
    delta_ms: i64,
    /// When (our clock) the estimate was last lowered or set.
    sampled_at: Time,
}

impl ClockDelta {
    /// The delta from a first message (CONNECT or CONNECTACK) whose time field is `msg_time_s`,
    /// received at `now`.
    pub fn first(now: Time, msg_time_s: u32) -> ClockDelta {
        ClockDelta {
            delta_ms: sample(now, msg_time_s),
            sampled_at: now,
        }
    }

    /// Refine with another message. Returns true when the sample was a step that reset the
    /// estimate.
    pub fn refine(&mut self, now: Time, msg_time_s: u32) -> bool {
        let s = sample(now, msg_time_s);
        let elapsed_ms = now.saturating_since(self.sampled_at).as_millis() as i64;
        let ceiling = self.delta_ms + elapsed_ms * MAX_DRIFT_PPM / 1_000_000;
        if s > self.delta_ms + STEP_MS {
            *self = ClockDelta {
                delta_ms: s,
                sampled_at: now,
            };
            return true;
        }
        if s <= ceiling {
            *self = ClockDelta {
                delta_ms: s,
                sampled_at: now,
            };
        }
        false
    }

    /// Our clock minus the partner's, in milliseconds.
    pub fn delta_ms(&self) -> i64 {
        self.delta_ms
    }

    /// A time the partner sent, on our clock. The epoch ("none") and the all-ones wire value
    /// ("infinite", draft-12 §5.1) are not times and pass unchanged.
    pub fn to_local(&self, partner_time: Time) -> Time {
        const INFINITE: Time = Time::from_secs(u32::MAX as u64);
        if partner_time == Time::EPOCH || partner_time >= INFINITE {
            return partner_time;
        }
        let t = partner_time.as_millis() as i64 + self.delta_ms;
        Time::from_millis(t.max(1) as u64)
    }
}

fn sample(now: Time, msg_time_s: u32) -> i64 {
    now.as_millis() as i64 - i64::from(msg_time_s) * 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: Time = Time::from_secs(1_800_000_000);

    fn at(ms: u64) -> Time {
        Time::from_millis(T0.as_millis() + ms)
    }

    /// The partner's clock 59.25 s ahead of ours: a message it sends at our `t` carries
    /// `floor((t + 59.25 s) / 1 s)`, and arrives 3 ms later.
    fn partner_msg(t_ms: u64) -> (Time, u32) {
        let sent_partner_ms = T0.as_millis() + t_ms + 59_250;
        (at(t_ms + 3), (sent_partner_ms / 1000) as u32)
    }

    #[test]
    fn the_estimate_never_undercuts_the_true_delta_and_closes_in_on_it() {
        let (now, time) = partner_msg(0);
        let mut d = ClockDelta::first(now, time);
        let true_delta = -59_250;
        assert!(d.delta_ms() >= true_delta);
        for k in 1..200u64 {
            let (now, time) = partner_msg(k * 137);
            d.refine(now, time);
            assert!(
                d.delta_ms() >= true_delta,
                "{} < {true_delta}",
                d.delta_ms()
            );
        }
        assert!(d.delta_ms() - true_delta < 50, "{}", d.delta_ms());
        // A partner time converts to ours: its 10:00:59.25 is our 10:00:00 (to within the
        // estimate's error).
        let local = d.to_local(Time::from_millis(T0.as_millis() + 59_250));
        assert!(local.saturating_since(T0).as_millis() < 50);
    }

    #[test]
    fn none_and_infinite_pass_unchanged_and_a_step_back_resets() {
        let mut d = ClockDelta::first(T0, (T0.as_secs() - 30) as u32);
        assert_eq!(d.delta_ms(), 30_000);
        assert_eq!(d.to_local(Time::EPOCH), Time::EPOCH);
        let inf = Time::from_secs(u64::from(u32::MAX));
        assert_eq!(d.to_local(inf), inf);
        // The partner's clock steps back by a minute.
        assert!(d.refine(at(1000), (T0.as_secs() - 89) as u32));
        assert_eq!(d.delta_ms(), 90_000);
        // Slow creep upward is followed only at the drift bound.
        let mut d = ClockDelta::first(T0, T0.as_secs() as u32);
        d.refine(at(1_000_000), (T0.as_secs() + 1000) as u32 - 3);
        assert_eq!(
            d.delta_ms(),
            0,
            "a sample above the ceiling leaves the estimate"
        );
    }
}
