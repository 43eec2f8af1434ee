//! One app's share of back-channel logout: the logout tokens waiting for it, how many deliveries to it run,
//! and whether it is suspended because a delivery to it failed. An app whose endpoint is down must cost a few
//! connections per cool-off, not three attempts per ended session, and must never slow the other apps.
//! The rules are here, pure (every time is passed in), so they are unit-tested without a network; `super`
//! runs the deliveries a lane hands out and reports what it decides.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Limits;

/// A logout token waiting for delivery, with the moment it expires (it is useless to the app after that).
pub struct Pending {
    pub uri: Arc<str>,
    pub token: String,
    pub expires: Instant,
}

/// Logout tokens an app never received, by why.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Dropped {
    /// Past their expiry while they waited (or between attempts).
    pub expired: u64,
    /// The oldest, pushed out of a full queue.
    pub overflow: u64,
    /// Every attempt failed.
    pub given_up: u64,
}

impl Dropped {
    pub fn total(&self) -> u64 {
        self.expired + self.overflow + self.given_up
    }
}

/// What a worker does next for this app.
pub enum Take {
    /// Deliver this token (with retries).
    Deliver(Pending),
    /// Deliver this token alone: the first after a cool-off, whose outcome resumes or suspends the app again.
    Probe(Pending),
    /// Sleep until then, then take again (`woke`): this worker waits out the cool-off for the app.
    Wait(Instant),
    /// Nothing for this worker: it ends (it no longer counts as running).
    Stop,
}

/// What a finished delivery changed.
#[derive(Debug, PartialEq, Eq)]
pub enum Finish {
    /// The app is now suspended for this long (log it once, here).
    Suspended(Duration),
    /// The app answered; start this many more workers (already counted as running). `resumed`: it was
    /// suspended until now.
    Delivered { more: usize, resumed: bool },
    /// Nothing changed (a failure while the app was already suspended).
    Nothing,
}

/// Whether to log the dropped tokens now, or have a task come back then.
#[derive(Debug, PartialEq, Eq)]
pub enum Report {
    Now(Dropped),
    Later(Instant),
    Nothing,
}

struct Suspension {
    until: Instant,
    length: Duration,
}

pub struct Lane {
    queue: VecDeque<Pending>,
    /// Workers running for this app (at most `in_flight`; one while suspended or probing).
    workers: usize,
    suspension: Option<Suspension>,
    /// The length of the next suspension: doubles at each one, back to the first after a success.
    next_cool_off: Duration,
    /// A worker sleeps until the cool-off ends (or the queue's newest token expires).
    sleeper: bool,
    /// The cool-off is over and its probe is under way.
    probing: bool,
    unreported: Dropped,
    /// Not yet added to the metrics.
    unmetered: Dropped,
    total: Dropped,
    reported_at: Option<Instant>,
    /// A task will come back to log `unreported`.
    reporter: bool,
}

impl Lane {
    pub fn new(limits: &Limits) -> Lane {
        Lane {
            queue: VecDeque::new(),
            workers: 0,
            suspension: None,
            next_cool_off: limits.cool_off,
            sleeper: false,
            probing: false,
            unreported: Dropped::default(),
            unmetered: Dropped::default(),
            total: Dropped::default(),
            reported_at: None,
            reporter: false,
        }
    }

    /// Queues a token (the oldest goes if the queue is full). True: start a worker (counted as running).
    pub fn push(&mut self, p: Pending, now: Instant, limits: &Limits) -> bool {
        self.drop_expired(now);
        self.queue.push_back(p);
        self.trim(limits);
        let allowed = match self.suspension.is_some() || self.probing {
            // One worker at a time for a suspended app: the one waiting out its cool-off, then its probe.
            true => self.workers == 0,
            false => self.workers < limits.in_flight,
        };
        self.workers += usize::from(allowed);
        allowed
    }

    /// The next thing a running worker does; `woke` after a [`Take::Wait`].
    pub fn take(&mut self, now: Instant, woke: bool) -> Take {
        if woke {
            self.sleeper = false;
        }
        if let Some(s) = &self.suspension {
            if now < s.until {
                let until = s.until;
                self.drop_expired(now);
                return match self.queue.back() {
                    Some(newest) if !self.sleeper => {
                        self.sleeper = true;
                        Take::Wait(until.min(newest.expires))
                    }
                    _ => self.stop(),
                };
            }
            if self.probing {
                return self.stop();
            }
            return match self.pop_live(now) {
                Some(p) => {
                    self.probing = true;
                    Take::Probe(p)
                }
                None => self.stop(),
            };
        }
        match self.pop_live(now) {
            Some(p) => Take::Deliver(p),
            None => self.stop(),
        }
    }

