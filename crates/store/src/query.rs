//! Dynamic statements, built with sea-query and rendered for the connection's dialect.
//!
//! A statement whose shape depends on its input (a partial update's columns, a scope, list
//! filters) is built with sea-query's `Query` builders, never by formatting SQL text, and
//! rendered by `build` for the dialect at hand: PostgreSQL's `$N` placeholders or SQLite's
//! `?` (which the SQLite path's `$N`→`?N` rewrite leaves alone). Its values come back as our
//! `Value`s, so both drivers bind them exactly as they bind a literal statement's.
//!
//! Lists of ids stay ONE parameter (`Value::IntList`/`TextList`, carried through sea-query as
//! an array value): `Dialect::in_list`, `not_in_list` and `list_rows` are the one place the
//! dialects differ on them.

use crate::{Dialect, Result, StoreError, Value};
use kindling_domain::{AccountId, Timestamp};
use sea_query::{
    ArrayType, Expr, Func, FunctionCall, InsertStatement, IntoColumnRef, PostgresQueryBuilder, Query,
    QueryStatementWriter, SelectStatement, SimpleExpr, SqliteQueryBuilder, UpdateStatement,
};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

mod row_fields;

/// The statement's text for `dialect` and its parameters in order.
pub(crate) fn build(statement: &impl QueryStatementWriter, dialect: Dialect) -> Result<(String, Vec<Value>)> {
    let (sql, values) = match dialect {
        Dialect::Postgres => statement.build(PostgresQueryBuilder),
        Dialect::Sqlite => statement.build(SqliteQueryBuilder),
    };
    let params = values.into_iter().map(Value::try_from).collect::<Result<_>>()?;
    Ok((sql, params))
}

/// Texts of hot statements by shape, per dialect (see `memo`).
type Memo = RwLock<HashMap<(&'static str, &'static str, bool), Arc<str>>>;
static MEMO: OnceLock<Memo> = OnceLock::new();

/// The text of a statement whose shape is fixed by `shape` (the caller's promise: one shape
/// always renders the same text), rendered by sea-query once per dialect and then looked up.
/// Only for the hottest read, `crud::get` by id, where rendering (~2 µs) would cost more
/// than the lookup; the caller binds the parameters in the statement's order, which
/// `crud::tests` checks against `build`.
pub(crate) fn memo(
    shape: (&'static str, &'static str),
    dialect: Dialect,
    render: impl FnOnce() -> SelectStatement,
) -> Arc<str> {
    let key = (shape.0, shape.1, dialect == Dialect::Postgres);
    let memo = MEMO.get_or_init(Memo::default);
    if let Some(sql) = memo.read().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return sql.clone();
    }
    let sql: Arc<str> = match dialect {
        Dialect::Postgres => render().build(PostgresQueryBuilder).0,
        Dialect::Sqlite => render().build(SqliteQueryBuilder).0,
    }
    .into();
    memo.write().unwrap_or_else(|e| e.into_inner()).insert(key, sql.clone());
    sql
}

/// `INSERT INTO table (columns) VALUES (values)`, one row.
pub(crate) fn insert(table: &'static str, values: impl IntoIterator<Item = (&'static str, Value)>) -> InsertStatement {
    let (columns, values): (Vec<_>, Vec<SimpleExpr>) = values.into_iter().map(|(c, v)| (c, v.into())).unzip();
    Query::insert().into_table(table).columns(columns).values_panic(values).to_owned()
}

/// `UPDATE table SET updated_at = <now>, <values>`: every partial update stamps the row.
pub(crate) fn update(table: &'static str, values: impl IntoIterator<Item = (&'static str, Value)>) -> UpdateStatement {
    let mut statement = Query::update();
    statement.table(table).value("updated_at", Timestamp::now().unix());
    for (column, value) in values {
        statement.value(column, value);
    }
    statement
}

/// `SELECT <columns> FROM <table> WHERE account_id = <account> AND <column> IN <list>`, the
/// list one parameter; in the table's id order.
pub(crate) fn select_listed(
    columns: &'static str,
    table: &'static str,
    account: AccountId,
    dialect: Dialect,
    column: &'static str,
    list: impl Into<Value>,
) -> SelectStatement {
    select_in_account(columns, table, account).and_where(dialect.in_list(column, list)).to_owned()
}

