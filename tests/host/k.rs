//! The test host: stands in for q. It loads the built extension with `dlopen` (as `2:` does),
//! makes arguments with KX's own libe, calls the exports, and reads the K results by walking
//! the K structures directly (not through the extension's own codec).
//!
//! What only q provides is defined here, in the executable: `krr` with q's behaviour (keep
//! the pointer, read it after the call), and counting wrappers around libe's `ktn`, `b9`,
//! `d9` and `r0`, so a test can check that a call frees what it allocates and leaves the
//! reference counts of its arguments alone.

#![allow(dead_code)]

use mlregistry::qdata::{Data, Value, ty};
use std::cell::Cell;
use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::OnceLock;

#[repr(C)]
pub struct K0 {
    m: i8,
    a: i8,
    pub t: i8,
    pub attr: u8,
    pub r: i32,
    pub n: i64,
    g0: [u8; 0],
}
pub type K = *mut K0;

unsafe extern "C" {
    fn khp(host: *const c_char, port: i32) -> i32;
    fn ka(t: i32) -> K;
    fn kb(x: i32) -> K;
    fn kj(x: i64) -> K;
    fn ki(x: i32) -> K;
    fn kf(x: f64) -> K;
    fn kc(x: i32) -> K;
    fn kd(x: i32) -> K;
    fn ktj(t: i32, x: i64) -> K;
    fn kpn(s: *const c_char, n: i64) -> K;
    fn sn(s: *const c_char, n: i32) -> *mut c_char;
    fn ks(s: *const c_char) -> K;
    fn ku(g: U) -> K;
    fn xD(k: K, v: K) -> K;
    fn xT(d: K) -> K;
    fn knk(n: i32, ...) -> K;
    fn r1(x: K) -> K;
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct U {
    g: [u8; 16],
}

type Fn1 = unsafe extern "C" fn(K) -> K;
type Fn2i = unsafe extern "C" fn(i32, K) -> K;
type FnKtn = unsafe extern "C" fn(i32, i64) -> K;
type FnR0 = unsafe extern "C" fn(K);

fn next_sym<T>(name: &str) -> T {
    let c = CString::new(name).unwrap();
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, c.as_ptr()) };
    assert!(!p.is_null(), "libe has no {name}");
    unsafe { std::mem::transmute_copy(&p) }
}

struct Real {
    ktn: FnKtn,
    b9: Fn2i,
    d9: Fn1,
    r0: FnR0,
}

fn real() -> &'static Real {
    static R: OnceLock<Real> = OnceLock::new();
    R.get_or_init(|| Real {
        ktn: next_sym("ktn"),
        b9: next_sym("b9"),
        d9: next_sym("d9"),
        r0: next_sym("r0"),
    })
}

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static ALLOCS: Cell<i64> = const { Cell::new(0) };
    static FREES: Cell<i64> = const { Cell::new(0) };
    static LAST_ERROR: Cell<*const c_char> = const { Cell::new(std::ptr::null()) };
}

/// Runs a libe function, counting it only when called from outside libe and the host.
fn counted<T>(is_alloc: bool, f: impl FnOnce() -> T, freed: bool) -> T {
    let outer = DEPTH.with(|d| d.get()) == 0;
    DEPTH.with(|d| d.set(d.get() + 1));
    let r = f();
    DEPTH.with(|d| d.set(d.get() - 1));
    if outer && COUNTING.with(|c| c.get()) {
        if is_alloc {
            ALLOCS.with(|a| a.set(a.get() + 1));
        } else if freed {
            FREES.with(|a| a.set(a.get() + 1));
        }
    }
    r
}

#[unsafe(no_mangle)]
pub extern "C" fn ktn(t: i32, n: i64) -> K {
    counted(true, || unsafe { (real().ktn)(t, n) }, false)
}

#[unsafe(no_mangle)]
pub extern "C" fn b9(mode: i32, x: K) -> K {
    counted(true, || unsafe { (real().b9)(mode, x) }, false)
}

#[unsafe(no_mangle)]
pub extern "C" fn d9(x: K) -> K {
    counted(true, || unsafe { (real().d9)(x) }, false)
}

#[unsafe(no_mangle)]
pub extern "C" fn r0(x: K) {
    let freed = !x.is_null() && unsafe { (*x).r } == 0;
    counted(false, || unsafe { (real().r0)(x) }, freed)
}

