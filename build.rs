//! Links KX's libe.so into the integration tests only (the host that stands in for q). The
//! extension itself never links libe: q provides those symbols when it loads the library.

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let kx = std::env::var("MLREGISTRY_KX_DIR").unwrap_or(format!("{root}/.tools/kx"));
    println!("cargo:rerun-if-env-changed=MLREGISTRY_KX_DIR");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rustc-link-arg-tests=-L{kx}");
    println!("cargo:rustc-link-arg-tests=-l:libe.so");
    println!("cargo:rustc-link-arg-tests=-Wl,-rpath,{kx}");
    // The host's own krr/r0/ktn/b9/d9 must win over libe's when the extension is dlopen'ed.
    println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic");
}
