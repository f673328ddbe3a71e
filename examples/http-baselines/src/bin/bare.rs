//! The floor of the HTTP benchmark: an axum handler that only reads the body and answers 200.
//! `ADDR=127.0.0.1:3000 cargo run --release -p http-baselines --bin bare`

use axum::Router;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::routing::post;

async fn read_body(body: Bytes) -> StatusCode {
    std::hint::black_box(body);
    StatusCode::OK
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = Router::new().route("/webhooks/botdog", post(read_body));
    let listener = tokio::net::TcpListener::bind(std::env::var("ADDR").as_deref().unwrap_or("127.0.0.1:3000")).await?;
    eprintln!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
