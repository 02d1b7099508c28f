//! The share link: the attack lab's state as URL query parameters,
//! `?model=ID&attack=NAME&eps=0.3&steps=40&sample=I` or `&draw=…` for a drawing.
//!
//! Parsing never fails: every unknown or malformed value is reported and replaced by its default.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::attack::{AttackConfig, AttackMethod};
use crate::data::PIXELS;

/// The image a link opens on.
#[derive(Clone, Debug, PartialEq)]
pub enum SharedInput {
    /// Nothing: the page opens with an empty canvas.
    Empty,
    /// Test image `I` of the MNIST test set (0–9999).
    Sample(usize),
    /// A drawing's 28×28 model input, pixels in `[0,1]` (stored with 16 grey levels).
    Drawing(Vec<f32>),
}

/// The state a share link carries.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareState {
    /// Model id (`mlp-standard`, `cnn-robust`, …).
    pub model: String,
    /// The attack.
    pub attack: AttackMethod,
    /// ε in `[0,1]` pixel units (an L2 radius for L2 attacks).
    pub epsilon: f32,
    /// Iterations of iterative attacks.
    pub steps: usize,
    /// The image.
    pub input: SharedInput,
}

impl ShareState {
    /// The state of a page opened without parameters, with `model` selected.
    pub fn default_for(model: &str) -> Self {
        let attack = AttackConfig::new(AttackMethod::Fgsm);
        ShareState { model: model.into(), attack: attack.method, epsilon: attack.epsilon, steps: attack.steps, input: SharedInput::Empty }
    }

    /// The query string (without `?`).
    pub fn to_query(&self) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("model", &self.model)
            .append_pair("attack", self.attack.name())
            .append_pair("eps", &self.epsilon.to_string())
            .append_pair("steps", &self.steps.to_string());
        match &self.input {
            SharedInput::Empty => {}
            SharedInput::Sample(i) => {
                query.append_pair("sample", &i.to_string());
            }
            SharedInput::Drawing(pixels) => {
                query.append_pair("draw", &encode_image(pixels));
            }
        }
        query.finish()
    }

    /// Reads a query string (with or without the leading `?`). `models` lists the valid model
    /// ids; the first is the default. Returns the state and one message per value that was
    /// unknown or malformed (and replaced by its default).
    pub fn parse(query: &str, models: &[&str]) -> (ShareState, Vec<String>) {
        let mut state = ShareState::default_for(models.first().copied().unwrap_or_default());
        let mut problems = Vec::new();
        let query = query.strip_prefix('?').unwrap_or(query);
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let value = value.trim();
            match key.as_ref() {
                "model" if models.contains(&value) => state.model = value.into(),
                "model" => problems.push(format!("unknown model `{value}` (expected one of {})", models.join(", "))),
                "attack" => match value.parse() {
                    Ok(attack) => state.attack = attack,
                    Err(e) => problems.push(e),
                },
                // Numbers here; their ranges are the attack's own check, below.
                "eps" => match value.parse::<f32>() {
                    Ok(eps) => state.epsilon = eps,
                    Err(_) => problems.push(format!("eps `{value}` is not a number")),
                },
                "steps" => match value.parse::<usize>() {
                    Ok(steps) => state.steps = steps,
                    Err(_) => problems.push(format!("steps `{value}` is not a whole number")),
                },
                "sample" => match value.parse::<usize>() {
                    Ok(i) if i < 10_000 => state.input = SharedInput::Sample(i),
                    _ => problems.push(format!("sample `{value}` is not a test image index 0–9999")),
                },
                "draw" => match decode_image(value) {
                    Ok(pixels) => state.input = SharedInput::Drawing(pixels),
                    Err(e) => problems.push(e),
                },
                // The viewer's backend choice (`auto`, `webgpu`, `cpu`), not part of the shared
                // state: the page reads and checks it itself.
                "backend" => {}
                other => problems.push(format!("unknown parameter `{other}`")),
            }
        }
        // The attack's own validation, once: a value out of its range goes back to its default.
        let defaults = AttackConfig::new(state.attack);
        if let Err(e) = defaults.clone().with_epsilon(state.epsilon).validate() {
            problems.push(format!("eps: {e}"));
            state.epsilon = defaults.epsilon;
        }
        if let Err(e) = defaults.clone().with_steps(state.steps).validate() {
            problems.push(format!("steps: {e}"));
            state.steps = defaults.steps;
        }
        (state, problems)
    }
}

