//! The attack table: every attack (and targeted variant) through the same property tests,
//! Foolbox-style, on a small MLP trained on real MNIST.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};

use super::projection::{l0_budget, l0_norms, l2_norms, linf_norms};
use super::*;
use crate::data::Dataset;
use crate::fixtures::trained_mlp;

/// Every attack with test-sized parameters; targeted variants aim at class 3.
fn table() -> Vec<AttackConfig> {
    let mut rows = Vec::new();
    for method in AttackMethod::ALL {
        let eps = match method.norm() {
            Norm::Linf => 0.2,
            Norm::L2 => 2.0,
            Norm::L0 => 0.1,
        };
        let steps = match method {
            AttackMethod::CarliniWagner => 100,
            AttackMethod::Square => 200,
            _ => 15,
        };
        let base = AttackConfig::new(method)
            .with_epsilon(eps)
            .with_steps(steps)
            .with_learning_rate(0.2)
            .with_step_size(if method.norm() == Norm::L2 { 0.25 } else { 0.02 })
            .with_binary_steps(4)
            .with_seed(7);
        if method.supports_target() {
            rows.push(base.clone().with_target(Some(3)));
        }
        rows.push(base);
    }
    rows
}

fn predictions(model: &Classifier, images: Tensor<4>) -> Vec<i64> {
    let [n, ..] = images.dims();
    model.valid().forward(images).argmax(1).reshape([n]).into_data().convert::<i64>().try_to_vec().unwrap()
}

fn batch(data: &Dataset, n: usize, device: &Device) -> (Tensor<4>, Tensor<1, Int>, Vec<i64>) {
    let indices: Vec<usize> = (0..n).collect();
    let (x, y) = data.batch(&indices, device);
    let labels = y.clone().into_data().convert::<i64>().try_to_vec().unwrap();
    (x, y, labels)
}

fn name(c: &AttackConfig) -> String {
    match c.target {
        Some(t) => format!("{} → {t}", c.method),
        None => c.method.to_string(),
    }
}

#[test]
fn every_attack_stays_in_the_box_and_its_ball() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, _) = batch(&test, 64, &device);
    for config in table() {
        let adv = run(&config, &model, x.clone(), y.clone());
        assert_eq!(adv.dims(), x.dims());
        let lo: f32 = adv.clone().min().into_scalar();
        let hi: f32 = adv.clone().max().into_scalar();
        assert!(lo >= 0.0 && hi <= 1.0, "{}: pixels in [{lo}, {hi}]", name(&config));
        let delta = adv - x.clone();
        let (size, bound): (f32, f32) = match config.method.norm() {
            Norm::Linf => (linf_norms(delta).max().into_scalar(), config.epsilon * (1.0 + 1e-5) + 1e-6),
            Norm::L2 => (l2_norms(delta).max().into_scalar(), config.epsilon * (1.0 + 1e-5) + 1e-6),
            Norm::L0 => (l0_norms(delta).max().into_scalar(), l0_budget(config.epsilon) as f32),
        };
        assert!(size <= bound, "{}: norm {size} > bound {bound} (ε {})", name(&config), config.epsilon);
    }
}

#[test]
fn every_attack_lowers_accuracy_and_targeted_ones_hit_their_target() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, labels) = batch(&test, 100, &device);
    let clean = predictions(&model, x.clone());
    let clean_accuracy = clean.iter().zip(&labels).filter(|(p, l)| p == l).count();
    assert!(clean_accuracy >= 85, "the fixture model is trained ({clean_accuracy}/100)");
    for config in table() {
        let adv = predictions(&model, run(&config, &model, x.clone(), y.clone()));
        let robust = adv.iter().zip(&labels).filter(|(p, l)| p == l).count();
        let bound = if config.target.is_some() { clean_accuracy } else { clean_accuracy / 2 };
        assert!(robust < bound, "{}: {robust}/100 correct under attack vs {clean_accuracy} clean", name(&config));
        if let Some(t) = config.target {
            let eligible: Vec<_> = labels.iter().zip(&adv).filter(|(l, _)| **l != t as i64).collect();
            let hits = eligible.iter().filter(|(_, p)| **p == t as i64).count();
            let rate = hits as f32 / eligible.len() as f32;
            assert!(rate > 0.5, "{}: reached the target on {:.0}% of images (chance is 10%)", name(&config), rate * 100.0);
        }
    }
}

