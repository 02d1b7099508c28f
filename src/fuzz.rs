//! Fuzz targets for the parsers of untrusted input: weights files ([`crate::model::weights`]),
//! MNIST IDX files ([`crate::data::idx`]) and share links ([`crate::page::share`]).
//!
//! A target takes raw bytes, the way libFuzzer-style engines hand them over, and reads its input
//! from them with [`Unstructured`]: either the bytes themselves (plain random input) or a valid
//! seed file and a few mutations of its structure (header bytes flipped; shapes, offsets, dtypes,
//! counts and metadata values changed; tensors renamed, dropped or added; weights set to NaN),
//! which reach far more of a parser than random bytes. A target returns for every input and
//! checks what a successful parse promises; a panic is a crash. `cargo test` runs a few thousand
//! inputs per target ([`check`]); `scripts/fuzz.sh` runs millions through `examples/fuzz.rs`.
//! Built for tests and with the `fuzz` feature only.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use arbitrary::Unstructured;
use burn::tensor::{Device, Tensor};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::attack::{AttackConfig, Norm};
use crate::data::idx;
use crate::model::weights;
use crate::page::share::{ShareState, SharedInput};

/// A parser under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// [`weights::from_bytes`] and [`weights::metadata`] on a weights file.
    Weights,
    /// [`idx::parse_images`] and [`idx::parse_labels`] on an IDX file.
    Idx,
    /// [`ShareState::parse`] on a share link's query string.
    Share,
}

impl Target {
    /// Every target.
    pub const ALL: [Target; 3] = [Target::Weights, Target::Idx, Target::Share];

    /// The target's name on the command line (`weights`, `idx`, `share`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Weights => "weights",
            Target::Idx => "idx",
            Target::Share => "share",
        }
    }

    /// Runs the parser on the input read from `data`; panics on a crash or a broken promise.
    pub fn run(self, data: &[u8]) {
        let mut u = Unstructured::new(data);
        match self {
            Target::Weights => weights_target(&mut u),
            Target::Idx => idx_target(&mut u),
            Target::Share => share_target(&mut u),
        }
    }
}

/// An input that crashed a target.
#[derive(Debug)]
pub struct Crash {
    /// Its position in the sequence of inputs drawn from the seed.
    pub index: u64,
    /// The raw bytes given to [`Target::run`].
    pub input: Vec<u8>,
    /// The panic message.
    pub message: String,
}

/// Fills `buffer` with the next pseudo-random raw input: up to 4 KiB of bytes from `rng`.
pub fn next_input(rng: &mut SmallRng, buffer: &mut Vec<u8>) {
    buffer.resize(rng.random_range(0..=4096), 0);
    rng.fill_bytes(buffer);
}

/// Runs `target` on `inputs` raw inputs drawn from `seed`; returns the first that panicked.
pub fn check(target: Target, seed: u64, inputs: u64) -> Result<(), Crash> {
    let mut rng = SmallRng::seed_from_u64(seed);
    let mut buffer = Vec::new();
    for index in 0..inputs {
        next_input(&mut rng, &mut buffer);
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target.run(&buffer))) {
            return Err(Crash { index, input: buffer, message: panic_message(&*panic) });
        }
    }
    Ok(())
}

/// The message of a caught panic.
pub fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    match (panic.downcast_ref::<&str>(), panic.downcast_ref::<String>()) {
        (Some(s), _) => s.to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".into(),
    }
}

/// Integers at the edges of what a header field can hold.
const EDGE_INTEGERS: [u64; 20] = [
    0,
    1,
    2,
    3,
    5,
    7,
    10,
    28,
    49,
    784,
    65_536,
    65_537,
    (1 << 31) - 1,
    1 << 31,
    (1 << 32) - 1,
    1 << 32,
    1 << 40,
    1 << 62,
    u64::MAX / 784 + 1,
    u64::MAX,
];

