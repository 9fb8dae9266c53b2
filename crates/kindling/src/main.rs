//! `kindling`: the promotions and rewards server and its admin commands.

// Unsafe code lives only in store::shm; here it cannot be allowed.
#![forbid(unsafe_code)]

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use kindling_api::{AppConfig, AppState};
use kindling_domain::portal::Role;
use kindling_domain::{AccountId, StoreId};
use kindling_store::portal::CreateError;
use kindling_store::{accounts, Db};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;

mod demo;
mod import;
mod log_format;
mod log_writer;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: requests allocate many small, short-lived
/// objects, which glibc's malloc served slowly under load (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "kindling", version, about = "Promotions and rewards platform speaking the Sparkfly Platform API")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP API server.
    Serve(ServeArgs),
    /// Manage accounts (tenants).
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Manage Admin Portal users (docs/PORTAL.md).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Bulk-load a file: stores and items from CSV (header row, one record per line; all rows
    /// or none), members from CSV or JSON Lines (streamed, batched).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Start on a fresh SQLite file with a demo account, and print how to call it.
    Demo {
        #[arg(long, env = "KINDLING_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// The demo database, deleted and recreated at start.
        #[arg(long, default_value = "kindling-demo.db")]
        database_file: String,
    },
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[arg(long, env = "KINDLING_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// `sqlite://PATH` (default) or `postgres://USER@HOST/DB`.
    #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
    database_url: String,
    /// Also create a demo account at start and print its credentials.
    #[arg(long)]
    demo: bool,
    /// Also serve the landing pages (`/{xid}`, without the API) on this address, e.g. a
    /// public interface while `--listen` stays private. They are on `--listen` as well.
    #[arg(long, env = "KINDLING_LANDING_LISTEN")]
    landing_listen: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Stores of one merchant. Columns: name (required), description, is_active, number, phone,
    /// site_id, icon_url, address, address2, city, state, zip, country, lat, lng,
    /// primary_name/phone/email, secondary_name/phone/email.
    Stores {
        file: PathBuf,
        #[arg(long)]
        merchant: i64,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
    /// Items (columns: name, code) of an account, a merchant or a manufacturer.
    Items {
        file: PathBuf,
        #[arg(long, required_unless_present_any = ["merchant", "manufacturer"], conflicts_with_all = ["merchant", "manufacturer"])]
        account: Option<i64>,
        #[arg(long, conflicts_with = "manufacturer")]
        merchant: Option<i64>,
        #[arg(long)]
        manufacturer: Option<i64>,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
    /// Members of an account, streamed in batches (millions are fine). CSV columns:
    /// identifier (required), notification_mode; or JSON Lines (`.jsonl`):
    /// {"identifier": ..., "notification_mode": ...} per line. Every row is checked before any
    /// is written; identifiers the account already has are skipped, so a rerun completes an
    /// interrupted import. Prints {"imported", "skipped", "kind"}.
    Members {
        file: PathBuf,
        #[arg(long)]
        account: i64,
        /// Default: JSON Lines for .jsonl/.ndjson files, else CSV.
        #[arg(long, value_enum)]
        format: Option<import::Format>,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
}

impl ImportCommand {
    fn database_url(&self) -> &str {
        match self {
            Self::Stores { database_url, .. }
            | Self::Items { database_url, .. }
            | Self::Members { database_url, .. } => database_url,
        }
    }
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user who signs in to the Admin Portal at /admin. Prints one JSON line with
    /// the user's id and, unless --password-stdin was given, a one-time random password:
    /// that is the user's password (shown only here, stored only as an Argon2id hash), so
    /// hand it to them safely.
    Create {
        #[arg(long)]
        account: i64,
        /// Their sign-in email, unique across all accounts (compared trimmed, in lower case).
        #[arg(long)]
        email: String,
        /// owner, editor, viewer, or store_operator (looks up codes and redeems them at
        /// their --store stores only).
        #[arg(long, value_parser = ["owner", "editor", "viewer", "store_operator"])]
        role: String,
        /// A store of the account a store_operator works at; repeat for several.
        #[arg(long = "store")]
        stores: Vec<i64>,
        /// Read the password from standard input (one line, at least 12 characters) instead
        /// of making one up.
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create an account; prints one JSON line with its identity and API key.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
    /// Replace the account's API key; prints one JSON line like `create`. The old key and
    /// every token issued so far stop working at once, in every server process.
    RotateKey {
        #[arg(long)]
        account: i64,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
    /// Keep members this many days after a deletion request before anonymizing them (7 to
    /// 3650; `default` for 7). Applies to requests made afterwards. Prints one JSON line.
    SetPrivacyRetention {
        #[arg(long)]
        account: i64,
        #[arg(long, value_parser = parse_retention)]
        days: Retention,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
    /// Point-of-sale settings (docs/POS.md): how a percentage is rounded to the cent
    /// (`half_up`, the default, or `half_even`) and how long an allocate holds a code
    /// (60 to 86400 seconds; 900 by default). Prints one JSON line.
    SetPos {
        #[arg(long)]
        account: i64,
        #[arg(long, value_parser = ["half_up", "half_even"])]
        rounding: Option<String>,
        #[arg(long, value_parser = clap::value_parser!(i64).range(60..=86_400))]
        hold_seconds: Option<i64>,
        #[arg(long, env = "KINDLING_DATABASE_URL", default_value = "sqlite://kindling.db")]
        database_url: String,
    },
}

/// `--days`: a number of days, or `default`.
#[derive(Debug, Clone, Copy)]
struct Retention(Option<i64>);

fn parse_retention(raw: &str) -> Result<Retention, String> {
    if raw == "default" {
        return Ok(Retention(None));
    }
    // The spec: anonymized "after 7 days, or longer if specified in an Account's preferences".
    match raw.parse::<i64>() {
        Ok(days) if (7..=3650).contains(&days) => Ok(Retention(Some(days))),
        _ => Err(format!("must be a whole number of days from 7 to 3650, or `default`, not {raw:?}")),
    }
}

/// Logs go to stderr through a background thread (`log_writer`): a request's line is copied
/// into a shared buffer that the thread writes out in batches, at most 10 ms later, so a
/// request never waits on the terminal or pipe. If stderr stalls, lines beyond 8 MB waiting
/// are dropped (and counted) rather than slowing requests. The guard writes what is left
/// when dropped, so `main` keeps it to the end.
fn init_logging() -> log_writer::Guard {
    let filter = EnvFilter::try_from_env("KINDLING_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = log_writer::batched(std::io::stderr());
    // Colour codes only for a terminal: a log file or collector gets plain text.
    let ansi = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(writer.clone());
    if std::env::var("KINDLING_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        builder.json().init();
    } else {
        builder.event_format(log_format::Lean::default()).init();
        if !ansi {
            // Request lines straight to the writer, as `Lean` would write them.
            kindling_api::set_response_log(Box::new(log_format::Direct(writer)));
        }
    }
    guard
}

/// The demo's portal owner.
const DEMO_EMAIL: &str = "demo@example.com";

struct NewAccount {
    account_id: i64,
    key: String,
}

impl NewAccount {
    /// The one JSON line `account create` and `account rotate-key` print.
    fn json_line(&self) -> serde_json::Value {
        serde_json::json!({
            "account_id": self.account_id,
            "identity": self.account_id.to_string(),
            "key": self.key,
        })
    }
}

async fn create_account(db: &Db, name: &str) -> anyhow::Result<NewAccount> {
    let (key, hash) = accounts::new_key().await?;
    let id = accounts::create(db, name, &hash).await.context("creating account")?;
    Ok(NewAccount { account_id: id.0, key })
}

async fn rotate_key(db: &Db, account_id: i64) -> anyhow::Result<NewAccount> {
    let key = accounts::rotate_to_new_key(db, kindling_domain::AccountId(account_id)).await.context("rotating key")?;
    let key = key.with_context(|| format!("no account with id {account_id}"))?;
    Ok(NewAccount { account_id, key })
}

/// A portal user as `user create` (and `demo`) made it.
struct NewUser {
    id: kindling_domain::PortalUserId,
    /// Set when it was made up here (not read from stdin).
    password: Option<String>,
}

/// Creates a portal user; `password` is `None` to make one up (the portal's account page
/// creates users through the same `portal::users::create`).
async fn create_user(
    db: &Db,
    account: i64,
    email: &str,
    role: Role,
    stores: &[i64],
    password: Option<String>,
) -> anyhow::Result<NewUser> {
    use kindling_store::portal::users::{self, NewUserError};
    let stores: Vec<StoreId> = stores.iter().copied().map(StoreId).collect();
    let (id, password) = match users::create(db, AccountId(account), email, role, &stores, password).await {
        Ok(made) => made,
        Err(NewUserError::BadEmail) => anyhow::bail!("{email:?} is not an email address"),
        Err(NewUserError::Access(e)) => anyhow::bail!("{e}"),
        Err(NewUserError::Password(message)) => anyhow::bail!("{message}"),
        Err(NewUserError::Create(CreateError::UnknownAccount)) => anyhow::bail!("no account with id {account}"),
        Err(NewUserError::Create(CreateError::DuplicateEmail)) => {
            anyhow::bail!("a portal user with email {} already exists", email.trim().to_lowercase())
        }
        Err(NewUserError::Create(CreateError::ForeignStores(ids))) => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            anyhow::bail!("account {account} has no store with id {}", ids.join(", "))
        }
        Err(NewUserError::Create(CreateError::Store(e))) => return Err(anyhow::Error::new(e).context("creating user")),
    };
    Ok(NewUser { id, password })
}

/// The password `--password-stdin` reads: stdin's text without its final line break.
fn password_from_stdin() -> anyhow::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    std::io::stdin().take(4096).read_to_string(&mut text).context("reading the password")?;
    let line = text.strip_suffix('\n').unwrap_or(&text);
    Ok(line.strip_suffix('\r').unwrap_or(line).to_owned())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = terminate => {} }
    tracing::info!("shutting down");
}

async fn serve(listen: SocketAddr, landing_listen: Option<SocketAddr>, db: Db) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "kindling listening");
    let state = AppState::new(db.clone(), AppConfig::default());
    let landing = match landing_listen {
        Some(address) => {
            let listener =
                tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
            tracing::info!(address = %listener.local_addr()?, "landing pages listening");
            let app = kindling_api::landing_app(state.clone());
            let limits = kindling_api::ServeConfig::from_env();
            Some(tokio::spawn(kindling_api::serve(listener, app, limits, shutdown_signal())))
        }
        None => None,
    };
    kindling_api::auth::spawn_revocation_watcher(&state);
    // Callbacks are delivered by every server process from the shared outbox, unless this
    // process is told not to (`KINDLING_CALLBACK_DELIVERY=off`: they wait in the outbox).
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let callbacks = kindling_workers::callbacks::Config::from_env().map_err(anyhow::Error::msg)?;
    let deliver = std::env::var("KINDLING_CALLBACK_DELIVERY").map_or(true, |v| v != "off");
    let worker = deliver.then(|| kindling_workers::callbacks::spawn(db.clone(), callbacks, stopped.clone()));
    // Members whose deletion request is due are anonymized by every server process (each
    // request is claimed by one).
    let clock = std::sync::Arc::new(kindling_workers::clock::SystemClock);
    let privacy = kindling_workers::privacy::spawn(db.clone(), Default::default(), clock.clone(), stopped.clone());
    // Forgotten idempotency keys and old finished callbacks are deleted by every process.
    let retention = kindling_workers::retention::Config::from_env().map_err(anyhow::Error::msg)?;
    let retention = kindling_workers::retention::spawn(db, retention, clock, stopped);
    let limits = kindling_api::ServeConfig::from_env();
    kindling_api::serve(listener, kindling_api::app(state), limits, shutdown_signal()).await?;
    if let Some(landing) = landing {
        landing.await.context("landing server task")??;
    }
    let _ = stop.send(true);
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    let _ = privacy.await;
    let _ = retention.await;
    Ok(())
}

fn print_demo(listen: SocketAddr, account: &NewAccount) {
    println!("Kindling demo account\n  X-Auth-Identity: {}\n  X-Auth-Key:      {}", account.account_id, account.key);
    println!("Get a token, then list members:");
    println!(
        "  TOKEN=$(curl -s -D - -o /dev/null -H 'X-Auth-Identity: {id}' -H 'X-Auth-Key: {key}' http://{listen}/auth | tr -d '\\r' | awk -F': ' 'tolower($1)==\"x-auth-token\"{{print $2}}')",
        id = account.account_id,
        key = account.key
    );
    println!("  curl -i -H \"X-Auth-Token: $TOKEN\" http://{listen}/v1.0/members.json");
}

fn print_portal(listen: SocketAddr, email: &str, user: &NewUser) {
    println!("The Admin Portal (docs/PORTAL.md): http://{listen}/admin");
    println!("  Email:    {email}");
    println!("  Password: {}", user.password.as_deref().unwrap_or_default());
}

fn print_seeded(listen: SocketAddr, seeded: &demo::Seeded) {
    let demo::Seeded { member, channel, offer, xid } = seeded;
    println!("Issue a code for the demo member, then redeem it:");
    println!(
        "  curl -i -H \"X-Auth-Token: $TOKEN\" -X POST 'http://{listen}/v1.0/credentials.json?member_id={member}&offer_id={offer}&channel_id={channel}'"
    );
    println!("  curl -i -H \"X-Auth-Token: $TOKEN\" -X PUT http://{listen}/v1.0/credentials/1/redeem.json");
    println!("The offer's landing page (printable; add ?printable=false for the mobile page):");
    println!("  http://{listen}/{xid}");
    println!("At the point of sale (store site DEMO-1), price a basket with a fresh code <CODE>, then settle it:");
    let basket =
        r#"{"items":[{"ln":"1","ic":"BURGER","qw":1,"price":899},{"ln":"2","ic":"FRIES","qw":1,"price":349}]}"#;
    for method in ["GET", "PUT"] {
        println!(
            "  curl -i -H \"X-Auth-Token: $TOKEN\" -H 'term_id: 1' -H 'tran_id: 1001' -X {method} -d '{basket}' http://{listen}/ctm/members/DEMO-1/<CODE>"
        );
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            let db = Db::connect(&args.database_url).await.context("opening database")?;
            if args.demo {
                print_demo(args.listen, &create_account(&db, "Demo").await?);
            }
            serve(args.listen, args.landing_listen, db).await
        }
        Command::Account { command: AccountCommand::Create { name, database_url } } => {
            let db = Db::connect(&database_url).await.context("opening database")?;
            println!("{}", create_account(&db, &name).await?.json_line());
            Ok(())
        }
        Command::Account { command: AccountCommand::RotateKey { account, database_url } } => {
            let db = Db::connect(&database_url).await.context("opening database")?;
            println!("{}", rotate_key(&db, account).await?.json_line());
            Ok(())
        }
        Command::Account { command: AccountCommand::SetPrivacyRetention { account, days, database_url } } => {
            let db = Db::connect(&database_url).await.context("opening database")?;
            let id = kindling_domain::AccountId(account);
            let found = accounts::set_privacy_retention(&db, id, days.0).await.context("setting retention")?;
            anyhow::ensure!(found, "no account with id {account}");
            println!("{}", serde_json::json!({"account_id": account, "privacy_retention_days": days.0}));
            Ok(())
        }
        Command::Account { command: AccountCommand::SetPos { account, rounding, hold_seconds, database_url } } => {
            let db = Db::connect(&database_url).await.context("opening database")?;
            let id = kindling_domain::AccountId(account);
            let settings = accounts::set_pos(&db, id, rounding, hold_seconds).await.context("setting POS settings")?;
            let (rounding, hold_seconds) = settings.with_context(|| format!("no account with id {account}"))?;
            println!(
                "{}",
                serde_json::json!({"account_id": account, "pos_rounding": rounding, "pos_hold_seconds": hold_seconds})
            );
            Ok(())
        }
        Command::User {
            command: UserCommand::Create { account, email, role, stores, password_stdin, database_url },
        } => {
            let role = Role::parse(&role).with_context(|| format!("unknown role {role}"))?;
            let password = if password_stdin { Some(password_from_stdin()?) } else { None };
            let db = Db::connect(&database_url).await.context("opening database")?;
            let user = create_user(&db, account, &email, role, &stores, password).await?;
            let mut line = serde_json::json!({
                "user_id": user.id,
                "account_id": account,
                "email": email.trim().to_lowercase(),
                "role": role.as_str(),
                "store_ids": stores,
            });
            if let Some(password) = user.password {
                line["password"] = password.into();
            }
            println!("{line}");
            Ok(())
        }
        Command::Import { command } => {
            let db = Db::connect(command.database_url()).await.context("opening database")?;
            let (kind, count) = match command {
                ImportCommand::Stores { file, merchant, .. } => ("stores", import::stores(&db, &file, merchant).await?),
                ImportCommand::Items { file, account, merchant, manufacturer, .. } => {
                    let owner = match (account, merchant, manufacturer) {
                        (_, Some(id), _) => import::ItemOwner::Merchant(id),
                        (_, _, Some(id)) => import::ItemOwner::Manufacturer(id),
                        (Some(id), _, _) => import::ItemOwner::Account(id),
                        (None, None, None) => anyhow::bail!("one of --account, --merchant, --manufacturer is required"),
                    };
                    ("items", import::items(&db, &file, owner).await?)
                }
                ImportCommand::Members { file, account, format, .. } => {
                    let format = format.unwrap_or_else(|| import::Format::of(&file));
                    let done = import::members(&db, &file, account, format).await?;
                    let summary =
                        serde_json::json!({ "imported": done.imported, "skipped": done.skipped, "kind": "members" });
                    println!("{summary}");
                    return Ok(());
                }
            };
            println!("{}", serde_json::json!({ "imported": count, "kind": kind }));
            Ok(())
        }
        Command::Demo { listen, database_file } => {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{database_file}{suffix}"));
            }
            let db = Db::connect(&format!("sqlite://{database_file}")).await.context("opening database")?;
            let account = create_account(&db, "Demo").await?;
            let seeded = demo::seed(&db, kindling_domain::AccountId(account.account_id)).await?;
            let owner = create_user(&db, account.account_id, DEMO_EMAIL, Role::Owner, &[], None).await?;
            print_demo(listen, &account);
            print_seeded(listen, &seeded);
            print_portal(listen, DEMO_EMAIL, &owner);
            serve(listen, None, db).await
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _log_guard = init_logging();
    run(Cli::parse()).await
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
