//! The Python half of the bridge (q/mlregistry_bridge.py), run by the test Python on the
//! generated model files: saving, loading, predicting, updating, code files and the
//! interpreter's facts, everything it does except being called from q.

use crate::python_models::{bridge_path, models, python};
use std::process::Command;

#[test]
fn the_python_bridge_saves_loads_and_calls_real_models() {
    let script = format!("{}/tests/tools/check_bridge.py", env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(python())
        .arg(&script)
        .arg(bridge_path())
        .arg(models())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // The checks that ran and those skipped for a missing library, shown with --nocapture.
    println!("{stdout}");
    assert!(
        out.status.success(),
        "check_bridge.py failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok predictor and updater"), "{stdout}");
}
