//! JSON the way q's `.j.j` writes it and `.j.k` reads it.
//!
//! Writing: dictionaries with symbol keys become objects, tables arrays of objects, symbols
//! and temporals strings, float infinities the bare tokens `inf` and `-inf` (not strict JSON,
//! but what q writes and reads). Reading: every number is a float, arrays of numbers or
//! booleans become simple vectors, arrays of objects with the same keys become tables,
//! strings stay char vectors. `serde_json` refuses the `inf` tokens, hence this module.

use super::{Data, Value, time, ty};
use std::fmt::Write;

/// Serialises a q value as one line of JSON, as `.j.j` does.
pub fn to_json(v: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, v);
    out
}

fn write_value(out: &mut String, v: &Value) {
    match v {
        Value::Atom { ty, data } => write_element(out, *ty, data, 0),
        Value::Vector {
            ty: ty::CHAR,
            data: Data::Char(c),
            ..
        } => write_string(out, &String::from_utf8_lossy(c)),
        Value::Vector { ty, data, .. } => {
            out.push('[');
            for i in 0..data.len() {
                if i > 0 {
                    out.push(',');
                }
                write_element(out, *ty, data, i);
            }
            out.push(']');
        }
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Dict { keys, values, .. } => {
            let keys = keys.items();
            let values = values.items();
            out.push('{');
            for (i, (k, val)) in keys.iter().zip(values.iter()).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let name = k.as_text().unwrap_or_else(|| to_json(k));
                write_string(out, &name);
                out.push(':');
                write_value(out, val);
            }
            out.push('}');
        }
        Value::Table { columns, data } => {
            let rows = data.first().map(Value::count).unwrap_or(0);
            out.push('[');
            for r in 0..rows {
                if r > 0 {
                    out.push(',');
                }
                out.push('{');
                for (c, (name, col)) in columns.iter().zip(data.iter()).enumerate() {
                    if c > 0 {
                        out.push(',');
                    }
                    write_string(out, name);
                    out.push(':');
                    write_value(out, &col.item(r).unwrap_or(Value::null()));
                }
                out.push('}');
            }
            out.push(']');
        }
        Value::Unary(_) | Value::Raw(_) => out.push_str("null"),
    }
}

fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("null");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else if f != 0.0 && !(1e-5..1e16).contains(&f.abs()) {
        let _ = write!(out, "{f:e}");
    } else {
        let _ = write!(out, "{f}");
    }
}

/// Reals print at their own precision (`0.1e` as `0.1`, not its float widening).
fn write_real(out: &mut String, f: f32) {
    if f.is_finite() && f != 0.0 && (1e-5..1e16).contains(&f.abs()) {
        let _ = write!(out, "{f}");
    } else {
        write_float(out, f as f64);
    }
}

fn write_element(out: &mut String, t: i8, data: &Data, i: usize) {
    use ty::*;
    match data {
        Data::Bool(v) => out.push_str(if v[i] { "true" } else { "false" }),
        Data::Guid(v) => write_string(out, &format_guid(&v[i])),
        Data::Byte(v) => {
            let _ = write!(out, "\"{:02x}\"", v[i]);
        }
        Data::Short(v) if v[i] == i16::MIN => out.push_str("null"),
        Data::Short(v) => write_integer(out, v[i] as i64, i16::MAX as i64),
        Data::Int(v) => {
            let x = v[i] as i64;
            if v[i] == i32::MIN {
                out.push_str("null");
                return;
            }
            match t {
                MONTH => write_string(out, &time::format_month(x)),
                DATE => write_string(out, &time::format_date(x)),
                MINUTE => write_string(out, &time::format_minute(x)),
                SECOND => write_string(out, &time::format_second(x)),
                TIME => write_string(out, &time::format_time(x)),
                _ => write_integer(out, x, i32::MAX as i64),
            }
        }
        Data::Long(v) => {
            if v[i] == i64::MIN {
                out.push_str("null");
                return;
            }
            match t {
                TIMESTAMP => write_string(out, &time::format_timestamp(v[i])),
                TIMESPAN => write_string(out, &time::format_timespan(v[i])),
                _ => write_integer(out, v[i], i64::MAX),
            }
        }
        Data::Real(v) => write_real(out, v[i]),
        Data::Float(v) if t == DATETIME => write_string(out, &time::format_datetime(v[i])),
        Data::Float(v) => write_float(out, v[i]),
        Data::Char(v) => write_string(out, &String::from_utf8_lossy(&v[i..i + 1])),
        Data::Symbol(v) => write_string(out, &v[i]),
    }
}

