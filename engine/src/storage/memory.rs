//! [`MemStorage`]: the simulator's disk, a log in memory behind a write cache.
//!
//! It holds two byte strings in the [`log`](super::log) format: `synced`, what is on the disk,
//! and `cache`, what was appended since the last sync. [`MemStorage::crash`] decides what of the
//! cache reaches the disk (none, a torn prefix, or everything is lost with the disk itself), and
//! [`MemStorage::load`] then reads what a restarted server would read. Being plain data, it can
//! be cloned with the rest of a node's state and compared or hashed.
//!
//! Invariants: `cache` is only ever whole frames appended after a log that `synced` starts (the
//! file header is written by the first append into an empty log); bytes move from `cache` to
//! `synced` only by [`Storage::sync`] or by a crash; `synced` shrinks only by a load that cuts a
//! torn tail, a rewrite, or the loss of the whole disk.

use std::borrow::Cow;

use super::log::{self, HEADER_LEN};
use super::{Loaded, Storage, StorageError};

/// What a crash does to the writes that were appended but not synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CrashMode {
    /// The cache is lost; the disk holds exactly what was synced.
    LoseUnsynced,
    /// A torn write: the first `bytes` bytes of the cache reached the disk, the rest did not
    /// (`bytes` beyond the cache's length means all of it).
    KeepUnsyncedPrefix {
        /// How many bytes of the cache reached the disk.
        bytes: usize,
    },
    /// The disk itself is lost (replaced, wiped): the server restarts with no log at all.
    LoseEverything,
}

/// Counts of what happened to a [`MemStorage`], for the simulator's reports and checkers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct MemCounters {
    /// Records accepted by `append`.
    pub records_appended: u64,
    /// Calls to `sync`.
    pub syncs: u64,
    /// Bytes moved from the cache to the disk by `sync`.
    pub bytes_synced: u64,
    /// Completed rewrites (compactions).
    pub rewrites: u64,
    /// Crashes.
    pub crashes: u64,
    /// Bytes that crashes took away: unsynced cache bytes that never reached the disk, and with
    /// [`CrashMode::LoseEverything`] the disk's bytes too.
    pub bytes_lost: u64,
}

/// A log in memory: durable bytes, a write cache, and counters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct MemStorage {
    /// What is on the disk.
    synced: Vec<u8>,
    /// What was appended since the last sync, as whole frames.
    cache: Vec<u8>,
    counters: MemCounters,
}

impl MemStorage {
    /// An empty disk with no log on it.
    pub fn new() -> Self {
        MemStorage::default()
    }

    /// A disk holding `bytes`, for tests and for scenarios that start from a given (possibly
    /// damaged) log. Call [`MemStorage::load`] before appending.
    pub fn from_durable_bytes(bytes: Vec<u8>) -> Self {
        MemStorage {
            synced: bytes,
            ..MemStorage::default()
        }
    }

    /// What a restarted server reads: every good record on the disk and in the cache, in order.
    ///
    /// The cache is included because a process that restarts without a crash reads its own
    /// unsynced writes from the page cache; after [`MemStorage::crash`] the cache is empty. A
    /// torn tail is cut off the disk, so that the next append starts at a record boundary. A
    /// damaged log is an error and is left as it is.
    ///
    /// After a crash, load before appending: an append after a torn tail that was not cut would
    /// put good records after damage, and the next load would refuse the log.
    pub fn load(&mut self) -> Result<Loaded, StorageError> {
        let bytes: Cow<'_, [u8]> = if self.cache.is_empty() {
            Cow::Borrowed(&self.synced)
        } else {
            Cow::Owned([self.synced.as_slice(), self.cache.as_slice()].concat())
        };
        let replayed =
            log::replay(&bytes).map_err(|error| StorageError::Corrupt { path: None, error })?;
        let loaded = Loaded {
            records: replayed.records.iter().map(|r| r.to_vec()).collect(),
            torn_tail: replayed.torn_tail,
        };
        let valid_len = replayed.valid_len;
        drop(bytes);
        if valid_len < HEADER_LEN {
            // Not even the header is whole: start over from an empty disk.
            self.synced.clear();
            self.cache.clear();
        } else if let Some(in_cache) = valid_len.checked_sub(self.synced.len()) {
            self.cache.truncate(in_cache);
        } else {
            self.synced.truncate(valid_len);
            self.cache.clear();
        }
        Ok(loaded)
    }

    /// The machine crashes: `mode` says what of the cache reaches the disk. The cache is empty
    /// afterwards; call [`MemStorage::load`] to restart.
    pub fn crash(&mut self, mode: CrashMode) {
        let kept = match mode {
            CrashMode::LoseUnsynced => 0,
            CrashMode::KeepUnsyncedPrefix { bytes } => bytes.min(self.cache.len()),
            CrashMode::LoseEverything => {
                self.counters.bytes_lost += self.synced.len() as u64;
                self.synced.clear();
                0
            }
        };
        self.synced
            .extend_from_slice(self.cache.get(..kept).unwrap_or_default());
        self.counters.bytes_lost += (self.cache.len() - kept) as u64;
        self.counters.crashes += 1;
        self.cache.clear();
    }

    /// The bytes on the disk.
    pub fn durable_bytes(&self) -> &[u8] {
        &self.synced
    }

    /// The bytes appended since the last sync (a crash may keep any prefix of them).
    pub fn cached_bytes(&self) -> &[u8] {
        &self.cache
    }

    /// What has happened so far.
    pub fn counters(&self) -> MemCounters {
        self.counters
    }

    /// Writes the file header into the cache if the log has not been started.
    fn start_if_empty(&mut self) {
        if self.synced.is_empty() && self.cache.is_empty() {
            self.cache.extend_from_slice(&log::header());
        }
    }
}

