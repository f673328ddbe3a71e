//! The hand-written verifying handler on actix-web, the baseline of the actix-web receiver in the
//! HTTP benchmark: the same checks as `hand_written` (the crate's library), served as
//! examples/actix-receiver serves (two workers), so that the ratio prices webhook-guard's actix
//! adapter rather than actix-web against axum.
//! `WEBHOOK_SECRET=… ADDR=127.0.0.1:3000 cargo run --release -p http-baselines --bin hand_written_actix`

use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, post};
use http_baselines::{Key, handle, key};

#[post("/webhooks/botdog")]
async fn botdog(key: Data<Key>, request: HttpRequest, body: Bytes) -> HttpResponse {
    let signature = request.headers().get("x-webhook-signature").map(|value| value.as_bytes());
    HttpResponse::new(StatusCode::from_u16(handle(&key, signature, &body)).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let key = Data::new(key(&std::env::var("WEBHOOK_SECRET").unwrap_or_default())?);
    let addr = std::env::var("ADDR").unwrap_or_else(|_| "127.0.0.1:3000".to_owned());
    let server = HttpServer::new(move || App::new().app_data(key.clone()).service(botdog)).workers(2).bind(addr)?;
    eprintln!("listening on {:?}", server.addrs());
    server.run().await
}