#[test]
fn same_seed_gives_the_same_adversarial_and_another_seed_another() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, _) = batch(&test, 16, &device);
    for config in table() {
        let a = run(&config, &model, x.clone(), y.clone()).into_data();
        let b = run(&config, &model, x.clone(), y.clone()).into_data();
        assert_eq!(a, b, "{} is not deterministic", name(&config));
    }
    let pgd = AttackConfig::new(AttackMethod::Pgd).with_steps(3).with_epsilon(0.2);
    let a: Tensor<4> = run(&pgd, &model, x.clone(), y.clone());
    let b = run(&pgd.clone().with_seed(1), &model, x.clone(), y.clone());
    let diff: f32 = (a - b).abs().max().into_scalar();
    assert!(diff > 1e-3, "the random start ignores the seed");
}

#[test]
fn input_gradient_matches_finite_differences() {
    let (model, test) = trained_mlp();
    let model = model.valid();
    let device = crate::fixtures::device();
    let (x, y, _) = batch(&test, 1, &device);
    let goal = Goal::new(y, None);
    let gradient = goal.gradient(&model, x.clone()).into_data().try_to_vec::<f32>().unwrap();
    let pixels = x.clone().into_data().try_to_vec::<f32>().unwrap();
    let loss_at = |values: Vec<f32>| -> f32 {
        let t = crate::data::images_tensor(values, &device);
        goal.objective(model.forward(t)).into_scalar()
    };
    let h = 1e-3;
    let mut checked = 0;
    for i in (0..784).step_by(13) {
        let (mut up, mut down) = (pixels.clone(), pixels.clone());
        up[i] += h;
        down[i] -= h;
        let numeric = (loss_at(up) - loss_at(down)) / (2.0 * h);
        assert!((numeric - gradient[i]).abs() <= 2e-2 * gradient[i].abs().max(1e-2), "pixel {i}: analytic {} numeric {numeric}", gradient[i]);
        checked += 1;
    }
    assert!(checked > 50);
}

#[test]
fn more_pgd_steps_never_lower_the_loss_reached() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, _) = batch(&test, 64, &device);
    let goal = Goal::new(y.clone(), None);
    let mean_loss = |steps: usize| -> f32 {
        let config = AttackConfig::new(AttackMethod::Pgd).with_epsilon(0.1).with_steps(steps).with_step_size(0.01).with_random_start(false);
        let adv = run(&config, &model, x.clone(), y.clone());
        goal.objective(model.valid().forward(adv)).mean().into_scalar()
    };
    let losses: Vec<f32> = [1, 5, 20].into_iter().map(mean_loss).collect();
    assert!(losses[0] <= losses[1] + 1e-4 && losses[1] <= losses[2] + 1e-4, "{losses:?}");
}

#[test]
fn deepfool_and_cw_need_smaller_l2_than_pgd_l2() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, labels) = batch(&test, 40, &device);
    let unbounded = |method| AttackConfig::new(method).with_epsilon(10.0).with_steps(100).with_binary_steps(6).with_learning_rate(0.2);
    // Per image, the L2 norm of a successful minimal attack.
    let minimal_norms = |config: AttackConfig| -> Vec<f32> {
        let adv = run(&config, &model, x.clone(), y.clone());
        let norms = l2_norms(adv.clone() - x.clone()).into_data().try_to_vec::<f32>().unwrap();
        let preds = predictions(&model, adv);
        norms.into_iter().zip(preds.iter().zip(&labels)).filter(|(_, (p, l))| p != l).map(|(n, _)| n).collect()
    };
    // Per image, the smallest budget on a grid at which PGD-L2 flips it.
    let grid: Vec<f32> = (1..=24).map(|i| i as f32 * 0.25).collect();
    let mut pgd_needed = vec![f32::INFINITY; labels.len()];
    for &eps in grid.iter().rev() {
        let config = AttackConfig::new(AttackMethod::PgdL2).with_epsilon(eps).with_steps(20).with_step_size(eps / 8.0);
        let preds = predictions(&model, run(&config, &model, x.clone(), y.clone()));
        for (i, (p, l)) in preds.iter().zip(&labels).enumerate() {
            if p != l {
                pgd_needed[i] = eps;
            }
        }
    }
    let median = |mut v: Vec<f32>| {
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let pgd = median(pgd_needed);
    for method in [AttackMethod::DeepFool, AttackMethod::CarliniWagner] {
        let norms = minimal_norms(unbounded(method));
        assert!(norms.len() >= 36, "{method} flipped only {}/40 images", norms.len());
        let found = median(norms);
        assert!(found < pgd, "{method}: median L2 {found} is not below PGD-L2's {pgd}");
    }
}

