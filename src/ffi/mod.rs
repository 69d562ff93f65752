//! The K boundary: the C functions q binds with `2:`. This is the one room with `unsafe`.
//!
//! Every argument is turned into bytes with q's own `b9` and read in Rust (q owns the
//! arguments: they are never freed or changed here); every result is built as IPC bytes and
//! turned into a K object with `d9`. Errors become q errors whose text is interned with `sn`,
//! so it outlives the call as q requires, and no panic crosses into q.

use crate::api::{self, EXPORTS};
use crate::qdata::{Value, ipc};
use kdb_c_api::native::{b9, d9, krr, ktn, r0, sn};
use kdb_c_api::{K, S};
use std::panic::{AssertUnwindSafe, catch_unwind};

const KG: i32 = 4;

/// A q error with `msg` (interned, so the pointer stays valid after the call returns).
fn q_error(msg: &str) -> K {
    let clean: String = msg.replace('\0', " ");
    // q prints one line of an error: keep it whole but without line breaks.
    let clean = clean.replace('\n', " ");
    unsafe { krr(sn(clean.as_ptr() as S, clean.len() as i32)) }
}

/// Reads a K argument through `b9`.
fn to_value(k: K, position: usize) -> Result<Value, String> {
    if k.is_null() {
        return Err(format!("argument {position} is missing"));
    }
    let bytes = unsafe { b9(3, k) };
    if bytes.is_null() || unsafe { (*bytes).qtype } != 4 {
        return Err(format!(
            "argument {position} cannot be serialised by q (foreign objects such as Python \
             values cannot be passed here)"
        ));
    }
    let v = unsafe {
        let n = (*bytes).value.list.n as usize;
        let data = std::slice::from_raw_parts((*bytes).value.list.G0.as_ptr(), n);
        let v = ipc::decode_message(data);
        r0(bytes);
        v
    };
    v.map_err(|e| format!("argument {position} could not be read: {e}"))
}

/// Builds the K object for a result through `d9`.
fn from_value(v: &Value) -> K {
    let msg = ipc::encode_message(v);
    unsafe {
        let bytes = ktn(KG, msg.len() as i64);
        let dst = std::slice::from_raw_parts_mut((*bytes).value.list.G0.as_mut_ptr(), msg.len());
        dst.copy_from_slice(&msg);
        let out = d9(bytes);
        r0(bytes);
        out
    }
}

/// Runs export `symbol` on q's arguments.
fn call(symbol: &str, raw: &[K]) -> K {
    quiet_panics();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let export = api::export(symbol).ok_or_else(|| format!("unknown export {symbol}"))?;
        let mut args = Vec::with_capacity(raw.len());
        for (i, k) in raw.iter().enumerate() {
            args.push(to_value(*k, i + 1)?);
        }
        (export.run)(&args).map_err(|e| e.to_string())
    }));
    match outcome {
        Ok(Ok(v)) => from_value(&v),
        Ok(Err(msg)) => q_error(&msg),
        Err(panic) => {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            q_error(&format!("mlregistry internal error in {symbol}: {why}"))
        }
    }
}

/// A panic inside a call becomes that call's q error; the default hook would also print a
/// backtrace on q's console, so panics are reported through the error alone.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::env::var_os("MLREGISTRY_PANIC_TRACE").is_some() {
                default(info);
            }
        }));
    });
}

macro_rules! exports {
    ($($name:ident($($arg:ident),*);)*) => {
        $(
            #[unsafe(no_mangle)]
            pub extern "C" fn $name($($arg: K),*) -> K {
                call(stringify!($name), &[$($arg),*])
            }
        )*
        /// The C symbols defined above (checked against `api::EXPORTS` by a test).
        pub const DEFINED: &[(&str, usize)] =
            &[$((stringify!($name), [$(stringify!($arg)),*].len())),*];
    };
}

exports! {
    mlr_init(a, b, c, d);
    mlr_manifest(a);
    mlr_new_registry(a, b, c);
    mlr_new_experiment(a, b, c, d);
    mlr_set_model(a, b, c, d, e, f, g, h);
    mlr_set_parameters(a, b, c, d, e, f, g);
    mlr_log_metric(a, b, c, d, e, f, g);
    mlr_get_model(a, b, c, d, e, f);
    mlr_get_predict(a, b, c, d, e);
    mlr_get_update(a, b, c, d, e, f);
    mlr_reshape(a, b, c);
    mlr_get_version(a, b, c, d, e);
    mlr_get_metric(a, b, c, d, e, f);
    mlr_get_parameters(a, b, c, d, e, f);
    mlr_get_model_store(a, b, c);
    mlr_query_model_store(a, b, c);
    mlr_update_config(a, b, c, d, e, f, g);
    mlr_update_requirements(a, b, c, d, e, f, g);
    mlr_update_latency(a, b, c, d, e, f, g);
    mlr_update_nulls(a, b, c, d, e, f);
    mlr_update_infinity(a, b, c, d, e, f);
    mlr_update_csi(a, b, c, d, e, f);
    mlr_update_psi(a, b, c, d, e, f, g);
    mlr_update_type(a, b, c, d, e, f);
    mlr_update_supervise(a, b, c, d, e, f);
    mlr_update_schema(a, b, c, d, e, f);
    mlr_delete_registry(a, b, c);
    mlr_delete_experiment(a, b, c);
    mlr_delete_model(a, b, c, d, e);
    mlr_delete_parameters(a, b, c, d, e, f);
    mlr_delete_metrics(a, b, c, d, e);
    mlr_delete_metric(a, b, c, d, e, f);
    mlr_delete_code(a, b, c, d, e, f);
}

/// Every export in the manifest has a C function of the same arity, and the other way round.
pub fn check_exports() -> Result<(), String> {
    for e in EXPORTS {
        if !DEFINED.contains(&(e.symbol, e.arity)) {
            return Err(format!("{} ({}) has no C function", e.symbol, e.arity));
        }
    }
    for (s, n) in DEFINED {
        if !EXPORTS.iter().any(|e| e.symbol == *s && e.arity == *n) {
            return Err(format!("C function {s} ({n}) is not in the manifest"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn manifest_and_c_functions_agree() {
        super::check_exports().unwrap();
    }
}