/// `SELECT <columns> FROM <table> WHERE account_id = <account>`, in the table's id order.
pub(crate) fn select_in_account(columns: &'static str, table: &'static str, account: AccountId) -> SelectStatement {
    Query::select()
        .expr(Expr::cust(columns))
        .from(table)
        .and_where(in_account(None, account))
        .order_by("id", sea_query::Order::Asc)
        .to_owned()
}

/// `account_id = <account>` (optionally on a table alias): every statement's tenancy.
pub(crate) fn in_account(table: Option<&'static str>, account: AccountId) -> SimpleExpr {
    match table {
        Some(table) => Expr::col((table, "account_id")).eq(account.0),
        None => Expr::col("account_id").eq(account.0),
    }
}

/// `LOWER(column) LIKE LOWER('%needle%')`, the needle's wildcards escaped: a case-insensitive
/// substring match. The database lowers both sides, so they fold alike: PostgreSQL folds all
/// letters, SQLite's `lower` ASCII ones only (lowering the needle in Rust made `CAFÉ` miss
/// `CAFÉ CRÈME` there).
pub(crate) fn contains(column: impl IntoColumnRef, needle: &str) -> SimpleExpr {
    // The searched columns hold at most `MAX_TEXT` characters, so a longer needle matches
    // nothing; and SQLite refuses a LIKE pattern over 50,000 bytes (a 500 before).
    if needle.chars().count() > kindling_domain::input::MAX_TEXT {
        return Expr::cust("1 = 0");
    }
    let escaped = needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    // sea-query's shape of `LIKE pattern ESCAPE c`: the escape is a binary node on the right.
    let pattern = SimpleExpr::Binary(
        Box::new(Func::lower(Expr::val(format!("%{escaped}%"))).into()),
        sea_query::BinOper::Escape,
        Box::new(SimpleExpr::Constant('\\'.into())),
    );
    SimpleExpr::Binary(Box::new(Func::lower(Expr::col(column)).into()), sea_query::BinOper::Like, Box::new(pattern))
}

impl Dialect {
    /// `expr` for `ORDER BY`, compared by its bytes on both stores: SQLite's default (BINARY)
    /// collation, PostgreSQL's "C" (else the database's locale would order it, and the two
    /// stores would list the same rows in different orders).
    pub(crate) fn bytewise(self, expr: &str) -> String {
        match self {
            Self::Postgres => format!("{expr} COLLATE \"C\""),
            Self::Sqlite => expr.to_owned(),
        }
    }

    /// The end of a raw-SQL read that locks its rows until commit, as `crud::locked` does for
    /// sea-query: ` FOR NO KEY UPDATE` (of the tables `of` names, when not empty) on
    /// PostgreSQL; nothing on SQLite, whose single writer needs no row locks.
    pub(crate) fn row_lock(self, of: &str) -> String {
        match (self, of) {
            (Self::Sqlite, _) => String::new(),
            (Self::Postgres, "") => " FOR NO KEY UPDATE".to_owned(),
            (Self::Postgres, tables) => format!(" FOR NO KEY UPDATE OF {tables}"),
        }
    }

