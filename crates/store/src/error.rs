use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique index refused the write (e.g. a member identifier already taken); the detail
    /// names the index or its columns.
    #[error("unique constraint violated: {0}")]
    Unique(String),
    /// A foreign key refused the write (a referenced row is missing or still referenced).
    #[error("foreign key constraint violated")]
    ForeignKey,
    /// Another writer held the lock for longer than we wait (SQLite's busy timeout), or
    /// PostgreSQL gave up on a lock or serialization (deadlock, lock timeout). Nothing was
    /// written; the same request may succeed when retried.
    #[error("database busy: {0}")]
    Busy(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("unexpected column value: {0}")]
    Decode(String),
    /// The store cannot take the request: the SQLite writer thread stopped, a commit
    /// failed, or a write body broke the rules of a batch.
    #[error("store unavailable: {0}")]
    Closed(String),
    /// A built statement carried a value neither driver binds (a bug in the statement).
    #[error("statement value cannot be bound: {0}")]
    Unbindable(String),
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(sqlx::Error),
}

/// An error that may be the store's `Busy`: the transaction was refused for a lock or a
/// serialization conflict, wrote nothing, and may succeed when run again
/// (`Db::transaction_retrying`).
pub trait MaybeBusy {
    fn is_busy(&self) -> bool;
}

impl MaybeBusy for StoreError {
    fn is_busy(&self) -> bool {
        matches!(self, Self::Busy(_))
    }
}

impl StoreError {
    /// The same error again, for each of the several callers a batch answers (`StoreError`
    /// is not `Clone`): busy stays busy, anything else is reported as its text.
    pub(crate) fn again(&self) -> Self {
        match self {
            Self::Busy(detail) => Self::Busy(detail.clone()),
            other => Self::Closed(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match e.sqlite_error().map(|e| e.extended_code) {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => Self::Unique(e.to_string()),
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => Self::ForeignKey,
            // `ON DELETE RESTRICT` reports through SQLite's trigger machinery.
            Some(ffi::SQLITE_CONSTRAINT_TRIGGER) if e.to_string().contains("FOREIGN KEY") => Self::ForeignKey,
            // Extended codes such as SQLITE_BUSY_SNAPSHOT share the primary code's low byte.
            Some(code) if matches!(code & 0xff, ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED) => Self::Busy(e.to_string()),
            _ => Self::Sqlite(e),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        let database = e.as_database_error();
        match database.and_then(|d| d.code()).as_deref() {
            Some("23505") => Self::Unique(database.and_then(|d| d.constraint()).unwrap_or_default().to_owned()),
            Some("23503") => Self::ForeignKey,
            // serialization_failure, deadlock_detected, lock_not_available (lock_timeout).
            Some("40001" | "40P01" | "55P03") => Self::Busy(e.to_string()),
            _ => Self::Postgres(e),
        }
    }
}
