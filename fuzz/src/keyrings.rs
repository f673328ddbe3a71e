//! The fixed keyrings the targets verify against, one per provider, and the verifiers built on
//! them once per process.
//!
//! Each keyring holds the secrets the test vectors are signed with (so vector seeds reach the
//! accepting path) plus a rotated one; the first secret is the one the seed generator signs the
//! payload fixtures with. The clock is read from the input: [`set_now`] before each execution.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};

use webhook_guard::providers::{AnyProvider, Pollybot};
use webhook_guard::{Clock, Verifier};

/// Every verifier the targets use: each preset, plus Pollybot's body-only opt-in.
pub const CASES: &[&str] = &[
    "botdog",
    "pollybot",
    "pollybot-body-only",
    "breakcold",
    "breakcold-legacy",
    "standard",
    "github",
    "stripe",
    "slack",
    "shopify",
];

/// The timestamp the seed generator signs fixtures at, and the value of the timestamp header the
/// per-format targets send beside the fuzzed signature header.
pub const SIGNED_AT: i64 = 1_763_633_730;

/// The Standard Webhooks id the seed generator signs with and the per-format target sends.
pub const SIGNED_ID: &str = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";

/// The keyring of `case`, as a user would configure it (raw strings; `whsec_`/`whpk_` for
/// Standard Webhooks). Empty for an unknown case.
pub fn secrets(case: &str) -> &'static [&'static str] {
    match case {
        "botdog" => &["bd_whk_4f9c2a7e1b3d5f60a8c7", "bd_whk_rotated_8a1c3e5f7b9d0246", "clé-secrète-ü-🔑"],
        "pollybot" | "pollybot-body-only" => {
            &["whsec_cG9sbHlib3Qtc2VjcmV0LWtleS0wMQ==", "whsec_cG9sbHlib3Qtcm90YXRlZC1rZXktMDI="]
        }
        "breakcold" => &["bc_whsec_2f8d6a1c9e4b70351d", "bc_whsec_rotated_93e1a7c5b2"],
        // `wh_fixture_secret` is the placeholder the legacy payload fixtures carry in their body.
        "breakcold-legacy" => &["wh_fixture_secret", "wh_3c5e7a9b1d2f40687e", "wh_rotated_a1b2c3d4e5f6"],
        "standard" => &[
            "whsec_YBcU3pemPFcl1kG9ijw7vmhUuZBdjgD9eh6TsAKP7A4=",
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "whsec_p0xkpqN6kofRUHXHCazdwCGYIoO7xwIyL18nPoVfxVM=",
            "whpk_PjCqkXYM1+VCdAcN9hpjyEH63V764QiH/6ThQUyU4QU=",
            "whpk_u4Ptb7qoCwk2MqWFL2zT0eGOiMyFAtAB/xqDaq6doiA=",
        ],
        "github" => &["gh_hook_secret_7c1e9a0b5d", "gh_hook_secret_rotated_44f2"],
        "stripe" => &["whsec_test_5f1d8a2c7b9e4036a1d2e3f4", "whsec_test_rotated_0a9b8c7d6e5f"],
        "slack" => &["8f742231b10e8888abcd99yyyzzz85a5", "3c9e1a7b5d2f40688e1c2b3a4d5e6f70"],
        "shopify" => &["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", "shpss_rotated_0f1e2d3c4b5a69788796"],
        _ => &[],
    }
}

/// The provider of `case`.
///
/// # Panics
///
/// For a case not in [`CASES`].
pub fn provider(case: &str) -> AnyProvider {
    match case {
        "pollybot-body-only" => AnyProvider::Pollybot(Pollybot::accepting_body_only()),
        name => AnyProvider::from_name(name).unwrap_or_else(|error| panic!("fuzz case {name}: {error}")),
    }
}

static NOW: AtomicI64 = AtomicI64::new(SIGNED_AT);

/// Sets the clock every verifier of [`verifier`] reads.
pub fn set_now(now: i64) {
    NOW.store(now, Ordering::Relaxed);
}

/// The clock of the fuzz verifiers: whatever the current input says.
#[derive(Debug, Clone, Copy)]
pub struct InputClock;

impl Clock for InputClock {
    fn now_unix(&self) -> i64 {
        NOW.load(Ordering::Relaxed)
    }
}

/// The verifier of `case` (built once per process), on its fixed keyring and [`InputClock`].
///
/// # Panics
///
/// For a case not in [`CASES`].
pub fn verifier(case: &str) -> &'static Verifier<AnyProvider> {
    static VERIFIERS: OnceLock<Vec<Verifier<AnyProvider>>> = OnceLock::new();
    let all = VERIFIERS.get_or_init(|| {
        CASES
            .iter()
            .map(|case| {
                let builder = Verifier::builder(provider(case)).clock(InputClock);
                let builder = secrets(case).iter().fold(builder, |builder, secret| builder.secret(secret));
                builder.build().unwrap_or_else(|error| panic!("fuzz case {case}: {error}"))
            })
            .collect()
    });
    let index = CASES.iter().position(|known| *known == case).unwrap_or_else(|| panic!("unknown fuzz case {case}"));
    &all[index]
}
