//! The backend-neutral query interface: `Db` for single statements, `Tx` for transactions.

use crate::error::MaybeBusy;
use crate::{postgres, sqlite, Result, StoreError};
use futures_util::future::BoxFuture;
use tokio::sync::OwnedMutexGuard;

/// Times `Db::transaction_retrying` runs a busy transaction again.
const BUSY_RETRIES: usize = 3;

/// A bound query parameter. Nulls keep their type so PostgreSQL can infer the column type.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Float(Option<f64>),
    /// A whole list as ONE parameter, matched with `Dialect::in_list`: a `bigint[]` on
    /// PostgreSQL, a JSON array (text) on SQLite. One parameter keeps a statement's text the
    /// same whatever the list's length, so it is prepared once, and no list meets a bind limit.
    IntList(Vec<i64>),
    TextList(Vec<String>),
    /// One column of many rows, nulls included, as ONE typed array parameter: PostgreSQL's
    /// `unnest` reads the columns of `Dialect::rows` from these (SQLite's rows never use them).
    IntColumn(Vec<Option<i64>>),
    TextColumn(Vec<Option<String>>),
    BoolColumn(Vec<Option<bool>>),
}

/// A null (what a missing field of a row is bound as).
impl Default for Value {
    fn default() -> Self {
        Self::Int(None)
    }
}

impl From<&[i64]> for Value {
    fn from(v: &[i64]) -> Self {
        Self::IntList(v.to_vec())
    }
}
impl From<&[String]> for Value {
    fn from(v: &[String]) -> Self {
        Self::TextList(v.to_vec())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(Some(v))
    }
}
impl From<Option<i64>> for Value {
    fn from(v: Option<i64>) -> Self {
        Self::Int(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(Some(v.to_owned()))
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(Some(v))
    }
}
impl From<Option<String>> for Value {
    fn from(v: Option<String>) -> Self {
        Self::Text(v)
    }
}
impl From<Option<&str>> for Value {
    fn from(v: Option<&str>) -> Self {
        Self::Text(v.map(str::to_owned))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self::Float(Some(v))
    }
}
impl From<Option<f64>> for Value {
    fn from(v: Option<f64>) -> Self {
        Self::Float(v)
    }
}
impl From<Option<bool>> for Value {
    fn from(v: Option<bool>) -> Self {
        Self::Bool(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(Some(v))
    }
}

/// Typed ids bind as their integer, one at a time, optional, or as a whole list, so store
/// signatures can take `MemberId`, `OfferId`, ... and still build `Value`s with `.into()`.
/// (The impls live here, not in the domain, to keep the domain free of store types.)
macro_rules! id_values {
    ($($id:ty),* $(,)?) => {$(
        impl From<$id> for Value {
            fn from(v: $id) -> Self {
                Self::Int(Some(v.0))
            }
        }
        impl From<Option<$id>> for Value {
            fn from(v: Option<$id>) -> Self {
                Self::Int(v.map(|id| id.0))
            }
        }
        impl From<&[$id]> for Value {
            fn from(v: &[$id]) -> Self {
                Self::IntList(v.iter().map(|id| id.0).collect())
            }
        }
    )*};
}

id_values!(
    kindling_domain::AccountId,
    kindling_domain::MemberId,
    kindling_domain::MerchantId,
    kindling_domain::StoreId,
    kindling_domain::StoreListId,
    kindling_domain::ManufacturerId,
    kindling_domain::ItemId,
    kindling_domain::ItemSetId,
    kindling_domain::OfferId,
    kindling_domain::ChannelId,
    kindling_domain::EligibleChannelId,
    kindling_domain::MemberListId,
    kindling_domain::CredentialId,
    kindling_domain::EligibleItemSetId,
    kindling_domain::ImpressionId,
    kindling_domain::CounterId,
    kindling_domain::EventId,
    kindling_domain::PosOfferCodeId,
    kindling_domain::OfferActivityId,
    kindling_domain::ZidentifierId,
    kindling_domain::CheckInId,
    kindling_domain::OfferStateId,
    kindling_domain::PortalUserId,
);

/// Column access by name, implemented for both backends' rows. Reading by name (never by
/// position) means a select list written in another order still decodes the same record,
/// and a column missing from it is a `Decode` error naming the column, not another
/// column's value. Expression columns therefore need an alias (`COUNT(*) AS count`), and
/// joins alias any column whose name another table in the select list shares.
pub trait Row {
    fn int(&self, column: &str) -> Result<i64>;
    fn opt_int(&self, column: &str) -> Result<Option<i64>>;
    fn text(&self, column: &str) -> Result<String>;
    fn opt_text(&self, column: &str) -> Result<Option<String>>;
    fn boolean(&self, column: &str) -> Result<bool>;
    fn opt_float(&self, column: &str) -> Result<Option<f64>>;
    fn opt_boolean(&self, column: &str) -> Result<Option<bool>>;
    /// The name of the row's only column, for scalar queries (`SELECT COUNT(*) ...`); a
    /// row of any other width is a `Decode` error.
    fn sole_column(&self) -> Result<&str>;

