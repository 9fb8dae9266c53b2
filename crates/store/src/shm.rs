//! The WAL-index header of a SQLite database, read from the `-shm` file mapped into memory:
//! the one place in the server's code that uses `unsafe`. SQLite's own connections map that
//! file and write the header there, so a mapping of ours sees each commit as they do, for
//! the price of 24 loads (both copies of the header). Two things compare it to tell whether
//! anything has been committed since a moment: the read cache (`read_cache.rs`) and the
//! readers' open transactions (`sqlite/readers.rs`). Reading it with `pread` instead cost
//! about 5 % of a cached read's CPU, a system call per request.
//!
//! **The file is opened once per process and never closed.** SQLite locks the `-shm` with
//! POSIX `fcntl` locks, and closing *any* descriptor of a file drops every such lock the
//! process holds on it (https://www.sqlite.org/howtocorrupt.html, 2.2). Dropped, SQLite's
//! "someone has this file open" lock would let the next process to open the database take
//! the file for the first opener and reinitialise it under this one. So the descriptor is
//! kept in a process-wide table for as long as the process runs, one per `-shm` file.
#![allow(unsafe_code)]

use memmap2::{MmapOptions, MmapRaw};
use std::collections::HashMap;
use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};

/// The WAL-index header is two copies of a 48-byte structure, at offsets 0 and 48; the
/// first copy is written last.
pub(crate) const HEADER: usize = 48;

pub(crate) type Version = [u8; HEADER];

/// The header's `mxFrame`: the frames in the WAL (bytes 16 to 20, native byte order).
pub(crate) fn frames(header: &Version) -> u32 {
    u32::from_ne_bytes([header[16], header[17], header[18], header[19]])
}

/// Bytes mapped: both copies of the header, then the checkpoint information's first word,
/// `nBackfill` (https://www.sqlite.org/walformat.html, "The WAL-Index Header").
const MAPPED: usize = 2 * HEADER + 4;

/// The first bytes of the `-shm` file (both copies of the header), mapped read-only.
pub(crate) struct Header {
    map: MmapRaw,
}

/// Every `-shm` file this process has opened, by device and inode: kept open (see above).
/// A file that SQLite deleted and made anew has a new inode and gets an entry of its own.
fn opened() -> &'static Mutex<HashMap<(u64, u64), File>> {
    static OPENED: OnceLock<Mutex<HashMap<(u64, u64), File>>> = OnceLock::new();
    OPENED.get_or_init(Default::default)
}

impl Header {
    /// Maps the `-shm` file of the database at `database` (the full path SQLite itself uses,
    /// `Connection::path`, so a symlinked path names the file SQLite writes), which must
    /// exist and be initialised (a connection in WAL mode has read from it).
    ///
    /// The caller keeps a connection to the database open for as long as it reads: SQLite
    /// truncates the file (which would make a read past its end fault) only when it opens it
    /// with no process holding its shared lock on it, which this process's open connection
    /// does.
    pub(crate) fn open(database: &str) -> std::io::Result<Self> {
        let path = format!("{database}-shm");
        let inode = std::fs::metadata(&path).map(|m| (m.dev(), m.ino()))?;
        let mut opened = opened().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !opened.contains_key(&inode) {
            let file = File::open(&path)?;
            let meta = file.metadata()?;
            let actual = (meta.dev(), meta.ino());
            // Kept whatever it is: deleted and made anew in between, it is another file,
            // kept under its own inode, and this cache is not made.
            opened.insert(actual, file);
            if actual != inode {
                return Err(std::io::Error::other("the -shm file changed while it was opened"));
            }
        }
        let shm = &opened[&inode];
        if shm.metadata()?.len() < MAPPED as u64 {
            return Err(std::io::Error::other("the -shm file is not initialised"));
        }
        // A raw mapping, never turned into a reference: other threads and processes write
        // these bytes while they are mapped, so `&[u8]` over them would be unsound. They are
        // only read through atomic loads, below. The file is at least MAPPED bytes long and
        // keeps that size while the caller's connection is open (see above).
        let map = MmapOptions::new().len(MAPPED).map_raw_read_only(shm)?;
        Ok(Self { map })
    }

