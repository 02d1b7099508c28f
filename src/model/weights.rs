//! Weights files: safetensors with the tensor names and layouts of the equivalent PyTorch
//! module (`fc1.weight` is `[out, in]`, conv weights `[out, in, kh, kw]`), so `torch.nn` loads
//! them unchanged, and string metadata saying what the model is and how it was made.

use std::collections::HashMap;

use burn::module::Param;
use burn::nn::Linear;
use burn::nn::conv::Conv2d;
use burn::tensor::{Device, Tensor, TensorData};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::{Architecture, Classifier, Cnn, CnnConfig, Mlp, MlpConfig};
use crate::device::readback::{self, ReadError};

/// Value of the `format` metadata key of the files this version writes.
pub const FORMAT: &str = "advlab/1";

/// The widest layer a weights file may ask for (hidden units or convolution channels): wider
/// ones are refused before anything is allocated.
pub const MAX_WIDTH: usize = 65_536;

/// The largest `epochs` a file may claim.
pub const MAX_EPOCHS: usize = 1_000_000;

/// The largest value any layer may output for images in `[0,1]`, by the bound that
/// [`from_bytes`] and [`to_bytes`] compute from the weights. Up to it, every sum, logit margin and
/// softmax stays finite in float32 (whose largest value is 3.4e38); a larger bound means the
/// weights have blown up (a diverged run) and the outputs may be infinite or NaN.
pub const MAX_ACTIVATION: f64 = 1e30;

/// What a weights file says about its model (its safetensors metadata).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metadata {
    /// The network (`architecture` key: `mlp` or `cnn`).
    pub architecture: Architecture,
    /// The defense it was trained with (`none`, `mixed`, `fgsm-rs`, `pgd`, `trades`, `noise`).
    pub defense: String,
    /// Training ε in `[0,1]` pixel units (0 for `none`).
    pub epsilon: f32,
    /// Epochs trained.
    pub epochs: usize,
    /// Seed of the training run.
    pub seed: u64,
    /// Measured clean test accuracy in `[0,1]`, when measured.
    pub clean_accuracy: Option<f32>,
    /// Measured robust test accuracy in `[0,1]`, when measured.
    pub robust_accuracy: Option<f32>,
    /// The evaluation behind `robust_accuracy`, e.g. `pgd eps=0.3 steps=40 n=10000`.
    pub robust_attack: Option<String>,
    /// The training noise of the `noise` defense, e.g. `gaussian std=0.3` or `uniform eps=0.3`.
    #[serde(default)]
    pub noise: Option<String>,
    /// L2 weight decay of the run (Adam's coupled penalty), when it was on.
    #[serde(default)]
    pub weight_decay: Option<f32>,
    /// Weight λ of the run's input-gradient penalty, when it was on.
    #[serde(default)]
    pub grad_penalty: Option<f32>,
    /// The training run's whole configuration as JSON (`training` key), beside the keys above
    /// that PyTorch users read; typed and checked by `train::TrainConfig::of_weights`. Files
    /// written without it (`None`) are described by the keys above alone.
    #[serde(default)]
    pub training: Option<String>,
}

impl Metadata {
    /// Metadata of a model that has not been trained or measured yet.
    pub fn untrained(architecture: Architecture) -> Self {
        Metadata {
            architecture,
            defense: "none".into(),
            epsilon: 0.0,
            epochs: 0,
            seed: 0,
            clean_accuracy: None,
            robust_accuracy: None,
            robust_attack: None,
            noise: None,
            weight_decay: None,
            grad_penalty: None,
            training: None,
        }
    }