    /// A timestamp stored as Unix seconds.
    fn time(&self, column: &str) -> Result<kindling_domain::Timestamp> {
        self.int(column).map(kindling_domain::Timestamp::from_unix)
    }
    fn opt_time(&self, column: &str) -> Result<Option<kindling_domain::Timestamp>> {
        Ok(self.opt_int(column)?.map(kindling_domain::Timestamp::from_unix))
    }
}

/// `Row`'s typed getters for a backend, each reading one column by name through the
/// backend's own generic `get(row, column)`.
macro_rules! row_getters {
    () => {
        $crate::db::row_getters!(
            int -> i64,
            opt_int -> Option<i64>,
            text -> String,
            opt_text -> Option<String>,
            boolean -> bool,
            opt_boolean -> Option<bool>,
            opt_float -> Option<f64>,
        );
    };
    ($($name:ident -> $ty:ty),+ $(,)?) => {
        $(fn $name(&self, column: &str) -> Result<$ty> {
            get(self, column)
        })+
    };
}
pub(crate) use row_getters;

/// Where `column` is among a row's column names. Exactly one must match: a missing name, or
/// one two columns share (say, two joined tables' `id`), is a `Decode` error naming it,
/// since the backends would otherwise resolve a shared name differently (SQLite takes the
/// first, PostgreSQL the last).
pub(crate) fn position<'a>(names: impl Iterator<Item = &'a str>, column: &str) -> Result<usize> {
    let mut found = None;
    for (i, name) in names.enumerate() {
        if name.eq_ignore_ascii_case(column) {
            if found.is_some() {
                return Err(StoreError::Decode(format!("column {column:?} appears twice in the row")));
            }
            found = Some(i);
        }
    }
    found.ok_or_else(|| StoreError::Decode(format!("no column {column:?} in the row")))
}

/// A statement's column names, checked once per execution for a name two columns share, so
/// that a row's reads need not each scan every name (`position` per read was 3 % of the
/// SQLite writer's time under issuance, mostly the credentials' twenty columns). A read
/// tries the names from the one after the column read last, since rows are mostly read in
/// their select list's order.
pub(crate) struct Columns {
    names: Vec<String>,
    /// No name is shared; else every read goes through `position`, which refuses a shared one.
    unique: bool,
}

impl Columns {
    pub(crate) fn new(names: Vec<String>) -> Self {
        let unique = names.iter().enumerate().all(|(i, a)| names[i + 1..].iter().all(|b| !a.eq_ignore_ascii_case(b)));
        Self { names, unique }
    }

    pub(crate) fn names(&self) -> &[String] {
        &self.names
    }

