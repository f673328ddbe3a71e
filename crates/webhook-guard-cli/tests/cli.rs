//! The `webhook-guard` binary end to end: `sign` output fed back into `verify` for every provider,
//! refusals with their exit status and first stderr line, usage errors, and what is never printed.

mod support;

use support::{ID, Message, T, T_RFC3339, first_fixture, library_sign, library_verdict, run, run_with_env, secret_for};
use webhook_guard::providers::AnyProvider;

/// The names of the CLI contract, in its order.
const PROVIDERS: &[&str] =
    &["botdog", "pollybot", "breakcold", "breakcold-legacy", "standard", "github", "stripe", "slack", "shopify"];

/// `sign --event <first fixture> --timestamp T --id ID` for `provider` with `secrets`.
fn sign_fixture(provider: &str, secrets: &[&str]) -> support::Output {
    let event = first_fixture(provider).event_type;
    let t = T.to_string();
    let mut args = vec!["sign", "--provider", provider, "--event", event, "--timestamp", &t, "--id", ID];
    for secret in secrets {
        args.extend(["--secret", secret]);
    }
    run(&args, b"")
}

/// `verify --provider <provider> --now <now> <extra…> <header args…>` with `body` on stdin.
fn verify(provider: &str, now: i64, extra: &[&str], headers: &[String], body: &[u8]) -> support::Output {
    let now = now.to_string();
    let mut args = vec!["verify", "--provider", provider, "--now", &now];
    args.extend_from_slice(extra);
    args.extend(headers.iter().map(String::as_str));
    run(&args, body)
}

/// Asserts a refusal: exit 1, nothing on stdout, one stderr line starting `error: <kind>: `.
fn assert_refused(output: &support::Output, kind: &str) {
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert!(output.stderr.starts_with(&format!("error: {kind}: ")), "{output:?}");
    assert_eq!(output.stderr.lines().count(), 1, "{output:?}");
    assert!(output.stderr.ends_with('\n'));
}