    fn to_map(&self) -> HashMap<String, String> {
        let mut map = HashMap::new();
        map.insert("format".into(), FORMAT.into());
        map.insert("architecture".into(), self.architecture.name().into());
        map.insert("defense".into(), self.defense.clone());
        map.insert("epsilon".into(), self.epsilon.to_string());
        map.insert("epochs".into(), self.epochs.to_string());
        map.insert("seed".into(), self.seed.to_string());
        if let Some(a) = self.clean_accuracy {
            map.insert("clean_accuracy".into(), a.to_string());
        }
        if let Some(a) = self.robust_accuracy {
            map.insert("robust_accuracy".into(), a.to_string());
        }
        if let Some(a) = &self.robust_attack {
            map.insert("robust_attack".into(), a.clone());
        }
        if let Some(n) = &self.noise {
            map.insert("noise".into(), n.clone());
        }
        if let Some(w) = self.weight_decay {
            map.insert("weight_decay".into(), w.to_string());
        }
        if let Some(l) = self.grad_penalty {
            map.insert("grad_penalty".into(), l.to_string());
        }
        if let Some(t) = &self.training {
            map.insert("training".into(), t.clone());
        }
        map
    }

    fn from_map(map: &HashMap<String, String>) -> Result<Self, WeightsError> {
        let get = |key: &str| map.get(key).map(String::as_str);
        let require = |key: &str| {
            get(key).ok_or_else(|| WeightsError::Metadata(format!("the `{key}` entry is missing")))
        };
        fn parse<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, WeightsError> {
            value
                .parse()
                .map_err(|_| WeightsError::Metadata(format!("`{key}` = `{value}` is not a valid value")))
        }
        let optional = |key: &str| get(key).map(|v| parse::<f32>(key, v)).transpose();
        match get("format") {
            Some(FORMAT) => {}
            Some(other) => {
                return Err(WeightsError::Metadata(format!(
                    "format `{other}` is not supported (this version reads `{FORMAT}`)"
                )));
            }
            None => return Err(WeightsError::Foreign),
        }
        let metadata = Metadata {
            architecture: require("architecture")?.parse().map_err(WeightsError::Metadata)?,
            defense: require("defense")?.to_string(),
            epsilon: parse("epsilon", require("epsilon")?)?,
            epochs: parse("epochs", require("epochs")?)?,
            seed: parse("seed", require("seed")?)?,
            clean_accuracy: optional("clean_accuracy")?,
            robust_accuracy: optional("robust_accuracy")?,
            robust_attack: get("robust_attack").map(str::to_string),
            noise: get("noise").map(str::to_string),
            weight_decay: optional("weight_decay")?,
            grad_penalty: optional("grad_penalty")?,
            training: get("training").map(str::to_string),
        };
        metadata.check()?;
        Ok(metadata)
    }

    /// Checks that every number is finite and in its range; the message names the entry and
    /// its value.
    fn check(&self) -> Result<(), WeightsError> {
        let bad = |key: &str, value: String, range: &str| {
            Err(WeightsError::Metadata(format!("`{key}` = {value} is out of range: expected {range}")))
        };
        if !(0.0..=1.0).contains(&self.epsilon) {
            return bad("epsilon", self.epsilon.to_string(), "a number in [0, 1]");
        }
        if self.epochs > MAX_EPOCHS {
            return bad("epochs", self.epochs.to_string(), &format!("at most {MAX_EPOCHS}"));
        }
        for (key, value) in [("clean_accuracy", self.clean_accuracy), ("robust_accuracy", self.robust_accuracy)] {
            if let Some(v) = value
                && !(0.0..=1.0).contains(&v)
            {
                return bad(key, v.to_string(), "a number in [0, 1]");
            }
        }
        for (key, value) in [("weight_decay", self.weight_decay), ("grad_penalty", self.grad_penalty)] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return bad(key, v.to_string(), "a finite number ≥ 0");
            }
        }
        Ok(())
    }
}

