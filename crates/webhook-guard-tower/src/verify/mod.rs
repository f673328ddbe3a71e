//! Verification and deduplication before the inner service: the body is read under a limit and a
//! timeout, its signature checked, its event parsed and (with dedup) its id claimed until the inner
//! service answers. See the [crate docs](crate) for the order of work and why.

mod future;
mod layer;
mod rejection;
mod request;
mod service;

pub use self::future::ResponseFuture;
pub use self::layer::WebhookLayer;
pub use self::rejection::{DefaultOnRejection, OnRejection};
pub use self::request::{DEFAULT_READ_TIMEOUT, verify_request};
pub use self::service::WebhookService;
