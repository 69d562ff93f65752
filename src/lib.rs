//! mlregistry: the KX ML Registry (`.ml.registry`) as a native kdb+ extension.
//!
//! Rooms, each knowing nothing of the ones below it in this list:
//! - [`ffi`]: the C functions q loads with `2:`, the only `unsafe` code (besides one
//!   `kill(2)` of a CLI's process group in `storage::cloud::os`);
//! - [`api`]: q argument forms and result shapes of each `.ml.registry` call;
//! - [`registry`]: models, versions, metrics and parameters, in plain Rust;
//! - [`storage`]: where the files live (local disk, cloud CLIs);
//! - [`qdata`]: q values and their byte formats (IPC, kdb+ files, q's JSON).

pub mod api;
pub mod ffi;
pub mod qdata;
pub mod registry;
pub mod storage;