/// Why a weights file was refused; each message names the problem.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// Not a safetensors file at all (or truncated).
    #[error("not a valid safetensors file ({0}); is the file truncated or of another format?")]
    NotSafetensors(String),
    /// A safetensors file without advlab metadata.
    #[error("this safetensors file was not written by advlab: its metadata has no `format` entry")]
    Foreign,
    /// The metadata is present but wrong.
    #[error("bad weights metadata: {0}")]
    Metadata(String),
    /// A tensor is missing or has the wrong shape or type.
    #[error("bad tensor `{name}`: {reason}")]
    Tensor {
        /// The PyTorch-style tensor name.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The model's tensors could not be read back from the device.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// [`to_bytes`] refused to write a model that would not load back (non-finite or blown-up
    /// weights, metadata out of range).
    #[error("not writing the weights: {0}")]
    NotWritten(String),
}

/// One named tensor in PyTorch layout, ready to serialise.
struct Entry {
    name: String,
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// Appends `{prefix}.weight` (already in PyTorch layout) and `{prefix}.bias`.
async fn layer_entries<const D: usize>(
    prefix: &str,
    weight: Tensor<D>,
    bias: Option<Tensor<1>>,
    out: &mut Vec<Entry>,
) -> Result<(), ReadError> {
    let shape = weight.dims().to_vec();
    out.push(Entry { name: format!("{prefix}.weight"), shape, values: readback::floats(weight).await? });
    if let Some(bias) = bias {
        let shape = bias.dims().to_vec();
        out.push(Entry { name: format!("{prefix}.bias"), shape, values: readback::floats(bias).await? });
    }
    Ok(())
}

async fn linear_entries(prefix: &str, layer: &Linear, out: &mut Vec<Entry>) -> Result<(), ReadError> {
    // burn stores a linear weight as [in, out]; PyTorch as [out, in].
    layer_entries(prefix, layer.weight.val().transpose(), layer.bias.as_ref().map(|b| b.val()), out).await
}

async fn conv_entries(prefix: &str, layer: &Conv2d, out: &mut Vec<Entry>) -> Result<(), ReadError> {
    layer_entries(prefix, layer.weight.val(), layer.bias.as_ref().map(|b| b.val()), out).await
}

/// Every tensor of `model` in PyTorch layout, read back from its device.
async fn entries(model: &Classifier) -> Result<Vec<Entry>, ReadError> {
    let mut entries = Vec::new();
    match model {
        Classifier::Mlp(m) => {
            linear_entries("fc1", &m.fc1, &mut entries).await?;
            linear_entries("fc2", &m.fc2, &mut entries).await?;
        }
        Classifier::Cnn(m) => {
            conv_entries("conv1", &m.conv1, &mut entries).await?;
            conv_entries("conv2", &m.conv2, &mut entries).await?;
            linear_entries("fc1", &m.fc1, &mut entries).await?;
            linear_entries("fc2", &m.fc2, &mut entries).await?;
        }
    }
    Ok(entries)
}

/// The PyTorch name of the first tensor of `model` that holds a NaN or an infinity (`None` when
/// every weight is finite): how training notices an update that blew the weights up.
pub async fn non_finite_tensor(model: &Classifier) -> Result<Option<String>, ReadError> {
    Ok(entries(model).await?.into_iter().find(|e| e.values.iter().any(|v| !v.is_finite())).map(|e| e.name))
}

/// Serialises `model` with `metadata` into the bytes of a safetensors file. Only what
/// [`from_bytes`] accepts is written: a model with non-finite weights (a diverged run) or
/// weights so large that its outputs may not be finite, or metadata out of range, is refused
/// with an error naming the problem.
pub async fn to_bytes(model: &Classifier, metadata: &Metadata) -> Result<Vec<u8>, WeightsError> {
    let entries = entries(model).await?;
    let mut metadata = metadata.clone();
    metadata.architecture = model.architecture();
    let refuse = |e: WeightsError| WeightsError::NotWritten(e.to_string());
    metadata.check().map_err(refuse)?;
    check_entries(metadata.architecture, &entries).map_err(refuse)?;
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = entries
        .into_iter()
        .map(|e| (e.name, e.values.iter().flat_map(|v| v.to_le_bytes()).collect(), e.shape))
        .collect();
    let views = bytes
        .iter()
        .map(|(name, data, shape)| {
            TensorView::new(Dtype::F32, shape.clone(), data).map(|view| (name.clone(), view))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    safetensors::serialize(views, Some(metadata.to_map()))
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))
}

/// The layers of an architecture in order, by PyTorch name; each has a `.weight` and a `.bias`.
fn layer_names(architecture: Architecture) -> &'static [&'static str] {
    match architecture {
        Architecture::Mlp => &["fc1", "fc2"],
        Architecture::Cnn => &["conv1", "conv2", "fc1", "fc2"],
    }
}

