//! The built-in tagger's network on one 30-s track's worth of patches
//! (10 × 187 × 96 log-mel values), single-threaded and on all cores.

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use genreid_models::pretrained::{N_MELS, PATCH_FRAMES, Tagger, TaggerFile};

fn patches(n: usize) -> Vec<f32> {
    (0..n * PATCH_FRAMES * N_MELS).map(|i| ((i * 7919) % 4001) as f32 / 1000.0).collect()
}

fn musicnn(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/msd-musicnn.genreid");
    let tagger = Tagger::new(TaggerFile::load(&path).expect("the committed model file")).expect("a tagger");
    let track = patches(10);
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("a thread pool");
    c.bench_function("msd-musicnn 10 patches, 1 thread", |b| {
        b.iter(|| one.install(|| tagger.run(&track).expect("runs")))
    });
    c.bench_function("msd-musicnn 10 patches, all cores", |b| b.iter(|| tagger.run(&track).expect("runs")));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = musicnn
}
criterion_main!(benches);