/// Integers; q's infinities (the type's max and -max) are written as `inf`/`-inf`.
fn write_integer(out: &mut String, x: i64, inf: i64) {
    if x == inf {
        out.push_str("inf");
    } else if x == -inf {
        out.push_str("-inf");
    } else {
        let _ = write!(out, "{x}");
    }
}

/// The text q shows for a guid: `8c6b8b64-6815-6084-0a3e-178401251b68`.
pub fn format_guid(g: &[u8; 16]) -> String {
    let h: String = g.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Parses JSON text into a q value, as `.j.k` does.
pub fn from_json(text: &str) -> Result<Value, String> {
    let mut p = Parser {
        b: text.as_bytes(),
        pos: 0,
    };
    p.ws();
    let v = p.value(0)?;
    p.ws();
    if p.pos != p.b.len() {
        return Err(format!(
            "unexpected text after the JSON value at byte {}",
            p.pos
        ));
    }
    Ok(v)
}

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.pos < self.b.len() && self.b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn err<T>(&self, what: &str) -> Result<T, String> {
        Err(format!("invalid JSON at byte {}: {what}", self.pos))
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.b[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            true
        } else {
            false
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > 200 {
            return self.err("nested too deeply");
        }
        match self.b.get(self.pos) {
            None => self.err("unexpected end"),
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => Ok(Value::string(&self.string()?)),
            _ if self.eat("true") => Ok(Value::boolean(true)),
            _ if self.eat("false") => Ok(Value::boolean(false)),
            _ if self.eat("null") => Ok(Value::float(f64::NAN)),
            _ if self.eat("inf") => Ok(Value::float(f64::INFINITY)),
            _ if self.eat("-inf") => Ok(Value::float(f64::NEG_INFINITY)),
            _ => self.number(),
        }
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self.pos < self.b.len()
            && matches!(
                self.b[self.pos],
                b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
            )
        {
            self.pos += 1;
        }
        let text = std::str::from_utf8(&self.b[start..self.pos]).unwrap_or("");
        match text.parse::<f64>() {
            Ok(f) if !text.is_empty() => Ok(Value::float(f)),
            _ => {
                self.pos = start;
                self.err("expected a value")
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return self.err("unterminated string");
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let Some(&e) = self.b.get(self.pos) else {
                        return self.err("unterminated escape");
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = self.b.get(self.pos..self.pos + 4).unwrap_or(b"");
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            let Some(code) = code else {
                                return self.err("bad \\u escape");
                            };
                            self.pos += 4;
                            let ch = char::from_u32(code).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                c => out.push(c),
            }
        }
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    fn object(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1;
        let mut entries: Vec<(String, Value)> = Vec::new();
        self.ws();
        if self.eat("}") {
            return Ok(Value::Dict {
                keys: Box::new(Value::symbols::<&str>(&[])),
                values: Box::new(Value::List(vec![])),
                sorted: false,
            });
        }
        loop {
            self.ws();
            if self.b.get(self.pos) != Some(&b'"') {
                return self.err("expected a key");
            }
            let key = self.string()?;
            self.ws();
            if !self.eat(":") {
                return self.err("expected ':'");
            }
            self.ws();
            let v = self.value(depth + 1)?;
            entries.push((key, v));
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("}") {
                break;
            }
            return self.err("expected ',' or '}'");
        }
        Ok(Value::dict(entries))
    }

    fn array(&mut self, depth: usize) -> Result<Value, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.ws();
        if self.eat("]") {
            return Ok(Value::List(items));
        }
        loop {
            self.ws();
            items.push(self.value(depth + 1)?);
            self.ws();
            if self.eat(",") {
                continue;
            }
            if self.eat("]") {
                break;
            }
            return self.err("expected ',' or ']'");
        }
        Ok(table_or_list(items))
    }
}

/// An array of objects that all have the same keys is a table; atoms of one type collapse.
fn table_or_list(items: Vec<Value>) -> Value {
    let rows: Option<Vec<Vec<(String, Value)>>> = items.iter().map(Value::dict_entries).collect();
    if let Some(rows) = rows.filter(|r| !r.is_empty() && !r[0].is_empty()) {
        let names: Vec<String> = rows[0].iter().map(|(k, _)| k.clone()).collect();
        let same = rows
            .iter()
            .all(|r| r.len() == names.len() && r.iter().zip(&names).all(|((k, _), n)| k == n));
        if same && items.iter().all(Value::is_dict) {
            let data = (0..names.len())
                .map(|c| Value::collapse(rows.iter().map(|r| r[c].1.clone()).collect()))
                .collect();
            return Value::Table {
                columns: names,
                data,
            };
        }
    }
    Value::collapse(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infinities_are_bare_tokens_both_ways() {
        let v = Value::dict(vec![("avg", Value::float(f64::INFINITY))]);
        assert_eq!(to_json(&v), r#"{"avg":inf}"#);
        assert_eq!(
            from_json(r#"{"avg":inf,"std":-inf}"#).unwrap().get("std"),
            Some(Value::float(f64::NEG_INFINITY))
        );
    }

    #[test]
    fn numbers_read_back_as_floats_and_arrays_collapse() {
        let v = from_json("[1,0]").unwrap();
        assert_eq!(v, Value::floats(&[1.0, 0.0]));
        let s = from_json(r#"["a","b"]"#).unwrap();
        assert_eq!(s, Value::List(vec![Value::string("a"), Value::string("b")]));
    }

    #[test]
    fn arrays_of_like_objects_become_tables() {
        let v = from_json(r#"[{"a":1,"b":"x"},{"a":2,"b":"y"}]"#).unwrap();
        match v {
            Value::Table { columns, data } => {
                assert_eq!(columns, vec!["a", "b"]);
                assert_eq!(data[0], Value::floats(&[1.0, 2.0]));
            }
            other => panic!("not a table: {other:?}"),
        }
    }

    #[test]
    fn strings_escape_and_unescape() {
        let s = "a\"b\\c\nd\u{1}é";
        let j = to_json(&Value::string(s));
        assert_eq!(from_json(&j).unwrap(), Value::string(s));
    }

    #[test]
    fn malformed_text_is_an_error_not_a_panic() {
        let alphabet = b"{}[]\":,0123456789.-+eEinftrulsa \\u";
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for len in 0..3000usize {
            let text: String = (0..len % 41)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % alphabet.len() as u64) as usize] as char
                })
                .collect();
            let _ = from_json(&text);
        }
        assert!(from_json("{\"a\":").is_err());
        assert!(from_json("[1,2").is_err());
    }

    #[test]
    fn floats_print_compactly_and_read_back() {
        let v = Value::floats(&[1e300, 1.5e-7, 0.1, -2.0]);
        assert_eq!(to_json(&v), "[1e300,1.5e-7,0.1,-2]");
        assert_eq!(from_json(&to_json(&v)).unwrap(), v);
        let r = Value::atom(ty::REAL, Data::Real(vec![0.1]));
        assert_eq!(to_json(&r), "0.1");
    }
}
