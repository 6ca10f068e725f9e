//! Helpers shared by the randomised test suites (`crash.rs`, `damage.rs`): a small
//! seedable generator, a seed that can be replayed, and counts from the environment.

#![allow(dead_code)]

/// splitmix64: small, seedable, good enough to pick moments and bytes.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The seed from `variable` (decimal or 0x-hex) to replay a run, else a fresh one;
/// printed either way (run with `--nocapture` to see it).
pub fn seed(variable: &str, name: &str) -> u64 {
    let seed = std::env::var(variable)
        .ok()
        .and_then(|s| {
            let s = s.trim();
            s.strip_prefix("0x")
                .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
        })
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
    println!("{name}: seed {seed:#x} (replay with {variable}={seed:#x})");
    seed
}

/// A count from the environment (a long run), else `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}
