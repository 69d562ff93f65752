//! q's IPC serialisation (what `-8!`/`b9` write and `-9!`/`d9` read), little-endian only.
//!
//! Functions and other objects the registry never looks inside are kept as raw bytes: the
//! decoder measures their extent and [`Value::Raw`] holds them, so a lambda or a projection
//! survives a decode/encode round trip byte for byte.

use super::{Data, Value, ty};
use std::fmt;

/// Why bytes could not be read as q data.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Size of the IPC message header.
pub const HEADER_LEN: usize = 8;

/// Serialises `v` as an IPC payload (no message header).
pub fn encode(v: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write_value(&mut out, v);
    out
}

/// Serialises `v` as a whole IPC message (header included), as `b9` would, message type 2.
pub fn encode_message(v: &Value) -> Vec<u8> {
    let payload = encode(v);
    let total = (payload.len() + HEADER_LEN) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&[1, 2, 0, 0]);
    out.extend_from_slice(&total.to_le_bytes());
    out.extend_from_slice(&payload);
    out
}

/// Reads one object from an IPC payload that must hold exactly that object.
pub fn decode(bytes: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader { b: bytes, pos: 0 };
    let v = r.value()?;
    if r.pos != bytes.len() {
        return Err(DecodeError(format!(
            "{} trailing bytes after a q object",
            bytes.len() - r.pos
        )));
    }
    Ok(v)
}

/// Reads a whole IPC message (as `b9` returns it): checks the header, refuses compression.
pub fn decode_message(bytes: &[u8]) -> Result<Value, DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError("IPC message shorter than its header".into()));
    }
    if bytes[0] != 1 {
        return Err(DecodeError(
            "big-endian IPC messages are not supported".into(),
        ));
    }
    if bytes[2] != 0 {
        return Err(DecodeError(
            "compressed IPC messages are not supported".into(),
        ));
    }
    decode(&bytes[HEADER_LEN..])
}

fn write_value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Atom { ty, data } => {
            out.push((-ty) as u8);
            write_data(out, data);
        }
        Value::Vector { ty, attr, data } => {
            out.push(*ty as u8);
            out.push(*attr);
            out.extend_from_slice(&(data.len() as i32).to_le_bytes());
            write_data(out, data);
        }
        Value::List(items) => {
            out.push(0);
            out.push(0);
            out.extend_from_slice(&(items.len() as i32).to_le_bytes());
            for item in items {
                write_value(out, item);
            }
        }
        Value::Dict {
            keys,
            values,
            sorted,
        } => {
            out.push(if *sorted {
                ty::SORTED_DICT as u8
            } else {
                ty::DICT as u8
            });
            write_value(out, keys);
            write_value(out, values);
        }
        Value::Table { columns, data } => {
            out.push(ty::TABLE as u8);
            out.push(0);
            out.push(ty::DICT as u8);
            write_value(out, &Value::symbols(columns));
            write_value(out, &Value::List(data.clone()));
        }
        Value::Unary(code) => {
            out.push(ty::UNARY as u8);
            out.push(*code);
        }
        Value::Raw(bytes) => out.extend_from_slice(bytes),
    }
}

