//! The one OS call the standard library lacks here: signalling a whole process group.

/// Sends SIGKILL to every process in the group led by `pgid` (a CLI started with
/// `process_group(0)`, so its group id is its pid). A group that is already gone is fine.
pub fn kill_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        // Never signal "every process we may signal" (-1) or our own group (0).
        return;
    }
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}