impl Storage for MemStorage {
    fn append(&mut self, record: &[u8]) -> Result<(), StorageError> {
        if record.len() > log::MAX_RECORD_LEN {
            return Err(StorageError::RecordTooLarge { len: record.len() });
        }
        self.start_if_empty();
        log::frame(record, &mut self.cache)?;
        self.counters.records_appended += 1;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.counters.syncs += 1;
        self.counters.bytes_synced += self.cache.len() as u64;
        self.synced.append(&mut self.cache);
        Ok(())
    }

    fn rewrite(&mut self, records: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), StorageError> {
        let mut fresh = log::header().to_vec();
        for record in records {
            log::frame(&record, &mut fresh)?;
        }
        // Replacing the disk's bytes in one step is what makes this atomic: a crash lands either
        // before this line or after it.
        self.synced = fresh;
        self.cache.clear();
        self.counters.rewrites += 1;
        Ok(())
    }

    fn len_bytes(&self) -> u64 {
        (self.synced.len() + self.cache.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::log::{TornReason, framed_len};

    /// One step of a recorded storage session.
    #[derive(Debug, Clone)]
    enum Op {
        Append(Vec<u8>),
        Sync,
    }

    /// A session with syncs sprinkled between appends of records of assorted sizes, including
    /// an empty record and one that looks like a record header.
    fn session() -> Vec<Op> {
        let record = |i: u8, len: usize| Op::Append((0..len).map(|j| i ^ j as u8).collect());
        vec![
            record(1, 5),
            Op::Sync,
            record(2, 0),
            record(3, 17),
            Op::Sync,
            Op::Sync,
            Op::Append(vec![0, 0, 0, 4, 0, 0, 0, 0]),
            record(5, 1),
            record(6, 40),
            Op::Sync,
            record(7, 3),
            record(8, 9),
        ]
    }

    /// Applies `ops`, returning the storage and, as the model, the records synced and the
    /// records appended after the last sync.
    fn run(ops: &[Op]) -> (MemStorage, Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut storage = MemStorage::new();
        let (mut synced, mut unsynced) = (Vec::new(), Vec::new());
        for op in ops {
            match op {
                Op::Append(r) => {
                    storage.append(r).unwrap();
                    unsynced.push(r.clone());
                }
                Op::Sync => {
                    storage.sync().unwrap();
                    synced.append(&mut unsynced);
                }
            }
        }
        (storage, synced, unsynced)
    }

    /// Every crash mode worth trying on `storage`: every torn prefix of its cache included.
    fn crash_modes(storage: &MemStorage) -> Vec<CrashMode> {
        let mut modes = vec![CrashMode::LoseUnsynced, CrashMode::LoseEverything];
        modes.extend(
            (0..=storage.cached_bytes().len() + 1)
                .map(|bytes| CrashMode::KeepUnsyncedPrefix { bytes }),
        );
        modes
    }

    #[test]
    fn a_crash_at_every_point_of_a_session_loses_nothing_synced() {
        let ops = session();
        let mut checked = 0;
        for prefix in 0..=ops.len() {
            let (storage, synced, unsynced) = run(&ops[..prefix]);
            for mode in crash_modes(&storage) {
                let mut crashed = storage.clone();
                crashed.crash(mode);
                assert!(crashed.cached_bytes().is_empty());
                let loaded = crashed.load().unwrap();
                let context = format!("after {prefix} ops, {mode:?}");
                if mode == CrashMode::LoseEverything {
                    assert!(loaded.records.is_empty(), "{context}");
                    assert_eq!(crashed.len_bytes(), 0, "{context}");
                    continue;
                }
                // Every synced record, in order, byte for byte; then whole unsynced ones only.
                let (before, after) = loaded
                    .records
                    .split_at(synced.len().min(loaded.records.len()));
                assert_eq!(before, synced, "{context}");
                assert!(after.len() <= unsynced.len(), "{context}");
                assert_eq!(after, &unsynced[..after.len()], "{context}");
                if mode == CrashMode::LoseUnsynced {
                    assert!(after.is_empty(), "{context}");
                    assert_eq!(loaded.torn_tail, None, "{context}");
                }
                if let CrashMode::KeepUnsyncedPrefix { bytes } = mode {
                    // Exactly the unsynced records whose frames fit in the kept bytes.
                    let header = if synced.is_empty() { HEADER_LEN } else { 0 };
                    let mut end = header;
                    let fitting = unsynced
                        .iter()
                        .take_while(|r| {
                            end += framed_len(r.len());
                            end <= bytes
                        })
                        .count();
                    assert_eq!(after.len(), fitting, "{context}");
                }
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} crashes checked");
    }

    #[test]
    fn after_a_crash_and_load_new_appends_start_at_a_record_boundary() {
        let ops = session();
        for prefix in 0..=ops.len() {
            let (storage, ..) = run(&ops[..prefix]);
            for mode in crash_modes(&storage) {
                let mut crashed = storage.clone();
                crashed.crash(mode);
                let first = crashed.load().unwrap().records;
                // A second restart after more work sees the first load's records and the new
                // ones: the torn tail was cut, not left in the middle of the log.
                crashed.append(b"after restart").unwrap();
                crashed.sync().unwrap();
                crashed.crash(CrashMode::LoseUnsynced);
                let second = crashed.load().unwrap();
                let mut expected = first.clone();
                expected.push(b"after restart".to_vec());
                assert_eq!(second.records, expected, "after {prefix} ops, {mode:?}");
                assert_eq!(second.torn_tail, None);
            }
        }
    }

    #[test]
    fn a_torn_write_is_reported_and_cut() {
        let mut storage = MemStorage::new();
        storage.append(b"kept").unwrap();
        storage.sync().unwrap();
        let synced_len = storage.len_bytes();
        storage.append(b"torn in half").unwrap();
        storage.crash(CrashMode::KeepUnsyncedPrefix { bytes: 10 });
        let loaded = storage.load().unwrap();
        assert_eq!(loaded.records, [b"kept".to_vec()]);
        let torn = loaded.torn_tail.unwrap();
        assert_eq!((torn.offset as u64, torn.len), (synced_len, 10));
        assert_eq!(torn.reason, TornReason::ShortPayload { len: 12 });
        assert_eq!(storage.len_bytes(), synced_len);
    }

    #[test]
    fn a_restart_without_a_crash_reads_unsynced_writes() {
        let mut storage = MemStorage::new();
        storage.append(b"one").unwrap();
        storage.sync().unwrap();
        storage.append(b"two").unwrap();
        let loaded = storage.load().unwrap();
        assert_eq!(loaded.records, [b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(storage.cached_bytes().len(), framed_len(3));
    }

    #[test]
    fn a_damaged_disk_is_refused_and_left_as_it_was() {
        let (mut storage, ..) = run(&session());
        storage.sync().unwrap();
        let mut bytes = storage.durable_bytes().to_vec();
        bytes[HEADER_LEN + 9] ^= 0x10;
        let mut damaged = MemStorage::from_durable_bytes(bytes.clone());
        let before = damaged.clone();
        let err = damaged.load().unwrap_err();
        assert!(matches!(
            err,
            StorageError::Corrupt {
                path: None,
                error: log::CorruptLog {
                    offset: HEADER_LEN,
                    ..
                }
            }
        ));
        assert_eq!(damaged, before);
    }

    #[test]
    fn rewrite_replaces_the_log_durably_and_drops_the_cache() {
        let (mut storage, ..) = run(&session());
        let new = vec![b"compacted a".to_vec(), Vec::new(), b"compacted c".to_vec()];
        storage.rewrite(&mut new.clone().into_iter()).unwrap();
        assert!(storage.cached_bytes().is_empty());
        // Durable at once: a crash straight after keeps it.
        let mut crashed = storage.clone();
        crashed.crash(CrashMode::LoseUnsynced);
        assert_eq!(crashed.load().unwrap().records, new);
        // And the log goes on from there.
        storage.append(b"later").unwrap();
        storage.sync().unwrap();
        storage.crash(CrashMode::LoseUnsynced);
        let mut expected = new.clone();
        expected.push(b"later".to_vec());
        assert_eq!(storage.load().unwrap().records, expected);
        assert_eq!(storage.counters().rewrites, 1);
    }

    #[test]
    fn a_failed_rewrite_leaves_the_old_log_and_cache() {
        let (mut storage, ..) = run(&session());
        let before = storage.clone();
        let too_big = vec![0u8; log::MAX_RECORD_LEN + 1];
        let err = storage.rewrite(&mut vec![b"ok".to_vec(), too_big].into_iter());
        assert_eq!(
            err,
            Err(StorageError::RecordTooLarge {
                len: log::MAX_RECORD_LEN + 1
            })
        );
        assert_eq!(storage, before);
    }

    #[test]
    fn an_oversized_append_is_refused_without_touching_the_log() {
        let mut storage = MemStorage::new();
        let err = storage.append(&vec![1; log::MAX_RECORD_LEN + 1]);
        assert!(matches!(err, Err(StorageError::RecordTooLarge { .. })));
        assert_eq!(storage, MemStorage::new());
    }

    #[test]
    fn counters_and_length_follow_the_session() {
        let mut storage = MemStorage::new();
        assert_eq!(storage.len_bytes(), 0);
        storage.append(b"abc").unwrap();
        assert_eq!(storage.len_bytes(), (HEADER_LEN + framed_len(3)) as u64);
        storage.sync().unwrap();
        storage.append(b"de").unwrap();
        storage.crash(CrashMode::KeepUnsyncedPrefix { bytes: 4 });
        let c = storage.counters();
        assert_eq!((c.records_appended, c.syncs, c.crashes), (2, 1, 1));
        assert_eq!(c.bytes_synced, (HEADER_LEN + framed_len(3)) as u64);
        assert_eq!(c.bytes_lost, (framed_len(2) - 4) as u64);
        storage.crash(CrashMode::LoseEverything);
        assert_eq!(
            storage.counters().bytes_lost,
            (c.bytes_lost + c.bytes_synced + 4)
        );
        assert_eq!(
            storage,
            MemStorage {
                counters: storage.counters(),
                ..MemStorage::new()
            }
        );
    }

    fn op_strategy() -> impl proptest::strategy::Strategy<Value = Op> {
        use proptest::prelude::*;
        prop_oneof![
            3 => prop::collection::vec(any::<u8>(), 0..40).prop_map(Op::Append),
            1 => Just(Op::Sync),
        ]
    }

    proptest::proptest! {
        #[test]
        fn random_sessions_and_crashes_lose_nothing_synced(
            ops in proptest::collection::vec(op_strategy(), 0..30),
            mode in 0u8..3,
            kept in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let (storage, synced, unsynced) = run(&ops);
            let mode = match mode {
                0 => CrashMode::LoseUnsynced,
                1 => CrashMode::KeepUnsyncedPrefix {
                    bytes: kept.index(storage.cached_bytes().len() + 1),
                },
                _ => CrashMode::LoseEverything,
            };
            let mut crashed = storage.clone();
            crashed.crash(mode);
            let loaded = crashed.load().unwrap();
            if mode == CrashMode::LoseEverything {
                proptest::prop_assert!(loaded.records.is_empty());
            } else {
                proptest::prop_assert!(loaded.records.len() >= synced.len());
                let (before, after) = loaded.records.split_at(synced.len());
                proptest::prop_assert_eq!(before, &synced[..]);
                proptest::prop_assert_eq!(after, &unsynced[..after.len()]);
            }
        }
    }
}