    /// The suffix that share-locks the rows a read relies on while other readers may do the
    /// same: PostgreSQL's `FOR KEY SHARE`, which a deletion of the row waits for (and which
    /// waits for one in progress, then reads the row again). SQLite's one writer needs none.
    pub(crate) fn key_share(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR KEY SHARE",
        }
    }

    /// `column` is one of `list` (one `Value::IntList`/`TextList` parameter). PostgreSQL
    /// compares with the array; SQLite reads the JSON array with `json_each`.
    pub(crate) fn in_list(self, column: impl IntoColumnRef, list: impl Into<Value>) -> SimpleExpr {
        let template = match self {
            Self::Postgres => "$1 = ANY($2)",
            Self::Sqlite => "? IN (SELECT value FROM json_each(?))",
        };
        Expr::cust_with_exprs(template, [Expr::col(column).into(), SimpleExpr::from(list.into())])
    }

    /// `column` is none of `list` (see `in_list`).
    pub(crate) fn not_in_list(self, column: impl IntoColumnRef, list: impl Into<Value>) -> SimpleExpr {
        let template = match self {
            Self::Postgres => "$1 <> ALL($2)",
            Self::Sqlite => "? NOT IN (SELECT value FROM json_each(?))",
        };
        Expr::cust_with_exprs(template, [Expr::col(column).into(), SimpleExpr::from(list.into())])
    }

    /// `list` as rows of one column, for `from_function(.., "value")` and `("value", "value")`:
    /// a scalar function aliased `value` names its column `value` on PostgreSQL, and
    /// `json_each` has a `value` column on SQLite.
    pub(crate) fn list_rows(self, list: impl Into<Value>) -> FunctionCall {
        let function = match self {
            Self::Postgres => "unnest",
            Self::Sqlite => "json_each",
        };
        Func::cust(function).arg(SimpleExpr::from(list.into()))
    }
    /// `in_list` for literal SQL: `column` is one of the list bound at `$param`.
    pub(crate) fn in_list_sql(self, column: &str, param: usize) -> String {
        match self {
            Self::Postgres => format!("{column} = ANY(${param})"),
            Self::Sqlite => format!("{column} IN (SELECT value FROM json_each(${param}))"),
        }
    }

    /// `list_rows` for literal SQL: the list bound at `$param` as rows of one column,
    /// `value` (`INSERT ... SELECT $1, value FROM ...`).
    pub(crate) fn list_rows_sql(self, param: usize) -> String {
        match self {
            Self::Postgres => format!("unnest(${param}) AS list(value)"),
            Self::Sqlite => format!("json_each(${param})"),
        }
    }

    /// Many rows as the table `r` of one statement, for multi-row writes (`INSERT ... SELECT
    /// r.a, r.b FROM {from}`): answers that `FROM` item and the statement's parameters, its
    /// own `params` (`$1`..) followed by those that carry the rows. `columns` names the rows'
    /// fields (as serde names them) with their PostgreSQL types.
    /// - PostgreSQL: ONE array parameter per column (`$n::bigint[]`, nulls included), read
    ///   together by `unnest`, so the statement's text is the same whatever the number of
    ///   rows (prepared once, no bind limit). Arrays arrive in the binary protocol; one JSON
    ///   parameter read by `jsonb_to_recordset`, as before, cost PostgreSQL a parse of the
    ///   JSON and a text conversion of every field.
    /// - SQLite: a `VALUES` list, one anonymous parameter (`?`) per field (the fields read
    ///   from the row's `Serialize` by `row_fields`, through JSON only for nested ones); its text is one
    ///   per number of rows, each prepared once and cached. Reading the fields out of one
    ///   JSON parameter instead took SQLite longer than the inserts themselves (each lookup
    ///   walks the array from its start); and SQLite finds a parameter's name by a walk of
    ///   the statement's names, so hundreds of named ones cost more than the binding. An
    ///   anonymous parameter is numbered after those that appear before it, so each of
    ///   `params`' `$N` must appear, before this item (`sqlite::bind` refuses the
    ///   statement otherwise). Rows beyond SQLite's limit of parameters go as one JSON parameter read
    ///   by `json_each`.
    pub(crate) fn rows<T: serde::Serialize>(
        self,
        mut params: Vec<Value>,
        columns: &[(&str, &str)],
        rows: &[T],
    ) -> Result<(String, Vec<Value>)> {
        let first = params.len() + 1;
        let json = || serde_json::to_string(rows).map(Value::from).map_err(|e| StoreError::Unbindable(e.to_string()));
        let from = match self {
            Self::Postgres => {
                let mut values = Vec::with_capacity(rows.len() * columns.len());
                for row in rows {
                    push_row_values(row, columns, &mut values)?;
                }
                let mut arrays = Vec::with_capacity(columns.len());
                for (i, (name, kind)) in columns.iter().enumerate() {
                    let column = values.iter_mut().skip(i).step_by(columns.len()).map(std::mem::take);
                    params.push(column_array(name, kind, column)?);
                    arrays.push(format!("${}::{kind}[]", params.len()));
                }
                let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
                format!("unnest({}) AS r({})", arrays.join(", "), names.join(", "))
            }
            Self::Sqlite if rows.is_empty() => {
                let nulls: Vec<String> = columns.iter().map(|(name, _)| format!("NULL AS {name}")).collect();
                format!("(SELECT {} WHERE FALSE) AS r", nulls.join(", "))
            }
            Self::Sqlite if params.len() + rows.len() * columns.len() > SQLITE_MAX_PARAMETERS => {
                let read: Vec<String> =
                    columns.iter().map(|(name, _)| format!("value ->> '{name}' AS {name}")).collect();
                params.push(json()?);
                format!("(SELECT {} FROM json_each(${first})) AS r", read.join(", "))
            }
            Self::Sqlite => {
                let names: Vec<String> =
                    columns.iter().enumerate().map(|(i, (name, _))| format!("column{} AS {name}", i + 1)).collect();
                params.reserve(rows.len() * columns.len());
                for row in rows {
                    push_row_values(row, columns, &mut params)?;
                }
                let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
                let tuples = vec![tuple.as_str(); rows.len()].join(", ");
                format!("(SELECT {} FROM (VALUES {tuples})) AS r", names.join(", "))
            }
        };
        Ok((from, params))
    }
}