/// A 28×28 image in `[0,1]` as 16 grey levels, two pixels a byte, in URL-safe base64 (523
/// characters).
pub fn encode_image(pixels: &[f32]) -> String {
    let level = |p: f32| (p.clamp(0.0, 1.0) * 15.0).round() as u8;
    let bytes: Vec<u8> = pixels.chunks(2).map(|pair| (level(pair[0]) << 4) | pair.get(1).map_or(0, |&p| level(p))).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The inverse of [`encode_image`]; a malformed value is refused with a message.
pub fn decode_image(text: &str) -> Result<Vec<f32>, String> {
    let bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| format!("draw is not a valid drawing ({e})"))?;
    if bytes.len() != PIXELS / 2 {
        return Err(format!("draw holds {} bytes, a 28×28 drawing needs {}", bytes.len(), PIXELS / 2));
    }
    Ok(bytes.iter().flat_map(|b| [f32::from(b >> 4) / 15.0, f32::from(b & 15) / 15.0]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODELS: [&str; 2] = ["mlp-standard", "cnn-robust"];

    #[test]
    fn a_link_round_trips() {
        let drawing: Vec<f32> = (0..PIXELS).map(|i| (i % 16) as f32 / 15.0).collect();
        for input in [SharedInput::Empty, SharedInput::Sample(42), SharedInput::Drawing(drawing)] {
            let state = ShareState { model: "cnn-robust".into(), attack: AttackMethod::PgdL2, epsilon: 1.5, steps: 20, input };
            let (parsed, problems) = ShareState::parse(&format!("?{}", state.to_query()), &MODELS);
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(parsed, state);
        }
    }

    #[test]
    fn drawings_keep_sixteen_grey_levels() {
        let pixels: Vec<f32> = (0..PIXELS).map(|i| i as f32 / PIXELS as f32).collect();
        let text = encode_image(&pixels);
        assert!(text.len() < 600 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        let back = decode_image(&text).unwrap();
        assert!(back.iter().zip(&pixels).all(|(a, b)| (a - b).abs() <= 0.5 / 15.0 + 1e-6));
    }

    #[test]
    fn malformed_values_are_reported_and_replaced_by_defaults() {
        let (state, problems) = ShareState::parse("model=gpt&attack=pdg&eps=abc&steps=0&sample=10000&draw=%%%&x=1", &MODELS);
        assert_eq!(state, ShareState::default_for("mlp-standard"));
        assert_eq!(problems.len(), 7, "{problems:?}");
        assert!(problems[0].contains("unknown model `gpt`"));
        let (state, problems) = ShareState::parse("attack=pgd&eps=2", &MODELS);
        assert_eq!((state.attack, state.epsilon), (AttackMethod::Pgd, 0.3));
        assert_eq!(problems.len(), 1);
        // JSMA's budget is a fraction of the pixels: 5 would fail the attack's own check later.
        let (state, problems) = ShareState::parse("attack=jsma&eps=5", &MODELS);
        assert_eq!((state.attack, state.epsilon), (AttackMethod::Jsma, 0.3));
        assert!(problems[0].contains("ε = 5 is out of range: jsma needs 0 ≤ ε ≤ 1"), "{problems:?}");
        // An L2 radius may go up to the attack's own maximum, and no further.
        let (state, problems) = ShareState::parse("attack=pgd-l2&eps=28&steps=10001", &MODELS);
        assert_eq!((state.epsilon, state.steps), (28.0, 40));
        assert!(problems.len() == 1 && problems[0].contains("steps = 10001 is out of range 1..=10000"), "{problems:?}");
    }
}