    /// The header as it is now, or `None` while its two copies differ. SQLite writes the
    /// second copy, then (after a memory barrier) the first, so copies that differ are a
    /// commit being published, or one that a crashed process left half published (which
    /// the next connection to open a transaction repairs from the WAL): either way the
    /// first copy may be older than what the database now holds, and the caller must treat
    /// `None` as "something changed". A read racing a commit may also be torn within a
    /// copy: it then matches neither the old header nor the new one, or matches the old one
    /// as a read from just before the commit would. Either way no later commit is missed.
    /// The fence after the loads keeps the row read that follows from moving before them.
    pub(crate) fn read(&self) -> Option<Version> {
        let (mut first, mut second) = ([0u8; HEADER], [0u8; HEADER]);
        for (i, chunk) in first.chunks_exact_mut(4).enumerate() {
            chunk.copy_from_slice(&self.load(i).to_ne_bytes());
        }
        for (i, chunk) in second.chunks_exact_mut(4).enumerate() {
            chunk.copy_from_slice(&self.load(HEADER / 4 + i).to_ne_bytes());
        }
        fence(Ordering::Acquire);
        (first == second).then_some(first)
    }

    /// `nBackfill`: how many of the WAL's frames a checkpoint has copied into the database
    /// file. A checkpoint changes it without changing the header.
    pub(crate) fn backfilled(&self) -> u32 {
        self.load(2 * HEADER / 4)
    }

    /// The `word`th 32-bit word of the mapping.
    fn load(&self, word: usize) -> u32 {
        assert!(word < MAPPED / 4, "inside the mapping");
        let base = self.map.as_ptr().cast::<u32>().cast_mut();
        // SAFETY: `base` is page-aligned (an mmap) and MAPPED is a multiple of 4, so each
        // word below MAPPED / 4 (asserted) is aligned and inside the mapping, which lives as
        // long as `self`. The load is `Relaxed`, the ordering std allows on read-only memory,
        // and is never used to write. SQLite's own writes to these bytes are plain C stores,
        // so by Rust's rules this is a race all the same: what makes it correct is what
        // SQLite's readers rely on too, that an aligned 32-bit load is not torn on the targets
        // SQLite runs on, and the torn-header argument above.
        unsafe { AtomicU32::from_ptr(base.add(word)) }.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    /// Two copies that differ (a commit being published, or left half published by a crash)
    /// read as "changing", never as the first copy's older header.
    #[test]
    fn copies_that_differ_read_as_changing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("header.db");
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);").unwrap();
        let header = Header::open(path.to_str().unwrap()).unwrap();
        let before = header.read().expect("both copies alike between commits");
        let shm = std::fs::OpenOptions::new().read(true).write(true).open(format!("{}-shm", path.display())).unwrap();
        // The second copy's change counter (offset 8 in a copy), altered and put back.
        let mut counter = [0u8; 4];
        shm.read_exact_at(&mut counter, (HEADER + 8) as u64).unwrap();
        shm.write_all_at(&[counter[0] ^ 1, counter[1], counter[2], counter[3]], (HEADER + 8) as u64).unwrap();
        assert_eq!(header.read(), None);
        shm.write_all_at(&counter, (HEADER + 8) as u64).unwrap();
        assert_eq!(header.read(), Some(before));
        conn.execute("INSERT INTO t VALUES (2)", []).unwrap();
        let after = header.read().expect("both copies alike between commits");
        assert_ne!(after, before, "a commit changes the header");
        // A checkpoint copies every frame without changing the header.
        assert!(frames(&after) > 0 && header.backfilled() < frames(&after));
        conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)").unwrap();
        assert_eq!((header.read(), header.backfilled()), (Some(after), frames(&after)));
    }
}
