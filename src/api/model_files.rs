//! Models given to `set.model` as a file (or, for pyspark, a folder) path: each is checked to
//! be something its model type's loader reads, then read into the version's files.
//!
//! The checks look at the bytes only (no Python here), so they accept every form the
//! original's loaders accept and reject what none of them could read:
//! - `q`: a kdb+ object file written by `set` (`0xff01`), holding a q model, or a file
//!   compressed by q (`kxzipped`, which q checks when it loads it);
//! - `python`, `sklearn`, `xgboost` (`joblib.load`): pickles of any protocol, and joblib
//!   files compressed with zlib, gzip, bz2, xz, lzma or lz4 (or joblib's old `ZF` form);
//! - `keras` (`load_model`): HDF5 files, the signature at 0 or after a user block;
//! - `torch` (`torch.load`, `torch.jit.load`): zip archives with torch's layout (one top
//!   folder holding `data.pkl` and `version`), TorchScript archives among them, and the
//!   legacy pickle-based format;
//! - `pyspark` (`PipelineModel.load`): a folder with `metadata/`, copied recursively.

use crate::qdata::{Value, file, json};
use crate::registry::error::{Error, Result};
use std::path::Path;

/// The files of a model given by path, relative to the version folder: `target` itself
/// (e.g. `model/mdl.pkl`), or for a pyspark folder every file below `target/`. Errors name
/// the argument `arg` (`model`, or ``model`key`` for a keyed model).
pub fn read(
    arg: &str,
    path: &str,
    model_type: &str,
    target: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let refused = |mtype: &str, path: &str, why: &str| refused(arg, mtype, path, why);
    let p = Path::new(path);
    let meta = std::fs::metadata(p).map_err(|e| {
        let why = if e.kind() == std::io::ErrorKind::NotFound {
            "does not exist".to_string()
        } else {
            format!("cannot be read: {e}")
        };
        refused(model_type, path, &why)
    })?;
    if model_type == "pyspark" {
        if !meta.is_dir() {
            return Err(refused(model_type, path, "is a file, not a folder"));
        }
        return spark_folder(arg, path, target);
    }
    if meta.is_dir() {
        return Err(refused(
            model_type,
            path,
            "is a folder (only pyspark models are folders)",
        ));
    }
    let bytes =
        std::fs::read(p).map_err(|e| refused(model_type, path, &format!("cannot be read: {e}")))?;
    if bytes.is_empty() {
        return Err(refused(model_type, path, "is empty"));
    }
    check(model_type, &bytes).map_err(|why| refused(model_type, path, &why))?;
    Ok(vec![(target.to_string(), bytes)])
}

/// What a model type's loader reads, for error messages.
fn expected(model_type: &str) -> &'static str {
    match model_type {
        "q" => {
            "a kdb+ file written by q's set (header 0xff01, or kxzipped when compressed) \
             holding a q model"
        }
        "keras" => "a Keras HDF5 file (what keras.models.load_model reads)",
        "torch" => {
            "a file written by torch.save or torch.jit.save (a zip archive with torch's \
             layout, or torch's legacy format)"
        }
        "pyspark" => "a folder written by a pyspark PipelineModel's save (with metadata/)",
        _ => {
            "a pickle (any protocol) or a joblib file, compressed or not (what joblib.load \
             reads)"
        }
    }
}

fn refused(arg: &str, model_type: &str, path: &str, why: &str) -> Error {
    Error::arg(
        arg,
        format!(
            "{} for modelType {model_type:?}; {path} {why}",
            expected(model_type)
        ),
    )
}

/// Ok when `bytes` are something the loader of `model_type` reads; else what they are.
pub fn check(model_type: &str, bytes: &[u8]) -> std::result::Result<(), String> {
    let ok = match model_type {
        "q" => return check_q(bytes),
        "keras" => is_hdf5(bytes),
        "torch" => {
            if bytes.starts_with(ZIP) {
                return torch_zip(bytes);
            }
            is_torch_legacy(bytes)
        }
        _ => pickle_protocol(bytes).is_some() || joblib_compressor(bytes).is_some(),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("is {}", describe(bytes)))
    }
}

fn check_q(bytes: &[u8]) -> std::result::Result<(), String> {
    if bytes.starts_with(b"kxzipped") {
        return Ok(());
    }
    let value = file::read(bytes)?;
    if super::models::is_q_model(&value) {
        Ok(())
    } else {
        Err(format!(
            "holds {}, not a q model (a function, a projection or a dictionary with a \
             predict key)",
            super::args::describe(&value)
        ))
    }
}

const ZIP: &[u8] = b"PK\x03\x04";
const HDF5: &[u8] = b"\x89HDF\r\n\x1a\n";