/// Every tensor name a file of `architecture` holds, in the order they are written.
fn tensor_names(architecture: Architecture) -> Vec<String> {
    layer_names(architecture).iter().flat_map(|l| [format!("{l}.weight"), format!("{l}.bias")]).collect()
}

fn tensor_error(name: &str, reason: String) -> WeightsError {
    WeightsError::Tensor { name: name.into(), reason }
}

/// Checks tensors in PyTorch layout for a model of `architecture`, before anything is built
/// from them: every tensor present, each layer 1..=[`MAX_WIDTH`] wide, every shape exactly as
/// the widths imply, every value finite, and every layer's outputs bounded by
/// [`MAX_ACTIVATION`] for images in `[0,1]`. Returns the widths (`[hidden]` for the MLP,
/// `[channels1, channels2, hidden]` for the CNN).
fn check_entries(architecture: Architecture, entries: &[Entry]) -> Result<Vec<usize>, WeightsError> {
    let get = |name: &str| {
        entries.iter().find(|e| e.name == name).ok_or_else(|| tensor_error(name, "missing from the file".into()))
    };
    let width = |name: &str, what: &str| -> Result<usize, WeightsError> {
        let shape = &get(name)?.shape;
        match shape.first() {
            None => Err(tensor_error(name, "is a scalar (shape []), expected a layer's weights".into())),
            Some(0) => Err(tensor_error(name, format!("shape {shape:?} gives {what} 0: a layer needs at least one unit"))),
            Some(&w) if w > MAX_WIDTH => Err(tensor_error(
                name,
                format!("shape {shape:?} gives {what} {w}, more than the {MAX_WIDTH} this version builds"),
            )),
            Some(&w) => Ok(w),
        }
    };
    let (pixels, classes) = (crate::data::PIXELS, crate::data::CLASSES);
    let (widths, shapes): (Vec<usize>, Vec<Vec<usize>>) = match architecture {
        Architecture::Mlp => {
            let hidden = width("fc1.weight", "a hidden size of")?;
            (vec![hidden], vec![vec![hidden, pixels], vec![hidden], vec![classes, hidden], vec![classes]])
        }
        Architecture::Cnn => {
            let c1 = width("conv1.weight", "a channel count of")?;
            let c2 = width("conv2.weight", "a channel count of")?;
            let hidden = width("fc1.weight", "a hidden size of")?;
            let shapes = vec![
                vec![c1, 1, 5, 5],
                vec![c1],
                vec![c2, c1, 5, 5],
                vec![c2],
                vec![hidden, c2 * 7 * 7],
                vec![hidden],
                vec![classes, hidden],
                vec![classes],
            ];
            (vec![c1, c2, hidden], shapes)
        }
    };
    for (name, shape) in tensor_names(architecture).iter().zip(&shapes) {
        let entry = get(name)?;
        if &entry.shape != shape {
            return Err(tensor_error(name, format!("shape {:?}, expected {shape:?}", entry.shape)));
        }
        if let Some(at) = entry.values.iter().position(|v| !v.is_finite()) {
            return Err(tensor_error(
                name,
                format!(
                    "holds {} at index {at}: a model with non-finite weights cannot compute finite outputs (did its training diverge?)",
                    entry.values[at]
                ),
            ));
        }
    }
    // A bound on every layer's outputs for inputs in [0,1]: each output is a sum of at most one
    // row of weights times the input bound, plus its bias (ReLU and max-pooling never increase
    // it; padding only drops terms).
    let mut bound = 1f64;
    for layer in layer_names(architecture) {
        let (weight, bias) = (get(&format!("{layer}.weight"))?, get(&format!("{layer}.bias"))?);
        let row = weight.values.len() / bias.values.len();
        let out = weight
            .values
            .chunks_exact(row)
            .zip(&bias.values)
            .map(|(w, b)| w.iter().map(|v| f64::from(v.abs())).sum::<f64>() * bound + f64::from(b.abs()))
            .fold(0f64, f64::max);
        if out > MAX_ACTIVATION {
            return Err(tensor_error(
                &format!("{layer}.weight"),
                format!(
                    "its outputs can reach {out:.3e} for images in [0,1], beyond the {MAX_ACTIVATION:e} that float32 computes safely: the weights have blown up (did its training diverge?) and the model's outputs would not be finite"
                ),
            ));
        }
        bound = out;
    }
    Ok(widths)
}