/// Strings at the edges of what a metadata value or a query value can hold.
const EDGE_STRINGS: [&str; 24] = [
    "",
    "0",
    "1",
    "-1",
    "-0",
    "0.3",
    "1.5",
    "28",
    "29",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "infinity",
    "1e40",
    "1e-45",
    "18446744073709551616",
    "4294967296",
    "mlp",
    "cnn",
    "advlab/1",
    "advlab/2",
    "%",
    "\u{0}\u{ffff}",
];

fn edge_integer(u: &mut Unstructured<'_>) -> u64 {
    if u.ratio(1, 4).unwrap_or(false) { u.arbitrary().unwrap_or(0) } else { *u.choose(&EDGE_INTEGERS).unwrap_or(&0) }
}

fn edge_string(u: &mut Unstructured<'_>) -> String {
    if u.ratio(1, 4).unwrap_or(false) {
        u.arbitrary::<String>().unwrap_or_default()
    } else {
        u.choose(&EDGE_STRINGS).map(|s| s.to_string()).unwrap_or_default()
    }
}

/// Mutations any byte string can take: flip, set, truncate, extend, splice.
fn mutate_bytes(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) {
    let at = |u: &mut Unstructured<'_>, len: usize| u.choose_index(len.max(1)).unwrap_or(0).min(len);
    match u.int_in_range(0..=4u8).unwrap_or(0) {
        0 if !bytes.is_empty() => {
            let i = at(u, bytes.len() - 1);
            bytes[i] ^= u.int_in_range(1..=255u8).unwrap_or(1);
        }
        1 if !bytes.is_empty() => {
            let i = at(u, bytes.len() - 1);
            bytes[i] = *u.choose(b"{}[]\",:0123456789-+eE. \\\x00\xff").unwrap_or(&0);
        }
        2 => {
            let i = at(u, bytes.len());
            bytes.truncate(i);
        }
        3 => {
            let extra = u.int_in_range(1..=64usize).unwrap_or(1);
            bytes.extend(u.bytes(extra).unwrap_or_default());
        }
        _ if bytes.len() > 1 => {
            let (from, to) = (at(u, bytes.len() - 1), at(u, bytes.len() - 1));
            let n = u.int_in_range(1..=16usize).unwrap_or(1).min(bytes.len() - from.max(to));
            bytes.copy_within(from..from + n, to);
        }
        _ => {}
    }
}

/// Valid weights files: tiny MLPs and a tiny CNN, with and without optional metadata. Written
/// here with fixed weights (no random initialisation, so every run fuzzes the same files).
fn weights_seeds() -> &'static [Vec<u8>] {
    static SEEDS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let mlp = |h: usize| {
            vec![
                ("fc1.weight", vec![h, 784]),
                ("fc1.bias", vec![h]),
                ("fc2.weight", vec![10, h]),
                ("fc2.bias", vec![10]),
            ]
        };
        let mut cnn = vec![
            ("conv1.weight", vec![1, 1, 5, 5]),
            ("conv1.bias", vec![1]),
            ("conv2.weight", vec![2, 1, 5, 5]),
            ("conv2.bias", vec![2]),
        ];
        cnn.extend(mlp(2));
        cnn[4].1 = vec![2, 2 * 49];
        let plain = [("defense", "none"), ("epsilon", "0"), ("epochs", "0"), ("seed", "0")];
        let measured = [
            ("defense", "pgd"),
            ("epsilon", "0.3"),
            ("epochs", "3"),
            ("seed", "7"),
            ("clean_accuracy", "0.97"),
            ("robust_accuracy", "0.8"),
            ("robust_attack", "pgd eps=0.3 steps=40 n=1000"),
        ];
        [("mlp", mlp(1), &plain[..]), ("mlp", mlp(3), &measured[..]), ("cnn", cnn, &plain[..])]
            .into_iter()
            .map(|(architecture, tensors, entries)| {
                let data: Vec<Vec<u8>> = tensors
                    .iter()
                    .map(|(_, shape)| {
                        let n: usize = shape.iter().product();
                        (0..n).flat_map(|i| ((i * 7919 % 200) as f32 / 1000.0 - 0.1).to_le_bytes()).collect()
                    })
                    .collect();
                let views = tensors.iter().zip(&data).map(|((name, shape), bytes)| {
                    (
                        name.to_string(),
                        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                            .expect("a view"),
                    )
                });
                let mut metadata: std::collections::HashMap<String, String> =
                    entries.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                metadata.insert("format".into(), weights::FORMAT.into());
                metadata.insert("architecture".into(), architecture.into());
                safetensors::serialize(views, Some(metadata)).expect("a valid seed")
            })
            .collect()
    })
}

