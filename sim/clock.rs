//! A simulated node's own clock (STYLE.md 18): true (simulator) time plus an offset, plus a
//! drift in parts per million since the drift was last set. Servers and clients each have one;
//! the node sees only its own, and the world converts every time a node reports back to true
//! time before a checker sees it (DESIGN.md "Checkers").

use dhcpfo_engine::time::Time;

/// One node's clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The offset from true time at `since`, in milliseconds.
    offset_ms: i64,
    /// Drift in parts per million, accumulating since `since`.
    drift_ppm: i32,
    /// When the offset was last set (true time).
    since: Time,
}

impl Clock {
    /// A clock that reads true time.
    pub const TRUE: Clock = Clock {
        offset_ms: 0,
        drift_ppm: 0,
        since: Time::EPOCH,
    };

    /// A clock `offset_ms` ahead of true time at `since`, drifting `drift_ppm` from then on.
    pub fn new(offset_ms: i64, drift_ppm: i32, since: Time) -> Clock {
        Clock {
            offset_ms,
            drift_ppm,
            since,
        }
    }

    /// How far ahead of true time the clock is at true time `now`, in milliseconds.
    pub fn skew_ms(&self, now: Time) -> i64 {
        let elapsed = now.as_millis() as i64 - self.since.as_millis() as i64;
        self.offset_ms + elapsed * i64::from(self.drift_ppm) / 1_000_000
    }

    /// What the clock reads at true time `now`.
    pub fn local(&self, now: Time) -> Time {
        Time::from_millis((now.as_millis() as i64 + self.skew_ms(now)).max(0) as u64)
    }

    /// The earliest true time at which the clock reads `local` or later (the inverse of
    /// [`Clock::local`], for a reading in the past or the future:
    /// `local = t + offset + (t − since) · ppm / 10⁶`). Never earlier: a timer the world
    /// schedules for a node at this time finds the node's clock at its deadline, and never
    /// fires early into a no-op that would be scheduled again at the same instant.
    pub fn to_true(&self, local: Time) -> Time {
        if local == Time::MAX {
            return local;
        }
        let (l, s) = (
            i128::from(local.as_millis()),
            i128::from(self.since.as_millis()),
        );
        let (off, ppm) = (i128::from(self.offset_ms), i128::from(self.drift_ppm));
        // t · (10⁶ + ppm) = (local − offset) · 10⁶ + since · ppm
        let t = ((l - off) * 1_000_000 + s * ppm) / (1_000_000 + ppm);
        let mut t = Time::from_millis(t.clamp(0, i128::from(u64::MAX)) as u64);
        // Integer division may land a millisecond or two short. Bound: 4 steps.
        for _ in 0..4 {
            if self.local(t) >= local {
                break;
            }
            t = Time::from_millis(t.as_millis().saturating_add(1));
        }
        t
    }

    /// Set the offset to `offset_ms` at `now`, keeping the drift.
    pub fn set_offset(&mut self, now: Time, offset_ms: i64) {
        *self = Clock::new(offset_ms, self.drift_ppm, now);
    }

    /// Drift at `drift_ppm` from `now` on, keeping what the clock reads now.
    pub fn set_drift(&mut self, now: Time, drift_ppm: i32) {
        *self = Clock::new(self.skew_ms(now), drift_ppm, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_drifting_clock_gains_its_ppm_and_reads_back_to_true_time() {
        let start = Time::from_secs(1_800_000_000);
        let mut c = Clock::new(-59_000, 0, start);
        assert_eq!(c.skew_ms(start), -59_000);
        c.set_drift(start, 100);
        // An hour later a 100 ppm clock has gained 360 ms.
        let later = Time::from_millis(start.as_millis() + 3_600_000);
        assert_eq!(c.skew_ms(later), -59_000 + 360);
        assert_eq!(c.to_true(c.local(later)), later);
    }

    proptest! {
        #[test]
        fn to_true_inverts_local(offset in -100_000_000i64..100_000_000, ppm in -5_000i32..5_000,
                                 since_s in 1_800_000_000u64..1_800_100_000,
                                 at_s in 1_800_000_000u64..1_900_000_000) {
            let c = Clock::new(offset, ppm, Time::from_secs(since_s));
            let t = Time::from_secs(at_s);
            let back = c.to_true(c.local(t));
            // Whole milliseconds both ways: within one, and never reading earlier.
            prop_assert!(back.as_millis().abs_diff(t.as_millis()) <= 1, "{t:?} -> {back:?}");
            prop_assert!(c.local(back) >= c.local(t));
        }
    }
}