/// Appends `row`'s fields to `out` in the order of `columns`, each as SQLite's `->>` would
/// read it from the row's JSON (a missing field is NULL).
fn push_row_values<T: serde::Serialize>(row: &T, columns: &[(&str, &str)], out: &mut Vec<Value>) -> Result<()> {
    if let Some(mut fields) = row_fields::fields(row) {
        out.extend(columns.iter().map(|(name, _)| {
            fields
                .iter()
                .position(|(field, _)| field == name)
                .map_or(Value::Int(None), |i| std::mem::take(&mut fields[i].1))
        }));
        return Ok(());
    }
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(row).map_err(|e| StoreError::Unbindable(e.to_string()))?
    else {
        return Err(StoreError::Unbindable("a row that is not a struct".into()));
    };
    out.extend(columns.iter().map(|(name, _)| field_value(fields.remove(*name).unwrap_or_default())));
    Ok(())
}

/// One column of `Dialect::rows` as a PostgreSQL array of its declared `kind`. A null of any
/// type is a null; a value of another type is refused (a row struct that does not match
/// its columns), except that numbers and booleans are written as text into a text column.
fn column_array(name: &str, kind: &str, values: impl Iterator<Item = Value>) -> Result<Value> {
    /// Each value as `T` (a null of any type as `None`), or the first that is not, handed back.
    fn typed<T>(
        values: impl Iterator<Item = Value>,
        take: impl Fn(Value) -> std::result::Result<Option<T>, Value>,
    ) -> std::result::Result<Vec<Option<T>>, Value> {
        values
            .map(|value| match value {
                Value::Int(None) | Value::Text(None) | Value::Bool(None) | Value::Float(None) => Ok(None),
                value => take(value),
            })
            .collect()
    }
    let column = match kind {
        "bigint" => {
            typed(values, |value| if let Value::Int(v) = value { Ok(v) } else { Err(value) }).map(Value::IntColumn)
        }
        "text" => typed(values, |value| match value {
            Value::Text(v) => Ok(v),
            Value::Int(v) => Ok(v.map(|n| n.to_string())),
            Value::Bool(v) => Ok(v.map(|b| b.to_string())),
            Value::Float(v) => Ok(v.map(|f| f.to_string())),
            other => Err(other),
        })
        .map(Value::TextColumn),
        "boolean" => {
            typed(values, |value| if let Value::Bool(v) = value { Ok(v) } else { Err(value) }).map(Value::BoolColumn)
        }
        other => return Err(StoreError::Unbindable(format!("column {name}: no array of type {other}"))),
    };
    column.map_err(|value| StoreError::Unbindable(format!("column {name} ({kind}): {value:?}")))
}

/// The most parameters one SQLite statement takes (`SQLITE_MAX_VARIABLE_NUMBER`'s default
/// since SQLite 3.32).
const SQLITE_MAX_PARAMETERS: usize = 32_766;

/// One field of a row for `Dialect::rows`, bound as SQLite's `->>` would read it from JSON:
/// numbers as integers (or reals), a missing field or `null` as NULL, nested values as JSON text.
fn field_value(field: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match field {
        J::Null => Value::Int(None),
        J::Bool(b) => Value::Bool(Some(b)),
        J::Number(n) => n.as_i64().map(Value::from).unwrap_or(Value::Float(n.as_f64())),
        J::String(s) => Value::Text(Some(s)),
        nested @ (J::Array(_) | J::Object(_)) => Value::Text(Some(nested.to_string())),
    }
}

impl Value {
    /// A typed id as a value, where `.into()` would leave the target type open.
    pub(crate) fn from_id(id: impl Into<Value>) -> Self {
        id.into()
    }
}