    /// Where `column` is, as `position` answers; `next` is the row's place after its last read.
    pub(crate) fn find(&self, column: &str, next: &std::cell::Cell<usize>) -> Result<usize> {
        let start = next.get();
        let i = match self.names.get(start) {
            // Exact bytes first: a case-folding compare goes byte by byte.
            Some(name) if self.unique && (name == column || name.eq_ignore_ascii_case(column)) => start,
            _ => position(self.names.iter().map(String::as_str), column)?,
        };
        next.set(i + 1);
        Ok(i)
    }
}

/// The error for a row that is not exactly one column wide, read as a scalar.
pub(crate) fn not_scalar(width: usize) -> StoreError {
    StoreError::Decode(format!("expected a single column, the row has {width}"))
}

/// A stored enum (a status): an unknown value is a decode error, never a default, so a
/// corrupt row fails closed instead of reading as, say, a redeemable credential.
pub(crate) fn decode<T>(what: &str, raw: String, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    parse(&raw).ok_or_else(|| StoreError::Decode(format!("{what} {raw:?}")))
}

/// Builds a value from a result row, reading its columns by name.
pub trait FromRow: Sized {
    fn from_row(row: &impl Row) -> Result<Self>;
}

/// A scalar query's one column (`SELECT id ...`, `SELECT COUNT(*) ...`), whatever its name.
impl FromRow for i64 {
    fn from_row(row: &impl Row) -> Result<Self> {
        row.int(row.sole_column()?)
    }
}

impl FromRow for String {
    fn from_row(row: &impl Row) -> Result<Self> {
        row.text(row.sole_column()?)
    }
}

/// The SQL dialect a connection speaks; statements built with sea-query are rendered for it
/// (`query::build`), and its list predicates live there too (`Dialect::in_list`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The first of `slots` that is free, trying them from the next in turn (`next`), or else
/// a wait for that next one: how both backends hand out their read connections.
pub(crate) async fn free_or_next<'a, T: 'a>(
    slots: &'a [impl std::borrow::Borrow<tokio::sync::Mutex<T>>],
    next: &std::sync::atomic::AtomicUsize,
) -> tokio::sync::MutexGuard<'a, T> {
    let n = slots.len();
    let start = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    for i in 0..n {
        if let Ok(guard) = slots[(start + i) % n].borrow().try_lock() {
            return guard;
        }
    }
    slots[start % n].borrow().lock().await
}

/// A snapshot of the connection pool: on PostgreSQL sqlx's pool, on SQLite the writer and
/// the readers (a connection is in use while its lock is held).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub open: usize,
    pub idle: usize,
}

/// A handle to the database; cheap to clone and shared by every request.
#[derive(Clone)]
pub enum Db {
    Sqlite(sqlite::SqliteDb),
    Postgres(postgres::PgDb),
}

