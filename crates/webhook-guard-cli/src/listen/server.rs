//! The hyper server loop of `listen`, and its graceful shutdown on SIGINT and SIGTERM.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use webhook_guard::Provider as _;

use super::{Receiver, receiver};
use crate::failure::Failure;

/// Serves `receiver` on `listener` until SIGINT or SIGTERM, then stops accepting, lets requests
/// in flight finish for at most `shutdown_timeout`, and returns.
///
/// # Errors
///
/// A failure when the signal handlers cannot be installed or the bound address is unknown.
pub(crate) async fn serve(
    listener: TcpListener,
    receiver: Arc<Receiver>,
    shutdown_timeout: Duration,
) -> Result<(), Failure> {
    let mut interrupt =
        signal(SignalKind::interrupt()).map_err(|error| Failure::failed(format!("cannot handle SIGINT: {error}")))?;
    let mut terminate =
        signal(SignalKind::terminate()).map_err(|error| Failure::failed(format!("cannot handle SIGTERM: {error}")))?;
    let addr =
        listener.local_addr().map_err(|error| Failure::failed(format!("cannot read the bound address: {error}")))?;
    tracing::info!(
        provider = receiver.guard.verifier().provider().name(),
        "listening on http://{addr}{}",
        receiver.path
    );

    let graceful = GracefulShutdown::new();
    let signal_name = loop {
        let stream = tokio::select! {
            _ = interrupt.recv() => break "SIGINT",
            _ = terminate.recv() => break "SIGTERM",
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Out of file descriptors, or a connection reset while queued: keep serving.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let receiver = Arc::clone(&receiver);
        let service = service_fn(move |request| {
            let receiver = Arc::clone(&receiver);
            async move { Ok::<_, Infallible>(receiver::respond(receiver, request).await) }
        });
        // Half-close: answer clients that shut their write side down after the request.
        let connection = http1::Builder::new().half_close(true).serve_connection(TokioIo::new(stream), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!("connection ended: {error}");
            }
        });
    };

    drop(listener);
    tracing::info!("{signal_name}: no longer accepting; waiting up to {shutdown_timeout:?} for deliveries in flight");
    match tokio::time::timeout(shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => tracing::info!("every delivery in flight finished; stopped"),
        Err(_) => tracing::warn!("deliveries still in flight after {shutdown_timeout:?}: stopped anyway"),
    }
    Ok(())
}
