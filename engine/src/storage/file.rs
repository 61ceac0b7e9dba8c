//! [`FileStorage`]: the real host's lease log, an append-only file.
//!
//! **This is the only file in the engine that does I/O.** The engine itself never calls it: the
//! real-socket host opens the log, hands the records to the engine, and passes the storage in as
//! the engine's [`Storage`] parameter. The simulator uses [`MemStorage`](super::MemStorage).
//!
//! * [`Storage::append`] frames the record into a buffer in user space; nothing reaches the file.
//! * [`Storage::sync`] writes the buffer to the end of the file and calls `fdatasync`
//!   ([`File::sync_data`]); when it returns, every appended record is durable.
//! * [`Storage::rewrite`] writes the new log to `<path>.compact`, syncs it, renames it over
//!   `<path>` and syncs the directory, so that after a crash the log is the old file or the new,
//!   never a mixture. A `<path>.compact` found at open is the leftover of a rewrite that never
//!   reached its rename, and is deleted.
//! * [`FileStorage::open`] creates the log if it is absent, replays it, and cuts a torn tail off
//!   so that the next append starts at a record boundary. A log damaged anywhere else is refused
//!   with an error naming the path and the offset, and the file is not modified.
//!
//! A failed write or sync poisons the storage: after a failed `fsync` the kernel may have dropped
//! the dirty pages while marking them clean, so retrying could report success for data that is
//! not on the disk. Every later call fails, and the host must restart and reload the log.
//!
//! Only one process may use a log at a time; nothing here locks it.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::log::{self, HEADER_LEN};
use super::{Loaded, Storage, StorageError};

/// Bytes a rewrite gathers before each write to the compact file.
const REWRITE_CHUNK_LEN: usize = 64 * 1024;

/// An append-only lease log in a file.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    /// Opened for reading and appending; every write lands at the end of the file.
    file: File,
    /// Bytes in the file: all of them synced, except while a failed sync poisons the storage.
    file_len: u64,
    /// Records appended since the last sync, framed.
    pending: Vec<u8>,
    /// Set by a failed write, sync or rename; see the module documentation.
    poisoned: bool,
}

