//! q data in plain Rust: the values q passes and receives, and the byte formats they travel in.
//!
//! Nothing here touches a live K object. The K boundary (`crate::ffi`) turns every K argument
//! into bytes with q's own `b9` and hands them to [`ipc::decode`]; results go the other way
//! through [`ipc::encode`] and `d9`. Functions, projections and other objects the registry only
//! stores are kept as their raw IPC bytes ([`Value::Raw`]) and written back unchanged.

pub mod file;
pub mod ipc;
pub mod json;
pub mod time;

/// Type numbers of q's simple types, as IPC and `type` use them (atoms are negative).
pub mod ty {
    pub const LIST: i8 = 0;
    pub const BOOL: i8 = 1;
    pub const GUID: i8 = 2;
    pub const BYTE: i8 = 4;
    pub const SHORT: i8 = 5;
    pub const INT: i8 = 6;
    pub const LONG: i8 = 7;
    pub const REAL: i8 = 8;
    pub const FLOAT: i8 = 9;
    pub const CHAR: i8 = 10;
    pub const SYMBOL: i8 = 11;
    pub const TIMESTAMP: i8 = 12;
    pub const MONTH: i8 = 13;
    pub const DATE: i8 = 14;
    pub const DATETIME: i8 = 15;
    pub const TIMESPAN: i8 = 16;
    pub const MINUTE: i8 = 17;
    pub const SECOND: i8 = 18;
    pub const TIME: i8 = 19;
    pub const TABLE: i8 = 98;
    pub const DICT: i8 = 99;
    pub const SORTED_DICT: i8 = 127;
    pub const LAMBDA: i8 = 100;
    pub const UNARY: i8 = 101;
    pub const PROJECTION: i8 = 104;
    pub const COMPOSITION: i8 = 105;
    pub const ERROR: i8 = -128;
}

/// q's long null and infinities.
pub const NULL_LONG: i64 = i64::MIN;
pub const NULL_INT: i32 = i32::MIN;

/// The elements of a simple vector (or the single element of an atom).
#[derive(Clone, Debug, PartialEq)]
pub enum Data {
    Bool(Vec<bool>),
    Guid(Vec<[u8; 16]>),
    Byte(Vec<u8>),
    Short(Vec<i16>),
    /// int, month, date, minute, second, time
    Int(Vec<i32>),
    /// long, timestamp, timespan
    Long(Vec<i64>),
    Real(Vec<f32>),
    /// float, datetime
    Float(Vec<f64>),
    Char(Vec<u8>),
    Symbol(Vec<String>),
}

