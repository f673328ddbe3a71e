//! Verification and deduplication before the inner service, through the core's one request path
//! ([`Guard::admit`](webhook_guard::Guard::admit)): this module only turns its outcome into the
//! inner call or a response. See the [crate docs](crate) for the order of work and why.

mod delivered;
mod future;
mod layer;
mod rejection;
mod service;

pub use self::delivered::Delivered;
pub use self::future::ResponseFuture;
pub use self::layer::WebhookLayer;
pub use self::rejection::{DefaultOnRejection, OnRejection};
pub use self::service::WebhookService;