#[test]
fn bad_parameters_are_refused_with_their_name() {
    let err = |c: AttackConfig| c.validate().unwrap_err().0;
    assert!(err(AttackConfig::new(AttackMethod::Pgd).with_epsilon(1.5)).contains("ε"));
    assert!(err(AttackConfig::new(AttackMethod::Pgd).with_epsilon(f32::NAN)).contains("ε"));
    assert!(err(AttackConfig::new(AttackMethod::Pgd).with_steps(0)).contains("steps"));
    assert!(err(AttackConfig::new(AttackMethod::Fgsm).with_target(Some(10))).contains("target"));
    assert!(err(AttackConfig::new(AttackMethod::DeepFool).with_target(Some(1))).contains("no targeted"));
    assert!(AttackConfig::new(AttackMethod::PgdL2).with_epsilon(3.0).validate().is_ok());
    assert_eq!("pgd-l2".parse::<AttackMethod>(), Ok(AttackMethod::PgdL2));
    assert!("pdg".parse::<AttackMethod>().unwrap_err().contains("expected one of"));
    assert!(err(AttackConfig::new(AttackMethod::ApgdT).with_target_classes(10)).contains("target classes"));
    assert!(err(AttackConfig::new(AttackMethod::Square).with_p_init(0.0)).contains("p_init"));
    assert!(err(AttackConfig::new(AttackMethod::Square).with_queries(Some(0))).contains("queries"));
    assert!(err(AttackConfig::new(AttackMethod::AutoAttack).with_target(Some(1))).contains("no targeted"));
    assert!(err(AttackConfig::new(AttackMethod::Jsma).with_epsilon(1.5)).contains("ε"));
    for name in ["apgd-t", "square", "autoattack", "jsma"] {
        assert_eq!(name.parse::<AttackMethod>().map(AttackMethod::name), Ok(name));
    }
}

/// A copy of the MLP `model` with its logits multiplied by `factor`: the same classifier (the
/// same argmax), but its softmax saturates, so the cross-entropy's gradient is exactly zero on
/// every confidently classified image — the way defensive distillation masked gradients
/// (Carlini & Wagner 2016, "Defensive distillation is not robust to adversarial examples").
fn with_saturated_softmax(model: Classifier, factor: f32) -> Classifier {
    match model {
        Classifier::Mlp(mut mlp) => {
            mlp.fc2.weight = mlp.fc2.weight.map(|w| w * factor);
            mlp.fc2.bias = mlp.fc2.bias.map(|b| b.map(|b| b * factor));
            Classifier::Mlp(mlp)
        }
        Classifier::Cnn(_) => panic!("the fixture is an MLP"),
    }
}

#[test]
fn square_and_autoattack_see_through_masked_gradients_that_stop_pgd() {
    let (model, test) = trained_mlp();
    let masked = with_saturated_softmax(model.clone(), 1e4);
    let device = crate::fixtures::device();
    let (x, y, labels) = batch(&test, 100, &device);
    assert_eq!(predictions(&masked, x.clone()), predictions(&model, x.clone()), "scaling the logits keeps every prediction");
    let correct = |m: &Classifier, config: &AttackConfig| -> usize {
        let adv = predictions(m, run(config, m, x.clone(), y.clone()));
        adv.iter().zip(&labels).filter(|(p, l)| p == l).count()
    };
    let eps = MASKED_EPS;
    let pgd = AttackConfig::new(AttackMethod::Pgd).with_epsilon(eps);
    let (pgd_plain, pgd_masked) = (correct(&model, &pgd), correct(&masked, &pgd));
    assert!(pgd_masked >= pgd_plain + 30, "the masking is real: PGD leaves {pgd_plain}/100 correct on the plain model, {pgd_masked}/100 on the masked one");
    let square = AttackConfig::new(AttackMethod::Square).with_epsilon(eps).with_steps(300);
    let square_masked = correct(&masked, &square);
    assert!(square_masked + 30 <= pgd_masked, "Square leaves {square_masked}/100 correct, PGD {pgd_masked}/100");
    let autoattack = AttackConfig::new(AttackMethod::AutoAttack).with_epsilon(eps).with_steps(20).with_target_classes(3);
    let autoattack_masked = correct(&masked, &autoattack);
    assert!(autoattack_masked + 30 <= pgd_masked, "AutoAttack leaves {autoattack_masked}/100 correct, PGD {pgd_masked}/100");
}

