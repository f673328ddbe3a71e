//! `webhook-guard listen` as a real process on a free loopback port, stopped with SIGTERM.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A running `listen`. Killed on drop; [`Listener::terminate`] stops it as an operator would.
pub struct Listener {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http://{addr}{path}`, as it logged it.
    pub url: String,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<JoinHandle<()>>,
}

/// How a listener ended.
#[derive(Debug)]
pub struct Stopped {
    pub code: Option<i32>,
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
}

fn collect(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
    url: Option<mpsc::Sender<String>>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Some(url_sender) = &url {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let _ = url_sender.send(rest.split_whitespace().next().unwrap_or_default().to_owned());
                }
                eprintln!("[listen] {line}");
            }
            into.lock().unwrap_or_else(PoisonError::into_inner).push(line);
        }
    })
}

impl Listener {
    /// Starts `webhook-guard listen --addr 127.0.0.1:0 args…` with `env`, and waits (60 s at
    /// most) for its `listening on` line.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_webhook-guard"))
            .arg("listen")
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn webhook-guard listen");
        let (stdout, stderr) = (Arc::new(Mutex::new(Vec::new())), Arc::new(Mutex::new(Vec::new())));
        let (url_sender, url_receiver) = mpsc::channel();
        let readers = vec![
            collect(child.stdout.take().expect("stdout"), Arc::clone(&stdout), None),
            collect(child.stderr.take().expect("stderr"), Arc::clone(&stderr), Some(url_sender)),
        ];
        let Ok(url) = url_receiver.recv_timeout(Duration::from_secs(60)) else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("listen never said where it listens: {:?}", stderr.lock().unwrap_or_else(PoisonError::into_inner));
        };
        let authority = url.strip_prefix("http://").expect("an http url").split('/').next().expect("authority");
        let addr = authority.parse().expect("a socket address");
        Self { child, addr, url, stdout, stderr, readers }
    }

    /// As [`Listener::start_with_env`] with no extra environment.
    pub fn start(args: &[&str]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// The lines printed on stdout so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits (60 s at most) for the process to exit.
    pub fn terminate(mut self) -> Stopped {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).expect("a pid"));
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
        let deadline = Instant::now() + Duration::from_secs(60);
        let code = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status.code();
            }
            assert!(Instant::now() < deadline, "listen did not exit within 60 s of SIGTERM");
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            reader.join().expect("reader");
        }
        Stopped {
            code,
            stdout: std::mem::take(&mut *self.stdout.lock().unwrap_or_else(PoisonError::into_inner)),
            stderr: std::mem::take(&mut *self.stderr.lock().unwrap_or_else(PoisonError::into_inner)),
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (`limit` at most) until `done` holds.
pub fn wait_until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
