//! `MemoryStore` against the store protocol that every `DedupStore` passes (the rules are in
//! `webhook_guard_test_support::store_protocol`). Its own behaviour — capacity, eviction order,
//! the count of live evictions — is tested beside it, in `src/dedup/memory.rs`.

use webhook_guard::MemoryStore;

// A fresh store per rule; nothing must outlive it.
webhook_guard_test_support::store_protocol_suite!(async { (MemoryStore::default(), ()) });
