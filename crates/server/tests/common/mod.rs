//! Starting a real service on a loopback port for the tests.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;

use genreid_server::{AppState, Config};

/// A service on 127.0.0.1 (any free port), running until the test ends.
pub async fn start(model: &str, config: Config) -> SocketAddr {
    let loaded = genreid_pipeline::load_model(Some(model)).unwrap();
    let state = AppState::new(loaded, model.to_string(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(genreid_server::serve(listener, state, std::future::pending()));
    addr
}

/// An audio fixture from `../shared` (the test fails clearly when it is missing).
pub fn fixture(name: &str) -> PathBuf {
    genreid_testkit::fixture_audio(name)
}

/// The bytes of an audio fixture.
pub fn read(name: &str) -> Vec<u8> {
    let path = fixture(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
