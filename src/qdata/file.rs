//! kdb+ binary files as q's `set` writes them for tables, dictionaries, functions and atoms:
//! the two bytes `0xFF 0x01` followed by the IPC payload of the object.
//!
//! Files compressed by q (`.z.zd`, header `kxzipped`) and the other on-disk layouts (simple
//! vectors `0xFE 0x20`, general lists in the "anymap" form) are refused with a clear error;
//! the registry itself only ever writes the plain form.

use super::{Value, ipc};

/// The header q writes in front of a serialised object.
pub const MAGIC: [u8; 2] = [0xFF, 0x01];

/// Why a file could not be read as a kdb+ object file; the caller adds the path.
pub fn describe_header(bytes: &[u8]) -> Option<String> {
    if bytes.starts_with(b"kxzipped") {
        return Some(
            "is compressed by q (.z.zd / -19!); rewrite it uncompressed in q with \
             `.z.zd:(); f set get f` before using it with this registry"
                .into(),
        );
    }
    if bytes.starts_with(&MAGIC) {
        return None;
    }
    if bytes.starts_with(&[0xFE, 0x20]) {
        return Some("is a kdb+ vector file, not a serialised object".into());
    }
    if bytes.len() < 2 {
        return Some("is too short to be a kdb+ file".into());
    }
    Some(format!(
        "has an unknown header 0x{:02x}{:02x} (expected 0xff01, a kdb+ object file)",
        bytes[0], bytes[1]
    ))
}

/// The IPC payload of a kdb+ object file.
pub fn payload(bytes: &[u8]) -> Result<&[u8], String> {
    match describe_header(bytes) {
        Some(why) => Err(why),
        None => Ok(&bytes[2..]),
    }
}

/// Reads a kdb+ object file's bytes into a value.
pub fn read(bytes: &[u8]) -> Result<Value, String> {
    let p = payload(bytes)?;
    ipc::decode(p).map_err(|e| format!("is not valid kdb+ data: {e}"))
}

/// The bytes of a kdb+ object file holding `v`.
pub fn write(v: &Value) -> Vec<u8> {
    from_payload(&ipc::encode(v))
}

/// The bytes of a kdb+ object file holding an already-serialised payload.
pub fn from_payload(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 2);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_files_are_named_as_such() {
        let why = read(b"kxzipped\0\0\0\0").unwrap_err();
        assert!(why.contains("compressed"), "{why}");
    }

    #[test]
    fn unknown_headers_are_refused() {
        let why = read(b"PK\x03\x04").unwrap_err();
        assert!(why.contains("unknown header 0x504b"), "{why}");
    }

    #[test]
    fn an_object_round_trips() {
        let v = Value::dict(vec![("a", Value::long(1))]);
        assert_eq!(read(&write(&v)).unwrap(), v);
    }
}
