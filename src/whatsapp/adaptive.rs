//! The adaptive sending rate of one instance: how a fleet of instances, none of which knows
//! how many others run, shares the account's quota for DeleteWhatsAppMessageMedia (100
//! requests a second per Region by default) with few throttles and no tuning.
//!
//! The model is the AWS SDKs' adaptive retry mode (the client rate limiter of botocore and
//! the SDK specification), which the Rust SDK would not apply here: it does not count this
//! API's `ThrottledRequestException` as a throttle.
//!
//! - Until the first throttle, nothing is limited: a lone instance is as fast as without it.
//! - A throttle switches the limiter on and cuts the rate at once to [`BETA`] times the
//!   rate the instance was sending at (measured, smoothed); the first throttle of a cold
//!   instance cuts from the rate the service accepted instead (see [`State::first_cut`]).
//!   Every item of the instance waits on the same token bucket, the last gate before the
//!   wire, and a throttle empties it: every request not yet sent slows down, not only the
//!   throttled one. The limiter lives as long as the instance, across invocations.
//! - Successes grow the rate back along the CUBIC curve
//!   `W(t) = C (t - K)^3 + W_max`, `K = cbrt(W_max (1 - BETA) / C)`, `t` the time since the
//!   last throttle: fast while far below the rate that last throttled (`W_max`), flat
//!   around it, then probing above; `C` as in [`cubic_c`]. A rate is never set above twice
//!   what was measured.
//!
//! `MAX_REQUESTS_PER_SECOND`, where set, stays a hard ceiling above all of this (the
//! client's separate [`super::rate::RequestRate`]).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// CUBIC's multiplicative decrease: a throttle leaves this share of the rate.
pub(crate) const BETA: f64 = 0.7;
/// CUBIC's scale: here `C = SCALE * max(W_max, GROWTH_FLOOR)^2` (the SDKs use a fixed `C`
/// of 0.4). See [`cubic_c`].
pub(crate) const SCALE: f64 = 0.0001;
/// In [`cubic_c`], `W_max` counts as at least this many requests a second.
pub(crate) const GROWTH_FLOOR: f64 = 6.0;
/// The lowest fill rate, in requests a second.
pub(crate) const MIN_RATE: f64 = 0.5;
/// Weight of the newest measurement in the smoothed sending rate.
pub(crate) const SMOOTHING: f64 = 0.8;
/// The sending rate is measured over buckets of this length.
pub(crate) const MEASURE_BUCKET: Duration = Duration::from_millis(500);

/// One instance's adaptive rate. Cheap to share: every request takes a short lock.
#[derive(Debug)]
pub(crate) struct AdaptiveRate {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Off until the first throttle.
    enabled: bool,
    /// The token bucket's fill rate, requests a second, and what it holds.
    fill_rate: f64,
    tokens: f64,
    last_refill: Instant,
    /// The rate that last throttled (`W_max`) and when, for the CUBIC curve.
    last_max_rate: f64,
    last_throttle: Instant,
    /// The sending rate, and the rate of answers that were not throttles (accepted),
    /// measured over the same buckets and smoothed the same way.
    measured_rate: f64,
    accepted_rate: f64,
    bucket_start: Instant,
    bucket_count: u32,
    bucket_accepted: u32,
    /// A hard ceiling (`MAX_REQUESTS_PER_SECOND`), if any.
    ceiling: Option<f64>,
}

impl AdaptiveRate {
    /// A limiter that is off until the first throttle, never above `ceiling`.
    pub(crate) fn new(ceiling: Option<f64>) -> Self {
        let now = Instant::now();
        Self {
            state: Mutex::new(State {
                enabled: false,
                fill_rate: 0.0,
                tokens: 0.0,
                last_refill: now,
                last_max_rate: 0.0,
                last_throttle: now,
                measured_rate: 0.0,
                accepted_rate: 0.0,
                bucket_start: now,
                bucket_count: 0,
                bucket_accepted: 0,
                ceiling,
            }),
        }
    }

