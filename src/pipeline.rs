//! One item through its stages: resolve its ids, delete its media, then its S3 object
//! (contract, section 5). Each stage ends in a typed step, and the next is decided from
//! that step: the object goes only once the API said the media is gone.
//!
//! Items run concurrently (`MAX_CONCURRENCY`). Each ends as a [`Finished`] item (the
//! [`ItemOutcome`] and, beside it, what the run measured), which the caller's `settle`
//! takes, with the item's index in the event, as soon as it ends (so that it is logged
//! then, even if the invocation dies later); what `settle` makes of them comes back in the
//! event's order.

use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use crate::config::{Config, ObjectPolicy, RunOptions};
use crate::deadline;
use crate::model::{InvalidItem, ObjectRef, Removal, StoreError, Target, WorkItem};
use crate::s3::removal;
use crate::s3::resolve::{self, Resolution};
use crate::s3::store::ObjectStore;
use crate::whatsapp::{MediaApi, MediaError, MediaGone};

/// What the stages need, built once per cold start.
#[derive(Debug)]
pub struct App<M, S> {
    /// Settings from the environment.
    pub config: Config,
    /// The WhatsApp side.
    pub media: M,
    /// The S3 side.
    pub store: S,
}

/// What became of one item.
#[derive(Debug)]
pub enum ItemOutcome {
    /// It could not be worked on: never sent.
    Invalid(InvalidItem),
    /// Nothing to do, and why.
    Skipped {
        /// The object it named, if any.
        object: Option<ObjectRef>,
        reason: String,
    },
    /// Its ids were found and valid, but a current version of its key stands for the
    /// media: nothing is deleted, and the reason says which version.
    HeldBack {
        /// The deletion that was not made.
        target: Target,
        reason: String,
    },
    /// Its object's ids could not be read.
    LookupFailed {
        object: ObjectRef,
        error: StoreError,
    },
    /// Its ids were found and valid: what became of its media, then of its object.
    Resolved {
        target: Target,
        media: MediaStep,
        object: ObjectStep,
    },
}

/// What became of an item's media.
#[derive(Debug)]
pub enum MediaStep {
    /// A dry run: nothing was sent.
    DryRun,
    /// The DELETE was sent.
    Sent {
        /// What the API said, after any retries.
        result: Result<MediaGone, MediaError>,
        /// Requests that went on the wire.
        attempts: u32,
    },
}

impl MediaStep {
    /// Whether the media is gone (deleted now, or already), so that its object may go.
    pub fn gone(&self) -> bool {
        matches!(self, Self::Sent { result: Ok(_), .. })
    }
}

/// What became of an item's S3 object.
#[derive(Debug)]
pub enum ObjectStep {
    /// Not the function's to touch (a notification's, or the item names none): not
    /// reported.
    Untouched,
    /// Kept: deletion was not asked for, or its media is not gone.
    Kept,
    /// Its deletion was tried.
    Removed(Result<Removal, StoreError>),
}

/// What a run measured of one item, beside its outcome: for the logs and the metrics,
/// never for the payload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Telemetry {
    /// From the item's start to its end.
    pub latency: Duration,
    /// The round trip of each DELETE that went on the wire.
    pub api_latencies: Vec<Duration>,
    /// How many of those the service throttled.
    pub throttles: u32,
    /// The request id of the API's answer that decided the media's outcome.
    pub request_id: Option<String>,
}

/// One item, run.
#[derive(Debug)]
pub struct Finished {
    /// What became of it.
    pub outcome: ItemOutcome,
    /// What the run measured.
    pub telemetry: Telemetry,
}

/// Runs `items`, `MAX_CONCURRENCY` at a time, hands each to `settle` (with its index) as
/// it ends, and gives what `settle` made of them back in their order.
pub async fn run<M: MediaApi, S: ObjectStore, T>(
    app: &App<M, S>,
    items: Vec<WorkItem>,
    options: RunOptions,
    deadline: Instant,
    settle: &(impl Fn(usize, Finished) -> T + Sync),
) -> Vec<T> {
    // Unordered, so that a slow item holds one slot rather than the next items behind it;
    // the results are put back in the event's order afterwards.
    let mut settled: Vec<(usize, T)> = stream::iter(items.into_iter().enumerate())
        .map(|(index, item)| async move {
            (
                index,
                settle(index, item_through(app, item, options, deadline).await),
            )
        })
        .buffer_unordered(app.config.max_concurrency)
        .collect()
        .await;
    settled.sort_unstable_by_key(|(index, _)| *index);
    settled.into_iter().map(|(_, item)| item).collect()
}

