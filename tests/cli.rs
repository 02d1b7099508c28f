//! The `advlab` CLI driven end to end, the way a user runs it, on real MNIST.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn advlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_advlab")).args(args).output().expect("advlab runs")
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "advlab failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "advlab should have failed");
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("advlab-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A quickly trained MLP (1 epoch on 6,000 images), shared by the tests.
fn weights() -> &'static Path {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let out = scratch("weights").join("mlp.safetensors");
        let args = ["train", "--model", "mlp", "--defense", "none", "--epochs", "2", "--limit", "6000", "--out", out.to_str().unwrap()];
        let run = advlab(&args);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        out
    })
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(out)).expect("one JSON object")
}

#[test]
fn eval_json_reports_clean_and_robust_figures_per_attack_and_eps() {
    let w = weights().to_str().unwrap();
    let out = advlab(&["eval", "--weights", w, "--attack", "fgsm,pgd", "--eps", "0.1,0.2", "--steps", "10", "--limit", "200", "--json"]);
    let v = json(&out);
    assert_eq!(v["weights"], w);
    assert_eq!(v["n"], 200);
    let clean = v["clean_accuracy"].as_f64().unwrap();
    assert!(clean > 0.85, "clean accuracy {clean}");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        let eps = r["eps"].as_f64().unwrap();
        let robust = r["robust_accuracy"].as_f64().unwrap();
        assert!(robust < clean, "{r}");
        assert!(r["mean_linf"].as_f64().unwrap() <= eps + 1e-5, "{r}");
        assert!(r["mean_l2"].as_f64().unwrap() > 0.0);
        assert!((0.0..=1.0).contains(&r["success_rate"].as_f64().unwrap()));
    }
    // A larger budget never helps the model.
    assert!(results[1]["robust_accuracy"].as_f64() <= results[0]["robust_accuracy"].as_f64());
}

#[test]
fn autoattack_says_which_stage_broke_the_images() {
    let w = weights().to_str().unwrap();
    let v = json(&advlab(&["eval", "--weights", w, "--attack", "autoattack", "--eps", "0.1", "--steps", "5", "--target-classes", "2", "--limit", "100", "--json"]));
    let (clean, r) = (v["clean_accuracy"].as_f64().unwrap(), &v["results"][0]);
    let broken: Vec<u64> = ["apgd", "apgd-t", "square"].iter().map(|s| r["broken_by"][s].as_u64().unwrap()).collect();
    let flipped = ((clean - r["robust_accuracy"].as_f64().unwrap()) * 100.0).round() as u64;
    assert_eq!(broken.iter().sum::<u64>(), flipped, "{r}");
    assert!(broken[0] > 0, "{r}");
    let one = json(&advlab(&["attack", "--weights", w, "--index", "0", "--attack", "autoattack", "--eps", "0.2", "--steps", "5", "--json"]));
    assert_eq!(one["broken_by"], "apgd", "{one}");
    let pgd = json(&advlab(&["attack", "--weights", w, "--index", "0", "--attack", "pgd", "--json"]));
    assert!(pgd.get("broken_by").is_none(), "only autoattack reports a stage");
}

#[test]
fn attack_writes_three_pngs_and_reports_the_flip() {
    let dir = scratch("attack");
    let out = advlab(&["attack", "--weights", weights().to_str().unwrap(), "--index", "0", "--attack", "pgd", "--eps", "0.3", "--out", dir.to_str().unwrap(), "--json"]);
    let v = json(&out);
    assert_eq!(v["label"], 7, "test image 0 is a 7");
    assert_ne!(v["adversarial_prediction"], v["label"], "PGD ε=0.3 flips a standard MLP");
    assert!(v["linf"].as_f64().unwrap() <= 0.3 + 1e-5);
    let probabilities: f64 = v["probabilities"].as_array().unwrap().iter().map(|p| p.as_f64().unwrap()).sum();
    assert!((probabilities - 1.0).abs() < 1e-4);
    for name in ["original.png", "perturbation.png", "adversarial.png"] {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{name} is a PNG");
    }
}

#[test]
fn training_writes_weights_with_metadata_and_can_resume() {
    let out = scratch("resume").join("m.safetensors");
    let path = out.to_str().unwrap();
    let base = ["train", "--model", "mlp", "--defense", "fgsm-rs", "--eps", "0.1", "--limit", "2000", "--eval-limit", "100", "--out", path];
    stdout(&advlab(&[&base[..], &["--epochs", "1"]].concat()));
    let resumed = advlab(&[&base[..], &["--epochs", "2", "--resume"]].concat());
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("resuming"), "{}", String::from_utf8_lossy(&resumed.stderr));
    let bytes = std::fs::read(&out).unwrap();
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + header_len]).unwrap();
    let meta = &header["__metadata__"];
    assert_eq!(meta["architecture"], "mlp");
    assert_eq!(meta["defense"], "fgsm-rs");
    assert_eq!(meta["epochs"], "2");
    assert!(meta["robust_accuracy"].as_str().is_some());
    assert_eq!(header["fc1.weight"]["shape"], serde_json::json!([128, 784]));
}

