//! The service's connections: the accept loop `serve_on` and the rules every
//! connection lives by (`Limits`). `serve` and the test service both call `serve_on`,
//! so the tests exercise the configuration the service runs with.
//!
//! A client is never allowed to hold a connection for free: a request header must
//! arrive within `header_read` (which also bounds an idle keep-alive connection, since
//! hyper starts the same clock while it waits for the next request), a body may not
//! stall for more than `body_idle` between chunks, and at most `connections` are open
//! at once. On shutdown the listener closes at once, in-flight requests may finish, and
//! whatever is still open after `shutdown_grace` is cut. This file handles sockets
//! only; it never looks at what a request asks for.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Sleep;

/// Most connections open at once. Each costs a task and a few buffers; 512 is far
/// above what a board's staff and its API clients use, and low enough that a client
/// opening sockets in a loop cannot exhaust memory or file descriptors.
pub const MAX_CONNECTIONS: usize = 512;

/// How long the service lets clients take. `Limits::default()` is what `assure serve`
/// uses; tests shorten the times to see the same rules without waiting.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's header must arrive whole within this time of the connection
    /// opening, or of the previous answer being sent: it is also the idle keep-alive
    /// timeout. Ten seconds is ample for any real client on a slow link.
    pub header_read: Duration,
    /// A request body may go this long without a byte arriving (not counting the time
    /// the service spends on it). The clock restarts with every chunk, so a 25 MiB
    /// upload on a slow link goes through; a stalled one ends with 408.
    pub body_idle: Duration,
    /// Most connections open at once. At the cap the service stops accepting until
    /// one closes: clients queue in the operating system's backlog and are served in
    /// turn, rather than being refused while stalled sockets time out.
    pub connections: usize,
    /// After Ctrl-C or SIGTERM, how long in-flight requests may take to finish before
    /// their connections are cut. Seven seconds leaves the writer time to drain within
    /// ten seconds, what `docker stop` waits before it kills.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read: Duration::from_secs(10),
            body_idle: Duration::from_secs(30),
            connections: MAX_CONNECTIONS,
            shutdown_grace: Duration::from_secs(7),
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting at once (the listener is closed), lets in-flight requests finish, and
/// cuts whatever is still open after `limits.shutdown_grace`. When this returns no
/// connection is left and the router (with every handle it holds) is dropped.
pub async fn serve_on(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read)
        .keep_alive(true);
    let router = TowerToHyperService::new(router);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(Semaphore::new(limits.connections.max(1)));
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Finished connections are reaped here, so the set holds only open ones.
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot,
        };
        // The semaphore is never closed, so this is always a slot.
        let Ok(slot) = slot else { break };
        let (stream, remote) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    refused_accept(&e).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let body_idle = limits.body_idle;
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let mut request = request.map(|body| TimedBody::new(body, body_idle));
            request.extensions_mut().insert(ConnectInfo(remote));
            router.call(request)
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        connections.spawn(async move {
            // A connection's end (a closed socket, a timeout, a malformed request) is
            // the client's business; there is nobody to tell.
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    let cut = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
    if cut.is_err() {
        while connections.try_join_next().is_some() {}
        eprintln!(
            "assure serve: cut {} connection(s) still open {} s after the stop was asked for",
            connections.len(),
            limits.shutdown_grace.as_secs()
        );
    }
    connections.shutdown().await;
}

/// An accept that failed. A connection reset before it was accepted is the client's
/// business; anything else (out of file descriptors, say) is said on the error output
/// and the loop pauses briefly instead of spinning on the same error.
async fn refused_accept(error: &std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    eprintln!("assure serve: accepting a connection failed ({error}); trying again");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// What a request body becomes when the client stops sending it.
#[derive(Debug, thiserror::Error)]
#[error("the request body stalled: nothing arrived for {:?}", .0)]
pub struct BodyStalled(Duration);

/// A request body that fails with `BodyStalled` when no byte arrives for `idle` while
/// the service is waiting for one.
#[derive(Debug)]
struct TimedBody {
    inner: Incoming,
    idle: Duration,
    /// Set while the service waits for the next chunk; cleared when one arrives.
    waiting: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    fn new(inner: Incoming, idle: Duration) -> TimedBody {
        TimedBody {
            inner,
            idle,
            waiting: None,
        }
    }
}

impl hyper::body::Body for TimedBody {
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            self.waiting = None;
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        let idle = self.idle;
        let waiting = self
            .waiting
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match waiting.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(BodyStalled(idle).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Whether a body read failed because the client stalled (see `Limits::body_idle`).
pub fn stalled(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if e.is::<BodyStalled>() {
            return true;
        }
        cause = e.source();
    }
    false
}