/// Runs groups of items (the items of each SQS message) as one run, and gives each group
/// its own items back, in order. `settle` gets each item's index among all the groups'
/// items, in order.
pub async fn run_groups<M: MediaApi, S: ObjectStore, T>(
    app: &App<M, S>,
    groups: Vec<Vec<WorkItem>>,
    options: RunOptions,
    deadline: Instant,
    settle: &(impl Fn(usize, Finished) -> T + Sync),
) -> Vec<Vec<T>> {
    let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
    let items = groups.into_iter().flatten().collect();
    let mut finished = run(app, items, options, deadline, settle).await.into_iter();
    sizes
        .into_iter()
        .map(|size| finished.by_ref().take(size).collect())
        .collect()
}

async fn item_through<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    item: WorkItem,
    options: RunOptions,
    deadline: Instant,
) -> Finished {
    let started = Instant::now();
    let mut telemetry = Telemetry::default();
    let default_phone = app.config.default_phone_number_id.as_ref();
    let resolution = match item {
        WorkItem::Invalid(invalid) => Err(ItemOutcome::Invalid(invalid)),
        WorkItem::Skipped { object, reason } => Err(ItemOutcome::Skipped { object, reason }),
        WorkItem::Ids(request) => match resolve::ids(request, default_phone) {
            Ok(target) => match target.object.clone() {
                Some(object) => {
                    let named = resolve::named_version(&app.store, &app.config, target);
                    Ok(resolve_before(object, named, deadline).await)
                }
                None => Ok(Resolution::Target(target)),
            },
            Err(invalid) => Err(ItemOutcome::Invalid(*invalid)),
        },
        WorkItem::Object(item) => {
            let object = item.object.clone();
            let resolved = resolve::object(&app.store, &app.config, item);
            Ok(resolve_before(object, resolved, deadline).await)
        }
    };
    let outcome = match resolution {
        Err(outcome) => outcome,
        Ok(Resolution::Target(target)) => {
            delete(app, target, options, deadline, &mut telemetry).await
        }
        Ok(Resolution::HeldBack { target, reason }) => ItemOutcome::HeldBack {
            target: *target,
            reason,
        },
        Ok(Resolution::Skipped { object, reason }) => ItemOutcome::Skipped {
            object: Some(object),
            reason,
        },
        Ok(Resolution::Invalid(invalid)) => ItemOutcome::Invalid(*invalid),
        Ok(Resolution::Failed { object, error }) => ItemOutcome::LookupFailed { object, error },
    };
    telemetry.latency = started.elapsed();
    Finished { outcome, telemetry }
}

/// Resolves the ids of an item naming `object`, giving up (retryably) when S3 would not
/// answer before the deadline.
async fn resolve_before(
    object: ObjectRef,
    resolving: impl std::future::Future<Output = Resolution>,
    deadline: Instant,
) -> Resolution {
    deadline::bounded(deadline, resolving)
        .await
        .unwrap_or_else(|| Resolution::Failed {
            object,
            error: StoreError::out_of_time("HeadObject"),
        })
}