#[test]
fn bad_input_gets_a_clear_message_and_no_panic() {
    let dir = scratch("bad");
    let corrupt = dir.join("corrupt.safetensors");
    std::fs::write(&corrupt, b"\x10\x00\x00\x00\x00\x00\x00\x00{not json").unwrap();
    let c = corrupt.to_str().unwrap();
    assert!(stderr(&advlab(&["eval", "--weights", c])).contains("not a valid safetensors"));
    let truncated = dir.join("truncated.safetensors");
    let bytes = std::fs::read(weights()).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() - 100]).unwrap();
    assert!(stderr(&advlab(&["eval", "--weights", truncated.to_str().unwrap()])).contains("safetensors"));
    assert!(stderr(&advlab(&["eval", "--weights", "/nonexistent.safetensors"])).contains("cannot read"));
    let w = weights().to_str().unwrap();
    assert!(stderr(&advlab(&["eval", "--weights", w, "--attack", "pgd", "--eps", "1.5"])).contains("ε"));
    assert!(stderr(&advlab(&["eval", "--weights", w, "--attack", "pdg"])).contains("unknown attack"));
    assert!(stderr(&advlab(&["attack", "--weights", w, "--index", "10000"])).contains("out of range"));
    assert!(stderr(&advlab(&["train", "--epochs", "0", "--out", "/tmp/x.safetensors"])).contains("epochs"));
    let missing_data = advlab(&["--data", "/nonexistent-mnist", "eval", "--weights", w]);
    assert!(stderr(&missing_data).contains("scripts/setup.sh"));
    assert!(!stderr(&advlab(&["eval", "--weights", c])).contains("panicked"));
}

/// A copy of the shared MLP named `file` with tensor `name`'s values changed by `edit` (same
/// metadata, same layout).
fn edited_weights(file: &str, name: &str, edit: impl Fn(&mut [f32])) -> PathBuf {
    use safetensors::{Dtype, SafeTensors, tensor::TensorView};
    let bytes = std::fs::read(weights()).unwrap();
    let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
    let parsed = SafeTensors::deserialize(&bytes).unwrap();
    let tensors: Vec<(String, Vec<usize>, Vec<u8>)> = parsed
        .tensors()
        .into_iter()
        .map(|(tensor, view)| {
            let mut values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect();
            if tensor == name {
                edit(&mut values);
            }
            (tensor, view.shape().to_vec(), values.iter().flat_map(|v| v.to_le_bytes()).collect())
        })
        .collect();
    let views = tensors.iter().map(|(n, shape, data)| (n.clone(), TensorView::new(Dtype::F32, shape.clone(), data).unwrap()));
    let path = scratch("edited").join(file);
    std::fs::write(&path, safetensors::serialize(views, header.metadata().clone()).unwrap()).unwrap();
    path
}

#[test]
fn models_whose_outputs_cannot_be_finite_get_a_clear_message_not_nan_percent() {
    let nan = edited_weights("nan.safetensors", "fc2.bias", |v| v[3] = f32::NAN);
    let out = advlab(&["eval", "--weights", nan.to_str().unwrap(), "--limit", "100"]);
    let err = stderr(&out);
    assert!(err.contains("`fc2.bias`") && err.contains("holds NaN at index 3"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("NaN"));
    // Finite weights so large that the logits overflow float32.
    let huge = edited_weights("huge.safetensors", "fc1.weight", |v| v.fill(1e30));
    let h = huge.to_str().unwrap();
    for args in [&["eval", "--weights", h, "--limit", "100"][..], &["attack", "--weights", h, "--index", "0"]] {
        let err = stderr(&advlab(args));
        assert!(err.contains("`fc1.weight`") && err.contains("would not be finite"), "{err}");
    }
}

#[test]
fn bench_counts_out_of_range_are_refused_with_the_valid_range() {
    for (args, expected) in [
        (["--batches", "468"], "--batches 468 is out of range: the 60000 training images hold 1–467 timed batches"),
        (["--batches", "0"], "--batches 0 is out of range"),
        (["--images", "10001"], "--images 10001 is out of range: the test set has 10000 images (1–10000)"),
        (["--images", "0"], "--images 0 is out of range"),
    ] {
        let err = stderr(&advlab(&[&["bench"][..], &args].concat()));
        assert!(err.contains(expected) && !err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn resume_refuses_a_missing_file_instead_of_starting_afresh() {
    let out = scratch("resume-missing").join("absent.safetensors");
    let err = stderr(&advlab(&["train", "--resume", "--limit", "200", "--out", out.to_str().unwrap()]));
    assert!(err.contains("cannot resume") && err.contains("absent.safetensors") && err.contains("does not exist"), "{err}");
    assert!(!out.exists(), "nothing was trained");
}

#[test]
fn an_empty_idx_file_is_refused_with_its_name() {
    let dir = scratch("empty-idx");
    let header = |magic: u32, dims: &[u32]| -> Vec<u8> { [magic].iter().chain(dims).flat_map(|v| v.to_be_bytes()).collect() };
    std::fs::write(dir.join("train-images-idx3-ubyte"), header(0x803, &[0, 28, 28])).unwrap();
    std::fs::write(dir.join("train-labels-idx1-ubyte"), header(0x801, &[0])).unwrap();
    std::fs::write(dir.join("t10k-images-idx3-ubyte"), header(0x803, &[0, 28, 28])).unwrap();
    std::fs::write(dir.join("t10k-labels-idx1-ubyte"), header(0x801, &[0])).unwrap();
    let err = stderr(&advlab(&["--data", dir.to_str().unwrap(), "eval", "--weights", weights().to_str().unwrap()]));
    assert!(err.contains("train-images-idx3-ubyte is corrupt: it holds no images (count 0)"), "{err}");
}