/// The F32 tensors of a parsed file for `architecture`, refusing tensors that do not belong to
/// it (as PyTorch's strict `load_state_dict` does: an extra tensor means the file is not the
/// model its metadata says).
fn read_entries(file: &SafeTensors<'_>, architecture: Architecture) -> Result<Vec<Entry>, WeightsError> {
    let expected = tensor_names(architecture);
    let mut unexpected: Vec<&str> = file.names().into_iter().filter(|n| !expected.iter().any(|e| e == n)).collect();
    unexpected.sort_unstable();
    if let Some(name) = unexpected.first() {
        return Err(tensor_error(
            name,
            format!("is not one of the {architecture} architecture's tensors ({})", expected.join(", ")),
        ));
    }
    expected
        .into_iter()
        .map(|name| {
            let view = file.tensor(&name).map_err(|_| tensor_error(&name, "missing from the file".into()))?;
            if view.dtype() != Dtype::F32 {
                return Err(tensor_error(&name, format!("dtype {:?}, expected F32", view.dtype())));
            }
            let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            Ok(Entry { shape: view.shape().to_vec(), values, name })
        })
        .collect()
}

/// A device tensor of a checked entry.
fn device_tensor<const D: usize>(entry: &Entry, device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(entry.values.clone(), entry.shape.clone()), device)
}

/// Sets a linear layer's parameters from checked entries (PyTorch's `[out, in]` weight).
fn set_linear(layer: &mut Linear, weight: &Entry, bias: &Entry, device: &Device) {
    layer.weight = Param::from_tensor(device_tensor::<2>(weight, device).transpose());
    layer.bias = Some(Param::from_tensor(device_tensor(bias, device)));
}

/// Sets a convolution's parameters from checked entries.
fn set_conv(layer: &mut Conv2d, weight: &Entry, bias: &Entry, device: &Device) {
    layer.weight = Param::from_tensor(device_tensor(weight, device));
    layer.bias = Some(Param::from_tensor(device_tensor(bias, device)));
}

/// The metadata of a weights file, read from its header alone (the tensors are not checked:
/// [`from_bytes`] does that).
pub fn metadata(bytes: &[u8]) -> Result<Metadata, WeightsError> {
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    Metadata::from_map(header.metadata().as_ref().ok_or(WeightsError::Foreign)?)
}

