//! Trains the built-in model that `genreid classify` uses when no `--model`
//! is given: multinomial logistic regression (C = 1) on the 57 GTZAN
//! features of the 1000 GTZAN tracks (the Kaggle `features_30_sec.csv` in
//! `../shared/data/gtzan`), after measuring it honestly on the artist-disjoint
//! fault-filtered split and by stratified 10-fold cross-validation.
//!
//! `cargo run --release -p genreid-train --example train_builtin [SHARED] [OUT]`
//! (defaults: `../shared`, `models/gtzan57-logreg.genreid`).

use std::path::PathBuf;

use genreid_data::{SplitSpec, read_table};
use genreid_models::{ClassifierKind, Preprocessing};
use genreid_train::{Recipe, evaluate, fit_model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let shared = PathBuf::from(args.next().unwrap_or_else(|| "../shared".into()));
    let out = PathBuf::from(args.next().unwrap_or_else(|| "models/gtzan57-logreg.genreid".into()));
    let table_path = shared.join("data/gtzan/features_30_sec.csv");
    let table = read_table(&table_path)?;
    let preprocessing = Preprocessing {
        feature_set: "gtzan57".into(),
        sample_rate: 22_050,
        segment_seconds: 30.0,
        columns: table.columns.clone(),
    };
    let recipe = Recipe::plain(ClassifierKind::Logreg);
    let lists = SplitSpec::Lists(shared.join("data/gtzan/splits"));
    let kfold = SplitSpec::KFold { k: 10, seed: 0 };
    let on_lists = evaluate(&table, &lists, &recipe, &preprocessing)?;
    let on_kfold = evaluate(&table, &kfold, &recipe, &preprocessing)?;
    for e in [&on_lists, &on_kfold] {
        eprintln!(
            "{}: accuracy {:.3}, macro F1 {:.3} ({} test rows)",
            e.split, e.test.accuracy, e.test.macro_f1, e.n_test
        );
    }
    let provenance = serde_json::json!({
        "description": "Multinomial logistic regression (C=1) on standardised GTZAN-57 features",
        "trained_on": "GTZAN, all 1000 tracks (Kaggle features_30_sec.csv)",
        "command": "cargo run --release -p genreid-train --example train_builtin",
        "evaluation": [
            { "split": on_lists.split, "accuracy": on_lists.test.accuracy, "macro_f1": on_lists.test.macro_f1,
              "n_test": on_lists.n_test, "confusion": on_lists.test.confusion },
            { "split": on_kfold.split, "accuracy": on_kfold.test.accuracy, "macro_f1": on_kfold.test.macro_f1,
              "n_test": on_kfold.n_test },
        ],
    });
    let all: Vec<usize> = (0..table.len()).collect();
    let model = fit_model(&table, &all, &recipe, &recipe.params, preprocessing, provenance)?;
    model.save(&out)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