impl From<Value> for sea_query::Value {
    fn from(value: Value) -> Self {
        use sea_query::Value as V;
        let array = |kind, items: Vec<V>| V::Array(kind, Some(Box::new(items)));
        match value {
            Value::Int(v) => V::BigInt(v),
            Value::Text(v) => V::String(v.map(Box::new)),
            Value::Bool(v) => V::Bool(v),
            Value::Float(v) => V::Double(v),
            Value::IntList(list) => array(ArrayType::BigInt, list.into_iter().map(|v| V::BigInt(Some(v))).collect()),
            Value::TextList(list) => {
                array(ArrayType::String, list.into_iter().map(|v| V::String(Some(Box::new(v)))).collect())
            }
            Value::IntColumn(column) => array(ArrayType::BigInt, column.into_iter().map(V::BigInt).collect()),
            Value::TextColumn(column) => {
                array(ArrayType::String, column.into_iter().map(|v| V::String(v.map(Box::new))).collect())
            }
            Value::BoolColumn(column) => array(ArrayType::Bool, column.into_iter().map(V::Bool).collect()),
        }
    }
}

/// Back from a built statement's values. Everything a statement binds entered as a `Value`
/// or a Rust integer, bool or string, so only those kinds convert; anything else (bytes, a
/// char, an array of another type) is an error rather than a guess.
impl TryFrom<sea_query::Value> for Value {
    type Error = StoreError;

    fn try_from(value: sea_query::Value) -> Result<Self> {
        use sea_query::Value as V;
        let int = |v: Option<i64>| Ok(Value::Int(v));
        match value {
            V::Bool(v) => Ok(Value::Bool(v)),
            V::TinyInt(v) => int(v.map(i64::from)),
            V::SmallInt(v) => int(v.map(i64::from)),
            V::Int(v) => int(v.map(i64::from)),
            V::BigInt(v) => int(v),
            V::TinyUnsigned(v) => int(v.map(i64::from)),
            V::SmallUnsigned(v) => int(v.map(i64::from)),
            V::Unsigned(v) => int(v.map(i64::from)),
            // LIMIT and OFFSET arrive as u64; a page never reaches i64::MAX.
            V::BigUnsigned(v) => int(v.map(|v| i64::try_from(v).unwrap_or(i64::MAX))),
            V::Float(v) => Ok(Value::Float(v.map(f64::from))),
            V::Double(v) => Ok(Value::Float(v)),
            V::String(v) => Ok(Value::Text(v.map(|s| *s))),
            V::Array(ArrayType::BigInt, items) => {
                let items = items.map(|b| *b).unwrap_or_default();
                items
                    .into_iter()
                    .map(|v| match v {
                        V::BigInt(Some(v)) => Ok(v),
                        other => Err(unbindable(&other)),
                    })
                    .collect::<Result<_>>()
                    .map(Value::IntList)
            }
            V::Array(ArrayType::String, items) => {
                let items = items.map(|b| *b).unwrap_or_default();
                items
                    .into_iter()
                    .map(|v| match v {
                        V::String(Some(v)) => Ok(*v),
                        other => Err(unbindable(&other)),
                    })
                    .collect::<Result<_>>()
                    .map(Value::TextList)
            }
            other => Err(unbindable(&other)),
        }
    }
}