    /// Whether a delivery under way may make its next attempt: not while the app is suspended (unless it is
    /// the probe). Otherwise the caller gives the token back with [`Lane::requeue`].
    pub fn may_retry(&self, probe: bool) -> bool {
        probe || self.suspension.is_none()
    }

    /// A token whose delivery stopped because the app was suspended meanwhile: first in line again.
    pub fn requeue(&mut self, p: Pending, limits: &Limits) {
        self.queue.push_front(p);
        self.trim(limits);
    }

    /// A token that expired between its attempts.
    pub fn expired(&mut self) {
        self.count(|d| d.expired += 1);
    }

    /// A delivery's outcome: `delivered`, or every attempt failed.
    pub fn finish(&mut self, delivered: bool, probe: bool, now: Instant, limits: &Limits) -> Finish {
        if probe {
            self.probing = false;
        }
        if delivered {
            let resumed = self.suspension.take().is_some();
            self.next_cool_off = limits.cool_off;
            let more = limits.in_flight.saturating_sub(self.workers).min(self.queue.len());
            self.workers += more;
            return Finish::Delivered { more, resumed };
        }
        self.count(|d| d.given_up += 1);
        if self.suspension.as_ref().is_some_and(|s| now < s.until) {
            return Finish::Nothing;
        }
        let length = self.next_cool_off;
        self.suspension = Some(Suspension { until: now + length, length });
        self.next_cool_off = (length * 2).min(limits.max_cool_off);
        Finish::Suspended(length)
    }

    /// What to log of the tokens dropped so far: at most one report per cool-off (the current suspension's
    /// length, or the first cool-off's when the app is not suspended); a report held back comes later.
    pub fn report(&mut self, now: Instant, limits: &Limits) -> Report {
        if self.unreported.total() == 0 {
            return Report::Nothing;
        }
        let every = self.suspension.as_ref().map_or(limits.cool_off, |s| s.length);
        match self.reported_at {
            Some(at) if now < at + every => match self.reporter {
                true => Report::Nothing,
                false => {
                    self.reporter = true;
                    Report::Later(at + every)
                }
            },
            _ => {
                self.reported_at = Some(now);
                Report::Now(std::mem::take(&mut self.unreported))
            }
        }
    }

    /// The task that came back for a held-back report: is it due now?
    pub fn report_again(&mut self, now: Instant, limits: &Limits) -> Report {
        self.reporter = false;
        self.report(now, limits)
    }

    /// Everything not yet logged, whatever the time (the process is about to stop).
    pub fn flush(&mut self) -> Dropped {
        std::mem::take(&mut self.unreported)
    }

    /// What was dropped since the last call, for the metrics (which count every drop, however the logs batch).
    pub fn take_unmetered(&mut self) -> Dropped {
        std::mem::take(&mut self.unmetered)
    }

    /// Everything this app never received, since the start.
    pub fn dropped(&self) -> Dropped {
        self.total
    }

    fn stop(&mut self) -> Take {
        self.workers -= 1;
        Take::Stop
    }

    fn pop_live(&mut self, now: Instant) -> Option<Pending> {
        while let Some(p) = self.queue.pop_front() {
            if p.expires > now {
                return Some(p);
            }
            self.count(|d| d.expired += 1);
        }
        None
    }

    /// Expired tokens leave the queue from the front (tokens are queued in the order they expire).
    fn drop_expired(&mut self, now: Instant) {
        while self.queue.front().is_some_and(|f| f.expires <= now) {
            self.queue.pop_front();
            self.count(|d| d.expired += 1);
        }
    }

    fn trim(&mut self, limits: &Limits) {
        while self.queue.len() > limits.queue {
            self.queue.pop_front();
            self.count(|d| d.overflow += 1);
        }
    }

    fn count(&mut self, kind: impl Fn(&mut Dropped)) {
        kind(&mut self.unreported);
        kind(&mut self.unmetered);
        kind(&mut self.total);
    }
}

#[cfg(test)]
#[path = "lane_tests.rs"]
mod tests;