/// WhatsApp first, S3 second: the object goes only once its media is gone.
async fn delete<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    target: Target,
    options: RunOptions,
    deadline: Instant,
    telemetry: &mut Telemetry,
) -> ItemOutcome {
    let media = if options.dry_run {
        MediaStep::DryRun
    } else {
        let report = app
            .media
            .delete_media(&target.media_id, &target.phone_number_id, deadline)
            .await;
        telemetry.api_latencies = report.latencies;
        telemetry.throttles = report.throttles;
        telemetry.request_id = report.request_id;
        MediaStep::Sent {
            result: report.result,
            attempts: report.attempts,
        }
    };
    let object = match (options.objects, &target.object) {
        (ObjectPolicy::NotOurs, _) | (_, None) => ObjectStep::Untouched,
        (ObjectPolicy::Delete, Some(object)) if media.gone() => {
            let removal = removal::remove(&app.store, &app.config, object, &target, deadline);
            ObjectStep::Removed(removal.await)
        }
        (_, Some(_)) => ObjectStep::Kept,
    };
    ItemOutcome::Resolved {
        target,
        media,
        object,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use crate::fakes::{names, FakeMedia, MemoryStore};
    use crate::model::{IdsRequest, Metadata, ObjectItem};

    fn app(media: FakeMedia) -> App<FakeMedia, MemoryStore> {
        let mut store = MemoryStore::default();
        for (key, media_id) in [("a.jpg", "mediaa"), ("b.jpg", "mediab")] {
            store.put(
                key,
                "v1",
                names(
                    &[
                        ("whatsapp-media-id", media_id),
                        ("whatsapp-origination-phone-number-id", "phone-number-id-1"),
                    ],
                    &[],
                ),
            );
        }
        App {
            config: Config::from_lookup(|_| None).unwrap(),
            media,
            store,
        }
    }

    fn object(key: &str) -> WorkItem {
        WorkItem::Object(ObjectItem::new(
            ObjectRef {
                bucket: "media".into(),
                key: key.into(),
                version_id: None,
            },
            Metadata::Current,
        ))
    }

    fn deadline() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    const DELETE: RunOptions = RunOptions {
        dry_run: false,
        objects: ObjectPolicy::Delete,
    };

    #[tokio::test]
    async fn the_object_goes_only_once_the_api_said_its_media_is_gone() {
        let gone = app(FakeMedia::default());
        let finished = run(&gone, vec![object("a.jpg")], DELETE, deadline(), &|_, f| f).await;
        assert!(matches!(
            &finished[0].outcome,
            ItemOutcome::Resolved { media, object: ObjectStep::Removed(Ok(Removal::Deleted(_))), .. } if media.gone()
        ));
        assert_eq!(gone.store.deletes(), 1);

        let failing = app(FakeMedia {
            failing: Some(MediaError::Network("connection reset".into())),
            ..FakeMedia::default()
        });
        let finished = run(
            &failing,
            vec![object("a.jpg")],
            DELETE,
            deadline(),
            &|_, f| f,
        )
        .await;
        assert!(matches!(
            &finished[0].outcome,
            ItemOutcome::Resolved {
                media: MediaStep::Sent {
                    result: Err(_),
                    attempts: 1
                },
                object: ObjectStep::Kept,
                ..
            }
        ));
        assert_eq!(failing.store.deletes(), 0);

        let dry = RunOptions {
            dry_run: true,
            ..DELETE
        };
        let finished = run(&gone, vec![object("b.jpg")], dry, deadline(), &|_, f| f).await;
        assert!(matches!(
            &finished[0].outcome,
            ItemOutcome::Resolved {
                media: MediaStep::DryRun,
                object: ObjectStep::Kept,
                ..
            }
        ));
        assert_eq!(gone.store.deletes(), 1, "a dry run deleted an object");
    }

    #[tokio::test]
    async fn groups_come_back_whole_and_in_order() {
        let app = app(FakeMedia::default());
        let ids = |media_id: &str| {
            WorkItem::Ids(IdsRequest {
                media_id: media_id.into(),
                phone_number_id: Some("phone-number-id-1".into()),
                object: None,
            })
        };
        let skipped = WorkItem::Skipped {
            object: None,
            reason: "a test event".into(),
        };
        let groups = vec![
            vec![ids("one"), object("a.jpg")],
            vec![],
            vec![skipped],
            vec![ids("four"), ids("five"), object("b.jpg")],
        ];
        let finished = run_groups(&app, groups, DELETE, deadline(), &|_, f| f).await;
        let media = |group: &[Finished]| -> Vec<String> {
            group
                .iter()
                .map(|f| match &f.outcome {
                    ItemOutcome::Resolved { target, .. } => target.media_id.to_string(),
                    ItemOutcome::Skipped { .. } => "skipped".into(),
                    other => panic!("{other:?}"),
                })
                .collect()
        };
        let seen: Vec<Vec<String>> = finished.iter().map(|g| media(g)).collect();
        assert_eq!(
            seen,
            [
                vec!["one", "mediaa"],
                vec![],
                vec!["skipped"],
                vec!["four", "five", "mediab"]
            ]
        );
    }
}