/// ε of the masked-gradient test.
const MASKED_EPS: f32 = 0.15;

#[test]
fn dlr_ignores_shifting_and_scaling_the_logits() {
    let device = crate::fixtures::device();
    let logits = Tensor::<2>::from_data([[3.0, 1.0, -2.0, 0.5, 0.0], [-1.0, 2.0, 4.0, 0.0, 1.0]], &device);
    let labels = Tensor::<1, Int>::from_data([0, 2], &device);
    let targets = Tensor::<1, Int>::from_data([1, 4], &device);
    for goal in [Goal { labels: labels.clone(), targets: None, loss: Loss::Dlr }, Goal::per_image(labels.clone(), targets, Loss::Dlr)] {
        let base = goal.objective(logits.clone()).into_data().try_to_vec::<f32>().unwrap();
        let moved = goal.objective(logits.clone() * 1000.0 + 7.0).into_data().try_to_vec::<f32>().unwrap();
        for (a, b) in base.iter().zip(&moved) {
            assert!((a - b).abs() < 1e-4, "{base:?} vs {moved:?}");
        }
    }
    // Untargeted, row 0: −(3 − 1)/(3 − 0.5); targeted, row 1: −(4 − 1)/(4 − (1 + 0)/2).
    let untargeted = Goal { labels: labels.clone(), targets: None, loss: Loss::Dlr }.objective(logits.clone());
    let value: f32 = untargeted.narrow(0, 0, 1).into_scalar();
    assert!((value + 2.0 / 2.5).abs() < 1e-6, "{value}");
}

#[test]
fn autoattack_reports_the_first_stage_that_broke_each_image() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, labels) = batch(&test, 40, &device);
    let config = AttackConfig::new(AttackMethod::AutoAttack).with_epsilon(0.08).with_steps(10).with_target_classes(2);
    let staged = pollster::block_on(autoattack::autoattack_by_stage(&model, x.clone(), y.clone(), &config)).unwrap();
    let clean = predictions(&model, x.clone());
    let adv = predictions(&model, staged.adversarial.clone());
    let unchanged = (staged.adversarial.clone() - x.clone()).abs().sum_dims(&[1, 2, 3]).reshape([40]).into_data().try_to_vec::<f32>().unwrap();
    for i in 0..40 {
        let flipped = clean[i] == labels[i] && adv[i] != labels[i];
        assert_eq!(staged.broken_by[i].is_some(), flipped, "image {i}: broken by {:?}", staged.broken_by[i]);
        if !flipped {
            assert_eq!(unchanged[i], 0.0, "image {i} was not broken and comes back clean");
        }
    }
    let broken = staged.broken_by.iter().filter(|b| b.is_some()).count();
    assert!(broken >= 10, "AutoAttack broke {broken}/40 images at ε = 0.08");
    // On one image the readback-free entry point gives the same result.
    let i = (0..40).find(|&i| staged.broken_by[i].is_some()).expect("a broken image");
    let one = |t: Tensor<4>| t.narrow(0, i, 1);
    let alone = pollster::block_on(autoattack::autoattack_by_stage(&model, one(x.clone()), y.clone().narrow(0, i, 1), &config)).unwrap();
    let masked = run(&config, &model, one(x.clone()), y.clone().narrow(0, i, 1));
    let difference: f32 = (alone.adversarial - masked).abs().max().into_scalar();
    assert!(difference < 1e-6, "the two entry points differ by {difference} on image {i}");
}

#[test]
fn jsma_only_raises_pixels() {
    let (model, test) = trained_mlp();
    let device = crate::fixtures::device();
    let (x, y, _) = batch(&test, 8, &device);
    let config = AttackConfig::new(AttackMethod::Jsma).with_epsilon(0.05);
    let adv = run(&config, &model, x.clone(), y);
    let lowest: f32 = (adv.clone() - x.clone()).min().into_scalar();
    assert!(lowest >= 0.0, "a pixel went down by {}", -lowest);
    let changed: f32 = l0_norms(adv - x).max().into_scalar();
    assert!(changed >= 2.0, "JSMA changed at most {changed} pixels of an image");
}
