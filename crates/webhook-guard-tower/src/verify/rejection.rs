use bytes::Bytes;
use http::Response;
use webhook_guard::Rejection;

/// Builds the response for a delivery the layer refused (already logged when this is called).
///
/// Implemented by [`DefaultOnRejection`] and by every `FnMut(&Rejection) -> Response<ResBody> +
/// Clone` closure; see the [crate docs](crate#another-rejection-response) for an example.
pub trait OnRejection<ResBody> {
    /// The response to send instead of calling the inner service.
    fn on_rejection(&mut self, rejection: &Rejection) -> Response<ResBody>;
}

impl<F, ResBody> OnRejection<ResBody> for F
where
    F: FnMut(&Rejection) -> Response<ResBody> + Clone,
{
    fn on_rejection(&mut self, rejection: &Rejection) -> Response<ResBody> {
        self(rejection)
    }
}

/// The status table's response: status, headers and the small JSON body of
/// [`Rejection::to_response`], for any body type built from [`Bytes`] (`axum::body::Body`,
/// `http_body_util::Full<Bytes>`, …).
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultOnRejection;

impl<ResBody: From<Bytes>> OnRejection<ResBody> for DefaultOnRejection {
    fn on_rejection(&mut self, rejection: &Rejection) -> Response<ResBody> {
        rejection.to_response(|body| ResBody::from(Bytes::from(body)))
    }
}

#[cfg(test)]
mod tests {
    use webhook_guard::providers::{AnyProvider, Botdog};
    use webhook_guard::testing::Signer;
    use webhook_guard::{FixedClock, Guard, RejectionKind, Verifier, VerifyErrorKind};

    use super::*;

    const NOW: i64 = 1_763_633_730;

    /// Produces an error of each kind through the public core API (its constructors are private).
    /// The refusal of a request whose body fails before its end (`Limited` errors past 1 byte, as
    /// a broken connection does), through the core's request path.
    fn unreadable() -> Rejection {
        let verifier = Verifier::builder(Botdog::new()).secret("right").build().unwrap();
        let failing = http_body_util::Limited::new(http_body_util::Full::new(Bytes::from_static(b"0123456789")), 1);
        let request = http::Request::post("/").body(failing).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(Guard::new(verifier).admit(request)).unwrap_err()
    }

    fn errors() -> Vec<Rejection> {
        let verifier = Verifier::builder(Botdog::new()).secret("right").clock(FixedClock(NOW)).body_limit(64).build();
        let verifier = verifier.unwrap();
        let sign = |secret: &str, body: &[u8], t: i64| {
            let signer = Signer::for_provider(&AnyProvider::Botdog(Botdog::new()), &[secret]).unwrap();
            signer.sign_delivery(body, t, "", None).headers
        };
        let verify = |headers: &[(String, String)], body: &'static [u8]| {
            Rejection::from(verifier.verify(headers, body).unwrap_err())
        };
        let malformed = [("X-Webhook-Signature".to_owned(), "s=deadbeef".to_owned())];
        vec![
            verify(&[], b"{}"),
            verify(&malformed, b"{}"),
            verify(&sign("wrong", b"{}", NOW), b"{}"),
            verify(&sign("right", b"{}", NOW - 301), b"{}"),
            verify(&sign("right", &[b' '; 65], NOW), &[b' '; 65]),
            unreadable(),
            verify(&sign("right", b"not json", NOW), b"not json"),
        ]
    }

    #[test]
    fn every_kind_maps_to_its_status_table_row() {
        let expected = [
            (VerifyErrorKind::MissingSignature, 400),
            (VerifyErrorKind::MalformedSignature, 400),
            (VerifyErrorKind::SignatureMismatch, 401),
            (VerifyErrorKind::TimestampOutOfTolerance, 401),
            (VerifyErrorKind::BodyTooLarge, 413),
            (VerifyErrorKind::BodyUnreadable, 400),
            (VerifyErrorKind::InvalidPayload, 422),
        ];
        for (rejection, (kind, status)) in errors().into_iter().zip(expected) {
            assert_eq!(rejection.kind(), RejectionKind::Verify(kind));
            let response: Response<Bytes> = DefaultOnRejection.on_rejection(&rejection);
            assert_eq!(response.status(), status, "{kind:?}");
            assert_eq!(response.headers()["content-type"], "application/json", "{kind:?}");
            let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
            assert_eq!(body["error"], kind.as_str());
        }
    }
}
