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
use crate::readback::{self, ReadError};

/// Value of the `format` metadata key of the files this version writes.
pub const FORMAT: &str = "advlab/1";

/// What a weights file says about its model (its safetensors metadata).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Metadata {
    /// The network (`architecture` key: `mlp` or `cnn`).
    pub architecture: Architecture,
    /// The defense it was trained with (`none`, `mixed`, `fgsm-rs`, `pgd`, `trades`).
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
        Ok(Metadata {
            architecture: require("architecture")?.parse().map_err(WeightsError::Metadata)?,
            defense: require("defense")?.to_string(),
            epsilon: parse("epsilon", require("epsilon")?)?,
            epochs: parse("epochs", require("epochs")?)?,
            seed: parse("seed", require("seed")?)?,
            clean_accuracy: optional("clean_accuracy")?,
            robust_accuracy: optional("robust_accuracy")?,
            robust_attack: get("robust_attack").map(str::to_string),
        })
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

/// Serialises `model` with `metadata` into the bytes of a safetensors file.
pub async fn to_bytes(model: &Classifier, metadata: &Metadata) -> Result<Vec<u8>, WeightsError> {
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
    let mut metadata = metadata.clone();
    metadata.architecture = model.architecture();
    safetensors::serialize(views, Some(metadata.to_map()))
        .map_err(|e| WeightsError::NotSafetensors(e.to_string()))
}

/// Reads the tensors of a parsed file, checking names, dtype and shapes.
struct Reader<'a> {
    file: SafeTensors<'a>,
    device: &'a Device,
}

impl Reader<'_> {
    fn shape(&self, name: &str) -> Result<Vec<usize>, WeightsError> {
        self.view(name).map(|v| v.shape().to_vec())
    }

    fn view(&self, name: &str) -> Result<TensorView<'_>, WeightsError> {
        let view = self.file.tensor(name).map_err(|_| WeightsError::Tensor {
            name: name.into(),
            reason: "missing from the file".into(),
        })?;
        if view.dtype() != Dtype::F32 {
            return Err(WeightsError::Tensor {
                name: name.into(),
                reason: format!("dtype {:?}, expected F32", view.dtype()),
            });
        }
        Ok(view)
    }

    fn tensor<const D: usize>(&self, name: &str, shape: [usize; D]) -> Result<Tensor<D>, WeightsError> {
        let view = self.view(name)?;
        if view.shape() != shape {
            return Err(WeightsError::Tensor {
                name: name.into(),
                reason: format!("shape {:?}, expected {shape:?}", view.shape()),
            });
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some(bad) = values.iter().find(|v| !v.is_finite()) {
            return Err(WeightsError::Tensor { name: name.into(), reason: format!("holds {bad}") });
        }
        Ok(Tensor::from_data(TensorData::new(values, shape), self.device))
    }

    fn dims<const D: usize>(&self, name: &str) -> Result<[usize; D], WeightsError> {
        let shape = self.shape(name)?;
        shape.clone().try_into().map_err(|_| WeightsError::Tensor {
            name: name.into(),
            reason: format!("rank {} (shape {shape:?}), expected rank {D}", shape.len()),
        })
    }

    fn linear(&self, prefix: &str, layer: &mut Linear, d_in: usize, d_out: usize) -> Result<(), WeightsError> {
        let weight: Tensor<2> = self.tensor(&format!("{prefix}.weight"), [d_out, d_in])?;
        layer.weight = Param::from_tensor(weight.transpose());
        layer.bias = Some(Param::from_tensor(self.tensor(&format!("{prefix}.bias"), [d_out])?));
        Ok(())
    }

    fn conv(&self, prefix: &str, layer: &mut Conv2d, c_in: usize, c_out: usize) -> Result<(), WeightsError> {
        layer.weight = Param::from_tensor(self.tensor(&format!("{prefix}.weight"), [c_out, c_in, 5, 5])?);
        layer.bias = Some(Param::from_tensor(self.tensor(&format!("{prefix}.bias"), [c_out])?));
        Ok(())
    }
}

/// The metadata of a weights file, read from its header alone (the tensors are not checked:
/// [`from_bytes`] does that).
pub fn metadata(bytes: &[u8]) -> Result<Metadata, WeightsError> {
    let (_, header) =
        SafeTensors::read_metadata(bytes).map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    Metadata::from_map(header.metadata().as_ref().ok_or(WeightsError::Foreign)?)
}

/// Parses a weights file into a model on `device` and its metadata. A file that is not an
/// advlab weights file (wrong format, truncated, foreign, wrong shapes) is refused with an error
/// naming the problem; nothing panics.
pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<(Classifier, Metadata), WeightsError> {
    let metadata = metadata(bytes)?;
    let file = SafeTensors::deserialize(bytes).map_err(|e| WeightsError::NotSafetensors(e.to_string()))?;
    let reader = Reader { file, device };
    let model = match metadata.architecture {
        Architecture::Mlp => {
            let [hidden, _] = reader.dims::<2>("fc1.weight")?;
            let mut m: Mlp = MlpConfig::new().with_hidden(hidden).init(device);
            reader.linear("fc1", &mut m.fc1, crate::data::PIXELS, hidden)?;
            reader.linear("fc2", &mut m.fc2, hidden, crate::data::CLASSES)?;
            Classifier::Mlp(m)
        }
        Architecture::Cnn => {
            let [c1, ..] = reader.dims::<4>("conv1.weight")?;
            let [c2, ..] = reader.dims::<4>("conv2.weight")?;
            let [hidden, _] = reader.dims::<2>("fc1.weight")?;
            let config = CnnConfig::new().with_channels1(c1).with_channels2(c2).with_hidden(hidden);
            let mut m: Cnn = config.init(device);
            reader.conv("conv1", &mut m.conv1, 1, c1)?;
            reader.conv("conv2", &mut m.conv2, c1, c2)?;
            reader.linear("fc1", &mut m.fc1, c2 * 7 * 7, hidden)?;
            reader.linear("fc2", &mut m.fc2, hidden, crate::data::CLASSES)?;
            Classifier::Cnn(m)
        }
    };
    Ok((model, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Tensor;

    fn roundtrip(arch: Architecture) {
        let device = Device::flex();
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
        let device = Device::flex();
        let model = Classifier::new(Architecture::Mlp, &device);
        let bytes = pollster::block_on(to_bytes(&model, &Metadata::untrained(Architecture::Mlp))).unwrap();
        let file = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.tensor("fc1.weight").unwrap().shape(), &[128, 784]);
        assert_eq!(file.tensor("fc2.bias").unwrap().shape(), &[10]);
    }

    #[test]
    fn corrupt_truncated_and_foreign_files_are_refused() {
        let device = Device::flex();
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
