//! The time a job thinks it is: the system's, or a test's ("eight days later") without waiting.

use kindling_domain::Timestamp;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

impl<F: Fn() -> Timestamp + Send + Sync + 'static> Clock for F {
    fn now(&self) -> Timestamp {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_closure_is_a_clock() {
        let fixed = Timestamp::from_unix(1_700_000_000);
        let clock: Arc<dyn Clock> = Arc::new(move || fixed);
        assert_eq!(clock.now(), fixed);
        assert!(SystemClock.now() > fixed);
    }
}