impl FileStorage {
    /// Opens the log at `path`, creating it if it does not exist, and returns it with the
    /// records in it.
    ///
    /// A torn tail (the unfinished write of a crash) is reported in [`Loaded::torn_tail`] and cut
    /// off the file. A file that is not a dhcpfo log, or a log damaged before its tail, is
    /// [`StorageError::Corrupt`] and is left exactly as it was.
    pub fn open(path: impl AsRef<Path>) -> Result<(FileStorage, Loaded), StorageError> {
        let path = path.as_ref().to_path_buf();
        let mut file = match OpenOptions::new().read(true).append(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Self::create(path).map(|storage| (storage, Loaded::default()));
            }
            Err(e) => return Err(StorageError::io("open", path, &e)),
        };
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| StorageError::io("read", &path, &e))?;
        let replayed = log::replay(&bytes).map_err(|error| StorageError::Corrupt {
            path: Some(path.clone()),
            error,
        })?;
        let loaded = Loaded {
            records: replayed.records.iter().map(|r| r.to_vec()).collect(),
            torn_tail: replayed.torn_tail,
        };
        let valid_len = replayed.valid_len;
        let mut storage = FileStorage {
            file_len: bytes.len() as u64,
            path,
            file,
            pending: Vec::new(),
            poisoned: false,
        };
        if valid_len < HEADER_LEN {
            // Empty, or a header cut short by a crash during creation: start the log afresh.
            storage.truncate(0)?;
            storage.pending.extend_from_slice(&log::header());
            storage.sync()?;
        } else if valid_len < bytes.len() {
            storage.truncate(valid_len as u64)?;
        }
        remove_if_present(&compact_path(&storage.path))?;
        Ok((storage, loaded))
    }

    /// Creates a new log holding only the file header, durably (the file and its directory
    /// entry). A crash part way leaves an empty or short file, which `open` starts afresh.
    fn create(path: PathBuf) -> Result<FileStorage, StorageError> {
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| StorageError::io("create", &path, &e))?;
        let mut storage = FileStorage {
            path,
            file,
            file_len: 0,
            pending: log::header().to_vec(),
            poisoned: false,
        };
        storage.sync()?;
        sync_parent_dir(&storage.path)?;
        remove_if_present(&compact_path(&storage.path))?;
        Ok(storage)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Cuts the file to `len` bytes and makes the cut durable.
    fn truncate(&mut self, len: u64) -> Result<(), StorageError> {
        let result = self.file.set_len(len).and_then(|()| self.file.sync_data());
        if let Err(e) = result {
            self.poisoned = true;
            return Err(StorageError::io("truncate", &self.path, &e));
        }
        self.file_len = len;
        Ok(())
    }

    fn check_poisoned(&self) -> Result<(), StorageError> {
        if self.poisoned {
            return Err(StorageError::Poisoned {
                path: self.path.clone(),
            });
        }
        Ok(())
    }

    /// Writes `records` as a complete log to `compact`, synced. Returns the file, open for
    /// appending, and its length.
    fn write_compact(
        &self,
        compact: &Path,
        records: &mut dyn Iterator<Item = Vec<u8>>,
    ) -> Result<(File, u64), StorageError> {
        // A leftover from an earlier failed rewrite is garbage; create_new then guarantees we
        // write into a file of our own.
        remove_if_present(compact)?;
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(compact)
            .map_err(|e| StorageError::io("create", compact, &e))?;
        let mut chunk = log::header().to_vec();
        let mut written = 0u64;
        let mut flush = |chunk: &mut Vec<u8>, file: &mut File| {
            file.write_all(chunk)
                .map_err(|e| StorageError::io("write", compact, &e))?;
            written += chunk.len() as u64;
            chunk.clear();
            Ok::<(), StorageError>(())
        };
        // One pass over the iterator, which the caller bounds; the chunk stays under
        // REWRITE_CHUNK_LEN plus one record.
        for record in records {
            log::frame(&record, &mut chunk)?;
            if chunk.len() >= REWRITE_CHUNK_LEN {
                flush(&mut chunk, &mut file)?;
            }
        }
        flush(&mut chunk, &mut file)?;
        file.sync_all()
            .map_err(|e| StorageError::io("fsync", compact, &e))?;
        Ok((file, written))
    }
}

impl Storage for FileStorage {
    fn append(&mut self, record: &[u8]) -> Result<(), StorageError> {
        self.check_poisoned()?;
        log::frame(record, &mut self.pending)
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.check_poisoned()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        // Poisoned first, cleared on success: an error part way leaves an unknown number of
        // pending bytes in the file.
        self.poisoned = true;
        self.file
            .write_all(&self.pending)
            .map_err(|e| StorageError::io("append to", &self.path, &e))?;
        self.file
            .sync_data()
            .map_err(|e| StorageError::io("fsync", &self.path, &e))?;
        self.poisoned = false;
        self.file_len += self.pending.len() as u64;
        self.pending.clear();
        Ok(())
    }

    fn rewrite(&mut self, records: &mut dyn Iterator<Item = Vec<u8>>) -> Result<(), StorageError> {
        self.check_poisoned()?;
        let compact = compact_path(&self.path);
        let (file, len) = match self.write_compact(&compact, records) {
            Ok(done) => done,
            Err(e) => {
                // The old log is untouched; the half-written compact file is garbage. Removing
                // it is tidiness only: open and the next rewrite delete it too.
                let _ = fs::remove_file(&compact);
                return Err(e);
            }
        };
        // The commit point. Before the rename the old file is the log; after it, the new one.
        if let Err(e) = fs::rename(&compact, &self.path) {
            let _ = fs::remove_file(&compact);
            return Err(StorageError::io("rename", &compact, &e));
        }
        // From here on the old handle points at an unlinked file: the new one is the log even if
        // the directory sync fails, and such a failure leaves unknown which name is durable.
        self.file = file;
        self.file_len = len;
        self.pending.clear();
        if let Err(e) = sync_parent_dir(&self.path) {
            self.poisoned = true;
            return Err(e);
        }
        Ok(())
    }

    fn len_bytes(&self) -> u64 {
        self.file_len + self.pending.len() as u64
    }
}

/// Where a rewrite writes the new log before renaming it: `<path>.compact`.
fn compact_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".compact");
    PathBuf::from(name)
}

