//! A scripted loopback HTTP server.

use std::io::{Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// The requests a scripted server received: each one's head and body.
pub type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A loopback HTTP server (the target of --forward, a receiver for send): answers the statuses
/// of `script` in turn (the last one from then on) with `headers`, recording each request's head
/// and body. Returns `http://{addr}/internal/events`.
pub fn scripted_server(script: Vec<u16>, headers: &[(&str, &str)]) -> (String, Received) {
    let extra: String = headers.iter().map(|(name, value)| format!("{name}: {value}\r\n")).collect();
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/internal/events", server.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for (index, stream) in server.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0_u8; 4096];
            let (head, body) = loop {
                let read = stream.read(&mut buffer).unwrap();
                request.extend_from_slice(&buffer[..read]);
                let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                let head = String::from_utf8_lossy(&request[..end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|line| {
                        line.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                while request.len() < end + 4 + length {
                    let read = stream.read(&mut buffer).unwrap();
                    request.extend_from_slice(&buffer[..read]);
                }
                break (head, request[end + 4..end + 4 + length].to_vec());
            };
            record.lock().unwrap().push((head, body));
            let status = script.get(index).or(script.last()).copied().unwrap();
            let _ = stream.write_all(
                format!("HTTP/1.1 {status} X\r\n{extra}content-length: 0\r\nconnection: close\r\n\r\n").as_bytes(),
            );
        }
    });
    (url, seen)
}