impl Db {
    /// Opens `sqlite://PATH` (created if missing), `sqlite::memory:` or `postgres://...`,
    /// then brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::Postgres(postgres::PgDb::connect(url).await?)
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Self::Sqlite(sqlite::SqliteDb::open(path.trim_start_matches("//"))?)
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        crate::migrate::run(&db).await?;
        Ok(db)
    }

    /// The cipher of this database's codes; an error before `migrate::run` has loaded it.
    pub(crate) fn codes(&self) -> Result<&kindling_domain::credentials::code::CodeCipher> {
        loaded(self.codes_handle())
    }

    pub(crate) fn codes_handle(&self) -> &Codes {
        match self {
            Self::Sqlite(db) => &db.codes,
            Self::Postgres(pg) => &pg.codes,
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self {
            Self::Sqlite(_) => Dialect::Sqlite,
            Self::Postgres(_) => Dialect::Postgres,
        }
    }

    /// PostgreSQL's coalesced reads by id (`by_ids.rs`); SQLite has none.
    pub(crate) fn by_ids(&self) -> Option<&crate::by_ids::ByIds> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(pg) => Some(&pg.by_ids),
        }
    }

    /// On PostgreSQL, the reads by id answered in batches so far and the statements they
    /// took (`by_ids.rs`); `None` on SQLite.
    pub fn coalesced_reads(&self) -> Option<(u64, u64)> {
        self.by_ids().map(|reads| reads.counts())
    }

    /// The SQLite read cache (`read_cache.rs`); PostgreSQL has none.
    pub(crate) fn read_cache(&self) -> Option<&crate::read_cache::ReadCache> {
        match self {
            Self::Sqlite(db) => db.read_cache(),
            Self::Postgres(_) => None,
        }
    }

    /// A read that sees every committed write.
    pub async fn fetch_optional<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        match self {
            Self::Sqlite(db) => sqlite::fetch_optional(&*db.reader().await?, sql, params),
            Self::Postgres(pg) => pg.readers.fetch_optional(sql, params).await,
        }
    }

    pub async fn fetch_all<T: FromRow>(&self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        match self {
            Self::Sqlite(db) => sqlite::fetch_all(&*db.reader().await?, sql, params),
            Self::Postgres(pg) => pg.readers.fetch_all(sql, params).await,
        }
    }

    /// One write statement in its own transaction; returns rows affected.
    pub async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        match self {
            Self::Sqlite(db) => {
                let (sql, params) = (sql.to_owned(), params.to_vec());
                db.transaction(move |tx| Box::pin(async move { tx.execute(&sql, &params).await })).await
            }
            Self::Postgres(pg) => postgres::execute(&pg.pool, sql, params).await,
        }
    }

    /// One write statement with `RETURNING`, e.g. an insert that echoes the stored row.
    pub async fn write_returning<T: FromRow + Send + 'static>(&self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        match self {
            Self::Sqlite(db) => {
                let (sql, params) = (sql.to_owned(), params.to_vec());
                db.transaction(move |tx| Box::pin(async move { tx.fetch_optional(&sql, &params).await })).await
            }
            Self::Postgres(pg) => postgres::fetch_optional(&pg.pool, sql, params).await,
        }
    }

    /// One write statement with `RETURNING`, all rows (e.g. claiming a batch of jobs).
    pub async fn write_returning_all<T: FromRow + Send + 'static>(
        &self,
        sql: &str,
        params: &[Value],
    ) -> Result<Vec<T>> {
        match self {
            Self::Sqlite(db) => {
                let (sql, params) = (sql.to_owned(), params.to_vec());
                db.transaction(move |tx| Box::pin(async move { tx.fetch_all(&sql, &params).await })).await
            }
            Self::Postgres(pg) => postgres::fetch_all(&pg.pool, sql, params).await,
        }
    }

    /// Runs `body` in a write transaction: committed when it returns `Ok`, rolled back when
    /// it returns `Err`, and answered only once the commit is durable. This is how every
    /// request writes. On SQLite the body runs on the writer thread, group-committed with the
    /// bodies waiting beside it (each in its own savepoint, so one failing never undoes
    /// another); it must only await the transaction's own statements. On PostgreSQL it runs
    /// on a pooled connection.
    pub async fn transaction<T, E, F>(&self, body: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, std::result::Result<T, E>> + Send + 'static,
    {
        match self {
            Self::Sqlite(db) => db.transaction(body).await,
            Self::Postgres(pg) => match &pg.committer {
                Some(committer) => committer.transaction(body).await,
                None => {
                    let mut tx = Tx::new(
                        Conn::Postgres(Some(pg.pool.begin().await.map_err(StoreError::from)?)),
                        pg.codes.clone(),
                    );
                    let value = body(&mut tx).await?;
                    tx.commit().await?;
                    Ok(value)
                }
            },
        }
    }

    /// `transaction`, run again when PostgreSQL refused it as busy (it broke a deadlock by
    /// failing this transaction, or a serialization conflict): up to `BUSY_RETRIES` more
    /// times, after a short pause, so the caller sees the other transaction's effects instead
    /// of a 503. For writes that can meet in a lock cycle with others (a void giving back to a
    /// limit that another request clears or sets). SQLite's busy (another process held the
    /// write lock past the 5 s timeout) is answered at once.
    pub async fn transaction_retrying<T, E, F>(&self, body: F) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + MaybeBusy + Send + 'static,
        F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, std::result::Result<T, E>> + Clone + Send + 'static,
    {
        let mut retries = 0;
        loop {
            match self.transaction(body.clone()).await {
                Err(e) if e.is_busy() && self.dialect() == Dialect::Postgres && retries < BUSY_RETRIES => {
                    retries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(10 * retries as u64)).await;
                }
                outcome => return outcome,
            }
        }
    }

    /// Receives the size of every group commit (SQLite's writer batches), for `/metrics`.
    pub fn observe_batches(&self, observer: sqlite::BatchObserver) {
        match self {
            Self::Sqlite(db) => db.observe_batches(observer),
            Self::Postgres(pg) => {
                if let Some(committer) = &pg.committer {
                    committer.observe_batches(observer);
                }
            }
        }
    }

    /// Starts an interactive transaction, held across awaits: for migrations, tools and
    /// tests. On SQLite it takes the write lock up front (`BEGIN IMMEDIATE`) outside the
    /// writer thread's batches, which wait meanwhile; request handlers use `transaction`.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(db) => Tx::new(Conn::Sqlite(Some(db.begin_immediate().await?)), db.codes.clone()),
            Self::Postgres(pg) => Tx::new(Conn::Postgres(Some(pg.pool.begin().await?)), pg.codes.clone()),
        })
    }

    /// Starts a read-only transaction: one consistent snapshot for several reads, without
    /// the write lock (on SQLite it runs on a reader connection).
    pub async fn begin_read(&self) -> Result<Tx> {
        Ok(match self {
            Self::Sqlite(db) => {
                let conn = db.reader_owned().await?;
                conn.execute_batch("BEGIN DEFERRED")?;
                Tx::new(Conn::Sqlite(Some(conn)), db.codes.clone())
            }
            Self::Postgres(pg) => {
                let mut tx = pg.pool.begin().await?;
                // Read committed, PostgreSQL's default, would give each statement its own
                // snapshot; a read-only repeatable-read transaction is one snapshot and never
                // fails to serialize.
                sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
                Tx::new(Conn::Postgres(Some(tx)), pg.codes.clone())
            }
        })
    }

    /// Open connections and how many are idle, for `/metrics`.
    pub fn pool_stats(&self) -> PoolStats {
        match self {
            Self::Sqlite(db) => db.pool_stats(),
            Self::Postgres(pg) => PoolStats { open: pg.pool.size() as usize, idle: pg.pool.num_idle() },
        }
    }

    /// Whether the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        self.fetch_optional::<i64>("SELECT CAST(1 AS BIGINT)", &[]).await.map(drop)
    }
}

