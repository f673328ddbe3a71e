//! `PostgresServer` against the real binaries: it starts, a kill is a crash that takes its backends
//! with it and refuses connections, a restart keeps what was committed, and drop leaves nothing
//! behind.
#![allow(clippy::unwrap_used)]

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use webhook_guard_test_support::postgres_server::PostgresServer;

fn connect(port: u16) -> std::io::Result<TcpStream> {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_secs(2))
}

/// A client whose backend is counting to 10^11 (minutes of CPU), in the wire protocol (v3) by
/// hand: this crate has no driver. A backend that waits (`pg_sleep`, an idle session) exits as
/// soon as its postmaster dies; one computing does not notice until it next waits, so it is the one
/// a kill must take care of.
fn busy_client(port: u16) -> TcpStream {
    let mut stream = connect(port).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let params = b"user\0postgres\0database\0postgres\0\0";
    let mut startup = Vec::new();
    startup.extend_from_slice(&u32::try_from(8 + params.len()).unwrap().to_be_bytes());
    startup.extend_from_slice(&196_608u32.to_be_bytes()); // protocol 3.0
    startup.extend_from_slice(params);
    stream.write_all(&startup).unwrap();
    // Messages until ReadyForQuery ('Z'): authentication ok (trust), parameters, backend key.
    loop {
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).unwrap();
        assert_ne!(header[0], b'E', "the server refused the startup");
        let len = u32::from_be_bytes(header[1..].try_into().unwrap()) as usize;
        let mut body = vec![0u8; len - 4];
        stream.read_exact(&mut body).unwrap();
        if header[0] == b'Z' {
            break;
        }
    }
    let query = b"SELECT count(*) FROM generate_series(1::bigint, 100000000000)\0";
    let mut message = vec![b'Q'];
    message.extend_from_slice(&u32::try_from(4 + query.len()).unwrap().to_be_bytes());
    message.extend_from_slice(query);
    stream.write_all(&message).unwrap();
    stream
}

#[test]
fn a_killed_server_refuses_connections_and_a_restart_keeps_what_was_committed() {
    let mut server = PostgresServer::start();
    let port = server.port();
    assert_eq!(server.url(), format!("postgres://postgres@127.0.0.1:{port}/postgres"));
    let url = server.create_database("kept");
    assert_eq!(url, format!("postgres://postgres@127.0.0.1:{port}/kept"));
    server.psql("kept", "CREATE TABLE ids (id text PRIMARY KEY); INSERT INTO ids VALUES ('committed')");

    let mut busy = busy_client(port);
    let before = server.processes();
    assert!(before.len() > 2, "the postmaster, its helpers and the busy backend: {before:?}");

    server.kill();
    assert!(server.processes().is_empty(), "{:?} outlived the kill", server.processes());
    // Its connection ends at once (not after the read timeout), without the query's result.
    let mut rest = Vec::new();
    match busy.read_to_end(&mut rest) {
        Ok(_) => assert!(!rest.windows(8).any(|w| w == b"SELECT 1"), "the busy query completed: {rest:?}"),
        Err(error) => assert_eq!(error.kind(), ErrorKind::ConnectionReset, "{error}"),
    }
    let refused = connect(port).expect_err("a killed server accepts nothing");
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused}");

    server.restart();
    assert_eq!(server.port(), port, "a restart keeps the port");
    connect(port).expect("the restarted server accepts connections");
    assert_eq!(server.psql("kept", "SELECT id FROM ids"), "committed", "what was committed survives the kill");

    // Twice: the second kill finds a recovered server, not a fresh one.
    server.kill();
    server.restart();
    assert_eq!(server.psql("kept", "SELECT count(*) FROM ids"), "1");
}

#[test]
fn servers_started_at_once_are_separate_and_drop_removes_everything() {
    let servers: Vec<PostgresServer> = std::thread::scope(|scope| {
        let starts: Vec<_> = (0..3).map(|_| scope.spawn(PostgresServer::start)).collect();
        starts.into_iter().map(|start| start.join().unwrap()).collect()
    });
    let mut ports: Vec<u16> = servers.iter().map(PostgresServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 3, "{ports:?}");
    // Each its own cluster: a table made in one is absent from the others.
    servers[0].psql("postgres", "CREATE TABLE only_here (x int)");
    assert_eq!(servers[1].psql("postgres", "SELECT to_regclass('only_here') IS NULL"), "t");

    let dirs: Vec<_> = servers.iter().map(|server| server.data_dir().parent().unwrap().to_path_buf()).collect();
    let ports: Vec<u16> = servers.iter().map(PostgresServer::port).collect();
    drop(servers);
    for (dir, port) in dirs.iter().zip(ports) {
        assert!(!dir.exists(), "{} outlived its server", dir.display());
        assert_eq!(connect(port).map_err(|e| e.kind()).err(), Some(ErrorKind::ConnectionRefused), "port {port}");
    }
}
