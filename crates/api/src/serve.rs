//! The HTTP/1.1 server loop. `axum::serve` has no header-read timeout or connection limit, so
//! connections are served by hyper directly: a client that sends half a request and stalls is
//! dropped after `header_read_timeout`, and at most `max_connections` are open at once (more
//! wait in the listen backlog). Stops accepting on `shutdown` and lets open requests finish.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    /// How long a graceful stop waits for open requests.
    pub shutdown_grace: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl ServeConfig {
    /// `KINDLING_MAX_CONNECTIONS` and `KINDLING_HEADER_READ_TIMEOUT_SECONDS` over the defaults.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok()).filter(|v| *v > 0);
        let defaults = Self::default();
        Self {
            max_connections: var("KINDLING_MAX_CONNECTIONS").map_or(defaults.max_connections, |v| v as usize),
            header_read_timeout: var("KINDLING_HEADER_READ_TIMEOUT_SECONDS")
                .map_or(defaults.header_read_timeout, Duration::from_secs),
            ..defaults
        }
    }
}

/// Serves `service` (`crate::app`) on `listener` until `shutdown` completes.
pub async fn serve<S>(
    listener: TcpListener,
    service: S,
    config: ServeConfig,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let permits = Arc::new(Semaphore::new(config.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(config.header_read_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("semaphore never closes"),
            () = &mut shutdown => break,
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone();
        let handler = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
            service.clone().oneshot(req.map(Body::new))
        });
        let connection = builder.serve_connection(TokioIo::new(stream), handler);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    if tokio::time::timeout(config.shutdown_grace, graceful.shutdown()).await.is_err() {
        tracing::warn!("open connections did not finish in time");
    }
    Ok(())
}