/// A transaction body's way to answer without keeping its writes: `Answer(v)` rolls the
/// body back and still hands `v` to the caller (say, "that link is refused"), since an
/// `Ok` always commits. `settle` turns the outcome back into a plain `Result`.
#[derive(Debug)]
pub enum Undo<T> {
    Answer(T),
    Store(StoreError),
}

impl<T> From<StoreError> for Undo<T> {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl<T> Undo<T> {
    pub fn settle(outcome: std::result::Result<T, Self>) -> Result<T> {
        match outcome {
            Ok(value) | Err(Self::Answer(value)) => Ok(value),
            Err(Self::Store(e)) => Err(e),
        }
    }
}

/// Something queries can run on: the shared pool (`Reader`) or an open transaction, so one
/// loader serves both a plain read and a read inside a write.
pub trait Exec: Send {
    /// The dialect statements are written for (lists differ, see `Dialect::in_list`).
    fn dialect(&self) -> Dialect;
    /// The cipher of the database's codes.
    fn codes(&self) -> Result<&kindling_domain::credentials::code::CodeCipher>;
    fn fetch_all<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl std::future::Future<Output = Result<Vec<T>>> + Send;
    fn fetch_optional<T: FromRow + Send>(
        &mut self,
        sql: &str,
        params: &[Value],
    ) -> impl std::future::Future<Output = Result<Option<T>>> + Send;
}

/// Reads on the shared pool (SQLite's read-only connections).
pub struct Reader<'a>(pub &'a Db);