/// A structural change to a weights file's JSON header: shapes, offsets, dtypes, names,
/// metadata, an added tensor, or a tensor emptied (its bytes cut out of the data).
fn mutate_header(u: &mut Unstructured<'_>, bytes: &mut Vec<u8>) {
    let Some(len) = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize) else { return };
    let Some(Ok(serde_json::Value::Object(mut header))) =
        bytes.get(8..8usize.saturating_add(len)).map(serde_json::from_slice::<serde_json::Value>)
    else {
        return;
    };
    let mut data = bytes.get(8usize.saturating_add(len)..).unwrap_or_default().to_vec();
    let names: Vec<String> = header.keys().cloned().collect();
    let Ok(name) = u.choose(&names).cloned() else { return };
    let number = |u: &mut Unstructured<'_>| serde_json::Value::from(edge_integer(u));
    match (name.as_str(), u.int_in_range(0..=7u8).unwrap_or(0)) {
        ("__metadata__", 0) => {
            header.insert(name, serde_json::Value::from(edge_integer(u)));
        }
        ("__metadata__", _) => {
            if let Some(serde_json::Value::Object(meta)) = header.get_mut(&name) {
                let keys = [
                    "format",
                    "architecture",
                    "defense",
                    "epsilon",
                    "epochs",
                    "seed",
                    "clean_accuracy",
                    "robust_accuracy",
                    "robust_attack",
                    "noise",
                    "weight_decay",
                    "grad_penalty",
                ];
                let key = u.choose(&keys).map(|k| k.to_string()).unwrap_or_default();
                if u.ratio(1, 5).unwrap_or(false) {
                    meta.remove(&key);
                } else {
                    meta.insert(key, serde_json::Value::from(edge_string(u)));
                }
            }
        }
        (_, 0 | 1) => {
            if let Some(shape) = header.get_mut(&name).and_then(|t| t.get_mut("shape")).and_then(|s| s.as_array_mut()) {
                match u.int_in_range(0..=3u8).unwrap_or(0) {
                    0 => shape.push(number(u)),
                    1 => {
                        shape.pop();
                    }
                    _ if !shape.is_empty() => {
                        let i = u.choose_index(shape.len()).unwrap_or(0);
                        shape[i] = number(u);
                    }
                    _ => {}
                }
            }
        }
        (_, 2) => {
            if let Some(offsets) =
                header.get_mut(&name).and_then(|t| t.get_mut("data_offsets")).and_then(|s| s.as_array_mut())
                && !offsets.is_empty()
            {
                let i = u.choose_index(offsets.len()).unwrap_or(0);
                offsets[i] = number(u);
            }
        }
        (_, 3) => {
            let dtypes = ["F16", "BF16", "F64", "I64", "U8", "BOOL", "F32", "X"];
            let dtype = u.choose(&dtypes).map(|d| d.to_string()).unwrap_or_default();
            if let Some(tensor) = header.get_mut(&name).and_then(|t| t.as_object_mut()) {
                tensor.insert("dtype".into(), serde_json::Value::from(dtype));
            }
        }
        (_, 4) => {
            header.remove(&name);
        }
        (_, 5) => {
            let targets =
                ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "conv1.weight", "conv2.bias", "fc3.weight", ""];
            let new_name = u.choose(&targets).map(|t| t.to_string()).unwrap_or_default();
            if let Some(tensor) = header.remove(&name) {
                header.insert(new_name, tensor);
            }
        }
        (_, 6) => {
            let end = data.len() as u64;
            let extra = serde_json::json!({"dtype": "F32", "shape": [number(u), 0], "data_offsets": [end, end]});
            header.insert("extra".into(), extra);
        }
        _ => {
            // Emptied: a zero in a new shape (edge values beside it), its bytes cut out and the
            // later offsets moved down, so that the file stays valid safetensors.
            let offsets = header.get(&name).and_then(|t| t.get("data_offsets")).and_then(|o| o.as_array()).cloned();
            let range = offsets.as_deref().and_then(|o| Some((o.first()?.as_u64()?, o.get(1)?.as_u64()?)));
            if let Some((start, end)) = range
                && start <= end
                && end <= data.len() as u64
            {
                data.drain(start as usize..end as usize);
                for tensor in header.values_mut() {
                    if let Some(offsets) = tensor.get_mut("data_offsets").and_then(|o| o.as_array_mut()) {
                        for offset in offsets.iter_mut() {
                            if let Some(x) = offset.as_u64()
                                && x >= end
                            {
                                *offset = (x - (end - start)).into();
                            }
                        }
                    }
                }
                let rank = u.int_in_range(1..=4usize).unwrap_or(2);
                let mut shape: Vec<serde_json::Value> = (0..rank).map(|_| number(u)).collect();
                shape[u.choose_index(rank).unwrap_or(0)] = 0.into();
                if let Some(tensor) = header.get_mut(&name).and_then(|t| t.as_object_mut()) {
                    tensor.insert("shape".into(), shape.into());
                    tensor.insert("data_offsets".into(), serde_json::json!([start, start]));
                }
            }
        }
    }
    let text = serde_json::to_vec(&serde_json::Value::Object(header)).expect("JSON");
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(&text);
    out.extend(data);
    *bytes = out;
}

