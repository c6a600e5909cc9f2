//! Serving a router over TCP with the limits a public server needs ([`serve`]).
//!
//! `axum::serve` runs hyper with no timer and no bound: a connection that sends half its
//! headers, or nothing, or sits idle between requests, stays open for as long as the client
//! likes, and enough of them exhaust the process's file descriptors. Here every connection is
//! watched:
//! - a request's headers must arrive within [`ConnectionConfig::header_read_timeout`], counted
//!   from the moment the connection opens (first request) or from the first byte of the next
//!   request (keep-alive);
//! - between requests a keep-alive connection may stay silent for
//!   [`ConnectionConfig::idle_timeout`];
//! - at most [`ConnectionConfig::max_connections`] are open. At the limit, a new connection
//!   closes the one that has waited longest without a request in progress (idle, or still
//!   sending its headers), so that idle connections cannot keep a real client out; if every
//!   connection is busy with a request, the new one is closed instead.
//!
//! hyper's own answer to a head it cannot parse (431, 414, 400, with no body) is replaced on
//! the way out by our problem+json one ([`crate::http_layer`]).
//!
//! A request in progress is never cut here: the router's own request timeout bounds it. On
//! shutdown the listener stops accepting, connections without a request in progress close at
//! once, and the others close after their response.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tokio::time::Instant;
use tower::ServiceExt;

/// How connections are bounded (see the [module](self) documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionConfig {
    /// Longest time a request's headers may take to arrive. Default: 10 seconds.
    pub header_read_timeout: Duration,
    /// Longest time a keep-alive connection may stay silent between requests. Default: 75
    /// seconds, longer than the idle timeouts of common load balancers (60 s), so that a
    /// balancer never sends a request into a connection tollgate is closing.
    pub idle_timeout: Duration,
    /// Most connections open at once. Default: 10 000.
    pub max_connections: usize,
}

impl ConnectionConfig {
    /// The default header read timeout.
    pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default idle keep-alive timeout.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(75);
    /// The default connection limit.
    pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        Self {
            header_read_timeout: Self::DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// Serves `router` on `listener` under `config` until `shutdown` completes, then waits for the
/// requests in progress to be answered. Handlers see the peer as `ConnectInfo<SocketAddr>`, as
/// with `into_make_service_with_connect_info`.
///
/// # Errors
///
/// None today: accept errors (such as running out of file descriptors) are logged and retried.
/// The `Result` leaves room for errors that must stop the server.
pub async fn serve<F>(
    listener: TcpListener,
    router: Router,
    config: ConnectionConfig,
    shutdown: F,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send,
{
    let registry = Arc::new(Registry::new(config));
    let (stop, stopped) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // EMFILE and friends: the process is out of something; back off briefly
                    // rather than spin, as axum::serve does.
                    tracing::error!(%error, "accept error");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(connection) = registry.admit() else {
            registry.refused();
            drop(stream);
            continue;
        };
        tokio::spawn(run_connection(
            stream,
            peer,
            router.clone(),
            connection,
            Arc::clone(&registry),
            stopped.clone(),
        ));
    }
    drop(listener);
    // Receivers that are gone are connections that are done; nobody left to tell is fine.
    let _ = stop.send(true);
    registry.all_closed().await;
    Ok(())
}

/// One connection, from accept to close.
async fn run_connection(
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    connection: Arc<Connection>,
    registry: Arc<Registry>,
    mut stopped: watch::Receiver<bool>,
) {
    let config = registry.config;
    let io = TokioIo::new(Watched::new(stream, Arc::clone(&connection)));
    let service = {
        let connection = Arc::clone(&connection);
        service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_progress = InProgress::begin(Arc::clone(&connection));
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await;
                drop(in_progress);
                Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
            }
        })
    };
    // The timeouts are ours (below), not hyper's: hyper's header timer also runs while a
    // keep-alive connection waits for its next request, so it cannot tell the two apart.
    let mut served = pin!(http1::Builder::new()
        .keep_alive(true)
        .header_read_timeout(None)
        .serve_connection(io, service));
    let mut stopping = *stopped.borrow();
    if stopping {
        served.as_mut().graceful_shutdown();
    }
    loop {
        if connection.evicted.load(Ordering::Acquire) {
            tracing::debug!("connection closed to admit a new one (TOLLGATE_MAX_CONNECTIONS)");
            break;
        }
        let deadline = connection.deadline(config);
        if stopping && deadline.is_some() {
            break;
        }
        let wake = connection.wake.notified();
        tokio::select! {
            result = served.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            () = wake => {}
            () = sleep_until(deadline.map(|at| connection.instant(at))) => {
                if connection.deadline(config).is_some_and(|at| at <= connection.now_ms()) {
                    tracing::debug!("connection closed: no request within the timeouts");
                    break;
                }
            }
            changed = stopped.changed(), if !stopping => {
                stopping = changed.is_err() || *stopped.borrow();
                if stopping {
                    served.as_mut().graceful_shutdown();
                }
            }
        }
    }
    registry.remove(connection.id);
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The open connections, for the limit and for shutdown.
#[derive(Debug)]
struct Registry {
    config: ConnectionConfig,
    epoch: Instant,
    inner: Mutex<Open>,
    closed: Notify,
    last_refusal_log_ms: AtomicU64,
}