impl Data {
    pub fn len(&self) -> usize {
        match self {
            Data::Bool(v) => v.len(),
            Data::Guid(v) => v.len(),
            Data::Byte(v) => v.len(),
            Data::Short(v) => v.len(),
            Data::Int(v) => v.len(),
            Data::Long(v) => v.len(),
            Data::Real(v) => v.len(),
            Data::Float(v) => v.len(),
            Data::Char(v) => v.len(),
            Data::Symbol(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Empty storage of the right kind for a q type number (1..=19).
    pub fn empty_for(t: i8) -> Option<Data> {
        use ty::*;
        Some(match t {
            BOOL => Data::Bool(vec![]),
            GUID => Data::Guid(vec![]),
            BYTE => Data::Byte(vec![]),
            SHORT => Data::Short(vec![]),
            INT | MONTH | DATE | MINUTE | SECOND | TIME => Data::Int(vec![]),
            LONG | TIMESTAMP | TIMESPAN => Data::Long(vec![]),
            REAL => Data::Real(vec![]),
            FLOAT | DATETIME => Data::Float(vec![]),
            CHAR => Data::Char(vec![]),
            SYMBOL => Data::Symbol(vec![]),
            _ => return None,
        })
    }

    /// The element at `i` as its own one-element `Data`.
    pub fn item(&self, i: usize) -> Data {
        match self {
            Data::Bool(v) => Data::Bool(vec![v[i]]),
            Data::Guid(v) => Data::Guid(vec![v[i]]),
            Data::Byte(v) => Data::Byte(vec![v[i]]),
            Data::Short(v) => Data::Short(vec![v[i]]),
            Data::Int(v) => Data::Int(vec![v[i]]),
            Data::Long(v) => Data::Long(vec![v[i]]),
            Data::Real(v) => Data::Real(vec![v[i]]),
            Data::Float(v) => Data::Float(vec![v[i]]),
            Data::Char(v) => Data::Char(vec![v[i]]),
            Data::Symbol(v) => Data::Symbol(vec![v[i].clone()]),
        }
    }

    /// Appends the elements of `other`, which must be the same kind.
    pub fn extend(&mut self, other: &Data) -> bool {
        match (self, other) {
            (Data::Bool(a), Data::Bool(b)) => a.extend(b),
            (Data::Guid(a), Data::Guid(b)) => a.extend(b),
            (Data::Byte(a), Data::Byte(b)) => a.extend(b),
            (Data::Short(a), Data::Short(b)) => a.extend(b),
            (Data::Int(a), Data::Int(b)) => a.extend(b),
            (Data::Long(a), Data::Long(b)) => a.extend(b),
            (Data::Real(a), Data::Real(b)) => a.extend(b),
            (Data::Float(a), Data::Float(b)) => a.extend(b),
            (Data::Char(a), Data::Char(b)) => a.extend(b),
            (Data::Symbol(a), Data::Symbol(b)) => a.extend(b.iter().cloned()),
            _ => return false,
        }
        true
    }
}

/// A q value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An atom: `ty` is the positive type number, `data` holds exactly one element.
    Atom { ty: i8, data: Data },
    /// A simple vector of type `ty` (1..=19) with attribute byte `attr`.
    Vector { ty: i8, attr: u8, data: Data },
    /// A general list (type 0).
    List(Vec<Value>),
    /// A dictionary (type 99, or 127 when `sorted`).
    Dict {
        keys: Box<Value>,
        values: Box<Value>,
        sorted: bool,
    },
    /// A table (type 98): column names and columns.
    Table {
        columns: Vec<String>,
        data: Vec<Value>,
    },
    /// The generic null `::` and the other unary primitives (type 101, byte code).
    Unary(u8),
    /// Any other object (functions, projections, keyed-table internals...) kept as the exact
    /// IPC bytes of that one object, type byte included.
    Raw(Vec<u8>),
}

impl Value {
    pub fn null() -> Value {
        Value::Unary(0)
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Unary(0))
    }

    pub fn atom(ty: i8, data: Data) -> Value {
        Value::Atom { ty, data }
    }

    pub fn vector(ty: i8, data: Data) -> Value {
        Value::Vector { ty, attr: 0, data }
    }

    pub fn long(v: i64) -> Value {
        Value::atom(ty::LONG, Data::Long(vec![v]))
    }

    pub fn float(v: f64) -> Value {
        Value::atom(ty::FLOAT, Data::Float(vec![v]))
    }

    pub fn boolean(v: bool) -> Value {
        Value::atom(ty::BOOL, Data::Bool(vec![v]))
    }

    pub fn symbol(s: &str) -> Value {
        Value::atom(ty::SYMBOL, Data::Symbol(vec![s.to_string()]))
    }

    pub fn guid(g: [u8; 16]) -> Value {
        Value::atom(ty::GUID, Data::Guid(vec![g]))
    }

    pub fn timestamp(nanos: i64) -> Value {
        Value::atom(ty::TIMESTAMP, Data::Long(vec![nanos]))
    }

    /// A char vector.
    pub fn string(s: &str) -> Value {
        Value::vector(ty::CHAR, Data::Char(s.as_bytes().to_vec()))
    }

    /// A file handle (hsym): the symbol `` `:path ``.
    pub fn hsym(path: &str) -> Value {
        Value::symbol(&format!(":{path}"))
    }

    pub fn symbols<S: AsRef<str>>(items: &[S]) -> Value {
        let v = items.iter().map(|s| s.as_ref().to_string()).collect();
        Value::vector(ty::SYMBOL, Data::Symbol(v))
    }

    pub fn longs(items: &[i64]) -> Value {
        Value::vector(ty::LONG, Data::Long(items.to_vec()))
    }

    pub fn floats(items: &[f64]) -> Value {
        Value::vector(ty::FLOAT, Data::Float(items.to_vec()))
    }

    /// A dictionary from symbol keys to values, the values collapsed to a simple vector when
    /// they are atoms of one type (as q does when it builds `` `a`b!(1;2) ``).
    pub fn dict<S: AsRef<str>>(entries: Vec<(S, Value)>) -> Value {
        let keys: Vec<String> = entries
            .iter()
            .map(|(k, _)| k.as_ref().to_string())
            .collect();
        let values = Value::collapse(entries.into_iter().map(|(_, v)| v).collect());
        Value::Dict {
            keys: Box::new(Value::symbols(&keys)),
            values: Box::new(values),
            sorted: false,
        }
    }

    /// A dictionary whose values stay a general list (never collapsed).
    pub fn dict_general<S: AsRef<str>>(entries: Vec<(S, Value)>) -> Value {
        let keys: Vec<String> = entries
            .iter()
            .map(|(k, _)| k.as_ref().to_string())
            .collect();
        Value::Dict {
            keys: Box::new(Value::symbols(&keys)),
            values: Box::new(Value::List(entries.into_iter().map(|(_, v)| v).collect())),
            sorted: false,
        }
    }

    /// The empty dictionary `()!()`.
    pub fn empty_dict() -> Value {
        Value::Dict {
            keys: Box::new(Value::List(vec![])),
            values: Box::new(Value::List(vec![])),
            sorted: false,
        }
    }

    /// Turns a list of atoms of one type into a simple vector, as q does; anything else stays
    /// a general list.
    pub fn collapse(items: Vec<Value>) -> Value {
        let first_ty = match items.first() {
            Some(Value::Atom { ty, .. }) => *ty,
            _ => return Value::List(items),
        };
        let uniform = items
            .iter()
            .all(|v| matches!(v, Value::Atom { ty, .. } if *ty == first_ty));
        if !uniform {
            return Value::List(items);
        }
        let mut data = Data::empty_for(first_ty).expect("atom types are simple");
        for v in &items {
            if let Value::Atom { data: d, .. } = v {
                data.extend(d);
            }
        }
        Value::vector(first_ty, data)
    }

    /// q's type number for this value.
    pub fn q_type(&self) -> i8 {
        match self {
            Value::Atom { ty, .. } => -ty,
            Value::Vector { ty, .. } => *ty,
            Value::List(_) => 0,
            Value::Dict { sorted, .. } => {
                if *sorted {
                    ty::SORTED_DICT
                } else {
                    ty::DICT
                }
            }
            Value::Table { .. } => ty::TABLE,
            Value::Unary(_) => ty::UNARY,
            Value::Raw(bytes) => bytes.first().map(|b| *b as i8).unwrap_or(0),
        }
    }

    /// Number of items, as q's `count` (atoms count 1).
    pub fn count(&self) -> usize {
        match self {
            Value::Vector { data, .. } => data.len(),
            Value::List(v) => v.len(),
            Value::Dict { keys, .. } => keys.count(),
            Value::Table { data, .. } => data.first().map(|c| c.count()).unwrap_or(0),
            _ => 1,
        }
    }

    /// The i-th item of a list-like value, as q's indexing would give it.
    pub fn item(&self, i: usize) -> Option<Value> {
        match self {
            Value::Vector { ty, data, .. } if i < data.len() => Some(Value::Atom {
                ty: *ty,
                data: data.item(i),
            }),
            Value::List(v) => v.get(i).cloned(),
            _ => None,
        }
    }

    /// The items of a list-like value.
    pub fn items(&self) -> Vec<Value> {
        (0..self.count()).filter_map(|i| self.item(i)).collect()
    }

    /// The text of a string or char atom.
    pub fn as_str(&self) -> Option<String> {
        match self {
            Value::Vector {
                ty: ty::CHAR,
                data: Data::Char(c),
                ..
            }
            | Value::Atom {
                ty: ty::CHAR,
                data: Data::Char(c),
            } => Some(String::from_utf8_lossy(c).into_owned()),
            _ => None,
        }
    }

    /// The name of a symbol atom.
    pub fn as_symbol(&self) -> Option<&str> {
        match self {
            Value::Atom {
                ty: ty::SYMBOL,
                data: Data::Symbol(s),
            } => Some(&s[0]),
            _ => None,
        }
    }

    /// Text of a string, char atom or symbol atom.
    pub fn as_text(&self) -> Option<String> {
        self.as_str()
            .or_else(|| self.as_symbol().map(str::to_string))
    }

    /// A boolean atom.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Atom {
                data: Data::Bool(b),
                ..
            } => Some(b[0]),
            _ => None,
        }
    }

    /// An integral atom (boolean, byte, short, int, long) as i64; nulls give None.
    pub fn as_integer(&self) -> Option<i64> {
        match self {
            Value::Atom { ty, data } if matches!(*ty, ty::SHORT | ty::INT | ty::LONG) => match data
            {
                Data::Short(v) if v[0] != i16::MIN => Some(v[0] as i64),
                Data::Int(v) if v[0] != NULL_INT => Some(v[0] as i64),
                Data::Long(v) if v[0] != NULL_LONG => Some(v[0]),
                _ => None,
            },
            Value::Atom {
                data: Data::Byte(v),
                ..
            } => Some(v[0] as i64),
            Value::Atom {
                data: Data::Bool(v),
                ..
            } => Some(v[0] as i64),
            _ => None,
        }
    }

    /// A numeric atom as f64 (nulls become NaN).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Atom {
                ty: ty::REAL,
                data: Data::Real(v),
            } => Some(v[0] as f64),
            Value::Atom {
                ty: ty::FLOAT,
                data: Data::Float(v),
            } => Some(v[0]),
            Value::Atom { .. } => self.as_integer().map(|i| i as f64),
            _ => None,
        }
    }

    /// Dictionary entries with symbol keys, in order.
    pub fn dict_entries(&self) -> Option<Vec<(String, Value)>> {
        match self {
            Value::Dict { keys, values, .. } => {
                let names: Vec<String> = match keys.as_ref() {
                    Value::Vector {
                        data: Data::Symbol(s),
                        ..
                    } => s.clone(),
                    Value::List(v) if v.is_empty() => vec![],
                    _ => return None,
                };
                let vals = values.items();
                if vals.len() != names.len() {
                    return None;
                }
                Some(names.into_iter().zip(vals).collect())
            }
            _ => None,
        }
    }

    /// The value under a symbol key of a dictionary.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.dict_entries()?
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    pub fn is_dict(&self) -> bool {
        matches!(self, Value::Dict { .. })
    }

    pub fn is_table(&self) -> bool {
        matches!(self, Value::Table { .. })
    }
}
