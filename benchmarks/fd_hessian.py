"""How close maml_fd's finite-difference meta-gradient is to exact second-order MAML.

Real glyph tasks (the embedded dataset, 28x28; a 300-class subset is rendered into a
temporary store), 5-way 1-shot with 10 queries per class, on the default ReLU / max-pool
Conv4 (``--filters``, 32 as config/config.yaml) at its seed-0 initialisation, 5 inner
steps at inner_lr 0.01 (the default config). For each epsilon, absolute (a distance in
parameter space) and relative (``epsilon * ||theta||``, the norm of the adapted tensors),
it prints the median and the minimum over tasks of the cosine between the finite-difference
and the exact meta-gradient (all tensors flattened together), on how many tasks it is
>= 0.99, and the median relative error
||g_fd - g_exact|| / ||g_exact||; the first-order approximation's for comparison. In float32
(the workflow's precision) it does so with the differences taken in float32 and in float64
(maml_fd's ``float64`` option); ``--float64`` runs everything in float64.

    python benchmarks/fd_hessian.py [--float64] [--tasks 8] [--smooth]
"""

import argparse
import tempfile

import numpy as np
import torch

from innerloop.algorithms.maml import MAML, FiniteDifferenceMAML
from innerloop.data.registry import prepare_dataset
from innerloop.data.sampler import TaskSampler
from innerloop.data.store import load_store
from innerloop.models import Conv4, init_params

ABSOLUTE = (1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
RELATIVE = (1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9)


def flat(grads) -> torch.Tensor:
    return torch.cat([g.reshape(-1).double() for g in grads])


def compare(a, b) -> tuple[float, float]:
    """Cosine of ``a`` with ``b`` and ``||a - b|| / ||b||``."""
    a, b = flat(a), flat(b)
    return (a @ b / (a.norm() * b.norm())).item(), ((a - b).norm() / b.norm()).item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--float64", action="store_true")
    parser.add_argument("--smooth", action="store_true", help="softplus and average pooling instead of ReLU, max-pool")
    parser.add_argument("--tasks", type=int, default=8)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--inner-steps", type=int, default=5)
    parser.add_argument("--inner-lr", type=float, default=0.01)
    args = parser.parse_args()
    dtype = torch.float64 if args.float64 else torch.float32
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = load_store(prepare_dataset("glyphs", {"image_size": 28, "images_per_class": 20, "max_classes": 300},
                                           tmp))
        sampler = TaskSampler(store, "train", 5, 1, 10, seed=0)
        tasks = [sampler.task(i) for i in range(args.tasks)]
    model = Conv4(1, 5, args.filters, 28, smooth=args.smooth).to(dtype)
    init = {k: v.to(dtype) for k, v in init_params(model, torch.Generator().manual_seed(0)).items()}
    tasks = [t.__class__(t.support_x.to(dtype), t.support_y, t.query_x.to(dtype), t.query_y, t.classes)
             for t in tasks]
    steps, lr = args.inner_steps, args.inner_lr

    def meta_gradient(learner, task):
        loss, _ = learner.outer_loss(task)
        return torch.autograd.grad(loss, list(learner.init.values()))

    exact = [meta_gradient(MAML(model, init, inner_steps=steps, inner_lr=lr), t) for t in tasks]
    first = [compare(meta_gradient(MAML(model, init, inner_steps=steps, inner_lr=lr, first_order=True), t), e)
             for t, e in zip(tasks, exact)]
    print(f"{'smooth' if args.smooth else 'ReLU/max-pool'} Conv4 ({args.filters} filters), {dtype}, "
          f"{len(tasks)} glyph tasks 5-way 1-shot, {steps} inner steps at {lr}")
    print("| epsilon | kind | median cosine | min cosine | tasks with cosine >= 0.99 | median relative error |")
    print("|---|---|---|---|---|---|")
    print(f"| - | first order | {np.median([c for c, _ in first]):.4f} | {min(c for c, _ in first):.4f} | "
          f"{sum(c >= 0.99 for c, _ in first)}/{len(first)} | {np.median([r for _, r in first]):.3g} |")
    for fd_float64 in (False, True):
        for relative, epsilons in ((False, ABSOLUTE), (True, RELATIVE)):
            for eps in epsilons:
                fd = FiniteDifferenceMAML(model, init, inner_steps=steps, inner_lr=lr, epsilon=eps,
                                          relative_epsilon=relative, float64=fd_float64)
                scores = [compare(meta_gradient(fd, t), e) for t, e in zip(tasks, exact)]
                cosines = [c for c, _ in scores]
                kind = f"{'relative' if relative else 'absolute'}, differences in {'float64' if fd_float64 else 'the model dtype'}"
                print(f"| {eps:g} | {kind} | {np.median(cosines):.4f} | {min(cosines):.4f} | "
                      f"{sum(c >= 0.99 for c in cosines)}/{len(cosines)} | {np.median([r for _, r in scores]):.3g} |", flush=True)
        if args.float64:
            break


if __name__ == "__main__":
    main()