#[derive(Debug, Default)]
struct Open {
    next_id: u64,
    connections: HashMap<u64, Arc<Connection>>,
    /// Connections told to close that have not closed yet; they no longer count.
    evicting: usize,
}

impl Registry {
    fn new(config: ConnectionConfig) -> Self {
        Self {
            config,
            epoch: Instant::now(),
            inner: Mutex::new(Open::default()),
            closed: Notify::new(),
            last_refusal_log_ms: AtomicU64::new(0),
        }
    }

    fn open(&self) -> std::sync::MutexGuard<'_, Open> {
        // The map stays consistent whatever panicked while holding it: every update is one
        // insert or remove.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot for a new connection: free, or taken from the connection that has waited
    /// longest without a request in progress. `None` when every connection is busy.
    fn admit(&self) -> Option<Arc<Connection>> {
        let mut open = self.open();
        if open.connections.len() - open.evicting >= self.config.max_connections {
            let oldest = open
                .connections
                .values()
                .filter(|c| !c.evicted.load(Ordering::Acquire))
                .filter_map(|c| c.waiting_since().map(|since| (since, c)))
                .min_by_key(|(since, _)| *since)
                .map(|(_, c)| Arc::clone(c))?;
            oldest.evicted.store(true, Ordering::Release);
            oldest.wake.notify_one();
            open.evicting += 1;
        }
        let id = open.next_id;
        open.next_id += 1;
        let connection = Arc::new(Connection::new(id, self.epoch));
        open.connections.insert(id, Arc::clone(&connection));
        Some(connection)
    }

    fn remove(&self, id: u64) {
        let mut open = self.open();
        if let Some(connection) = open.connections.remove(&id) {
            if connection.evicted.load(Ordering::Acquire) {
                open.evicting -= 1;
            }
        }
        if open.connections.is_empty() {
            self.closed.notify_waiters();
        }
    }

    /// A new connection was closed at once: every open one is busy with a request. Logged at
    /// most once a second, since a flood would otherwise flood the log too.
    fn refused(&self) {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        let last = self.last_refusal_log_ms.load(Ordering::Relaxed);
        if (last == 0 || now.saturating_sub(last) >= 1000)
            && self
                .last_refusal_log_ms
                .compare_exchange(last, now.max(1), Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                max_connections = self.config.max_connections,
                "connection refused: every open connection has a request in progress (TOLLGATE_MAX_CONNECTIONS)"
            );
        }
    }

    async fn all_closed(&self) {
        loop {
            let mut closed = pin!(self.closed.notified());
            closed.as_mut().enable();
            if self.open().connections.is_empty() {
                return;
            }
            closed.await;
        }
    }
}