    /// Waits for the next request's turn. Returns `false`, without waiting, when that turn
    /// would come after `latest`.
    pub(crate) async fn acquire(&self, latest: Instant) -> bool {
        loop {
            let wait = match self.state.lock() {
                Ok(mut state) => state.take_token(Instant::now()),
                // A poisoned lock only means another request panicked mid-update: send.
                Err(_) => return true,
            };
            let Some(wait) = wait else { return true };
            if Instant::now() + wait > latest {
                return false;
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Learns from a response: `throttled` for `ThrottledRequestException`, else a
    /// success (any answer that is not a throttle). Transport failures are neither.
    pub(crate) fn on_response(&self, throttled: bool, sent: Instant) {
        if let Ok(mut state) = self.state.lock() {
            let before = state.fill_rate;
            state.on_response(Instant::now(), throttled, sent);
            if throttled && state.fill_rate != before {
                tracing::debug!(
                    rate = state.fill_rate,
                    w_max = state.last_max_rate,
                    "ThrottledRequestException: the adaptive rate is cut"
                );
            }
        }
    }

    /// The fill rate now, when the limiter is on (for tests and logs).
    #[cfg(test)]
    fn rate(&self) -> Option<f64> {
        let state = self.state.lock().ok()?;
        state.enabled.then_some(state.fill_rate)
    }
}

impl State {
    /// Takes a token, or says how long until one is there. `None`: go now.
    fn take_token(&mut self, now: Instant) -> Option<Duration> {
        if !self.enabled {
            return None;
        }
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return None;
        }
        Some(Duration::from_secs_f64(
            (1.0 - self.tokens) / self.fill_rate,
        ))
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.duration_since(self.last_refill).as_secs_f64();
        // The bucket holds at most one second's worth (and at least one token): a burst
        // never exceeds what the rate allows in a second.
        let capacity = self.fill_rate.max(1.0);
        self.tokens = (self.tokens + elapsed * self.fill_rate).min(capacity);
        self.last_refill = now;
    }

    fn on_response(&mut self, now: Instant, throttled: bool, sent: Instant) {
        self.measure(now, throttled);
        // Requests sent before the last cut answer for the old rate: their throttles were
        // already acted on (TCP's one cut a window). Cutting again for each would drive the
        // rate to the floor after one burst.
        if throttled && self.enabled && sent < self.last_throttle {
            return;
        }
        let sending = self.sending_rate(now);
        let new_rate = if throttled {
            // Cut from what was really being sent, or from the limit if that was lower.
            let rate = if self.enabled {
                sending.min(self.fill_rate)
            } else {
                self.first_cut(now, sending)
            };
            self.last_max_rate = rate;
            self.last_throttle = now;
            self.enabled = true;
            rate * BETA
        } else {
            let t = now.duration_since(self.last_throttle).as_secs_f64();
            let w_max = self.last_max_rate;
            let c = cubic_c(w_max);
            let k = (w_max * (1.0 - BETA) / c).cbrt();
            c * (t - k).powi(3) + w_max
        };
        if self.enabled {
            self.refill(now);
            if throttled {
                // A throttle means stop now: what the bucket saved up at the old rate (or,
                // when the limiter was off, since the instance started) would go out at
                // once, be throttled in turn, and cut the rate again within a round trip.
                self.tokens = 0.0;
            }
            let mut rate = new_rate.min(2.0 * sending).max(MIN_RATE);
            if let Some(ceiling) = self.ceiling {
                rate = rate.min(ceiling);
            }
            self.fill_rate = rate;
        }
    }

    /// The sending rate: the smoothed measurement, or, before the first bucket is over (a
    /// cold instance throttled at once), the rate of the bucket so far.
    fn sending_rate(&self, now: Instant) -> f64 {
        if self.measured_rate > 0.0 {
            return self.measured_rate;
        }
        let elapsed = now
            .duration_since(self.bucket_start)
            .max(Duration::from_millis(50));
        f64::from(self.bucket_count) / elapsed.as_secs_f64()
    }

    /// The rate that last throttled (`W_max`) at an instance's first throttle: the lower of
    /// what it sent and what the service accepted from it.
    ///
    /// Before its first throttle an instance is not limited, so the rate it was sending at
    /// says nothing about its share of the quota: 32 cold instances each sending 50 a
    /// second, cut to 35 and grown back towards 50, took many cuts to come down to their
    /// share of about 3 a second, and were throttled all the way (21% of a fleet's
    /// requests). What the service accepted is the evidence of that share, as in BBR, which
    /// paces at the delivered rate rather than the sent one. It is counted over at least one
    /// whole bucket, so that a cold instance whose first answers came within milliseconds
    /// does not read a burst as a rate, and it is taken as at least one request a bucket,
    /// so that an instance whose every answer was a throttle still grows back.
    fn first_cut(&self, now: Instant, sending: f64) -> f64 {
        let accepted = if self.measured_rate > 0.0 {
            self.accepted_rate
        } else {
            let elapsed = now.duration_since(self.bucket_start).max(MEASURE_BUCKET);
            f64::from(self.bucket_accepted) / elapsed.as_secs_f64()
        };
        let floor = 1.0 / MEASURE_BUCKET.as_secs_f64();
        sending.min(accepted.max(floor))
    }

    /// Counts a request in the current bucket; when the bucket is over, folds its rates
    /// into the smoothed measurements.
    fn measure(&mut self, now: Instant, throttled: bool) {
        self.bucket_count += 1;
        if !throttled {
            self.bucket_accepted += 1;
        }
        let elapsed = now.duration_since(self.bucket_start);
        if elapsed >= MEASURE_BUCKET {
            let seconds = elapsed.as_secs_f64();
            let sent = f64::from(self.bucket_count) / seconds;
            let accepted = f64::from(self.bucket_accepted) / seconds;
            self.measured_rate = sent * SMOOTHING + self.measured_rate * (1.0 - SMOOTHING);
            self.accepted_rate = accepted * SMOOTHING + self.accepted_rate * (1.0 - SMOOTHING);
            self.bucket_count = 0;
            self.bucket_accepted = 0;
            self.bucket_start = now;
        }
    }
}

/// CUBIC's `C` for a curve whose last throttle came at `w_max` requests a second.
///
/// The SDKs' fixed `C` (0.4) suits one client. In a fleet of `n` instances, each settles near
/// `quota / n`, and every one of them probing upwards at a fixed speed gives a throttled
/// share that grows with `n`: measured, 16% of requests in the steady state at 32
/// instances. With `C` proportional to `W_max^2`, an instance's probing speed follows its
/// own rate, so that the fleet's probing does not grow with `n`: a lone instance (100 a
/// second) is back at its last rate 3 s after a cut.
///
/// Below [`GROWTH_FLOOR`], `C` stays fixed. Proportional all the way down, it was unfair:
/// an instance that started late, in a cold fleet's burst, was cut to the floor rate, and
/// there its `C` was so small that it took a minute to grow back, while a batch of
/// messages waited on it (the fleet's tail: 1.4x N / quota at 32 instances). Fixed below
/// the floor, the growth of small instances does not depend on their rate, as in AIMD,
/// which is what brings them to a fair share (`make bench`, fleet table).
fn cubic_c(w_max: f64) -> f64 {
    SCALE * w_max.max(GROWTH_FLOOR).powi(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A new instance's state, as of `start`.
    fn fresh(ceiling: Option<f64>, start: Instant) -> State {
        let mut state = AdaptiveRate::new(ceiling).state.into_inner().unwrap();
        state.bucket_start = start;
        state.last_refill = start;
        state
    }

    /// A state that has been sending at `rate` a second for a while.
    fn sending_at(rate: f64, start: Instant) -> (State, Instant) {
        let mut state = fresh(None, start);
        let mut now = start;
        for _ in 0..(rate as usize * 3) {
            now += Duration::from_secs_f64(1.0 / rate);
            state.on_response(now, false, now);
        }
        (state, now)
    }

    #[test]
    fn nothing_is_limited_before_the_first_throttle() {
        let (mut state, now) = sending_at(300.0, Instant::now());
        assert!(!state.enabled);
        for _ in 0..1000 {
            assert_eq!(state.take_token(now), None);
        }
    }

    #[test]
    fn a_throttle_cuts_the_rate_at_once_to_beta_of_what_was_sent() {
        let (mut state, now) = sending_at(200.0, Instant::now());
        let measured = state.measured_rate;
        assert!((measured - 200.0).abs() < 20.0, "{measured}");
        state.on_response(now, true, now);
        assert!(state.enabled);
        assert!(
            (state.fill_rate - measured * BETA).abs() < 1.0,
            "{}",
            state.fill_rate
        );
        // Every request now waits its turn: the bucket refills at the new rate.
        state.tokens = 0.0;
        let wait = state.take_token(now).unwrap();
        assert!((wait.as_secs_f64() - 1.0 / state.fill_rate).abs() < 1e-6);
    }

    #[test]
    fn a_cold_instance_cuts_from_what_the_service_accepted_not_from_what_it_sent() {
        // One of a cold fleet: 8 requests at once, 3 accepted out of the service's burst,
        // and a throttle 60 ms after the start.
        let start = Instant::now();
        let mut state = fresh(Some(50.0), start);
        let at = |ms| start + Duration::from_millis(ms);
        for ms in [50, 51, 52] {
            state.on_response(at(ms), false, start);
        }
        state.on_response(at(60), true, start);
        // It sent 4 in 60 ms (66 a second, 46 after a cut from that); the service took 3,
        // counted over a whole bucket: 6 a second, cut to 4.2.
        let accepted = 3.0 / MEASURE_BUCKET.as_secs_f64();
        assert!(
            (state.last_max_rate - accepted).abs() < 1e-9,
            "{}",
            state.last_max_rate
        );
        assert!(
            (state.fill_rate - accepted * BETA).abs() < 1e-9,
            "{}",
            state.fill_rate
        );

        // Every answer a throttle: the cut still leaves a rate that grows back.
        let mut state = fresh(None, start);
        state.on_response(at(50), true, start);
        assert!(state.last_max_rate > 0.0);
        let after = state.fill_rate;
        let mut t = at(50);
        while t < at(50) + Duration::from_secs(20) {
            t += Duration::from_secs_f64(1.0 / state.fill_rate);
            state.on_response(t, false, t);
        }
        assert!(
            state.fill_rate > 2.0 * after,
            "{} vs {after}",
            state.fill_rate
        );
    }

    #[test]
    fn a_throttle_stops_sending_at_once_even_with_tokens_saved_up() {
        // The limiter on at 50 a second, idle for a second: its bucket is full.
        let (mut state, now) = sending_at(50.0, Instant::now());
        state.on_response(now, true, now);
        let later = now + Duration::from_secs(1);
        state.refill(later);
        assert!(state.tokens >= 1.0);
        // A throttle of a request sent after that cut: nothing more goes out at once.
        state.on_response(later, true, later);
        assert!(state.take_token(later).is_some(), "{}", state.tokens);
        // A cold instance's first throttle, long after it started, likewise.
        let start = Instant::now();
        let mut cold = fresh(None, start);
        let t = start + Duration::from_secs(30);
        cold.on_response(t, false, t);
        cold.on_response(t + Duration::from_millis(50), true, t);
        assert!(cold.take_token(t + Duration::from_millis(50)).is_some());
    }

    #[test]
    fn successes_grow_the_rate_back_along_the_cubic_curve() {
        let start = Instant::now();
        let (mut state, now) = sending_at(100.0, start);
        state.on_response(now, true, now);
        let cut = state.fill_rate;
        let w_max = state.last_max_rate;
        let k = (w_max * (1.0 - BETA) / cubic_c(w_max)).cbrt();
        // Keep sending at the limit: the rate climbs, flattens near W_max at t = K, and
        // stays within twice what is measured.
        let mut t = now;
        let mut rates = Vec::new();
        while t.duration_since(now).as_secs_f64() < k + 1.0 {
            t += Duration::from_secs_f64(1.0 / state.fill_rate.max(1.0));
            state.on_response(t, false, t);
            rates.push((t.duration_since(now).as_secs_f64(), state.fill_rate));
        }
        assert!(
            rates.windows(2).all(|w| w[1].1 >= w[0].1 - 1e-9),
            "never falls without a throttle"
        );
        let at_k = rates.iter().find(|(s, _)| *s >= k).unwrap().1;
        assert!(
            at_k > cut && (at_k - w_max).abs() < 0.05 * w_max,
            "{at_k} vs {w_max}"
        );
    }

    #[test]
    fn an_instance_cut_far_below_its_share_grows_back_within_seconds() {
        // A late starter in a cold fleet, cut to 0.7 a second.
        let (mut state, now) = sending_at(1.0, Instant::now());
        state.on_response(now, true, now);
        let cut = state.fill_rate;
        assert!(cut < 1.0, "{cut}");
        let mut t = now;
        while t < now + Duration::from_secs(15) {
            t += Duration::from_secs_f64(1.0 / state.fill_rate);
            state.on_response(t, false, t);
        }
        // With C proportional to W_max^2 all the way down (C = 0.00005), it would still be
        // below its last rate; with C fixed below GROWTH_FLOOR, it is several times it.
        assert!(state.fill_rate > 4.0 * cut, "{} vs {cut}", state.fill_rate);
    }

    #[test]
    fn throttles_of_requests_sent_before_a_cut_do_not_cut_again() {
        let (mut state, now) = sending_at(200.0, Instant::now());
        let before_cut = now - Duration::from_millis(40);
        state.on_response(now, true, before_cut);
        let cut = state.fill_rate;
        // The rest of the burst that was in flight comes back throttled too.
        for i in 1..=8 {
            state.on_response(now + Duration::from_millis(i), true, before_cut);
        }
        assert_eq!(state.fill_rate, cut);
        // A request sent at the new rate and throttled is news: it cuts.
        let later = now + Duration::from_millis(100);
        state.on_response(later + Duration::from_millis(50), true, later);
        assert!(state.fill_rate < cut, "{} vs {cut}", state.fill_rate);
    }

    #[test]
    fn a_lone_instance_regains_its_rate_within_seconds_of_a_cut() {
        // C grows with W_max^2: at 100 a second the curve is back at W_max after
        // cbrt((1 - BETA) / (SCALE * 100)) = about 3 s.
        let k = (100.0 * (1.0 - BETA) / cubic_c(100.0)).cbrt();
        assert!((2.5..3.5).contains(&k), "{k}");
        // A fleet member at 3 a second takes longer, and probes gently.
        let k3 = (3.0 * (1.0 - BETA) / cubic_c(3.0)).cbrt();
        assert!(k3 > k);
        assert!(
            cubic_c(3.0) * 2.0_f64.powi(3) < 0.05,
            "2 s past its plateau"
        );
    }

    #[test]
    fn the_ceiling_holds_and_the_rate_never_drops_below_the_floor() {
        let start = Instant::now();
        let mut state = fresh(Some(10.0), start);
        let mut now = start;
        for _ in 0..200 {
            now += Duration::from_millis(5);
            state.on_response(now, false, now);
        }
        state.on_response(now, true, now);
        assert!(state.fill_rate <= 10.0, "{}", state.fill_rate);
        for _ in 0..50 {
            now += Duration::from_millis(1);
            state.on_response(now, true, now);
        }
        assert!(state.fill_rate >= MIN_RATE);
    }

    #[tokio::test]
    async fn acquire_waits_its_turn_and_refuses_a_turn_past_the_latest_start() {
        let limiter = AdaptiveRate::new(None);
        assert_eq!(limiter.rate(), None);
        // Force the limiter on at 20 requests a second with an empty bucket.
        {
            let mut state = limiter.state.lock().unwrap();
            state.enabled = true;
            state.fill_rate = 20.0;
            state.tokens = 0.0;
            state.last_refill = Instant::now();
        }
        let started = Instant::now();
        assert!(limiter.acquire(started + Duration::from_secs(5)).await);
        assert!(
            started.elapsed() >= Duration::from_millis(45),
            "{:?}",
            started.elapsed()
        );
        let refused_at = Instant::now();
        assert!(
            !limiter
                .acquire(Instant::now() + Duration::from_millis(1))
                .await
        );
        assert!(refused_at.elapsed() < Duration::from_millis(20));
        assert_eq!(limiter.rate(), Some(20.0));
    }
}