/// q's krr: an error object that holds the caller's pointer; the text is read later.
#[unsafe(no_mangle)]
pub extern "C" fn krr(s: *const c_char) -> K {
    LAST_ERROR.with(|e| e.set(s));
    static mut ERR: K0 = K0 {
        m: 0,
        a: 0,
        t: -128,
        attr: 0,
        r: 0,
        n: 0,
        g0: [],
    };
    std::ptr::addr_of_mut!(ERR)
}

/// The loaded extension.
pub struct Ext {
    handle: *mut c_void,
}

fn lib_path() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap();
    dir.join("libmlregistry.so")
}

/// Initialises libe (once per thread) and loads the extension.
pub fn ext() -> Ext {
    thread_local! { static INIT: Cell<bool> = const { Cell::new(false) }; }
    INIT.with(|i| {
        if !i.get() {
            unsafe { khp(c"".as_ptr(), -1) };
            i.set(true);
        }
    });
    let p = CString::new(lib_path().to_str().unwrap()).unwrap();
    let handle = unsafe { libc::dlopen(p.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if handle.is_null() {
        let e = unsafe { CStr::from_ptr(libc::dlerror()) };
        panic!("dlopen {}: {}", lib_path().display(), e.to_string_lossy());
    }
    Ext { handle }
}

/// A call's outcome: the result as a value, or the q error text.
pub type Outcome = Result<Value, String>;

impl Ext {
    fn sym(&self, name: &str) -> *mut c_void {
        let c = CString::new(name).unwrap();
        let p = unsafe { libc::dlsym(self.handle, c.as_ptr()) };
        assert!(!p.is_null(), "the extension exports no {name}");
        p
    }

    /// Calls export `name` with K arguments; checks argument reference counts and the
    /// balance of allocations, then reads the result.
    pub fn call_k(&self, name: &str, args: &[K]) -> Outcome {
        // q would crash calling a C function with the wrong number of arguments: check first.
        if let Some(e) = mlregistry::api::export(name) {
            assert_eq!(args.len(), e.arity, "{name} takes {} arguments", e.arity);
        }
        let f = self.sym(name);
        let before: Vec<i32> = args.iter().map(|k| unsafe { (**k).r }).collect();
        ALLOCS.with(|a| a.set(0));
        FREES.with(|a| a.set(0));
        LAST_ERROR.with(|e| e.set(std::ptr::null()));
        COUNTING.with(|c| c.set(true));
        let r: K = unsafe {
            match args.len() {
                1 => std::mem::transmute::<_, extern "C" fn(K) -> K>(f)(args[0]),
                2 => std::mem::transmute::<_, extern "C" fn(K, K) -> K>(f)(args[0], args[1]),
                3 => std::mem::transmute::<_, extern "C" fn(K, K, K) -> K>(f)(
                    args[0], args[1], args[2],
                ),
                4 => std::mem::transmute::<_, extern "C" fn(K, K, K, K) -> K>(f)(
                    args[0], args[1], args[2], args[3],
                ),
                5 => std::mem::transmute::<_, extern "C" fn(K, K, K, K, K) -> K>(f)(
                    args[0], args[1], args[2], args[3], args[4],
                ),
                6 => std::mem::transmute::<_, extern "C" fn(K, K, K, K, K, K) -> K>(f)(
                    args[0], args[1], args[2], args[3], args[4], args[5],
                ),
                7 => std::mem::transmute::<_, extern "C" fn(K, K, K, K, K, K, K) -> K>(f)(
                    args[0], args[1], args[2], args[3], args[4], args[5], args[6],
                ),
                8 => std::mem::transmute::<_, extern "C" fn(K, K, K, K, K, K, K, K) -> K>(f)(
                    args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7],
                ),
                n => panic!("no call shape for {n} arguments"),
            }
        };
        COUNTING.with(|c| c.set(false));
        let after: Vec<i32> = args.iter().map(|k| unsafe { (**k).r }).collect();
        assert_eq!(
            before, after,
            "{name} changed the reference counts of its arguments"
        );
        let (allocs, frees) = (ALLOCS.with(|a| a.get()), FREES.with(|a| a.get()));
        assert!(!r.is_null(), "{name} returned a null K");
        if unsafe { (*r).t } == -128 {
            assert_eq!(allocs, frees, "{name} leaked K objects on its error path");
            let p = LAST_ERROR.with(|e| e.get());
            assert!(
                !p.is_null(),
                "{name} returned an error object not made by krr"
            );
            // Read only now, after the call has returned, as q does.
            let msg = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
            return Err(msg);
        }
        assert_eq!(
            allocs - frees,
            1,
            "{name}: K allocations and frees do not balance"
        );
        let v = read(r);
        unsafe { real_r0(r) };
        Ok(v)
    }

    /// Calls export `name` with values made into K objects by libe, then frees them.
    pub fn call(&self, name: &str, args: &[Value]) -> Outcome {
        let ks: Vec<K> = args.iter().map(make).collect();
        let out = self.call_k(name, &ks);
        for k in ks {
            unsafe { real_r0(k) };
        }
        out
    }
}

unsafe fn real_r0(k: K) {
    unsafe { (real().r0)(k) }
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// Makes a K object with libe's constructors.
pub fn make(v: &Value) -> K {
    unsafe {
        match v {
            Value::Unary(b) => {
                let k = ka(101);
                // an atom keeps its value where a list keeps its count
                let p = std::ptr::addr_of_mut!((*k).n) as *mut u8;
                *p = *b;
                k
            }
            Value::Atom { ty, data } => make_atom(*ty, data),
            Value::Vector { ty, data, .. } => make_vector(*ty, data),
            Value::List(items) => {
                let k = (real().ktn)(0, items.len() as i64);
                let slots = std::ptr::addr_of_mut!((*k).g0) as *mut K;
                for (i, item) in items.iter().enumerate() {
                    *slots.add(i) = make(item);
                }
                k
            }
            Value::Dict { keys, values, .. } => xD(make(keys), make(values)),
            Value::Table { columns, data } => {
                let keys = make(&Value::symbols(columns));
                let vals = make(&Value::List(data.clone()));
                xT(xD(keys, vals))
            }
            Value::Raw(_) => panic!("the host cannot build functions"),
        }
    }
}

unsafe fn make_atom(t: i8, d: &Data) -> K {
    unsafe {
        match d {
            Data::Bool(v) => kb(v[0] as i32),
            Data::Long(v) if t == ty::LONG => kj(v[0]),
            Data::Long(v) => ktj(-(t as i32), v[0]),
            Data::Int(v) if t == ty::INT => ki(v[0]),
            Data::Int(v) if t == ty::DATE => kd(v[0]),
            Data::Float(v) => kf(v[0]),
            Data::Char(v) => kc(v[0] as i32),
            Data::Symbol(v) => ks(sn(cstr(&v[0]).as_ptr(), v[0].len() as i32)),
            Data::Guid(v) => ku(U { g: v[0] }),
            other => panic!("host cannot make atom {t} {other:?}"),
        }
    }
}

unsafe fn make_vector(t: i8, d: &Data) -> K {
    unsafe {
        if let Data::Char(c) = d {
            return kpn(c.as_ptr() as *const c_char, c.len() as i64);
        }
        let k = (real().ktn)(t as i32, d.len() as i64);
        let p = std::ptr::addr_of_mut!((*k).g0) as *mut u8;
        match d {
            Data::Bool(v) => v.iter().enumerate().for_each(|(i, b)| *p.add(i) = *b as u8),
            Data::Byte(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p, v.len()),
            Data::Short(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut i16, v.len()),
            Data::Int(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut i32, v.len()),
            Data::Long(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut i64, v.len()),
            Data::Real(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut f32, v.len()),
            Data::Float(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut f64, v.len()),
            Data::Guid(v) => std::ptr::copy_nonoverlapping(v.as_ptr(), p as *mut [u8; 16], v.len()),
            Data::Symbol(v) => {
                let slots = p as *mut *mut c_char;
                for (i, s) in v.iter().enumerate() {
                    *slots.add(i) = sn(cstr(s).as_ptr(), s.len() as i32);
                }
            }
            Data::Char(_) => unreachable!(),
        }
        k
    }
}

/// Reads a K object by walking its structure.
pub fn read(k: K) -> Value {
    unsafe {
        let t = (*k).t;
        let atom_ptr = std::ptr::addr_of!((*k).n) as *const u8;
        let list_ptr = std::ptr::addr_of!((*k).g0) as *const u8;
        let n = if t >= 0 && t < 98 { (*k).n as usize } else { 0 };
        match t {
            -19..=-1 => Value::Atom {
                ty: -t,
                data: data(-t, atom_ptr, 1, true),
            },
            0 => {
                let slots = list_ptr as *const K;
                Value::List((0..n).map(|i| read(*slots.add(i))).collect())
            }
            1..=19 => Value::Vector {
                ty: t,
                attr: (*k).attr,
                data: data(t, list_ptr, n, false),
            },
            98 => {
                let inner = *(atom_ptr as *const K);
                match read(inner) {
                    Value::Dict { keys, values, .. } => {
                        let columns = match *keys {
                            Value::Vector {
                                data: Data::Symbol(s),
                                ..
                            } => s,
                            other => panic!("table keys {other:?}"),
                        };
                        let data = match *values {
                            Value::List(c) => c,
                            other => panic!("table values {other:?}"),
                        };
                        Value::Table { columns, data }
                    }
                    other => panic!("table inside {other:?}"),
                }
            }
            99 | 127 => {
                let slots = list_ptr as *const K;
                Value::Dict {
                    keys: Box::new(read(*slots)),
                    values: Box::new(read(*slots.add(1))),
                    sorted: t == 127,
                }
            }
            101 => Value::Unary(*atom_ptr),
            other => Value::Raw(vec![other as u8]),
        }
    }
}

unsafe fn data(t: i8, p: *const u8, n: usize, atom: bool) -> Data {
    unsafe {
        use std::slice::from_raw_parts as sl;
        match t {
            ty::BOOL => Data::Bool(sl(p, n).iter().map(|b| *b != 0).collect()),
            ty::GUID if atom => {
                // a guid atom keeps its 16 bytes in the list payload
                let g = p.add(8);
                Data::Guid(vec![sl(g, 16).try_into().unwrap()])
            }
            ty::GUID => Data::Guid(sl(p as *const [u8; 16], n).to_vec()),
            ty::BYTE => Data::Byte(sl(p, n).to_vec()),
            ty::CHAR => Data::Char(sl(p, n).to_vec()),
            ty::SHORT => Data::Short(sl(p as *const i16, n).to_vec()),
            ty::REAL => Data::Real(sl(p as *const f32, n).to_vec()),
            ty::FLOAT | ty::DATETIME => Data::Float(sl(p as *const f64, n).to_vec()),
            ty::LONG | ty::TIMESTAMP | ty::TIMESPAN => Data::Long(sl(p as *const i64, n).to_vec()),
            ty::SYMBOL => Data::Symbol(
                sl(p as *const *const c_char, n)
                    .iter()
                    .map(|s| CStr::from_ptr(*s).to_string_lossy().into_owned())
                    .collect(),
            ),
            _ => Data::Int(sl(p as *const i32, n).to_vec()),
        }
    }
}

/// Serialises with libe's b9 (mode 3) and gives the IPC bytes, header included.
pub fn libe_b9(v: &Value) -> Vec<u8> {
    unsafe {
        let k = make(v);
        let b = (real().b9)(3, k);
        assert!(!b.is_null(), "libe b9 failed");
        let n = (*b).n as usize;
        let bytes =
            std::slice::from_raw_parts(std::ptr::addr_of!((*b).g0) as *const u8, n).to_vec();
        real_r0(b);
        real_r0(k);
        bytes
    }
}

/// Deserialises IPC bytes (header included) with libe's d9 and reads the object.
pub fn libe_d9(bytes: &[u8]) -> Value {
    unsafe {
        let k = (real().ktn)(4, bytes.len() as i64);
        let p = std::ptr::addr_of_mut!((*k).g0) as *mut u8;
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len());
        let r = (real().d9)(k);
        real_r0(k);
        assert!(!r.is_null() && (*r).t != -128, "libe d9 refused the bytes");
        let v = read(r);
        real_r0(r);
        v
    }
}

#[allow(unused)]
fn keep_linked() {
    let _ = unsafe { r1 as *const () };
    let _ = unsafe { knk as *const () };
}
