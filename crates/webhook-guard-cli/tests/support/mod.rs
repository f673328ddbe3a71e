//! Running the real `webhook-guard` binary, and the library as an oracle for what it should print.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod listener;
pub mod scripted_server;

use std::io::Write as _;
use std::process::{Command, Stdio};

use webhook_guard::providers::AnyProvider;
use webhook_guard::testing::{Fixture, Signer, fixtures};
use webhook_guard::{FixedClock, Verifier};

/// The signed timestamp used throughout: 2025-11-20T10:15:30Z.
pub const T: i64 = 1_763_633_730;
/// `T` as the verify command prints it.
pub const T_RFC3339: &str = "2025-11-20T10:15:30Z";
/// The delivery id given to `sign --id`.
pub const ID: &str = "msg_cli_test_0001";

/// What one run of the binary did.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Output {
    pub fn stdout_str(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }
}

/// Runs `webhook-guard args…` with `stdin` piped in and `env` added to its environment.
pub fn run_with_env(args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn webhook-guard");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // A command that does not read stdin (`sign --event`) may exit first: ignore a broken pipe.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for webhook-guard");
    writer.join().expect("stdin writer");
    Output {
        code: output.status.code().expect("exited normally"),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs `webhook-guard args…` with `stdin` piped in.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    run_with_env(args, stdin, &[])
}

/// A secret each provider accepts (standard wants `whsec_<base64>`).
pub fn secret_for(provider: &str) -> &'static str {
    match provider {
        "standard" => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        _ => "cli-test-secret-7d1f",
    }
}

/// The first fixture of `provider`.
pub fn first_fixture(provider: &str) -> &'static Fixture {
    fixtures(provider).first().expect("every provider has a fixture")
}

/// A printed HTTP message split into its header lines and, after an empty line, its body.
pub struct Message {
    pub header_lines: Vec<String>,
    pub body: Option<Vec<u8>>,
}

impl Message {
    /// Splits `sign`'s output.
    pub fn parse(out: &[u8]) -> Self {
        let (head, body) = match out.windows(2).position(|pair| pair == b"\n\n") {
            Some(at) => (&out[..at + 1], Some(out[at + 2..].to_vec())),
            None => (out, None),
        };
        let head = std::str::from_utf8(head).expect("headers are UTF-8");
        assert!(head.ends_with('\n'), "every header line ends with a newline: {head:?}");
        let header_lines = head.lines().map(str::to_owned).collect();
        Self { header_lines, body }
    }

    /// The headers as name/value pairs, split like the CLI splits `--header`.
    pub fn headers(&self) -> Vec<(String, String)> {
        self.header_lines
            .iter()
            .map(|line| {
                let (name, value) = line.split_once(": ").expect("`Name: value`");
                (name.to_owned(), value.to_owned())
            })
            .collect()
    }

    /// `--header <line>` for each header, optionally leaving out the header called `skip`.
    pub fn header_args(&self, skip: Option<&str>) -> Vec<String> {
        let mut args = Vec::new();
        for line in &self.header_lines {
            let name = line.split_once(':').map_or("", |(name, _)| name);
            if skip.is_some_and(|skip| skip.eq_ignore_ascii_case(name)) {
                continue;
            }
            args.push("--header".to_owned());
            args.push(line.clone());
        }
        args
    }
}

/// What the library signs for `provider` (the CLI must print exactly this).
pub fn library_sign(
    provider: &str,
    secrets: &[&str],
    body: &[u8],
    event: Option<&str>,
) -> webhook_guard::testing::SignedRequest {
    let provider = AnyProvider::from_name(provider).expect("known provider");
    Signer::for_provider(&provider, secrets).expect("signer").sign_delivery(body, T, ID, event)
}

/// The JSON line the library's verifier implies for this delivery, as a `serde_json::Value`.
pub fn library_verdict(provider: &str, secret: &str, headers: &[(String, String)], body: &[u8]) -> serde_json::Value {
    let verifier = Verifier::builder(AnyProvider::from_name(provider).expect("known provider"))
        .secret(secret)
        .clock(FixedClock(T))
        .build()
        .expect("verifier");
    let delivery = verifier.verify(headers, body.to_vec()).expect("the library accepts it");
    let timestamp =
        delivery.timestamp().map(|t| t.format(&time::format_description::well_known::Rfc3339).expect("format"));
    serde_json::json!({
        "provider": delivery.provider(),
        "id": delivery.id(),
        "event_type": delivery.event_type(),
        "timestamp": timestamp,
        "event": serde_json::to_value(delivery.event()).expect("event serializes"),
    })
}
