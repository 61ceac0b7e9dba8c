//! The simulator's event queue: events come out in (virtual time, insertion sequence) order
//! (STYLE.md 14), whatever the mix of near and far ones.
//!
//! Most events land a millisecond or two ahead (datagrams, the failover link), while each
//! client holds one timer minutes or an hour ahead. One binary heap over all of them is as deep
//! as there are clients, and every datagram would walk it. So the queue has two parts:
//!
//! * **the wheel**: one bucket per millisecond for the next [`SPAN_MS`] from `horizon` (the
//!   time of the last event taken out), and a bitmap of the buckets that hold something. The
//!   window is exactly as wide as the ring, so a bucket holds events of one time only, and in
//!   the order they were scheduled: a bucket is a FIFO, and taking an event out is O(1) plus a
//!   short bitmap scan.
//! * **the far heap**: everything later, ordered by (time, sequence). When the horizon moves,
//!   the far events that come inside the window move to their buckets, in (time, sequence)
//!   order. A far event always moves before anything can be scheduled directly into its
//!   bucket (that needs the same window), so every bucket stays in sequence order.
//!
//! Nothing can be scheduled before the horizon: the world never schedules in the past.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use dhcpfo_engine::time::Time;

/// How far ahead the wheel reaches, in milliseconds (a power of two).
pub const SPAN_MS: u64 = 1 << 16;
const MASK: u64 = SPAN_MS - 1;
const WORDS: usize = (SPAN_MS / 64) as usize;

/// A queue of `u32` handles (the world's event slots), each due at a time.
pub struct Queue {
    /// The time of the last event taken out; nothing is due before it.
    horizon: u64,
    /// `buckets[t & MASK]` holds the handles due at `t`, for `horizon <= t < horizon + SPAN_MS`.
    buckets: Vec<Vec<u32>>,
    /// How many handles of the horizon's bucket are already taken out.
    taken: usize,
    /// Bit `i` is set when bucket `i` holds a handle not yet taken out.
    occupied: Vec<u64>,
    far: BinaryHeap<Reverse<(u64, u64, u32)>>,
    seq: u64,
    len: usize,
}

impl Queue {
    /// An empty queue whose clock starts at `start`.
    pub fn new(start: Time) -> Queue {
        Queue {
            horizon: start.as_millis(),
            buckets: vec![Vec::new(); SPAN_MS as usize],
            taken: 0,
            occupied: vec![0; WORDS],
            far: BinaryHeap::new(),
            seq: 0,
            len: 0,
        }
    }

    /// How many handles are waiting.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Add a handle due at `at`. A time before the last one taken out is the caller's bug; it
    /// is then due at that last time, after everything already due then.
    pub fn push(&mut self, at: Time, handle: u32) {
        let at = at.as_millis();
        debug_assert!(
            at >= self.horizon,
            "scheduled in the past: {at} < {}",
            self.horizon
        );
        let at = at.max(self.horizon);
        self.len += 1;
        if at < self.horizon + SPAN_MS {
            self.file_in_bucket(at, handle);
        } else {
            self.seq += 1;
            self.far.push(Reverse((at, self.seq, handle)));
        }
    }

    fn file_in_bucket(&mut self, at: u64, handle: u32) {
        let i = (at & MASK) as usize;
        self.buckets[i].push(handle);
        self.occupied[i / 64] |= 1 << (i % 64);
    }

    /// When the next handle is due, without taking it out.
    pub fn peek_time(&self) -> Option<Time> {
        match self.next_bucket() {
            Some(at) => Some(Time::from_millis(at)),
            None => self
                .far
                .peek()
                .map(|&Reverse((at, _, _))| Time::from_millis(at)),
        }
    }

    /// Take out the next handle, with its time.
    pub fn pop(&mut self) -> Option<(Time, u32)> {
        let at = match self.next_bucket() {
            Some(at) => at,
            None => self.far.peek().map(|&Reverse((at, _, _))| at)?,
        };
        if at != self.horizon {
            self.advance(at);
        }
        let i = (at & MASK) as usize;
        let bucket = &mut self.buckets[i];
        let handle = *bucket.get(self.taken)?;
        self.taken += 1;
        if self.taken == bucket.len() {
            bucket.clear();
            self.taken = 0;
            self.occupied[i / 64] &= !(1 << (i % 64));
        }
        self.len -= 1;
        Some((Time::from_millis(at), handle))
    }

    /// Move the horizon to `at` (every bucket before it is empty) and bring in the far handles
    /// that the window now reaches.
    fn advance(&mut self, at: u64) {
        debug_assert_eq!(
            self.taken, 0,
            "the horizon's bucket is drained before it moves"
        );
        self.horizon = at;
        while let Some(&Reverse((t, _, handle))) = self.far.peek() {
            if t >= at + SPAN_MS {
                break;
            }
            self.far.pop();
            self.file_in_bucket(t, handle);
        }
    }