fn unbindable(value: &sea_query::Value) -> StoreError {
    StoreError::Unbindable(format!("{value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_query::{Alias, Query};

    fn both(statement: &impl QueryStatementWriter) -> [(String, Vec<Value>); 2] {
        [build(statement, Dialect::Postgres).unwrap(), build(statement, Dialect::Sqlite).unwrap()]
    }

    #[test]
    fn values_convert_both_ways() {
        let values = [
            Value::Int(Some(-7)),
            Value::Int(None),
            Value::Text(Some("a".into())),
            Value::Text(None),
            Value::Bool(Some(true)),
            Value::Bool(None),
            Value::Float(Some(1.5)),
            Value::Float(None),
            Value::IntList(vec![1, 2, 3]),
            Value::IntList(Vec::new()),
            Value::TextList(vec!["x".into()]),
        ];
        for value in values {
            assert_eq!(Value::try_from(sea_query::Value::from(value.clone())).unwrap(), value);
        }
        assert_eq!(Value::try_from(sea_query::Value::Int(Some(3))).unwrap(), Value::Int(Some(3)));
        assert_eq!(Value::try_from(sea_query::Value::BigUnsigned(Some(50))).unwrap(), Value::Int(Some(50)));
        let bytes = sea_query::Value::Bytes(Some(Box::new(vec![1])));
        assert!(matches!(Value::try_from(bytes), Err(StoreError::Unbindable(_))));
    }

    #[test]
    fn each_dialect_gets_its_placeholders_and_the_same_values() {
        let update = Query::update()
            .table(Alias::new("members"))
            .value(Alias::new("name"), Value::from("Ann"))
            .and_where(in_account(None, AccountId(4)))
            .and_where(Expr::col("id").eq(9))
            .to_owned();
        let [(pg, pg_params), (lite, lite_params)] = both(&update);
        assert_eq!(pg, r#"UPDATE "members" SET "name" = $1 WHERE "account_id" = $2 AND "id" = $3"#);
        assert_eq!(lite, r#"UPDATE "members" SET "name" = ? WHERE "account_id" = ? AND "id" = ?"#);
        let expected = vec![Value::from("Ann"), Value::from(4), Value::from(9)];
        assert_eq!((pg_params, lite_params), (expected.clone(), expected));
    }

    #[test]
    fn a_list_is_one_parameter_in_either_dialect() {
        for (dialect, expected) in [
            (Dialect::Postgres, r#"SELECT "id" FROM "offers" WHERE ("id" = ANY($1)) AND ("id" <> ALL($2))"#),
            (
                Dialect::Sqlite,
                r#"SELECT "id" FROM "offers" WHERE ("id" IN (SELECT value FROM json_each(?))) AND ("id" NOT IN (SELECT value FROM json_each(?)))"#,
            ),
        ] {
            let select = Query::select()
                .column("id")
                .from("offers")
                .and_where(dialect.in_list("id", &[1_i64, 2, 3][..]))
                .and_where(dialect.not_in_list("id", &[2_i64][..]))
                .to_owned();
            let (sql, params) = build(&select, dialect).unwrap();
            assert_eq!(sql, expected);
            assert_eq!(params, vec![Value::IntList(vec![1, 2, 3]), Value::IntList(vec![2])]);
        }
    }

    #[test]
    fn list_rows_feed_an_insert() {
        for (dialect, from) in [(Dialect::Postgres, "unnest($3)"), (Dialect::Sqlite, "json_each(?)")] {
            let rows = Query::select()
                .expr(Expr::val(1))
                .expr(Expr::val(2))
                .column(("value", "value"))
                .from_function(dialect.list_rows(&[5_i64][..]), Alias::new("value"))
                .to_owned();
            let (sql, params) = build(&rows, dialect).unwrap();
            assert!(sql.ends_with(&format!(r#"FROM {from} AS "value""#)), "{sql}");
            assert_eq!(params.last(), Some(&Value::IntList(vec![5])));
        }
    }

    #[derive(serde::Serialize)]
    struct TwoColumns<'a> {
        member_id: i64,
        code: Option<&'a str>,
    }
    const TWO_COLUMNS: [(&str, &str); 2] = [("member_id", "bigint"), ("code", "text")];

    /// Reads `rows` back through SQLite as `SELECT member_id, code FROM {from}`, with `$1`
    /// bound to 0 before the rows' parameters (from `$2`).
    fn sqlite_reads(rows: &[TwoColumns<'_>]) -> Vec<(i64, Option<String>)> {
        let (from, params) = Dialect::Sqlite.rows(vec![Value::from(0_i64)], &TWO_COLUMNS, rows).unwrap();
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        struct Read(i64, Option<String>);
        impl crate::FromRow for Read {
            fn from_row(row: &impl crate::Row) -> Result<Self> {
                Ok(Self(row.int("member_id")?, row.opt_text("code")?))
            }
        }
        let sql = format!("SELECT $1 + member_id AS member_id, code FROM {from}");
        let read: Vec<Read> = crate::sqlite::fetch_all(&conn, &sql, &params).unwrap();
        read.into_iter().map(|Read(member, code)| (member, code)).collect()
    }

    #[test]
    fn rows_are_one_array_a_column_on_postgres() {
        let rows = [TwoColumns { member_id: 7, code: Some("A'1") }, TwoColumns { member_id: 8, code: None }];
        let (from, params) = Dialect::Postgres.rows(vec![1.into(), 2.into()], &TWO_COLUMNS, &rows).unwrap();
        let values = &params[2..];
        assert_eq!(from, "unnest($3::bigint[], $4::text[]) AS r(member_id, code)");
        assert_eq!(
            values,
            [Value::IntColumn(vec![Some(7), Some(8)]), Value::TextColumn(vec![Some("A'1".into()), None])]
        );
        let (from, params) = Dialect::Postgres.rows(vec![], &TWO_COLUMNS, &[] as &[TwoColumns<'_>]).unwrap();
        assert_eq!(from, "unnest($1::bigint[], $2::text[]) AS r(member_id, code)");
        assert_eq!(params, [Value::IntColumn(vec![]), Value::TextColumn(vec![])], "no rows is empty arrays");
    }

    /// A column's values take its declared type: numbers and booleans are written as text
    /// into a text column, a null of any kind is a null, and any other mismatch is refused.
    #[test]
    fn postgres_columns_take_their_declared_type() {
        let values = || vec![Value::Int(Some(5)), Value::Bool(Some(true)), Value::Text(None), Value::Int(None)];
        assert_eq!(
            column_array("c", "text", values().into_iter()).unwrap(),
            Value::TextColumn(vec![Some("5".into()), Some("true".into()), None, None])
        );
        let bools = [Value::Bool(Some(false)), Value::Int(None)];
        assert_eq!(
            column_array("c", "boolean", bools.into_iter()).unwrap(),
            Value::BoolColumn(vec![Some(false), None])
        );
        assert!(matches!(column_array("c", "bigint", values().into_iter()), Err(StoreError::Unbindable(_))));
        let text = [Value::Text(Some("7".into()))];
        assert!(matches!(column_array("c", "bigint", text.into_iter()), Err(StoreError::Unbindable(_))));
        assert!(matches!(column_array("c", "jsonb", std::iter::empty()), Err(StoreError::Unbindable(_))));
    }

    #[test]
    fn rows_are_a_values_list_on_sqlite() {
        let rows = [TwoColumns { member_id: 7, code: Some("A'1") }, TwoColumns { member_id: 8, code: None }];
        let (from, params) = Dialect::Sqlite.rows(vec![0.into()], &TWO_COLUMNS, &rows).unwrap();
        let values = &params[1..];
        assert_eq!(from, "(SELECT column1 AS member_id, column2 AS code FROM (VALUES (?, ?), (?, ?))) AS r");
        assert_eq!(values, [Value::from(7_i64), Value::from("A'1"), Value::from(8_i64), Value::Int(None)]);
        // Read back in order, numbers as integers, a quote as itself, null as NULL.
        assert_eq!(sqlite_reads(&rows), [(7, Some("A'1".to_owned())), (8, None)]);
        assert_eq!(sqlite_reads(&[]), [], "no rows is an empty table");
    }

    /// Past SQLite's limit of parameters the rows go as one JSON parameter, read the same.
    #[test]
    fn rows_past_the_parameter_limit_are_json_on_sqlite() {
        let rows: Vec<TwoColumns<'_>> = (0..20_000)
            .map(|n| TwoColumns { member_id: n, code: if n % 2 == 0 { Some("x'y") } else { None } })
            .collect();
        let (from, params) = Dialect::Sqlite.rows(vec![0.into()], &TWO_COLUMNS, &rows).unwrap();
        let values = &params[1..];
        assert!(from.contains("json_each($2)"), "{from}");
        assert_eq!(values.len(), 1);
        let read = sqlite_reads(&rows);
        assert_eq!(read.len(), 20_000);
        assert_eq!(read[0], (0, Some("x'y".to_owned())));
        assert_eq!(read[19_999], (19_999, None));
    }

    #[test]
    fn contains_escapes_wildcards() {
        let select = Query::select().column("id").from("items").and_where(contains("name", "50%_Off")).to_owned();
        let [(pg, pg_params), (lite, _)] = both(&select);
        assert!(pg.contains(r#"LOWER("name") LIKE LOWER($1) ESCAPE"#), "{pg}");
        assert!(lite.contains(r#"LOWER("name") LIKE LOWER(?) ESCAPE"#), "{lite}");
        assert_eq!(pg_params[0], Value::from(r"%50\%\_Off%"), "lowered by the database, not here");
    }
}
