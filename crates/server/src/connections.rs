//! The accept loop: hyper's HTTP/1 server with Tokio's timer, so that a
//! client that sends its headers a byte at a time, or never, is closed after
//! [`crate::Config::header_timeout`], and a flood of such connections
//! cannot hold more than [`crate::Config::max_pending_connections`] of
//! them open at once.
//! (`axum::serve` sets no timer, so hyper's header timeout never fires there.)

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::AppState;
use crate::admission::ClientAddr;

/// Accepts connections until `shutdown`, serving `router(state)` on each.
pub(crate) async fn accept(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = crate::router(state.clone());
    let pending = Arc::new(Semaphore::new(state.config.max_pending_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    // No half-close: the end of a client's stream is taken as the client
    // leaving, and its work is cancelled (as Go's net/http and nginx do).
    // TCP cannot tell a client that shut only its sending side (`nc -N`)
    // from one that is gone without writing to it, and freeing the worker
    // of a client that left matters more than answering the rare
    // half-closing one.
    builder.timer(TokioTimer::new()).header_read_timeout(state.config.header_timeout).keep_alive(true);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, client) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, peer.ip()),
                // Out of file descriptors or a connection reset before it was
                // accepted: the listener is still good; breathe and go on.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = pending.clone().try_acquire_owned() else {
            state.metrics.refused_connection();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = FirstRequest {
            app: app.clone(),
            permit: Arc::new(Mutex::new(Some(permit))),
            client: ClientAddr(client),
        };
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away or timed out is not the server's error.
            let _ = connection.await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(state.config.timeout, graceful.shutdown()).await;
    Ok(())
}

/// The router, holding the connection's "waiting for headers" permit until
/// its first request has arrived whole.
#[derive(Clone)]
struct FirstRequest {
    app: Router,
    permit: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
    client: ClientAddr,
}

impl hyper::service::Service<Request<Incoming>> for FirstRequest {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        self.permit.lock().unwrap_or_else(|p| p.into_inner()).take();
        request.extensions_mut().insert(self.client);
        let mut app = self.app.clone();
        Box::pin(async move { tower_service::Service::call(&mut app, request.map(Body::new)).await })
    }
}