/// Asserts a usage error: exit 2, nothing on stdout, an `error:` on stderr.
fn assert_usage_error(output: &support::Output) {
    assert_eq!(output.code, 2, "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    assert!(output.stderr.contains("error:"), "{output:?}");
}

/// A botdog delivery signed by the CLI: header args and body.
fn botdog_delivery(secret: &str) -> (Message, Vec<u8>) {
    let signed = sign_fixture("botdog", &[secret]);
    assert_eq!(signed.code, 0, "{signed:?}");
    (Message::parse(&signed.stdout), first_fixture("botdog").body.as_bytes().to_vec())
}

#[test]
fn the_contract_names_are_the_compiled_providers() {
    assert_eq!(AnyProvider::NAMES, PROVIDERS);
}

#[test]
fn every_provider_signs_a_fixture_that_verify_accepts() {
    for &provider in PROVIDERS {
        let secret = secret_for(provider);
        let fixture = first_fixture(provider);
        let signed = sign_fixture(provider, &[secret]);
        assert_eq!(signed.code, 0, "{provider}: {signed:?}");
        assert!(signed.stderr.is_empty(), "{provider}: {signed:?}");

        // Exactly the library's headers, one `Name: value` line each.
        let expected = library_sign(provider, &[secret], fixture.body.as_bytes(), Some(fixture.event_type));
        let mut expected_out: Vec<u8> =
            expected.headers.iter().flat_map(|(name, value)| format!("{name}: {value}\n").into_bytes()).collect();
        let legacy = provider == "breakcold-legacy";
        if legacy {
            expected_out.push(b'\n');
            expected_out.extend_from_slice(&expected.body);
        }
        assert_eq!(signed.stdout_str(), String::from_utf8(expected_out).unwrap(), "{provider}");

        let message = Message::parse(&signed.stdout);
        let header_text = message.header_lines.join("\n");
        assert!(!header_text.contains(secret), "{provider}: secret in headers");
        let body = if legacy {
            let body = message.body.clone().expect("legacy prints the body");
            assert!(String::from_utf8_lossy(&body).contains(secret), "the legacy body carries the secret");
            body
        } else {
            assert!(message.body.is_none(), "{provider}: no body printed");
            assert!(!signed.stdout_str().contains(secret), "{provider}: secret printed");
            fixture.body.as_bytes().to_vec()
        };

        let verified = verify(provider, T, &["--secret", secret], &message.header_args(None), &body);
        assert_eq!(verified.code, 0, "{provider}: {verified:?}");
        assert!(verified.stderr.is_empty(), "{provider}: {verified:?}");
        let line = verified.stdout_str();
        assert!(line.ends_with('\n') && line.lines().count() == 1, "{provider}: one line: {line:?}");
        assert!(line.starts_with(&format!("{{\"provider\":\"{provider}\",\"id\":")), "{provider}: key order: {line}");
        let json: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(json["provider"], provider);
        assert_eq!(json["event_type"], fixture.event_type, "{provider}");
        assert_eq!(json, library_verdict(provider, secret, &message.headers(), &body), "{provider}");
        if ["standard", "github", "shopify"].contains(&provider) {
            assert_eq!(json["id"], ID, "{provider}: the id header is the delivery id");
        }
        if provider == "breakcold" {
            // The signed body's eventId wins over the unsigned X-Webhook-Delivery-Id header.
            let event_id = serde_json::from_str::<serde_json::Value>(fixture.body).unwrap()["eventId"].clone();
            assert_eq!(json["id"], event_id, "{provider}: the body's eventId is the delivery id");
        }
        match provider {
            "github" | "shopify" | "breakcold-legacy" => assert!(json["timestamp"].is_null(), "{provider}"),
            _ => assert_eq!(json["timestamp"], T_RFC3339, "{provider}"),
        }
    }
}

#[test]
fn a_tampered_body_is_a_signature_mismatch() {
    let (message, mut body) = botdog_delivery("s3cret-botdog");
    body[10] ^= 0x01;
    let output = verify("botdog", T, &["--secret", "s3cret-botdog"], &message.header_args(None), &body);
    assert_refused(&output, "signature_mismatch");
    assert_eq!(output.stderr, "error: signature_mismatch: no signature matched any configured secret\n");
}

#[test]
fn a_stale_delivery_is_out_of_tolerance_unless_the_tolerance_allows_it() {
    let (message, body) = botdog_delivery("s3cret-botdog");
    let stale = verify("botdog", T + 301, &["--secret", "s3cret-botdog"], &message.header_args(None), &body);
    assert_refused(&stale, "timestamp_out_of_tolerance");
    let early = verify("botdog", T - 301, &["--secret", "s3cret-botdog"], &message.header_args(None), &body);
    assert_refused(&early, "timestamp_out_of_tolerance");
    let wide = verify(
        "botdog",
        T + 301,
        &["--secret", "s3cret-botdog", "--tolerance", "400"],
        &message.header_args(None),
        &body,
    );
    assert_eq!(wide.code, 0, "{wide:?}");
}

#[test]
fn a_missing_signature_header_is_reported() {
    let (message, body) = botdog_delivery("s3cret-botdog");
    let output =
        verify("botdog", T, &["--secret", "s3cret-botdog"], &message.header_args(Some("X-Webhook-Signature")), &body);
    assert_refused(&output, "missing_signature");
}

#[test]
fn the_body_is_checked_byte_for_byte_without_trimming() {
    let body = format!("{}\n", first_fixture("stripe").body);
    let signed =
        run(&["sign", "--provider", "stripe", "--secret", "st", "--timestamp", &T.to_string()], body.as_bytes());
    assert_eq!(signed.code, 0, "{signed:?}");
    let headers = Message::parse(&signed.stdout).header_args(None);
    assert_eq!(verify("stripe", T, &["--secret", "st"], &headers, body.as_bytes()).code, 0);
    let trimmed = verify("stripe", T, &["--secret", "st"], &headers, body.trim_end().as_bytes());
    assert_refused(&trimmed, "signature_mismatch");
}

#[test]
fn explain_prints_steps_on_stderr_and_never_a_secret() {
    let secret = "s3cret-botdog-explain";
    let (message, mut body) = botdog_delivery(secret);
    let ok = verify("botdog", T, &["--secret", secret, "--explain"], &message.header_args(None), &body);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert_eq!(ok.stdout_str().lines().count(), 1);
    assert!(!ok.stderr.is_empty() && !ok.stderr.contains("error:"), "{ok:?}");
    assert!(!ok.stderr.contains(secret));

    body[10] ^= 0x01;
    let failed = verify(
        "botdog",
        T,
        &["--secret", "wrong-one", "--secret", secret, "--explain"],
        &message.header_args(None),
        &body,
    );
    assert_eq!(failed.code, 1, "{failed:?}");
    assert!(failed.stdout.is_empty());
    let lines: Vec<&str> = failed.stderr.lines().collect();
    assert!(lines.len() >= 2, "explanation lines then the error: {failed:?}");
    assert!(lines[lines.len() - 1].starts_with("error: signature_mismatch: "), "{failed:?}");
    assert!(!failed.stderr.contains(secret) && !failed.stderr.contains("wrong-one"), "{failed:?}");

    // breakcold-legacy: the real secret is in the body, the configured one differs; neither shows.
    let signed = sign_fixture("breakcold-legacy", &["legacy-real-secret"]);
    let legacy = Message::parse(&signed.stdout);
    let body = legacy.body.clone().expect("legacy body");
    let output = verify(
        "breakcold-legacy",
        T,
        &["--secret", "legacy-configured", "--explain"],
        &legacy.header_args(None),
        &body,
    );
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.stderr.lines().count() >= 2, "{output:?}");
    assert!(
        !output.stderr.contains("legacy-real-secret") && !output.stderr.contains("legacy-configured"),
        "{output:?}"
    );
}