fn write_data(out: &mut Vec<u8>, data: &Data) {
    match data {
        Data::Bool(v) => out.extend(v.iter().map(|b| *b as u8)),
        Data::Guid(v) => v.iter().for_each(|g| out.extend_from_slice(g)),
        Data::Byte(v) | Data::Char(v) => out.extend_from_slice(v),
        Data::Short(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Int(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Long(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Real(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Float(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        Data::Symbol(v) => {
            for s in v {
                // A symbol ends at its first NUL, as in q.
                let text = s.split('\0').next().unwrap_or("");
                out.extend_from_slice(text.as_bytes());
                out.push(0);
            }
        }
    }
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
}

/// Nesting deeper than this is refused rather than risking the stack.
const MAX_DEPTH: usize = 200;

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.b.len() - self.pos < n {
            return Err(DecodeError(format!(
                "truncated q data: needed {n} bytes at offset {}",
                self.pos
            )));
        }
        let s = &self.b[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn count(&mut self) -> Result<usize, DecodeError> {
        let n = i32::from_le_bytes(self.take(4)?.try_into().unwrap());
        if n < 0 {
            return Err(DecodeError(format!("negative count {n} in q data")));
        }
        Ok(n as usize)
    }

    fn cstr(&mut self) -> Result<String, DecodeError> {
        let rest = &self.b[self.pos..];
        let end = rest
            .iter()
            .position(|c| *c == 0)
            .ok_or_else(|| DecodeError("unterminated symbol in q data".into()))?;
        let s = String::from_utf8_lossy(&rest[..end]).into_owned();
        self.pos += end + 1;
        Ok(s)
    }

    fn value(&mut self) -> Result<Value, DecodeError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError("q data nested too deeply".into()));
        }
        let start = self.pos;
        let t = self.byte()? as i8;
        match t {
            -19..=-1 => {
                let data = self.data(-t, 1)?;
                Ok(Value::Atom { ty: -t, data })
            }
            -128 => {
                let msg = self.cstr()?;
                Err(DecodeError(format!("q error object in data: {msg}")))
            }
            0 => {
                let _attr = self.byte()?;
                let n = self.count()?;
                let mut items = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    items.push(self.value_at(depth + 1)?);
                }
                Ok(Value::List(items))
            }
            1..=19 => {
                let attr = self.byte()?;
                let n = self.count()?;
                let data = self.data(t, n)?;
                Ok(Value::Vector { ty: t, attr, data })
            }
            98 => {
                let _attr = self.byte()?;
                let inner = self.value_at(depth + 1)?;
                table_from_dict(inner)
            }
            99 | 127 => {
                let keys = self.value_at(depth + 1)?;
                let values = self.value_at(depth + 1)?;
                Ok(Value::Dict {
                    keys: Box::new(keys),
                    values: Box::new(values),
                    sorted: t == 127,
                })
            }
            101 => Ok(Value::Unary(self.byte()?)),
            // lambda: context name, then its source as a char vector
            100 => {
                self.cstr()?;
                self.value_at(depth + 1)?;
                Ok(Value::Raw(self.b[start..self.pos].to_vec()))
            }
            102 | 103 => {
                self.byte()?;
                Ok(Value::Raw(self.b[start..self.pos].to_vec()))
            }
            104 | 105 => {
                let n = self.count()?;
                for _ in 0..n {
                    self.value_at(depth + 1)?;
                }
                Ok(Value::Raw(self.b[start..self.pos].to_vec()))
            }
            106..=111 => {
                self.value_at(depth + 1)?;
                Ok(Value::Raw(self.b[start..self.pos].to_vec()))
            }
            _ => Err(DecodeError(format!("unsupported q type {t} in data"))),
        }
    }

    fn data(&mut self, t: i8, n: usize) -> Result<Data, DecodeError> {
        use ty::*;
        fn chunks<const W: usize>(b: &[u8]) -> impl Iterator<Item = [u8; W]> + '_ {
            b.chunks_exact(W).map(|c| c.try_into().unwrap())
        }
        let width = match t {
            BOOL | BYTE | CHAR => 1,
            GUID => 16,
            SHORT => 2,
            INT | MONTH | DATE | MINUTE | SECOND | TIME | REAL => 4,
            LONG | TIMESTAMP | TIMESPAN | FLOAT | DATETIME => 8,
            SYMBOL => {
                let mut v = Vec::with_capacity(n.min(1 << 16));
                for _ in 0..n {
                    v.push(self.cstr()?);
                }
                return Ok(Data::Symbol(v));
            }
            _ => return Err(DecodeError(format!("unsupported q type {t} in data"))),
        };
        let len = n
            .checked_mul(width)
            .ok_or_else(|| DecodeError("vector length overflows".into()))?;
        let b = self.take(len)?;
        Ok(match t {
            BOOL => Data::Bool(b.iter().map(|x| *x != 0).collect()),
            BYTE => Data::Byte(b.to_vec()),
            CHAR => Data::Char(b.to_vec()),
            GUID => Data::Guid(chunks::<16>(b).collect()),
            SHORT => Data::Short(chunks::<2>(b).map(i16::from_le_bytes).collect()),
            REAL => Data::Real(chunks::<4>(b).map(f32::from_le_bytes).collect()),
            INT | MONTH | DATE | MINUTE | SECOND | TIME => {
                Data::Int(chunks::<4>(b).map(i32::from_le_bytes).collect())
            }
            FLOAT | DATETIME => Data::Float(chunks::<8>(b).map(f64::from_le_bytes).collect()),
            _ => Data::Long(chunks::<8>(b).map(i64::from_le_bytes).collect()),
        })
    }
}

fn table_from_dict(inner: Value) -> Result<Value, DecodeError> {
    let bad = || DecodeError("a q table whose inside is not a column dictionary".into());
    match inner {
        Value::Dict { keys, values, .. } => {
            let columns = match *keys {
                Value::Vector {
                    data: Data::Symbol(s),
                    ..
                } => s,
                _ => return Err(bad()),
            };
            let data = match *values {
                Value::List(cols) => cols,
                _ => return Err(bad()),
            };
            if data.len() != columns.len() {
                return Err(bad());
            }
            Ok(Value::Table { columns, data })
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_round_trips() {
        let t = Value::Table {
            columns: vec!["a".into(), "b".into()],
            data: vec![
                Value::longs(&[1, 2]),
                Value::List(vec![Value::string("x"), Value::symbol("y")]),
            ],
        };
        assert_eq!(decode(&encode(&t)).unwrap(), t);
    }

    #[test]
    fn a_lambda_is_kept_byte_for_byte() {
        let mut lam = vec![100u8, 0, 10, 0, 5, 0, 0, 0];
        lam.extend_from_slice(b"{x+1}");
        let v = decode(&lam).unwrap();
        assert_eq!(v, Value::Raw(lam.clone()));
        assert_eq!(encode(&v), lam);
    }

    #[test]
    fn truncated_bytes_are_an_error_not_a_panic() {
        let bytes = encode(&Value::longs(&[1, 2, 3]));
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err());
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..4000usize {
            let bytes: Vec<u8> = (0..len % 97)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x >> 24) as u8
                })
                .collect();
            let _ = decode(&bytes);
            let _ = decode_message(&bytes);
        }
    }
}
