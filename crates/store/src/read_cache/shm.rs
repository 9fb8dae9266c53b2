//! The WAL-index header of a SQLite database, read from the `-shm` file mapped into memory:
//! the one place in Kindling that uses `unsafe`. SQLite's own connections map that file and
//! write the header there, so a mapping of ours sees each commit as they do, for the price
//! of twelve loads. Reading it with `pread` instead cost about 5 % of a cached read's CPU,
//! a system call per request.
#![allow(unsafe_code)]

use memmap2::{Mmap, MmapOptions};
use std::fs::File;
use std::sync::atomic::{AtomicU32, Ordering};

/// The WAL-index header is two copies of a 48-byte structure; the first copy is written last.
pub(super) const HEADER: usize = 48;

pub(super) type Version = [u8; HEADER];

/// The first bytes of the `-shm` file, mapped read-only.
pub(super) struct Header {
    map: Mmap,
}

impl Header {
    /// Maps `database`'s `-shm` file, which must exist and be initialised (a connection in
    /// WAL mode has read from it).
    ///
    /// The caller keeps a connection to the database open for as long as it reads: SQLite
    /// truncates the file (which would make a read past its end fault) only when it opens it
    /// with no other connection of any process holding it open.
    pub(super) fn open(database: &str) -> std::io::Result<Self> {
        let shm = File::open(format!("{database}-shm"))?;
        if shm.metadata()?.len() < HEADER as u64 {
            return Err(std::io::Error::other("the -shm file is not initialised"));
        }
        // SAFETY: the mapping is read-only and never exposed as a slice (other processes
        // write the bytes while it is mapped, so `&[u8]` over them would be unsound); it is
        // only read through atomic loads, below. The file is at least HEADER bytes and keeps
        // that size while the caller's connection is open (see above).
        let map = unsafe { MmapOptions::new().len(HEADER).map(&shm)? };
        Ok(Self { map })
    }

    /// The header as it is now. SQLite writes each copy with plain stores and a memory
    /// barrier between them, so a read racing a commit may be torn: it then matches neither
    /// the old header nor the new one, or matches the old one as a read from just before the
    /// commit would. Either way no later commit is missed. The loads are `Acquire`, so the
    /// row read that follows is not moved before them.
    pub(super) fn read(&self) -> Version {
        let base = self.map.as_ptr().cast::<u32>().cast_mut();
        let mut header = [0u8; HEADER];
        for (i, chunk) in header.chunks_exact_mut(4).enumerate() {
            // SAFETY: `base` is page-aligned (an mmap) and HEADER is a multiple of 4, so each
            // word is aligned and inside the mapping, which lives as long as `self`. Memory
            // that other threads or processes write concurrently may only be read atomically;
            // a 32-bit atomic load is a plain load on every target, so read-only pages do.
            let word = unsafe { AtomicU32::from_ptr(base.add(i)) }.load(Ordering::Acquire);
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        header
    }
}
