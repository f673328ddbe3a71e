//! A real PostgreSQL server of the test's own, on a free loopback port: what the SQL store's tests
//! run against.
//!
//! [`PostgresServer::start`] runs `initdb` into a fresh directory under `/tmp` and starts
//! `postgres` on it; each test can then make its own database ([`PostgresServer::create_database`])
//! on one server. [`PostgresServer::kill`] ends the server as a crash does (SIGKILL, nothing
//! flushed by a shutdown) and [`PostgresServer::restart`] starts it again on the same port and
//! data, so a test can take the database away mid-run and see what committed survive it.
//!
//! The binaries are `$PG_BIN/{initdb,postgres,pg_isready,createdb,psql}` when `$PG_BIN` is set,
//! else those of the highest `/usr/lib/postgresql/*/bin` (where Debian's `postgresql` package puts
//! them, off the `PATH`), else the directory `initdb` on the `PATH` resolves to.
//!
//! PostgreSQL refuses to run as root, and CI runs the tests as root: then every binary runs as the
//! `postgres` system user (which Debian's package creates), and the directory is that user's.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::os::unix::fs::DirBuilderExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::signal::{self, Signal};
use nix::unistd::{Pid, User};

/// How to install the server, for the panics that find it missing.
const INSTALL: &str = "install it with `apt-get install -y postgresql` (Debian/Ubuntu; `brew install postgresql` on \
                       macOS), or point $PG_BIN at the directory holding `initdb` and `postgres`";

/// How long a start (or a restart's crash recovery) may take on a loaded CI machine.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A PostgreSQL server of our own (trust authentication, user `postgres`), killed and its
/// directory removed on drop.
#[derive(Debug)]
pub struct PostgresServer {
    bin: PathBuf,
    /// The temporary directory: `data/` (the cluster), the Unix socket and `postgres.log`.
    dir: PathBuf,
    run_as: Option<RunAs>,
    port: u16,
    postmaster: Option<Child>,
}

/// The user the binaries run as when this process is root.
#[derive(Debug, Clone, Copy)]
struct RunAs {
    uid: u32,
    gid: u32,
}

impl PostgresServer {
    /// Creates a cluster in a fresh temporary directory and starts a server on it, on a free
    /// loopback port; returns once it accepts connections.
    ///
    /// # Panics
    ///
    /// When PostgreSQL is not installed (the message says how to install it), when this process is
    /// root and there is no `postgres` user to run it as, or when it does not start.
    pub fn start() -> Self {
        let bin = bin_dir();
        let run_as = run_as();
        let dir = temp_dir(run_as);
        // Dropped on a panic below: the directory goes with it.
        let mut server = Self { bin, dir, run_as, port: 0, postmaster: None };
        server.initdb();
        for _ in 0..5 {
            server.port = free_port();
            match server.spawn_ready() {
                Ok(child) => {
                    server.postmaster = Some(child);
                    return server;
                }
                // Another process took the port between our probe and the server's bind: try another.
                Err(log) if log.contains("could not create any TCP/IP sockets") => continue,
                Err(log) => panic!("postgres did not start:\n{log}"),
            }
        }
        panic!("postgres did not start on a free loopback port after 5 tries");
    }