impl Exec for Reader<'_> {
    fn dialect(&self) -> Dialect {
        self.0.dialect()
    }
    fn codes(&self) -> Result<&kindling_domain::credentials::code::CodeCipher> {
        self.0.codes()
    }
    async fn fetch_all<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        self.0.fetch_all(sql, params).await
    }
    async fn fetch_optional<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        self.0.fetch_optional(sql, params).await
    }
}

impl Exec for Tx {
    fn dialect(&self) -> Dialect {
        Tx::dialect(self)
    }
    fn codes(&self) -> Result<&kindling_domain::credentials::code::CodeCipher> {
        Tx::codes(self)
    }
    async fn fetch_all<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        Tx::fetch_all(self, sql, params).await
    }
    async fn fetch_optional<T: FromRow + Send>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        Tx::fetch_optional(self, sql, params).await
    }
}

/// An open transaction. Dropping it without `commit` rolls back.
pub struct Tx {
    conn: Conn,
    codes: Codes,
}

/// The cipher of the database's codes (`kindling_domain::credentials::code`), set once the
/// schema is up to date (`codes::load`), shared by every transaction on the database.
pub(crate) type Codes = std::sync::Arc<std::sync::OnceLock<kindling_domain::credentials::code::CodeCipher>>;

fn loaded(codes: &Codes) -> Result<&kindling_domain::credentials::code::CodeCipher> {
    codes.get().ok_or_else(|| StoreError::Closed("codes are read before the schema is up to date".into()))
}

pub(crate) enum Conn {
    Sqlite(Option<OwnedMutexGuard<rusqlite::Connection>>),
    /// One body's share of a group commit on SQLite's writer thread, which owns the
    /// transaction (and its savepoints); the body never commits or rolls back itself.
    SqliteBatch(Option<OwnedMutexGuard<rusqlite::Connection>>),
    Postgres(Option<sqlx::Transaction<'static, sqlx::Postgres>>),
}

impl Tx {
    pub(crate) fn new(conn: Conn, codes: Codes) -> Self {
        Self { conn, codes }
    }

    /// The cipher codes are drawn and read with.
    pub(crate) fn codes(&self) -> Result<&kindling_domain::credentials::code::CodeCipher> {
        loaded(&self.codes)
    }