/// Deletes `path`; a file that is not there is fine.
fn remove_if_present(path: &Path) -> Result<(), StorageError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StorageError::io("remove", path, &e)),
    }
}

/// Makes a file's directory entry durable (after a create or a rename), by syncing the
/// directory that holds it. Only Unix can open a directory to sync it.
fn sync_parent_dir(path: &Path) -> Result<(), StorageError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if cfg!(unix) {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StorageError::io("fsync directory", dir, &e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::log::{Damage, TornReason, framed_len};
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A fresh directory under the system's temporary directory, removed when dropped.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("dhcpfo-storage-{}-{test}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn log(&self) -> PathBuf {
            self.0.join("leases.log")
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn records(n: u8) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| (0..usize::from(i) * 3).map(|j| i ^ j as u8).collect())
            .collect()
    }

    fn open(path: &Path) -> (FileStorage, Loaded) {
        FileStorage::open(path).unwrap()
    }

    #[test]
    fn a_new_log_is_created_with_its_header_and_reopens_empty() {
        let dir = TempDir::new("create");
        let (storage, loaded) = open(&dir.log());
        assert_eq!(loaded, Loaded::default());
        assert_eq!(storage.len_bytes(), HEADER_LEN as u64);
        assert_eq!(fs::read(dir.log()).unwrap(), log::header());
        drop(storage);
        assert_eq!(open(&dir.log()).1, Loaded::default());
    }

    #[test]
    fn synced_records_survive_and_unsynced_ones_do_not() {
        let dir = TempDir::new("sync");
        let (mut storage, _) = open(&dir.log());
        let all = records(6);
        for r in &all[..4] {
            storage.append(r).unwrap();
        }
        storage.sync().unwrap();
        for r in &all[4..] {
            storage.append(r).unwrap();
        }
        let expected_len = HEADER_LEN + all.iter().map(|r| framed_len(r.len())).sum::<usize>();
        assert_eq!(storage.len_bytes(), expected_len as u64);
        // A process crash: the user-space buffer is gone.
        drop(storage);
        let (storage, loaded) = open(&dir.log());
        assert_eq!(loaded.records, all[..4]);
        assert_eq!(loaded.torn_tail, None);
        assert_eq!(storage.len_bytes(), fs::metadata(dir.log()).unwrap().len());
    }

    /// Writes `ops` through a FileStorage (true = sync after that record) and returns the
    /// records and the file's bytes.
    fn recorded_log(dir: &TempDir, n: u8, sync_every: u8) -> (Vec<Vec<u8>>, Vec<u8>) {
        let (mut storage, _) = open(&dir.log());
        let all = records(n);
        for (i, r) in all.iter().enumerate() {
            storage.append(r).unwrap();
            if (i as u8 + 1).is_multiple_of(sync_every) {
                storage.sync().unwrap();
            }
        }
        storage.sync().unwrap();
        (all, fs::read(dir.log()).unwrap())
    }

    #[test]
    fn a_torn_write_at_every_byte_loses_nothing_synced() {
        let dir = TempDir::new("torn");
        let (all, full) = recorded_log(&dir, 9, 3);
        // A crash while the batch after any sync point was in flight leaves a prefix of the
        // final file on disk: try every one, from the bare header to the whole file.
        let ends: Vec<usize> = all
            .iter()
            .scan(HEADER_LEN, |end, r| {
                *end += framed_len(r.len());
                Some(*end)
            })
            .collect();
        let log = dir.log();
        for cut in 0..=full.len() {
            fs::write(&log, &full[..cut]).unwrap();
            let (mut storage, loaded) = open(&log);
            let whole = ends.iter().filter(|&&e| e <= cut).count();
            // Records synced at the last sync point at or before the cut are all whole; so is
            // every record of the torn batch that fit.
            assert_eq!(loaded.records, all[..whole], "cut at {cut}");
            let valid = if cut < HEADER_LEN {
                HEADER_LEN
            } else {
                whole.checked_sub(1).map_or(HEADER_LEN, |i| ends[i])
            };
            assert_eq!(
                loaded.torn_tail.is_some(),
                cut != valid && cut != 0,
                "cut at {cut}"
            );
            assert_eq!(
                fs::metadata(&log).unwrap().len(),
                valid as u64,
                "cut at {cut}"
            );
            assert_eq!(storage.len_bytes(), valid as u64, "cut at {cut}");
            // The cut left a record boundary: new records follow the old ones cleanly.
            storage.append(b"after the crash").unwrap();
            storage.sync().unwrap();
            drop(storage);
            let (_, again) = open(&log);
            let mut expected = all[..whole].to_vec();
            expected.push(b"after the crash".to_vec());
            assert_eq!(again.records, expected, "cut at {cut}");
            assert_eq!(again.torn_tail, None, "cut at {cut}");
        }
    }

    #[test]
    fn partial_records_and_zeros_appended_are_cut_as_torn_tails() {
        let dir = TempDir::new("tails");
        let (all, full) = recorded_log(&dir, 5, 1);
        let mut partial = Vec::new();
        log::frame(b"a record that never finished", &mut partial).unwrap();
        let mut bad_crc = partial.clone();
        *bad_crc.last_mut().unwrap() ^= 0xff;
        let tails: [(&[u8], TornReason); 4] = [
            (&partial[..5], TornReason::ShortRecordHeader),
            (&partial[..20], TornReason::ShortPayload { len: 28 }),
            (&bad_crc, TornReason::BadChecksum),
            (&[0; 4096], TornReason::Zeros),
        ];
        for (tail, reason) in tails {
            let mut bytes = full.clone();
            bytes.extend_from_slice(tail);
            fs::write(dir.log(), &bytes).unwrap();
            let (_, loaded) = open(&dir.log());
            assert_eq!(loaded.records, all);
            let torn = loaded.torn_tail.unwrap();
            assert_eq!(
                (torn.offset, torn.len, torn.reason),
                (full.len(), tail.len(), reason)
            );
            assert_eq!(fs::read(dir.log()).unwrap(), full);
        }
    }

    /// Opens a damaged file and checks the error and that the file is byte for byte unchanged.
    fn assert_refused(path: &Path, bytes: &[u8], offset: usize) -> Damage {
        fs::write(path, bytes).unwrap();
        let err = FileStorage::open(path).unwrap_err();
        assert_eq!(fs::read(path).unwrap(), bytes, "the file was modified");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()), "{message}");
        assert!(message.contains(&format!("at byte {offset}")), "{message}");
        match err {
            StorageError::Corrupt {
                path: Some(p),
                error,
            } if p == path && error.offset == offset => error.what,
            other => panic!("unexpected error {other:?}"),
        }
    }

    #[test]
    fn damage_in_the_middle_is_refused_and_the_file_is_left_untouched() {
        let dir = TempDir::new("middle");
        let (all, full) = recorded_log(&dir, 6, 2);
        let second = HEADER_LEN + framed_len(all[0].len());
        // A payload byte of the third record.
        let third = second + framed_len(all[1].len());
        let mut damaged = full.clone();
        damaged[third + 9] ^= 0x01;
        let what = assert_refused(&dir.log(), &damaged, third);
        assert!(matches!(what, Damage::BadChecksum { .. }));
        // A length byte of the second record.
        let mut damaged = full.clone();
        damaged[second] = 0x7f;
        let what = assert_refused(&dir.log(), &damaged, second);
        assert!(matches!(what, Damage::RecordTooLarge { .. }));
        // Garbage whose length field is absurd, appended after good records.
        let mut garbage = full.clone();
        garbage.extend_from_slice(b"\xff\xff\xff\xffgarbage");
        let what = assert_refused(&dir.log(), &garbage, full.len());
        assert!(matches!(what, Damage::RecordTooLarge { .. }));
    }

    #[test]
    fn a_file_of_another_format_is_refused_by_name() {
        let dir = TempDir::new("format");
        let path = dir.log();
        let what = assert_refused(&path, b"lease 10.0.0.1 {\n  starts 4 2024/01/01;\n}\n", 0);
        assert_eq!(what, Damage::NotALog);
        let mut future = log::header().to_vec();
        future[11] = 9;
        let what = assert_refused(&path, &future, 8);
        assert_eq!(what, Damage::UnknownVersion { version: 9 });
    }

    #[test]
    fn a_header_cut_short_at_creation_is_started_afresh() {
        let dir = TempDir::new("short-header");
        for bytes in [&log::header()[..0], &log::header()[..7], &[0u8; 12][..]] {
            fs::write(dir.log(), bytes).unwrap();
            let (mut storage, loaded) = open(&dir.log());
            assert!(loaded.records.is_empty());
            assert_eq!(fs::read(dir.log()).unwrap(), log::header());
            storage.append(b"x").unwrap();
            storage.sync().unwrap();
            drop(storage);
            assert_eq!(open(&dir.log()).1.records, [b"x".to_vec()]);
        }
    }

    #[test]
    fn rewrite_replaces_the_log_and_appends_continue_after_it() {
        let dir = TempDir::new("rewrite");
        let (all, _) = recorded_log(&dir, 7, 2);
        let (mut storage, loaded) = open(&dir.log());
        assert_eq!(loaded.records, all);
        storage.append(b"unsynced, dropped by the rewrite").unwrap();
        let compacted = vec![b"state a".to_vec(), Vec::new(), b"state c".to_vec()];
        storage.rewrite(&mut compacted.clone().into_iter()).unwrap();
        assert!(!compact_path(&dir.log()).exists());
        let on_disk = fs::metadata(dir.log()).unwrap().len();
        assert_eq!(storage.len_bytes(), on_disk);
        // Appends go to the new file, not the unlinked old one.
        storage.append(b"after").unwrap();
        storage.sync().unwrap();
        drop(storage);
        let (_, loaded) = open(&dir.log());
        let mut expected = compacted;
        expected.push(b"after".to_vec());
        assert_eq!(loaded.records, expected);
    }

    #[test]
    fn a_rewrite_that_crashed_before_its_rename_loses_nothing() {
        let dir = TempDir::new("rewrite-crash");
        let (all, full) = recorded_log(&dir, 5, 1);
        let compact = compact_path(&dir.log());
        // Crashed while writing: a partial compact file. Crashed after syncing it but before the
        // rename: a complete one. Either way the old log is still the log.
        let mut complete = log::header().to_vec();
        log::frame(b"compacted state", &mut complete).unwrap();
        for leftover in [&complete[..HEADER_LEN + 5], &complete[..], &b"junk"[..]] {
            fs::write(&compact, leftover).unwrap();
            let (mut storage, loaded) = open(&dir.log());
            assert_eq!(loaded.records, all);
            assert_eq!(fs::read(dir.log()).unwrap(), full);
            assert!(!compact.exists(), "the leftover was not removed");
            // And the next rewrite is not disturbed by it.
            fs::write(&compact, leftover).unwrap();
            storage.rewrite(&mut all.clone().into_iter()).unwrap();
            drop(storage);
            assert_eq!(open(&dir.log()).1.records, all);
        }
    }

    #[test]
    fn a_failed_rewrite_keeps_the_old_log_and_the_pending_appends() {
        let dir = TempDir::new("rewrite-fail");
        let (all, full) = recorded_log(&dir, 4, 1);
        let (mut storage, _) = open(&dir.log());
        storage.append(b"pending").unwrap();
        let too_big = vec![0; log::MAX_RECORD_LEN + 1];
        let err = storage.rewrite(&mut vec![b"a".to_vec(), too_big].into_iter());
        assert!(matches!(err, Err(StorageError::RecordTooLarge { .. })));
        assert_eq!(fs::read(dir.log()).unwrap(), full);
        assert!(!compact_path(&dir.log()).exists());
        storage.sync().unwrap();
        drop(storage);
        let mut expected = all;
        expected.push(b"pending".to_vec());
        assert_eq!(open(&dir.log()).1.records, expected);
    }

    #[test]
    fn a_log_in_a_missing_directory_is_an_io_error_naming_the_path() {
        let dir = TempDir::new("missing");
        let path = dir.0.join("no-such-dir").join("leases.log");
        let err = FileStorage::open(&path).unwrap_err();
        assert!(matches!(
            &err,
            StorageError::Io {
                action: "create",
                kind: io::ErrorKind::NotFound,
                ..
            }
        ));
        assert!(err.to_string().contains("no-such-dir"), "{err}");
    }

    #[test]
    fn compact_path_adds_a_suffix() {
        assert_eq!(
            compact_path(Path::new("/var/lib/dhcpfo/leases.log")),
            Path::new("/var/lib/dhcpfo/leases.log.compact")
        );
    }
}
