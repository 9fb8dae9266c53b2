//! Argon2 checks (portal passwords, API keys still stored as Argon2 hashes) that may run at
//! once: two per core. Each check holds about 19 MiB and a core for a moment, and a sign-in
//! runs one even for an unknown email (so that timing does not tell which exist): a flood of
//! attempts waits here instead of filling the blocking pool, and one that waits longer than
//! `WAIT` is refused as busy.

use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::Semaphore;

static SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get() * 2)));
const WAIT: Duration = Duration::from_secs(5);

/// Runs `check` on the blocking pool once a slot is free; `None` when none was within `WAIT`.
pub async fn check(check: impl FnOnce() -> bool + Send + 'static) -> Option<bool> {
    within(&SLOTS, WAIT, check).await
}

async fn within(slots: &Semaphore, wait: Duration, check: impl FnOnce() -> bool + Send + 'static) -> Option<bool> {
    let _slot = tokio::time::timeout(wait, slots.acquire()).await.ok()?.ok()?;
    Some(tokio::task::spawn_blocking(check).await.unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kindling_domain::secret;

    #[tokio::test]
    async fn checks_wait_for_a_slot_or_give_up() {
        let hash = secret::hash_password("correct horse");
        let slots = Semaphore::new(1);
        let wait = Duration::from_millis(200);
        let verify = |password: &'static str| {
            let hash = hash.clone();
            move || secret::verify_password(password, &hash)
        };
        assert_eq!(within(&slots, wait, verify("correct horse")).await, Some(true));
        assert_eq!(within(&slots, wait, verify("wrong")).await, Some(false));
        // Every slot taken: the check gives up after the wait instead of queueing forever.
        let _taken = slots.acquire().await.unwrap();
        assert_eq!(within(&slots, wait, verify("correct horse")).await, None);
    }
}