    /// The time of the first occupied bucket at or after the horizon, if the wheel holds any.
    fn next_bucket(&self) -> Option<u64> {
        let start = (self.horizon & MASK) as usize;
        let (word, bit) = (start / 64, start % 64);
        // The horizon's own word from its bit on, the other words in ring order, then the
        // horizon's word before its bit (the end of the window).
        let first = self.occupied[word] & (u64::MAX << bit);
        let found = if first != 0 {
            Some(word * 64 + first.trailing_zeros() as usize)
        } else {
            (1..WORDS)
                .map(|k| (word + k) % WORDS)
                .find(|&w| self.occupied[w] != 0)
                .map(|w| w * 64 + self.occupied[w].trailing_zeros() as usize)
                .or_else(|| {
                    let wrapped = self.occupied[word] & !(u64::MAX << bit);
                    (wrapped != 0).then(|| word * 64 + wrapped.trailing_zeros() as usize)
                })
        }?;
        let distance = (found as u64).wrapping_sub(start as u64) & MASK;
        Some(self.horizon + distance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reference: one heap over (time, sequence).
    #[derive(Default)]
    struct Reference {
        heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
        seq: u64,
    }

    impl Reference {
        fn push(&mut self, at: u64, handle: u32) {
            self.seq += 1;
            self.heap.push(Reverse((at, self.seq, handle)));
        }
        fn pop(&mut self) -> Option<(u64, u32)> {
            self.heap.pop().map(|Reverse((at, _, h))| (at, h))
        }
    }

    #[test]
    fn same_time_comes_out_in_the_order_scheduled_near_or_far() {
        let mut q = Queue::new(Time::from_millis(0));
        let far = SPAN_MS * 3 + 5;
        q.push(Time::from_millis(far), 1);
        q.push(Time::from_millis(7), 2);
        q.push(Time::from_millis(far), 3);
        q.push(Time::from_millis(7), 4);
        assert_eq!(q.pop(), Some((Time::from_millis(7), 2)));
        assert_eq!(q.pop(), Some((Time::from_millis(7), 4)));
        // Now at 7: schedule at `far` again once it is inside the window.
        assert_eq!(q.peek_time(), Some(Time::from_millis(far)));
        assert_eq!(q.pop(), Some((Time::from_millis(far), 1)));
        q.push(Time::from_millis(far), 5);
        assert_eq!(q.pop(), Some((Time::from_millis(far), 3)));
        assert_eq!(q.pop(), Some((Time::from_millis(far), 5)));
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    #[test]
    fn the_window_wraps_around_the_ring() {
        let mut q = Queue::new(Time::from_millis(SPAN_MS - 3));
        q.push(Time::from_millis(SPAN_MS + 2), 1);
        q.push(Time::from_millis(SPAN_MS - 1), 2);
        q.push(Time::from_millis(2 * SPAN_MS - 4), 3);
        assert_eq!(q.pop(), Some((Time::from_millis(SPAN_MS - 1), 2)));
        assert_eq!(q.pop(), Some((Time::from_millis(SPAN_MS + 2), 1)));
        assert_eq!(q.pop(), Some((Time::from_millis(2 * SPAN_MS - 4), 3)));
        assert_eq!(q.len(), 0);
    }

    proptest! {
        /// Any interleaving of pushes (never before the last pop) and pops gives what one heap
        /// over (time, sequence) gives.
        #[test]
        fn equals_a_heap_over_time_and_sequence(
            ops in proptest::collection::vec(
                prop_oneof![
                    3 => (0u64..4).prop_map(|d| (true, d)),
                    3 => (0u64..200_000).prop_map(|d| (true, d)),
                    1 => (0u64..3 * SPAN_MS).prop_map(|d| (true, d)),
                    4 => Just((false, 0)),
                ],
                0..400,
            )
        ) {
            let start = 1_000_000;
            let mut q = Queue::new(Time::from_millis(start));
            let mut r = Reference::default();
            let mut now = start;
            for (i, (push, delay)) in ops.into_iter().enumerate() {
                if push {
                    q.push(Time::from_millis(now + delay), i as u32);
                    r.push(now + delay, i as u32);
                } else {
                    let want = r.pop();
                    prop_assert_eq!(q.peek_time().map(Time::as_millis), want.map(|w| w.0));
                    let got = q.pop().map(|(t, h)| (t.as_millis(), h));
                    prop_assert_eq!(got, want);
                    if let Some((t, _)) = got {
                        now = t;
                    }
                }
                prop_assert_eq!(q.len(), r.heap.len());
            }
            while let Some(want) = r.pop() {
                prop_assert_eq!(q.pop().map(|(t, h)| (t.as_millis(), h)), Some(want));
            }
            prop_assert_eq!(q.pop(), None);
        }
    }
}
