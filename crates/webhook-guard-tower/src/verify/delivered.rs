use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;

use webhook_guard::{Delivery, Provider};

/// The delivery the layer admitted, in the request's extensions. Keyed by the provider's type,
/// not its event type or name: two layers whose providers share an event type (the JSON-event
/// presets, two `Custom` senders) never see each other's deliveries.
///
/// ```ignore
/// let delivery = request.extensions().get::<Delivered<Botdog>>().expect("the layer ran");
/// ```
pub struct Delivered<P: Provider> {
    delivery: Delivery<P::Event>,
    provider: PhantomData<fn() -> P>,
}

impl<P: Provider> Delivered<P> {
    /// Wraps a delivery of provider `P` (the layer does this for every request it admits).
    pub fn new(delivery: Delivery<P::Event>) -> Self {
        Self { delivery, provider: PhantomData }
    }

    /// The delivery.
    pub fn into_inner(self) -> Delivery<P::Event> {
        self.delivery
    }
}

impl<P: Provider> Deref for Delivered<P> {
    type Target = Delivery<P::Event>;

    fn deref(&self) -> &Self::Target {
        &self.delivery
    }
}

impl<P: Provider> Clone for Delivered<P>
where
    P::Event: Clone,
{
    fn clone(&self) -> Self {
        Self::new(self.delivery.clone())
    }
}

impl<P: Provider> fmt::Debug for Delivered<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Delivered").field(&self.delivery).finish()
    }
}