/// torch's legacy format begins with this number pickled (as a 10-byte LONG1).
const TORCH_MAGIC: [u8; 10] = [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

/// The protocol of a pickle, judged by its first opcodes and its final STOP (`.`).
pub fn pickle_protocol(b: &[u8]) -> Option<u8> {
    if b.len() < 2 || *b.last()? != b'.' {
        return None;
    }
    if b[0] == 0x80 {
        return (2..=5).contains(&b[1]).then_some(b[1]);
    }
    // Protocols 0 and 1 have no header: the stream starts with an opcode that pushes.
    match b[0] {
        b'c' => global_line(&b[1..]).then_some(0),
        b'(' | b']' | b'}' | b')' | b'N' | b'I' | b'L' | b'F' | b'S' | b'V' | b'J' | b'K'
        | b'M' | b'G' | b'U' | b'T' | b'X' => Some(0),
        _ => None,
    }
}

/// A GLOBAL opcode's argument: `module\nname\n`, both printable names.
fn global_line(b: &[u8]) -> bool {
    let mut lines = b.splitn(3, |c| *c == b'\n');
    let name_ok = |s: &[u8]| {
        !s.is_empty()
            && s.iter()
                .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'.')
    };
    matches!((lines.next(), lines.next(), lines.next()),
        (Some(m), Some(n), Some(_)) if name_ok(m) && name_ok(n))
}

/// The compressor of a compressed joblib file, from its magic bytes.
pub fn joblib_compressor(b: &[u8]) -> Option<&'static str> {
    if b.len() >= 2 && b[0] == 0x78 && (u16::from(b[0]) << 8 | u16::from(b[1])) % 31 == 0 {
        return Some("zlib");
    }
    let magics: [(&[u8], &str); 6] = [
        (b"\x1f\x8b", "gzip"),
        (b"\xfd7zXZ\x00", "xz"),
        (b"\x5d\x00\x00", "lzma"),
        (b"\x04\x22\x4d\x18", "lz4"),
        (b"ZF", "joblib's old zlib form"),
        (b"BZh", "bz2"),
    ];
    let (_, name) = magics.iter().find(|(m, _)| b.starts_with(m))?;
    if *name == "bz2" && !matches!(b.get(3), Some(b'1'..=b'9')) {
        return None;
    }
    Some(name)
}

/// HDF5's signature sits at 0 or, after a user block, at 512, 1024, 2048, ...
pub fn is_hdf5(b: &[u8]) -> bool {
    let mut at = 0usize;
    while at + HDF5.len() <= b.len() {
        if &b[at..at + HDF5.len()] == HDF5 {
            return true;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    false
}

/// torch's legacy format: the magic number pickled with protocol 2 or later (a FRAME
/// opcode may come first from protocol 4 on).
pub fn is_torch_legacy(b: &[u8]) -> bool {
    if b.len() < 2 || b[0] != 0x80 || !(2..=5).contains(&b[1]) {
        return false;
    }
    let mut rest = &b[2..];
    if rest.first() == Some(&0x95) && rest.len() > 9 {
        rest = &rest[9..];
    }
    rest.len() >= 12 && rest[0] == 0x8a && rest[1] == 10 && rest[2..12] == TORCH_MAGIC
}

/// A zip written by torch.save or torch.jit.save: one top folder with `data.pkl` and a
/// `version` record (`<top>/version` or `<top>/.data/version`).
fn torch_zip(b: &[u8]) -> std::result::Result<(), String> {
    let names = zip_names(b).map_err(|e| format!("is a zip archive that cannot be read: {e}"))?;
    let top = match names.first().and_then(|n| n.split_once('/')) {
        Some((t, _)) => t.to_string(),
        None => return Err("is a zip archive without torch's layout (no top folder)".into()),
    };
    let has = |rel: &str| names.iter().any(|n| *n == format!("{top}/{rel}"));
    let one_top = names.iter().all(|n| n.starts_with(&format!("{top}/")));
    if one_top && has("data.pkl") && (has("version") || has(".data/version")) {
        Ok(())
    } else {
        Err(format!(
            "is a zip archive without torch's layout ({top}/data.pkl and {top}/version \
             in a single top folder)"
        ))
    }
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], at: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize)
}

fn u64_at(b: &[u8], at: usize) -> Option<usize> {
    usize::try_from(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?)).ok()
}

/// The entry names of a zip archive, from its central directory (zip64 included).
pub fn zip_names(b: &[u8]) -> std::result::Result<Vec<String>, String> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const LOCATOR: &[u8] = b"PK\x06\x07";
    const EOCD64: &[u8] = b"PK\x06\x06";
    const ENTRY: &[u8] = b"PK\x01\x02";
    let short = || "the archive is truncated".to_string();

    // The end record is within the last 22 + 65535 (comment) bytes.
    let floor = b.len().saturating_sub(22 + 0xffff);
    let end = (floor..=b.len().saturating_sub(22))
        .rev()
        .find(|i| b[*i..].starts_with(EOCD))
        .ok_or("no end of central directory record")?;
    let mut count = u16_at(b, end + 10).ok_or_else(short)?;
    let mut offset = u32_at(b, end + 16).ok_or_else(short)?;
    if (count == 0xffff || offset == 0xffff_ffff) && end >= 20 && b[end - 20..].starts_with(LOCATOR)
    {
        let at = u64_at(b, end - 20 + 8).ok_or_else(short)?;
        if !b.get(at..).is_some_and(|r| r.starts_with(EOCD64)) {
            return Err("a zip64 locator that points nowhere".into());
        }
        count = u64_at(b, at + 32).ok_or_else(short)?;
        offset = u64_at(b, at + 48).ok_or_else(short)?;
    }

    let mut names = Vec::with_capacity(count.min(4096));
    let mut at = offset;
    for _ in 0..count {
        if !b.get(at..).is_some_and(|r| r.starts_with(ENTRY)) {
            return Err(format!("no central directory entry at byte {at}"));
        }
        let name_len = u16_at(b, at + 28).ok_or_else(short)?;
        let extra_len = u16_at(b, at + 30).ok_or_else(short)?;
        let comment_len = u16_at(b, at + 32).ok_or_else(short)?;
        let name = b.get(at + 46..at + 46 + name_len).ok_or_else(short)?;
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(names)
}

