"""Training the diffusion model on healthy scans only (DDPM, epsilon prediction).

Loss: MSE between the true and predicted noise (Ho et al. 2020, eq. 14) at a random timestep.
Timesteps are drawn with weight towards the noise levels that partial noising uses at inference
(t < `low_t_max` with probability `low_t_fraction`), the rest uniform over the full schedule so
that sampling new images from pure noise still works.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import shlex
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from diffusers import DDPMScheduler, UNet2DModel
from diffusers.optimization import get_scheduler
from diffusers.training_utils import EMAModel
from tqdm.auto import tqdm

from assistant.detector.data import augment, load_folder
from assistant.detector.levels import (
    LEVEL_BANDS,
    TRAINED_LEVEL_MM,
    class_labels,
    is_level_aware,
    load_level_set,
    with_level_embedding,
)
from assistant.detector.model import (
    DetectorConfig,
    DiffusionModel,
    PreprocessConfig,
    UNetConfig,
    cpu_has_bf16,
    new_scheduler,
)
from assistant.preprocess import unit_to_model

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    data: str | None  # folder of healthy scans (mid-axial level; None: a level set only)
    out: str  # checkpoint folder to write
    val: str | None = None  # healthy validation folder (loss tracking + calibration)
    steps: int = 20_000  # optimiser steps
    batch: int = 16
    lr: float = 2e-4  # AdamW, linear warm-up, then `lr_schedule`
    warmup: int = 500
    # a diffusers learning-rate schedule after the warm-up, over `steps`: "constant_with_warmup"
    # (constant), or e.g. "cosine" (down to 0 at the last step: a fine-tuning run that ends on a
    # low learning rate)
    lr_schedule: str = "constant_with_warmup"
    ema_decay: float = 0.999
    low_t_max: int = 500  # see module docstring
    low_t_fraction: float = 0.7
    flip: bool = True  # left-right flips: brains are near-symmetric
    seed: int = 0
    ckpt_every: int = 1000  # steps between resumable checkpoints
    max_minutes: float | None = None  # stop (and save) after this wall time of this run
    device: str = "auto"  # "auto": cuda if available, else cpu
    bf16: bool = True  # bf16 autocast (CUDA, or a CPU with avx512_bf16)
    unet: UNetConfig = field(default_factory=UNetConfig)
    init_from: str | None = None  # start from this checkpoint's weights (fresh optimiser)
    # level-aware training (`assistant.detector.levels`): slices at every brain level from a
    # level set (`assistant.domain.levelset`); `data` then holds mid-axial slices (or is None)
    level_set: str | None = None
    val_level_set: str | None = None  # val volumes' level set (a per-level val loss)
    level_embedding: bool = False  # condition the UNet on the slice's level
    command: str = ""  # the exact command line, for the model card


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def _sample_t(b: int, cfg: TrainConfig, n_train: int, gen: torch.Generator, dev) -> torch.Tensor:
    low = torch.rand(b, generator=gen, device=dev) < cfg.low_t_fraction
    t_low = torch.randint(0, cfg.low_t_max, (b,), generator=gen, device=dev)
    t_all = torch.randint(0, n_train, (b,), generator=gen, device=dev)
    return torch.where(low, t_low, t_all)


def _loss(unet: UNet2DModel, scheduler, x01: torch.Tensor, t, noise, autocast: bool, levels=None):
    x0 = unit_to_model(x01)
    xt = scheduler.add_noise(x0, noise, t)
    labels = class_labels(unet, levels, len(x0), x0.device)
    with torch.autocast(x0.device.type, dtype=torch.bfloat16, enabled=autocast):
        pred = unet(xt, t, class_labels=labels).sample
    return F.mse_loss(pred.float(), noise)


def train(cfg: TrainConfig) -> Path:
    """Train (or resume) and write the checkpoint folder `cfg.out`. Returns its path."""
    out = Path(cfg.out)
    dev = _device(cfg.device)
    torch.manual_seed(cfg.seed)
    x_train, l_train = _training_data(cfg)
    x_val = load_folder(cfg.val, PreprocessConfig(size=cfg.unet.size))[0] if cfg.val else None
    val_levels = _val_levels(cfg.val_level_set) if cfg.val_level_set else None
    log.info("training on %d slices (device %s)", len(x_train), dev)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
    x_train, l_train = x_train.to(dev), l_train.to(dev)
    run = _Run.start(cfg, out, dev)
    out.mkdir(parents=True, exist_ok=True)
    run.unet.train()
    t0 = time.perf_counter() - run.elapsed
    resumed_at = run.elapsed  # --max-minutes counts this run's time, not the resumed runs'
    bar = tqdm(total=cfg.steps, initial=run.step, desc="train", dynamic_ncols=True)
    running = None
    while run.step < cfg.steps:
        loss = run.train_step(x_train, l_train)
        running = loss if running is None else 0.98 * running + 0.02 * loss
        bar.update(1)
        bar.set_postfix(loss=f"{running:.4f}")
        run.elapsed = time.perf_counter() - t0
        this_run = run.elapsed - resumed_at
        timeout = cfg.max_minutes is not None and this_run > cfg.max_minutes * 60
        if run.step % cfg.ckpt_every == 0 or run.step == cfg.steps or timeout:
            run.checkpoint(running, x_val, val_levels)
        if timeout:
            log.info("stopping after %.1f minutes of this run (max_minutes)", this_run / 60)
            break
    bar.close()
    return out


def _training_data(cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """(images (N, 1, S, S) in [0, 1], their MNI levels (N,)): `cfg.data`'s scans at the
    mid-axial level plus `cfg.level_set`'s slices."""
    parts, levels = [], []
    if cfg.data:
        x, _ = load_folder(cfg.data, PreprocessConfig(size=cfg.unet.size))
        parts.append(x)
        levels.append(torch.full((len(x),), TRAINED_LEVEL_MM))
        log.info("%d scans from %s (level %+.0f mm)", len(x), cfg.data, TRAINED_LEVEL_MM)
    if cfg.level_set:
        x, lv = load_level_set(cfg.level_set)
        if x.shape[-1] != cfg.unet.size:
            raise ValueError(f"{cfg.level_set} holds {x.shape[-1]} px slices, not {cfg.unet.size}")
        parts.append(x)
        levels.append(lv)
        log.info("%d slices at %d levels from %s", len(x), len(set(lv.tolist())), cfg.level_set)
    if not parts:
        raise ValueError("nothing to train on: give a folder of scans and/or a level set")
    return torch.cat(parts), torch.cat(levels)