/// Parses a weights file into a model on `device` and its metadata. A file that is not an
/// advlab weights file (wrong format, truncated, foreign, missing or unexpected tensors, wrong or
/// empty shapes, non-finite or blown-up weights, metadata out of range) is refused with an error
/// naming the problem, before anything is allocated on the device; nothing panics.
pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<(Classifier, Metadata), WeightsError> {
    let metadata = metadata(bytes)?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    let entries = read_entries(&file, metadata.architecture)?;
    let widths = check_entries(metadata.architecture, &entries)?;
    // `entries` is in the order of `tensor_names`: weight, bias per layer.
    let layer = |i: usize| (&entries[2 * i], &entries[2 * i + 1]);
    let model = match metadata.architecture {
        Architecture::Mlp => {
            let mut m: Mlp = MlpConfig::new().with_hidden(widths[0]).init(device);
            let ((w1, b1), (w2, b2)) = (layer(0), layer(1));
            set_linear(&mut m.fc1, w1, b1, device);
            set_linear(&mut m.fc2, w2, b2, device);
            Classifier::Mlp(m)
        }
        Architecture::Cnn => {
            let config = CnnConfig::new().with_channels1(widths[0]).with_channels2(widths[1]).with_hidden(widths[2]);
            let mut m: Cnn = config.init(device);
            let ((c1w, c1b), (c2w, c2b), (f1w, f1b), (f2w, f2b)) = (layer(0), layer(1), layer(2), layer(3));
            set_conv(&mut m.conv1, c1w, c1b, device);
            set_conv(&mut m.conv2, c2w, c2b, device);
            set_linear(&mut m.fc1, f1w, f1b, device);
            set_linear(&mut m.fc2, f2w, f2b, device);
            Classifier::Cnn(m)
        }
    };
    Ok((model, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    /// A weights file of `tensors` (name, shape, the value of every element) with the advlab
    /// metadata `meta`, some entries replaced by `overrides`.
    fn file(meta: &Metadata, overrides: &[(&str, &str)], tensors: &[(&str, Vec<usize>, f32)]) -> Vec<u8> {
        let mut map = meta.to_map();
        for (key, value) in overrides {
            map.insert(key.to_string(), value.to_string());
        }
        let data: Vec<Vec<u8>> = tensors
            .iter()
            .map(|(_, shape, v)| {
                let count = if shape.contains(&0) { 0 } else { shape.iter().product() };
                v.to_le_bytes().repeat(count)
            })
            .collect();
        let views = tensors
            .iter()
            .zip(&data)
            .map(|((name, shape, _), bytes)| (name.to_string(), TensorView::new(Dtype::F32, shape.clone(), bytes).unwrap()));
        safetensors::serialize(views, Some(map)).unwrap()
    }

    fn mlp_tensors(hidden: usize, value: f32) -> Vec<(&'static str, Vec<usize>, f32)> {
        vec![
            ("fc1.weight", vec![hidden, 784], value),
            ("fc1.bias", vec![hidden], value),
            ("fc2.weight", vec![10, hidden], value),
            ("fc2.bias", vec![10], value),
        ]
    }

    fn cnn_tensors(c1: usize, c2: usize, hidden: usize, value: f32) -> Vec<(&'static str, Vec<usize>, f32)> {
        let mut tensors = vec![
            ("conv1.weight", vec![c1, 1, 5, 5], value),
            ("conv1.bias", vec![c1], value),
            ("conv2.weight", vec![c2, c1, 5, 5], value),
            ("conv2.bias", vec![c2], value),
        ];
        tensors.extend(mlp_tensors(hidden, value));
        tensors[4].1 = vec![hidden, c2 * 49];
        tensors
    }

    fn refusal(bytes: &[u8]) -> String {
        from_bytes(bytes, &crate::fixtures::device()).expect_err("refused").to_string()
    }

    #[test]
    fn empty_and_huge_layers_are_refused_before_anything_is_built() {
        let (mlp, cnn) = (Metadata::untrained(Architecture::Mlp), Metadata::untrained(Architecture::Cnn));
        assert!(from_bytes(&file(&mlp, &[], &mlp_tensors(3, 0.1)), &crate::fixtures::device()).is_ok());
        assert!(from_bytes(&file(&cnn, &[], &cnn_tensors(2, 3, 4, 0.01)), &crate::fixtures::device()).is_ok());
        // A hidden size of 0: valid safetensors, every tensor of it empty.
        let m = refusal(&file(&mlp, &[], &mlp_tensors(0, 0.1)));
        assert!(m.contains("`fc1.weight`") && m.contains("a hidden size of 0"), "{m}");
        // Zero-element tensors claiming huge layers (building those overflowed or exhausted memory).
        for huge in [1usize << 40, usize::MAX] {
            let mut tensors = mlp_tensors(3, 0.1);
            tensors[0].1 = vec![huge, 0];
            let m = refusal(&file(&mlp, &[], &tensors));
            assert!(m.contains(&format!("a hidden size of {huge}, more than the 65536")), "{m}");
            let mut tensors = cnn_tensors(2, 3, 4, 0.01);
            tensors[2].1 = vec![huge, 0, 5, 5];
            let m = refusal(&file(&cnn, &[], &tensors));
            assert!(m.contains("`conv2.weight`") && m.contains(&format!("a channel count of {huge}")), "{m}");
        }
        let mut tensors = mlp_tensors(3, 0.1);
        tensors[2].1 = vec![10, 0];
        let m = refusal(&file(&mlp, &[], &tensors));
        assert!(m.contains("`fc2.weight`: shape [10, 0], expected [10, 3]"), "{m}");
        tensors[0].1 = vec![];
        assert!(refusal(&file(&mlp, &[], &tensors)).contains("scalar"));
    }

    #[test]
    fn metadata_out_of_range_is_refused_naming_the_entry_and_its_value() {
        let meta = Metadata::untrained(Architecture::Mlp);
        let tensors = mlp_tensors(2, 0.01);
        for (key, value, expected) in [
            ("epsilon", "NaN", "`epsilon` = NaN"),
            ("epsilon", "inf", "`epsilon` = inf"),
            ("epsilon", "-0.1", "`epsilon` = -0.1"),
            ("clean_accuracy", "NaN", "`clean_accuracy` = NaN"),
            ("robust_accuracy", "1.5", "`robust_accuracy` = 1.5"),
            ("weight_decay", "-1", "`weight_decay` = -1"),
            ("grad_penalty", "inf", "`grad_penalty` = inf"),
            ("epochs", "-1", "`epochs` = `-1`"),
            ("epochs", "1000001", "`epochs` = 1000001"),
            ("seed", "-5", "`seed` = `-5`"),
        ] {
            let bytes = file(&meta, &[(key, value)], &tensors);
            let m = metadata(&bytes).expect_err(key).to_string();
            assert!(m.contains(expected), "{key} = {value}: {m}");
            assert!(refusal(&bytes).contains(expected));
        }
        let mut nan = meta.clone();
        nan.epsilon = f32::NAN;
        let model = Classifier::new(Architecture::Mlp, &crate::fixtures::device());
        let m = pollster::block_on(to_bytes(&model, &nan)).unwrap_err().to_string();
        assert!(m.contains("not writing the weights") && m.contains("`epsilon` = NaN"), "{m}");
    }

    #[test]
    fn unexpected_tensors_are_refused_like_pytorch_strict_loading() {
        let mut tensors = mlp_tensors(2, 0.01);
        tensors.push(("fc3.weight", vec![1], 0.0));
        let m = refusal(&file(&Metadata::untrained(Architecture::Mlp), &[], &tensors));
        assert!(m.contains("`fc3.weight`: is not one of the mlp architecture's tensors"), "{m}");
    }

    #[test]
    fn non_finite_or_blown_up_weights_are_refused_on_load_and_never_written() {
        let meta = Metadata::untrained(Architecture::Mlp);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut tensors = mlp_tensors(2, 0.01);
            tensors[3].2 = bad;
            let m = refusal(&file(&meta, &[], &tensors));
            assert!(m.contains("`fc2.bias`") && m.contains(&format!("holds {bad} at index 0")), "{m}");
        }
        // Finite but huge: fc1's outputs can reach 7.85e22, fc2's 1.57e43, past float32.
        let m = refusal(&file(&meta, &[], &mlp_tensors(2, 1e20)));
        assert!(m.contains("`fc2.weight`") && m.contains("1.570e43") && m.contains("would not be finite"), "{m}");

        let device = crate::fixtures::device();
        let Classifier::Mlp(mut mlp) = Classifier::new(Architecture::Mlp, &device) else { unreachable!() };
        assert_eq!(pollster::block_on(non_finite_tensor(&Classifier::Mlp(mlp.clone()))).unwrap(), None);
        mlp.fc2.bias = Some(Param::from_tensor(Tensor::full([10], f32::NAN, &device)));
        let model = Classifier::Mlp(mlp);
        assert_eq!(pollster::block_on(non_finite_tensor(&model)).unwrap().as_deref(), Some("fc2.bias"));
        let m = pollster::block_on(to_bytes(&model, &meta)).unwrap_err().to_string();
        assert!(m.contains("not writing the weights") && m.contains("`fc2.bias`") && m.contains("NaN"), "{m}");
    }

    fn roundtrip(arch: Architecture) {
        let device = crate::fixtures::device();
        let model = Classifier::new(arch, &device);
        let mut meta = Metadata::untrained(arch);
        meta.clean_accuracy = Some(0.5);
        meta.robust_attack = Some("pgd eps=0.3".into());
        let bytes = pollster::block_on(to_bytes(&model, &meta)).unwrap();
        let (loaded, loaded_meta) = from_bytes(&bytes, &device).unwrap();
        assert_eq!(loaded_meta, meta);
        assert_eq!(metadata(&bytes).unwrap(), meta, "the header alone gives the same metadata");
        let x = Tensor::<4>::random([4, 1, 28, 28], burn::tensor::Distribution::Default, &device);
        let diff: f32 = (model.forward(x.clone()) - loaded.forward(x)).abs().max().into_scalar();
        assert!(diff < 1e-6, "outputs differ by {diff}");
    }

    #[test]
    fn weights_round_trip_for_both_architectures() {
        roundtrip(Architecture::Mlp);
        roundtrip(Architecture::Cnn);
    }

    #[test]
    fn pytorch_layout_is_used() {
        let device = crate::fixtures::device();
        let model = Classifier::new(Architecture::Mlp, &device);
        let bytes = pollster::block_on(to_bytes(&model, &Metadata::untrained(Architecture::Mlp))).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.tensor("fc1.weight").unwrap().shape(), &[128, 784]);
        assert_eq!(file.tensor("fc2.bias").unwrap().shape(), &[10]);
    }

    #[test]
    fn corrupt_truncated_and_foreign_files_are_refused() {
        let device = crate::fixtures::device();
        let model = Classifier::new(Architecture::Cnn, &device);
        let bytes = pollster::block_on(to_bytes(&model, &Metadata::untrained(Architecture::Cnn))).unwrap();
        let message = |b: &[u8]| from_bytes(b, &device).expect_err("refused").to_string();
        assert!(message(&bytes[..bytes.len() / 2]).contains("not a valid safetensors"));
        assert!(message(b"hello, this is not a model").contains("not a valid safetensors"));
        assert!(message(&[]).contains("not a valid safetensors"));
        let foreign = safetensors::serialize(
            vec![("w", TensorView::new(Dtype::F32, vec![1], &[0, 0, 0, 0]).unwrap())],
            None,
        )
        .unwrap();
        assert!(message(&foreign).contains("not written by advlab"));
        assert!(metadata(&foreign).unwrap_err().to_string().contains("not written by advlab"));
        assert!(metadata(b"junk").unwrap_err().to_string().contains("not a valid safetensors"));
        // An MLP file whose metadata claims a CNN names the missing tensor.
        let mlp = Classifier::new(Architecture::Mlp, &device);
        let mut mislabelled = pollster::block_on(to_bytes(&mlp, &Metadata::untrained(Architecture::Mlp))).unwrap();
        let key = b"\"architecture\":\"mlp\"";
        let at = mislabelled.windows(key.len()).position(|w| w == key).expect("metadata in header");
        mislabelled[at + key.len() - 4..at + key.len() - 1].copy_from_slice(b"cnn");
        assert!(message(&mislabelled).contains("conv1.weight"));
    }
}