/// Sets one float of a weights file's data to a non-finite or extreme value.
fn mutate_weight(u: &mut Unstructured<'_>, bytes: &mut [u8]) {
    let Some(len) = bytes.get(..8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize) else { return };
    let start = 8usize.saturating_add(len);
    let floats = bytes.len().saturating_sub(start) / 4;
    if floats == 0 {
        return;
    }
    let i = start + 4 * u.choose_index(floats).unwrap_or(0);
    let values = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, f32::MAX, -1e30, 1e20, -0.0, 1e-45];
    bytes[i..i + 4].copy_from_slice(&u.choose(&values).unwrap_or(&0.0).to_le_bytes());
}

fn weights_target(u: &mut Unstructured<'_>) {
    let bytes = if u.ratio(1, 8).unwrap_or(true) {
        u.bytes(u.len()).unwrap_or_default().to_vec()
    } else {
        let mut bytes = u.choose(weights_seeds()).cloned().unwrap_or_default();
        for _ in 0..u.int_in_range(1..=4u8).unwrap_or(1) {
            match u.int_in_range(0..=3u8).unwrap_or(0) {
                0 => mutate_bytes(u, &mut bytes),
                1 => mutate_weight(u, &mut bytes),
                2 => {
                    // The header length, the first thing a reader trusts.
                    let len = edge_integer(u);
                    if let Some(b) = bytes.get_mut(..8) {
                        b.copy_from_slice(&len.to_le_bytes());
                    }
                }
                _ => mutate_header(u, &mut bytes),
            }
        }
        bytes
    };
    let header = weights::metadata(&bytes);
    let device = Device::flex();
    match weights::from_bytes(&bytes, &device) {
        Ok((model, metadata)) => {
            assert_eq!(header.as_ref().ok(), Some(&metadata), "the header alone gives the same metadata");
            assert!((0.0..=1.0).contains(&metadata.epsilon), "ε {} accepted", metadata.epsilon);
            assert!(metadata.clean_accuracy.is_none_or(|a| (0.0..=1.0).contains(&a)));
            let probe = Tensor::<4>::ones([1, 1, 28, 28], &device);
            let logits = pollster::block_on(crate::device::readback::floats(model.forward(probe))).expect("a CPU read");
            assert!(logits.iter().all(|v| v.is_finite()), "an accepted model gives non-finite logits {logits:?}");
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            if let Ok(metadata) = header {
                assert!((0.0..=1.0).contains(&metadata.epsilon), "ε {} accepted", metadata.epsilon);
            }
        }
    }
}

