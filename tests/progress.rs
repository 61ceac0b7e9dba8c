//! The progress hook of a long run (`World::run_with_progress`, what `dhcpfo run` draws on a
//! terminal): it is called every `PROGRESS_EVERY_EVENTS` events with virtual time moving
//! forward, and watching a run does not change it.

use std::path::Path;

use dhcpfo::scenario::Scenario;
use dhcpfo::world::{PROGRESS_EVERY_EVENTS, World};

#[test]
fn the_progress_hook_sees_the_run_without_changing_it() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hot-standby-primary-crash.yaml");
    // Enough clients for a few progress calls.
    let s = Scenario::load_with(
        &path,
        &["clients.count=3000".into(), "servers.pool_size=4000".into()],
    )
    .unwrap();
    let mut plain = World::new(s.clone(), 3);
    let plain_outcome = plain.run();

    let mut watched = World::new(s, 3);
    let mut seen = Vec::new();
    let outcome = watched.run_with_progress(false, &mut |w| seen.push((w.now(), w.counts.events)));
    assert_eq!(outcome, plain_outcome);
    assert_eq!(watched.trace.hash(), plain.trace.hash());
    assert_eq!(
        seen.len() as u64,
        watched.counts.events / PROGRESS_EVERY_EVENTS
    );
    assert!(seen.len() >= 2, "{} events", watched.counts.events);
    for (i, (_, events)) in seen.iter().enumerate() {
        assert_eq!(*events, (i as u64 + 1) * PROGRESS_EVERY_EVENTS);
    }
    assert!(
        seen.windows(2).all(|w| w[0].0 <= w[1].0),
        "virtual time moves forward"
    );
}