#[test]
fn secrets_come_from_the_environment_too() {
    let secret = "env-secret-123";
    let (message, body) = botdog_delivery(secret);
    let t = T.to_string();
    let mut args = vec!["verify", "--provider", "botdog", "--now", &t, "--secret-env", "WG_TEST_SECRET"];
    let headers = message.header_args(None);
    args.extend(headers.iter().map(String::as_str));
    let ok = run_with_env(&args, &body, &[("WG_TEST_SECRET", secret)]);
    assert_eq!(ok.code, 0, "{ok:?}");

    let unset = run_with_env(&args, &body, &[]);
    assert_usage_error(&unset);
    assert_eq!(unset.stderr, "error: environment variable `WG_TEST_SECRET` is not set\n");
    let empty = run_with_env(&args, &body, &[("WG_TEST_SECRET", "")]);
    assert_usage_error(&empty);
    assert_eq!(empty.stderr, "error: environment variable `WG_TEST_SECRET` is empty\n");

    let signed = run_with_env(
        &[
            "sign",
            "--provider",
            "botdog",
            "--secret-env",
            "WG_TEST_SECRET",
            "--event",
            "LEAD_PROFILE_VISITED",
            "--timestamp",
            &t,
        ],
        b"",
        &[("WG_TEST_SECRET", secret)],
    );
    assert_eq!(signed.stdout, sign_fixture("botdog", &[secret]).stdout);
}