def lr_factor(cfg: TrainConfig):
    """The multiplier of `cfg.lr` at a 1-based step: diffusers' schedule `cfg.lr_schedule`
    with `cfg.warmup` warm-up steps over `cfg.steps` steps (its own bookkeeping unused: the
    rate is set from the step, so a resumed run continues the same curve)."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=1.0)
    sched = get_scheduler(
        cfg.lr_schedule, opt, num_warmup_steps=cfg.warmup, num_training_steps=cfg.steps
    )
    return sched.lr_lambdas[0]


def _val_levels(path: str, per_band: int = 16, seed: int = 0) -> dict[str, tuple]:
    """A fixed subset of a val level set, by level band: {"-50..-21": (x, levels), ...}."""
    x, lv = load_level_set(path)
    gen = torch.Generator().manual_seed(seed)
    bands = {}
    for lo, hi in LEVEL_BANDS:
        idx = torch.nonzero((lv >= lo) & (lv <= hi)).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)[:per_band]]
        if len(idx):
            bands[f"{lo:+d}..{hi:+d}"] = (x[idx], lv[idx])
    return bands


@dataclass
class _Run:
    """One training run: the models, optimiser and schedule, and where it stands."""

    cfg: TrainConfig
    out: Path  # the checkpoint folder
    dev: torch.device
    scheduler: DDPMScheduler
    unet: UNet2DModel  # the trained weights
    ema_unet: UNet2DModel  # the exponential moving average (what is saved and evaluated)
    ema: EMAModel
    opt: torch.optim.Optimizer
    autocast: bool
    n_params: int
    step: int = 0
    elapsed: float = 0.0  # seconds of training, over all resumed runs

    @functools.cached_property
    def _lr_factor(self):
        return lr_factor(self.cfg)  # built once per run, not at every step

    def lr_at(self, step: int) -> float:
        """The learning rate of optimiser step `step` (0-based): warm-up, then the schedule,
        held at its last value past `cfg.steps`."""
        return self.cfg.lr * self._lr_factor(min(step + 1, self.cfg.steps))

    @property
    def state_dir(self) -> Path:
        return self.out / "train_state"

    @classmethod
    def start(cls, cfg: TrainConfig, out: Path, dev: torch.device) -> _Run:
        """Resume from `out/train_state`, else start from `cfg.init_from`'s weights, else from
        a new UNet."""
        state_dir = out / "train_state"
        scheduler = new_scheduler()
        alphas = scheduler.alphas_cumprod.to(dev)
        scheduler.alphas_cumprod = alphas  # add_noise indexes it on the batch's device
        step, elapsed = 0, 0.0
        if (state_dir / "state.json").is_file():
            state = json.loads((state_dir / "state.json").read_text())
            unet = UNet2DModel.from_pretrained(state_dir / "unet").to(dev)
            _same_architecture(unet, cfg.unet, out)
            ema_unet = UNet2DModel.from_pretrained(state_dir / "ema").to(dev)
            step, elapsed = state["step"], state["elapsed"]
            log.info("resuming from step %d", step)
        elif cfg.init_from:
            path = Path(cfg.init_from) / "unet"
            unet = UNet2DModel.from_pretrained(path, torch_dtype=torch.float32).to(dev)
            if cfg.level_embedding:
                unet = with_level_embedding(unet)
            ema_unet = copy.deepcopy(unet)
            log.info("initialised from %s", cfg.init_from)
        else:
            unet = cfg.unet.build().to(dev)
            if cfg.level_embedding:
                unet = with_level_embedding(unet)
            ema_unet = copy.deepcopy(unet)
        if is_level_aware(unet):
            log.info("level-aware UNet (class embedding of the MNI level)")
        ema = EMAModel(ema_unet.parameters(), decay=cfg.ema_decay)
        ema.optimization_step = step
        opt = torch.optim.AdamW(unet.parameters(), lr=cfg.lr, weight_decay=0.0)
        if (state_dir / "optimizer.pt").is_file():
            opt.load_state_dict(torch.load(state_dir / "optimizer.pt", weights_only=True))
        n_params = sum(p.numel() for p in unet.parameters())
        autocast = cfg.bf16 and (dev.type == "cuda" or cpu_has_bf16())
        log.info("UNet %.2fM parameters; bf16 autocast %s", n_params / 1e6, autocast)
        return cls(
            cfg, out, dev, scheduler, unet, ema_unet, ema, opt, autocast, n_params, step, elapsed
        )

    def train_step(self, x_train: torch.Tensor, l_train: torch.Tensor) -> float:
        """One optimiser step on a random augmented batch; returns its loss."""
        cfg, dev = self.cfg, self.dev
        # a generator per step from (seed, step): resuming reproduces the same batches
        gen = torch.Generator(device=dev).manual_seed(cfg.seed * 1_000_003 + self.step)
        idx = torch.randint(0, len(x_train), (cfg.batch,), generator=gen, device=dev)
        x = augment(x_train[idx], gen, flip=cfg.flip)
        noise = torch.randn(x.shape, generator=gen, device=dev)
        t = _sample_t(cfg.batch, cfg, self.scheduler.config.num_train_timesteps, gen, dev)
        for g in self.opt.param_groups:
            g["lr"] = self.lr_at(self.step)
        loss = _loss(self.unet, self.scheduler, x, t, noise, self.autocast, l_train[idx])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.unet.parameters(), 1.0)
        self.opt.step()
        self.ema.step(self.unet.parameters())
        self.step += 1
        return loss.item()

    def checkpoint(self, running: float, x_val: torch.Tensor | None, val_levels=None) -> None:
        """Log the losses, save the resumable state and write the checkpoint folder."""
        record = {"step": self.step, "loss": running, "elapsed_s": round(self.elapsed, 1)}
        if x_val is not None:
            record["val_loss"] = _val_loss(
                self.ema_unet, self.ema, self.scheduler, x_val, self.dev, self.autocast
            )
        for band, (xb, lb) in (val_levels or {}).items():
            record[f"val_loss_{band}"] = _val_loss(
                self.ema_unet, self.ema, self.scheduler, xb, self.dev, self.autocast, 4, lb
            )
        with (self.out / "train_log.jsonl").open("a") as fh:
            fh.write(json.dumps(record) + "\n")
        self.save_state()
        _write_checkpoint(
            self.out,
            self.ema_unet,
            self.scheduler,
            self.cfg,
            self.step,
            self.elapsed,
            self.n_params,
        )
        log.info("step %d: %s", self.step, record)

    def save_state(self) -> None:
        state_dir = self.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.unet.save_pretrained(state_dir / "unet")
        self.ema.copy_to(self.ema_unet.parameters())
        self.ema_unet.save_pretrained(state_dir / "ema")
        torch.save(self.opt.state_dict(), state_dir / "optimizer.pt")
        state = {"step": self.step, "elapsed": self.elapsed}
        (state_dir / "state.json").write_text(json.dumps(state))


@torch.no_grad()
def _val_loss(ema_unet, ema, scheduler, x_val, dev, autocast, n_t: int = 8, levels=None) -> float:
    """EMA-model noise-prediction loss on validation scans at fixed timesteps and noise."""
    ema.copy_to(ema_unet.parameters())
    ema_unet.eval()
    gen = torch.Generator(device=dev).manual_seed(1234)
    x = x_val.to(dev)
    total = 0.0
    for t_val in torch.linspace(20, 480, n_t).long().tolist():
        noise = torch.randn(x.shape, generator=gen, device=dev)
        t = torch.full((len(x),), t_val, device=dev, dtype=torch.long)
        lv = None if levels is None else levels.to(dev)
        total += _loss(ema_unet, scheduler, x, t, noise, autocast, lv).item()
    return round(total / n_t, 5)


def _same_architecture(unet: UNet2DModel, wanted, out: Path) -> None:
    """ValueError when the run being resumed (`unet`) is not the architecture the flags ask for
    (`wanted`, a `UNetConfig`): a resumed run keeps its own, so the flags would be ignored and
    training.json would record a network that was never trained."""
    have = unet.config
    had = (have.sample_size, tuple(have.block_out_channels), have.layers_per_block)
    asked = (wanted.size, tuple(wanted.block_out_channels), wanted.layers_per_block)
    if had != asked:
        raise ValueError(
            f"--resume: {out} holds a run of a {had[0]} px UNet with channels "
            f"{','.join(map(str, had[1]))} and {had[2]} layer(s) per block, but the flags ask for "
            f"{asked[0]} px, channels {','.join(map(str, asked[1]))}, {asked[2]} layer(s) per "
            "block; a resumed run keeps its architecture: repeat its flags (the command is in "
            f"{out / 'training.json'}) or choose another --out"
        )


def _write_checkpoint(out, ema_unet, scheduler, cfg, step, elapsed, n_params) -> None:
    config_path = out / "detector.json"
    config = (
        DetectorConfig.from_json(config_path.read_text())
        if config_path.is_file()
        else DetectorConfig(preprocess=PreprocessConfig(size=cfg.unet.size), flip_augment=cfg.flip)
    )
    if config.calibration:
        # thresholds fitted on earlier weights (a resumed run) do not fit these: removed, so
        # that the checkpoint reads as uncalibrated until it is calibrated again
        log.warning(
            "removing the thresholds of %s (%s): they were fitted on earlier weights; calibrate "
            "again (--val, or assistant calibrate --model %s --healthy FOLDER)",
            config_path,
            ", ".join(config.calibration),
            out,
        )
        config.calibration = {}
    model = DiffusionModel(unet=ema_unet, scheduler=copy.deepcopy(scheduler), config=config)
    model.scheduler.alphas_cumprod = model.scheduler.alphas_cumprod.cpu()
    model.save(out)
    info = {
        "steps": step,
        "wall_time_s": round(elapsed, 1),
        "parameters": n_params,
        "device": str(_device(cfg.device)),
        "train_config": asdict(cfg),
    }
    (out / "training.json").write_text(json.dumps(info, indent=2, default=str))


def command_line() -> str:
    return " ".join(shlex.quote(a) for a in ["assistant", *sys.argv[1:]])
