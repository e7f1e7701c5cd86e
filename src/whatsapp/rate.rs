//! `MAX_REQUESTS_PER_SECOND`: a per-instance cap on requests sent, retries included, so that
//! the instances together stay under the account's quota for DeleteWhatsAppMessageMedia
//! (100 requests per second per Region by default) instead of spending their time on
//! throttles.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A token bucket of `per_second` tokens a second and a burst of two: requests leave evenly
/// spaced, so that a server-side bucket of the same rate sees no burst beyond two; the
/// second token absorbs the timer's overshoot, which would otherwise lower the average
/// rate (about 10% at 100 a second).
const BURST: NonZeroU32 = NonZeroU32::new(2).unwrap();

#[derive(Debug)]
pub(crate) struct RequestRate {
    limiter: DefaultDirectRateLimiter,
    clock: DefaultClock,
}

impl RequestRate {
    pub(crate) fn per_second(per_second: NonZeroU32) -> Self {
        let quota = Quota::per_second(per_second).allow_burst(BURST);
        Self {
            limiter: RateLimiter::direct(quota),
            clock: DefaultClock::default(),
        }
    }

    /// Waits for the next request's turn. Returns `false`, without waiting, when that turn
    /// would come after `latest`.
    pub(crate) async fn wait_until_ready(&self, latest: Instant) -> bool {
        loop {
            match self.limiter.check() {
                Ok(()) => return true,
                Err(not_until) => {
                    let wait: Duration = not_until.wait_time_from(self.clock.now());
                    if Instant::now() + wait > latest {
                        return false;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn requests_are_spaced_at_the_rate() {
        let rate = RequestRate::per_second(NonZeroU32::new(50).unwrap());
        let far = Instant::now() + Duration::from_secs(10);
        let started = Instant::now();
        for _ in 0..12 {
            assert!(rate.wait_until_ready(far).await);
        }
        // The first two go at once (the burst), then one every 20 ms.
        let took = started.elapsed();
        assert!(took >= Duration::from_millis(190), "{took:?}");
    }

    #[tokio::test]
    async fn a_turn_past_the_latest_start_is_refused_at_once() {
        let rate = RequestRate::per_second(NonZeroU32::new(1).unwrap());
        // The burst of two goes at once; the third's turn is a second away.
        for _ in 0..2 {
            assert!(
                rate.wait_until_ready(Instant::now() + Duration::from_secs(5))
                    .await
            );
        }
        let started = Instant::now();
        assert!(
            !rate
                .wait_until_ready(Instant::now() + Duration::from_millis(100))
                .await
        );
        assert!(started.elapsed() < Duration::from_millis(50));
    }
}