#[test]
fn rotation_tries_each_secret_in_command_line_order() {
    let (message, body) = botdog_delivery("new-secret");
    let both =
        verify("botdog", T, &["--secret", "old-secret", "--secret", "new-secret"], &message.header_args(None), &body);
    assert_eq!(both.code, 0, "{both:?}");
    let old_only = verify("botdog", T, &["--secret", "old-secret"], &message.header_args(None), &body);
    assert_refused(&old_only, "signature_mismatch");

    // Which secret is first decides what a secret-in-body sender writes.
    let event = first_fixture("breakcold-legacy").event_type;
    let env = [("WG_TEST_FIRST", "from-env")];
    let env_first = run_with_env(
        &[
            "sign",
            "--provider",
            "breakcold-legacy",
            "--event",
            event,
            "--secret-env",
            "WG_TEST_FIRST",
            "--secret",
            "from-arg",
        ],
        b"",
        &env,
    );
    let arg_first = run_with_env(
        &[
            "sign",
            "--provider",
            "breakcold-legacy",
            "--event",
            event,
            "--secret",
            "from-arg",
            "--secret-env",
            "WG_TEST_FIRST",
        ],
        b"",
        &env,
    );
    assert!(env_first.stdout_str().contains(r#""secret":"from-env""#), "{env_first:?}");
    assert!(arg_first.stdout_str().contains(r#""secret":"from-arg""#), "{arg_first:?}");
}

#[test]
fn bodies_come_from_stdin_or_a_file() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join("webhook-guard-cli-body.json");
    let body = first_fixture("slack").body;
    std::fs::write(&file, body).unwrap();
    let file = file.to_str().unwrap();
    let t = T.to_string();

    let from_stdin = run(&["sign", "--provider", "slack", "--secret", "sl", "--timestamp", &t], body.as_bytes());
    let from_file =
        run(&["sign", "--provider", "slack", "--secret", "sl", "--timestamp", &t, "--body", file], b"ignored");
    assert_eq!(from_stdin.code, 0, "{from_stdin:?}");
    assert_eq!(from_stdin.stdout, from_file.stdout);
    let expected = library_sign("slack", &["sl"], body.as_bytes(), None);
    assert_eq!(Message::parse(&from_stdin.stdout).headers(), expected.headers);

    let headers = Message::parse(&from_stdin.stdout).header_args(None);
    let via_stdin = verify("slack", T, &["--secret", "sl"], &headers, body.as_bytes());
    let via_file = verify("slack", T, &["--secret", "sl", "--body", file], &headers, b"ignored");
    assert_eq!(via_stdin.code, 0, "{via_stdin:?}");
    assert_eq!(via_stdin.stdout, via_file.stdout);

    let missing = verify("slack", T, &["--secret", "sl", "--body", "/nonexistent/body.json"], &headers, b"");
    assert_usage_error(&missing);
    assert!(missing.stderr.starts_with("error: cannot read `/nonexistent/body.json`: "), "{missing:?}");
}

#[test]
fn usage_errors_exit_2() {
    let no_secret = run(&["verify", "--provider", "botdog", "--header", "X-Webhook-Signature: t=1,s=00"], b"{}");
    assert_usage_error(&no_secret);
    assert_eq!(no_secret.stderr, "error: at least one --secret or --secret-env is required\n");
    assert_usage_error(&run(&["sign", "--provider", "botdog"], b"{}"));

    let no_colon =
        run(&["verify", "--provider", "botdog", "--secret", "s", "--header", "X-Webhook-Signature t=1"], b"{}");
    assert_usage_error(&no_colon);
    assert!(no_colon.stderr.contains("--header"), "{no_colon:?}");

    assert_usage_error(&run(&["verify", "--provider", "acme", "--secret", "s"], b"{}"));
    assert_usage_error(&run(&["sign", "--provider", "acme", "--secret", "s"], b"{}"));
    assert_usage_error(&run(&["sign", "--provider", "botdog", "--secret", "s", "--event", "NO_SUCH_EVENT"], b""));
    assert_usage_error(&run(
        &["sign", "--provider", "botdog", "--secret", "s", "--event", "LEAD_PROFILE_VISITED", "--body", "x"],
        b"",
    ));
    assert_usage_error(&run(&["verify", "--provider", "botdog", "--secret", "s", "--accept-body-only"], b"{}"));

    // A secret the provider cannot read is a configuration error, and is not echoed.
    let bad_key = run(&["verify", "--provider", "standard", "--secret", "not-a-whsec-key"], b"{}");
    assert_usage_error(&bad_key);
    assert!(!bad_key.stderr.contains("not-a-whsec-key"), "{bad_key:?}");
    assert_usage_error(&run(&["sign", "--provider", "standard", "--secret", "not-a-whsec-key"], b"{}"));
}

#[test]
fn pollybot_body_only_signatures_need_the_opt_in() {
    use webhook_guard::Secret;
    use webhook_guard::testing::{Signer, SigningKey};
    use webhook_guard::{Scheme, SignatureFormat};

    let scheme = Scheme::hmac_sha256("X-Webhook-Signature", SignatureFormat::Single { prefix: "sha256=".to_owned() })
        .signed_content("{body}")
        .unwrap()
        .build()
        .unwrap();
    let key = SigningKey::Secret(Secret::from_utf8("polly").unwrap());
    let body = first_fixture("pollybot").body.as_bytes();
    let signed = Signer::new(scheme, vec![key]).unwrap().sign(body, T, ID);
    let headers: Vec<String> =
        signed.headers.iter().flat_map(|(name, value)| ["--header".to_owned(), format!("{name}: {value}")]).collect();

    assert_refused(&verify("pollybot", T, &["--secret", "polly"], &headers, body), "missing_signature");
    let accepted = verify("pollybot", T, &["--secret", "polly", "--accept-body-only"], &headers, body);
    assert_eq!(accepted.code, 0, "{accepted:?}");
    let json: serde_json::Value = serde_json::from_slice(&accepted.stdout).unwrap();
    assert_eq!(json["provider"], "pollybot");
    assert!(json["timestamp"].is_null());
}

#[test]
fn sign_defaults_to_a_random_id_and_the_current_time() {
    let sign = || run(&["sign", "--provider", "standard", "--secret", secret_for("standard")], b"{\"type\":\"x\"}");
    let (first, second) = (sign(), sign());
    assert_eq!(first.code, 0, "{first:?}");
    let header = |output: &support::Output, name: &str| {
        Message::parse(&output.stdout).headers().into_iter().find(|(n, _)| n == name).map(|(_, v)| v).unwrap()
    };
    let id = header(&first, "webhook-id");
    assert!(id.starts_with("msg_") && id.len() == 28, "{id}");
    assert!(id[4..].bytes().all(|byte| byte.is_ascii_alphanumeric()), "{id}");
    assert_ne!(id, header(&second, "webhook-id"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let timestamp: u64 = header(&first, "webhook-timestamp").parse().unwrap();
    assert!(now.abs_diff(timestamp) < 120, "{timestamp} vs {now}");
}