    pub fn dialect(&self) -> Dialect {
        match &self.conn {
            Conn::Sqlite(_) | Conn::SqliteBatch(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The writer thread's connection inside a batch.
    pub(crate) fn batch_conn(&self) -> &rusqlite::Connection {
        match &self.conn {
            Conn::SqliteBatch(conn) => Self::sqlite(conn),
            _ => unreachable!("batch_conn on a transaction outside a batch"),
        }
    }

    /// Hands the writer thread's connection back at the end of a batch.
    pub(crate) fn take_batch_conn(&mut self) -> OwnedMutexGuard<rusqlite::Connection> {
        match &mut self.conn {
            Conn::SqliteBatch(conn) => conn.take().expect("batch connection taken twice"),
            _ => unreachable!("take_batch_conn on a transaction outside a batch"),
        }
    }

    fn sqlite(conn: &Option<OwnedMutexGuard<rusqlite::Connection>>) -> &rusqlite::Connection {
        conn.as_deref().expect("transaction used after commit")
    }

    fn pg<'a>(tx: &'a mut Option<sqlx::Transaction<'static, sqlx::Postgres>>) -> &'a mut sqlx::PgConnection {
        tx.as_deref_mut().expect("transaction used after commit")
    }

    pub async fn fetch_optional<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Option<T>> {
        match &mut self.conn {
            Conn::Sqlite(conn) | Conn::SqliteBatch(conn) => sqlite::fetch_optional(Self::sqlite(conn), sql, params),
            Conn::Postgres(tx) => postgres::fetch_optional(Self::pg(tx), sql, params).await,
        }
    }

    pub async fn fetch_all<T: FromRow>(&mut self, sql: &str, params: &[Value]) -> Result<Vec<T>> {
        match &mut self.conn {
            Conn::Sqlite(conn) | Conn::SqliteBatch(conn) => sqlite::fetch_all(Self::sqlite(conn), sql, params),
            Conn::Postgres(tx) => postgres::fetch_all(Self::pg(tx), sql, params).await,
        }
    }

    pub async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        match &mut self.conn {
            Conn::Sqlite(conn) | Conn::SqliteBatch(conn) => sqlite::execute(Self::sqlite(conn), sql, params),
            Conn::Postgres(tx) => postgres::execute(Self::pg(tx), sql, params).await,
        }
    }

    /// Runs one statement so that its failure leaves the transaction usable: inside a
    /// SAVEPOINT that is rolled back to on error. Without it a failed statement (say, a
    /// unique violation to retry with another value) aborts the whole transaction on
    /// PostgreSQL; SQLite undoes just the statement, and the same code serves both.
    pub async fn execute_recoverable(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        self.execute("SAVEPOINT recoverable", &[]).await?;
        let outcome = self.execute(sql, params).await;
        if outcome.is_err() {
            self.execute("ROLLBACK TO SAVEPOINT recoverable", &[]).await?;
        }
        self.execute("RELEASE SAVEPOINT recoverable", &[]).await?;
        outcome
    }

    /// Several statements without parameters (schema migrations).
    pub async fn execute_script(&mut self, sql: &str) -> Result<()> {
        match &mut self.conn {
            Conn::Sqlite(conn) | Conn::SqliteBatch(conn) => Ok(Self::sqlite(conn).execute_batch(sql)?),
            Conn::Postgres(tx) => {
                sqlx::raw_sql(sql).execute(Self::pg(tx)).await?;
                Ok(())
            }
        }
    }

    pub async fn commit(mut self) -> Result<()> {
        match &mut self.conn {
            Conn::Sqlite(conn) => {
                let conn = conn.take().expect("transaction committed twice");
                if let Err(e) = conn.execute_batch("COMMIT") {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(e.into());
                }
                Ok(())
            }
            Conn::Postgres(tx) => Ok(tx.take().expect("transaction committed twice").commit().await?),
            Conn::SqliteBatch(_) => unreachable!("a batched body commits by returning Ok"),
        }
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        if let Conn::Sqlite(Some(conn)) = &mut self.conn {
            if !conn.is_autocommit() {
                if let Err(e) = conn.execute_batch("ROLLBACK") {
                    tracing::error!(error = %e, "sqlite rollback failed");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_is_found_by_its_one_name() {
        let names = ["id", "name", "COUNT(*)"];
        assert_eq!(position(names.into_iter(), "name").unwrap(), 1);
        assert_eq!(position(names.into_iter(), "Count(*)").unwrap(), 2, "case-insensitive, as SQL names are");
        assert!(matches!(position(names.into_iter(), "count"), Err(StoreError::Decode(m)) if m.contains("\"count\"")));
        let shared = ["id", "name", "id"];
        assert!(matches!(position(shared.into_iter(), "id"), Err(StoreError::Decode(m)) if m.contains("twice")));
    }

    /// A row's reads find what `position` finds, in any order, from wherever the last read left off.
    #[test]
    fn columns_find_what_position_finds() {
        let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let columns = Columns::new(owned(&["id", "name", "COUNT(*)"]));
        let next = std::cell::Cell::new(0);
        for (column, at) in [("id", 0), ("name", 1), ("Count(*)", 2), ("name", 1), ("id", 0), ("count(*)", 2)] {
            assert_eq!(columns.find(column, &next).unwrap(), at, "{column}");
            assert_eq!(next.get(), at + 1);
        }
        assert!(matches!(columns.find("count", &next), Err(StoreError::Decode(m)) if m.contains("\"count\"")));
        let shared = Columns::new(owned(&["id", "name", "ID"]));
        assert!(matches!(shared.find("id", &next), Err(StoreError::Decode(m)) if m.contains("twice")));
        assert_eq!(shared.find("name", &std::cell::Cell::new(0)).unwrap(), 1);
        let none = Columns::new(Vec::new());
        assert!(none.find("id", &std::cell::Cell::new(5)).is_err());
    }
}