    /// The port it listens on (the same after a restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://postgres@127.0.0.1:{port}/postgres`: the superuser, no password.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// Creates the database `name` (letters, digits and `_`) and returns its URL: one server, a
    /// database per test.
    ///
    /// # Panics
    ///
    /// When `name` has other characters (it goes into a URL unescaped) or `createdb` fails (the
    /// name is taken, the server is down).
    pub fn create_database(&self, name: &str) -> String {
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "database names here are letters, digits and `_`: {name:?}"
        );
        let port = self.port.to_string();
        let output = self.run("createdb", &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "--", name]);
        assert!(output.status.success(), "createdb {name} failed: {}", String::from_utf8_lossy(&output.stderr));
        self.database_url(name)
    }

    /// Runs `sql` with `psql` in `database` and returns what it printed (unaligned, tuples only,
    /// trimmed): for a test to look into the database without a driver.
    ///
    /// # Panics
    ///
    /// When the statement fails or the server is down.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let port = self.port.to_string();
        let args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", &port, "-U", "postgres"];
        let output = self.run("psql", &[&args[..], &["-d", database, "-c", sql]].concat());
        assert!(output.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// Kills the server as a crash does: SIGKILL to the postmaster, then to any backend still
    /// running, and waits until none is left (so [`restart`](Self::restart) does not find the old
    /// shared memory in use). Nothing is shut down cleanly: the next start runs crash recovery.
    ///
    /// # Panics
    ///
    /// When a backend outlives the kill by 10 s.
    pub fn kill(&mut self) {
        let Some(mut postmaster) = self.postmaster.take() else { return };
        let _ = postmaster.kill();
        let _ = postmaster.wait();
        // A backend notices its postmaster's death only when it next waits: an idle one at once,
        // one computing a query not before it ends (minutes, for the test's). Kill them too, as a
        // machine crash would. Without `/proc` none is found here, and `restart` retries until
        // they are gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = self.processes();
            if left.is_empty() {
                break;
            }
            assert!(Instant::now() < deadline, "backends {left:?} outlived their postmaster by 10 s");
            for pid in left {
                let _ = signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        // Every process of the old server is gone: its lock file is stale. Postgres removes a
        // stale one itself unless its pid was reused meanwhile (pids wrap at 32768 by default), so
        // remove it now, when we know.
        let _ = fs::remove_file(self.data_dir().join("postmaster.pid"));
    }

    /// Kills the server (if it runs) and starts it again on the same port and data directory:
    /// what was committed before is there, after crash recovery.
    ///
    /// # Panics
    ///
    /// When it does not accept connections within 30 s.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.spawn_ready() {
                Ok(child) => {
                    self.postmaster = Some(child);
                    return;
                }
                Err(log) => {
                    // The port may still be held, briefly, by a socket of the old server's clients.
                    assert!(Instant::now() < deadline, "postgres could not restart on port {}:\n{log}", self.port);
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// The process ids of the server: every live process whose working directory is the data
    /// directory (the postmaster and each backend `chdir` there). Empty where there is no `/proc`.
    pub fn processes(&self) -> Vec<i32> {
        let data_dir = fs::canonicalize(self.data_dir()).unwrap_or_else(|_| self.data_dir());
        let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            // A zombie's `cwd` is unreadable: it holds nothing, and is not counted.
            .filter(|pid| fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == data_dir))
            .collect()
    }

    /// The cluster's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn database_url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// A command running `program` from the bin directory, as the `postgres` user when we are
    /// root, in the temporary directory (the test's own working directory may not be readable by
    /// that user) and with English messages (the port-taken check reads them).
    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin.join(program));
        command.current_dir(&self.dir).env("LC_ALL", "C").stdin(Stdio::null());
        // The caller's libpq settings must not redirect our clients elsewhere.
        for var in ["PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE", "PGSERVICE", "PGOPTIONS"] {
            command.env_remove(var);
        }
        if let Some(RunAs { uid, gid }) = self.run_as {
            command.uid(uid).gid(gid);
        }
        command
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|error| panic!("could not run {}: {error}", self.bin.join(program).display()))
    }

    fn initdb(&self) {
        let data = self.data_dir();
        let output = self.run(
            "initdb",
            &["-D", path_str(&data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"],
        );
        assert!(
            output.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts `postgres` on `self.port` and waits until it accepts connections; `Err` with what it
    /// logged when it exited first.
    fn spawn_ready(&self) -> Result<Child, String> {
        let log_path = self.dir.join("postgres.log");
        let log = OpenOptions::new().create(true).append(true).open(&log_path).unwrap();
        // The log holds every earlier start too: only what this one wrote is its story.
        let logged_before = usize::try_from(log.metadata().unwrap().len()).unwrap();
        let this_start =
            || fs::read_to_string(&log_path).unwrap_or_default().get(logged_before..).unwrap_or("").to_owned();
        let mut child = self
            .command("postgres")
            .args(["-D", path_str(&self.data_dir()), "-p", &self.port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", &format!("unix_socket_directories={}", path_str(&self.dir))])
            // Speed, at no cost to what a test can observe: without fsync, written data is lost
            // only when the machine crashes, never when the server is killed, since the kernel
            // keeps it. `synchronous_commit` stays on: off, a commit returns before its WAL is
            // even written, and a kill right after it loses it (what `restart` must not do).
            .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("could not start {}: {error}", self.bin.join("postgres").display()));
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                return Err(this_start());
            }
            if self.accepts_connections() {
                return Ok(child);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("postgres on port {} did not accept connections within {START_TIMEOUT:?}:\n{}", self.port, this_start());
    }

    /// `pg_isready` over TCP: exit status 0 only once the server accepts connections (not while it
    /// starts up or recovers).
    fn accepts_connections(&self) -> bool {
        let port = self.port.to_string();
        self.run("pg_isready", &["-q", "-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-d", "postgres", "-t", "2"])
            .status
            .success()
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// `$PG_BIN`, else the highest `/usr/lib/postgresql/*/bin` holding `initdb` and `postgres`, else
/// the directory of the `initdb` on the `PATH` (through its symlinks).
fn bin_dir() -> PathBuf {
    let has_binaries = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("PG_BIN") {
        let dir = PathBuf::from(dir);
        assert!(has_binaries(&dir), "$PG_BIN ({}) holds no `initdb` and `postgres`: {INSTALL}", dir.display());
        return dir;
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|entry| {
            let entry = entry.ok()?;
            // Directories are major versions ("15", "9.6"): compare them as numbers, not text.
            let major = entry.file_name().to_str()?.split('.').next()?.parse().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .filter(|(_, dir)| has_binaries(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return dir;
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("initdb"))
        .find(|initdb| initdb.is_file());
    let resolved = on_path.and_then(|initdb| Some(fs::canonicalize(initdb).ok()?.parent()?.to_path_buf()));
    if let Some(dir) = resolved.filter(|dir| has_binaries(dir)) {
        return dir;
    }
    panic!(
        "PostgreSQL is not installed: these tests run against a real server that they start themselves. \
         {INSTALL}."
    )
}

/// The `postgres` user when this process is root (PostgreSQL refuses to run as root); `None`
/// otherwise (the binaries run as we do).
fn run_as() -> Option<RunAs> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let user = User::from_name("postgres").ok().flatten().unwrap_or_else(|| {
        panic!(
            "these tests run as root, and PostgreSQL refuses to: they run it as the `postgres` system \
             user, which does not exist here. Debian's package creates it: `apt-get install -y postgresql` \
             (or `useradd --system --home /var/lib/postgresql postgres`)."
        )
    });
    Some(RunAs { uid: user.uid.as_raw(), gid: user.gid.as_raw() })
}

/// A fresh directory `/tmp/webhook-guard-postgres-{pid}-{n}-{nanos}`, mode 0700, owned by whoever
/// runs the binaries. Under `/tmp` itself, not `$TMPDIR`: the `postgres` user must reach it, and
/// the Unix socket's path inside it must stay within its ~100-byte limit.
fn temp_dir(run_as: Option<RunAs>) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
    let dir = PathBuf::from(format!("/tmp/webhook-guard-postgres-{}-{n}-{nanos}", std::process::id()));
    DirBuilder::new().mode(0o700).create(&dir).unwrap_or_else(|error| panic!("{}: {error}", dir.display()));
    if let Some(RunAs { uid, gid }) = run_as {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    }
    // Created by us, before the server runs: a log we can read even when it cannot start.
    File::create(dir.join("postgres.log")).unwrap();
    dir
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