/// What a file's bytes look like, for messages.
pub fn describe(b: &[u8]) -> String {
    if b.starts_with(ZIP) {
        return "a zip archive".into();
    }
    if is_hdf5(b) {
        return "an HDF5 file".into();
    }
    if b.starts_with(&file::MAGIC) || b.starts_with(b"kxzipped") {
        return "a kdb+ file".into();
    }
    if is_torch_legacy(b) {
        return "a torch file in the legacy format".into();
    }
    if let Some(p) = pickle_protocol(b) {
        return match p {
            0 => "a pickle (protocol 0 or 1)".into(),
            p => format!("a pickle (protocol {p})"),
        };
    }
    if let Some(c) = joblib_compressor(b) {
        return format!("a joblib file compressed with {c}");
    }
    let head = &b[..b.len().min(64)];
    if head
        .iter()
        .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace())
    {
        return "a text file".into();
    }
    let hex: Vec<String> = b.iter().take(4).map(|c| format!("{c:02x}")).collect();
    format!(
        "not a known model format (it starts with bytes {})",
        hex.join(" ")
    )
}

/// A pyspark PipelineModel folder: every file below it, under `target/`.
fn spark_folder(arg: &str, path: &str, target: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let root = Path::new(path);
    if !root.join("metadata").is_dir() {
        return Err(refused(arg, "pyspark", path, "has no metadata/ folder"));
    }
    if let Some(class) = spark_class(root)
        && !class.ends_with("PipelineModel")
    {
        let why = format!(
            "holds a {class}; PipelineModel.load reads only fitted pipelines (save the \
             PipelineModel, or set the model object, which the registry wraps in one)"
        );
        return Err(refused(arg, "pyspark", path, &why));
    }
    let mut files = vec![];
    let walk = walkdir::WalkDir::new(root)
        .follow_links(true)
        .max_depth(64)
        .sort_by_file_name();
    for entry in walk {
        let entry = entry.map_err(|e| Error::io("read", path, e))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .map_err(|e| Error::io("read", entry.path().display(), e))?
            .to_string_lossy()
            .into_owned();
        let bytes = std::fs::read(entry.path())
            .map_err(|e| Error::io("read", entry.path().display(), e))?;
        files.push((format!("{target}/{rel}"), bytes));
    }
    Ok(files)
}

/// The `class` recorded in a Spark save's metadata (its first `part-*` file), if readable.
fn spark_class(root: &Path) -> Option<String> {
    let mut parts: Vec<_> = std::fs::read_dir(root.join("metadata"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("part-"))
        })
        .collect();
    parts.sort();
    let text = std::fs::read_to_string(parts.first()?).ok()?;
    let meta: Value = json::from_json(text.lines().next()?).ok()?;
    meta.get("class")?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickle_headers_and_trailers() {
        assert_eq!(pickle_protocol(b"\x80\x04\x95\x00."), Some(4));
        assert_eq!(pickle_protocol(b"\x80\x06."), None);
        assert_eq!(pickle_protocol(b"\x80\x02K\x01"), None);
        assert_eq!(
            pickle_protocol(b"ccopy_reg\n_reconstructor\np0\n."),
            Some(0)
        );
        assert_eq!(pickle_protocol(b"cbad name\nx\n."), None);
        assert_eq!(pickle_protocol(b"hello."), None);
    }

    #[test]
    fn compressors_by_magic() {
        assert_eq!(joblib_compressor(b"x^rest"), Some("zlib"));
        assert_eq!(joblib_compressor(b"x\x00"), None);
        assert_eq!(joblib_compressor(b"BZh9"), Some("bz2"));
        assert_eq!(joblib_compressor(b"BZhx"), None);
    }

    #[test]
    fn hdf5_after_a_user_block() {
        let mut b = vec![0u8; 1024];
        b.extend_from_slice(HDF5);
        assert!(is_hdf5(&b));
        b[1024] = 0;
        assert!(!is_hdf5(&b));
    }

    #[test]
    fn a_q_file_must_hold_a_model() {
        let t = file::write(&Value::long(3));
        assert!(check("q", &t).unwrap_err().contains("not a q model"));
    }
}