/// A valid IDX file: `count` images (`images`) or labels.
fn idx_seed(images: bool, count: u32) -> Vec<u8> {
    let (magic, dims, item) =
        if images { (idx::IMAGES_MAGIC, vec![count, 28, 28], 784) } else { (idx::LABELS_MAGIC, vec![count], 1) };
    let mut bytes = magic.to_be_bytes().to_vec();
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend((0..count as usize * item).map(|i| (i % 10) as u8));
    bytes
}

fn idx_target(u: &mut Unstructured<'_>) {
    let images = u.arbitrary::<bool>().unwrap_or(false);
    let bytes = if u.ratio(1, 8).unwrap_or(true) {
        u.bytes(u.len()).unwrap_or_default().to_vec()
    } else {
        let mut bytes = idx_seed(images, u.int_in_range(1..=3).unwrap_or(1));
        for _ in 0..u.int_in_range(1..=3u8).unwrap_or(1) {
            if u.ratio(1, 2).unwrap_or(false) {
                // A header field (magic, count, rows, cols) set to an edge value.
                let field = 4 * u.int_in_range(0..=3usize).unwrap_or(0);
                let value = edge_integer(u) as u32;
                let magic = [idx::IMAGES_MAGIC, idx::LABELS_MAGIC];
                let value =
                    if field == 0 && u.ratio(1, 2).unwrap_or(false) { *u.choose(&magic).unwrap_or(&0) } else { value };
                if let Some(b) = bytes.get_mut(field..field + 4) {
                    b.copy_from_slice(&value.to_be_bytes());
                }
            } else {
                mutate_bytes(u, &mut bytes);
            }
        }
        bytes
    };
    if images {
        if let Ok((pixels, n)) = idx::parse_images("fuzz", &bytes) {
            assert!(n > 0 && pixels.len() == n * 784, "{n} images, {} pixels", pixels.len());
            assert!(pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    } else if let Ok(labels) = idx::parse_labels("fuzz", &bytes) {
        assert!(!labels.is_empty() && labels.iter().all(|&l| l <= 9), "labels {labels:?} accepted from {bytes:?}");
    }
}

/// The model ids the share target offers the parser.
const MODELS: [&str; 3] = ["mlp-standard", "cnn-robust", "mlp-pgd"];

fn share_target(u: &mut Unstructured<'_>) {
    let query = if u.ratio(1, 8).unwrap_or(true) {
        String::from_utf8_lossy(u.bytes(u.len()).unwrap_or_default()).into_owned()
    } else {
        let keys = ["model", "attack", "eps", "steps", "sample", "draw", "x", "", "eps%00", "?model"];
        let attacks = [
            "fgsm",
            "pgd",
            "pgd-l2",
            "mim",
            "deepfool",
            "cw",
            "apgd",
            "apgd-t",
            "square",
            "autoattack",
            "jsma",
            "PGD",
            "pdg",
        ];
        let mut pairs = Vec::new();
        for _ in 0..u.int_in_range(0..=8u8).unwrap_or(0) {
            let key = u.choose(&keys).map(|k| k.to_string()).unwrap_or_default();
            let value = match (key.as_str(), u.int_in_range(0..=2u8).unwrap_or(0)) {
                ("model", 0) => u.choose(&MODELS).map(|m| m.to_string()).unwrap_or_default(),
                ("attack", 0) => u.choose(&attacks).map(|a| a.to_string()).unwrap_or_default(),
                ("draw", 0 | 1) => {
                    let pixels: Vec<f32> =
                        (0..crate::data::PIXELS).map(|_| u.int_in_range(0..=15u8).unwrap_or(0) as f32 / 15.0).collect();
                    let mut text = crate::page::share::encode_image(&pixels).into_bytes();
                    if u.ratio(1, 2).unwrap_or(false) {
                        mutate_bytes(u, &mut text);
                    }
                    String::from_utf8_lossy(&text).into_owned()
                }
                (_, 1) => edge_integer(u).to_string(),
                _ => edge_string(u),
            };
            let encode = u.arbitrary::<bool>().unwrap_or(false);
            pairs.push(if encode {
                form_urlencoded::Serializer::new(String::new()).append_pair(&key, &value).finish()
            } else {
                format!("{key}={value}")
            });
        }
        let prefix = if u.arbitrary::<bool>().unwrap_or(false) { "?" } else { "" };
        format!("{prefix}{}", pairs.join("&"))
    };
    let (state, _) = ShareState::parse(&query, &MODELS);
    assert!(MODELS.contains(&state.model.as_str()), "model {}", state.model);
    let config = AttackConfig::new(state.attack).with_epsilon(state.epsilon).with_steps(state.steps);
    if let Err(e) = config.validate() {
        panic!("the link {query:?} gave an attack that fails its own check: {e}");
    }
    assert!(state.attack.norm() == Norm::L2 || state.epsilon <= 1.0);
    match &state.input {
        SharedInput::Empty => {}
        SharedInput::Sample(i) => assert!(*i < 10_000),
        SharedInput::Drawing(pixels) => {
            assert!(pixels.len() == crate::data::PIXELS && pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
    let (again, problems) = ShareState::parse(&state.to_query(), &MODELS);
    assert!(problems.is_empty() && again == state, "{query:?} does not round-trip: {problems:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs per target in `cargo test` (scripts/fuzz.sh runs millions).
    const INPUTS: u64 = 3000;

    fn survives(target: Target) {
        if let Err(crash) = check(target, 0x5EED, INPUTS) {
            let (index, len) = (crash.index, crash.input.len());
            panic!("{} crashed on input {index} of seed 0x5EED ({len} bytes): {}", target.name(), crash.message);
        }
    }

    #[test]
    fn the_weights_reader_survives_mutated_files_and_random_bytes() {
        survives(Target::Weights);
    }

    #[test]
    fn the_idx_reader_survives_mutated_files_and_random_bytes() {
        survives(Target::Idx);
    }

    #[test]
    fn the_share_link_parser_survives_mutated_links_and_random_bytes() {
        survives(Target::Share);
    }

    #[test]
    fn overflow_checks_and_debug_assertions_are_on_even_in_release_builds() {
        let overflow = catch_unwind(|| std::hint::black_box(u32::MAX) + std::hint::black_box(1));
        assert!(
            overflow.is_err(),
            "u32::MAX + 1 wrapped: Cargo.toml's [profile.release.package.advlab] lost overflow-checks"
        );
        assert!(cfg!(debug_assertions), "Cargo.toml's [profile.release.package.advlab] lost debug-assertions");
    }

    #[test]
    fn every_seed_is_valid_so_mutations_start_from_real_files() {
        let device = crate::fixtures::device();
        for seed in weights_seeds() {
            weights::from_bytes(seed, &device).expect("a valid weights seed");
        }
        assert!(idx::parse_images("seed", &idx_seed(true, 2)).is_ok());
        assert!(idx::parse_labels("seed", &idx_seed(false, 3)).is_ok());
    }
}
