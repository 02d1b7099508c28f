//! The core on burn's native GPU backend (wgpu, with fusion and autotune: the CLI's `--device
//! wgpu`) against the CPU backend. Only in builds with `--features gpu`, and ignored by default
//! since it needs a GPU or a Vulkan driver (Debian's `mesa-vulkan-drivers`, lavapipe, runs it on
//! the CPU): `cargo test --release --features gpu --lib -- --ignored gpu_`.

use burn::tensor::Device;

use crate::attack::{AttackConfig, AttackMethod};
use crate::eval::attack_batch;
use crate::model::weights;

#[test]
#[ignore = "needs a GPU or lavapipe; fails with burn 0.22.1's fusion (README: the GPU engine, measured)"]
fn gpu_fgsm_on_the_cnn_stays_in_the_eps_ball_and_agrees_with_the_cpu() {
    let cpu = Device::flex();
    let gpu = Device::wgpu_options().init().expect("a GPU through wgpu");
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/www/models/cnn-robust.safetensors")).unwrap();
    let (on_cpu, _) = weights::from_bytes(&bytes, &cpu).unwrap();
    let (on_gpu, _) = weights::from_bytes(&bytes, &gpu).unwrap();
    let test = crate::fixtures::mnist().test.take(64);
    let config = AttackConfig::new(AttackMethod::Fgsm).with_epsilon(0.3);
    // Batch sizes matter: with fusion, 8 images came out right and 16, 32 and 50 did not.
    for n in [8usize, 16, 32, 50] {
        let indices: Vec<usize> = (0..n).collect();
        let run = |model, device| {
            let (images, labels) = test.batch(&indices, device);
            pollster::block_on(attack_batch(model, &config, images, labels)).unwrap()
        };
        let (expected, got) = (run(&on_cpu, &cpu), run(&on_gpu, &gpu));
        let worst = got.iter().map(|o| o.linf).fold(0f32, f32::max);
        assert!(worst <= 0.3 + 1e-5, "{n} images: an FGSM image {worst} away from its original (ε = 0.3)");
        let same = expected.iter().zip(&got).filter(|(e, g)| e.adversarial_prediction == g.adversarial_prediction).count();
        assert!(same + n / 10 >= n, "{n} images: only {same} adversarial predictions agree with the CPU");
    }
}
