//! How many threads a run may use (`-j`, `n_jobs=`): at least one, and at
//! most a few times the machine's cores, so a typo (`-j 100000`) is an
//! error naming the option at once, not a failure after thousands of
//! threads were started.

/// Threads a run may ask for beyond the machine's cores, as a factor
/// (threads blocked on reading files can use a little more than the cores).
const OVERSUBSCRIPTION: usize = 4;

/// The most threads a run may ask for on this machine (at least 8).
pub fn max_jobs() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    (cores * OVERSUBSCRIPTION).max(8)
}

/// Checks a thread count: `None` or `Some(0)` means every core.
pub fn check_jobs(jobs: Option<usize>) -> Result<usize, String> {
    match jobs {
        None | Some(0) => Ok(0),
        Some(n) if n <= max_jobs() => Ok(n),
        Some(n) => Err(format!(
            "{n} threads (-j/--jobs, n_jobs) is more than this machine can use: 1..={} ({} cores)",
            max_jobs(),
            std::thread::available_parallelism().map_or(1, usize::from)
        )),
    }
}

/// A thread pool of `jobs` threads (every core for `None` or 0), checked
/// with [`check_jobs`].
pub fn thread_pool(jobs: Option<usize>) -> Result<rayon::ThreadPool, String> {
    let n = check_jobs(jobs)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("genreid-{i}"))
        .build()
        .map_err(|e| format!("cannot start {n} worker threads: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_counts_are_bounded_by_the_machine() {
        assert_eq!(check_jobs(None), Ok(0));
        assert_eq!(check_jobs(Some(1)), Ok(1));
        let e = check_jobs(Some(100_000)).unwrap_err();
        assert!(e.contains("-j") && e.contains("100000"), "{e}");
    }
}
