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
    /// The database is busy with another writer (another process holds SQLite's write lock);
    /// nothing was written and the request may be retried.
    #[error("database busy")]
    Busy,
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("unexpected column value: {0}")]
    Decode(String),
    #[error("sqlite: {0}")]
    Sqlite(rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(sqlx::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match e.sqlite_error().map(|e| e.extended_code) {
            Some(ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY) => Self::Unique(e.to_string()),
            Some(ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => Self::ForeignKey,
            Some(code) if code & 0xff == ffi::SQLITE_BUSY || code & 0xff == ffi::SQLITE_LOCKED => Self::Busy,
            // `ON DELETE RESTRICT` reports through SQLite's trigger machinery.
            Some(ffi::SQLITE_CONSTRAINT_TRIGGER) if e.to_string().contains("FOREIGN KEY") => Self::ForeignKey,
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
            _ => Self::Postgres(e),
        }
    }
}
