//! Property tests of the verifier, for every provider: a signed delivery verifies; changing its
//! body, its signature, the secret or its timestamp is refused with the right kind; and arbitrary
//! headers and bodies never panic and never put a secret into an error.
//!
//! Every property runs once per [`Case`] (each preset of [`AnyProvider::NAMES`], Pollybot's
//! body-only opt-in with both kinds of signature, and Standard Webhooks with Ed25519 keys), as a
//! test named `<case>::<property>`, so a failure names its provider.
//!
//! One module per strategy, each with the generators and checks of its properties:
//! [`signed_deliveries`] (1, 4, 5), [`tampering`] (2, 3) and [`arbitrary_input`] (6); [`cases`]
//! holds the cases and what every property draws from.

#![allow(clippy::unwrap_used)]

mod arbitrary_input;
mod cases;
mod signed_deliveries;
mod tampering;

use proptest::prelude::*;
use proptest::sample::Index;
use webhook_guard::providers::AnyProvider;

use crate::arbitrary_input::{chaos, leak_secret};
use crate::cases::{
    ALL_CASES, BREAKCOLD_LEGACY, Case, ID, body_strategy, secret_strategy, tolerance, within_tolerance,
};
use crate::signed_deliveries::{beyond_tolerance, two_secrets};
use crate::tampering::printable_char;

/// Cases per property per provider.
const CASES: u32 = 64;

fn config() -> ProptestConfig {
    // No regression files: this suite writes nothing next to itself; a failure prints its input.
    ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// One module of tests per case
// ---------------------------------------------------------------------------------------------

macro_rules! properties {
    ($($module:ident => $case:expr;)*) => {
        /// The cases the modules below test, to check that none is missing.
        const TESTED: &[Case] = &[$($case),*];

        $(
            mod $module {
                use super::*;

                const CASE: Case = $case;

                proptest! {
                    #![proptest_config(config())]

                    #[test]
                    fn round_trip(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 0),
                        offset in within_tolerance(),
                        id in ID,
                    ) {
                        signed_deliveries::round_trip(CASE, &secret, &body, offset, &id)?;
                    }

                    #[test]
                    fn body_tamper(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 1),
                        offset in within_tolerance(),
                        id in ID,
                        change in (any::<Index>(), 0..8u8, printable_char()),
                    ) {
                        tampering::body_tamper(CASE, &secret, &body, offset, &id, change)?;
                    }

                    #[test]
                    fn signature_tamper(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 0),
                        offset in within_tolerance(),
                        id in ID,
                        change in (any::<Index>(), any::<Index>()),
                    ) {
                        tampering::signature_tamper(CASE, &secret, &body, offset, &id, change)?;
                    }

                    #[test]
                    fn wrong_secret(
                        (right, wrong) in two_secrets(CASE),
                        body in body_strategy(CASE, 0),
                        offset in within_tolerance(),
                        id in ID,
                    ) {
                        signed_deliveries::wrong_secret(CASE, (&right, &wrong), &body, offset, &id)?;
                    }

                    #[test]
                    fn stale_timestamp(
                        secret in secret_strategy(CASE),
                        body in body_strategy(CASE, 0),
                        offset in beyond_tolerance(),
                        id in ID,
                    ) {
                        signed_deliveries::stale_timestamp(CASE, &secret, &body, offset, &id)?;
                    }

                    #[test]
                    fn arbitrary_input(secret in leak_secret(CASE), chaos in chaos()) {
                        arbitrary_input::arbitrary_input(CASE, &secret, &chaos)?;
                    }
                }
            }
        )*
    };
}

properties! {
    botdog => Case::Preset("botdog");
    pollybot => Case::Preset("pollybot");
    breakcold => Case::Preset("breakcold");
    breakcold_legacy => BREAKCOLD_LEGACY;
    standard => Case::Preset("standard");
    github => Case::Preset("github");
    stripe => Case::Preset("stripe");
    slack => Case::Preset("slack");
    shopify => Case::Preset("shopify");
    pollybot_body_only => Case::PollybotBodyOnly;
    pollybot_body_only_unbound => Case::PollybotBodyOnlyUnbound;
    standard_ed25519 => Case::StandardEd25519;
}

/// Every compiled-in preset has a module above (a new provider must be added to `properties!`).
#[test]
fn every_provider_is_covered() {
    assert_eq!(TESTED, ALL_CASES);
    let presets: Vec<&str> = TESTED
        .iter()
        .filter_map(|case| match case {
            Case::Preset(name) => Some(*name),
            _ => None,
        })
        .collect();
    assert_eq!(presets, AnyProvider::NAMES);
    assert_eq!(tolerance(), 300, "the ranges above assume the default tolerance");
}