/// What is known of one connection, shared by its task, its service and its socket.
#[derive(Debug)]
struct Connection {
    id: u64,
    epoch: Instant,
    /// Requests in progress (more than one only with pipelining).
    in_flight: AtomicU32,
    /// Whether a request has been answered on it: its next headers are a keep-alive request.
    served: AtomicBool,
    /// Milliseconds since the epoch at which it opened or last finished a request.
    waiting_since_ms: AtomicU64,
    /// Milliseconds since the epoch, plus one, of the first byte read since then (0: none).
    first_byte_ms: AtomicU64,
    evicted: AtomicBool,
    /// Tells its task that something changed: a request began or ended, a first byte came.
    wake: Notify,
}

impl Connection {
    fn new(id: u64, epoch: Instant) -> Self {
        let connection = Self {
            id,
            epoch,
            in_flight: AtomicU32::new(0),
            served: AtomicBool::new(false),
            waiting_since_ms: AtomicU64::new(0),
            first_byte_ms: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            wake: Notify::new(),
        };
        connection
            .waiting_since_ms
            .store(connection.now_ms(), Ordering::Release);
        connection
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn instant(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    /// Since when it has waited without a request in progress, or `None` while one is.
    fn waiting_since(&self) -> Option<u64> {
        (self.in_flight.load(Ordering::Acquire) == 0)
            .then(|| self.waiting_since_ms.load(Ordering::Acquire))
    }

    /// When it must close if no request begins first, or `None` while a request is in
    /// progress.
    fn deadline(&self, config: ConnectionConfig) -> Option<u64> {
        let since = self.waiting_since()?;
        let first_byte = self.first_byte_ms.load(Ordering::Acquire);
        Some(deadline_at(
            config,
            since,
            self.served.load(Ordering::Acquire),
            first_byte.checked_sub(1),
        ))
    }

    fn saw_bytes(&self) {
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.served.load(Ordering::Acquire)
            && self.first_byte_ms.load(Ordering::Acquire) == 0
        {
            self.first_byte_ms
                .store(self.now_ms().saturating_add(1), Ordering::Release);
            self.wake.notify_one();
        }
    }
}

/// The rule of the timeouts, in milliseconds since an epoch: a first request's headers within
/// the header timeout of the connection opening; a keep-alive request's within the header
/// timeout of its first byte; and no more than the idle timeout of silence between requests.
fn deadline_at(
    config: ConnectionConfig,
    waiting_since: u64,
    served: bool,
    first_byte: Option<u64>,
) -> u64 {
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let header = ms(config.header_read_timeout);
    match (served, first_byte) {
        (false, _) => waiting_since.saturating_add(header),
        (true, Some(first_byte)) => first_byte.saturating_add(header),
        (true, None) => waiting_since.saturating_add(ms(config.idle_timeout)),
    }
}

/// A request in progress on a connection, from its headers to its response.
struct InProgress(Arc<Connection>);

impl InProgress {
    fn begin(connection: Arc<Connection>) -> Self {
        connection.in_flight.fetch_add(1, Ordering::AcqRel);
        connection.served.store(true, Ordering::Release);
        connection.first_byte_ms.store(0, Ordering::Release);
        Self(connection)
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let connection = &self.0;
        connection
            .waiting_since_ms
            .store(connection.now_ms(), Ordering::Release);
        connection.in_flight.fetch_sub(1, Ordering::AcqRel);
        connection.wake.notify_one();
    }
}

/// The socket, telling its connection when bytes arrive, and putting our problem+json answer
/// in place of hyper's bare one to a head it cannot parse (see [`crate::http_layer`]).
struct Watched {
    inner: TcpStream,
    connection: Arc<Connection>,
    /// Our answer, once hyper wrote its own: sent before anything else, and then nothing is.
    replacement: Option<Replacement>,
}

impl Watched {
    fn new(inner: TcpStream, connection: Arc<Connection>) -> Self {
        Self {
            inner,
            connection,
            replacement: None,
        }
    }

    /// Writes what is left of our answer, if there is one.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(replacement) = self.replacement.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        while replacement.written < replacement.bytes.len() {
            let rest = &replacement.bytes[replacement.written..];
            match Pin::new(&mut self.inner).poll_write(cx, rest) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => replacement.written += n,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Our answer to a head hyper could not parse, and how much of it is written.
struct Replacement {
    bytes: Vec<u8>,
    written: usize,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.connection.saw_bytes();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacement.is_none() && this.connection.in_flight.load(Ordering::Acquire) == 0 {
            // hyper writes on its own only when no request is in progress: its answer to a
            // head it could not parse, after what is left of any earlier response.
            if let Some((start, status, date)) = crate::http_layer::hyper_rejection(buf) {
                if start > 0 {
                    return Pin::new(&mut this.inner).poll_write(cx, &buf[..start]);
                }
                this.replacement = Some(Replacement {
                    bytes: crate::http_layer::our_answer(status, date),
                    written: 0,
                });
            }
        }
        if this.replacement.is_some() {
            // hyper closes the connection after its answer: what it writes is ours instead.
            ready!(this.poll_replacement(cx))?;
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored, on purpose: hyper then gathers each write in one buffer, so that its own
    // answer to a bad head is always the end of one `poll_write` and can be told and replaced.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: ConnectionConfig = ConnectionConfig {
        header_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(75),
        max_connections: 2,
    };

    #[test]
    fn timeouts_follow_the_state_of_the_connection() {
        // (waiting since, served, first byte) -> deadline, in ms
        let cases = [
            // A new connection gets the header timeout, bytes or not.
            ((1_000, false, None), 11_000),
            ((1_000, false, Some(5_000)), 11_000),
            // Between requests: the idle timeout.
            ((1_000, true, None), 76_000),
            // A keep-alive request that began to arrive: the header timeout from its first
            // byte, even if that is sooner than the idle deadline.
            ((1_000, true, Some(2_000)), 12_000),
            ((1_000, true, Some(70_000)), 80_000),
        ];
        for ((since, served, first_byte), expected) in cases {
            assert_eq!(
                deadline_at(CONFIG, since, served, first_byte),
                expected,
                "{since} {served} {first_byte:?}"
            );
        }
    }

    #[tokio::test]
    async fn at_the_limit_the_longest_waiting_idle_connection_makes_room() {
        let registry = Registry::new(CONFIG);
        let first = registry.admit().map(|c| c.id);
        let busy = registry.admit();
        let busy = busy.as_ref().map(|c| InProgress::begin(Arc::clone(c)));
        let third = registry.admit();
        assert!(third.is_some(), "an idle connection makes room");
        let open = registry.open();
        let evicted: Vec<u64> = open
            .connections
            .values()
            .filter(|c| c.evicted.load(Ordering::Acquire))
            .map(|c| c.id)
            .collect();
        assert_eq!(evicted, first.into_iter().collect::<Vec<_>>());
        assert_eq!(open.connections.len() - open.evicting, 2);
        drop(open);
        drop(busy);
    }

    #[tokio::test]
    async fn a_new_connection_is_refused_when_every_open_one_is_busy() {
        let registry = Registry::new(CONFIG);
        let held: Vec<InProgress> = (0..2)
            .filter_map(|_| registry.admit())
            .map(InProgress::begin)
            .collect();
        assert_eq!(held.len(), 2);
        assert!(registry.admit().is_none());
        drop(held);
        assert!(
            registry.admit().is_some(),
            "finished requests free the slot"
        );
    }

    #[tokio::test]
    async fn an_evicted_connection_no_longer_counts_and_leaves_on_removal() {
        let registry = Registry::new(CONFIG);
        let admitted: Vec<Arc<Connection>> = (0..3).filter_map(|_| registry.admit()).collect();
        assert_eq!(admitted.len(), 3);
        assert_eq!(registry.open().evicting, 1);
        let evicted = admitted
            .iter()
            .find(|c| c.evicted.load(Ordering::Acquire))
            .map(|c| c.id);
        registry.remove(evicted.unwrap_or(u64::MAX));
        let open = registry.open();
        assert_eq!((open.connections.len(), open.evicting), (2, 0));
    }
}
